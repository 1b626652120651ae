"""GetKeyLastUsage: when a key was last used for cryptography, read from the audit trail.

AWS keeps this as its own record; here the audit trail already holds every call with its event id,
request id and time, so the answer is its newest successful tracked call on the key. That read
grows with the trail (the operation is for humans and audits, not for hot paths).
"""

from __future__ import annotations

from typing import Any

from policyengine.aws_facts import CRYPTOGRAPHIC_API_OPERATIONS
from policyengine.kms import validation
from policyengine.kms.caller import Caller
from policyengine.kms.core import KmsCore, Response, iso

__all__ = ["UsageOps"]


class UsageOps(KmsCore):
    """GetKeyLastUsage."""

    def get_key_last_usage(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            with self.reading() as tx:
                key = self.resolve_key(tx, caller, ref, aliases=False)
                self.authorize(tx, caller, "kms:GetKeyLastUsage", key)
            last: dict[str, Any] | None = None
            for record in self.store.audit_records():
                if record.key_arn == key.arn and record.error_code is None and record.event_name in CRYPTOGRAPHIC_API_OPERATIONS:
                    last = {
                        "Operation": record.event_name,
                        "Timestamp": iso(record.event_time),
                        "CloudTrailEventId": str(record.event.get("eventID", "")),
                        "KmsRequestId": str(record.event.get("requestID", "")),
                    }
            response: Response = {
                "KeyId": key.arn,
                "TrackingStartDate": iso(key.creation_date),
                "KeyCreationDate": iso(key.creation_date),
            }
            if last is not None:
                response["KeyLastUsage"] = last
            return response, key.arn

        return self._call("GetKeyLastUsage", caller, params, work)
