"""The JSON report: a versioned, stable document for scripts.

Findings are sorted (file, line, column, rule, message) and every finding has the same keys in the
same order, with ``null`` for what is unknown, so two runs on the same input give byte-identical
output::

    {"version": 1,
     "findings": [{"rule": "PE020", "name": "...", "family": "...", "severity": "warning", "message": "...",
                   "file": "key.json", "line": 3, "column": 5, "end_line": 3, "end_column": 12,
                   "pointer": "/Statement/0/Action", "owner": null, "statement": "Admins", "suggestion": null}],
     "summary": {"findings": 1, "files": 1, "by_severity": {"error": 0, "security": 0, "warning": 1, "suggestion": 0},
                 "by_rule": {"PE020": 1}}}

Bump ``JSON_REPORT_VERSION`` when a key changes meaning or goes away (adding keys does not).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from policyengine.lint.finding import Finding
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


def report_data(findings: Iterable[Finding], rules: Mapping[str, Rule]) -> dict[str, Any]:
    """The report as a JSON-ready dict (what ``render_json`` serializes)."""
    chosen = ordered(findings)
    summary = summarize(chosen)
    by_rule = Counter(f.rule_id for f in chosen)
    return {
        "version": JSON_REPORT_VERSION,
        "findings": [finding_to_json(f, rules.get(f.rule_id)) for f in chosen],
        "summary": {
            "findings": summary.total,
            "files": summary.files,
            "by_severity": dict(summary.by_severity),
            "by_rule": {rule_id: by_rule[rule_id] for rule_id in sorted(by_rule)},
        },
    }


def render_json(findings: Iterable[Finding], rules: Mapping[str, Rule]) -> str:
    """The report as indented JSON text (no trailing newline)."""
    return json.dumps(report_data(findings, rules), indent=2, ensure_ascii=False)
