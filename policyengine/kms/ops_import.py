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
from policyengine.kms.core import KmsCore, Response, iso, material_aad
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
from policyengine.store.records import ImportParameters, KeyRecord

WRAPPING_ALGORITHMS = ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256")
WRAPPING_KEY_SPECS = ("RSA_2048", "RSA_3072", "RSA_4096")
TOKEN_LIFETIME = 24 * 3600.0
_HMAC_BYTES = {"HMAC_224": 28, "HMAC_256": 32, "HMAC_384": 48, "HMAC_512": 64}


def _external(key: KeyRecord, operation: str) -> None:
    if key.origin != "EXTERNAL":
        raise UnsupportedOperationException(
            f"{operation} needs a key with origin EXTERNAL; {key.arn} has {key.origin}", key_arn=key.arn
        )
    if key.state == "PendingDeletion":
        raise KMSInvalidStateException(f"{key.arn} is pending deletion.", key_arn=key.arn)


def _epoch(value: Any, name: str) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise ValidationException(f"{name} must be a timestamp")


class ImportOps(KmsCore):
    """GetParametersForImport, ImportKeyMaterial, DeleteImportedKeyMaterial."""

    def get_parameters_for_import(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            algorithm = validation.choice(params.get("WrappingAlgorithm"), "wrappingAlgorithm", WRAPPING_ALGORITHMS)
            spec = validation.choice(params.get("WrappingKeySpec"), "wrappingKeySpec", WRAPPING_KEY_SPECS)
            with self.store.transaction() as tx:
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
            valid_to = params.get("ValidTo")
            if model == "KEY_MATERIAL_EXPIRES" and valid_to is None:
                raise ValidationException("ValidTo is required when ExpirationModel is KEY_MATERIAL_EXPIRES")
            if model == "KEY_MATERIAL_DOES_NOT_EXPIRE" and valid_to is not None:
                raise ValidationException("ValidTo must be omitted when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE")
            expiry = _epoch(valid_to, "ValidTo") if valid_to is not None else None
            context: dict[str, Any] = {"kms:ExpirationModel": model}
            if expiry is not None:
                context["kms:ValidTo"] = str(int(expiry))
            now = self.clock.now()
            if expiry is not None and expiry <= now:
                raise ValidationException("ValidTo must be in the future")
            with self.store.transaction() as tx:
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
                expected = 32 if key.key_spec == SYMMETRIC else _HMAC_BYTES.get(key.key_spec, 0)
                if len(material) != expected:
                    raise IncorrectKeyMaterialException(
                        f"Key material must be {expected} bytes for {key.key_spec}", key_arn=key.arn
                    )
                fingerprint = self.fingerprint(material)
                if key.material_fingerprint is not None and not hmac.compare_digest(key.material_fingerprint, fingerprint):
                    raise IncorrectKeyMaterialException(
                        "Reimported key material must be the key's original material", key_arn=key.arn
                    )
                if not tx.materials(key.key_id):
                    self.new_material(tx, key.key_id, 1, material, now, imported=True)
                state = "Enabled" if key.state == "PendingImport" else key.state
                tx.put_key(replace(key, state=state, valid_to=expiry, expiration_model=model, material_fingerprint=fingerprint))
                tx.delete_import_parameters(key.key_id)
            self.wake_scheduler(expiry)
            return {}, key.arn

        return self._call("ImportKeyMaterial", caller, params, work)

    def delete_imported_key_material(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            with self.store.transaction() as tx:
                key = self.resolve_key(tx, caller, ref, aliases=False)
                self.authorize(tx, caller, "kms:DeleteImportedKeyMaterial", key)
                _external(key, "DeleteImportedKeyMaterial")
                tx.delete_materials(key.key_id)
                tx.put_key(replace(key, state="PendingImport", valid_to=None))
            return {"KeyId": key.arn}, key.arn

        return self._call("DeleteImportedKeyMaterial", caller, params, work)
