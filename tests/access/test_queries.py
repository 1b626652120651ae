"""Every query type on the fixture organization, with the answers worked out by hand."""

from __future__ import annotations

import pytest

from policyengine.access import Access, World, access_matrix, formula_text
from policyengine.access.subjects import Subject

from .conftest import LOGS, PAYMENTS, RETIRED, WORKLOAD


def _text(access: Access, principal: str, action: str, key: str) -> str:
    return formula_text(access.can(principal, action, key).direct.result.residual)


def test_same_account_admin_is_allowed_only_over_tls(access: Access) -> None:
    """A deny-without-TLS statement leaves the account's admin an answer conditional on aws:SecureTransport."""
    verdict = access.can("user/kms-admin", "kms:ScheduleKeyDeletion", PAYMENTS)
    assert verdict.status == "conditional"
    tls = "aws:SecureTransport is absent or aws:SecureTransport = true"  # the opposite of DenyWithoutTLS's test
    assert _text(access, "user/kms-admin", "kms:ScheduleKeyDeletion", PAYMENTS) == tls


def test_given_context_decides_the_residual(world: World) -> None:
    """Fixing aws:SecureTransport on the command line turns the conditional answer into allow or deny."""
    assert Access.of(world, {"aws:SecureTransport": "true"}).can("user/kms-admin", "kms:Decrypt", PAYMENTS).status == "allow"
    assert Access.of(world, {"aws:SecureTransport": "false"}).can("user/kms-admin", "kms:Decrypt", PAYMENTS).status == "deny"


def test_scp_denies_key_deletion_in_workloads(access: Access) -> None:
    """The workloads OU's SCP denies ScheduleKeyDeletion even to a kms:* user: an explicit deny."""
    verdict = access.can("user/ops", "kms:ScheduleKeyDeletion", WORKLOAD)
    assert verdict.status == "deny"
    assert verdict.direct.result.reason == "explicit_deny"
    assert [r.label for r in verdict.direct.result.deciding] == ["NoKeyDeletion"]
    assert access.can("user/ops", "kms:DisableKey", WORKLOAD).status == "allow"


def test_boundary_caps_decrypt(access: Access) -> None:
    """bob's inline policy allows Decrypt but his boundary allows only DescribeKey."""
    assert access.can("user/bob", "kms:Decrypt", WORKLOAD).direct.result.reason == "boundary_cap"
    assert access.can("user/bob", "kms:DescribeKey", WORKLOAD).status == "allow"


def test_role_chain_reaches_the_payments_key(access: Access) -> None:
    """alice cannot decrypt directly, but reaches role/app through deployer (with MFA), and app may decrypt via S3."""
    verdict = access.can("user/alice", "kms:Decrypt", PAYMENTS)
    assert verdict.direct.status == "deny" and verdict.status == "conditional" and verdict.how == "via_role"
    assert verdict.route is not None
    assert (
        verdict.route.text()
        == "user/alice -> role/deployer -> role/app -> kms:Decrypt on key/1111aaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
    )
    assert [formula_text(h.result.residual) for h in verdict.route.hops] == ["aws:MultiFactorAuthPresent = true", "true"]
    assert formula_text(verdict.route.final.result.residual) == (
        "(aws:SecureTransport is absent or aws:SecureTransport = true) and kms:EncryptionContext:dept = finance"
        " and kms:ViaService = s3.us-east-1.amazonaws.com"
    )


def test_cross_account_role_named_in_key_policy(access: Access) -> None:
    """role/app of another account, named in the key policy and allowed by its own policy, gets the statement's conditions."""
    verdict = access.can("role/app", "kms:Encrypt", PAYMENTS)
    assert verdict.status == "conditional"
    assert "kms:ViaService = s3.us-east-1.amazonaws.com" in formula_text(verdict.direct.result.residual)
    assert access.can("role/app", "kms:DescribeKey", PAYMENTS).status == "deny"


def test_grant_with_encryption_context_constraint(world: World, access: Access) -> None:
    """carol has no IAM policy; her grant allows Decrypt only with dept=hr in the encryption context."""
    assert _text(access, "user/carol", "Decrypt", LOGS) == "kms:EncryptionContext:dept = hr (grant g-carol-hr)"
    assert Access.of(world, {"kms:EncryptionContext:dept": "hr"}).can("user/carol", "Decrypt", LOGS).status == "allow"
    assert Access.of(world, {"kms:EncryptionContext:dept": "finance"}).can("user/carol", "Decrypt", LOGS).status == "deny"


def test_service_principal_and_other_account(access: Access) -> None:
    """CloudTrail may encrypt only for trails of the account; another account depends on IAM the snapshot lacks and on the RCP."""
    assert _text(access, "service/cloudtrail.amazonaws.com", "kms:Encrypt", LOGS) == (
        "aws:SourceArn like arn:aws:cloudtrail:*:111111111111:trail/*"
    )
    partner = _text(access, "account/444455556666", "kms:Decrypt", LOGS)
    assert "outside the snapshot" in partner and "aws:PrincipalOrgID" in partner


def test_disabled_key_note(access: Access) -> None:
    """An authorized crypto call on a disabled key is reported with the error it will get."""
    verdict = access.can("user/kms-admin", "kms:Decrypt", RETIRED)
    assert verdict.status == "allow"
    assert any("DisabledException" in note for note in verdict.direct.notes)


def test_operation_that_cannot_cross_accounts(access: Access) -> None:
    """kms-admin cannot PutKeyPolicy on another account's key, for the same reason with and without --explain."""
    explained = access.can("user/kms-admin", "kms:PutKeyPolicy", WORKLOAD, explain=True).direct.result
    quick = access.can("user/kms-admin", "kms:PutKeyPolicy", WORKLOAD).direct.result
    assert explained.reason == quick.reason == "operation_not_cross_account"


def test_who_can_lists_every_kind_of_principal(access: Access) -> None:
    """who-can names users, roles, sessions, roots, other accounts and services, best answers first."""
    verdicts = {v.direct.subject.label: v for v in access.who_can("kms:Decrypt", LOGS)}
    assert verdicts["user/kms-admin"].status == "allow"
    assert verdicts["user/carol"].status == "conditional"
    assert verdicts["account/444455556666"].status == "conditional"
    assert verdicts["user/bob"].status == "deny"
    kinds = {v.direct.subject.kind for v in verdicts.values()}
    assert {"user", "role", "session", "root", "external_account", "service"} <= kinds
    ordered = [v.status for v in access.who_can("kms:Decrypt", LOGS)]
    assert ordered == sorted(ordered, key=["allow", "conditional", "deny"].index)


def test_who_can_follows_roles(access: Access) -> None:
    """dave decrypts payments through role/auditor, which the key policy admits through its account."""
    verdicts = {v.direct.subject.label: v for v in access.who_can("kms:Decrypt", PAYMENTS)}
    dave = verdicts["user/dave"]
    assert dave.how == "via_role" and dave.route is not None
    assert dave.route.text().startswith("user/dave -> role/auditor ->")


def test_what_can(access: Access) -> None:
    """what-can for alice shows crypto on payments through roles and nothing else."""
    subject = access.subject("user/alice")
    matrix = access_matrix(access, subjects=[subject])
    reached = {(k.label, g): matrix.cell(subject, k, g) for k in matrix.keys for g in matrix.groups}
    live = {key: cell.status for key, cell in reached.items() if cell.status != "deny"}
    assert live == {("key/1111aaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", "crypto"): "conditional"}
    cell = reached[("key/1111aaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", "crypto")]
    assert cell.route is not None and cell.route.hops[-1].role.label == "role/app"


def test_access_matrix_counts_and_json(access: Access) -> None:
    """The fixture matrix has the hand-counted numbers, and its JSON lists only cells that are not plain denies."""
    matrix = access_matrix(access, subjects=access.subjects.principals())
    counts = matrix.counts()
    assert counts == {"allow": 18, "conditional": 14, "deny": 144}
    data = matrix.to_json()
    assert len(data["cells"]) == counts["allow"] + counts["conditional"]
    ops = next(c for c in data["cells"] if c["principal"] == "user/ops" and c["group"] == "administer")
    assert "kms:ScheduleKeyDeletion" not in ops["allowed"] and "kms:DisableKey" in ops["allowed"]


def test_reachability_graph(access: Access) -> None:
    """The AssumeRole graph has the fixture's edges: devs to deployer (MFA), deployer to app, ec2 to ci, dave to auditor."""
    edges = {(h.source.label, h.role.label): h.result.status for hops in access.reach.edges.values() for h in hops}
    assert edges[("user/alice", "role/deployer")] == "conditional"
    assert edges[("role/deployer", "role/app")] == "allow"
    assert edges[("service/ec2.amazonaws.com", "role/ci")] == "allow"
    assert edges[("user/dave", "role/auditor")] == "allow"
    assert ("user/bob", "role/deployer") not in edges


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("user/alice", "user/alice"),
        ("arn:aws:iam::222222222222:user/alice", "user/alice"),
        ("222222222222:role/app", "role/app"),
        ("arn:aws:sts::222222222222:assumed-role/app/any", "role/app"),
        ("root/111111111111", "root/111111111111"),
        ("service/cloudtrail.amazonaws.com", "service/cloudtrail.amazonaws.com"),
    ],
)
def test_principal_lookup(access: Access, text: str, label: str) -> None:
    """Principals are found by label, ARN, account-qualified name, session ARN, root or service label."""
    subject: Subject = access.subject(text)
    assert subject.label == label


def test_key_lookup(world: World) -> None:
    """Keys are found by alias, id, key/id and ARN."""
    arn = "arn:aws:kms:us-east-1:111111111111:key/1111aaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
    for text in (PAYMENTS, "1111aaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", "key/1111aaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", arn):
        assert world.key(text).arn == arn


def test_can_gives_the_same_answer_with_and_without_explain(world: World) -> None:
    """Every subject, action and key: the quick answer has the explained answer's status, effect, reason and deciding ids."""
    quick_access, full_access = Access.of(world), Access.of(world)
    checked = 0
    for subject in quick_access.subjects.all():
        for key in (PAYMENTS, WORKLOAD, LOGS, RETIRED):
            for action in ("kms:Decrypt", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DescribeKey"):
                quick = quick_access.can(subject.id, action, key).direct.result
                full = full_access.can(subject.id, action, key, explain=True).direct.result
                assert quick.status == full.status, (subject.id, action, key)
                if full.status != "conditional":
                    assert quick.reason == full.reason, (subject.id, action, key)
                    assert [r.label for r in quick.deciding] == [r.label for r in full.deciding], (subject.id, action, key)
                checked += 1
    assert checked > 100
