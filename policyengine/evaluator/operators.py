"""The condition operators of the IAM policy language, one small frozen record each.

An ``Operator`` knows how to turn the policy's values into comparable form once (``prepare``)
and how to test one request value against one prepared policy value (``test``). Negation,
``IfExists``, set qualifiers and missing keys are not the operators' business: they are applied
once, generically, in ``conditions.py`` (IAM UG, "IAM JSON policy elements: Condition operators").
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from policyengine.evaluator.patterns import arn_condition_matcher, glob_matcher

if TYPE_CHECKING:
    from decimal import Decimal

OperatorKind = Literal["string", "numeric", "date", "bool", "binary", "ip", "arn", "null"]


class BadValue(Exception):
    """A value that cannot be read as the operator's type (a type mismatch, never a match)."""


@dataclass(frozen=True, slots=True)
class Operator:
    """One base operator: its name, value type, whether it is negated, and its two functions.

    ``prepare(text)`` converts a policy value (raising ``BadValue`` when it cannot);
    ``convert(text)`` converts a request value the same way; ``test(request, policy)`` compares.
    ``variables`` says whether policy variables are substituted in its values.
    """

    name: str
    kind: OperatorKind
    negated: bool
    prepare: Callable[[str], Any]
    convert: Callable[[str], Any]
    test: Callable[[Any, Any], bool]
    variables: bool = False
    glob: bool = False


def _identity(text: str) -> str:
    return text


def _lower(text: str) -> str:
    return text.lower()


@cache
def _decimal() -> tuple[type[Decimal], type[ArithmeticError]]:
    """``Decimal`` and its ``InvalidOperation``, imported when a numeric or date condition is first
    read, not with the evaluator (start-up); once, not per value: an ``import`` statement in
    ``_number`` ran on every request value a condition converts (1.6 us a value, not 0.4 us).
    """
    from decimal import Decimal, InvalidOperation

    return Decimal, InvalidOperation


def _number(text: str) -> Decimal:
    number, invalid = _decimal()
    try:
        value = number(text.strip())
    except invalid:
        raise BadValue(f"`{text}` is not a number") from None
    if not value.is_finite():
        raise BadValue(f"`{text}` is not a finite number")
    return value


def parse_date(text: str) -> Decimal:
    """An ISO 8601 date/time or epoch seconds, as epoch seconds (UTC when no offset is given)."""
    number = _decimal()[0]
    stripped = text.strip()
    if stripped.lstrip("-").isdigit():
        return number(stripped)
    candidate = stripped[:-1] + "+00:00" if stripped.endswith(("Z", "z")) else stripped
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        raise BadValue(f"`{text}` is not an ISO 8601 date or epoch seconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return number(delta.days * 86400 + delta.seconds) + number(delta.microseconds) / number(1_000_000)


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise BadValue(f"`{text}` is not `true` or `false`")


def _binary(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadValue(f"`{text}` is not base64") from None


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise BadValue(f"`{text}` is not an IP address or CIDR range") from None


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        raise BadValue(f"`{text}` is not an IP address") from None


def _in_network(address: Any, network: Any) -> bool:
    return bool(address.version == network.version and address in network)


def _like(pattern: str) -> Callable[[str], bool]:
    return glob_matcher(pattern)


def _apply(matcher: Callable[[str], bool], value: str) -> bool:
    return bool(matcher(value))


def _eq(a: Any, b: Any) -> bool:
    return bool(a == b)


def _lt(a: Any, b: Any) -> bool:
    return bool(a < b)


def _le(a: Any, b: Any) -> bool:
    return bool(a <= b)


def _gt(a: Any, b: Any) -> bool:
    return bool(a > b)


def _ge(a: Any, b: Any) -> bool:
    return bool(a >= b)


def _null_prepare(text: str) -> bool:
    return _bool(text)


def _never(_a: Any, _b: Any) -> bool:
    return False


def _registry() -> dict[str, Operator]:
    ops: list[Operator] = []
    for negated, name in ((False, "StringEquals"), (True, "StringNotEquals")):
        ops.append(Operator(name, "string", negated, _identity, _identity, _eq, variables=True))
    for negated, name in ((False, "StringEqualsIgnoreCase"), (True, "StringNotEqualsIgnoreCase")):
        ops.append(Operator(name, "string", negated, _lower, _lower, _eq, variables=True))
    for negated, name in ((False, "StringLike"), (True, "StringNotLike")):
        ops.append(Operator(name, "string", negated, _like, _identity, lambda v, m: _apply(m, v), variables=True, glob=True))
    comparisons = (
        ("Equals", _eq, False),
        ("NotEquals", _eq, True),
        ("LessThan", _lt, False),
        ("LessThanEquals", _le, False),
        ("GreaterThan", _gt, False),
        ("GreaterThanEquals", _ge, False),
    )
    for suffix, test, negated in comparisons:
        ops.append(Operator(f"Numeric{suffix}", "numeric", negated, _number, _number, test))
        ops.append(Operator(f"Date{suffix}", "date", negated, parse_date, parse_date, test))
    ops.append(Operator("Bool", "bool", False, _bool, _bool, _eq))
    ops.append(Operator("BinaryEquals", "binary", False, _binary, _binary, _eq))
    ops.append(Operator("IpAddress", "ip", False, _network, _address, _in_network))
    ops.append(Operator("NotIpAddress", "ip", True, _network, _address, _in_network))
    for negated, name in ((False, "ArnEquals"), (False, "ArnLike"), (True, "ArnNotEquals"), (True, "ArnNotLike")):
        ops.append(
            Operator(name, "arn", negated, arn_condition_matcher, _identity, lambda v, m: _apply(m, v), variables=True, glob=True)
        )
    ops.append(Operator("Null", "null", False, _null_prepare, _identity, _never))
    return {op.name: op for op in ops}


OPERATORS: dict[str, Operator] = _registry()


def find_operator(name: str) -> Operator | None:
    """The operator called ``name`` (case-sensitive, as IAM is), or None when there is none."""
    return OPERATORS.get(name)
