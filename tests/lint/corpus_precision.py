"""The linter's precision on the real-world corpus: findings, their classification, the table.

``tests/lint/corpus/files`` holds real files from public repositories (sources in
``SOURCES.md``); ``classification.json`` says for each finding at warning level or worse
whether it is right (``true``) or a false alarm (``false``), and why. A finding is keyed by
file (relative to ``files/``), rule, line and its *subject*: the first back-quoted text of its
message (the action, key or principal it is about), so that two findings on one line of a
Terraform policy string stay apart while column changes do not break the key.

Run ``python -m tests.lint.corpus_precision`` for the table, ``--unclassified`` for entries
to fill in for findings nobody has classified yet.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from policyengine.lint.config import LintConfig
from policyengine.lint.finding import SEVERITY_ORDER, Finding
from policyengine.lint.run import run_lint

CORPUS = Path(__file__).resolve().parent / "corpus"
FILES = CORPUS / "files"
CLASSIFICATION = CORPUS / "classification.json"
TARGET_WARNING = 0.90
TARGET_ERROR = 0.95
#: The precision the test holds the linter to: the target, now that it is reached (never lower it).
FLOOR_WARNING = TARGET_WARNING
FLOOR_ERROR = TARGET_ERROR

Key = tuple[str, str, int, str]
_SUBJECT = re.compile(r"`([^`]*)`")


def subject(message: str) -> str:
    """The first back-quoted text of a message (what the finding is about), or ``""``."""
    match = _SUBJECT.search(message)
    return match.group(1) if match else ""


def key_of(finding: Finding) -> Key:
    return (Path(finding.source).resolve().relative_to(FILES).as_posix(), finding.rule_id, finding.line, subject(finding.message))


def corpus_findings() -> list[Finding]:
    """Every finding at warning level or worse on the corpus, with the default configuration."""
    run = run_lint([str(FILES)], LintConfig())
    return [f for f in run.findings if SEVERITY_ORDER[f.severity] >= SEVERITY_ORDER["warning"]]


def load_classification() -> list[dict[str, object]]:
    entries: list[dict[str, object]] = json.loads(CLASSIFICATION.read_text(encoding="utf-8"))
    return entries


def entry_key(entry: dict[str, object]) -> Key:
    return (str(entry["file"]), str(entry["rule"]), int(str(entry["line"])), str(entry.get("subject", "")))


@dataclass
class Measure:
    """Findings matched against the classification, and the precision they give."""

    true: list[Finding] = field(default_factory=list)
    false: list[Finding] = field(default_factory=list)
    unclassified: list[Finding] = field(default_factory=list)
    lost: list[dict[str, object]] = field(default_factory=list)  # classified true, no longer reported
    fixed: list[dict[str, object]] = field(default_factory=list)  # classified false, no longer reported

    def counts(self, at_least: str) -> tuple[int, int]:
        floor = SEVERITY_ORDER[at_least]  # type: ignore[index]
        right = sum(1 for f in self.true if SEVERITY_ORDER[f.severity] >= floor)
        wrong = sum(1 for f in self.false if SEVERITY_ORDER[f.severity] >= floor)
        return right, wrong

    def precision(self, at_least: str) -> float:
        right, wrong = self.counts(at_least)
        return right / (right + wrong) if right + wrong else 1.0


def measure(findings: list[Finding], entries: list[dict[str, object]]) -> Measure:
    """Match each finding to one classification entry with its key (entries are used once each)."""
    by_key: dict[Key, list[dict[str, object]]] = {}
    for entry in entries:
        by_key.setdefault(entry_key(entry), []).append(entry)
    result = Measure()
    for finding in findings:
        waiting = by_key.get(key_of(finding))
        if not waiting:
            result.unclassified.append(finding)
            continue
        entry = waiting.pop(0)
        (result.true if entry["verdict"] == "true" else result.false).append(finding)
    for remaining in by_key.values():
        for entry in remaining:
            (result.lost if entry["verdict"] == "true" else result.fixed).append(entry)
    return result


def stub(finding: Finding) -> dict[str, object]:
    file, rule, line, about = key_of(finding)
    return {"file": file, "rule": rule, "line": line, "subject": about, "verdict": "?", "why": finding.message}


def table(result: Measure) -> str:
    """The precision table as Markdown (what docs/lint-precision.md shows)."""
    lines = ["| level | right | false alarms | precision | target |", "|---|---|---|---|---|"]
    for label, level, target in (("warning or worse", "warning", TARGET_WARNING), ("error or worse", "error", TARGET_ERROR)):
        right, wrong = result.counts(level)
        lines.append(f"| {label} | {right} | {wrong} | {result.precision(level):.1%} | {target:.0%} |")
    return "\n".join(lines)


def by_rule(result: Measure) -> str:
    """False alarms left, by rule (what to work on next)."""
    counts = Counter((f.rule_id, f.severity) for f in result.false)
    if not counts:
        return "no false alarms left"
    return "\n".join(f"{rule} ({severity}): {n}" for (rule, severity), n in counts.most_common())


def main(argv: list[str]) -> int:
    result = measure(corpus_findings(), load_classification())
    if "--unclassified" in argv:
        print(json.dumps([stub(f) for f in result.unclassified], indent=2))
        return 0
    files = sum(1 for p in FILES.rglob("*") if p.is_file())
    repositories = sum(1 for p in FILES.iterdir() if p.is_dir())
    print(f"corpus: {files} files from {repositories} repositories\n")
    print(table(result))
    print(f"\nunclassified findings: {len(result.unclassified)}; true findings no longer reported: {len(result.lost)}")
    print(f"false alarms fixed since classification: {len(result.fixed)}\n")
    print(by_rule(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
