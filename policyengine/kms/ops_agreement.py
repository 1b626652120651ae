"""Shared secrets: DeriveSharedSecret (ECDH on KEY_AGREEMENT keys) and Encapsulate/Decapsulate (ML-KEM).

Same order as every cryptographic operation: validate parameters, find the key, authorize
(AccessDenied before any key material is read), check the key state and usage, then compute.
"""

from __future__ import annotations

from typing import Any

from policyengine.kms import _crypto, validation
from policyengine.kms.caller import Caller
from policyengine.kms.core import KmsCore, Response
from policyengine.kms.errors import InvalidCiphertextException, ValidationException
from policyengine.kms.ops_crypto import _usage
from policyengine.kms.ops_keys import _request_alias
from policyengine.store.records import KeyRecord

__all__ = ["AgreementOps"]

MAX_PUBLIC_KEY = 8192
MAX_KEM_CIPHERTEXT = 6144


class AgreementOps(KmsCore):
    """DeriveSharedSecret, Encapsulate, Decapsulate."""

    def _private_key(
        self, caller: Caller, params: dict[str, Any], operation: str, usage: str, context: dict[str, Any]
    ) -> tuple[KeyRecord, bytes]:
        """Find, authorize and check the key of a shared-secret operation; its private key (PKCS #8 DER)."""
        ref = validation.string(params.get("KeyId"), "keyId")
        tokens = tuple(validation.string_list(params.get("GrantTokens"), "grantTokens"))
        with self.reading(ref) as tx:
            key = self.resolve_key(tx, caller, ref)
            self.authorize(tx, caller, f"kms:{operation}", key, {**context, **_request_alias(ref)}, grant_tokens=tokens)
            self.check_state(key, operation)
            _usage(key, usage, operation)
            _, private_der = self.current_material(tx, key)
        return key, private_der

    def derive_shared_secret(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            algorithm = validation.choice(params.get("KeyAgreementAlgorithm"), "keyAgreementAlgorithm", ("ECDH",))
            peer = validation.blob(params.get("PublicKey"), "publicKey", max_len=MAX_PUBLIC_KEY)
            if params.get("Recipient") is not None:
                raise ValidationException("Recipient needs a Nitro Enclave attestation document, which a local KMS cannot verify")
            key, private_der = self._private_key(
                caller, params, "DeriveSharedSecret", "KEY_AGREEMENT", {"kms:KeyAgreementAlgorithm": algorithm}
            )
            try:
                secret = _crypto.derive_shared_secret(private_der, peer)
            except ValueError:
                raise ValidationException("", key_arn=key.arn) from None  # AWS answers this one without a message
            return {
                "KeyId": key.arn,
                "SharedSecret": secret,
                "KeyAgreementAlgorithm": algorithm,
                "KeyOrigin": key.origin,
            }, key.arn

        return self._call("DeriveSharedSecret", caller, params, work)

    def encapsulate(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            algorithm = validation.choice(params.get("EncapsulationAlgorithm"), "encapsulationAlgorithm", ("ML_KEM",))
            key, private_der = self._private_key(caller, params, "Encapsulate", "ENCAPSULATE_DECAPSULATE", {})
            secret, ciphertext = _crypto.encapsulate(private_der)
            return {
                "KeyId": key.arn,
                "SharedSecret": secret,
                "SharedSecretCiphertextBlob": ciphertext,
                "EncapsulationAlgorithm": algorithm,
            }, key.arn

        return self._call("Encapsulate", caller, params, work)

    def decapsulate(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ciphertext = validation.blob(
                params.get("SharedSecretCiphertextBlob"), "sharedSecretCiphertextBlob", max_len=MAX_KEM_CIPHERTEXT
            )
            algorithm = validation.choice(params.get("EncapsulationAlgorithm"), "encapsulationAlgorithm", ("ML_KEM",))
            key, private_der = self._private_key(caller, params, "Decapsulate", "ENCAPSULATE_DECAPSULATE", {})
            try:
                secret = _crypto.decapsulate(private_der, ciphertext)
            except _crypto.CryptoFailure:
                raise InvalidCiphertextException(key_arn=key.arn) from None
            return {"KeyId": key.arn, "SharedSecret": secret, "EncapsulationAlgorithm": algorithm}, key.arn

        return self._call("Decapsulate", caller, params, work)
