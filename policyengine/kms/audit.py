"""CloudTrail-shaped audit records, one per call, with no secret ever in them.

``request_parameters`` keeps only names known to be safe (key ids, algorithms, encryption
context, grant fields...); plaintext, ciphertext, data keys, key material, MACs and signatures
are never copied, whatever the caller sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from policyengine.kms.caller import Caller

#: Request parameters that may appear in an audit record (everything else is dropped).
SAFE_PARAMETERS = frozenset(
    {
        "KeyId",
        "SourceKeyId",
        "DestinationKeyId",
        "EncryptionContext",
        "SourceEncryptionContext",
        "DestinationEncryptionContext",
        "EncryptionAlgorithm",
        "SourceEncryptionAlgorithm",
        "DestinationEncryptionAlgorithm",
        "KeySpec",
        "KeyUsage",
        "NumberOfBytes",
        "KeyPairSpec",
        "SigningAlgorithm",
        "MessageType",
        "MacAlgorithm",
        "AliasName",
        "TargetKeyId",
        "GranteePrincipal",
        "RetiringPrincipal",
        "Operations",
        "Constraints",
        "Name",
        "GrantId",
        "PolicyName",
        "BypassPolicyLockoutSafetyCheck",
        "PendingWindowInDays",
        "RotationPeriodInDays",
        "Description",
        "Origin",
        "MultiRegion",
        "TagKeys",
        "Tags",
        "WrappingAlgorithm",
        "WrappingKeySpec",
        "ValidTo",
        "ExpirationModel",
        "Limit",
        "Marker",
        "IncludeKeyMaterial",
    }
)

READ_ONLY = frozenset(
    {
        "DescribeKey",
        "GetKeyPolicy",
        "GetKeyRotationStatus",
        "GetPublicKey",
        "ListAliases",
        "ListGrants",
        "ListKeyPolicies",
        "ListKeyRotations",
        "ListKeys",
        "ListResourceTags",
        "ListRetirableGrants",
        "GetParametersForImport",
    }
)


def iso_time(epoch: float) -> str:
    """Epoch seconds as CloudTrail writes times (``2026-01-01T00:00:00Z``)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def user_identity(caller: Caller) -> dict[str, Any]:
    kind = "Root" if caller.is_root else "AssumedRole" if ":assumed-role/" in caller.principal else "IAMUser"
    return {"type": kind, "arn": caller.principal, "accountId": caller.account}


def safe_parameters(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The request parameters that may be recorded (never plaintext, ciphertext or material)."""
    return {k: _jsonable(v) for k, v in parameters.items() if k in SAFE_PARAMETERS}


def _jsonable(value: Any) -> Any:
    """Parameters as JSON: times as ISO text, anything binary dropped (it could be secret)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, bytes | bytearray | memoryview):
        return None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def build_event(
    *,
    event_time: float,
    event_name: str,
    caller: Caller,
    region: str,
    parameters: Mapping[str, Any],
    response: Mapping[str, Any] | None,
    key_arn: str | None,
    error_code: str | None,
    error_message: str | None,
    additional: Mapping[str, Any] | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """One CloudTrail record for a KMS call; ``requestID`` is the id the client was answered with."""
    event: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": user_identity(caller),
        "eventTime": iso_time(event_time),
        "eventSource": "kms.amazonaws.com",
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": caller.via_service or caller.source_ip or "127.0.0.1",
        "userAgent": caller.user_agent,
        "requestParameters": safe_parameters(parameters),
        "responseElements": dict(response) if response is not None else None,
        "requestID": request_id or str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": event_name in READ_ONLY,
        "resources": [{"accountId": key_arn.split(":")[4], "type": "AWS::KMS::Key", "ARN": key_arn}] if key_arn else [],
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": caller.account,
        "eventCategory": "Management",
    }
    if error_code is not None:
        event["errorCode"] = error_code
        event["errorMessage"] = error_message or ""
    if additional:
        event["additionalEventData"] = dict(additional)
    return event
