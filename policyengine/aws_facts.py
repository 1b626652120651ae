"""AWS facts every layer reads: KMS operations, derived context keys, principal kinds.

These are data, not rules: which KMS operations can cross accounts, which a grant may allow,
which carry an encryption context, how each behaves in each key state, which are part of the
key-policy lockout check; which context keys AWS derives from the caller, the action or the
resource, and how; what each kind of caller is called in ``aws:PrincipalType`` and at which
levels a ``NotPrincipal`` list is checked. Request building, the evaluator, partial
evaluation, the symbolic encoder, the linter, the local KMS and the server all read them
here, so no second copy can drift.

Sources: KMS API Reference (each operation's "Cross-account use" line, CreateGrant
``Operations``, GrantConstraints), KMS DG "Key states of AWS KMS keys" and "AWS KMS condition
keys", IAM UG "AWS global condition context keys" and "NotPrincipal" (SEMANTICS.md §4, §6).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: How an operation behaves in each key state (KMS DG key-state table, SEMANTICS §4.7).
StateClass = Literal[
    "crypto",  # usable only when Enabled
    "any_state",  # works in every state
    "enable_disable",  # EnableKey, DisableKey
    "schedule_deletion",
    "cancel_deletion",
    "not_pending_deletion",  # refused only while the key waits for deletion
    "rotation",
    "keyless",  # no key resource (CreateKey, ListKeys, ...)
    "other",  # refused while pending deletion or unavailable
]


@dataclass(frozen=True, slots=True)
class KmsOperation:
    """One KMS operation name: an API operation, an IAM permission, or both.

    ``api``: an operation of the KMS API; ``permission``: a ``kms:`` action in policies
    (ReEncrypt is an API operation authorized by the ReEncryptFrom and ReEncryptTo permissions).
    ``on_key``: the request names a key, so the key policy governs; ``cross_account``: a caller
    of another account may call it on the key; ``grant``: a grant may allow it;
    ``encryption_context``: the request carries an encryption context (grant constraints apply);
    ``lockout``: the call installs a key policy, so the lockout safety check runs;
    ``reads_only``: the call changes nothing. ``group``: what the permission lets a principal do
    (use the key, manage grants, change or destroy the key, or read about it), the split
    separation of duties is judged by.
    """

    name: str
    api: bool = True
    permission: bool = True
    on_key: bool = True
    cross_account: bool = False
    grant: bool = False
    encryption_context: bool = False
    state: StateClass = "other"
    lockout: bool = False
    reads_only: bool = False
    group: Literal["crypto", "grant", "administer", "read"] = "read"

    @property
    def action(self) -> str:
        return f"kms:{self.name}"


def _crypto(name: str, *, context: bool = False, grant: bool = True, api: bool = True, permission: bool = True) -> KmsOperation:
    return KmsOperation(
        name,
        api=api,
        permission=permission,
        cross_account=True,
        grant=grant,
        encryption_context=context,
        state="crypto",
        reads_only=True,
        group="crypto",
    )


_OPERATIONS: tuple[KmsOperation, ...] = (
    # Cryptographic operations: cross-account, grantable, Enabled keys only.
    _crypto("Encrypt", context=True),
    _crypto("Decrypt", context=True),
    _crypto("ReEncrypt", context=True, grant=False, permission=False),
    _crypto("ReEncryptFrom", context=True, api=False),
    _crypto("ReEncryptTo", context=True, api=False),
    _crypto("GenerateDataKey", context=True),
    _crypto("GenerateDataKeyWithoutPlaintext", context=True),
    _crypto("GenerateDataKeyPair", context=True),
    _crypto("GenerateDataKeyPairWithoutPlaintext", context=True),
    _crypto("Sign"),
    _crypto("Verify"),
    _crypto("GenerateMac"),
    _crypto("VerifyMac"),
    KmsOperation("GetPublicKey", cross_account=True, grant=True, state="crypto", reads_only=True),
    _crypto("DeriveSharedSecret"),
    KmsOperation("Encapsulate", cross_account=True, grant=True, state="crypto", reads_only=True, group="crypto"),
    KmsOperation("Decapsulate", cross_account=True, grant=True, state="crypto", reads_only=True, group="crypto"),
    KmsOperation("CreateGrant", cross_account=True, grant=True, state="crypto", group="grant"),
    # Reading and grant management: every key state.
    KmsOperation("DescribeKey", cross_account=True, grant=True, state="any_state", reads_only=True),
    KmsOperation("GetKeyRotationStatus", cross_account=True, reads_only=True),
    KmsOperation("ListGrants", cross_account=True, state="any_state", reads_only=True, group="grant"),
    KmsOperation("RetireGrant", cross_account=True, grant=True, state="any_state", group="grant"),
    KmsOperation("RevokeGrant", cross_account=True, state="any_state", group="grant"),
    KmsOperation("GetKeyPolicy", state="any_state", reads_only=True),
    KmsOperation("PutKeyPolicy", state="any_state", lockout=True, group="administer"),
    KmsOperation("ListKeyPolicies", state="any_state", reads_only=True),
    KmsOperation("ListResourceTags", state="any_state", reads_only=True),
    KmsOperation("DeleteAlias", state="any_state"),
    # Key administration: the key's own account only.
    KmsOperation("EnableKey", state="enable_disable", group="administer"),
    KmsOperation("DisableKey", state="enable_disable", group="administer"),
    KmsOperation("ScheduleKeyDeletion", state="schedule_deletion", group="administer"),
    KmsOperation("CancelKeyDeletion", state="cancel_deletion", group="administer"),
    KmsOperation("TagResource", state="not_pending_deletion", group="administer"),
    KmsOperation("UntagResource", state="not_pending_deletion", group="administer"),
    KmsOperation("UpdateKeyDescription", state="not_pending_deletion", group="administer"),
    KmsOperation("CreateAlias", state="not_pending_deletion"),
    KmsOperation("UpdateAlias"),
    KmsOperation("EnableKeyRotation", state="rotation", group="administer"),
    KmsOperation("DisableKeyRotation", state="rotation", group="administer"),
    KmsOperation("RotateKeyOnDemand", group="administer"),
    KmsOperation("ListKeyRotations", reads_only=True),
    KmsOperation("GetParametersForImport"),
    KmsOperation("ImportKeyMaterial", group="administer"),
    KmsOperation("DeleteImportedKeyMaterial", group="administer"),
    KmsOperation("ReplicateKey", group="administer"),
    KmsOperation("UpdatePrimaryRegion", group="administer"),
    KmsOperation("GetKeyLastUsage", reads_only=True),
    # No key resource: granted by IAM policies only (SEMANTICS §4.5).
    KmsOperation("CreateKey", on_key=False, state="keyless", lockout=True),
    KmsOperation("ListKeys", on_key=False, state="keyless", reads_only=True),
    KmsOperation("ListAliases", on_key=False, state="any_state", reads_only=True),
    KmsOperation("GenerateRandom", on_key=False, state="keyless", reads_only=True),
    KmsOperation("ListRetirableGrants", on_key=False, state="keyless", reads_only=True),
    KmsOperation("CreateCustomKeyStore", on_key=False, state="keyless"),
    KmsOperation("ConnectCustomKeyStore", on_key=False, state="keyless"),
    KmsOperation("DisconnectCustomKeyStore", on_key=False, state="keyless"),
    KmsOperation("DeleteCustomKeyStore", on_key=False, state="keyless"),
    KmsOperation("UpdateCustomKeyStore", on_key=False, state="keyless"),
    KmsOperation("DescribeCustomKeyStores", on_key=False, state="keyless", reads_only=True),
)

#: Every KMS operation by its AWS name.
KMS_OPERATIONS: dict[str, KmsOperation] = {op.name: op for op in _OPERATIONS}
_BY_LOWER: dict[str, KmsOperation] = {op.name.lower(): op for op in _OPERATIONS}

#: Operations a grant may allow (API CreateGrant ``Operations``), by AWS spelling.
GRANT_OPERATIONS = frozenset(op.name for op in _OPERATIONS if op.grant)
#: Operations whose requests carry an encryption context; grant constraints apply only to them.
CONTEXT_OPERATIONS = frozenset(op.name for op in _OPERATIONS if op.encryption_context and op.permission)
#: Lowercased operation names a caller of another account may call on a key.
CROSS_ACCOUNT_OPERATIONS = frozenset(op.name.lower() for op in _OPERATIONS if op.cross_account and op.permission)
#: Lowercased permission names by group (what separation of duties is judged by).
KMS_GROUPS: dict[str, frozenset[str]] = {
    group: frozenset(op.name.lower() for op in _OPERATIONS if op.permission and op.group == group)
    for group in ("crypto", "grant", "administer", "read")
}


def kms_group(action: str) -> str:
    """``administer``, ``crypto``, ``grant`` or ``read`` for a KMS permission name (``Decrypt``)."""
    lowered = action.lower()
    for group in ("crypto", "grant", "administer"):
        if lowered in KMS_GROUPS[group]:
            return group
    return "read"


#: The cryptographic API operations: what DryRun runs for real and what GetKeyLastUsage tracks
#: (botocore's ``KeyLastUsageTrackingOperation`` enum; a test compares the two).
CRYPTOGRAPHIC_API_OPERATIONS = frozenset(op.name for op in _OPERATIONS if op.api and op.group == "crypto")
#: API operations of KMS, by AWS spelling.
API_OPERATIONS = tuple(op.name for op in _OPERATIONS if op.api)


def kms_operation(name: str) -> KmsOperation | None:
    """The operation named ``name`` (``Decrypt``, ``kms:decrypt``, ...), case ignored, or None."""
    return _BY_LOWER.get(name.rpartition(":")[2].lower())


def canonical_operation(action: str) -> str:
    """The operation part of a ``kms:`` action in AWS's spelling (``kms:decrypt`` -> ``Decrypt``).

    Actions match case-insensitively everywhere (IAM UG, Action element); grants list
    operations in AWS's spelling, so a request's action is put in that spelling before the
    lookup. An unknown name comes back as written.
    """
    operation = action.rpartition(":")[2]
    found = _BY_LOWER.get(operation.lower())
    return found.name if found is not None else operation


def key_state_error(operation: str, state: str) -> str | None:
    """The KMS error an authorized call gets in this key state (KMS DG key-state table), or None."""
    if state == "Enabled":
        return None
    op = kms_operation(operation)
    cls = op.state if op is not None else "other"
    if cls in ("any_state", "keyless"):
        return None
    if cls == "crypto":
        return "DisabledException" if state == "Disabled" else "KMSInvalidStateException"
    if cls == "enable_disable":
        return "KMSInvalidStateException" if state in ("PendingDeletion", "PendingImport") else None
    if cls == "schedule_deletion":
        return "KMSInvalidStateException" if state == "PendingDeletion" else None
    if cls == "cancel_deletion":
        return None if state == "PendingDeletion" else "KMSInvalidStateException"
    if cls == "not_pending_deletion":
        return "KMSInvalidStateException" if state == "PendingDeletion" else None
    if cls == "rotation":
        return {"Disabled": "DisabledException", "PendingImport": "UnsupportedOperationException"}.get(
            state, "KMSInvalidStateException"
        )
    return "KMSInvalidStateException" if state in ("PendingDeletion", "Unavailable") else None


# -- derived context keys ----------------------------------------------------------------------

Source = Literal["caller", "resource", "action"]


@dataclass(frozen=True, slots=True)
class DerivedKey:
    """A context key AWS sets on every request of a kind, from the caller, the resource or the action."""

    key: str  # lowercased, as the request context stores it
    source: Source
    how: str


DERIVED_KEYS: tuple[DerivedKey, ...] = (
    DerivedKey("aws:principalarn", "caller", "the caller's ARN; for a role session, the role's ARN"),
    DerivedKey("aws:principalaccount", "caller", "the caller's account"),
    DerivedKey("aws:principaltype", "caller", "User, AssumedRole, FederatedUser or Account (see PRINCIPAL_TYPES)"),
    DerivedKey("aws:principalisawsservice", "caller", "true for a service principal, false otherwise"),
    DerivedKey("aws:principalservicename", "caller", "a service principal's name; absent for other callers"),
    DerivedKey("aws:username", "caller", "an IAM user's name; absent for other callers"),
    DerivedKey("kms:calleraccount", "caller", "the caller's account, on kms: actions"),
    DerivedKey("aws:resourceaccount", "resource", "the account in the resource ARN (or the given resource account)"),
    DerivedKey("kms:bypasspolicylockoutsafetycheck", "action", "the request's flag, on CreateKey and PutKeyPolicy"),
)
#: Their names, lowercased.
DERIVED_KEY_NAMES = frozenset(d.key for d in DERIVED_KEYS)
#: The derived keys that name the caller or its account (text a policy compares with ARNs and ids).
CALLER_TEXT_KEYS = frozenset(
    (
        "aws:principalarn",
        "aws:principalaccount",
        "kms:calleraccount",
        "aws:resourceaccount",
        "aws:username",
        "aws:principalservicename",
    )
)

# -- principal kinds ---------------------------------------------------------------------------

#: ``aws:PrincipalType`` by caller kind (IAM UG global condition keys). A role given as the caller
#: stands for its sessions.
PRINCIPAL_TYPES: dict[str, str] = {
    "user": "User",
    "assumed_role": "AssumedRole",
    "federated_user": "FederatedUser",
    "account": "Account",
    "role": "AssumedRole",
    "anonymous": "Anonymous",
}

#: The identity levels AWS checks a ``NotPrincipal`` list against, by caller kind (IAM UG,
#: NotPrincipal: a role session escapes only when session, role and account are all listed).
NOT_PRINCIPAL_LEVELS: dict[str, tuple[str, ...]] = {
    "user": ("user", "account"),
    "assumed_role": ("session", "role", "account"),
    "role": ("role", "account"),
    "federated_user": ("federated_user", "account"),
    "account": ("account",),
    "service": ("service",),
    "anonymous": ("anonymous",),  # no list names it: a Deny with NotPrincipal always reaches it
}

#: The request principal that stands for an unsigned request. Only a wildcard principal (``"*"``
#: or ``{"AWS": "*"}``, which the IAM UG's Principal page calls equivalent) admits it; it has no
#: identity policies, no account and no organization (IAM UG, "AWS JSON policy elements:
#: Principal", anonymous users). AWS KMS accepts signed requests only (KMS API Reference,
#: "Signing requests"), so an anonymous KMS request on a key is refused whatever its policy says.
ANONYMOUS = "anonymous"

#: Caller kinds whose requests a resource policy naming the role's ARN caps with the role's
#: permissions boundary and session policy (IAM UG evaluation logic: a role ARN, unlike a session
#: ARN, does not lift those implicit denies).
ROLE_KINDS = frozenset(("assumed_role", "role"))

#: The IAM path of service-linked roles: SCPs do not restrict them (Organizations UG, SCPs,
#: "Tasks and entities not restricted by SCPs").
SERVICE_LINKED_ROLE_PATH = "/aws-service-role/"
