"""The shortcuts that make organization-scale questions fast give the answers the slow way gives.

* The role graph is found from an index of trust policies (``reach.py``), not by trying every
  caller on every role; here it is compared with exactly that brute force.
* who-can asks one caller per group of callers the key does not name and whose own policies are
  the same (``sameness.KeyGroups``); here every caller's answer is compared with a full,
  unshared evaluation of that caller alone.
* The access matrix is computed key by key, once per group of equal callers, possibly in several
  processes, and streamed (``column.py``, ``stream.py``); here it is compared cell by cell with the
  in-memory, caller-by-caller matrix, and each group's answers with each member's own.
"""

from __future__ import annotations

import json

import pytest

from policyengine.access import Access, World, access_matrix
from policyengine.access.actions import GROUPS
from policyengine.access.column import ColumnPlan, column
from policyengine.access.formula import to_text
from policyengine.access.matrix import _ActionClasses as ActionClasses
from policyengine.access.matrix import evaluate_groups
from policyengine.access.stream import stream_matrix
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


@pytest.mark.parametrize("rows", ["principals", "all"])
def test_matrix_columns_are_the_single_process_matrix(rows: str, org: World) -> None:
    """Key by key, once per group of equal callers, with routes found from the roles that have access:
    every cell (its JSON: status, actions, explanation, route) is the per-subject matrix's."""
    access = Access.of(org)
    shown = access.subjects.principals() if rows == "principals" else access.subjects.all()
    whole = access_matrix(Access.of(org), subjects=shown)
    plan = ColumnPlan(access, shown)
    totals = {"allow": 0, "conditional": 0, "deny": 0}
    listed = routed = 0
    for key in whole.keys:
        col = column(plan, key)
        for status, n in col.counts.items():
            totals[status] += n
        found = dict(col.rows)
        for i, subject in enumerate(shown):
            for group in GROUPS:
                expected = whole.cell(subject, key, group)
                if i not in found:
                    assert expected.status == "deny", (subject.label, key.label, group)
                    continue
                assert found[i][group].to_json() == expected.to_json(), (subject.label, key.label, group)
                listed += found[i][group].status != "deny"
                routed += found[i][group].route is not None
    assert totals == whole.counts()
    assert listed == totals["allow"] + totals["conditional"] and routed > 20


def test_a_group_answer_is_each_members_own(org: World) -> None:
    """The answers a column computes for one member of a group are each member's, asked alone (no memo, no group)."""
    access = Access.of(org)
    shown = access.subjects.all()
    plan = ColumnPlan(access, shown, transitive=False)
    shared = 0
    for key in sorted(org.keys.values(), key=lambda k: k.label)[:6]:
        found = dict(column(plan, key).rows)
        asked, excluded = plan.callers.on(key)
        for _, members in asked + excluded:
            shared += len(members) > 1
            for i in members:
                alone = Access.of(org)
                answers = evaluate_groups(alone, ActionClasses(), shown[i], key)
                for group in GROUPS:
                    status = max((a.status for a in answers[group]), key=["deny", "conditional", "allow"].index, default="deny")
                    got = found[i][group] if i in found else None
                    assert (got.status if got is not None else "deny") == status, (shown[i].label, key.label, group)
                    if got is not None and answers[group]:
                        residuals = {a.action: to_text(a.result.residual) for a in answers[group] if a.status == "conditional"}
                        assert {a.action: to_text(a.result.residual) for a in got.conditional} == residuals
    assert shared > 20


@pytest.mark.parametrize("processes", [1, 2])
def test_streamed_matrix_is_the_in_memory_one(processes: int, org: World) -> None:
    """The streamed JSON cells (in key, subject, group order, from one or two processes) are the matrix's JSON cells."""
    access = Access.of(org)
    shown = access.subjects.principals()
    pieces: list[str] = []
    done: list[int] = []
    summary = stream_matrix(access, shown, pieces.append, fmt="json", processes=processes, progress=done.append)
    cells = json.loads("[" + "".join(pieces) + "]")
    whole = access_matrix(Access.of(org), subjects=shown).to_json()
    keys = [k["arn"] for k in whole["keys"]]
    order = {s.label: i for i, s in enumerate(shown)}
    expected = sorted(whole["cells"], key=lambda c: (keys.index(c["key"]), order[c["principal"]], GROUPS.index(c["group"])))
    assert cells == expected and summary.counts == whole["counts"] and summary.listed == len(cells)
    assert summary.processes == processes and done[-1] == len(keys)


def test_a_small_matrix_is_computed_in_one_process_unless_told(org: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --processes a pool starts only from POOL_MIN_CELLS cells (callers x keys): below it, forking costs more
    than the matrix; above it, one worker per CPU (at most one per key) computes the same cells."""
    from policyengine.access import stream

    access = Access.of(org)
    shown = access.subjects.principals()
    keys = len(org.keys)
    assert len(shown) * keys < stream.POOL_MIN_CELLS
    small: list[str] = []
    assert stream_matrix(access, shown, small.append, fmt="json").processes == 1
    monkeypatch.setattr(stream, "POOL_MIN_CELLS", len(shown) * keys)
    large: list[str] = []
    summary = stream_matrix(access, shown, large.append, fmt="json")
    assert summary.processes == min(stream.processes_available(), keys) and "".join(large) == "".join(small)


def test_accounts_a_key_does_not_let_in_are_excluded_as_the_prechecks_say(org: World, world: World) -> None:
    """A caller the key does not name, from an account outside ``admitted_accounts``, is what ``denied`` excludes."""
    skipped = 0
    for which in (org, world):
        access = Access.of(which)
        for key in which.keys.values():
            admitted = access.prechecks.admitted_accounts(key)
            named = access.key_groups(key).named
            for subject in access.subjects.all():
                if admitted is None or subject.principal is None or subject.account in admitted:
                    continue
                if (subject.account, subject.principal.name) in named:
                    continue
                skipped += 1
                assert access.prechecks.denied(subject, key) == "key_policy_excludes_caller", (subject.label, key.label)
    assert skipped > 1000


def test_can_skips_only_roles_the_key_denies(org: World) -> None:
    """can asks only the roles the key may let in; its verdict and route are those from asking every role it reaches."""
    access = Access.of(org)
    alone = Access.of(org)
    keys = sorted(org.keys)
    routed = 0
    for n, subject in enumerate(access.subjects.all()):
        for key in keys[n % 5 :: 5]:
            verdict = access.can(subject.id, "kms:Decrypt", key)
            target = org.key(key)
            every = {
                arn: alone.ask(alone.subjects.by_id[arn], "kms:Decrypt", target, full=True)
                for arn in alone.reach.paths_from(subject)
            }
            route = alone.route(subject, every)
            direct = alone.ask(subject, "kms:Decrypt", target, full=True)
            assert verdict.direct.status == direct.status, (subject.label, key)
            if direct.status != "allow":
                assert (verdict.route.text() if verdict.route else None) == (route.text() if route else None), (
                    subject.label,
                    key,
                )
                routed += route is not None
    assert routed > 20
