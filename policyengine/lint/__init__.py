"""The linter: rules that know KMS key policies and IAM policies, with findings at file:line:col.

This package's public API is what the CLI (and other tools) use; the modules below it are its
implementation. Names are imported on first use (see ``policyengine._lazy``), so
``policyengine --version`` reads the catalog's version without loading the rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from policyengine._lazy import lazy_exports

_FINDING = "policyengine.lint.finding"
_REPORTERS = "policyengine.lint.reporters"
_EXPORTS: dict[str, str] = {
    "Bindings": "policyengine.lint.inputs.bindings",
    "make_bindings": "policyengine.lint.inputs.bindings",
    "catalog_version": "policyengine.lint.catalog",
    "ConfigError": "policyengine.lint.config",
    "LintConfig": "policyengine.lint.config",
    "load_config": "policyengine.lint.config",
    "DEFAULT_FAIL_ON": _FINDING,
    "POLICY_TYPES": _FINDING,
    "SEVERITIES": _FINDING,
    "SEVERITY_ORDER": _FINDING,
    "Finding": _FINDING,
    "LintTarget": _FINDING,
    "PolicyType": _FINDING,
    "Severity": _FINDING,
    "Rule": "policyengine.lint.registry",
    "all_rules": "policyengine.lint.registry",
    "render_json": _REPORTERS,
    "render_sarif": _REPORTERS,
    "render_sarif_json": _REPORTERS,
    "render_text": _REPORTERS,
    "LintRun": "policyengine.lint.run",
    "Outcome": "policyengine.lint.run",
    "fail_on_or_default": "policyengine.lint.run",
    "run_lint": "policyengine.lint.run",
}

__all__ = [
    "DEFAULT_FAIL_ON",
    "POLICY_TYPES",
    "SEVERITIES",
    "SEVERITY_ORDER",
    "Bindings",
    "ConfigError",
    "Finding",
    "LintConfig",
    "LintRun",
    "LintTarget",
    "Outcome",
    "PolicyType",
    "Rule",
    "Severity",
    "all_rules",
    "catalog_version",
    "fail_on_or_default",
    "load_config",
    "make_bindings",
    "render_json",
    "render_sarif",
    "render_sarif_json",
    "render_text",
    "run_lint",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from policyengine.lint.catalog import catalog_version
    from policyengine.lint.config import ConfigError, LintConfig, load_config
    from policyengine.lint.finding import (
        DEFAULT_FAIL_ON,
        POLICY_TYPES,
        SEVERITIES,
        SEVERITY_ORDER,
        Finding,
        LintTarget,
        PolicyType,
        Severity,
    )
    from policyengine.lint.registry import Rule, all_rules
    from policyengine.lint.reporters import render_json, render_sarif, render_sarif_json, render_text
    from policyengine.lint.run import LintRun, Outcome, fail_on_or_default, run_lint
