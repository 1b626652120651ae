"""Rotation: automatic (every RotationPeriodInDays), on demand (a limited number of times), and listing.

Rotation adds key material under the same key id; earlier material stays, so every earlier
ciphertext still decrypts (the envelope names the material version it was sealed with).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from policyengine.kms import _crypto, validation
from policyengine.kms.caller import Caller
from policyengine.kms.core import PENDING_ROTATION, KmsCore, Response, current_record, iso
from policyengine.kms.errors import (
    DisabledException,
    KMSInvalidStateException,
    LimitExceededException,
    UnsupportedOperationException,
)
from policyengine.kms.pagination import page
from policyengine.store.base import StoreTransaction
from policyengine.store.records import KeyRecord, MaterialRecord

MAX_ON_DEMAND_ROTATIONS = 10
DAY = 86400.0


def _rotatable(key: KeyRecord, operation: str, *, on_demand: bool = False) -> None:
    if on_demand and key.key_spec != "SYMMETRIC_DEFAULT":
        # AWS answers this one without a message (LocalStack's recording of real AWS:
        # test_rotate_key_on_demand_raises_error_given_non_symmetric_key).
        raise UnsupportedOperationException("", key_arn=key.arn)
    if key.key_spec != "SYMMETRIC_DEFAULT" or key.origin != "AWS_KMS":
        raise UnsupportedOperationException(
            f"{operation} is supported only for symmetric encryption keys with key material from AWS KMS; "
            f"{key.arn} is {key.key_spec} with origin {key.origin}",
            key_arn=key.arn,
        )
    if key.key_manager == "AWS":
        raise UnsupportedOperationException(
            f"{operation} is not supported on AWS managed key {key.arn}; AWS rotates it every year", key_arn=key.arn
        )
    if key.multi_region is not None and key.multi_region["primary"] != key.region:
        raise UnsupportedOperationException(
            f"{key.arn} is a multi-Region replica key: rotate its primary key, whose material its replicas share",
            key_arn=key.arn,
        )


class RotationOps(KmsCore):
    def _rotation_entry(self, key: KeyRecord, record: MaterialRecord, current: bool) -> dict[str, Any]:
        """One ListKeyRotations entry: the material's id, and for imported material its import and use state."""
        entry: dict[str, Any] = {"KeyId": key.arn, "KeyMaterialId": self.material_id(key, record)}
        if key.origin == "EXTERNAL":
            pending = record.rotation_type == PENDING_ROTATION
            entry["ImportState"] = "IMPORTED" if record.sealed_material else "PENDING_IMPORT"
            entry["KeyMaterialState"] = "PENDING_ROTATION" if pending else ("CURRENT" if current else "NON_CURRENT")
            if current and key.expiration_model is not None and record.sealed_material:
                entry["ExpirationModel"] = key.expiration_model
                if key.valid_to is not None:
                    entry["ValidTo"] = iso(key.valid_to)
        if record.rotation_type not in (None, PENDING_ROTATION):
            entry["RotationDate"] = iso(record.created)
            entry["RotationType"] = record.rotation_type
        return entry

    """EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand, ListKeyRotations."""

    def enable_key_rotation(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            days = validation.integer(params.get("RotationPeriodInDays", 365), "rotationPeriodInDays", minimum=90, maximum=2560)
            with self.writing() as tx:
                key = self.resolve_key(tx, caller, ref, aliases=False)
                self.authorize(tx, caller, "kms:EnableKeyRotation", key, {"kms:RotationPeriodInDays": str(days)})
                self.check_state(key, "EnableKeyRotation")
                _rotatable(key, "EnableKeyRotation")
                due = self.clock.now() + days * DAY
                tx.put_key(replace(key, rotation_enabled=True, rotation_period_days=days, next_rotation_date=due))
            self.wake_scheduler(due)
            return {}, key.arn

        return self._call("EnableKeyRotation", caller, params, work)

    def disable_key_rotation(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            with self.writing() as tx:
                key = self.resolve_key(tx, caller, ref, aliases=False)
                self.authorize(tx, caller, "kms:DisableKeyRotation", key)
                self.check_state(key, "DisableKeyRotation")
                _rotatable(key, "DisableKeyRotation")
                tx.put_key(replace(key, rotation_enabled=False, next_rotation_date=None))
            return {}, key.arn

        return self._call("DisableKeyRotation", caller, params, work)

    def get_key_rotation_status(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            with self.reading() as tx:
                key = self.resolve_key(tx, caller, ref, aliases=False)
                self.authorize(tx, caller, "kms:GetKeyRotationStatus", key)
                self.check_state(key, "GetKeyRotationStatus")
            response: Response = {"KeyRotationEnabled": key.rotation_enabled, "KeyId": key.arn}
            if key.rotation_enabled and key.next_rotation_date is not None:
                response["RotationPeriodInDays"] = key.rotation_period_days
                response["NextRotationDate"] = iso(key.next_rotation_date)
            return response, key.arn

        return self._call("GetKeyRotationStatus", caller, params, work)

    def rotate_key_on_demand(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            with self.writing() as tx:
                key = self.resolve_key(tx, caller, ref, aliases=False)
                self.authorize(tx, caller, "kms:RotateKeyOnDemand", key)
                self.check_state(key, "RotateKeyOnDemand")
                if key.state == "Disabled":  # the state is checked before the key type (recorded from AWS)
                    raise DisabledException(f"{key.arn} is disabled.", key_arn=key.arn)
                if key.origin == "EXTERNAL" and key.key_spec == "SYMMETRIC_DEFAULT" and key.multi_region is None:
                    self._rotate_to_imported(tx, key)
                    return {"KeyId": key.arn}, key.arn
                _rotatable(key, "RotateKeyOnDemand", on_demand=True)
                if key.on_demand_rotations >= MAX_ON_DEMAND_ROTATIONS:
                    raise LimitExceededException(
                        "The on-demand rotations limit has been reached for the given keyId. "
                        f"No more on-demand rotations can be performed for this key: {key.arn}",
                        key_arn=key.arn,
                    )
                self.add_material_to_all(tx, key, _crypto.generate_symmetric_key(), self.clock.now(), "ON_DEMAND")
                tx.put_key(replace(key, on_demand_rotations=key.on_demand_rotations + 1))
            return {"KeyId": key.arn}, key.arn

        return self._call("RotateKeyOnDemand", caller, params, work)

    def _rotate_to_imported(self, tx: StoreTransaction, key: KeyRecord) -> None:
        """RotateKeyOnDemand on a key with imported material: the material imported with ImportType
        NEW_KEY_MATERIAL becomes current (AWS's words when there is none, from LocalStack's recording)."""
        materials = tx.materials(key.key_id)
        pending = [m for m in materials if m.rotation_type == PENDING_ROTATION]
        if not pending:
            raise KMSInvalidStateException(f"No available key material pending rotation for the key: {key.arn}.", key_arn=key.arn)
        now = self.clock.now()
        tx.delete_materials(key.key_id)
        for record in materials:
            tx.add_material(replace(record, created=now, rotation_type="ON_DEMAND") if record is pending[0] else record)
        tx.put_key(replace(key, material_fingerprint=self.material_id(key, pending[0])))

    def list_key_rotations(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            include = validation.choice(
                params.get("IncludeKeyMaterial", "ROTATIONS_ONLY"), "includeKeyMaterial", ("ALL_KEY_MATERIAL", "ROTATIONS_ONLY")
            )
            with self.reading() as tx:
                key = self.resolve_key(tx, caller, ref, aliases=False)
                self.authorize(tx, caller, "kms:ListKeyRotations", key)
                if key.key_spec != "SYMMETRIC_DEFAULT":
                    raise UnsupportedOperationException(f"{key.arn} is not a symmetric encryption key", key_arn=key.arn)
                materials = tx.materials(key.key_id)
                shown = [m for m in materials if include == "ALL_KEY_MATERIAL" or m.rotation_type not in (None, PENDING_ROTATION)]
                chunk, more = page(shown, params.get("Limit"), params.get("Marker"))
                current = current_record(materials)
                listed = [self._rotation_entry(key, m, m is current) for m in chunk]
            return {"Rotations": listed, **more}, key.arn

        return self._call("ListKeyRotations", caller, params, work)
