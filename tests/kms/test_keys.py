"""Key lifecycle: create, describe, list, enable/disable, deletion windows, policies, tags (KMS API Reference)."""

from __future__ import annotations

import json

import pytest

import policyengine as pe
from policyengine.kms import Caller, LocalKms, ManualClock
from policyengine.kms.errors import (
    AccessDeniedException,
    DisabledException,
    KMSInvalidStateException,
    MalformedPolicyDocumentException,
    NotFoundException,
    TagException,
    UnsupportedOperationException,
    ValidationException,
)
from tests.kms.conftest import ACCOUNT


def test_create_key_defaults_to_symmetric_with_the_default_key_policy(kms: LocalKms, root: Caller) -> None:
    """Without parameters CreateKey makes an enabled SYMMETRIC_DEFAULT key with the default key policy (KMS DG)."""
    meta = kms.create_key(root)["KeyMetadata"]
    assert (meta["KeySpec"], meta["KeyUsage"], meta["KeyState"], meta["Origin"], meta["KeyManager"]) == (
        "SYMMETRIC_DEFAULT",
        "ENCRYPT_DECRYPT",
        "Enabled",
        "AWS_KMS",
        "CUSTOMER",
    )
    assert meta["Arn"] == f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{meta['KeyId']}"
    assert meta["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    policy = json.loads(kms.get_key_policy(root, KeyId=meta["KeyId"])["Policy"])
    assert policy["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}


@pytest.mark.parametrize(
    ("spec", "usage"),
    [
        ("RSA_2048", "ENCRYPT_DECRYPT"),
        ("RSA_3072", "SIGN_VERIFY"),
        ("ECC_NIST_P256", "SIGN_VERIFY"),
        ("ECC_SECG_P256K1", "SIGN_VERIFY"),
        ("HMAC_256", "GENERATE_VERIFY_MAC"),
        ("HMAC_512", "GENERATE_VERIFY_MAC"),
    ],
)
def test_create_key_of_every_family(kms: LocalKms, root: Caller, spec: str, usage: str) -> None:
    """Asymmetric and HMAC keys are created with the usage their spec allows."""
    meta = kms.create_key(root, KeySpec=spec, KeyUsage=usage)["KeyMetadata"]
    assert (meta["KeySpec"], meta["KeyUsage"]) == (spec, usage)


def test_create_key_rejects_incompatible_usage(kms: LocalKms, root: Caller) -> None:
    """A usage the spec does not allow is a ValidationException."""
    with pytest.raises(ValidationException):
        kms.create_key(root, KeySpec="ECC_NIST_P256", KeyUsage="ENCRYPT_DECRYPT")


def test_create_key_needs_iam_permission(kms: LocalKms, bob: Caller) -> None:
    """CreateKey is authorized by IAM policies alone; a user without one is denied (KMS DG permissions reference)."""
    with pytest.raises(AccessDeniedException) as info:
        kms.create_key(bob)
    assert "kms:CreateKey" in info.value.message
    assert info.value.decision.decision == "implicit_deny"


def test_create_key_lockout_safety_check(kms: LocalKms, alice: Caller) -> None:
    """A policy that would lock the creator out is refused unless the check is bypassed (API CreateKey, Policy)."""
    locked = json.dumps(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::111122223333:user/other"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ]
        }
    )
    with pytest.raises(MalformedPolicyDocumentException):
        kms.create_key(alice, Policy=locked)
    meta = kms.create_key(alice, Policy=locked, BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]
    assert meta["KeyState"] == "Enabled"


def test_malformed_policy_carries_the_parser_message(kms: LocalKms, root: Caller, key_id: str) -> None:
    """PutKeyPolicy with a broken policy raises MalformedPolicyDocumentException with validate's words:
    the position, the problem and its hint."""
    with pytest.raises(MalformedPolicyDocumentException) as refused:
        kms.put_key_policy(
            root,
            KeyId=key_id,
            Policy='{"Statement": [{"Effect": "allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}]}',
        )
    assert refused.value.message == (
        "line 1, column 27: `Effect` must be `Allow` or `Deny`, not `allow` "
        "(hint: did you mean `Allow`? names are case-sensitive)"
    )
    with pytest.raises(MalformedPolicyDocumentException, match="has no Principal"):
        kms.put_key_policy(root, KeyId=key_id, Policy='{"Statement": [{"Effect": "Allow", "Action": "kms:*"}]}')


def test_put_key_policy_replaces_who_may_use_the_key(kms: LocalKms, root: Caller, bob: Caller, key_id: str) -> None:
    """After a new policy names bob, bob can encrypt without any IAM policy (direct naming, same account)."""
    with pytest.raises(AccessDeniedException):
        kms.encrypt(bob, KeyId=key_id, Plaintext=b"x")
    policy = {
        "Statement": [
            {
                "Sid": "Root",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {"Sid": "Bob", "Effect": "Allow", "Principal": {"AWS": bob.principal}, "Action": "kms:Encrypt", "Resource": "*"},
        ]
    }
    kms.put_key_policy(root, KeyId=key_id, Policy=json.dumps(policy))
    assert kms.encrypt(bob, KeyId=key_id, Plaintext=b"x")["KeyId"].endswith(key_id)
    assert kms.list_key_policies(root, KeyId=key_id)["PolicyNames"] == ["default"]


def test_describe_and_list_keys(kms: LocalKms, root: Caller, key_id: str) -> None:
    """DescribeKey finds the key by id, ARN and alias; ListKeys lists it with paging."""
    arn = kms.describe_key(root, KeyId=key_id)["KeyMetadata"]["Arn"]
    assert kms.describe_key(root, KeyId=arn)["KeyMetadata"]["KeyId"] == key_id
    kms.create_alias(root, AliasName="alias/app", TargetKeyId=key_id)
    assert kms.describe_key(root, KeyId="alias/app")["KeyMetadata"]["KeyId"] == key_id
    for _ in range(2):
        kms.create_key(root)
    first = kms.list_keys(root, Limit=2)
    assert first["Truncated"] is True and len(first["Keys"]) == 2
    rest = kms.list_keys(root, Limit=2, Marker=first["NextMarker"])
    assert rest["Truncated"] is False and len(rest["Keys"]) == 1


def test_unknown_key_is_not_found(kms: LocalKms, root: Caller) -> None:
    """A key id that does not exist gives NotFoundException; a malformed one too."""
    with pytest.raises(NotFoundException):
        kms.describe_key(root, KeyId="00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFoundException):
        kms.describe_key(root, KeyId="not-a-key")


def test_disabled_key_refuses_crypto_until_enabled(kms: LocalKms, root: Caller, key_id: str) -> None:
    """A disabled key refuses cryptographic operations with DisabledException (seed: disable instead of delete)."""
    blob = kms.encrypt(root, KeyId=key_id, Plaintext=b"secret")["CiphertextBlob"]
    kms.disable_key(root, KeyId=key_id)
    assert kms.describe_key(root, KeyId=key_id)["KeyMetadata"]["Enabled"] is False
    with pytest.raises(DisabledException):
        kms.decrypt(root, CiphertextBlob=blob)
    kms.enable_key(root, KeyId=key_id)
    assert kms.decrypt(root, CiphertextBlob=blob)["Plaintext"] == b"secret"


@pytest.mark.parametrize("days", [6, 31, 0, -1])
def test_deletion_window_must_be_7_to_30_days(kms: LocalKms, root: Caller, key_id: str, days: int) -> None:
    """PendingWindowInDays outside 7..30 is a ValidationException (seed: 7 to 30 days)."""
    with pytest.raises(ValidationException, match="pendingWindowInDays"):
        kms.schedule_key_deletion(root, KeyId=key_id, PendingWindowInDays=days)


def test_pending_deletion_refuses_crypto_and_cancel_leaves_it_disabled(kms: LocalKms, root: Caller, key_id: str) -> None:
    """During the window crypto fails; cancelling brings the key back Disabled (seed; KMS DG deleting keys)."""
    blob = kms.encrypt(root, KeyId=key_id, Plaintext=b"data")["CiphertextBlob"]
    scheduled = kms.schedule_key_deletion(root, KeyId=key_id, PendingWindowInDays=7)
    assert scheduled["KeyState"] == "PendingDeletion" and scheduled["PendingWindowInDays"] == 7
    with pytest.raises(KMSInvalidStateException):
        kms.decrypt(root, CiphertextBlob=blob)
    with pytest.raises(KMSInvalidStateException):
        kms.encrypt(root, KeyId=key_id, Plaintext=b"x")
    kms.cancel_key_deletion(root, KeyId=key_id)
    assert kms.describe_key(root, KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"


def test_default_window_is_30_days_and_the_key_is_deleted_when_it_ends(
    kms: LocalKms, clock: ManualClock, root: Caller, key_id: str
) -> None:
    """With no window given the key waits 30 days, then it and its material are gone."""
    kms.schedule_key_deletion(root, KeyId=key_id)
    clock.advance(days=29)
    assert kms.describe_key(root, KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    clock.advance(days=1, seconds=1)
    with pytest.raises(NotFoundException):
        kms.describe_key(root, KeyId=key_id)
    with kms.store.transaction() as tx:
        assert tx.materials(key_id) == []


def test_pending_deletion_key_is_not_rotated(kms: LocalKms, clock: ManualClock, root: Caller, key_id: str) -> None:
    """A key pending deletion is not rotated even when its rotation falls due (seed)."""
    kms.enable_key_rotation(root, KeyId=key_id, RotationPeriodInDays=90)
    clock.advance(days=80)
    kms.schedule_key_deletion(root, KeyId=key_id, PendingWindowInDays=30)
    clock.advance(days=15)  # the rotation fell due at day 90, inside the window
    kms.cancel_key_deletion(root, KeyId=key_id)
    assert kms.list_key_rotations(root, KeyId=key_id)["Rotations"] == []


def test_tags_round_trip_and_limits(kms: LocalKms, root: Caller, key_id: str) -> None:
    """TagResource, ListResourceTags and UntagResource; aws: keys are reserved; at most 50 tags."""
    kms.tag_resource(root, KeyId=key_id, Tags=[{"TagKey": "team", "TagValue": "blue"}, {"TagKey": "env", "TagValue": ""}])
    assert kms.list_resource_tags(root, KeyId=key_id)["Tags"] == [
        {"TagKey": "env", "TagValue": ""},
        {"TagKey": "team", "TagValue": "blue"},
    ]
    kms.untag_resource(root, KeyId=key_id, TagKeys=["env"])
    assert kms.list_resource_tags(root, KeyId=key_id)["Tags"] == [{"TagKey": "team", "TagValue": "blue"}]
    with pytest.raises(TagException):
        kms.tag_resource(root, KeyId=key_id, Tags=[{"TagKey": "aws:x", "TagValue": "y"}])
    with pytest.raises(TagException, match=r"^Too many tags$"):
        kms.tag_resource(root, KeyId=key_id, Tags=[{"TagKey": f"k{i}", "TagValue": "v"} for i in range(50)])


def test_resource_tags_reach_conditions(kms: LocalKms, root: Caller, bob: Caller, key_id: str) -> None:
    """aws:ResourceTag/* is set from the key's tags, so a policy can grant by tag (ABAC)."""
    tagged = Caller(
        bob.principal,
        bob.account,
        identity_policies=(
            pe.parse_policy(
                json.dumps(
                    {
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "kms:Encrypt",
                                "Resource": "*",
                                "Condition": {"StringEquals": {"aws:ResourceTag/team": "blue"}},
                            }
                        ]
                    }
                )
            ),
        ),
    )
    with pytest.raises(AccessDeniedException):
        kms.encrypt(tagged, KeyId=key_id, Plaintext=b"x")
    kms.tag_resource(root, KeyId=key_id, Tags=[{"TagKey": "team", "TagValue": "blue"}])
    assert kms.encrypt(tagged, KeyId=key_id, Plaintext=b"x")


def test_aws_managed_key_is_made_on_first_use_and_refuses_changes(kms: LocalKms, root: Caller) -> None:
    """alias/aws/<service> creates an AWS managed key with the managed policy; it cannot be deleted or re-policied."""
    s3 = Caller(
        f"arn:aws:iam::{ACCOUNT}:user/app",
        ACCOUNT,
        via_service="s3.us-east-1.amazonaws.com",
        identity_policies=(
            pe.parse_policy(json.dumps({"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]})),
        ),
    )
    blob = kms.encrypt(s3, KeyId="alias/aws/s3", Plaintext=b"object key")["CiphertextBlob"]
    meta = kms.describe_key(root, KeyId="alias/aws/s3")["KeyMetadata"]
    assert meta["KeyManager"] == "AWS"
    assert kms.get_key_rotation_status(root, KeyId=meta["KeyId"])["KeyRotationEnabled"] is True
    direct = Caller(s3.principal, ACCOUNT, identity_policies=s3.identity_policies)
    with pytest.raises(AccessDeniedException):
        kms.decrypt(direct, CiphertextBlob=blob)  # not through S3: kms:ViaService does not match
    assert kms.decrypt(s3, CiphertextBlob=blob)["Plaintext"] == b"object key"
    with pytest.raises((AccessDeniedException, UnsupportedOperationException)):
        kms.schedule_key_deletion(root, KeyId=meta["KeyId"])
    with pytest.raises((AccessDeniedException, UnsupportedOperationException)):
        kms.put_key_policy(root, KeyId=meta["KeyId"], Policy=kms.get_key_policy(root, KeyId=meta["KeyId"])["Policy"])
    with pytest.raises((AccessDeniedException, UnsupportedOperationException)):
        kms.rotate_key_on_demand(root, KeyId=meta["KeyId"])


def test_update_key_description(kms: LocalKms, root: Caller, key_id: str) -> None:
    """UpdateKeyDescription changes what DescribeKey reports."""
    kms.update_key_description(root, KeyId=key_id, Description="payments")
    assert kms.describe_key(root, KeyId=key_id)["KeyMetadata"]["Description"] == "payments"
