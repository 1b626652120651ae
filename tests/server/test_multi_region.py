"""Multi-Region keys through boto3 against the server and through LocalKms: ids, replicas, shared
material, the primary's moves, deletion order and the condition keys, as AWS documents them.

Sources: KMS Developer Guide "Multi-Region keys in AWS KMS" (replicas share key material and key id,
each has its own policy, tags, description and state; ciphertext of one decrypts with any related key);
API Reference ReplicateKey/UpdatePrimaryRegion/ScheduleKeyDeletion ("If you schedule the deletion of a
primary key with replicas, its key state changes to PendingReplicaDeletion"); LocalStack's recordings
of real AWS (tests/aws/services/kms/test_kms.snapshot.json: test_replicate_key,
test_replicate_replica_key_should_fail, test_create_multi_region_key).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.server.conftest import ACCOUNT, REGION
from tests.server.dual import regional

WEST = "us-west-2"
MRK = re.compile(r"^mrk-[0-9a-f]{32}$")


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_multi_region_key_and_replica_describe_as_aws(client: Any) -> None:
    """mrk- ids; DescribeKey's MultiRegionConfiguration from both sides; the replica has its own description and tags."""
    meta = client.create_key(MultiRegion=True, Description="primary")["KeyMetadata"]
    key_id = meta["KeyId"]
    assert MRK.match(key_id) and meta["MultiRegion"] is True
    assert meta["MultiRegionConfiguration"] == {
        "MultiRegionKeyType": "PRIMARY",
        "PrimaryKey": {"Arn": meta["Arn"], "Region": REGION},
        "ReplicaKeys": [],
    }
    replicated = client.replicate_key(
        KeyId=key_id, ReplicaRegion=WEST, Description="replica", Tags=[{"TagKey": "site", "TagValue": "west"}]
    )
    replica_arn = f"arn:aws:kms:{WEST}:{ACCOUNT}:key/{key_id}"
    assert replicated["ReplicaKeyMetadata"]["Arn"] == replica_arn
    assert replicated["ReplicaKeyMetadata"]["KeyState"] == "Creating"  # as AWS answers ReplicateKey
    assert json.loads(replicated["ReplicaPolicy"])["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert replicated["ReplicaTags"] == [{"TagKey": "site", "TagValue": "west"}]
    west = regional(client, WEST)
    described = west.describe_key(KeyId=key_id)["KeyMetadata"]
    assert described["KeyState"] == "Enabled" and described["Description"] == "replica"
    expected = {"Arn": replica_arn, "Region": WEST}
    assert described["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    assert described["MultiRegionConfiguration"]["ReplicaKeys"] == [expected]
    assert client.describe_key(KeyId=key_id)["KeyMetadata"]["MultiRegionConfiguration"]["ReplicaKeys"] == [expected]
    assert client.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "primary"
    assert west.list_resource_tags(KeyId=key_id)["Tags"] == [{"TagKey": "site", "TagValue": "west"}]
    assert client.list_resource_tags(KeyId=key_id)["Tags"] == []
    assert described["CurrentKeyMaterialId"] == client.describe_key(KeyId=key_id)["KeyMetadata"]["CurrentKeyMaterialId"]
    assert {"KeyId": key_id, "KeyArn": replica_arn} in west.list_keys()["Keys"]


def test_related_keys_share_material_across_rotations(client: Any) -> None:
    """A ciphertext of either decrypts with the other, also after the primary rotates (replicas get the material)."""
    key_id = client.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    client.replicate_key(KeyId=key_id, ReplicaRegion=WEST)
    west = regional(client, WEST)
    east_blob = client.encrypt(KeyId=key_id, Plaintext=b"from the east")["CiphertextBlob"]
    assert west.decrypt(CiphertextBlob=east_blob)["Plaintext"] == b"from the east"
    client.rotate_key_on_demand(KeyId=key_id)
    rotated = client.encrypt(KeyId=key_id, Plaintext=b"after rotation")["CiphertextBlob"]
    assert west.decrypt(CiphertextBlob=rotated, KeyId=key_id)["Plaintext"] == b"after rotation"
    west_blob = west.encrypt(KeyId=key_id, Plaintext=b"from the west")["CiphertextBlob"]
    assert client.decrypt(CiphertextBlob=west_blob)["Plaintext"] == b"from the west"
    with pytest.raises(ClientError) as error:
        west.rotate_key_on_demand(KeyId=key_id)
    assert _code(error) == "UnsupportedOperationException"


def test_replicas_refuse_what_aws_refuses(client: Any) -> None:
    """Replicating a replica, a single-Region key or into a region that has one; the recorded message."""
    key_id = client.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    client.replicate_key(KeyId=key_id, ReplicaRegion=WEST)
    west = regional(client, WEST)
    with pytest.raises(ClientError) as error:
        west.replicate_key(KeyId=key_id, ReplicaRegion="eu-west-1")
    assert _code(error) == "UnsupportedOperationException"
    assert (
        error.value.response["Error"]["Message"]
        == f"arn:aws:kms:{WEST}:{ACCOUNT}:key/{key_id} is not a multi-region primary key."
    )
    with pytest.raises(ClientError) as error:
        client.replicate_key(KeyId=key_id, ReplicaRegion=WEST)
    assert _code(error) == "AlreadyExistsException"
    single = client.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as error:
        client.replicate_key(KeyId=single, ReplicaRegion=WEST)
    assert _code(error) == "UnsupportedOperationException"
    with pytest.raises(ClientError) as error:
        west.describe_key(KeyId=single)
    assert _code(error) == "NotFoundException"


def test_update_primary_region_moves_the_primary(client: Any) -> None:
    """After UpdatePrimaryRegion the replica is the primary and only it can replicate."""
    key_id = client.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    client.replicate_key(KeyId=key_id, ReplicaRegion=WEST)
    west = regional(client, WEST)
    with pytest.raises(ClientError) as error:
        client.update_primary_region(KeyId=key_id, PrimaryRegion="eu-west-1")
    assert _code(error) == "NotFoundException"
    client.update_primary_region(KeyId=key_id, PrimaryRegion=WEST)
    assert west.describe_key(KeyId=key_id)["KeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
    east = client.describe_key(KeyId=key_id)["KeyMetadata"]["MultiRegionConfiguration"]
    assert east["MultiRegionKeyType"] == "REPLICA" and east["PrimaryKey"]["Region"] == WEST
    with pytest.raises(ClientError) as error:
        client.replicate_key(KeyId=key_id, ReplicaRegion="eu-west-1")
    assert _code(error) == "UnsupportedOperationException"
    west.replicate_key(KeyId=key_id, ReplicaRegion="eu-west-1")
    regions = {r["Region"] for r in client.describe_key(KeyId=key_id)["KeyMetadata"]["MultiRegionConfiguration"]["ReplicaKeys"]}
    assert regions == {REGION, "eu-west-1"}


def test_scheduling_a_primary_with_replicas_waits_for_them(client: Any) -> None:
    """ScheduleKeyDeletion on a primary with replicas: PendingReplicaDeletion, no DeletionDate, the window shown."""
    key_id = client.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    client.replicate_key(KeyId=key_id, ReplicaRegion=WEST)
    scheduled = client.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert scheduled["KeyState"] == "PendingReplicaDeletion" and "DeletionDate" not in scheduled
    meta = client.describe_key(KeyId=key_id)["KeyMetadata"]
    assert meta["KeyState"] == "PendingReplicaDeletion" and meta["PendingDeletionWindowInDays"] == 7
    assert "DeletionDate" not in meta
    with pytest.raises(ClientError) as error:
        client.encrypt(KeyId=key_id, Plaintext=b"x")
    assert _code(error) == "KMSInvalidStateException"
    client.cancel_key_deletion(KeyId=key_id)
    assert client.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"
