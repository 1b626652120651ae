"""Precision on real-world files: every finding classified, every true one kept, no regression.

The corpus (``tests/lint/corpus``) is files from public repositories; ``classification.json``
is a reviewer's verdict on each finding at warning level or worse. See ``corpus_precision.py``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.lint.corpus_precision import (
    CORPUS,
    FILES,
    FLOOR_ERROR,
    FLOOR_WARNING,
    Measure,
    corpus_findings,
    load_classification,
    measure,
    stub,
    table,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "lint-precision.md"


@pytest.fixture(scope="module")
def result() -> Measure:
    return measure(corpus_findings(), load_classification())


def test_corpus_is_real_and_sourced() -> None:
    """At least 60 files from 20 repositories, each with its source, commit and a permissive licence."""
    files = sorted(p.relative_to(FILES).as_posix() for p in FILES.rglob("*") if p.is_file())
    repositories = {f.split("/")[0] for f in files}
    assert len(files) >= 60 and len(repositories) >= 20
    row = re.compile(r"^\| `([^`]+)` \| ([^|]+) \| `[^`]+` \| `([0-9a-f]{40})` \| ([^|]+) \|$", re.M)
    rows = row.findall((CORPUS / "SOURCES.md").read_text(encoding="utf-8"))
    assert sorted(r[0] for r in rows) == files
    assert {r[3].strip() for r in rows} <= {"MIT", "MIT-0", "Apache-2.0", "BSD-3-Clause"}


def test_every_finding_is_classified(result: Measure) -> None:
    """A new finding on the corpus must be judged by a person before it counts."""
    assert not result.unclassified, (
        f"{len(result.unclassified)} finding(s) on the real-world corpus are not classified. Read each one against the "
        "policy and AWS's documentation, then add it to tests/lint/corpus/classification.json with verdict "
        '"true" or "false" and a one-line why (`python -m tests.lint.corpus_precision --unclassified` prints '
        "entries to fill in):\n" + json.dumps([stub(f) for f in result.unclassified[:20]], indent=1)
    )


def test_true_findings_are_still_reported(result: Measure) -> None:
    """A fix for false alarms must not lose a finding a reviewer judged right."""
    assert not result.lost, "true findings no longer reported:\n" + json.dumps(result.lost, indent=1)


def test_precision_does_not_regress(result: Measure) -> None:
    """Precision at warning-or-worse and at error stays at or above the recorded floor (target: 90% / 95%)."""
    assert result.precision("warning") >= FLOOR_WARNING, table(result)
    assert result.precision("error") >= FLOOR_ERROR, table(result)


def test_documented_figures_are_the_measured_ones(result: Measure) -> None:
    """docs/lint-precision.md shows the table this run measures, not an older one."""
    assert table(result) in DOC.read_text(encoding="utf-8"), "update docs/lint-precision.md with:\n" + table(result)


def test_classification_entries_are_well_formed() -> None:
    for entry in load_classification():
        assert entry["verdict"] in ("true", "false"), entry
        assert isinstance(entry["why"], str) and entry["why"].strip(), entry
        assert (FILES / str(entry["file"])).is_file(), entry
