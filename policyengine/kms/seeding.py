"""Putting existing keys into the local KMS as they are: their own key ids and ARNs, key
policies, aliases, grants, tags and states, with fresh key material.

Why not CreateKey: CreateKey makes a new key id, and a test seeded from a production snapshot
needs the production ids, so that a role policy naming ``arn:aws:kms:...:key/<id>`` and an
application configured with an alias or key ARN work unchanged. The material is new (AWS never
lets key material out), so ciphertexts made in production do not decrypt locally; everything
the application encrypts in its tests does.

Multi-Region keys: the records of one ``mrk-`` id in several regions of an account are one
multi-Region key sharing its material; the first one given is the primary. Keys of origin
EXTERNAL get generated material recorded as imported (their real material is not in any
snapshot), unless the state is ``PendingImport``; then they have none, as on AWS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from policyengine.kms.core import KmsCore, key_arn, replica_record_id
from policyengine.kms.grant_tokens import make_token
from policyengine.kms.keyspecs import SYMMETRIC, new_material
from policyengine.store.records import AliasRecord, GrantRecord, KeyRecord

__all__ = ["SeedGrant", "SeedKey", "seed_keys"]

#: The waiting period a key seeded as PendingDeletion gets (AWS's default; a snapshot has no date).
_SEEDED_DELETION_DAYS = 30
_YEAR_DAYS = 365


@dataclass(frozen=True)
class SeedGrant:
    """A grant as ListGrants shows it (operations with or without the ``kms:`` prefix)."""

    grant_id: str
    grantee_principal: str
    operations: tuple[str, ...]
    issuing_account: str
    constraints: dict[str, dict[str, str]] | None = None  # {"EncryptionContextEquals": {...}} or Subset
    retiring_principal: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class SeedKey:
    """One key to put in the store, already checked (spec, usage, origin, state, ARN)."""

    key_id: str  # as AWS shows it (a UUID, or mrk-... for a multi-Region key)
    account: str
    region: str
    policy: str  # the key policy's text
    key_spec: str = SYMMETRIC
    key_usage: str = "ENCRYPT_DECRYPT"
    origin: str = "AWS_KMS"
    key_manager: str = "CUSTOMER"
    state: str = "Enabled"
    description: str = ""
    multi_region: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    grants: tuple[SeedGrant, ...] = ()

    @property
    def arn(self) -> str:
        return key_arn(self.region, self.account, self.key_id)


def seed_keys(kms: KmsCore, keys: Sequence[SeedKey]) -> list[KeyRecord]:
    """Store those of ``keys`` not in the store yet, in one transaction; the records added.

    A key whose id is already there is kept as it is (with its material, aliases and grants), so
    processes sharing a store can seed from the same snapshot; a multi-Region key is added with all
    its related keys or not at all, so that they share one material.
    """
    now = kms.clock.now()
    regions: dict[tuple[str, str], list[str]] = {}
    for key in keys:
        if key.multi_region:
            regions.setdefault((key.account, key.key_id), []).append(key.region)
    added: list[KeyRecord] = []
    materials: dict[tuple[str, str], bytes] = {}  # one per multi-Region key, shared by its related keys
    with kms.store.transaction() as tx:
        present = {key.key_id for key in keys if tx.get_key(key.key_id) is not None}  # before any is added
        for key in keys:
            if key.key_id in present:
                continue  # there already (a multi-Region key: its primary is)
            config: dict[str, Any] | None = None
            record_id = key.key_id
            if key.multi_region:
                related = regions[(key.account, key.key_id)]
                config = {"primary": related[0], "regions": list(related)}
                if key.region != related[0]:
                    record_id = replica_record_id(key.key_id, key.region)
            material = None
            if key.state != "PendingImport":
                material = materials.get((key.account, key.key_id)) or new_material(key.key_spec)
                materials[(key.account, key.key_id)] = material
            record = _record(kms, key, record_id, config, material, now)
            tx.put_key(record)
            if material is not None:
                kms.new_material(tx, record_id, 1, material, now, imported=key.origin == "EXTERNAL")
            added.append(record)
            for alias in key.aliases:
                tx.put_alias(AliasRecord(key.account, key.region, alias, record.key_id, now, now))
            for grant in key.grants:
                tx.put_grant(_grant(grant, record, now))
    kms.wake_scheduler()
    return added


def _record(
    kms: KmsCore, key: SeedKey, record_id: str, config: dict[str, Any] | None, material: bytes | None, now: float
) -> KeyRecord:
    imported = key.origin == "EXTERNAL"
    rotates = key.key_manager == "AWS"  # AWS managed keys rotate every year; a snapshot says nothing of others
    state = key.state
    return KeyRecord(
        key_id=record_id,
        arn=key.arn,
        account=key.account,
        region=key.region,
        key_spec=key.key_spec,
        key_usage=key.key_usage,
        origin=key.origin,
        key_manager=key.key_manager,
        state=state,
        creation_date=now,
        policy=key.policy,
        description=key.description,
        deletion_date=now + _SEEDED_DELETION_DAYS * 86400 if state in ("PendingDeletion", "PendingReplicaDeletion") else None,
        pending_window_days=_SEEDED_DELETION_DAYS if state in ("PendingDeletion", "PendingReplicaDeletion") else None,
        rotation_enabled=rotates,
        rotation_period_days=_YEAR_DAYS if rotates else None,
        next_rotation_date=now + _YEAR_DAYS * 86400 if rotates else None,
        expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE" if imported and material is not None else None,
        tags=dict(key.tags),
        material_fingerprint=kms.fingerprint(material) if imported and material is not None else None,
        multi_region=config,
    )


def _grant(grant: SeedGrant, key: KeyRecord, now: float) -> GrantRecord:
    return GrantRecord(
        grant_id=grant.grant_id,
        key_id=key.key_id,
        key_arn=key.arn,
        grantee_principal=grant.grantee_principal,
        operations=tuple(op.removeprefix("kms:") for op in grant.operations),
        issuing_account=grant.issuing_account,
        creation_date=now,
        grant_token=make_token(grant.grant_id),
        retiring_principal=grant.retiring_principal,
        name=grant.name,
        constraints=grant.constraints,
    )
