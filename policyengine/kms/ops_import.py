"""Bring your own key: GetParametersForImport, ImportKeyMaterial, DeleteImportedKeyMaterial.

The wrapping private key is kept sealed under the master key until the import token expires
(24 hours) or is used. Reimporting into a key must bring the same material it had.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import replace
from datetime import datetime
from typing import Any

from policyengine.kms import _crypto, validation
from policyengine.kms.caller import Caller
from policyengine.kms.core import PENDING_ROTATION, KmsCore, Response, current_record, iso, material_aad, public_id
from policyengine.kms.errors import (
    ExpiredImportTokenException,
    IncorrectKeyMaterialException,
    InvalidCiphertextException,
    InvalidImportTokenException,
    KMSInvalidStateException,
    UnsupportedOperationException,
    ValidationException,
)
from policyengine.kms.keyspecs import SYMMETRIC
from policyengine.store.base import StoreTransaction
from policyengine.store.records import ImportParameters, KeyRecord, MaterialRecord

WRAPPING_ALGORITHMS = ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256")
WRAPPING_KEY_SPECS = ("RSA_2048", "RSA_3072", "RSA_4096")
TOKEN_LIFETIME = 24 * 3600.0
#: The lengths of HMAC key material AWS imports, in bytes (KMS DG "Importing key material", HMAC keys).
HMAC_LENGTHS = {"HMAC_224": (28, 64), "HMAC_256": (32, 64), "HMAC_384": (48, 128), "HMAC_512": (64, 128)}


def _external(key: KeyRecord, operation: str) -> None:
    if key.origin != "EXTERNAL":
        raise UnsupportedOperationException(
            f"{key.arn} origin is {key.origin} which is not valid for this operation.", key_arn=key.arn
        )
    if key.state == "PendingDeletion":
        raise KMSInvalidStateException(f"{key.arn} is pending deletion.", key_arn=key.arn)


def _epoch(value: Any, name: str) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise ValidationException(f"{name} must be a timestamp")


def _check_material(key: KeyRecord, material: bytes) -> None:
    """IncorrectKeyMaterialException unless ``material`` is key material of ``key``'s spec: 32 bytes for
    SYMMETRIC_DEFAULT, the HMAC lengths AWS accepts, or a PKCS #8 private key of exactly the key's spec."""
    if key.key_spec == SYMMETRIC:
        valid = len(material) == 32
    elif key.key_spec in HMAC_LENGTHS:
        low, high = HMAC_LENGTHS[key.key_spec]
        valid = low <= len(material) <= high
    else:
        try:
            valid = _crypto.key_spec_of(material) == key.key_spec
        except _crypto.CryptoFailure:
            valid = False
    if not valid:
        raise IncorrectKeyMaterialException(
            f"The key material is not valid key material for KeySpec {key.key_spec}.", key_arn=key.arn
        )


class ImportOps(KmsCore):
    """GetParametersForImport, ImportKeyMaterial, DeleteImportedKeyMaterial."""

    def _stage_new_material(
        self,
        tx: StoreTransaction,
        key: KeyRecord,
        material: bytes,
        fingerprint: str,
        materials: list[MaterialRecord],
        now: float,
    ) -> None:
        """ImportType NEW_KEY_MATERIAL: the material waits (PENDING_ROTATION) until RotateKeyOnDemand makes
        it current. Only single-Region symmetric encryption keys take more than one material."""
        if key.key_spec != SYMMETRIC or key.multi_region is not None:
            raise UnsupportedOperationException(
                f"{key.arn} cannot take new key material: only single-Region symmetric encryption keys can",
                key_arn=key.arn,
            )
        pending = [m for m in materials if m.rotation_type == PENDING_ROTATION]
        if pending:
            raise KMSInvalidStateException(
                f"New key material (id: {fingerprint}) cannot be imported into KMS key {public_id(key)}, because "
                f"another key material (id: {self.material_id(key, pending[0])}) is pending rotation.",
                key_arn=key.arn,
            )
        if any(
            m.sealed_material and m.imported and hmac.compare_digest(self.material_id(key, m), fingerprint) for m in materials
        ):
            raise IncorrectKeyMaterialException("This key material was already imported into this KMS key.", key_arn=key.arn)
        version = (materials[-1].version if materials else 0) + 1
        self.new_material(tx, key.key_id, version, material, now, PENDING_ROTATION, imported=True)

    def _restore_material(
        self, tx: StoreTransaction, key: KeyRecord, material: bytes, materials: list[MaterialRecord], now: float
    ) -> None:
        """First import, or reimport of the current material: put it back at its version number."""
        current = current_record(materials)
        if current is None:
            self.new_material(tx, key.key_id, 1, material, now, imported=True)
            return
        if current.sealed_material:
            return  # reimporting material that is there: only the expiration changes
        others = [m for m in materials if m.version != current.version]
        tx.delete_materials(key.key_id)
        for record in others:
            tx.add_material(record)
        self.new_material(tx, key.key_id, current.version, material, current.created, current.rotation_type, imported=True)

    def get_parameters_for_import(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            algorithm = validation.choice(params.get("WrappingAlgorithm"), "wrappingAlgorithm", WRAPPING_ALGORITHMS)
            spec = validation.choice(params.get("WrappingKeySpec"), "wrappingKeySpec", WRAPPING_KEY_SPECS)
            with self.writing() as tx:
                key = self.resolve_key(tx, caller, ref, aliases=False)
                self.authorize(
                    tx,
                    caller,
                    "kms:GetParametersForImport",
                    key,
                    {"kms:WrappingAlgorithm": algorithm, "kms:WrappingKeySpec": spec},
                )
                _external(key, "GetParametersForImport")
                wrapping = _crypto.generate_wrapping_key(spec)
                token = secrets.token_urlsafe(48)
                expires = self.clock.now() + TOKEN_LIFETIME
                tx.put_import_parameters(
                    ImportParameters(key.key_id, token, self.seal_material(key.key_id, 0, wrapping), algorithm, spec, expires)
                )
            return {
                "KeyId": key.arn,
                "ImportToken": token.encode(),
                "PublicKey": _crypto.public_key_der(wrapping),
                "ParametersValidTo": iso(expires),
            }, key.arn

        return self._call("GetParametersForImport", caller, params, work)

    def import_key_material(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            token = validation.blob(params.get("ImportToken"), "importToken", max_len=6144)
            wrapped = validation.blob(params.get("EncryptedKeyMaterial"), "encryptedKeyMaterial", max_len=6144)
            model = validation.choice(
                params.get("ExpirationModel", "KEY_MATERIAL_EXPIRES"),
                "expirationModel",
                ("KEY_MATERIAL_EXPIRES", "KEY_MATERIAL_DOES_NOT_EXPIRE"),
            )
            import_type = params.get("ImportType")
            if import_type is not None:
                validation.choice(import_type, "importType", ("NEW_KEY_MATERIAL", "EXISTING_KEY_MATERIAL"))
            material_id = params.get("KeyMaterialId")
            if material_id is not None:
                validation.string(material_id, "keyMaterialId", min_len=64, max_len=64)
            valid_to = params.get("ValidTo")
            if model == "KEY_MATERIAL_EXPIRES" and valid_to is None:
                raise ValidationException("A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES")
            if model == "KEY_MATERIAL_DOES_NOT_EXPIRE" and valid_to is not None:
                raise ValidationException("ValidTo must be omitted when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE")
            expiry = _epoch(valid_to, "ValidTo") if valid_to is not None else None
            context: dict[str, Any] = {"kms:ExpirationModel": model}
            if expiry is not None:
                context["kms:ValidTo"] = str(int(expiry))
            now = self.clock.now()
            if expiry is not None and expiry <= now:
                raise ValidationException("ValidTo must be in the future")
            with self.writing() as tx:
                key = self.resolve_key(tx, caller, ref, aliases=False)
                self.authorize(tx, caller, "kms:ImportKeyMaterial", key, context)
                _external(key, "ImportKeyMaterial")
                stored = tx.get_import_parameters(key.key_id)
                if stored is None or not hmac.compare_digest(stored.import_token.encode(), token):
                    raise InvalidImportTokenException("The import token is not valid for this key", key_arn=key.arn)
                if now >= stored.expires:
                    raise ExpiredImportTokenException("The import token has expired", key_arn=key.arn)
                wrapping = _crypto.aes_gcm_open(self._master_key, stored.sealed_wrapping_key, material_aad(key.key_id, 0))
                try:
                    material = _crypto.unwrap_key_material(wrapping, wrapped, stored.wrapping_algorithm)
                except _crypto.CryptoFailure:
                    raise InvalidCiphertextException(key_arn=key.arn) from None
                _check_material(key, material)
                fingerprint = self.fingerprint(material)
                materials = tx.materials(key.key_id)
                if import_type == "NEW_KEY_MATERIAL" and key.material_fingerprint is not None:
                    self._stage_new_material(tx, key, material, fingerprint, materials, now)
                    tx.delete_import_parameters(key.key_id)
                    return {"KeyId": key.arn, "KeyMaterialId": fingerprint}, key.arn
                target = material_id if material_id is not None else key.material_fingerprint
                if target is not None and not hmac.compare_digest(target, fingerprint):
                    raise IncorrectKeyMaterialException(
                        "The key material in the request is not the key material previously imported into this KMS key.",
                        key_arn=key.arn,
                    )
                self._restore_material(tx, key, material, materials, now)
                state = "Enabled" if key.state == "PendingImport" else key.state
                tx.put_key(replace(key, state=state, valid_to=expiry, expiration_model=model, material_fingerprint=fingerprint))
                tx.delete_import_parameters(key.key_id)
            self.wake_scheduler(expiry)
            return {"KeyId": key.arn, "KeyMaterialId": fingerprint}, key.arn

        return self._call("ImportKeyMaterial", caller, params, work)

    def delete_imported_key_material(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            with self.writing() as tx:
                key = self.resolve_key(tx, caller, ref, aliases=False)
                self.authorize(tx, caller, "kms:DeleteImportedKeyMaterial", key)
                _external(key, "DeleteImportedKeyMaterial")
                self.forget_imported_material(tx, key)
                tx.put_key(replace(key, state="PendingImport", valid_to=None))
            response: Response = {"KeyId": key.arn}
            if key.material_fingerprint is not None:
                response["KeyMaterialId"] = key.material_fingerprint
            return response, key.arn

        return self._call("DeleteImportedKeyMaterial", caller, params, work)
