"""The AWS JSON 1.1 framing KMS speaks: target header in, JSON body in, JSON or error body out.

A KMS call is ``POST /`` with ``X-Amz-Target: TrentService.<Operation>`` and a JSON object
body (``Content-Type: application/x-amz-json-1.1``). Success is ``200`` with the output
shape's JSON; failure is AWS's status with ``{"__type": "<Code>", "message": "..."}``, which
is what botocore reads to raise ``client.exceptions.<Code>``. This module only frames: it knows
nothing of keys, signatures or the facade.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from policyengine.errors import PolicyEngineError
from policyengine.kms import KMSError
from policyengine.server.errors import WireError, serialization_error
from policyengine.store import StoreError

__all__ = [
    "CONTENT_TYPE",
    "TARGET_PREFIX",
    "IncomingRequest",
    "error_body",
    "error_for",
    "parse_body",
    "parse_target",
    "success_body",
]

CONTENT_TYPE = "application/x-amz-json-1.1"
TARGET_PREFIX = "TrentService."
INTERNAL_MESSAGE = "An internal error occurred; the server log has the details"
_SURROGATE = re.compile("[\ud800-\udfff]")

log = logging.getLogger("policyengine.server")


@dataclass(slots=True)
class IncomingRequest:
    """What arrived over HTTP, as the authenticator and dispatcher need it (no ASGI types)."""

    method: str
    path: str
    raw_path: bytes
    query: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    client_ip: str | None
    request_id: str
    _by_name: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for name, value in self.headers:
            self._by_name.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (lowercase), or None."""
        return self._by_name.get(name)


def parse_target(value: str | None) -> str:
    """The operation named by ``X-Amz-Target``; UnknownOperationException when there is none."""
    if not value:
        raise WireError("UnknownOperationException", "Missing X-Amz-Target header: expected TrentService.<Operation>")
    if not value.startswith(TARGET_PREFIX) or len(value) == len(TARGET_PREFIX):
        raise WireError("UnknownOperationException", f"Unknown target '{value[:128]}': expected TrentService.<Operation>")
    return value[len(TARGET_PREFIX) :]


def parse_body(body: bytes) -> Any:
    """The JSON value of a request body (an empty body is ``{}``); SerializationException otherwise."""
    if not body.strip():
        return {}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise serialization_error("The request body is not UTF-8") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise serialization_error(f"The request body is not valid JSON: {str(error).splitlines()[0][:200]}") from None
    if not isinstance(value, dict):
        raise serialization_error("The request body must be a JSON object")
    if "\\u" in text and _has_unpaired_surrogate(value):  # only a \u escape can make one: the UTF-8 decode refused raw ones
        raise serialization_error("The request body holds an unpaired UTF-16 surrogate escape; strings must be Unicode text")
    return value


def _has_unpaired_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def success_body(data: dict[str, Any]) -> bytes:
    # backslashreplace turns a stray surrogate into its JSON escape instead of failing the response
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "backslashreplace")


def error_body(code: str, message: str) -> bytes:
    """AWS's error body; an empty message is left out, as AWS leaves it out (InvalidCiphertextException...)."""
    body = {"__type": code, "message": message} if message else {"__type": code}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "backslashreplace")


def error_for(error: BaseException, *, request_id: str, operation: str | None) -> tuple[int, bytes]:
    """The HTTP status and JSON error body for ``error``; genuine bugs are logged and answered 500."""
    if isinstance(error, WireError):
        return error.status, error_body(error.code, error.message)
    if isinstance(error, KMSError):
        return error.status, error_body(error.code, error.message)
    if isinstance(error, StoreError):
        log.warning("request %s (%s): the store failed: %s", request_id, operation, error)
        return 500, error_body("DependencyTimeoutException", "The key store could not complete the request; try again")
    if isinstance(error, PolicyEngineError):
        return 400, error_body("ValidationException", str(error).splitlines()[0] if str(error) else "Invalid request")
    log.error("request %s (%s) failed with an internal error", request_id, operation, exc_info=error)
    return 500, error_body("KMSInternalException", f"{INTERNAL_MESSAGE} (request {request_id})")
