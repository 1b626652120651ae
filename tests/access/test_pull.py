"""``snapshot pull`` against real servers: moto's server (IAM, STS, Organizations) in its own process and
policyengine's KMS server, both populated through boto3, reached through boto3's service endpoint settings
(``AWS_ENDPOINT_URL_<SERVICE>``) exactly as a user would point it elsewhere.

The same data saved by the AWS CLI (awscli's own driver, in process) and read by ``snapshot import`` must
answer the same questions as the pulled snapshot. Every API call the pull makes is seen through a botocore
event hook on the session handed to it, and must be a read.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from policyengine.access import Access, World, load_snapshot
from policyengine.access.pull import READ_ONLY_OPERATIONS, pull, snapshot_from_exports
from policyengine.cli.main import main
from policyengine.server import BackgroundServer, ServerConfig

MANAGEMENT = "123456789012"  # moto's default account, and the KMS server's test-mode account
ROLE = "OrganizationAccountAccessRole"
REGION = "us-east-1"
ALLOW_KMS_DECRYPT = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """moto's server in its own process on a free 127.0.0.1 port."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("moto's server did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def kms_url() -> Iterator[str]:
    """policyengine's KMS server in test mode: any credentials act as the root of 123456789012."""
    with BackgroundServer(ServerConfig(host="127.0.0.1", port=0, test_mode=True, log_requests=False)) as server:
        yield server.endpoint_url


@pytest.fixture(scope="module")
def aws_env(moto_url: str, kms_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment pointing boto3 (and the AWS CLI) at the two servers, isolated from any real AWS configuration."""
    home = tmp_path_factory.mktemp("aws-home")
    env = {
        "AWS_ACCESS_KEY_ID": "AKIAPULLTEST00000001",
        "AWS_SECRET_ACCESS_KEY": "pull-test-secret",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_ENDPOINT_URL_IAM": moto_url,
        "AWS_ENDPOINT_URL_STS": moto_url,
        "AWS_ENDPOINT_URL_ORGANIZATIONS": moto_url,
        "AWS_ENDPOINT_URL_EC2": moto_url,
        "AWS_ENDPOINT_URL_KMS": kms_url,
    }
    with _environment({**env, "AWS_PROFILE": None, "AWS_SESSION_TOKEN": None}):
        yield env


@contextlib.contextmanager
def _environment(values: dict[str, str | None]) -> Iterator[None]:
    """Set (or, for None, remove) environment variables meanwhile; restore them after."""
    saved = {k: os.environ.get(k) for k in values}
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _policy(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


@pytest.fixture(scope="module")
def world_data(aws_env: dict[str, str]) -> dict[str, str]:
    """An organization (root, OU, member account, an SCP, an RCP), IAM in both accounts, two keys with grants."""
    session = boto3.session.Session(region_name=REGION)
    org = session.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root, PolicyType="RESOURCE_CONTROL_POLICY")
    unit = org.create_organizational_unit(ParentId=root, Name="Workloads")["OrganizationalUnit"]["Id"]
    status = org.create_account(Email="payments@example.com", AccountName="payments")["CreateAccountStatus"]
    member = str(org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"])
    org.move_account(AccountId=member, SourceParentId=root, DestinationParentId=unit)
    scp = org.create_policy(
        Name="NoKeyDeletion",
        Description="keys are never deleted",
        Type="SERVICE_CONTROL_POLICY",
        Content=_policy([{"Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}]),
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=scp, TargetId=unit)
    rcp = org.create_policy(
        Name="KmsPerimeter",
        Description="keys answer the organization only",
        Type="RESOURCE_CONTROL_POLICY",
        Content=_policy(
            [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "kms:*",
                    "Resource": "*",
                    "Condition": {
                        "StringNotEqualsIfExists": {"aws:PrincipalOrgID": org.describe_organization()["Organization"]["Id"]},
                        "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
                    },
                }
            ]
        ),
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=rcp, TargetId=root)

    iam = session.client("iam")
    iam.create_user(UserName="alice", Path="/people/", Tags=[{"Key": "team", "Value": "payments"}])
    iam.put_user_policy(UserName="alice", PolicyName="decrypt", PolicyDocument=json.dumps(ALLOW_KMS_DECRYPT))
    iam.create_user(UserName="ops")
    iam.put_user_policy(
        UserName="ops",
        PolicyName="admin",
        PolicyDocument=_policy([{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]),
    )
    trust = _policy(
        [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:user/people/alice"}, "Action": "sts:AssumeRole"}]
    )
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=trust)
    managed = iam.create_policy(
        PolicyName="EncryptOnly", PolicyDocument=_policy([{"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}])
    )["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="app", PolicyArn=managed)

    assumed = session.client("sts").assume_role(RoleArn=f"arn:aws:iam::{member}:role/{ROLE}", RoleSessionName="setup")
    creds = assumed["Credentials"]
    member_iam = boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    ).client("iam")
    member_iam.create_user(UserName="bob")
    member_iam.put_user_policy(UserName="bob", PolicyName="decrypt", PolicyDocument=json.dumps(ALLOW_KMS_DECRYPT))

    kms = session.client("kms")
    key_policy = _policy(
        [
            {
                "Sid": "Root",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "Member",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{member}:root"},
                "Action": ["kms:Decrypt", "kms:DescribeKey"],
                "Resource": "*",
            },
        ]
    )
    orders = kms.create_key(Description="orders", Policy=key_policy, Tags=[{"TagKey": "env", "TagValue": "prod"}])["KeyMetadata"]
    kms.create_alias(AliasName="alias/orders", TargetKeyId=orders["KeyId"])
    kms.create_grant(
        KeyId=orders["KeyId"],
        GranteePrincipal=f"arn:aws:iam::{MANAGEMENT}:role/app",
        Operations=["Decrypt"],
        Constraints={"EncryptionContextSubset": {"app": "orders"}},
    )
    # A key whose policy does not let the account read it: the pull notes AccessDenied and goes on.
    sealed_policy = _policy(
        [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
                "Action": ["kms:DescribeKey"],
                "Resource": "*",
            }
        ]
    )
    sealed = kms.create_key(Description="sealed", Policy=sealed_policy, BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]
    return {
        "member": member,
        "root": root,
        "unit": unit,
        "orders": orders["KeyId"],
        "sealed": sealed["KeyId"],
        "scp": scp,
        "rcp": rcp,
    }


def _session_with_hook() -> tuple[Any, set[tuple[str, str]]]:
    session = boto3.session.Session(region_name=REGION)
    seen: set[tuple[str, str]] = set()

    def record(model: Any, **_: Any) -> None:
        seen.add((model.service_model.service_name, model.name))

    session.events.register("before-call", record)
    return session, seen


@pytest.fixture(scope="module")
def pulled(world_data: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    exports = tmp_path_factory.mktemp("pulled")
    session, seen = _session_with_hook()
    result = pull(session, exports, regions=[REGION], all_accounts=True, assume_role=ROLE)
    return {"result": result, "seen": seen, "exports": exports}


def test_pull_calls_only_read_apis(pulled: dict[str, Any]) -> None:
    """The exact set of operations the pull sent (seen by a botocore hook): reads, and sts:AssumeRole into members."""
    assert pulled["seen"] == {
        ("sts", "GetCallerIdentity"),
        ("sts", "AssumeRole"),
        ("iam", "GetAccountAuthorizationDetails"),
        ("organizations", "DescribeOrganization"),
        ("organizations", "ListRoots"),
        ("organizations", "ListAccounts"),
        ("organizations", "ListOrganizationalUnitsForParent"),
        ("organizations", "ListParents"),
        ("organizations", "ListPoliciesForTarget"),
        ("organizations", "DescribePolicy"),
        ("kms", "ListKeys"),
        ("kms", "ListAliases"),
        ("kms", "DescribeKey"),
        ("kms", "GetKeyPolicy"),
        ("kms", "ListGrants"),
        ("kms", "ListResourceTags"),
    }
    assert all(op.startswith(("Get", "List", "Describe")) or op == "AssumeRole" for _, op in pulled["seen"])
    assert pulled["seen"] <= READ_ONLY_OPERATIONS


def test_pull_reads_the_organization_iam_and_kms(pulled: dict[str, Any], world_data: dict[str, str]) -> None:
    """Accounts with their OU path and SCP/RCP levels (RCPFullAWSAccess implied), IAM of both accounts, keys and grants."""
    snapshot = pulled["result"].snapshot
    accounts = {a.id: a for a in snapshot.accounts}
    assert sorted(pulled["result"].accounts) == sorted([MANAGEMENT, world_data["member"]])
    member = accounts[world_data["member"]]
    assert member.ou_path == [world_data["root"], world_data["unit"]]
    assert member.scps is not None and [p.name for p in member.scps[1].policies] == ["FullAWSAccess", "NoKeyDeletion"]
    assert member.rcps is not None and [p.name for p in member.rcps[0].policies] == ["RCPFullAWSAccess", "KmsPerimeter"]
    assert [u.name for u in member.users] == ["bob"]
    management = accounts[MANAGEMENT]
    assert {u.name for u in management.users} == {"alice", "ops"} and [r.name for r in management.roles] == ["app"]
    (orders,) = [k for k in management.keys if k.id == world_data["orders"]]
    assert orders.aliases == ["alias/orders"] and orders.tags == {"env": "prod"} and len(orders.grants) == 1
    assert snapshot.organization is not None and snapshot.organization.management_account == MANAGEMENT


def test_pull_notes_what_it_could_not_read(pulled: dict[str, Any], world_data: dict[str, str]) -> None:
    """AccessDenied on GetKeyPolicy is a note (the key is left out and listed), not a failure; so are KMS answers
    for the wrong account (the KMS server's test mode answers every member as 123456789012)."""
    unused = {u.item: u.reason for u in pulled["result"].snapshot.unused}
    assert any(item.startswith("kms:GetKeyPolicy in ") and "AccessDenied" in reason for item, reason in unused.items())
    assert f"key {world_data['sealed']}" in unused
    assert any("belong to another account" in reason for reason in unused.values())


def test_pull_resumes_from_its_exports(pulled: dict[str, Any], world_data: dict[str, str]) -> None:
    """A second run over the same exports folder asks again only what is not saved (and what was refused)."""
    session, seen = _session_with_hook()
    again = pull(session, pulled["exports"], regions=[REGION], all_accounts=True, assume_role=ROLE)
    refused = {("kms", "GetKeyPolicy"), ("kms", "ListGrants"), ("kms", "ListResourceTags")}  # the sealed key's
    assert seen == {("sts", "GetCallerIdentity"), ("sts", "AssumeRole"), *refused}
    assert again.snapshot == pulled["result"].snapshot


def _aws_cli(*argv: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """One AWS CLI command through awscli's own driver (with ``env`` set meanwhile); its JSON output."""
    from awscli.clidriver import create_clidriver

    buffer = io.StringIO()
    with _environment(dict(env or {})), contextlib.redirect_stdout(buffer):
        code = create_clidriver().main([*argv, "--output", "json"])
    assert code == 0, argv
    return dict(json.loads(buffer.getvalue()))


def _save(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_pulled_snapshot_answers_like_cli_exports(pulled: dict[str, Any], world_data: dict[str, str], tmp_path: Path) -> None:
    """The management account saved with the AWS CLI, imported, answers every question as the pull does."""
    org = tmp_path / "org"
    for command in ("describe-organization", "list-roots", "list-accounts"):
        _save(org / f"{command}.json", _aws_cli("organizations", command))
    for parent in (world_data["root"], world_data["unit"]):
        units = _aws_cli("organizations", "list-organizational-units-for-parent", "--parent-id", parent)
        _save(org / f"list-organizational-units-for-parent-{parent}.json", units)
    accounts = [MANAGEMENT, world_data["member"]]
    for account in accounts:
        _save(org / f"list-parents-{account}.json", _aws_cli("organizations", "list-parents", "--child-id", account))
    for target in [world_data["root"], world_data["unit"], *accounts]:
        for kind, suffix in (("SERVICE_CONTROL_POLICY", "scp"), ("RESOURCE_CONTROL_POLICY", "rcp")):
            listed = _aws_cli("organizations", "list-policies-for-target", "--target-id", target, "--filter", kind)
            _save(org / f"list-policies-for-target-{target}-{suffix}.json", listed)
            for policy in listed["Policies"]:
                _save(
                    org / f"describe-policy-{policy['Id']}.json",
                    _aws_cli("organizations", "describe-policy", "--policy-id", policy["Id"]),
                )
    iam = tmp_path / "authdetails.json"
    _save(iam, _aws_cli("iam", "get-account-authorization-details"))
    role = f"arn:aws:iam::{world_data['member']}:role/{ROLE}"
    creds = _aws_cli("sts", "assume-role", "--role-arn", role, "--role-session-name", "export")["Credentials"]
    member_env = {
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
    }
    member_iam = tmp_path / "member-authdetails.json"
    _save(member_iam, _aws_cli("iam", "get-account-authorization-details", env=member_env))
    kms = tmp_path / "kms"
    key = world_data["orders"]
    _save(kms / "list-aliases.json", _aws_cli("kms", "list-aliases"))
    _save(kms / key / "describe-key.json", _aws_cli("kms", "describe-key", "--key-id", key))
    _save(kms / key / "get-key-policy.json", _aws_cli("kms", "get-key-policy", "--key-id", key, "--policy-name", "default"))
    _save(kms / key / "list-grants.json", _aws_cli("kms", "list-grants", "--key-id", key))
    _save(kms / key / "list-resource-tags.json", _aws_cli("kms", "list-resource-tags", "--key-id", key))
    target = tmp_path / "imported.yaml"
    argv = [
        "snapshot",
        "import",
        "--organization",
        str(org),
        "--authdetails",
        str(iam),
        "--authdetails",
        str(member_iam),
        "--kms-dir",
        str(kms),
        "--out",
        str(target),
    ]
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 0
    imported = Access.of(World.build(load_snapshot(target)))
    from_pull = Access.of(World.build(pulled["result"].snapshot))
    questions = [
        ("user/alice", "kms:Decrypt"),
        ("user/alice", "kms:Encrypt"),
        ("role/app", "kms:Decrypt"),
        ("role/app", "kms:Encrypt"),
        ("user/ops", "kms:ScheduleKeyDeletion"),
        (f"{world_data['member']}:user/bob", "kms:Decrypt"),
        (f"{world_data['member']}:user/bob", "kms:ScheduleKeyDeletion"),
    ]
    answers = {(p, a): imported.can(p, a, "alias/orders").to_json() for p, a in questions}
    assert answers == {(p, a): from_pull.can(p, a, "alias/orders").to_json() for p, a in questions}
    statuses = {q: answers[q]["status"] for q in questions}
    assert statuses[("user/alice", "kms:Decrypt")] == "allow"
    assert statuses[("role/app", "kms:Decrypt")] == "conditional"  # only through the grant, with its context
    assert statuses[(f"{world_data['member']}:user/bob", "kms:Decrypt")] == "allow"
    assert statuses[(f"{world_data['member']}:user/bob", "kms:ScheduleKeyDeletion")] == "deny"


def test_snapshot_import_reads_a_pull_exports_folder(pulled: dict[str, Any]) -> None:
    """The raw exports a pull keeps are the layout import reads: the same snapshot comes back."""
    rebuilt = snapshot_from_exports(pulled["exports"])
    assert [a.id for a in rebuilt.accounts] == [a.id for a in pulled["result"].snapshot.accounts]
    assert rebuilt.accounts == pulled["result"].snapshot.accounts


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def test_snapshot_pull_command(world_data: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The command writes the snapshot and the raw exports, and sums up what it read and what it could not."""
    target = tmp_path / "snap.yaml"
    exports = tmp_path / "raw"
    argv = ["snapshot", "pull", "--region", REGION, "--exports", str(exports), "--out", str(target), "--format", "json"]
    code, out, _ = _run(capsys, *argv)
    summary = json.loads(out)
    assert code == 0 and summary["accounts_read"] == [MANAGEMENT] and summary["api_calls"] > 10
    assert any(u["item"].startswith("kms:GetKeyPolicy") for u in summary["unused"])
    assert (exports / MANAGEMENT / "iam" / "get-account-authorization-details.json").exists()
    code, out, _ = _run(capsys, "can", "user/alice", "kms:Decrypt", "alias/orders", "-s", str(target))
    assert code == 0 and "ALLOW" in out
    code, out, _ = _run(capsys, "snapshot", "import", "--exports", str(exports), "--out", str(tmp_path / "again.yaml"))
    assert code == 0 and load_snapshot(tmp_path / "again.yaml").accounts == load_snapshot(target).accounts


def test_snapshot_pull_usage_errors(world_data: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Other accounts without a role to assume, a bad account id, an unknown profile: one line each, exit 1."""
    out_path = str(tmp_path / "s.yaml")
    code, _, err = _run(capsys, "snapshot", "pull", "--accounts", "111122223333", "--region", REGION, "--out", out_path)
    assert code == 1 and "--assume-role" in err
    code, _, err = _run(capsys, "snapshot", "pull", "--accounts", "12345", "--assume-role", ROLE, "--out", out_path)
    assert code == 1 and "not a 12-digit account id" in err
    code, _, err = _run(capsys, "snapshot", "pull", "--profile", "no-such-profile", "--out", out_path)
    assert code == 1 and "no-such-profile" in err and "Traceback" not in err
