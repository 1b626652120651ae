"""Typed readings of request strings, both ways: text to solver integer, model integer to text.

The solver reasons about integers (see ``symbolic.Slot``); these functions fix what a given
string reads as (using the evaluator's own operator conversions, so a value the evaluator
cannot read is unreadable here too) and turn a model's integer back into a string the
evaluator reads as that same integer, for the replayed counterexample.
"""

from __future__ import annotations

import base64
import ipaddress
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from policyengine.analysis.keys import KeyUse
from policyengine.evaluator.operators import BadValue, find_operator

IP_V6_OFFSET = 2**32
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CONVERTERS = {"numeric": "NumericEquals", "date": "DateEquals", "bool": "Bool", "ip": "IpAddress", "binary": "BinaryEquals"}
_UNREADABLE = {"numeric": "not-a-number", "date": "not-a-date", "bool": "maybe", "ip": "not-an-ip", "binary": "!!"}


def constant(use: KeyUse, family: str, prepared: Any) -> int | tuple[int, int] | None:
    """A prepared policy value as the family's integer (an IP network as its inclusive range)."""
    if family == "numeric":
        scaled = prepared * use.numeric_scale
        return int(scaled) if scaled == scaled.to_integral_value() else None
    if family == "date":
        micro = prepared * 1_000_000
        return int(micro) if micro == micro.to_integral_value() else None
    if family == "bool":
        return 1 if prepared else 0
    if family == "ip":
        offset = 0 if prepared.version == 4 else IP_V6_OFFSET
        return (int(prepared.network_address) + offset, int(prepared.broadcast_address) + offset)
    if family == "binary":
        return use.binaries.index(prepared)
    return None


def reading(use: KeyUse, family: str, text: str) -> tuple[bool, int] | None:
    """(readable, integer) for a concrete request string; None when the integer would be inexact."""
    operator = find_operator(_CONVERTERS[family])
    assert operator is not None
    try:
        value = operator.convert(text)
    except BadValue:
        return (False, 0)
    if family == "ip":
        offset = 0 if value.version == 4 else IP_V6_OFFSET
        return (True, int(value) + offset)
    if family == "binary":
        return (True, use.binaries.index(value) if value in use.binaries else len(use.binaries))
    number = constant(use, family, value)
    return None if number is None or isinstance(number, tuple) else (True, number)


def render(use: KeyUse, family: str, readable: bool, value: int) -> str:
    """A request string the evaluator reads as ``value`` (or cannot read, when not ``readable``)."""
    if not readable:
        return _UNREADABLE[family]
    if family == "numeric":
        return format(Decimal(value) / Decimal(use.numeric_scale), "f")
    if family == "date":
        if value % 1_000_000 == 0:
            return str(value // 1_000_000)
        return (_EPOCH + timedelta(microseconds=value)).isoformat()
    if family == "bool":
        return "true" if value else "false"
    if family == "ip":
        if value < IP_V6_OFFSET:
            return str(ipaddress.IPv4Address(value))
        return str(ipaddress.IPv6Address(value - IP_V6_OFFSET))
    if family == "binary":
        if value < len(use.binaries):
            return base64.b64encode(use.binaries[value]).decode("ascii")
        n = 0
        while f"pe-other-{n}".encode() in use.binaries:
            n += 1
        return base64.b64encode(f"pe-other-{n}".encode()).decode("ascii")
    raise ValueError(family)
