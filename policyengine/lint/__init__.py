"""The linter: rules that know KMS key policies and IAM policies, with findings at file:line:col.

This package's public API is what the CLI (and other tools) use; the modules below it are its
implementation.
"""

from policyengine.lint.catalog import catalog_version
from policyengine.lint.config import ConfigError, LintConfig, load_config
from policyengine.lint.finding import POLICY_TYPES, SEVERITY_ORDER, Finding, LintTarget, PolicyType, Severity
from policyengine.lint.inputs.bindings import Bindings, make_bindings
from policyengine.lint.registry import Rule, all_rules
from policyengine.lint.reporters import render_json, render_sarif_json, render_text
from policyengine.lint.run import LintRun, run_lint

__all__ = [
    "POLICY_TYPES",
    "SEVERITY_ORDER",
    "Bindings",
    "ConfigError",
    "Finding",
    "LintConfig",
    "LintRun",
    "LintTarget",
    "PolicyType",
    "Rule",
    "Severity",
    "all_rules",
    "catalog_version",
    "load_config",
    "make_bindings",
    "render_json",
    "render_sarif_json",
    "render_text",
    "run_lint",
]
