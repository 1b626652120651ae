"""Facts about KMS operations that the authorizer needs (API Reference, "Cross-account use").

Only data and tiny predicates live here; the rules that use them are in ``authorizer.py``.
"""

from __future__ import annotations

from policyengine.model.request import Request

#: Operations a principal in another account may call on a key (when both sides allow).
CROSS_ACCOUNT_OPERATIONS = frozenset(
    op.lower()
    for op in (
        "CreateGrant",
        "Decrypt",
        "DeriveSharedSecret",
        "DescribeKey",
        "Encrypt",
        "GenerateDataKey",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateMac",
        "GetKeyRotationStatus",
        "GetPublicKey",
        "ListGrants",
        "ReEncryptFrom",
        "ReEncryptTo",
        "RetireGrant",
        "RevokeGrant",
        "Sign",
        "Verify",
        "VerifyMac",
        "Encapsulate",
        "Decapsulate",
    )
)


def is_key_request(request: Request) -> bool:
    """True for a KMS action on a key ARN: the key policy then governs (KMS DG key policies)."""
    if request.service != "kms":
        return False
    resource = request.resource
    if not resource.startswith("arn:"):
        return False
    parts = resource.split(":", 5)
    return len(parts) == 6 and parts[2] == "kms" and parts[5].startswith("key/")


def allowed_cross_account(request: Request) -> bool:
    """Whether the requested KMS operation may be called on a key in another account."""
    return request.action_lower.partition(":")[2] in CROSS_ACCOUNT_OPERATIONS


def grant_operation(request: Request) -> str:
    """The grant operation name for a KMS action (``kms:Decrypt`` -> ``Decrypt``)."""
    return request.action.partition(":")[2]


_CRYPTO = frozenset(
    op.lower()
    for op in (
        "Encrypt",
        "Decrypt",
        "ReEncryptFrom",
        "ReEncryptTo",
        "GenerateDataKey",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
        "GenerateDataKeyWithoutPlaintext",
        "Sign",
        "Verify",
        "GenerateMac",
        "VerifyMac",
        "GetPublicKey",
        "CreateGrant",
        "DeriveSharedSecret",
    )
)
_ANY_STATE = frozenset(
    op.lower()
    for op in (
        "DescribeKey",
        "GetKeyPolicy",
        "PutKeyPolicy",
        "ListGrants",
        "ListKeyPolicies",
        "ListResourceTags",
        "RetireGrant",
        "RevokeGrant",
        "DeleteAlias",
        "ListAliases",
    )
)
_NOT_PENDING_DELETION = frozenset(op.lower() for op in ("TagResource", "UntagResource", "UpdateKeyDescription", "CreateAlias"))


def key_state_error(operation: str, state: str) -> str | None:
    """The KMS error an authorized call gets in this key state (KMS DG key-state table), or None."""
    op = operation.lower()
    if state == "Enabled" or op in _ANY_STATE:
        return None
    if op in _CRYPTO:
        return "DisabledException" if state == "Disabled" else "KMSInvalidStateException"
    if op in ("enablekey", "disablekey"):
        return "KMSInvalidStateException" if state in ("PendingDeletion", "PendingImport") else None
    if op == "schedulekeydeletion":
        return "KMSInvalidStateException" if state == "PendingDeletion" else None
    if op == "cancelkeydeletion":
        return None if state == "PendingDeletion" else "KMSInvalidStateException"
    if op in _NOT_PENDING_DELETION:
        return "KMSInvalidStateException" if state == "PendingDeletion" else None
    if op in ("enablekeyrotation", "disablekeyrotation"):
        return {"Disabled": "DisabledException", "PendingImport": "UnsupportedOperationException"}.get(
            state, "KMSInvalidStateException"
        )
    return "KMSInvalidStateException" if state in ("PendingDeletion", "Unavailable") else None
