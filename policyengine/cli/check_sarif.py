"""Check results as SARIF 2.1.0, through the linter's own SARIF reporter.

An edge module (the CLI's): it joins two services, the offline checks and the linter's reports,
which do not import each other.

Each check is a rule (with a bad and a fixed example, like the lint rules); a check that does
not pass becomes one result located at the statement responsible (the deciding statement of the
counterexample's allow) or, without one, at the top of the policy. A pass is a run with no
results, which code scanning reads as "fixed".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from policyengine.analysis import CheckResult
from policyengine.lint import Finding, Rule, render_sarif

_KEY = '{"Version": "2012-10-17", "Statement": [%s]}'
_ROOT = (
    '{"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, '
    '"Action": "kms:*", "Resource": "*"}'
)
_ANYONE = '{"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}'
_ORG = (
    '{"Sid": "Org", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", '
    '"Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123def4"}}}'
)


def _no_findings(_: object) -> list[Finding]:
    return []


RULE_IDS = {"no-new-access": "PEC001", "access-not-granted": "PEC002", "no-public-access": "PEC003"}

CHECK_RULES: dict[str, Rule] = {
    "PEC001": Rule(
        "PEC001",
        "no-new-access",
        "security",
        "The new version of the policy allows a request that the old version denies (proved with a replayed counterexample).",
        bad=_KEY % f"{_ROOT}, {_ANYONE}",
        good=_KEY % _ROOT,
        check=_no_findings,
        policy_types=("key",),
        security_severity=8.0,
        family="security",
    ),
    "PEC002": Rule(
        "PEC002",
        "access-not-granted",
        "security",
        "The policy can allow one of the actions it must never allow.",
        bad=_KEY % _ROOT,
        good=_KEY % _ROOT.replace('"kms:*"', '"kms:Describe*"'),
        check=_no_findings,
        policy_types=("key", "identity"),
        security_severity=8.0,
        family="security",
    ),
    "PEC003": Rule(
        "PEC003",
        "no-public-access",
        "security",
        "A principal of an account the policy does not name can use the key.",
        bad=_KEY % _ANYONE,
        good=_KEY % _ORG,
        check=_no_findings,
        policy_types=("key",),
        security_severity=9.0,
        family="security",
    ),
}


def finding(result: CheckResult, source: str) -> Finding | None:
    """The finding a result stands for (None for a pass)."""
    if result.passed:
        return None
    span = None
    statement = None
    cex = result.counterexample
    if cex is not None:
        for ref in cex.statements:
            if ref.policy_name == source and ref.span is not None:
                span, statement = ref.span, ref.label
                break
    message = f"{result.label}: {result.message}"
    if cex is not None:
        message += f" (e.g. {cex.principal} calling {cex.action} on {cex.resource})"
    return Finding(
        rule_id=RULE_IDS[result.check],
        severity="security",
        message=message,
        source=source,
        span=span,
        statement=statement,
        suggestion="; ".join(result.approximations) or None,
    )


def to_sarif(results: Iterable[tuple[CheckResult, str]], texts: Mapping[str, str], tool_version: str) -> dict[str, Any]:
    """A SARIF log for ``(result, file the result is about)`` pairs."""
    findings = [f for r, source in results if (f := finding(r, source)) is not None]
    return render_sarif(findings, CHECK_RULES, texts=texts, tool_version=tool_version)
