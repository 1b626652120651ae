"""From an authenticated call to the facade and back: decode, call ``LocalKms``, encode.

The facade is called exactly as a Python user would call it (``kms.encrypt(caller, **params)``),
so every authorization, state check and audit record is the facade's; this module only maps
names and shapes. Operations AWS has and the local KMS does not (custom key stores,
multi-Region replication) answer ``UnsupportedOperationException``; names AWS does not have
answer ``UnknownOperationException``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from policyengine.aws_facts import CRYPTOGRAPHIC_API_OPERATIONS
from policyengine.kms import OPERATIONS, Caller, snake_case
from policyengine.server.errors import WireError
from policyengine.server.shapes import ServiceCodec
from policyengine.server.state import KmsState

__all__ = ["Dispatcher"]

# DryRun on an operation that only reads: run it for real (every check, no lasting change
# beyond the audit record) and answer as AWS does when it would have succeeded.
_DRY_RUN_READ_ONLY = CRYPTOGRAPHIC_API_OPERATIONS


class Dispatcher:
    """Calls the facade for one decoded request and returns the JSON-ready response."""

    def __init__(self, state: KmsState, codec: ServiceCodec) -> None:
        self.state = state
        self.codec = codec
        self._methods = {name: snake_case(name) for name in OPERATIONS}

    def call(self, operation: str, caller: Caller, region: str, body: Any) -> dict[str, Any]:
        method_name = self._methods.get(operation)
        if operation not in self.codec.operation_names:
            if method_name is not None:  # an old botocore: its model predates the operation
                raise WireError("UnsupportedOperationException", f"the installed botocore has no model of {operation}")
            raise WireError("UnknownOperationException", f"Unknown operation {operation[:128]}")
        if method_name is None:
            raise WireError("UnsupportedOperationException", f"policyengine's local KMS does not implement {operation}")
        codec = self.codec.operation(operation)
        params = codec.decode(body)
        dry_run = bool(params.pop("DryRun", False))
        if dry_run and operation not in _DRY_RUN_READ_ONLY:
            raise WireError(
                "UnsupportedOperationException", f"policyengine's local KMS does not implement DryRun for {operation}"
            )
        method: Callable[..., dict[str, Any]] = getattr(self.state.view(region), method_name)
        response = method(caller, **params)
        if dry_run:
            raise WireError("DryRunOperationException", "The request would have succeeded, but the DryRun option is set.", 400)
        return codec.encode(response)
