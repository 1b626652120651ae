"""VPC endpoint policies in snapshots: a request through an endpoint (``aws:SourceVpce``) must also
be allowed by the endpoint's policy (VPC UG, "Control access to VPC endpoints using endpoint
policies"; KMS DG, "Connect to AWS KMS through a VPC endpoint")."""

from __future__ import annotations

from typing import Any

import pytest

from policyengine.access import Access, SnapshotError, World, snapshot_from_data

A = "111122223333"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY = f"arn:aws:kms:us-east-1:{A}:key/{KEY_ID}"
ROOT_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "kms:*", "Resource": "*"}
    ],
}
ASSUME = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
DECRYPT = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}
ONLY_APP = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "OnlyApp",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{A}:role/app"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}


def _world(endpoints: list[dict[str, Any]]) -> World:
    role = {"trust_policy": ASSUME, "inline_policies": [{"name": "decrypt", "document": DECRYPT}]}
    data = {
        "format": "policyengine-snapshot/1",
        "accounts": [
            {
                "id": A,
                "roles": [{"name": "app", **role}, {"name": "batch", **role}],
                "keys": [{"id": KEY_ID, "region": "us-east-1", "policy": ROOT_TRUST}],
                "vpc_endpoints": endpoints,
            }
        ],
    }
    return World.build(snapshot_from_data(data, "snap.yaml"), "snap.yaml")


@pytest.mark.parametrize("explain", [False, True])
def test_endpoint_policy_limits_requests_through_it(explain: bool) -> None:
    world = _world([{"id": "vpce-0abc", "policy": ONLY_APP}])
    through = Access.of(world, {"aws:SourceVpce": "vpce-0abc"})
    assert through.can("role/app", "kms:Decrypt", KEY, explain=explain).status == "allow"
    refused = through.can("role/batch", "kms:Decrypt", KEY, explain=explain)
    assert refused.status == "deny"
    assert refused.direct.result.reason == "no_endpoint_allow"
    # not through the endpoint, or through one with the default policy: the endpoint does not limit
    assert Access.of(world, {}).can("role/batch", "kms:Decrypt", KEY, explain=explain).status == "allow"
    assert Access.of(world, {"aws:SourceVpce": "vpce-0def"}).can("role/batch", "kms:Decrypt", KEY).status == "allow"


def test_default_endpoint_policy_allows_everything() -> None:
    world = _world([{"id": "vpce-0abc"}])
    assert world.endpoints == {}
    assert Access.of(world, {"aws:SourceVpce": "vpce-0abc"}).can("role/batch", "kms:Decrypt", KEY).status == "allow"


def test_a_bad_endpoint_policy_is_named_by_its_field() -> None:
    with pytest.raises(SnapshotError, match=r"vpc_endpoints\[vpce-0abc\]\.policy"):
        _world([{"id": "vpce-0abc", "policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Maybe"}]}}])
