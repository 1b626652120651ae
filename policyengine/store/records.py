"""What the local KMS keeps: keys, their material versions, aliases, grants, tags, import
parameters and audit events, as plain frozen records.

Records carry no behaviour; the facade decides, the store keeps. Key material is stored only
sealed (``sealed_material``: encrypted under the store's master key by the facade), so a store
never holds plaintext key material. Times are epoch seconds (float) from the injected clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """One KMS key's metadata and state (DescribeKey's KeyMetadata plus what the lifecycle needs)."""

    key_id: str
    arn: str
    account: str
    region: str
    key_spec: str  # SYMMETRIC_DEFAULT, RSA_2048, ECC_NIST_P256, HMAC_256, ...
    key_usage: str  # ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC, KEY_AGREEMENT
    origin: str  # AWS_KMS or EXTERNAL
    key_manager: str  # CUSTOMER or AWS
    state: str  # Enabled, Disabled, PendingDeletion, PendingImport
    creation_date: float
    policy: str  # the key policy document text (policy name "default")
    description: str = ""
    deletion_date: float | None = None
    pending_window_days: int | None = None
    rotation_enabled: bool = False
    rotation_period_days: int | None = None
    next_rotation_date: float | None = None
    on_demand_rotations: int = 0
    valid_to: float | None = None  # imported material expiry
    expiration_model: str | None = None  # KEY_MATERIAL_EXPIRES / KEY_MATERIAL_DOES_NOT_EXPIRE
    tags: dict[str, str] = field(default_factory=dict)
    material_fingerprint: str | None = None  # keyed digest of imported material: reimports must match it
    # Multi-Region keys only: {"primary": region, "regions": [the primary's and every replica's region]},
    # the same in every related key's record. A replica's record is stored as "<mrk-id>@<region>" (see kms.core).
    multi_region: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class MaterialRecord:
    """One version of a key's material; version 1 is the first, rotation adds the next."""

    key_id: str
    version: int
    sealed_material: bytes
    created: float
    rotation_type: str | None = None  # None for the first; AUTOMATIC or ON_DEMAND for rotations
    imported: bool = False


@dataclass(frozen=True, slots=True)
class AliasRecord:
    """``alias/name`` in one account and region, pointing at a key id."""

    account: str
    region: str
    alias_name: str
    target_key_id: str
    creation_date: float
    last_updated: float


@dataclass(frozen=True, slots=True)
class GrantRecord:
    """A grant as CreateGrant made it (operations without the ``kms:`` prefix)."""

    grant_id: str
    key_id: str
    key_arn: str
    grantee_principal: str
    operations: tuple[str, ...]
    issuing_account: str
    creation_date: float
    grant_token: str
    retiring_principal: str | None = None
    name: str | None = None
    constraints: dict[str, dict[str, str]] | None = None  # {"EncryptionContextEquals": {...}} or Subset


@dataclass(frozen=True, slots=True)
class ImportParameters:
    """GetParametersForImport's answer, kept until ImportKeyMaterial uses it or it expires."""

    key_id: str
    import_token: str
    sealed_wrapping_key: bytes  # the wrapping private key, sealed like key material
    wrapping_algorithm: str
    wrapping_key_spec: str
    expires: float


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One CloudTrail-shaped event (``event`` is the JSON-ready record) with its sequence number."""

    sequence: int
    event_time: float
    event_name: str
    principal: str
    key_arn: str | None
    error_code: str | None
    event: dict[str, Any]
