"""Running the rules: one target at a time, never raising for anything a policy contains."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from policyengine.errors import PolicyInputError
from policyengine.lint.finding import Finding, LintTarget, PolicyType
from policyengine.lint.registry import Rule, all_rules
from policyengine.model import unknown
from policyengine.parsing.document import parse_policy
from policyengine.parsing.json_locate import LazySpan

#: Rules that report why a policy could not be read (the reader's issues).
READ_RULES = frozenset({"PE001", "PE002", "PE003", "PE004", "PE005", "PE006", "PE007", "PE008"})
#: Rules that judge a policy by everything in it (lockout, the account statement, what is missing,
#: whose account it is). On a policy read only in part they would judge what the reader left out,
#: so they wait until the read issues are fixed; every other rule checks the part that was read.
WHOLE_POLICY_RULES = frozenset({"PE011", "PE015", "PE017", "PE019", "PE402", "PE501", "PE507", "PE509"})

#: Rules about a document as a whole, not its statements: they do not judge a statements file that
#: is merged into a policy elsewhere (``LintTarget.fragment``).
WHOLE_DOCUMENT_RULES = frozenset({"PE011", "PE019", "PE501", "PE509"})

#: Rule families about how a policy is written. They do not run on text AWS authored (an AWS
#: managed policy, an AWS managed key's policy): the customer cannot edit it, AWS validated it
#: when it published it, and customer quotas such as the managed-policy size limit do not apply.
#: What such a policy grants (security and KMS rules) is still reported.
AUTHORING_FAMILIES = frozenset({"structure", "catalog", "types", "logic"})


def target_from_text(text: str, source: str, policy_type: PolicyType, owner: str | None = None) -> LintTarget:
    """A target from policy text: the parsed document, or the issues that kept it from being read."""
    try:
        document = parse_policy(text, source)
    except PolicyInputError as error:
        return LintTarget(source, policy_type, None, text, owner, error.issues)
    return LintTarget(source, policy_type, document, text, owner)


def lint_target(target: LintTarget, rules: Iterable[Rule] | None = None) -> list[Finding]:
    """Every finding of the applicable rules on one target, in source order."""
    chosen = list(rules) if rules is not None else list(all_rules().values())
    findings: list[Finding] = []
    partial = bool(target.read_issues)
    for rule in chosen:
        if rule.id in READ_RULES:
            if not partial:
                continue
        elif target.document is None or (partial and rule.id in WHOLE_POLICY_RULES):
            continue
        if not rule.applies_to(target.policy_type):
            continue
        if target.authored_by_aws and rule.family in AUTHORING_FAMILIES:
            continue
        if target.fragment and rule.id in WHOLE_DOCUMENT_RULES:
            continue
        findings.extend(rule.check(target))
    findings = [_as_written(_located(f)) for f in findings]
    findings.sort(key=Finding.sort_key)
    return findings


def _located(finding: Finding) -> Finding:
    """The finding with its span found in the text, if it was read without positions (``LazySpan``).

    Only the spans findings point at are ever looked for; what leaves the linter is a plain ``Span``.
    """
    if isinstance(finding.span, LazySpan):
        return dataclasses.replace(finding, span=finding.span.resolved())
    return finding


def _as_written(finding: Finding) -> Finding:
    """Unknown values (``policyengine.model.unknown``) shown in messages as the source wrote them."""
    if not unknown.contains(finding.message) and not unknown.contains(finding.suggestion or ""):
        return finding
    suggestion = unknown.display(finding.suggestion) if finding.suggestion is not None else None
    return dataclasses.replace(finding, message=unknown.display(finding.message), suggestion=suggestion)
