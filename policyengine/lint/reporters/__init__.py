"""The linter's reports: text for people, JSON for scripts, SARIF for code scanning.

Every reporter takes findings in any order and shows them sorted (file, line, column, rule), so
output is deterministic. ``fingerprint`` is the line-independent identity SARIF and the baseline
share.
"""

from __future__ import annotations

from policyengine.lint.reporters._common import Summary, fingerprint, ordered, summarize
from policyengine.lint.reporters.json_report import JSON_REPORT_VERSION, render_json, report_data
from policyengine.lint.reporters.sarif import render_sarif, render_sarif_json
from policyengine.lint.reporters.text import render_text

__all__ = [
    "JSON_REPORT_VERSION",
    "Summary",
    "fingerprint",
    "ordered",
    "render_json",
    "render_sarif",
    "render_sarif_json",
    "render_text",
    "report_data",
    "summarize",
]
