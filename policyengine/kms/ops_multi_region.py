"""Multi-Region keys: ReplicateKey and UpdatePrimaryRegion (CreateKey MultiRegion=True is in ops_keys).

Related multi-Region keys share their key id (``mrk-...``) and key material, and each has its own
key policy, description, tags, grants, aliases and state, in its own region. Every region of one
server is one AWS partition here, so a replica lives in the same store as its primary: its record
is ``<mrk-id>@<region>`` (see ``core.replica_record_id``), and every related record carries the same
``multi_region`` note (the primary's region, every region). A ciphertext names the shared key id
and a material version every related key holds, so any of them decrypts it.

Rules (KMS DG "Multi-Region keys"; API Reference ReplicateKey, UpdatePrimaryRegion): only a primary
key is replicated, once per region; a key pending deletion is not replicated; only the primary's
region can make another related key the primary.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from policyengine.kms import validation
from policyengine.kms.caller import Caller
from policyengine.kms.core import KmsCore, Response, key_arn, public_id, replica_record_id
from policyengine.kms.errors import (
    AlreadyExistsException,
    KMSInvalidStateException,
    NotFoundException,
    UnsupportedOperationException,
    ValidationException,
)
from policyengine.kms.ops_keys import KeyOps, _tags_from_list, new_key_policy
from policyengine.store.base import StoreTransaction
from policyengine.store.records import KeyRecord

__all__ = ["MultiRegionOps"]

_REGION = r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$"


def _require_primary(key: KeyRecord) -> dict[str, Any]:
    if key.multi_region is None or key.multi_region["primary"] != key.region:
        raise UnsupportedOperationException(f"{key.arn} is not a multi-region primary key.", key_arn=key.arn)
    return key.multi_region


class MultiRegionOps(KeyOps, KmsCore):
    """ReplicateKey, UpdatePrimaryRegion."""

    def replicate_key(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            region = validation.string(params.get("ReplicaRegion"), "replicaRegion", max_len=32, pattern=_REGION)
            description = validation.string(params.get("Description", ""), "description", min_len=0, max_len=8192)
            tags = _tags_from_list(params.get("Tags"))
            bypass = bool(params.get("BypassPolicyLockoutSafetyCheck", False))
            replica_view = self.for_region(region)
            with self.writing() as tx:
                primary = self.resolve_key(tx, caller, ref, aliases=False)
                self.authorize(tx, caller, "kms:ReplicateKey", primary, {"kms:ReplicaRegion": region})
                config = _require_primary(primary)
                if primary.state in ("PendingDeletion", "PendingReplicaDeletion"):
                    raise KMSInvalidStateException(f"{primary.arn} is pending deletion.", key_arn=primary.arn)
                if region in config["regions"]:
                    raise AlreadyExistsException(
                        f"Key '{key_arn(region, primary.account, public_id(primary))}' already exists", key_arn=primary.arn
                    )
                policy_text, document = new_key_policy(params.get("Policy"), primary.account)
                create_context: dict[str, Any] = {
                    "kms:KeySpec": primary.key_spec,
                    "kms:KeyUsage": primary.key_usage,
                    "kms:KeyOrigin": primary.origin,
                    "kms:MultiRegion": "true",
                    "kms:MultiRegionKeyType": "REPLICA",
                }
                if tags:
                    create_context.update({f"aws:RequestTag/{k}": v for k, v in tags.items()})
                    create_context["aws:TagKeys"] = list(tags)
                # The replica is made in its own region: CreateKey is authorized there (IAM policies only).
                replica_view.authorize(
                    tx, caller, "kms:CreateKey", None, create_context, new_policy=document, bypass_lockout=bypass
                )
                replica = self._make_replica(tx, primary, region, policy_text, description, tags)
            response = {
                "ReplicaKeyMetadata": {**self.key_metadata(replica), "KeyState": "Creating", "Enabled": False},
                "ReplicaPolicy": policy_text,
                "ReplicaTags": [{"TagKey": k, "TagValue": v} for k, v in tags.items()],
            }
            return response, primary.arn

        return self._call("ReplicateKey", caller, params, work)

    def _make_replica(
        self, tx: StoreTransaction, primary: KeyRecord, region: str, policy: str, description: str, tags: dict[str, str]
    ) -> KeyRecord:
        """Store the replica with copies of every material version, and list its region in every related key."""
        assert primary.multi_region is not None
        mrk = public_id(primary)
        config = {"primary": primary.multi_region["primary"], "regions": [*primary.multi_region["regions"], region]}
        now = self.clock.now()
        replica = KeyRecord(
            key_id=replica_record_id(mrk, region),
            arn=key_arn(region, primary.account, mrk),
            account=primary.account,
            region=region,
            key_spec=primary.key_spec,
            key_usage=primary.key_usage,
            origin=primary.origin,
            key_manager="CUSTOMER",
            state="Disabled" if primary.state == "Disabled" else primary.state,
            creation_date=now,
            policy=policy,
            description=description,
            tags=tags,
            valid_to=primary.valid_to,
            expiration_model=primary.expiration_model,
            material_fingerprint=primary.material_fingerprint,
            multi_region=config,
        )
        for related in self.related_keys(tx, primary):
            tx.put_key(replace(related, multi_region=config))
        tx.put_key(replica)
        for material in tx.materials(primary.key_id):
            plain = self.open_material(material)
            self.new_material(
                tx, replica.key_id, material.version, plain, material.created, material.rotation_type, material.imported
            )
        return replica

    def update_primary_region(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            region = validation.string(params.get("PrimaryRegion"), "primaryRegion", max_len=32, pattern=_REGION)
            with self.writing() as tx:
                primary = self.resolve_key(tx, caller, ref, aliases=False)
                self.authorize(tx, caller, "kms:UpdatePrimaryRegion", primary, {"kms:PrimaryRegion": region})
                config = _require_primary(primary)
                self.check_state(primary, "UpdatePrimaryRegion")
                if region == primary.region:
                    raise ValidationException(f"{primary.arn} is already the primary key in {region}")
                replica = self.key_in_region(tx, public_id(primary), region) if region in config["regions"] else None
                if replica is None:
                    raise NotFoundException(f"Key '{key_arn(region, primary.account, public_id(primary))}' does not exist")
                # The new primary's own key policy must allow it too (KMS DG "Updating the primary Region").
                self.for_region(region).authorize(tx, caller, "kms:UpdatePrimaryRegion", replica, {"kms:PrimaryRegion": region})
                self.check_state(replica, "UpdatePrimaryRegion")
                moved = {"primary": region, "regions": list(config["regions"])}
                for related in self.related_keys(tx, primary):
                    tx.put_key(replace(related, multi_region=moved))
            return {}, primary.arn

        return self._call("UpdatePrimaryRegion", caller, params, work)
