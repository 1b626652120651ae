"""One key's column of the access matrix: every subject's cells on that key, once per group of equal callers.

The whole matrix of a large organization (20,000 principals × 2,000 keys × 4 groups is 160
million cells) is computed key by key, so keys can be shared out between processes and cells
written as soon as a key is done, without holding the matrix. Within a key, callers that must
get the same answers (``bykey.CallerGroups``) are asked once: the pre-check or the evaluation
of one member stands for the group. Routes through roles start from the roles that have any
access to the key and go back to the callers that reach them (``bykey.Reachers``). The cells
are those ``matrix.access_matrix`` gives (a test compares them cell by cell).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from policyengine.access.actions import GROUPS, Group
from policyengine.access.bykey import CallerGroups, Reachers
from policyengine.access.matrix import Cell, _ActionClasses, _cell, _denied_cells, _empty_cell, evaluate_groups, upgrade
from policyengine.access.queries import Access
from policyengine.access.reach import Path
from policyengine.access.subjects import Subject
from policyengine.access.world import KeyInfo


@dataclass
class Column:
    """The cells of one key that are not all denied, by shown subject index, with counts."""

    key: KeyInfo
    rows: list[tuple[int, dict[Group, Cell]]]
    counts: dict[str, int] = field(default_factory=lambda: {"allow": 0, "conditional": 0, "deny": 0})
    #: groups of callers evaluated action by action, and settled by the pre-checks
    evaluated: int = 0
    prechecked: int = 0


class ColumnPlan:
    """What every column shares: the subjects (the shown ones first, then roles they reach), their
    groups, and the callers that reach each role."""

    def __init__(self, access: Access, shown: Sequence[Subject], *, groups: tuple[Group, ...] = GROUPS, transitive: bool = True):
        self.access = access
        self.groups = groups
        self.shown = len(shown)
        everyone = list(shown)
        self.reachers: Reachers | None = None
        if transitive:
            ids = {s.id for s in shown}
            reachable: set[str] = set()
            for subject in shown:
                reachable.update(access.reach.paths_from(subject))
            everyone += [access.subjects.by_id[arn] for arn in sorted(reachable) if arn not in ids]
            self.reachers = Reachers(access, shown)
        self.everyone = everyone
        self.callers = CallerGroups(access, everyone)
        self.classes = _ActionClasses()


def column(plan: ColumnPlan, key: KeyInfo) -> Column:
    """The column of ``key``."""
    access, groups, everyone, shown = plan.access, plan.groups, plan.everyone, plan.shown
    checks = access.prechecks
    result = Column(key, [])
    profile_of = plan.callers.profile_of
    by_profile: list[dict[Group, Cell]] = [{}] * len(plan.callers.profiles)
    alone: dict[int, dict[Group, Cell]] = {}
    denied: dict[str, dict[Group, Cell]] = {}
    live: list[list[int]] = []
    counts = result.counts
    asked, excluded = plan.callers.on(key)
    if excluded:
        cells = denied["key_policy_excludes_caller"] = _denied_cells(
            access, everyone[0], key, groups, "key_policy_excludes_caller"
        )
        for profile, members in excluded:
            by_profile[profile] = cells
            counts["deny"] += bisect_left(members, shown) * len(groups)
        result.prechecked += len(excluded)
    for profile, members in asked:
        first = everyone[members[0]]
        reason = checks.denied(first, key)
        if reason is not None:
            cells = denied.get(reason) or denied.setdefault(reason, _denied_cells(access, first, key, groups, reason))
            result.prechecked += 1
        else:
            answers = evaluate_groups(access, plan.classes, first, key)
            cells = {g: _cell(answers[g]) if answers[g] else _empty_cell(access, first, key, g) for g in groups}
            result.evaluated += 1
        if profile >= 0:
            by_profile[profile] = cells
        else:
            alone[members[0]] = cells
        seen = bisect_left(members, shown)  # members are in subject order, the shown subjects first
        for cell in cells.values():
            counts[cell.status] += seen
        if any(c.status != "deny" for c in cells.values()):
            live.append(members)

    def cells_of(i: int) -> dict[Group, Cell]:
        found = alone.get(i)
        return found if found is not None else by_profile[profile_of[i]]

    rows: dict[int, dict[Group, Cell]] = {i: cells_of(i) for members in live for i in members if i < shown}
    if plan.reachers is not None:
        for i, cells in _routes(plan.reachers, everyone, cells_of, live, groups).items():
            for before, after in zip(cells_of(i).values(), cells.values(), strict=True):
                counts[before.status] -= 1
                counts[after.status] += 1
            rows[i] = cells
    result.rows = sorted(rows.items())
    return result


def _routes(
    reachers: Reachers,
    everyone: list[Subject],
    cells_of: Callable[[int], dict[Group, Cell]],
    live: list[list[int]],
    groups: tuple[Group, ...],
) -> dict[int, dict[Group, Cell]]:
    """The cells that routes through roles upgrade, by subject index."""
    options: dict[int, list[tuple[int, Path, Subject, dict[Group, Cell]]]] = {}
    for members in live:
        for r in members:
            role = everyone[r]
            if role.kind != "role" or role.principal is None:
                continue
            for i, position, path in reachers.by_role.get(role.principal.arn, ()):
                options.setdefault(i, []).append((position, path, role, cells_of(r)))
    upgraded: dict[int, dict[Group, Cell]] = {}
    for i, found in options.items():
        found.sort(key=lambda o: o[0])
        ordered = [(path, role, cells) for _, path, role, cells in found]
        here = cells_of(i)
        cells = {g: upgrade(here[g], g, ordered) for g in groups}
        if any(cells[g] is not here[g] for g in groups):
            upgraded[i] = cells
    return upgraded
