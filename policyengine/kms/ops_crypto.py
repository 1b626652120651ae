"""Cryptographic operations: encrypt, decrypt, re-encrypt, data keys, random, sign/verify, MACs.

Order in every method: validate parameters, find the key, authorize (AccessDenied before any
key material is read), check the key state and usage, then do the cryptography.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from policyengine.kms import _crypto, envelope, validation
from policyengine.kms.caller import Caller
from policyengine.kms.core import KmsCore, Response, public_id
from policyengine.kms.custom_key_stores import missing_custom_key_store
from policyengine.kms.errors import (
    IncorrectKeyException,
    InvalidCiphertextException,
    InvalidKeyUsageException,
    KMSInvalidMacException,
    KMSInvalidSignatureException,
    UnsupportedOperationException,
    ValidationException,
)
from policyengine.kms.keyspecs import ECC_SPECS, LEGACY_SPECS, RSA_SPECS, SYMMETRIC, algorithms_metadata
from policyengine.kms.ops_keys import _request_alias
from policyengine.store.base import StoreTransaction
from policyengine.store.records import KeyRecord

DATA_KEY_SPECS = {"AES_256": 32, "AES_128": 16}
KEY_PAIR_SPECS = (*RSA_SPECS, *ECC_SPECS, "SM2")
MAX_PLAINTEXT = 4096
MAX_CIPHERTEXT = 6144


def _usage(key: KeyRecord, usage: str, operation: str) -> None:
    """AWS's InvalidKeyUsageException when ``key`` is not a ``usage`` key (the words AWS uses)."""
    if key.key_usage != usage:
        raise InvalidKeyUsageException(
            f"{key.arn} key usage is {key.key_usage} which is not valid for {operation}.", key_arn=key.arn
        )


def _envelope_key(blob: bytes) -> str | None:
    """The key id a symmetric ciphertext names, or None when it is not one of ours."""
    try:
        return envelope.unpack(blob).key_id
    except envelope.EnvelopeError:
        return None


def _grant_tokens(params: dict[str, Any]) -> tuple[str, ...]:
    return tuple(validation.string_list(params.get("GrantTokens"), "grantTokens"))


class CryptoOps(KmsCore):
    """Encrypt, Decrypt, ReEncrypt, GenerateDataKey*, GenerateRandom, Sign, Verify, GetPublicKey, GenerateMac, VerifyMac."""

    # -- the symmetric envelope -------------------------------------------------------------

    def _seal(self, tx: StoreTransaction, key: KeyRecord, plaintext: bytes, context: dict[str, str]) -> bytes:
        version, material = self.current_material(tx, key)
        sealed = _crypto.aes_gcm_seal(material, plaintext, envelope.aad(public_id(key), version, context))
        return envelope.pack(public_id(key), version, sealed)

    def _open(self, tx: StoreTransaction, key: KeyRecord, parsed: envelope.Envelope, context: dict[str, str]) -> bytes:
        material = self.material_version(tx, key, parsed.material_version)
        if material is None:
            raise InvalidCiphertextException(key_arn=key.arn)
        try:
            return _crypto.aes_gcm_open(material, parsed.sealed, envelope.aad(public_id(key), parsed.material_version, context))
        except _crypto.CryptoFailure:
            raise InvalidCiphertextException(key_arn=key.arn) from None

    def _encrypt_with(
        self,
        tx: StoreTransaction,
        key: KeyRecord,
        plaintext: bytes,
        context: dict[str, str],
        algorithm: str,
        operation: str = "Encrypt",
    ) -> bytes:
        """Ciphertext of ``plaintext`` under ``key`` (already authorized and state-checked)."""
        _usage(key, "ENCRYPT_DECRYPT", operation)
        if key.key_spec == SYMMETRIC:
            if algorithm != "SYMMETRIC_DEFAULT":
                raise InvalidKeyUsageException(f"Algorithm {algorithm} is not valid for {key.arn}", key_arn=key.arn)
            return self._seal(tx, key, plaintext, context)
        if context:
            raise ValidationException("EncryptionContext is not supported with asymmetric KMS keys")
        if algorithm not in _crypto.encryption_algorithms(key.key_spec):
            raise InvalidKeyUsageException(f"Algorithm {algorithm} is not valid for {key.arn}", key_arn=key.arn)
        limit = _crypto.rsa_max_plaintext(key.key_spec, algorithm)
        if len(plaintext) > limit:
            raise ValidationException(
                f"Algorithm {algorithm} and key spec {key.key_spec} cannot encrypt data larger than {limit} bytes."
            )
        _, private_der = self.current_material(tx, key)
        return _crypto.rsa_encrypt(_crypto.public_key_der(private_der), plaintext, algorithm)

    def _decrypt_with(
        self,
        tx: StoreTransaction,
        caller: Caller,
        blob: bytes,
        context: dict[str, str],
        key_ref: str | None,
        algorithm: str,
        action: str,
        grant_tokens: tuple[str, ...],
        extra: dict[str, Any] | None = None,
    ) -> tuple[KeyRecord, bytes]:
        """Find the key of ``blob``, authorize ``action`` on it, and decrypt."""
        named = self.resolve_key(tx, caller, key_ref) if key_ref is not None else None
        if algorithm == "SYMMETRIC_DEFAULT":
            try:
                parsed = envelope.unpack(blob)
            except envelope.EnvelopeError:
                raise InvalidCiphertextException(key_arn=named.arn if named else None) from None
            if named is not None and public_id(named) != parsed.key_id:
                raise IncorrectKeyException(
                    "The key ID in the request does not identify a CMK that can perform this operation.", key_arn=named.arn
                )
            key = named or self.key_in_region(tx, parsed.key_id, self.region)
            if key is None:
                raise InvalidCiphertextException()
            context_keys = {"kms:EncryptionAlgorithm": algorithm, **_request_alias(key_ref or ""), **(extra or {})}
            self.authorize(tx, caller, action, key, context_keys, encryption_context=context, grant_tokens=grant_tokens)
            self.check_state(key, action.split(":")[1])
            _usage(key, "ENCRYPT_DECRYPT", action.split(":")[1])
            if key.key_spec != SYMMETRIC:
                raise InvalidCiphertextException(key_arn=key.arn)
            return key, self._open(tx, key, parsed, context)
        if named is None:
            raise ValidationException("KeyId is required when decrypting with an asymmetric KMS key")
        key = named
        context_keys = {"kms:EncryptionAlgorithm": algorithm, **_request_alias(key_ref or ""), **(extra or {})}
        self.authorize(tx, caller, action, key, context_keys, encryption_context=context, grant_tokens=grant_tokens)
        self.check_state(key, action.split(":")[1])
        _usage(key, "ENCRYPT_DECRYPT", action.split(":")[1])
        if algorithm not in _crypto.encryption_algorithms(key.key_spec):
            raise InvalidKeyUsageException(f"Algorithm {algorithm} is not valid for {key.arn}", key_arn=key.arn)
        if context:
            raise ValidationException("EncryptionContext is not supported with asymmetric KMS keys")
        _, private_der = self.current_material(tx, key)
        try:
            return key, _crypto.rsa_decrypt(private_der, blob, algorithm)
        except _crypto.CryptoFailure:
            raise InvalidCiphertextException(key_arn=key.arn) from None

    # -- Encrypt / Decrypt / ReEncrypt --------------------------------------------------------

    def encrypt(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            plaintext = validation.blob(params.get("Plaintext"), "plaintext", max_len=MAX_PLAINTEXT)
            context = validation.encryption_context(params.get("EncryptionContext"))
            algorithm = validation.choice(
                params.get("EncryptionAlgorithm", "SYMMETRIC_DEFAULT"),
                "encryptionAlgorithm",
                ("SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE"),
            )
            with self.reading(ref) as tx:
                key = self.resolve_key(tx, caller, ref)
                self.authorize(
                    tx,
                    caller,
                    "kms:Encrypt",
                    key,
                    {"kms:EncryptionAlgorithm": algorithm, **_request_alias(ref)},
                    encryption_context=context,
                    grant_tokens=_grant_tokens(params),
                )
                self.check_state(key, "Encrypt")
                blob = self._encrypt_with(tx, key, plaintext, context, algorithm)
            return {"CiphertextBlob": blob, "KeyId": key.arn, "EncryptionAlgorithm": algorithm}, key.arn

        return self._call("Encrypt", caller, params, work)

    def decrypt(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            blob = validation.blob(params.get("CiphertextBlob"), "ciphertextBlob", max_len=MAX_CIPHERTEXT)
            context = validation.encryption_context(params.get("EncryptionContext"))
            key_ref = params.get("KeyId")
            if key_ref is not None:
                validation.string(key_ref, "keyId")
            algorithm = validation.choice(
                params.get("EncryptionAlgorithm", "SYMMETRIC_DEFAULT"),
                "encryptionAlgorithm",
                ("SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE"),
            )
            with self.reading(key_ref) as tx:
                key, plaintext = self._decrypt_with(
                    tx, caller, blob, context, key_ref, algorithm, "kms:Decrypt", _grant_tokens(params)
                )
            return {"KeyId": key.arn, "Plaintext": plaintext, "EncryptionAlgorithm": algorithm}, key.arn

        return self._call("Decrypt", caller, params, work)

    def re_encrypt(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            blob = validation.blob(params.get("CiphertextBlob"), "ciphertextBlob", max_len=MAX_CIPHERTEXT)
            destination = validation.string(params.get("DestinationKeyId"), "destinationKeyId")
            source_context = validation.encryption_context(params.get("SourceEncryptionContext"), "sourceEncryptionContext")
            destination_context = validation.encryption_context(
                params.get("DestinationEncryptionContext"), "destinationEncryptionContext"
            )
            algorithms = ("SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256")
            source_algorithm = validation.choice(
                params.get("SourceEncryptionAlgorithm", "SYMMETRIC_DEFAULT"), "sourceEncryptionAlgorithm", algorithms
            )
            destination_algorithm = validation.choice(
                params.get("DestinationEncryptionAlgorithm", "SYMMETRIC_DEFAULT"), "destinationEncryptionAlgorithm", algorithms
            )
            source_ref = params.get("SourceKeyId")
            if source_ref is not None:
                validation.string(source_ref, "sourceKeyId")
            tokens = _grant_tokens(params)
            with self.reading(destination) as tx:
                target = self.resolve_key(tx, caller, destination)
                same = {"kms:ReEncryptOnSameKey": "true" if _envelope_key(blob) == public_id(target) else "false"}
                source, plaintext = self._decrypt_with(
                    tx, caller, blob, source_context, source_ref, source_algorithm, "kms:ReEncryptFrom", tokens, same
                )
                on_same = "true" if source.key_id == target.key_id else "false"
                self.authorize(
                    tx,
                    caller,
                    "kms:ReEncryptTo",
                    target,
                    {
                        "kms:EncryptionAlgorithm": destination_algorithm,
                        "kms:ReEncryptOnSameKey": on_same,
                        **_request_alias(destination),
                    },
                    encryption_context=destination_context,
                    grant_tokens=tokens,
                )
                self.check_state(target, "ReEncryptTo")
                new_blob = self._encrypt_with(tx, target, plaintext, destination_context, destination_algorithm, "ReEncrypt")
            return {
                "CiphertextBlob": new_blob,
                "SourceKeyId": source.arn,
                "KeyId": target.arn,
                "SourceEncryptionAlgorithm": source_algorithm,
                "DestinationEncryptionAlgorithm": destination_algorithm,
            }, target.arn

        return self._call("ReEncrypt", caller, params, work)

    # -- data keys ----------------------------------------------------------------------------

    def _seal_for_caller(
        self,
        caller: Caller,
        params: dict[str, Any],
        ref: str,
        operation: str,
        make_secret: Callable[[], bytes],
        context: dict[str, str],
        extra: dict[str, Any],
    ) -> tuple[KeyRecord, bytes, bytes]:
        """GenerateDataKey*'s shared step: authorize ``operation`` on a symmetric key, only then make the secret
        (a refused caller must reach no cryptography) and encrypt it. Returns the key, the secret and its blob."""
        with self.reading(ref) as tx:
            key = self.resolve_key(tx, caller, ref)
            self.authorize(
                tx,
                caller,
                f"kms:{operation}",
                key,
                {**extra, "kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT", **_request_alias(ref)},
                encryption_context=context,
                grant_tokens=_grant_tokens(params),
            )
            self.check_state(key, operation)
            if key.key_spec != SYMMETRIC:
                raise InvalidKeyUsageException(f"{key.arn} key usage is not valid for {operation}", key_arn=key.arn)
            secret = make_secret()
            return key, secret, self._encrypt_with(tx, key, secret, context, "SYMMETRIC_DEFAULT", operation)

    def generate_data_key(self, caller: Caller, **params: Any) -> Response:
        return self._data_key(caller, params, with_plaintext=True)

    def generate_data_key_without_plaintext(self, caller: Caller, **params: Any) -> Response:
        return self._data_key(caller, params, with_plaintext=False)

    def _data_key(self, caller: Caller, params: dict[str, Any], *, with_plaintext: bool) -> Response:
        operation = "GenerateDataKey" if with_plaintext else "GenerateDataKeyWithoutPlaintext"

        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            context = validation.encryption_context(params.get("EncryptionContext"))
            spec, count = params.get("KeySpec"), params.get("NumberOfBytes")
            if (spec is None) == (count is None):
                raise ValidationException("Please specify either number of bytes or key spec.")
            size = (
                DATA_KEY_SPECS[validation.choice(spec, "keySpec", DATA_KEY_SPECS)]
                if spec is not None
                else validation.integer(count, "numberOfBytes", minimum=1, maximum=1024)
            )
            key, data_key, blob = self._seal_for_caller(
                caller, params, ref, operation, lambda: _crypto.random_bytes(size), context, {}
            )
            response: Response = {"CiphertextBlob": blob, "KeyId": key.arn}
            if with_plaintext:
                response["Plaintext"] = data_key
            return response, key.arn

        return self._call(operation, caller, params, work)

    def generate_data_key_pair(self, caller: Caller, **params: Any) -> Response:
        return self._data_key_pair(caller, params, with_plaintext=True)

    def generate_data_key_pair_without_plaintext(self, caller: Caller, **params: Any) -> Response:
        return self._data_key_pair(caller, params, with_plaintext=False)

    def _data_key_pair(self, caller: Caller, params: dict[str, Any], *, with_plaintext: bool) -> Response:
        operation = "GenerateDataKeyPair" if with_plaintext else "GenerateDataKeyPairWithoutPlaintext"

        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            spec = validation.choice(params.get("KeyPairSpec"), "keyPairSpec", KEY_PAIR_SPECS)
            if spec == "SM2":
                raise UnsupportedOperationException("SM2 is only offered in China Regions")
            context = validation.encryption_context(params.get("EncryptionContext"))
            pair: list[bytes] = []

            def make_pair() -> bytes:
                pair.extend(_crypto.generate_data_key_pair(spec))
                return pair[0]

            key, private_der, blob = self._seal_for_caller(
                caller, params, ref, operation, make_pair, context, {"kms:DataKeyPairSpec": spec}
            )
            public_der = pair[1]
            response: Response = {
                "PrivateKeyCiphertextBlob": blob,
                "PublicKey": public_der,
                "KeyId": key.arn,
                "KeyPairSpec": spec,
            }
            if with_plaintext:
                response["PrivateKeyPlaintext"] = private_der
            return response, key.arn

        return self._call(operation, caller, params, work)

    def generate_random(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            if params.get("NumberOfBytes") is None:
                raise ValidationException("NumberOfBytes is required.")
            count = validation.integer(params.get("NumberOfBytes"), "numberOfBytes", minimum=1, maximum=1024)
            if params.get("CustomKeyStoreId") is not None:
                raise missing_custom_key_store(validation.string(params["CustomKeyStoreId"], "customKeyStoreId", max_len=64))
            with self.reading() as tx:
                self.authorize(tx, caller, "kms:GenerateRandom", None)
            return {"Plaintext": _crypto.random_bytes(count)}, None

        return self._call("GenerateRandom", caller, params, work)

    # -- signatures ---------------------------------------------------------------------------

    def _signing(self, caller: Caller, params: dict[str, Any], operation: str) -> tuple[KeyRecord, bytes, str, str, bytes]:
        """Shared Sign/Verify steps; returns key, message, message type, algorithm and the private key."""
        ref = validation.string(params.get("KeyId"), "keyId")
        message = validation.blob(params.get("Message"), "message", max_len=4096)
        message_type = validation.choice(params.get("MessageType", "RAW"), "messageType", ("RAW", "DIGEST", "EXTERNAL_MU"))
        algorithm = validation.string(params.get("SigningAlgorithm"), "signingAlgorithm", max_len=64)
        with self.reading(ref) as tx:
            key = self.resolve_key(tx, caller, ref)
            self.authorize(
                tx,
                caller,
                f"kms:{operation}",
                key,
                {"kms:SigningAlgorithm": algorithm, "kms:MessageType": message_type, **_request_alias(ref)},
                grant_tokens=_grant_tokens(params),
            )
            self.check_state(key, operation)
            _usage(key, "SIGN_VERIFY", operation)
            if algorithm not in _crypto.signing_algorithms(key.key_spec):
                raise InvalidKeyUsageException(
                    f"Algorithm {algorithm} is incompatible with key spec {key.key_spec}.", key_arn=key.arn
                )
            _, private_der = self.current_material(tx, key)
        return key, message, message_type, algorithm, private_der

    def sign(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            key, message, message_type, algorithm, private_der = self._signing(caller, params, "Sign")
            try:
                signature = _crypto.sign(private_der, key.key_spec, message, message_type, algorithm)
            except ValueError as error:
                raise ValidationException(str(error)) from None
            return {"KeyId": key.arn, "Signature": signature, "SigningAlgorithm": algorithm}, key.arn

        return self._call("Sign", caller, params, work)

    def verify(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            signature = validation.blob(params.get("Signature"), "signature", max_len=6144)
            key, message, message_type, algorithm, private_der = self._signing(caller, params, "Verify")
            try:
                valid = _crypto.verify(
                    _crypto.public_key_der(private_der), key.key_spec, message, message_type, algorithm, signature
                )
            except ValueError as error:
                raise ValidationException(str(error)) from None
            if not valid:
                raise KMSInvalidSignatureException(key_arn=key.arn)
            return {"KeyId": key.arn, "SignatureValid": True, "SigningAlgorithm": algorithm}, key.arn

        return self._call("Verify", caller, params, work)

    def get_public_key(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            ref = validation.string(params.get("KeyId"), "keyId")
            with self.reading(ref) as tx:
                key = self.resolve_key(tx, caller, ref)
                self.authorize(tx, caller, "kms:GetPublicKey", key, _request_alias(ref), grant_tokens=_grant_tokens(params))
                self.check_state(key, "GetPublicKey")
                if key.key_spec == SYMMETRIC or key.key_usage == "GENERATE_VERIFY_MAC":
                    raise UnsupportedOperationException(
                        f"{key.arn} key usage is {key.key_usage} and has no public key", key_arn=key.arn
                    )
                _, private_der = self.current_material(tx, key)
            response: Response = {
                "KeyId": key.arn,
                "PublicKey": _crypto.public_key_der(private_der),
                "KeySpec": key.key_spec,
                "KeyUsage": key.key_usage,
                **algorithms_metadata(key.key_spec, key.key_usage),
            }
            if key.key_spec in LEGACY_SPECS:
                response["CustomerMasterKeySpec"] = key.key_spec
            return response, key.arn

        return self._call("GetPublicKey", caller, params, work)

    # -- MACs ---------------------------------------------------------------------------------

    def _mac_key(self, caller: Caller, params: dict[str, Any], operation: str) -> tuple[KeyRecord, bytes, str, bytes]:
        ref = validation.string(params.get("KeyId"), "keyId")
        message = validation.blob(params.get("Message"), "message", max_len=4096)
        algorithm = validation.choice(
            params.get("MacAlgorithm"), "macAlgorithm", ("HMAC_SHA_224", "HMAC_SHA_256", "HMAC_SHA_384", "HMAC_SHA_512")
        )
        with self.reading(ref) as tx:
            key = self.resolve_key(tx, caller, ref)
            self.authorize(
                tx,
                caller,
                f"kms:{operation}",
                key,
                {"kms:MacAlgorithm": algorithm, **_request_alias(ref)},
                grant_tokens=_grant_tokens(params),
            )
            self.check_state(key, operation)
            _usage(key, "GENERATE_VERIFY_MAC", operation)
            if algorithm not in _crypto.mac_algorithms(key.key_spec):
                raise InvalidKeyUsageException(
                    f"Algorithm {algorithm} is incompatible with key spec {key.key_spec}.", key_arn=key.arn
                )
            _, material = self.current_material(tx, key)
        return key, message, algorithm, material

    def generate_mac(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            key, message, algorithm, material = self._mac_key(caller, params, "GenerateMac")
            return {
                "Mac": _crypto.hmac_generate(material, algorithm, message),
                "MacAlgorithm": algorithm,
                "KeyId": key.arn,
            }, key.arn

        return self._call("GenerateMac", caller, params, work)

    def verify_mac(self, caller: Caller, **params: Any) -> Response:
        def work() -> tuple[Response, str | None]:
            mac = validation.blob(params.get("Mac"), "mac", max_len=6144)
            key, message, algorithm, material = self._mac_key(caller, params, "VerifyMac")
            if not _crypto.hmac_verify(material, algorithm, message, mac):
                raise KMSInvalidMacException(key_arn=key.arn)
            return {"KeyId": key.arn, "MacValid": True, "MacAlgorithm": algorithm}, key.arn

        return self._call("VerifyMac", caller, params, work)
