"""Every key spec of today's KMS, through boto3 against the server and through LocalKms, checked by independent code.

Signatures are verified, shared secrets recomputed and encapsulations opened with the
``cryptography`` package directly, from the public key GetPublicKey exported; Ed25519ph (which
``cryptography`` lacks) is pinned to RFC 8032's section 7.3 vector in tests/unit/test_ed25519ph.py.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, mlkem

MESSAGE = b"the message the application signs"


def _public(client: Any, key: str) -> Any:
    return serialization.load_der_public_key(client.get_public_key(KeyId=key)["PublicKey"])


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


@pytest.mark.parametrize("spec", ["ML_DSA_44", "ML_DSA_65", "ML_DSA_87"])
def test_ml_dsa_raw_and_external_mu(client: Any, spec: str) -> None:
    """ML-DSA signs RAW messages and EXTERNAL_MU representatives; both verify outside with the public key."""
    meta = client.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    assert meta["SigningAlgorithms"] == ["ML_DSA_SHAKE_256"] and "CustomerMasterKeySpec" not in meta
    key = meta["Arn"]
    public = _public(client, key)
    assert type(public).__name__ == f"MLDSA{spec[-2:]}PublicKey"
    raw = client.sign(KeyId=key, Message=MESSAGE, SigningAlgorithm="ML_DSA_SHAKE_256")["Signature"]
    public.verify(raw, MESSAGE)
    hasher = mldsa.MLDSAMuHasher(public)
    hasher.update(MESSAGE)
    mu = hasher.finalize()
    external = client.sign(KeyId=key, Message=mu, MessageType="EXTERNAL_MU", SigningAlgorithm="ML_DSA_SHAKE_256")
    public.verify(external["Signature"], MESSAGE)  # a signature over mu is a signature over the message
    verified = client.verify(KeyId=key, Message=mu, MessageType="EXTERNAL_MU", Signature=raw, SigningAlgorithm="ML_DSA_SHAKE_256")
    assert verified["SignatureValid"] is True
    with pytest.raises(ClientError) as error:
        client.sign(KeyId=key, Message=b"short", MessageType="EXTERNAL_MU", SigningAlgorithm="ML_DSA_SHAKE_256")
    assert _code(error) == "ValidationException"
    with pytest.raises(ClientError) as error:
        client.verify(KeyId=key, Message=b"other", Signature=raw, SigningAlgorithm="ML_DSA_SHAKE_256")
    assert _code(error) == "KMSInvalidSignatureException" and "message" not in error.value.response


def test_ed25519_pure_and_prehashed(client: Any) -> None:
    """ED25519_SHA_512 is pure Ed25519 (verified outside); ED25519_PH_SHA_512 takes RAW or a SHA-512 DIGEST."""
    meta = client.create_key(KeySpec="ECC_NIST_EDWARDS25519", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    assert meta["SigningAlgorithms"] == ["ED25519_SHA_512", "ED25519_PH_SHA_512"]
    key = meta["Arn"]
    public = _public(client, key)
    assert isinstance(public, ed25519.Ed25519PublicKey)
    pure = client.sign(KeyId=key, Message=MESSAGE, SigningAlgorithm="ED25519_SHA_512")["Signature"]
    public.verify(pure, MESSAGE)
    prehashed = client.sign(KeyId=key, Message=MESSAGE, SigningAlgorithm="ED25519_PH_SHA_512")["Signature"]
    digest = hashlib.sha512(MESSAGE).digest()
    assert (
        client.sign(KeyId=key, Message=digest, MessageType="DIGEST", SigningAlgorithm="ED25519_PH_SHA_512")["Signature"]
        == prehashed
    )  # EdDSA is deterministic: RAW hashes to the same digest
    assert prehashed != pure
    for message_type, message in (("RAW", MESSAGE), ("DIGEST", digest)):
        assert client.verify(
            KeyId=key, Message=message, MessageType=message_type, Signature=prehashed, SigningAlgorithm="ED25519_PH_SHA_512"
        )["SignatureValid"]
    with pytest.raises(ClientError) as error:
        client.sign(KeyId=key, Message=digest, MessageType="DIGEST", SigningAlgorithm="ED25519_SHA_512")
    assert _code(error) == "ValidationException"


@pytest.mark.parametrize(
    ("spec", "curve"), [("ECC_NIST_P256", ec.SECP256R1), ("ECC_NIST_P384", ec.SECP384R1), ("ECC_NIST_P521", ec.SECP521R1)]
)
def test_derive_shared_secret_matches_ecdh(client: Any, spec: str, curve: Any) -> None:
    """DeriveSharedSecret equals the ECDH our own private key computes with the KMS key's public key."""
    meta = client.create_key(KeySpec=spec, KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    assert meta["KeyAgreementAlgorithms"] == ["ECDH"] and "SigningAlgorithms" not in meta
    key = meta["Arn"]
    ours = ec.generate_private_key(curve())
    peer = ours.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    derived = client.derive_shared_secret(KeyId=key, KeyAgreementAlgorithm="ECDH", PublicKey=peer)
    assert derived["KeyAgreementAlgorithm"] == "ECDH" and derived["KeyOrigin"] == "AWS_KMS" and derived["KeyId"] == key
    assert derived["SharedSecret"] == ours.exchange(ec.ECDH(), _public(client, key))
    with pytest.raises(ClientError) as error:
        client.derive_shared_secret(KeyId=key, KeyAgreementAlgorithm="ECDH", PublicKey=b"not a key")
    assert _code(error) == "ValidationException"


def test_derive_shared_secret_refusals(client: Any) -> None:
    """AWS's answers for the wrong key usage and the wrong spec (LocalStack's recordings of real AWS)."""
    signing = client.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as error:
        client.derive_shared_secret(KeyId=signing, KeyAgreementAlgorithm="ECDH", PublicKey=b"x")
    assert _code(error) == "InvalidKeyUsageException"
    assert (
        error.value.response["Error"]["Message"]
        == f"{signing} key usage is SIGN_VERIFY which is not valid for DeriveSharedSecret."
    )
    with pytest.raises(ClientError) as error:
        client.create_key(KeySpec="RSA_2048", KeyUsage="KEY_AGREEMENT")
    assert error.value.response["Error"]["Message"] == "KeyUsage KEY_AGREEMENT is not compatible with KeySpec RSA_2048"
    with pytest.raises(ClientError) as error:
        client.create_key(KeySpec="ECC_SECG_P256K1", KeyUsage="KEY_AGREEMENT")
    assert _code(error) == "ValidationException"


@pytest.mark.parametrize(("spec", "kind"), [("ML_KEM_768", mlkem.MLKEM768PublicKey), ("ML_KEM_1024", mlkem.MLKEM1024PublicKey)])
def test_ml_kem_encapsulate_and_decapsulate(client: Any, spec: str, kind: Any) -> None:
    """Encapsulate's ciphertext opens outside? No: it is opened by Decapsulate, and an encapsulation made
    outside with the exported public key decapsulates inside to the same secret."""
    meta = client.create_key(KeySpec=spec, KeyUsage="ENCAPSULATE_DECAPSULATE")["KeyMetadata"]
    assert meta["EncapsulationAlgorithms"] == ["ML_KEM"]
    key = meta["Arn"]
    public = _public(client, key)
    assert isinstance(public, kind)
    inside = client.encapsulate(KeyId=key, EncapsulationAlgorithm="ML_KEM")
    opened = client.decapsulate(
        KeyId=key, EncapsulationAlgorithm="ML_KEM", SharedSecretCiphertextBlob=inside["SharedSecretCiphertextBlob"]
    )
    assert opened["SharedSecret"] == inside["SharedSecret"] and len(inside["SharedSecret"]) == 32
    secret, ciphertext = public.encapsulate()
    outside = client.decapsulate(KeyId=key, EncapsulationAlgorithm="ML_KEM", SharedSecretCiphertextBlob=ciphertext)
    assert outside["SharedSecret"] == secret
    with pytest.raises(ClientError) as error:
        client.decapsulate(KeyId=key, EncapsulationAlgorithm="ML_KEM", SharedSecretCiphertextBlob=b"short")
    assert _code(error) == "InvalidCiphertextException"


def test_ml_kem_512_is_visibly_unsupported(client: Any) -> None:
    """The installed cryptography has no ML-KEM-512: CreateKey says so instead of faking it."""
    with pytest.raises(ClientError) as error:
        client.create_key(KeySpec="ML_KEM_512", KeyUsage="ENCAPSULATE_DECAPSULATE")
    assert _code(error) == "UnsupportedOperationException" and "ML_KEM_512" in error.value.response["Error"]["Message"]


def test_key_usage_is_required_except_for_symmetric_keys(client: Any) -> None:
    """AWS's words (LocalStack's recording, test_hmac_create_key_invalid_operations)."""
    with pytest.raises(ClientError) as error:
        client.create_key(KeySpec="HMAC_256")
    assert error.value.response["Error"]["Message"] == (
        "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys."
    )


def test_custom_key_store_operations_answer_as_an_account_without_any(client: Any) -> None:
    """A local KMS has no custom key stores: the listing is empty, naming one is CustomKeyStoreNotFoundException."""
    assert client.describe_custom_key_stores()["CustomKeyStores"] == []
    for call in (
        lambda: client.describe_custom_key_stores(CustomKeyStoreId="cks-1234567890abcdef0"),
        lambda: client.connect_custom_key_store(CustomKeyStoreId="cks-1234567890abcdef0"),
        lambda: client.disconnect_custom_key_store(CustomKeyStoreId="cks-1234567890abcdef0"),
        lambda: client.delete_custom_key_store(CustomKeyStoreId="cks-1234567890abcdef0"),
        lambda: client.update_custom_key_store(CustomKeyStoreId="cks-1234567890abcdef0", NewCustomKeyStoreName="n"),
        lambda: client.create_key(CustomKeyStoreId="cks-1234567890abcdef0", Origin="AWS_CLOUDHSM"),
        lambda: client.generate_random(NumberOfBytes=8, CustomKeyStoreId="cks-1234567890abcdef0"),
    ):
        with pytest.raises(ClientError) as error:
            call()
        assert _code(error) == "CustomKeyStoreNotFoundException"
    with pytest.raises(ClientError) as error:
        client.create_custom_key_store(CustomKeyStoreName="hsm", CloudHsmClusterId="cluster-234567abcdef")
    assert _code(error) == "CloudHsmClusterNotFoundException"
