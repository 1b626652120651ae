"""The rule registry: every rule is a small record with a stable id, metadata and a check function.

Rules register themselves with ``@rule(...)`` in the modules under ``lint/rules``. The metadata
(summary, help with a bad and a fixed example, AWS doc link, security severity for SARIF) is what
the reporters and ``policyengine lint --explain RULE`` show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from policyengine.lint.finding import Finding, LintTarget, PolicyType, Severity

Check = Callable[[LintTarget], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """One lint rule. ``policy_types`` limits where it runs; ``security_severity`` is SARIF's 0-10 score."""

    id: str
    name: str
    severity: Severity
    summary: str
    bad: str
    good: str
    check: Check
    policy_types: tuple[PolicyType, ...] | None = None
    help_uri: str | None = None
    security_severity: float | None = None
    family: str = "structure"

    def applies_to(self, policy_type: PolicyType) -> bool:
        return self.policy_types is None or policy_type in self.policy_types


RULES: dict[str, Rule] = {}


def rule(
    rule_id: str,
    name: str,
    severity: Severity,
    summary: str,
    *,
    bad: str,
    good: str,
    family: str,
    policy_types: tuple[PolicyType, ...] | None = None,
    help_uri: str | None = None,
    security_severity: float | None = None,
) -> Callable[[Check], Check]:
    """Register the decorated check function as a rule."""

    def register(check: Check) -> Check:
        if rule_id in RULES:
            raise ValueError(f"duplicate rule id {rule_id}")
        RULES[rule_id] = Rule(
            rule_id, name, severity, summary, bad, good, check, policy_types, help_uri, security_severity, family
        )
        return check

    return register


def all_rules() -> dict[str, Rule]:
    """Every rule, after importing the rule modules."""
    import policyengine.lint.rules  # noqa: F401  (registers the rules)

    return RULES
