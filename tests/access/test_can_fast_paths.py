"""``can``'s fast paths give the answer a plain partial evaluation of every pair gives.

``can`` answers most pairs without evaluating them: callers from accounts the key does not
let in are excluded from what the key says (``Access.excluded``), others are settled by the
pre-checks or found in the memo of equal callers, the combining rule is specialised to each
answer's constant pieces (``partial.combine``), and the roles a caller reaches are asked best
route first, only while one could still beat the best found. Here every verdict's JSON (status,
residual text and tree, reason, allow path, deciding statements, the parts of conditional
answers, the route and each hop's answer) is compared with the one built the slow way: the
direct answer and the answer of every role the caller reaches, each fully evaluated on its own
(no memo, no pre-check) with the rule interpreted over residual formulas (``rule.allowed``).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from policyengine.access import Access, World
from policyengine.access import partial as partial_module
from policyengine.access.answers import Verdict
from policyengine.access.importers.authdetails import import_authdetails
from policyengine.access.importers.merge import build_snapshot
from policyengine.access.loader import snapshot_from_data
from policyengine.access.synthetic import generate
from policyengine.evaluator.rule import allowed

ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:DescribeKey", "kms:ScheduleKeyDeletion", "kms:CreateGrant")


@pytest.fixture(scope="module")
def org() -> World:
    return World.build(generate(240, 24, accounts=3, seed=11))


def _slow(access: Access, principal: str, action: str, key: str) -> Verdict:
    subject = access.subject(principal)
    target = access.world.key(key)
    direct = access.ask(subject, action, target, full=True)
    if direct.status == "allow":
        return Verdict(direct)
    by_id = access.subjects.by_id
    answers = {arn: access.ask(by_id[arn], action, target, full=True) for arn in access.reach.paths_from(subject)}
    return Verdict(direct, access.route(subject, answers) if answers else None)


@pytest.mark.parametrize("context", [{}, {"aws:SecureTransport": True, "kms:ViaService": "s3.us-east-1.amazonaws.com"}])
def test_every_fast_verdict_is_the_slow_one(org: World, context: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    fast = Access.of(org, context)
    rng = random.Random(5)
    subjects = fast.subjects.all()  # users and roles, roots (which reach many roles), services, outside callers
    keys = sorted(org.keys)
    pairs = [(rng.choice(subjects).id, rng.choice(keys), rng.choice(ACTIONS)) for _ in range(1500)]
    pairs += [(s.id, k, "kms:Decrypt") for s in subjects if s.kind == "root" for k in keys]
    got = [fast.can(p, a, k).to_json() for p, k, a in pairs]
    monkeypatch.setattr(partial_module, "combine", lambda pieces: allowed(partial_module.FORMULAS, pieces))
    slow = Access.of(org, context)
    seen: dict[str, int] = {"conditional": 0, "allow": 0, "deny": 0, "routed": 0}
    for (principal, key, action), verdict in zip(pairs, got, strict=True):
        expected = _slow(slow, principal, action, key).to_json()
        assert verdict == expected, (principal, key, action)
        seen[verdict["status"]] += 1
        seen["routed"] += verdict["via"] is not None
    assert min(seen.values()) > 20, seen


def test_shut_out_pairs_and_direct_questions_are_the_slow_ones(org: World) -> None:
    """The door test (``doors.py``) answers pairs whose caller the key excludes and whose reached roles are all in
    accounts the key neither lets in nor names; an excluded caller reaching a role there still gets its route.
    Both kinds occur here, and with ``direct_only`` every verdict is the caller's own full evaluation."""
    fast, slow = Access.of(org), Access.of(org)
    rng = random.Random(9)
    subjects = fast.subjects.all()
    keys = sorted(org.keys)
    kinds = {"shut out": 0, "excluded, reaching a role the key may let in": 0}
    for _ in range(1500):
        principal, key, action = rng.choice(subjects).id, rng.choice(keys), rng.choice(ACTIONS)
        subject, target = fast.subject(principal), org.key(key)
        if fast.excluded(subject, target):
            shut = fast._shut_out(principal, action, key, False) is not None
            kinds["shut out" if shut else "excluded, reaching a role the key may let in"] += 1
            assert fast.can(principal, action, key).to_json() == _slow(slow, principal, action, key).to_json()
        direct = Verdict(slow.ask(slow.subject(principal), action, target, full=True)).to_json()
        assert fast.can(principal, action, key, direct_only=True).to_json() == direct, (principal, key, action)
    assert min(kinds.values()) > 20, kinds


CORPUS = Path(__file__).resolve().parents[1] / "lint" / "corpus" / "files"
#: Key policies as their authors published them (sources in tests/lint/corpus/SOURCES.md).
REAL_KEY_POLICIES = (
    "awsdocs--aws-kms-developer-guide/key-policy-overview-block4.json",
    "awsdocs--aws-kms-developer-guide/services-wm-block1.json",
    "awsdocs--aws-kms-developer-guide/conditions-kms-block31.json",
    "awslabs--landing-zone-accelerator-on-aws/kms-kms-policy-01.json",
    "awslabs--landing-zone-accelerator-on-aws/kms-central-logs-bucket-key-policy.json",
)


def test_fast_verdicts_on_real_iam_export_and_real_key_policies() -> None:
    """The fast paths on data nobody here wrote: the users, roles and policies of salesforce/cloudsplaining's
    IAM export (account 012345678901) and published key policies, once in the account they name (111122223333;
    every second one with a grant to a role of the export) and once with that account replaced by the export's.
    Every verdict, direct-only and with routes, is the slow way's, and the shut-out, asked, allowed and conditional
    kinds all occur."""
    home = "012345678901"
    export = CORPUS / "salesforce--cloudsplaining" / "example-authz-details.json"
    data = json.loads(build_snapshot(import_authdetails(export), source=str(export)).model_dump_json(exclude_none=True))

    def key(n: int, text: str, grants: list[dict[str, object]]) -> dict[str, object]:
        return {"id": f"{n:08x}-0000-4000-8000-{n:012x}", "region": "us-east-1", "policy": json.loads(text), "grants": grants}

    named, moved = [], []
    for n, name in enumerate(REAL_KEY_POLICIES):
        text = (CORPUS / name).read_text(encoding="utf-8")
        grant = {"grant_id": f"g-{n}", "grantee_principal": f"arn:aws:iam::{home}:role/MyRole", "operations": ["Decrypt"]}
        named.append(key(n + 1, text, [grant] if n % 2 else []))
        moved.append(key(n + 101, text.replace("111122223333", home).replace("111111111111", home), []))
    data["accounts"][0].setdefault("keys", []).extend(moved)
    data["accounts"].append({"id": "111122223333", "keys": named})
    world = World.build(snapshot_from_data(data, "real"), "real")
    fast, slow = Access.of(world), Access.of(world)
    seen: dict[str, int] = {"shut out": 0, "asked": 0, "allow": 0, "conditional": 0}
    for subject in fast.subjects.all():
        for arn in world.keys:
            for action in ("kms:Decrypt", "kms:Encrypt", "kms:PutKeyPolicy", "kms:CreateGrant"):
                seen["shut out" if fast._shut_out(subject.id, action, arn, False) else "asked"] += 1
                verdict = fast.can(subject.id, action, arn).to_json()
                assert verdict == _slow(slow, subject.id, action, arn).to_json(), (subject.label, arn, action)
                direct = Verdict(slow.ask(slow.subject(subject.id), action, world.key(arn), full=True)).to_json()
                assert fast.can(subject.id, action, arn, direct_only=True).to_json() == direct, (subject.label, arn, action)
                seen[verdict["status"]] = seen.get(verdict["status"], 0) + 1
    assert min(seen.values()) > 20, seen
