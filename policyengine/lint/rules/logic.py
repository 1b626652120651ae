"""Logic rules: constructs that mean something other than what they appear to mean.

Set qualifiers with missing keys, Not* elements with Allow, statements that another statement makes
redundant or unreachable, and conditions that can never be true (IAM UG, "Single-valued vs.
multivalued context keys"; "NotPrincipal", "NotAction", "NotResource").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from policyengine.evaluator.operators import BadValue, find_operator
from policyengine.evaluator.patterns import glob_matcher, resource_matcher
from policyengine.lint import catalog
from policyengine.lint.finding import Finding, LintTarget, PolicyType, Severity
from policyengine.lint.registry import rule
from policyengine.lint.rules._util import conditions_on, finding, statements
from policyengine.model.policy import Condition, Statement

if TYPE_CHECKING:
    from decimal import Decimal

_MULTI = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html"


@rule(
    "PE301",
    "forallvalues-allow-without-null",
    "security",
    "`ForAllValues` is true when the key is missing, so an Allow with it also allows requests that omit the key "
    "entirely; guard it with a `Null` condition.",
    bad='{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*", '
    '"Condition": {"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["app"]}}}]}',
    good='{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*", '
    '"Condition": {"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["app"]}, '
    '"Null": {"kms:EncryptionContextKeys": "false"}}}]}',
    family="logic",
    help_uri=_MULTI,
    security_severity=6.5,
)
def forallvalues_without_null(target: LintTarget) -> Iterator[Finding]:
    for statement in statements(target):
        if statement.effect != "Allow":
            continue
        for condition in statement.conditions:
            if condition.qualifier != "ForAllValues":
                continue
            guarded = any(
                c.base == "Null" and all(v.value.lower() == "false" for v in c.values)
                for c in conditions_on(statement, condition.key)
            )
            if not guarded:
                yield finding(
                    target,
                    "PE301",
                    "security",
                    f"`{condition.operator}` on `{condition.key}` is also true when "
                    "the request has no such key; this Allow then applies without the check",
                    condition.operator_span,
                    statement,
                    suggestion=f'add "Null": {{"{condition.key}": "false"}}',
                )


@rule(
    "PE302",
    "set-qualifier-on-single-valued-key",
    "warning",
    "`ForAnyValue`/`ForAllValues` are for multivalued keys; on a single-valued key they behave surprisingly.",
    bad='{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*", '
    '"Condition": {"ForAnyValue:StringEquals": {"kms:CallerAccount": "111122223333"}}}]}',
    good='{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*", '
    '"Condition": {"StringEquals": {"kms:CallerAccount": "111122223333"}}}]}',
    family="logic",
    help_uri=_MULTI,
)
def qualifier_on_single_valued(target: LintTarget) -> Iterator[Finding]:
    for statement in statements(target):
        for condition in statement.conditions:
            info = catalog.condition_key(condition.key)
            if condition.qualifier is not None and info is not None and not info.multivalued:
                yield finding(
                    target,
                    "PE302",
                    "warning",
                    f"`{condition.qualifier}:` on the single-valued key "
                    f"`{condition.key}`; use `{condition.base}` without a qualifier",
                    condition.operator_span,
                    statement,
                )
        for condition in statement.conditions:
            info = catalog.condition_key(condition.key)
            if condition.qualifier is None and info is not None and info.multivalued and condition.base != "Null":
                yield finding(
                    target,
                    "PE302",
                    "warning",
                    f"`{condition.key}` is multivalued; say `ForAnyValue:` or `ForAllValues:` with `{condition.base}`",
                    condition.operator_span,
                    statement,
                )


def _not_rule(
    rule_id: str,
    name: str,
    element: str,
    severity: Severity,
    summary: str,
    bad: str,
    good: str,
    types: tuple[PolicyType, ...] | None,
) -> None:
    attribute = {"NotPrincipal": "not_principal", "NotAction": "not_action", "NotResource": "not_resource"}[element]

    def check(target: LintTarget) -> Iterator[Finding]:
        for statement in statements(target):
            value = getattr(statement, attribute)
            if statement.effect == "Allow" and value is not None:
                span = value.span if hasattr(value, "span") else (value[0].span if value else None)
                yield finding(
                    target,
                    rule_id,
                    severity,
                    f"`Allow` with `{element}` allows everything not listed, including what is added to AWS later",
                    span,
                    statement,
                )

    rule(
        rule_id,
        name,
        severity,
        summary,
        bad=bad,
        good=good,
        family="logic",
        policy_types=types,
        help_uri=f"https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_{element.lower()}.html",
        security_severity=7.5 if severity == "security" else None,
    )(check)


_not_rule(
    "PE303",
    "allow-with-notprincipal",
    "NotPrincipal",
    "security",
    "`Allow` with `NotPrincipal` (which AWS calls unsupported) grants every principal not listed, anonymous ones "
    "included; policyengine evaluates it so that only a caller the list names, at any level, is left out.",
    '{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "NotPrincipal": {"AWS": '
    '"arn:aws:iam::111122223333:user/eve"}, "Action": "kms:Decrypt", "Resource": "*"}]}',
    '{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Deny", "NotPrincipal": {"AWS": '
    '["arn:aws:iam::111122223333:user/admin", "arn:aws:iam::111122223333:root"]}, "Action": "kms:Decrypt", "Resource": "*"}]}',
    None,
)
_not_rule(
    "PE304",
    "allow-with-notaction",
    "NotAction",
    "warning",
    "`Allow` with `NotAction` grants every action not listed, in every service.",
    '{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}',
    '{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}',
    None,
)
_not_rule(
    "PE305",
    "allow-with-notresource",
    "NotResource",
    "warning",
    "`Allow` with `NotResource` grants on every resource not listed.",
    '{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Action": "s3:GetObject", '
    '"NotResource": "arn:aws:s3:::secret/*"}]}',
    '{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Action": "s3:GetObject", '
    '"Resource": "arn:aws:s3:::public/*"}]}',
    None,
)


class _Reach:
    """What ``_covers`` compares of one statement, worked out once per statement rather than once per pair.

    ``principals`` is None for NotPrincipal (never compared), ``()`` for no Principal, ``("*",)`` for
    everyone, else the sorted (kind, value) entries; ``conditions`` is (operator, lowercased key, values)
    per condition, in order. ``comparable`` is False where ``_covers`` never holds (NotAction, NotResource).
    """

    __slots__ = (
        "_resource_matchers",
        "actions",
        "comparable",
        "conditions",
        "glob_services",
        "literals",
        "matchers",
        "principal_set",
        "principals",
        "resources",
    )

    def __init__(self, statement: Statement) -> None:
        self.comparable = statement.action is not None and statement.not_resource is None
        if statement.not_principal is not None:
            self.principals: tuple[object, ...] | None = None
        elif statement.principal is None:
            self.principals = ()
        elif statement.principal.wildcard:
            self.principals = ("*",)
        else:
            self.principals = tuple(sorted((e.kind, e.value) for e in statement.principal.entries))
        self.principal_set = frozenset(self.principals or ())
        self.conditions = tuple((c.operator, c.key.lower(), tuple(v.value for v in c.values)) for c in statement.conditions)
        # as the inner statement: each action lowercased, and whether it is a wildcard
        lowered = [a.value.lower() for a in statement.action or ()]
        self.actions = tuple(zip(lowered, ["*" in a for a in lowered], strict=True))
        # as the outer statement: its plain actions (lowercased), and each glob's matcher and whether it has a `*`
        globs = [a for a in lowered if "*" in a or "?" in a]
        self.literals = frozenset(lowered).difference(globs)
        self.matchers = tuple(zip(map(glob_matcher, globs), ["*" in a for a in globs], strict=True))
        # the service each glob is confined to (its text before `:`, when that holds no wildcard), None for any service
        self.glob_services = frozenset(_glob_service(a) for a in globs)
        self.resources = tuple(r.value for r in statement.resource or ())
        self._resource_matchers: tuple[Callable[[str], bool], ...] | None = None

    @property
    def resource_matchers(self) -> tuple[Callable[[str], bool], ...]:
        """One matcher per Resource pattern, compiled when a comparison first gets as far as resources."""
        if self._resource_matchers is None:
            self._resource_matchers = tuple(map(resource_matcher, self.resources))
        return self._resource_matchers


def _glob_service(glob: str) -> str | None:
    """The service prefix every action a lowercased Action glob matches starts with, or None when it could be any."""
    service, colon, _ = glob.partition(":")
    return service if colon and "*" not in service and "?" not in service else None


def _covers(outer: _Reach, inner: _Reach) -> bool:
    """Does ``outer`` apply to every request ``inner`` applies to (same principals, no extra conditions)?"""
    if not outer.comparable or not inner.comparable:
        return False
    if outer.principals is None or inner.principals is None:
        return False
    if outer.principals not in (("*",), inner.principals) and not inner.principal_set <= outer.principal_set:
        return False
    if outer.conditions and outer.conditions != inner.conditions:
        return False
    for action, wildcard in inner.actions:
        if action in outer.literals:  # equal text: a plain action never holds `*`, so neither does this one
            continue
        if not any(matches(action) and (not wildcard or outer_wildcard) for matches, outer_wildcard in outer.matchers):
            return False
    return all(any(matches(r) for matches in outer.resource_matchers) for r in inner.resources)


def _globs_for(globs: dict[str | None, list[tuple[int, _Reach]]], action: str) -> list[tuple[int, _Reach]]:
    """The statements with a glob that could match ``action``: those confined to its service, and those of any service.

    A glob confined to a service matches only text that starts with that service and a colon, so the
    others need not be tried.
    """
    service, colon, _ = action.partition(":")
    return globs.get(service, []) + globs.get(None, []) if colon else globs.get(None, [])


@rule(
    "PE306",
    "redundant-statement",
    "suggestion",
    "Another statement with the same effect already covers every request this one covers.",
    bad='{"Version": "2012-10-17", "Statement": [{"Sid": "All", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}, '
    '{"Sid": "Get", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}',
    good='{"Version": "2012-10-17", "Statement": [{"Sid": "All", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}',
    family="logic",
    help_uri="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html",
)
def redundant_statement(target: LintTarget) -> Iterator[Finding]:
    if len(statements(target)) < 2:  # nothing to cover it
        return
    listed = [(s, _Reach(s)) for s in statements(target)]
    # Only a statement of the same effect whose actions take in the inner one's first action can cover it.
    holding: dict[tuple[str, str], list[int]] = {}
    globs: dict[str | None, list[tuple[int, _Reach]]] = {}  # statements with globs, by the service a glob is confined to
    for position, (statement, reach) in enumerate(listed):
        if reach.comparable:
            for action in reach.literals:
                holding.setdefault((statement.effect, action), []).append(position)
            for service in reach.glob_services:
                globs.setdefault(service, []).append((position, reach))
    # An outer statement covers an inner one only if it names every principal the inner one names (or is to `*`).
    naming: dict[object, set[int]] = {}
    for position, (_, reach) in enumerate(listed):
        for entry in reach.principal_set:
            naming.setdefault(entry, set()).add(position)
    to_everyone = naming.get("*", set())
    taking: dict[tuple[str, str, bool], list[int]] = {}
    everyone = range(len(listed))
    for inner, inner_reach in listed:
        if not inner_reach.comparable:
            continue
        candidates: Iterable[int] = everyone
        if inner_reach.actions:
            first, wildcard = inner_reach.actions[0]
            key = (inner.effect, first, wildcard)
            if key not in taking:
                taking[key] = sorted(
                    {
                        *holding.get((inner.effect, first), ()),
                        *(
                            position
                            for position, reach in _globs_for(globs, first)
                            if listed[position][0].effect == inner.effect
                            and any(matches(first) and (not wildcard or glob) for matches, glob in reach.matchers)
                        ),
                    }
                )
            candidates = taking[key]
        if inner_reach.principals:
            named = naming.get(inner_reach.principals[0], set())
            candidates = [p for p in candidates if p in named or p in to_everyone]
        for position in candidates:
            outer, outer_reach = listed[position]
            if outer is inner or outer.effect != inner.effect:
                continue
            if _covers(outer_reach, inner_reach) and not (_covers(inner_reach, outer_reach) and inner.index < outer.index):
                yield finding(
                    target,
                    "PE306",
                    "suggestion",
                    f"statement {inner.label} is covered by statement {outer.label}; it changes nothing",
                    inner.span,
                    inner,
                )
                break


@rule(
    "PE307",
    "unreachable-allow",
    "warning",
    "An unconditional Deny covers every request this Allow covers, so it can never allow anything.",
    bad='{"Version": "2012-10-17", "Statement": [{"Sid": "Use", "Effect": "Allow", "Action": "s3:GetObject", '
    '"Resource": "arn:aws:s3:::b/*"}, {"Sid": "Block", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}',
    good='{"Version": "2012-10-17", "Statement": [{"Sid": "Use", "Effect": "Allow", "Action": "s3:GetObject", '
    '"Resource": "arn:aws:s3:::b/*"}, {"Sid": "Block", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]}',
    family="logic",
    help_uri="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html",
)
def unreachable_allow(target: LintTarget) -> Iterator[Finding]:
    listed = list(statements(target))
    denies = [(s, _Reach(s)) for s in listed if s.effect == "Deny" and not s.conditions]
    for allow in listed if denies else ():
        if allow.effect != "Allow":
            continue
        allow_reach = _Reach(allow)
        for deny, deny_reach in denies:
            if _covers(deny_reach, allow_reach):
                yield finding(
                    target,
                    "PE307",
                    "warning",
                    f"statement {allow.label} can never allow: statement {deny.label} denies everything it covers",
                    allow.span,
                    allow,
                )
                break


def _number(text: str, kind: str) -> Decimal | None:
    from decimal import Decimal

    from policyengine.evaluator.operators import parse_date

    try:
        return parse_date(text) if kind == "date" else Decimal(text)
    except (BadValue, ArithmeticError, ValueError):
        return None


@rule(
    "PE308",
    "condition-never-true",
    "warning",
    "Two tests on the same key that cannot both hold: the statement never applies.",
    bad='{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", '
    '"Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "300"}, '
    '"NumericGreaterThan": {"aws:MultiFactorAuthAge": "3600"}}}]}',
    good='{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", '
    '"Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}}]}',
    family="logic",
    help_uri="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html",
)
def condition_never_true(target: LintTarget) -> Iterator[Finding]:
    for statement in statements(target):
        by_key: dict[str, list[Condition]] = {}
        for condition in statement.conditions:
            if condition.qualifier is None:
                by_key.setdefault(condition.key.lower(), []).append(condition)
        for conditions in by_key.values():
            problem = _contradiction(conditions)
            if problem:
                yield finding(target, "PE308", "warning", problem, conditions[-1].operator_span, statement)


def _positive(condition: Condition) -> bool:
    operator = find_operator(condition.base)
    return operator is not None and operator.kind != "null" and not operator.negated and not condition.if_exists


def _contradiction(conditions: list[Condition]) -> str | None:
    key = conditions[0].key
    absent = [c for c in conditions if c.base == "Null" and all(v.value.lower() == "true" for v in c.values)]
    present_tests = [c for c in conditions if _positive(c)]
    if absent and present_tests:
        return f"`Null: true` requires `{key}` to be absent, but `{present_tests[0].operator}` needs it present"
    lows: list[Decimal] = []
    highs: list[Decimal] = []
    for condition in conditions:
        operator = find_operator(condition.base)
        if operator is None or operator.kind not in ("numeric", "date") or len(condition.values) != 1:
            continue
        value = _number(condition.values[0].value, operator.kind)
        if value is None:
            continue
        if condition.base.endswith(("LessThan", "LessThanEquals")):
            highs.append(value)
        elif condition.base.endswith(("GreaterThan", "GreaterThanEquals")):
            lows.append(value)
    if lows and highs and max(lows) >= min(highs):
        return f"no value of `{key}` is both greater than {max(lows)} and less than {min(highs)}"
    return None
