"""``policyengine check ... -s snap.yaml``: a key-policy change judged inside its account's policy set.

The fixture (``snapshot/org.yaml``) is a member account whose SCP denies kms:ScheduleKeyDeletion
(Organizations UG, "SCP evaluation": an explicit Deny in any SCP applies to every principal of
the account but the management account's), a role whose permissions boundary only allows
kms:Describe* (IAM UG, "Permissions boundaries for IAM entities": a resource policy naming the
role, not the session, is capped by the boundary), a user who decrypts through a grant (KMS DG,
"Grants in AWS KMS"), and an RCP that denies callers outside the organization (Organizations UG,
"Resource control policies"), and a VPC endpoint whose policy lets only kms:Decrypt through (VPC UG,
"Control access to VPC endpoints using endpoint policies"). Each change is new access without the snapshot and none with it,
or new access either way with a counterexample that replays through ``authorize``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import policyengine as pe
from tests.analysis.conftest import requires_cvc5
from tests.analysis.test_cli import run

HERE = Path(__file__).parent / "snapshot"
SNAPSHOT = HERE / "org.yaml"
OLD = str(HERE / "old-key-policy.json")
KEY = "arn:aws:kms:us-east-1:111122223333:key/0c0c0c0c-1111-2222-3333-444444444444"


def _no_new_access(capsys: pytest.CaptureFixture[str], new: str, *extra: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = run(capsys, "no-new-access", "--old", OLD, "--new", str(HERE / new), "--format", "json", *extra)
    result: dict[str, Any] = json.loads(out)
    return code, result


def _replay(cex: dict[str, Any], new: str) -> pe.Decision:
    """The counterexample through ``authorize`` with the snapshot's policies around the key (the caller's
    own IAM policies and boundary when the snapshot holds it, else the identity policy the check assumed)."""
    from policyengine.access import LookupFailure, World, load_snapshot

    world = World.build(load_snapshot(str(SNAPSHOT)), str(SNAPSHOT))
    key = world.key(KEY)
    request = pe.make_request(
        cex["principal"],
        cex["action"],
        cex["resource"],
        cex["context"],
        encryption_context=cex.get("encryption_context"),
        grant_tokens=cex.get("grant_tokens", ()),
    )
    try:
        principal = world.principal(cex["principal"])
        identity, boundary = principal.identity, principal.boundary
    except LookupFailure:
        assumed = cex.get("assumed_identity_policy")
        identity = (pe.compile_policy(pe.parse_policy(json.dumps(assumed), "assumed"), "identity"),) if assumed else ()
        boundary = None
    caller_account = world.account(request.principal_account)
    new_policy = pe.compile_policy(pe.parse_policy((HERE / new).read_text(encoding="utf-8"), new), "key_policy")
    policies = pe.PolicySet(
        key_policy=new_policy,
        identity=identity,
        boundary=boundary,
        scp_levels=caller_account.scp_levels if caller_account is not None else None,
        rcp_levels=world.accounts[key.account].rcp_levels,
        grants=key.grants,
        management_account=world.management_account,
    )
    return pe.authorize(request, policies)


@requires_cvc5
@pytest.mark.parametrize(
    ("new", "why"),
    [
        ("new-ops-encrypts.json", "the role's permissions boundary allows only kms:Describe*"),
        ("new-dana-decrypts.json", "dana's grant already lets her decrypt"),
        ("new-dana-encrypts-via-endpoint.json", "the only endpoint the statement admits lets Decrypt through, not Encrypt"),
    ],
)
def test_changes_that_are_new_access_only_outside_the_snapshot(capsys: pytest.CaptureFixture[str], new: str, why: str) -> None:
    """Without the snapshot the change opens access; inside it, it opens nothing (proved)."""
    code, alone = _no_new_access(capsys, new)
    assert code == 3 and alone["result"] == "fail", alone
    code, inside = _no_new_access(capsys, new, "-s", str(SNAPSHOT))
    assert code == 0 and inside["result"] == "pass", (why, inside)


@requires_cvc5
def test_the_scp_is_what_stops_the_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Letting dana schedule the key's deletion is new access in the snapshot without its SCP, and none with it."""
    code, inside = _no_new_access(capsys, "new-dana-deletes.json", "-s", str(SNAPSHOT))
    assert code == 0 and inside["result"] == "pass", inside
    data = yaml.safe_load(SNAPSHOT.read_text(encoding="utf-8"))
    account = data["accounts"][0]
    account["scps"] = account["scps"][:1]  # FullAWSAccess only
    account["keys"][0]["policy"] = str(HERE / "old-key-policy.json")
    without = tmp_path / "without-scp.yaml"
    without.write_text(yaml.safe_dump(data), encoding="utf-8")
    code, outside = _no_new_access(capsys, "new-dana-deletes.json", "-s", str(without))
    assert code == 3 and outside["result"] == "fail", outside
    cex = outside["counterexample"]
    assert cex["principal"] == "arn:aws:iam::111122223333:user/dana" and cex["action"] == "kms:ScheduleKeyDeletion"


@requires_cvc5
def test_new_access_inside_the_snapshot_replays_through_authorize(capsys: pytest.CaptureFixture[str]) -> None:
    """Letting dana create grants is new access even inside the snapshot: the counterexample is dana's request,
    and authorize allows it with the snapshot's policies and the new key policy."""
    code, inside = _no_new_access(capsys, "new-dana-grants.json", "-s", str(SNAPSHOT), "--key", "alias/payments")
    assert code == 3 and inside["result"] == "fail", inside
    cex = inside["counterexample"]
    assert cex["principal"] == "arn:aws:iam::111122223333:user/dana" and cex["resource"] == KEY
    assert _replay(cex, "new-dana-grants.json").allowed


@requires_cvc5
def test_the_rcp_leaves_only_callers_of_the_organization(capsys: pytest.CaptureFixture[str]) -> None:
    """A partner account is new access only if its callers carry the organization's id: the RCP denies the rest,
    so the counterexample inside the snapshot sets aws:PrincipalOrgID (the snapshot does not hold the partner's
    account, so its organization is unknown)."""
    code, inside = _no_new_access(capsys, "new-partner.json", "-s", str(SNAPSHOT))
    assert code == 3 and inside["result"] == "fail", inside
    cex = inside["counterexample"]
    assert cex["principal"].startswith("arn:aws:iam::444455556666:")
    assert cex["context"]["aws:principalorgid"] == "o-checkorg01", cex
    assert _replay(cex, "new-partner.json").allowed


@requires_cvc5
def test_organization_facts_of_the_snapshot_are_fixed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """When the snapshot holds the partner's account, in another organization, its callers' aws:PrincipalOrgID is
    that organization (as ``can`` takes it), so the RCP denies them all: no new access."""
    data = yaml.safe_load(SNAPSHOT.read_text(encoding="utf-8"))
    data["accounts"][0]["keys"][0]["policy"] = str(HERE / "old-key-policy.json")
    data["accounts"].append({"id": "444455556666", "org_id": "o-partnerorg1", "ou_path": ["r-part"]})
    with_partner = tmp_path / "with-partner.yaml"
    with_partner.write_text(yaml.safe_dump(data), encoding="utf-8")
    code, inside = _no_new_access(capsys, "new-partner.json", "-s", str(with_partner))
    assert code == 0 and inside["result"] == "pass", inside


@requires_cvc5
def test_a_principal_of_the_snapshot_keeps_its_policies(capsys: pytest.CaptureFixture[str]) -> None:
    """--principal names a snapshot user: without --identity-old/--identity-new her own IAM policies and grant
    count (she already decrypts through her grant); with them, the given ones are her IAM policies (one that
    denies CreateGrant leaves the change no new access, where her snapshot policies let it through)."""
    dana = "arn:aws:iam::111122223333:user/dana"
    code, inside = _no_new_access(capsys, "new-dana-decrypts.json", "-s", str(SNAPSHOT), "--principal", dana)
    assert code == 0 and inside["result"] == "pass", inside
    code, inside = _no_new_access(capsys, "new-dana-grants.json", "-s", str(SNAPSHOT), "--principal", dana)
    assert code == 3 and inside["result"] == "fail", inside
    no_grants = str(HERE / "dana-no-grants.json")
    code, inside = _no_new_access(
        capsys,
        "new-dana-grants.json",
        "-s",
        str(SNAPSHOT),
        "--principal",
        dana,
        "--identity-old",
        no_grants,
        "--identity-new",
        no_grants,
    )
    assert code == 0 and inside["result"] == "pass", inside


@requires_cvc5
def test_access_not_granted_inside_the_snapshot(capsys: pytest.CaptureFixture[str]) -> None:
    """No one in the snapshot's account may disable the key (the SCP), though the key policy lets the account's IAM decide."""
    policy = str(HERE / "new-dana-deletes.json")
    code, out, _ = run(capsys, "access-not-granted", policy, "--actions", "kms:ScheduleKeyDeletion", "-s", str(SNAPSHOT))
    assert code == 0 and "PASS" in out, out
    code, out, _ = run(capsys, "access-not-granted", policy, "--actions", "kms:ScheduleKeyDeletion")
    assert code == 3 and "FAIL" in out, out


def test_snapshot_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A key the snapshot does not hold, --key without a snapshot, and --resources with one are plain errors."""
    code, _, err = run(capsys, "no-new-access", "--old", OLD, "--new", OLD, "-s", str(SNAPSHOT), "--key", "alias/nope")
    assert code == 1 and "alias/nope" in err and "Traceback" not in err
    code, _, err = run(capsys, "no-new-access", "--old", OLD, "--new", OLD, "--key", "alias/payments")
    assert code != 0 and "--snapshot" in err
    code, _, err = run(capsys, "access-not-granted", OLD, "--actions", "kms:Decrypt", "-s", str(SNAPSHOT), "--resources", KEY)
    assert code != 0 and "--resources" in err
