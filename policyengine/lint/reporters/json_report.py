"""The JSON report: a versioned, stable document for scripts.

Findings are sorted (file, line, column, rule, message) and every finding has the same keys in the
same order, with ``null`` for what is unknown, so two runs on the same input give byte-identical
output::

    {"version": 1,
     "findings": [{"rule": "PE020", "name": "...", "family": "...", "severity": "warning", "message": "...",
                   "file": "key.json", "line": 3, "column": 5, "end_line": 3, "end_column": 12,
                   "pointer": "/Statement/0/Action", "owner": null, "statement": "Admins", "suggestion": null}],
     "summary": {"findings": 1, "files": 1, "by_severity": {"error": 0, "security": 0, "warning": 1, "suggestion": 0},
                 "by_rule": {"PE020": 1}},
     "input_errors": [{"file": "broken.yaml", "message": "..."}]}

``input_errors`` lists the files that could not be read (the CLI then exits 1).

Bump ``JSON_REPORT_VERSION`` when a key changes meaning or goes away (adding keys does not).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from policyengine.lint.finding import Finding, NotRead
from policyengine.lint.registry import Rule
from policyengine.lint.reporters._common import ordered, summarize

JSON_REPORT_VERSION = 1


def finding_to_json(finding: Finding, rule: Rule | None = None) -> dict[str, Any]:
    """One finding as the JSON object of the report (``rule`` adds its name and family)."""
    span = finding.span
    return {
        "rule": finding.rule_id,
        "name": rule.name if rule else None,
        "family": rule.family if rule else None,
        "severity": finding.severity,
        "message": finding.message,
        "file": finding.source,
        "line": span.line if span else None,
        "column": span.column if span else None,
        "end_line": span.end_line if span else None,
        "end_column": span.end_column if span else None,
        "pointer": finding.pointer or None,
        "owner": finding.owner,
        "statement": finding.statement,
        "suggestion": finding.suggestion,
    }


def report_data(
    findings: Iterable[Finding],
    rules: Mapping[str, Rule],
    *,
    not_read: Sequence[NotRead] = (),
    input_errors: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """The report as a JSON-ready dict (what ``render_json`` serializes).

    ``not_read`` (policies found but not linted) and ``input_errors`` (files that could not be
    read) are listed too, so a script never takes an unread file for a clean one.
    """
    chosen = ordered(findings)
    summary = summarize(chosen)
    by_rule = Counter(f.rule_id for f in chosen)
    return {
        "version": JSON_REPORT_VERSION,
        "findings": [finding_to_json(f, rules.get(f.rule_id)) for f in chosen],
        "not_read": [
            {"file": n.source, "line": n.span.line if n.span else None, "where": n.where, "reason": n.reason}
            for n in sorted(not_read, key=lambda n: (n.source, n.line, n.where))
        ],
        "input_errors": [{"file": path, "message": message} for path, message in input_errors],
        "summary": {
            "findings": summary.total,
            "files": summary.files,
            "by_severity": dict(summary.by_severity),
            "by_rule": {rule_id: by_rule[rule_id] for rule_id in sorted(by_rule)},
        },
    }


def render_json(
    findings: Iterable[Finding],
    rules: Mapping[str, Rule],
    *,
    not_read: Sequence[NotRead] = (),
    input_errors: Sequence[tuple[str, str]] = (),
) -> str:
    """The report as indented JSON text (no trailing newline)."""
    data = report_data(findings, rules, not_read=not_read, input_errors=input_errors)
    return json.dumps(data, indent=2, ensure_ascii=False)
