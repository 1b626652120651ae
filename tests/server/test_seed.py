"""Seeding from an account snapshot: ``local_kms.load(snapshot)`` and ``serve --test-mode --seed snap.yaml``.

The snapshot's keys keep their own key ids and ARNs (so a role policy naming the production key
ARN works), with their policies, aliases, tags and grants; its users and roles sign with their
IAM policies, boundaries and their account's SCPs, and the keys' account RCPs guard the keys.
The same snapshot answers ``policyengine can``, and the two must agree: the differential test
below asks ``can`` and the server every (principal, action, key) of the snapshot.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.config import Config
from botocore.exceptions import ClientError

from policyengine.access.queries import Access
from policyengine.access.world import World
from policyengine.pytest_plugin import LocalKmsFixture
from policyengine.server.seed import SEED_SECRET, access_key_for, load_seed
from tests.server.test_serve_command import ServeProcess

ORG = "o-a1b2c3d4e5"
ROOT = "r-ab12"
OU = "ou-ab12-11111111"
PROD = "111122223333"  # in the organization
OUTSIDER = "444455556666"  # in another organization
ORDERS_KEY = "1234abcd-12ab-34cd-56ef-1234567890ab"
AUDIT_KEY = "0987dcba-09fe-87dc-65ba-ab0987654321"
MRK = "mrk-1234abcd12ab34cd56ef1234567890ab"
ORDERS_ARN = f"arn:aws:kms:us-east-1:{PROD}:key/{ORDERS_KEY}"
AUDIT_ARN = f"arn:aws:kms:us-east-1:{PROD}:key/{AUDIT_KEY}"
APP_ROLE = f"arn:aws:iam::{PROD}:role/orders-app"
WORKER_ROLE = f"arn:aws:iam::{PROD}:role/worker"
ALICE = f"arn:aws:iam::{PROD}:user/alice"
BOB = f"arn:aws:iam::{PROD}:user/bob"
CAROL = f"arn:aws:iam::{OUTSIDER}:user/carol"
WORKER_SESSION = f"arn:aws:sts::{PROD}:assumed-role/worker/session"

ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def _statement(effect: str, actions: list[str], resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": effect, "Action": actions, "Resource": resource, **extra}


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _key_policy(*statements: dict[str, Any]) -> dict[str, Any]:
    root = {
        "Sid": "IAM",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{PROD}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    return _policy(root, *statements)


def snapshot_data(tmp_path: Path) -> dict[str, Any]:
    """An organization with a production account (users, roles, SCP, RCP, three keys) and an outside account."""
    (tmp_path / "audit-key-policy.json").write_text(
        json.dumps(
            {
                "Policy": json.dumps(
                    _key_policy(
                        {
                            "Sid": "OrgReads",
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": "kms:DescribeKey",
                            "Resource": "*",
                            "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}},
                        }
                    )
                )
            }
        )
    )
    crypto = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    return {
        "format": "policyengine-snapshot/1",
        "organization": {"id": ORG},
        "accounts": [
            {
                "id": PROD,
                "ou_path": [ROOT, OU],
                "scps": [
                    {"target": ROOT, "policies": [{"name": "FullAWSAccess", "document": ALLOW_ALL}]},
                    {
                        "target": OU,
                        "policies": [
                            {"name": "FullAWSAccess", "document": ALLOW_ALL},
                            {"name": "NoDeletion", "document": _policy(_statement("Deny", ["kms:ScheduleKeyDeletion"]))},
                        ],
                    },
                ],
                "rcps": [
                    {
                        "target": ROOT,
                        "policies": [
                            {"name": "RCPFullAWSAccess", "document": _policy({**_statement("Allow", ["*"]), "Principal": "*"})},
                            {
                                "name": "OrgOnly",
                                "document": _policy(
                                    {
                                        **_statement("Deny", ["kms:*"]),
                                        "Principal": "*",
                                        "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG}},
                                    }
                                ),
                            },
                        ],
                    }
                ],
                "managed_policies": [
                    {
                        "arn": f"arn:aws:iam::{PROD}:policy/orders-crypto",
                        "name": "orders-crypto",
                        "document": _policy(_statement("Allow", crypto, ORDERS_ARN)),
                    },
                    {
                        "arn": f"arn:aws:iam::{PROD}:policy/describe-only",
                        "name": "describe-only",
                        "document": _policy(_statement("Allow", ["kms:DescribeKey", "kms:Encrypt"])),
                    },
                ],
                "users": [
                    {
                        "name": "alice",
                        "id": "AIDAALICE00000000001",
                        "inline_policies": [{"name": "everything", "document": _policy(_statement("Allow", ["kms:*"]))}],
                        "permissions_boundary": f"arn:aws:iam::{PROD}:policy/describe-only",
                        "tags": {"team": "orders"},
                    },
                    {"name": "bob"},
                ],
                "roles": [
                    {
                        "name": "orders-app",
                        "trust_policy": _policy(
                            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
                        ),
                        "managed_policies": [f"arn:aws:iam::{PROD}:policy/orders-crypto"],
                    },
                    {
                        "name": "worker",
                        "trust_policy": _policy(
                            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
                        ),
                    },
                ],
                "keys": [
                    {
                        "id": ORDERS_KEY,
                        "region": "us-east-1",
                        "policy": _key_policy(
                            {
                                "Sid": "Outsider",
                                "Effect": "Allow",
                                "Principal": {"AWS": f"arn:aws:iam::{OUTSIDER}:root"},
                                "Action": crypto,
                                "Resource": "*",
                            }
                        ),
                        "aliases": ["alias/orders"],
                        "tags": {"app": "orders"},
                        "description": "orders",
                        "grants": [
                            {
                                "grant_id": "0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60",
                                "grantee_principal": WORKER_ROLE,
                                "operations": ["Decrypt"],
                                "constraints": {"encryption_context_equals": {"app": "orders"}},
                            }
                        ],
                    },
                    {"id": AUDIT_KEY, "region": "us-east-1", "policy": "audit-key-policy.json", "aliases": ["alias/audit"]},
                    {"id": MRK, "region": "us-east-1", "policy": _key_policy(), "multi_region": True},
                    {"id": MRK, "region": "eu-west-1", "policy": _key_policy(), "multi_region": True},
                    {
                        "id": "5f1c2d3e-0000-4000-8000-00000000cafe",
                        "region": "us-east-1",
                        "policy": _key_policy(),
                        "origin": "AWS_CLOUDHSM",
                    },
                ],
            },
            {
                "id": OUTSIDER,
                "org_id": "o-zzzzzzzzzz",  # another organization's account
                "users": [
                    {
                        "name": "carol",
                        "inline_policies": [{"name": "orders", "document": _policy(_statement("Allow", crypto, ORDERS_ARN))}],
                    }
                ],
            },
        ],
    }


@pytest.fixture
def snapshot_file(tmp_path: Path) -> Path:
    path = tmp_path / "snap.yaml"
    path.write_text(yaml.safe_dump(snapshot_data(tmp_path)), encoding="utf-8")
    return path


@pytest.fixture
def seeded(local_kms: LocalKmsFixture, snapshot_file: Path) -> Iterator[LocalKmsFixture]:
    local_kms.load(snapshot_file)
    yield local_kms


def _code(call: Any) -> str:
    try:
        call()
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return "ok"


def test_keys_keep_their_ids_arns_aliases_tags_and_grants(seeded: LocalKmsFixture) -> None:
    app = seeded.client(principal=APP_ROLE)
    meta = app.describe_key(KeyId="alias/orders")["KeyMetadata"]
    assert (meta["KeyId"], meta["Arn"], meta["Description"], meta["KeyState"]) == (ORDERS_KEY, ORDERS_ARN, "orders", "Enabled")
    admin = seeded.client(principal=ALICE)  # alice's boundary allows DescribeKey only
    assert admin.describe_key(KeyId=AUDIT_ARN)["KeyMetadata"]["Arn"] == AUDIT_ARN
    root = seeded.client(principal=BOB)
    assert _code(lambda: root.list_resource_tags(KeyId=ORDERS_ARN)) == "AccessDeniedException"


def test_a_role_policy_naming_the_production_key_arn_works(seeded: LocalKmsFixture) -> None:
    """orders-app's managed policy names the production ARN: it encrypts and decrypts, and nothing else."""
    app = seeded.client(principal=APP_ROLE)
    blob = app.encrypt(KeyId="alias/orders", Plaintext=b"order 1", EncryptionContext={"app": "orders"})["CiphertextBlob"]
    assert app.decrypt(CiphertextBlob=blob, EncryptionContext={"app": "orders"})["Plaintext"] == b"order 1"
    assert _code(lambda: app.encrypt(KeyId=AUDIT_ARN, Plaintext=b"x")) == "AccessDeniedException"


def test_grants_of_the_snapshot_hold_with_their_constraint(seeded: LocalKmsFixture) -> None:
    """worker has no IAM policy: the snapshot's grant lets it decrypt orders data, and only that."""
    app = seeded.client(principal=APP_ROLE)
    worker = seeded.client(principal=WORKER_SESSION)
    orders = app.encrypt(KeyId=ORDERS_ARN, Plaintext=b"o", EncryptionContext={"app": "orders"})["CiphertextBlob"]
    other = app.encrypt(KeyId=ORDERS_ARN, Plaintext=b"b", EncryptionContext={"app": "billing"})["CiphertextBlob"]
    assert worker.decrypt(CiphertextBlob=orders, EncryptionContext={"app": "orders"})["Plaintext"] == b"o"
    assert _code(lambda: worker.decrypt(CiphertextBlob=other, EncryptionContext={"app": "billing"})) == "AccessDeniedException"
    grants = app.list_grants  # orders-app may not list grants; the key's account root may
    assert _code(lambda: grants(KeyId=ORDERS_ARN)) == "AccessDeniedException"


def test_boundary_scp_and_rcp_apply(seeded: LocalKmsFixture) -> None:
    alice = seeded.client(principal=ALICE)
    assert _code(lambda: alice.decrypt(CiphertextBlob=b"\x01" * 64)) in ("AccessDeniedException", "InvalidCiphertextException")
    assert _code(lambda: alice.schedule_key_deletion(KeyId=ORDERS_ARN)) == "AccessDeniedException"
    denial = seeded.last_denial()
    assert denial is not None and "SCP NoDeletion" in denial.explanation
    # carol's own policy and the key policy both allow her; the RCP (her organization is another) refuses.
    carol = seeded.client(principal=CAROL)
    assert _code(lambda: carol.encrypt(KeyId=ORDERS_ARN, Plaintext=b"x")) == "AccessDeniedException"
    last = seeded.last_denial()
    assert last is not None and last.decision.decision == "explicit_deny"
    assert any(s.policy_kind == "rcp" for s in last.decision.deciding)


def test_organization_condition_keys_come_from_the_snapshot(seeded: LocalKmsFixture) -> None:
    """The audit key's policy (a saved get-key-policy file) lets anyone in the organization describe it."""
    bob = seeded.client(principal=BOB)  # no IAM policy at all; same account, key policy names "*"
    assert bob.describe_key(KeyId=AUDIT_ARN)["KeyMetadata"]["KeyId"] == AUDIT_KEY
    assert _code(lambda: bob.describe_key(KeyId=ORDERS_ARN)) == "AccessDeniedException"


def test_multi_region_key_is_one_key_in_two_regions(seeded: LocalKmsFixture) -> None:
    east = seeded.client(principal=ALICE)
    meta = seeded.client(principal=ALICE, region="eu-west-1").describe_key(KeyId=f"arn:aws:kms:eu-west-1:{PROD}:key/{MRK}")
    config = meta["KeyMetadata"]["MultiRegionConfiguration"]
    assert (config["MultiRegionKeyType"], config["PrimaryKey"]["Region"]) == ("REPLICA", "us-east-1")
    assert east.describe_key(KeyId=MRK)["KeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"


def test_custom_key_store_keys_are_left_out_and_said(snapshot_file: Path) -> None:
    seed = load_seed(snapshot_file)
    assert len(seed.keys) == 4
    assert any("AWS_CLOUDHSM" in line for line in seed.left_out)
    assert "AWS_CLOUDHSM" in seed.summary()


def test_access_keys_are_derived_from_the_principal(snapshot_file: Path) -> None:
    seed = load_seed(snapshot_file)
    assert seed.access_key(APP_ROLE) == access_key_for(APP_ROLE) == seed.access_key("role/orders-app")
    assert seed.access_key(f"arn:aws:sts::{PROD}:assumed-role/orders-app/session") == access_key_for(APP_ROLE)
    assert len({p.access_key for p in seed.principals}) == len(seed.principals) == 5


ACTIONS = ("kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:GetKeyPolicy", "kms:ListResourceTags")
PRINCIPALS = (ALICE, BOB, APP_ROLE, WORKER_ROLE, CAROL)
KEYS = (ORDERS_ARN, AUDIT_ARN, f"arn:aws:kms:us-east-1:{PROD}:key/{MRK}")


def _call(client: Any, action: str, key: str) -> str:
    calls = {
        "kms:DescribeKey": lambda: client.describe_key(KeyId=key),
        "kms:Encrypt": lambda: client.encrypt(KeyId=key, Plaintext=b"x"),
        "kms:GenerateDataKey": lambda: client.generate_data_key(KeyId=key, KeySpec="AES_256"),
        "kms:GetKeyPolicy": lambda: client.get_key_policy(KeyId=key, PolicyName="default"),
        "kms:ListResourceTags": lambda: client.list_resource_tags(KeyId=key),
    }
    return _code(calls[action])


def test_the_snapshot_answers_can_as_the_seeded_server_decides(seeded: LocalKmsFixture, snapshot_file: Path) -> None:
    """Every principal, action and key of the snapshot: ``can`` (direct) and the server agree."""
    access = Access.of(World.build(load_seed_model(snapshot_file), str(snapshot_file)))
    disagreements = []
    allowed = 0
    for principal in PRINCIPALS:
        client = seeded.client(principal=principal)
        for key in KEYS:
            for action in ACTIONS:
                verdict = access.can(principal, action, key, direct_only=True)
                assert verdict.status in ("allow", "deny"), (principal, action, key, verdict.status)
                served = _call(client, action, key)
                if (verdict.status == "allow") != (served == "ok") or served not in ("ok", "AccessDeniedException"):
                    disagreements.append((principal, action, key, verdict.status, served))
                allowed += served == "ok"
    assert disagreements == []
    assert 10 <= allowed <= len(PRINCIPALS) * len(KEYS) * len(ACTIONS) - 10  # both answers occur often


def load_seed_model(path: Path) -> Any:
    from policyengine.access.loader import load_snapshot

    return load_snapshot(path)


def test_a_bad_snapshot_is_one_line_naming_the_field(local_kms: LocalKmsFixture, tmp_path: Path) -> None:
    from policyengine.access.errors import SnapshotError

    data = snapshot_data(tmp_path)
    data["accounts"][0]["keys"][1]["policy"] = str(tmp_path / "audit-key-policy.json")  # data has no file to be relative to
    data["accounts"][0]["keys"][0]["usage"] = "SIGN_VERIFY"
    with pytest.raises(SnapshotError) as error:
        local_kms.load(data)
    assert f"accounts[{PROD}].keys[{ORDERS_KEY}].usage" in str(error.value)
    assert "\n" not in str(error.value)


def test_serve_seed_starts_from_the_snapshot_and_reset_puts_it_back(snapshot_file: Path) -> None:
    server = ServeProcess("--test-mode", "--seed", str(snapshot_file))
    try:
        server.wait_listening(timeout=120)  # a loaded machine takes long to import and start a server
        session = boto3.session.Session(
            aws_access_key_id=access_key_for(APP_ROLE), aws_secret_access_key=SEED_SECRET, region_name="us-east-1"
        )
        app = session.client("kms", endpoint_url=server.endpoint_url, config=Config(retries={"max_attempts": 1}))
        assert app.describe_key(KeyId="alias/orders")["KeyMetadata"]["Arn"] == ORDERS_ARN
        app.encrypt(KeyId=ORDERS_ARN, Plaintext=b"x")
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(f"{server.endpoint_url}/_reset", data=b"{}", method="POST"), timeout=10)
        assert app.describe_key(KeyId="alias/orders")["KeyMetadata"]["Arn"] == ORDERS_ARN
    finally:
        code, log = server.stop()
    assert code == 0
    assert (
        f"{access_key_for(APP_ROLE)} (secret {SEED_SECRET}) signs as arn:aws:sts::{PROD}:assumed-role/orders-app/session" in log
    )


def test_serve_seed_needs_test_mode_and_a_good_snapshot(tmp_path: Path, snapshot_file: Path) -> None:
    outside = subprocess.run(
        [sys.executable, "-m", "policyengine.cli.serve", "--data", str(tmp_path / "d"), "--seed", str(snapshot_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert outside.returncode == 1 and "--seed is for test mode" in outside.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("accounts: [{id: '1'}]\n")
    refused = subprocess.run(
        [sys.executable, "-m", "policyengine.cli.serve", "--test-mode", "--port", "0", "--seed", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 1
    assert "bad.yaml" in refused.stderr and "accounts[1].id" in refused.stderr and "Traceback" not in refused.stderr
