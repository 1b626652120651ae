"""Type rules: operators against key types, and values that cannot be read as the operator's type.

A value the evaluator cannot read is a condition that never matches, silently; these rules say so
where it was written (IAM UG, "Condition operators"; Access Analyzer's data-type checks).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Iterator

from policyengine.evaluator.operators import BadValue, find_operator, parse_date
from policyengine.lint import catalog
from policyengine.lint.finding import Finding, LintTarget
from policyengine.lint.registry import rule
from policyengine.lint.rules._util import finding, statements
from policyengine.model import unknown

_OPS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html"


def _policy(condition: str, action: str = "kms:Decrypt") -> str:
    return (
        '{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Action": "'
        + action
        + '", "Resource": "*", "Condition": '
        + condition
        + "}]}"
    )


#: Which key types each operator family may test (the string family reads any type as text).
_COMPATIBLE = {
    "numeric": {"Numeric", "ArrayOfNumeric"},
    "date": {"Date", "ArrayOfDate"},
    "bool": {"Bool", "ArrayOfBool"},
    "ip": {"IPAddress", "ArrayOfIPAddress"},
    "arn": {"ARN", "ArrayOfARN", "String", "ArrayOfString"},
    "binary": {"Binary", "ArrayOfBinary", "String"},
}


@rule(
    "PE201",
    "operator-type-mismatch",
    "error",
    "The operator's type does not match the condition key's type (a Date operator on a string key, ...).",
    bad=_policy('{"DateGreaterThan": {"aws:SourceIp": "2024-01-01"}}'),
    good=_policy('{"DateGreaterThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}}'),
    family="types",
    help_uri=_OPS,
)
def operator_type_mismatch(target: LintTarget) -> Iterator[Finding]:
    for statement in statements(target):
        for condition in statement.conditions:
            operator = find_operator(condition.base)
            info = catalog.condition_key(condition.key)
            if operator is None or info is None or operator.kind not in _COMPATIBLE:
                continue
            if info.type not in _COMPATIBLE[operator.kind]:
                yield finding(
                    target,
                    "PE201",
                    "error",
                    f"`{condition.operator}` compares {operator.kind} values, but `{condition.key}` is of type {info.type}",
                    condition.operator_span,
                    statement,
                )


def _value_rule(rule_id: str, name: str, kinds: tuple[str, ...], check_value: object, what: str, bad: str, good: str) -> None:
    def check(target: LintTarget) -> Iterator[Finding]:
        for statement in statements(target):
            for condition in statement.conditions:
                operator = find_operator(condition.base)
                if operator is None or operator.kind not in kinds:
                    continue
                for value in condition.values:
                    sample = unknown.example(value.value)
                    if value.template is not None or sample is None:
                        continue  # a policy variable, or a value only the deployment knows
                    try:
                        check_value(sample)  # type: ignore[operator]
                    except (BadValue, ValueError, binascii.Error):
                        yield finding(
                            target,
                            rule_id,
                            "error",
                            f"`{value.value}` is not {what} (`{condition.operator}` on `{condition.key}` never matches it)",
                            value.span,
                            statement,
                        )

    rule(rule_id, name, "error", f"A condition value that is not {what}.", bad=bad, good=good, family="types", help_uri=_OPS)(
        check
    )


def _bool(text: str) -> None:
    if text.lower() not in ("true", "false"):
        raise ValueError(text)


def _number(text: str) -> None:
    from decimal import Decimal, InvalidOperation

    try:
        Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None


def _arn(text: str) -> None:
    if text != "*" and (not text.startswith("arn:") or len(text.split(":", 5)) != 6):
        raise ValueError(text)


_value_rule(
    "PE202",
    "invalid-ip",
    ("ip",),
    ipaddress.ip_network,
    "an IP address or CIDR range",
    _policy('{"IpAddress": {"aws:SourceIp": "10.0.0.300/8"}}'),
    _policy('{"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}'),
)
_value_rule(
    "PE203",
    "invalid-date",
    ("date",),
    parse_date,
    "an ISO 8601 date or epoch seconds",
    _policy('{"DateLessThan": {"aws:CurrentTime": "next tuesday"}}'),
    _policy('{"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}'),
)
_value_rule(
    "PE204",
    "invalid-number",
    ("numeric",),
    _number,
    "a number",
    _policy('{"NumericLessThan": {"aws:MultiFactorAuthAge": "one hour"}}'),
    _policy('{"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}'),
)
_value_rule(
    "PE205",
    "invalid-bool",
    ("bool",),
    _bool,
    "`true` or `false`",
    _policy('{"Bool": {"aws:SecureTransport": "yes"}}'),
    _policy('{"Bool": {"aws:SecureTransport": "true"}}'),
)
_value_rule(
    "PE206",
    "invalid-arn",
    ("arn",),
    _arn,
    "an ARN (arn:partition:service:region:account:resource)",
    _policy('{"ArnLike": {"aws:PrincipalArn": "role/Admin"}}'),
    _policy('{"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/Admin"}}'),
)
_value_rule(
    "PE207",
    "null-not-boolean",
    ("null",),
    _bool,
    "`true` or `false` (Null tests absence)",
    _policy('{"Null": {"aws:PrincipalTag/team": "absent"}}'),
    _policy('{"Null": {"aws:PrincipalTag/team": "false"}}'),
)
_value_rule(
    "PE211",
    "invalid-base64",
    ("binary",),
    lambda t: base64.b64decode(t, validate=True),
    "base64",
    _policy('{"BinaryEquals": {"aws:UserAgent": "not base64!"}}'),
    _policy('{"BinaryEquals": {"aws:UserAgent": "QmluYXJ5"}}'),
)


@rule(
    "PE208",
    "variable-not-allowed",
    "error",
    "Policy variables work only in Resource and in string and ARN condition values, never in Action or Principal.",
    bad='{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Action": "kms:${aws:username}", '
    '"Resource": "*"}]}',
    good='{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}',
    family="types",
    help_uri="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html",
)
def variable_not_allowed(target: LintTarget) -> Iterator[Finding]:
    for statement in statements(target):
        for item in (*(statement.action or ()), *(statement.not_action or ())):
            if "${" in item.value:
                yield finding(
                    target, "PE208", "error", f"`{item.value}`: Action cannot hold policy variables", item.span, statement
                )
        for block in (statement.principal, statement.not_principal):
            for entry in block.entries if block is not None else ():
                if "${" in entry.value:
                    yield finding(
                        target,
                        "PE208",
                        "error",
                        f"`{entry.value}`: Principal cannot hold policy variables",
                        entry.span,
                        statement,
                    )
        for condition in statement.conditions:
            operator = find_operator(condition.base)
            if "${" in condition.key:
                yield finding(target, "PE208", "error", "condition keys cannot hold policy variables", condition.span, statement)
            if operator is not None and not operator.variables:
                for value in condition.values:
                    if value.template is not None:
                        yield finding(
                            target,
                            "PE208",
                            "error",
                            f"`{condition.operator}` does not substitute policy variables; `{value.value}` is compared literally",
                            value.span,
                            statement,
                        )


@rule(
    "PE209",
    "unknown-operator",
    "error",
    "The condition operator does not exist, so the condition never matches.",
    bad=_policy('{"StringEqual": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}'),
    good=_policy('{"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}'),
    family="types",
    help_uri=_OPS,
)
def unknown_operator(target: LintTarget) -> Iterator[Finding]:
    from policyengine.evaluator.operators import OPERATORS
    from policyengine.parsing.reader import suggest

    for statement in statements(target):
        for condition in statement.conditions:
            if find_operator(condition.base) is None:
                yield finding(
                    target,
                    "PE209",
                    "error",
                    f"`{condition.operator}` is not a condition operator",
                    condition.operator_span,
                    statement,
                    suggestion=suggest(condition.base, OPERATORS),
                )


@rule(
    "PE210",
    "null-if-exists",
    "error",
    "`Null` cannot take `IfExists`; the result would always be true.",
    bad=_policy('{"NullIfExists": {"aws:PrincipalTag/team": "false"}}'),
    good=_policy('{"Null": {"aws:PrincipalTag/team": "false"}}'),
    family="types",
    help_uri=_OPS,
)
def null_if_exists(target: LintTarget) -> Iterator[Finding]:
    for statement in statements(target):
        for condition in statement.conditions:
            if condition.base == "Null" and (condition.if_exists or condition.qualifier is not None):
                yield finding(
                    target,
                    "PE210",
                    "error",
                    f"`{condition.operator}`: Null takes neither IfExists nor a set qualifier",
                    condition.operator_span,
                    statement,
                )
