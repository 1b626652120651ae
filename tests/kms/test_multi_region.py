"""Multi-Region keys in LocalKms on both stores, with a clock the test moves: deletion order and condition keys.

Sources: KMS API Reference ScheduleKeyDeletion ("When the last of its replicas keys is deleted (not just
scheduled), the key state of the primary key changes to PendingDeletion and its waiting period
(PendingWindowInDays) begins"); KMS DG "Controlling access to multi-Region keys" (kms:MultiRegion,
kms:MultiRegionKeyType, kms:ReplicaRegion, kms:PrimaryRegion condition keys).
"""

from __future__ import annotations

import pytest

from policyengine.kms import Caller, LocalKms, ManualClock
from policyengine.kms.errors import AccessDeniedException, NotFoundException
from tests.kms.conftest import ACCOUNT, allow, identity_policy

WEST = "us-west-2"


def test_the_primary_is_deleted_after_its_last_replica(kms: LocalKms, clock: ManualClock, root: Caller) -> None:
    """The primary's window starts when the last replica is deleted, not when it is scheduled."""
    key_id = kms.create_key(root, MultiRegion=True)["KeyMetadata"]["KeyId"]
    kms.replicate_key(root, KeyId=key_id, ReplicaRegion=WEST)
    west = kms.for_region(WEST)
    kms.schedule_key_deletion(root, KeyId=key_id, PendingWindowInDays=7)
    west.schedule_key_deletion(root, KeyId=key_id, PendingWindowInDays=30)
    clock.advance(days=20)
    assert kms.describe_key(root, KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingReplicaDeletion"
    clock.advance(days=11)  # the replica's 30 days are over: it is deleted, the primary's 7 days begin
    with pytest.raises(NotFoundException):
        west.describe_key(root, KeyId=key_id)
    meta = kms.describe_key(root, KeyId=key_id)["KeyMetadata"]
    assert meta["KeyState"] == "PendingDeletion" and meta["MultiRegionConfiguration"]["ReplicaKeys"] == []
    assert meta["DeletionDate"].timestamp() == pytest.approx(clock.now() + 7 * 86400, abs=1)
    clock.advance(days=7, seconds=1)
    with pytest.raises(NotFoundException):
        kms.describe_key(root, KeyId=key_id)


def test_multi_region_condition_keys(kms: LocalKms, root: Caller) -> None:
    """A policy can allow ReplicateKey into one region only and use only primary keys."""
    key_id = kms.create_key(root, MultiRegion=True)["KeyMetadata"]["KeyId"]
    single = kms.create_key(root)["KeyMetadata"]["KeyId"]
    operator = Caller(
        f"arn:aws:iam::{ACCOUNT}:user/operator",
        ACCOUNT,
        identity_policies=(
            identity_policy(
                allow("kms:ReplicateKey", Condition={"StringEquals": {"kms:ReplicaRegion": WEST}}),
                allow("kms:CreateKey"),
                allow("kms:Encrypt", Condition={"StringEquals": {"kms:MultiRegionKeyType": "PRIMARY"}}),
                allow("kms:DescribeKey", Condition={"Bool": {"kms:MultiRegion": "false"}}),
            ),
        ),
    )
    with pytest.raises(AccessDeniedException):
        kms.replicate_key(operator, KeyId=key_id, ReplicaRegion="eu-west-1")
    kms.replicate_key(operator, KeyId=key_id, ReplicaRegion=WEST)
    kms.encrypt(operator, KeyId=key_id, Plaintext=b"x")
    with pytest.raises(AccessDeniedException):
        kms.for_region(WEST).encrypt(operator, KeyId=key_id, Plaintext=b"x")
    kms.describe_key(operator, KeyId=single)
    with pytest.raises(AccessDeniedException):
        kms.describe_key(operator, KeyId=key_id)
