"""Errors the wire layer answers with itself, before or around the KMS facade.

The facade's ``KMSError`` classes cover what KMS decides about keys and policies. What is
left is the protocol's own vocabulary, which AWS answers before any KMS code runs: a
request that cannot be authenticated, a body that is not JSON, a target that names no
operation. Each ``WireError`` carries AWS's ``__type`` code and HTTP status so the app can
answer it exactly like a facade error.

::

    PolicyEngineError
    └── StartupError                            the server cannot start (address, data directory)

    Exception
    └── WireError                               code, status, message
        (codes: MissingAuthenticationTokenException, IncompleteSignatureException,
         InvalidSignatureException, UnrecognizedClientException, SerializationException,
         ValidationException, UnknownOperationException, UnsupportedOperationException,
         DryRunOperationException, RequestEntityTooLargeException, NotFound, MethodNotAllowed)
"""

from __future__ import annotations

from policyengine.errors import PolicyEngineError

__all__ = [
    "SIGNATURE_MISMATCH",
    "UNKNOWN_CLIENT",
    "StartupError",
    "WireError",
    "incomplete_signature",
    "invalid_signature",
    "serialization_error",
    "unrecognized_client",
]


class StartupError(PolicyEngineError):
    """The server cannot start: the address cannot be bound or the data directory cannot be used."""


class WireError(Exception):
    """An error response decided by the wire layer: AWS's ``__type`` code, HTTP status and message."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def __repr__(self) -> str:
        return f"WireError({self.code!r}, {self.message!r}, {self.status})"


def serialization_error(message: str) -> WireError:
    """The JSON body, or one of its members, has the wrong shape (AWS: SerializationException)."""
    return WireError("SerializationException", message)


def invalid_signature(message: str) -> WireError:
    return WireError("InvalidSignatureException", message)


def incomplete_signature(message: str) -> WireError:
    return WireError("IncompleteSignatureException", message)


#: AWS's words when the signature does not match (the same text for every SigV4 mismatch).
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

#: AWS's words for an access key id it does not know (or a session token that does not fit).
UNKNOWN_CLIENT = "The security token included in the request is invalid."


def unrecognized_client() -> WireError:
    return WireError("UnrecognizedClientException", UNKNOWN_CLIENT)
