"""The linter's reports: text for people, JSON for scripts, SARIF for code scanning.

Every reporter takes findings in any order and shows them sorted (file, line, column, rule), so
output is deterministic. ``fingerprint`` is the line-independent identity SARIF and the baseline
share.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from policyengine._lazy import lazy_exports

_COMMON = "policyengine.lint.reporters._common"
_SARIF = "policyengine.lint.reporters.sarif"
_JSON = "policyengine.lint.reporters.json_report"
# Imported on first use: the text report (what `policyengine lint` prints by default) needs neither SARIF nor JSON.
_EXPORTS: dict[str, str] = {
    "JSON_REPORT_VERSION": _JSON,
    "Summary": _COMMON,
    "fingerprint": _COMMON,
    "ordered": _COMMON,
    "render_json": _JSON,
    "render_sarif": _SARIF,
    "render_sarif_json": _SARIF,
    "render_text": "policyengine.lint.reporters.text",
    "report_data": _JSON,
    "summarize": _COMMON,
}

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

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from policyengine.lint.reporters._common import Summary, fingerprint, ordered, summarize
    from policyengine.lint.reporters.json_report import JSON_REPORT_VERSION, render_json, report_data
    from policyengine.lint.reporters.sarif import render_sarif, render_sarif_json
    from policyengine.lint.reporters.text import render_text
