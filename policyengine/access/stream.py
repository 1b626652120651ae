"""The access matrix written as it is computed: keys shared out between processes, cells streamed in order.

The matrix of a large organization does not fit in memory with its explanations (160 million
cells at 20,000 principals × 2,000 keys), and one process would take hours. So it is computed
column by column (``column.py``: one key, every subject, once per group of equal callers), the
keys split between worker processes, and each column's listed cells written as soon as it and
every column before it are done: keys in label order, subjects in the order given, groups in
their order, whatever the number of processes. Workers are forked after the compiled world,
the role graph and the caller groups are built, so they share them instead of rebuilding them;
where fork is not available the columns are computed in this process.

Text and JSON are the ``access-matrix`` formats: a line per (subject, key) with any access, and
the JSON cells that are not plain denies (each cell's body is serialised once for its group of
callers and reused for the others).
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from policyengine.access.actions import GROUPS, Group
from policyengine.access.column import Column, ColumnPlan, column
from policyengine.access.heap import FrozenHeap
from policyengine.access.queries import Access
from policyengine.access.subjects import Subject
from policyengine.access.world import KeyInfo

Format = Literal["text", "json"]
#: The words the text format gives a cell (``access-matrix`` without a terminal).
WORDS = {"allow": "allow", "conditional": "only if", "deny": "deny"}


@dataclass
class Summary:
    """What was written: counts of cells by status, and how much was evaluated."""

    subjects: int
    keys: int
    groups: tuple[Group, ...]
    counts: dict[str, int] = field(default_factory=lambda: {"allow": 0, "conditional": 0, "deny": 0})
    listed: int = 0
    evaluated: int = 0
    prechecked: int = 0
    processes: int = 1


def render(col: Column, subjects: Sequence[Subject], fmt: Format) -> list[str]:
    """The column's output pieces: text lines, or JSON cell objects (without separators)."""
    key = col.key
    if fmt == "text":
        label = key.aliases[0] if key.aliases else key.label
        return [
            f"{subjects[i].label}  {label}  " + " ".join(f"{g}={WORDS[c.status]}" for g, c in cells.items() if c.status != "deny")
            for i, cells in col.rows
        ]
    bodies: dict[int, str] = {}
    key_json = json.dumps(key.arn)
    out = []
    for i, cells in col.rows:
        subject = subjects[i]
        head = f'{{"principal": {json.dumps(subject.label)}, "principal_arn": {json.dumps(subject.arn)}, "key": {key_json}, '
        for group, cell in cells.items():
            if cell.status == "deny":
                continue
            body = bodies.get(id(cell)) if cell.route is None else None
            if body is None:
                body = json.dumps(cell.to_json())[1:]
                if cell.route is None:
                    bodies[id(cell)] = body
            out.append(f'{head}"group": "{group}", {body}')
    return out


_PLAN: ColumnPlan | None = None
_KEYS: list[KeyInfo] = []
_FORMAT: Format = "text"


def _work(span: tuple[int, int]) -> tuple[list[str], dict[str, int], int, int, int]:
    """Columns ``span`` of the keys (run in a worker, on the plan it inherited)."""
    plan = _PLAN
    assert plan is not None
    pieces: list[str] = []
    counts = {"allow": 0, "conditional": 0, "deny": 0}
    evaluated = prechecked = 0
    for key in _KEYS[span[0] : span[1]]:
        col = column(plan, key)
        pieces.extend(render(col, plan.everyone, _FORMAT))
        for status, n in col.counts.items():
            counts[status] += n
        evaluated += col.evaluated
        prechecked += col.prechecked
    return pieces, counts, evaluated, prechecked, span[1] - span[0]


#: The fewest cells (callers x keys) for which the matrix starts worker processes unless told how many: below
#: it one process finishes (about 3 us a cell) before a pool of forked workers would have started and
#: handed back its first column.
POOL_MIN_CELLS = 50_000


def processes_available() -> int:
    """How many processes the matrix can use here: the CPUs this process may run on, 1 without fork."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def stream_matrix(
    access: Access,
    subjects: Sequence[Subject],
    write: Callable[[str], object],
    *,
    fmt: Format = "text",
    keys: Sequence[KeyInfo] | None = None,
    groups: tuple[Group, ...] = GROUPS,
    transitive: bool = True,
    processes: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Compute the matrix and ``write`` it piece by piece: text lines (each ending in a newline), or the
    JSON cells separated by commas (the caller writes the document around them). ``progress`` is
    called with the number of keys done."""
    global _PLAN, _KEYS, _FORMAT
    key_list = list(keys) if keys is not None else sorted(access.world.keys.values(), key=lambda k: k.label)
    plan = ColumnPlan(access, subjects, groups=groups, transitive=transitive)
    if processes is None:
        wanted = processes_available() if len(subjects) * len(key_list) >= POOL_MIN_CELLS else 1
    else:
        wanted = max(1, processes)
    count = min(wanted, len(key_list)) if wanted > 1 and "fork" in multiprocessing.get_all_start_methods() else 1
    summary = Summary(len(subjects), len(key_list), groups, processes=count)
    step = max(1, min(8, len(key_list) // (count * 16) if count > 1 else 8))
    spans = [(start, min(start + step, len(key_list))) for start in range(0, len(key_list), step)]
    _PLAN, _KEYS, _FORMAT = plan, key_list, fmt
    try:
        # The world, graph and plan are left out of the garbage collector's passes: a full pass over them costs
        # more than a column, and in forked workers it would also copy every page they share with this process.
        with FrozenHeap():
            if count == 1:
                _consume(map(_work, spans), summary, write, fmt, progress)
            else:
                with multiprocessing.get_context("fork").Pool(count) as pool:
                    _consume(pool.imap(_work, spans), summary, write, fmt, progress)
    finally:
        _PLAN, _KEYS = None, []
    return summary


def _consume(
    results: Iterable[tuple[list[str], dict[str, int], int, int, int]],
    summary: Summary,
    write: Callable[[str], object],
    fmt: Format,
    progress: Callable[[int], None] | None,
) -> None:
    keys_done = 0
    for pieces, counts, evaluated, prechecked, n in results:
        if pieces:
            if fmt == "text":
                write("\n".join(pieces) + "\n")
            else:
                write((",\n" if summary.listed else "") + ",\n".join(pieces))
        summary.listed += len(pieces)
        for status, k in counts.items():
            summary.counts[status] += k
        summary.evaluated += evaluated
        summary.prechecked += prechecked
        keys_done += n
        if progress is not None:
            progress(keys_done)
