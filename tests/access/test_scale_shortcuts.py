"""The shortcuts that make organization-scale questions fast give the answers the slow way gives.

* The role graph is found from an index of trust policies (``reach.py``), not by trying every
  caller on every role; here it is compared with exactly that brute force.
* who-can asks one caller per group of callers the key does not name and whose own policies are
  the same (``sameness.KeyGroups``); here every caller's answer is compared with a full,
  unshared evaluation of that caller alone.
"""

from __future__ import annotations

import pytest

from policyengine.access import Access, World
from policyengine.access.formula import to_text
from policyengine.access.synthetic import generate


@pytest.fixture(scope="module")
def org() -> World:
    return World.build(generate(240, 24, accounts=3, seed=11))


def _brute_force_edges(access: Access) -> dict[tuple[str, str], str]:
    edges = {}
    for role in access.world.principals.values():
        if role.trust is None:
            continue
        for source in access.subjects.all():
            if source.principal is role and source.kind == "role":
                continue
            result = access.assume(source, role)
            if result.status != "deny":
                edges[(source.id, role.arn)] = f"{result.status}: {to_text(result.residual)}"
    return edges


@pytest.mark.parametrize("which", ["generated", "fixture"])
def test_the_indexed_role_graph_is_the_brute_force_one(which: str, org: World, world: World) -> None:
    access = Access.of(org if which == "generated" else world)
    found = {
        (hop.source.id, hop.role.arn): f"{hop.result.status}: {to_text(hop.result.residual)}"
        for hops in access.reach.edges.values()
        for hop in hops
    }
    expected = _brute_force_edges(Access.of(access.world))
    assert found == expected and len(found) > 20 if which == "generated" else found == expected


def test_grouped_who_can_equals_every_caller_asked_alone(org: World) -> None:
    access = Access.of(org)
    for key in sorted(org.keys)[:8]:
        for action in ("kms:Decrypt", "kms:ScheduleKeyDeletion", "kms:CreateGrant"):
            verdicts = access.who_can(action, key)
            alone = Access.of(org)
            target = org.key(key)
            for verdict in verdicts:
                subject = verdict.direct.subject
                truth = alone.ask(subject, action, target, full=True)
                assert (verdict.direct.status, to_text(verdict.direct.result.residual)) == (
                    truth.status,
                    to_text(truth.result.residual),
                ), (subject.label, action, key)
    # and the routes through roles are the ones can finds for each caller on its own
    for key in sorted(org.keys)[:4]:
        for verdict in access.who_can("kms:Decrypt", key):
            alone_verdict = Access.of(org).can(verdict.direct.subject.id, "kms:Decrypt", key)
            assert verdict.status == alone_verdict.status
            if verdict.route is not None or alone_verdict.route is not None:
                assert verdict.route is not None and alone_verdict.route is not None
                assert verdict.route.text() == alone_verdict.route.text()
    statuses = {v.direct.status for k in sorted(org.keys)[:8] for v in access.who_can("kms:Decrypt", k)}
    assert statuses == {"allow", "deny", "conditional"}  # the generated keys exercise every answer
