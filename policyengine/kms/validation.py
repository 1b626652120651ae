"""Request-parameter checks, with AWS's ValidationException wording.

boto3 checks little; AWS checks lengths, ranges and enums server-side and answers
``1 validation error detected: Value 'x' at 'name' failed to satisfy constraint: ...``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from policyengine.kms.errors import ValidationException


def _fail(value: Any, name: str, constraint: str, *, hidden: bool = False) -> ValidationException:
    if hidden:  # AWS does not echo blobs (plaintexts, ciphertexts): "Value at 'plaintext' failed ..."
        return ValidationException(f"1 validation error detected: Value at '{name}' failed to satisfy constraint: {constraint}")
    shown = "null" if value is None else str(value)
    if len(shown) > 64:
        shown = shown[:61] + "..."
    return ValidationException(
        f"1 validation error detected: Value '{shown}' at '{name}' failed to satisfy constraint: {constraint}"
    )


def required(value: Any, name: str) -> Any:
    if value is None:
        raise _fail(None, name, "Member must not be null")
    return value


def string(value: Any, name: str, *, min_len: int = 1, max_len: int = 2048, pattern: str | None = None) -> str:
    required(value, name)
    if not isinstance(value, str):
        raise _fail(value, name, "Member must be a string")
    if len(value) < min_len:
        raise _fail(value, name, f"Member must have length greater than or equal to {min_len}")
    if len(value) > max_len:
        raise _fail(value, name, f"Member must have length less than or equal to {max_len}")
    if pattern is not None and not re.fullmatch(pattern, value):
        raise _fail(value, name, f"Member must satisfy regular expression pattern: {pattern}")
    return value


def integer(value: Any, name: str, *, minimum: int, maximum: int) -> int:
    required(value, name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(value, name, "Member must be an integer")
    if value < minimum:
        raise _fail(value, name, f"Member must have value greater than or equal to {minimum}")
    if value > maximum:
        raise _fail(value, name, f"Member must have value less than or equal to {maximum}")
    return value


def choice(value: Any, name: str, options: Collection[str]) -> str:
    required(value, name)
    if not isinstance(value, str) or value not in options:
        raise _fail(value, name, f"Member must satisfy enum value set: [{', '.join(sorted(options))}]")
    return str(value)


def blob(value: Any, name: str, *, min_len: int = 1, max_len: int = 4096) -> bytes:
    required(value, name)
    if isinstance(value, bytearray | memoryview):
        value = bytes(value)
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, bytes):
        raise _fail(type(value).__name__, name, "Member must be a blob")
    if len(value) < min_len:
        raise _fail(None, name, f"Member must have length greater than or equal to {min_len}", hidden=True)
    if len(value) > max_len:
        raise _fail(None, name, f"Member must have length less than or equal to {max_len}", hidden=True)
    return value


def encryption_context(value: Any, name: str = "encryptionContext") -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise _fail(value, name, "Member must be a map of strings to strings")
    if sum(len(k.encode()) + len(v.encode()) for k, v in value.items()) > 8192:
        raise _fail("<map>", name, "the encryption context must be at most 8192 bytes")
    return dict(value)


def string_list(value: Any, name: str, *, max_items: int = 10) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise _fail(value, name, "Member must be a list of strings")
    if len(value) > max_items:
        raise _fail(value, name, f"Member must have length less than or equal to {max_items}")
    return list(value)
