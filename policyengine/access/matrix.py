"""The access matrix: subjects × keys × action groups, each cell allow, conditional or deny.

A cell is the best answer over the group's actions (a key's usage decides which actions count,
``actions.py``), directly or through a role the subject can assume. Most (subject, key) pairs
of a real organization are denied for a reason visible before any action is tried: the key
policy admits neither the caller nor its account and no grant names it, or it admits only the
account and no identity policy of the caller mentions a KMS action on this key. Those pairs
are settled once (with that reason as their explanation) instead of once per action; the
rest go action by action through the partial evaluator. The pre-checks only ever skip pairs
the full evaluation would deny, which a test checks on the fixture organization.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from policyengine.access.actions import GROUPS, Group, actions_for
from policyengine.access.answers import RANK, Answer, Route, best, partial_json
from policyengine.access.formula import FALSE, to_text
from policyengine.access.formula import to_json as formula_json
from policyengine.access.partial import Partial, Prepared, Status
from policyengine.access.queries import Access
from policyengine.access.reach import Path
from policyengine.access.subjects import Subject
from policyengine.access.world import KeyInfo
from policyengine.aws_facts import CONTEXT_OPERATIONS, CROSS_ACCOUNT_OPERATIONS
from policyengine.evaluator.compiled import CompiledPolicy


@dataclass(frozen=True)
class Cell:
    """One subject's access to one key for one action group."""

    status: Status
    allowed: tuple[str, ...]
    conditional: tuple[Answer, ...]
    example: Answer
    route: Route | None = None

    @property
    def how(self) -> str:
        return "via_role" if self.route is not None else "direct"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "status": self.status,
            "how": self.how,
            "allowed": list(self.allowed),
            "conditional": [
                {
                    "action": a.action,
                    "residual": to_text(a.result.residual),
                    "residual_tree": formula_json(a.result.residual),
                    "parts": partial_json(a.result).get("parts", []),
                }
                for a in self.conditional
            ],
            "explanation": partial_json(self.example.result),
            "notes": list(self.example.notes),
        }
        if self.route is not None:
            data["via"] = self.route.to_json()
        return data


@dataclass
class Matrix:
    """The computed matrix, with counts for a summary line."""

    subjects: list[Subject]
    keys: list[KeyInfo]
    groups: tuple[Group, ...]
    cells: dict[tuple[str, str, Group], Cell] = field(default_factory=dict)
    evaluations: int = 0
    prechecked: int = 0

    def cell(self, subject: Subject, key: KeyInfo, group: Group) -> Cell:
        return self.cells[(subject.id, key.arn, group)]

    def counts(self) -> dict[str, int]:
        out = {"allow": 0, "conditional": 0, "deny": 0}
        for cell in self.cells.values():
            out[cell.status] += 1
        return out

    def to_json(self) -> dict[str, Any]:
        """JSON with every cell that is not a plain deny; cells not listed are denied."""
        listed = []
        for s in self.subjects:
            for k in self.keys:
                for g in self.groups:
                    cell = self.cells[(s.id, k.arn, g)]
                    if cell.status != "deny":
                        listed.append({"principal": s.label, "principal_arn": s.arn, "key": k.arn, "group": g, **cell.to_json()})
        return {
            "principals": [
                {"label": s.label, "arn": s.arn, "kind": s.kind, "account": s.account, "caller": s.caller} for s in self.subjects
            ],
            "keys": [{"arn": k.arn, "label": k.label, "account": k.account, "aliases": list(k.aliases)} for k in self.keys],
            "groups": list(self.groups),
            "counts": self.counts(),
            "cells": listed,
            "cells_not_listed": "deny",
        }


_OWN_CONTEXT = frozenset({"kms:putkeypolicy", "kms:createkey"})


class _ActionClasses:
    """Actions that no policy of a (subject, key) pair tells apart, so one evaluation answers them all.

    Two actions get the same answer when every statement of every policy that applies matches
    both or neither, and the KMS rules treat them alike (cross-account use, grant operations,
    encryption-context operations, the special cases of RetireGrant and PutKeyPolicy). The
    statement masks are per policy and per action, computed once; a pair's classes are then a
    few tuple lookups, shared by every pair with the same policies.
    """

    _SPECIAL = frozenset({"kms:retiregrant", *_OWN_CONTEXT})

    def __init__(self) -> None:
        self._masks: dict[tuple[int, tuple[str, ...]], tuple[object, tuple[int, ...]]] = {}
        self._classes: dict[tuple[object, ...], tuple[list[tuple[CompiledPolicy, int]], list[list[int]]]] = {}

    def _mask(self, policy: CompiledPolicy, actions: tuple[str, ...]) -> tuple[int, ...]:
        found = self._masks.get((id(policy), actions))
        if found is not None and found[0] is policy:
            return found[1]
        masks = []
        for action in actions:
            lowered = action.lower()
            bits = 0
            for i, cs in enumerate(policy.statements):
                if cs.action_test(lowered):
                    bits |= 1 << i
            masks.append(bits)
        result = tuple(masks)
        self._masks[(id(policy), actions)] = (policy, result)
        return result

    def classes(self, prepared: Prepared, actions: tuple[str, ...]) -> list[list[int]]:
        """Indexes into ``actions``, grouped by the answer they must share for this pair."""
        relevant = [(p, bits) for p, bits in prepared.relevant if bits]
        grants = tuple(prepared.grants)
        cache_key = (tuple((id(p), bits) for p, bits in relevant), tuple(id(g) for g in grants), prepared.cross, actions)
        found = self._classes.get(cache_key)
        if found is not None and found[0] == relevant:
            return found[1]
        masks = [tuple(m & bits for m in self._mask(p, actions)) for p, bits in relevant]
        cross = prepared.cross
        constrained = any(g.constraints is not None for g in grants)
        retire = bool(prepared.rcp_levels) or bool(grants) or prepared.facts.closed
        groups: dict[tuple[object, ...], list[int]] = {}
        for i, signature in enumerate(zip(*masks, strict=True) if masks else ((),) * len(actions)):
            action = actions[i]
            op = action.partition(":")[2]
            lowered = action.lower()
            extra = (
                tuple(op in g.operations for g in grants),
                constrained and op in CONTEXT_OPERATIONS,
                lowered if retire and lowered in self._SPECIAL else "",
                cross and lowered.partition(":")[2] in CROSS_ACCOUNT_OPERATIONS,
            )
            groups.setdefault((signature, extra), []).append(i)
        result = list(groups.values())
        self._classes[cache_key] = (relevant, result)
        return result


def group_answers(access: Access, classes: _ActionClasses, subject: Subject, key: KeyInfo) -> dict[Group, list[Answer]]:
    """Every group's answers for a pair, shared by callers that must get the same answers (``Access.same``)."""
    per_group = actions_for(key.usage, key.spec, key.origin, key.multi_region)
    same = access.same(subject, key)
    memo = access._group_memo.get(same) if same is not None else None
    if memo is not None:
        by_action = {
            action: Answer(subject, action, key, result, access.notes(result, action, key)) for action, result in memo.items()
        }
        return {g: [by_action[a] for a in per_group[g]] for g in GROUPS}
    answers = evaluate_groups(access, classes, subject, key)
    if same is not None:
        access._group_memo.put(same, {a.action: a.result for g in GROUPS for a in answers[g]})
    return answers


def evaluate_groups(access: Access, classes: _ActionClasses, subject: Subject, key: KeyInfo) -> dict[Group, list[Answer]]:
    """Every group's answers for a pair, one evaluation per class of indistinguishable actions (no memo)."""
    per_group = actions_for(key.usage, key.spec, key.origin, key.multi_region)
    everything = tuple(a for g in GROUPS for a in per_group[g])
    by_action: dict[str, Answer] = {}
    prepared = access.prepare(subject, key)
    for members in classes.classes(prepared, everything):
        first = everything[members[0]]
        if access.closed and first.lower() in _OWN_CONTEXT:
            # A closed question decides every key: PutKeyPolicy's own request sets one more.
            for i in members:
                action = everything[i]
                result = access.evaluate(subject, action, key)
                by_action[action] = Answer(subject, action, key, result, access.notes(result, action, key))
            continue
        result = prepared.decide(first)
        for i in members:
            action = everything[i]
            by_action[action] = Answer(subject, action, key, result, access.notes(result, action, key))
    return {g: [by_action[a] for a in per_group[g]] for g in GROUPS}


def _cell(answers: list[Answer]) -> Cell:
    allowed = tuple(a.action for a in answers if a.status == "allow")
    conditional = tuple(a for a in answers if a.status == "conditional")
    status: Status = "allow" if allowed else ("conditional" if conditional else "deny")
    example = next((a for a in answers if a.status == status), answers[0])
    return Cell(status, allowed, conditional, example)


def access_matrix(
    access: Access,
    *,
    subjects: Iterable[Subject] | None = None,
    keys: Iterable[KeyInfo] | None = None,
    groups: tuple[Group, ...] = GROUPS,
    transitive: bool = True,
    progress: Callable[[int], None] | None = None,
) -> Matrix:
    """Compute the matrix; ``progress`` is called with the number of subjects done."""
    chosen = list(subjects) if subjects is not None else access.subjects.all()
    key_list = list(keys) if keys is not None else sorted(access.world.keys.values(), key=lambda k: k.label)
    matrix = Matrix(chosen, key_list, groups)
    checks = access.prechecks
    classes = _ActionClasses()
    # Roles reachable from the shown subjects are evaluated too (as the ends of routes).
    everyone = list(chosen)
    shown = {s.id for s in chosen}
    if transitive:
        reachable: set[str] = set()
        for subject in chosen:
            reachable.update(access.reach.paths_from(subject))
        everyone += [access.subjects.by_id[arn] for arn in sorted(reachable) if arn not in shown]
    for done, subject in enumerate(everyone, 1):
        for key in key_list:
            reason = checks.denied(subject, key)
            if reason is not None:
                matrix.prechecked += 1
                cells = _denied_cells(access, subject, key, groups, reason)
            else:
                answers = group_answers(access, classes, subject, key)
                cells = {}
                for group in groups:
                    if not answers[group]:
                        cells[group] = _empty_cell(access, subject, key, group)
                        continue
                    matrix.evaluations += len(answers[group])
                    cells[group] = _cell(answers[group])
            for group, cell in cells.items():
                matrix.cells[(subject.id, key.arn, group)] = cell
        if progress is not None and subject.id in shown:
            progress(done)
    if transitive:
        _add_routes(access, matrix)
    for s in everyone:
        if s.id not in shown:
            for k in key_list:
                for g in groups:
                    matrix.cells.pop((s.id, k.arn, g), None)
    return matrix


def _denied_cells(access: Access, subject: Subject, key: KeyInfo, groups: tuple[Group, ...], reason: str) -> dict[Group, Cell]:
    result = Partial("deny", FALSE, reason, ())
    per_group = actions_for(key.usage, key.spec, key.origin, key.multi_region)
    cells: dict[Group, Cell] = {}
    for group in groups:
        action = per_group[group][0] if per_group[group] else "kms:DescribeKey"
        answer = Answer(subject, action, key, result, access.notes(result, action, key))
        cells[group] = Cell("deny", (), (), answer)
    return cells


def _empty_cell(access: Access, subject: Subject, key: KeyInfo, group: Group) -> Cell:
    result = Partial("deny", FALSE, "no_action_for_key", ())
    return Cell("deny", (), (), Answer(subject, "(none)", key, result, ("no action of this group applies to this key",)))


def _add_routes(access: Access, matrix: Matrix) -> None:
    """Upgrade each cell that a route through roles makes better.

    Routes end in a role's direct cell: ``paths_from`` already holds every role reached through
    others, so a role's own upgrade is never chained onto a shorter path (it would name the
    wrong role as the route's end).
    """
    reach = access.reach
    upgrades: dict[tuple[str, str, Group], Cell] = {}
    for subject in matrix.subjects:
        paths = reach.paths_from(subject)
        if not paths:
            continue
        for key in matrix.keys:
            options = [
                (path, access.subjects.by_id[arn], there)
                for arn, path in paths.items()
                if (there := _direct_cells(matrix, arn, key)) is not None
            ]
            for group in matrix.groups:
                here = matrix.cells[(subject.id, key.arn, group)]
                upgraded = upgrade(here, group, options)
                if upgraded is not here:
                    upgrades[(subject.id, key.arn, group)] = upgraded
    matrix.cells.update(upgrades)


def _direct_cells(matrix: Matrix, role_arn: str, key: KeyInfo) -> dict[Group, Cell] | None:
    cells = {g: matrix.cells.get((role_arn, key.arn, g)) for g in matrix.groups}
    live = {g: c for g, c in cells.items() if c is not None}
    return live if any(c.status != "deny" for c in live.values()) else None


def upgrade(here: Cell, group: Group, options: Iterable[tuple[Path, Subject, Mapping[Group, Cell]]]) -> Cell:
    """``here`` or the better cell a route gives: ``options`` are the paths to roles (in the order the
    paths were found: the first of equal routes wins) with the roles' direct cells on the key."""
    if here.status == "allow":
        return here
    upgraded = here
    for path, role, cells in options:
        there = cells.get(group)
        if there is None or there.status == "deny":
            continue
        example = there.example
        final = example if example.subject is role else Answer(role, example.action, example.key, example.result, example.notes)
        route = Route(path.hops, final)
        status = route.status
        if RANK[status] > RANK[upgraded.status] or (
            upgraded.route is not None and RANK[status] == RANK[upgraded.status] and len(route.hops) < len(upgraded.route.hops)
        ):
            upgraded = Cell(best(status, "deny"), there.allowed, there.conditional, example, route)
    return upgraded
