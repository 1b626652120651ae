"""Cryptographic operations through the gate: real AES-GCM, RSA-OAEP, signatures and MACs (KMS API Reference)."""

from __future__ import annotations

import hashlib
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import policyengine as pe
from policyengine.kms import Caller, LocalKms, ManualClock
from policyengine.kms.errors import (
    AccessDeniedException,
    IncorrectKeyException,
    InvalidCiphertextException,
    InvalidKeyUsageException,
    KMSInvalidMacException,
    KMSInvalidSignatureException,
    UnsupportedOperationException,
    ValidationException,
)
from tests.kms.conftest import ACCOUNT


def test_encrypt_decrypt_binds_the_encryption_context(kms: LocalKms, root: Caller, key_id: str) -> None:
    """Decrypt needs exactly the encryption context used to encrypt; any other gives one opaque error."""
    blob = kms.encrypt(root, KeyId=key_id, Plaintext=b"payload", EncryptionContext={"dept": "fin"})["CiphertextBlob"]
    assert kms.decrypt(root, CiphertextBlob=blob, EncryptionContext={"dept": "fin"})["Plaintext"] == b"payload"
    messages = set()
    for context in ({}, {"dept": "FIN"}, {"dept": "fin", "x": "y"}):
        with pytest.raises(InvalidCiphertextException) as info:
            kms.decrypt(root, CiphertextBlob=blob, EncryptionContext=context)
        messages.add(info.value.message)
    assert len(messages) == 1


def test_decrypt_with_the_wrong_key_id_is_incorrect_key(kms: LocalKms, root: Caller, key_id: str) -> None:
    """Naming a different key than the one that encrypted gives IncorrectKeyException."""
    other = kms.create_key(root)["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(root, KeyId=key_id, Plaintext=b"p")["CiphertextBlob"]
    with pytest.raises(IncorrectKeyException):
        kms.decrypt(root, CiphertextBlob=blob, KeyId=other)
    assert kms.decrypt(root, CiphertextBlob=blob, KeyId=key_id)["Plaintext"] == b"p"


def test_garbage_ciphertext_is_invalid(kms: LocalKms, root: Caller, key_id: str) -> None:
    """Bytes that are not our envelope give InvalidCiphertextException."""
    with pytest.raises(InvalidCiphertextException):
        kms.decrypt(root, CiphertextBlob=b"\x00" * 64)


@pytest.mark.parametrize("size", [0, 4097])
def test_plaintext_size_limits(kms: LocalKms, root: Caller, key_id: str, size: int) -> None:
    """Plaintext must be 1 to 4096 bytes (API Encrypt)."""
    with pytest.raises(ValidationException):
        kms.encrypt(root, KeyId=key_id, Plaintext=b"x" * size)


@pytest.mark.parametrize(
    ("spec", "algorithm", "limit"),
    [("RSA_2048", "RSAES_OAEP_SHA_1", 214), ("RSA_2048", "RSAES_OAEP_SHA_256", 190), ("RSA_3072", "RSAES_OAEP_SHA_256", 318)],
)
def test_rsa_encryption_round_trip_and_size_limits(kms: LocalKms, root: Caller, spec: str, algorithm: str, limit: int) -> None:
    """RSA keys encrypt up to AWS's OAEP limit; the ciphertext is the modulus size and decrypts with KeyId."""
    key = kms.create_key(root, KeySpec=spec, KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(root, KeyId=key, Plaintext=b"a" * limit, EncryptionAlgorithm=algorithm)["CiphertextBlob"]
    assert len(blob) == int(spec.split("_")[1]) // 8
    assert kms.decrypt(root, CiphertextBlob=blob, KeyId=key, EncryptionAlgorithm=algorithm)["Plaintext"] == b"a" * limit
    with pytest.raises(ValidationException):
        kms.encrypt(root, KeyId=key, Plaintext=b"a" * (limit + 1), EncryptionAlgorithm=algorithm)
    with pytest.raises(InvalidKeyUsageException):
        kms.encrypt(root, KeyId=key, Plaintext=b"a")  # SYMMETRIC_DEFAULT is not valid for RSA


def test_rsa_ciphertext_made_outside_decrypts_inside(kms: LocalKms, root: Caller) -> None:
    """A client encrypting with GetPublicKey's key (outside KMS) produces what Decrypt accepts (seed: asymmetric)."""
    key = kms.create_key(root, KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    public = serialization.load_der_public_key(kms.get_public_key(root, KeyId=key)["PublicKey"])
    assert isinstance(public, rsa.RSAPublicKey)
    blob = public.encrypt(b"offline", padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
    assert kms.decrypt(root, CiphertextBlob=blob, KeyId=key, EncryptionAlgorithm="RSAES_OAEP_SHA_256")["Plaintext"] == b"offline"


@pytest.mark.parametrize(
    ("spec", "algorithm"),
    [
        ("RSA_2048", "RSASSA_PSS_SHA_256"),
        ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_384"),
        ("ECC_NIST_P256", "ECDSA_SHA_256"),
        ("ECC_NIST_P384", "ECDSA_SHA_384"),
        ("ECC_SECG_P256K1", "ECDSA_SHA_256"),
    ],
)
def test_signatures_verify_with_the_public_key_outside(kms: LocalKms, root: Caller, spec: str, algorithm: str) -> None:
    """Sign here, verify with `cryptography` against GetPublicKey; and Verify accepts DIGEST messages too."""
    key = kms.create_key(root, KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    signature = kms.sign(root, KeyId=key, Message=b"document", SigningAlgorithm=algorithm)["Signature"]
    public = serialization.load_der_public_key(kms.get_public_key(root, KeyId=key)["PublicKey"])
    digest = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[algorithm[-3:]]
    if isinstance(public, rsa.RSAPublicKey):
        pad = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size) if "PSS" in algorithm else padding.PKCS1v15()
        public.verify(signature, b"document", pad, digest)
    else:
        assert isinstance(public, ec.EllipticCurvePublicKey)
        public.verify(signature, b"document", ec.ECDSA(digest))
    hashed = hashlib.new(digest.name, b"document").digest()
    assert (
        kms.verify(root, KeyId=key, Message=hashed, MessageType="DIGEST", Signature=signature, SigningAlgorithm=algorithm)[
            "SignatureValid"
        ]
        is True
    )
    with pytest.raises(KMSInvalidSignatureException):
        kms.verify(root, KeyId=key, Message=b"tampered", Signature=signature, SigningAlgorithm=algorithm)


def test_signature_made_outside_verifies_inside(kms: LocalKms, root: Caller) -> None:
    """The reverse direction: Verify accepts a signature that only the private key could make."""
    key = kms.create_key(root, KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    signature = kms.sign(root, KeyId=key, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    assert kms.verify(root, KeyId=key, Message=b"m", Signature=signature, SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"]
    other = ec.generate_private_key(ec.SECP256R1()).sign(b"m", ec.ECDSA(hashes.SHA256()))
    with pytest.raises(KMSInvalidSignatureException):
        kms.verify(root, KeyId=key, Message=b"m", Signature=other, SigningAlgorithm="ECDSA_SHA_256")


def test_sign_rejects_wrong_algorithm_and_usage(kms: LocalKms, root: Caller, key_id: str) -> None:
    """An algorithm the key does not offer, or a symmetric key, is InvalidKeyUsageException."""
    key = kms.create_key(root, KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    with pytest.raises(InvalidKeyUsageException):
        kms.sign(root, KeyId=key, Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")
    with pytest.raises(InvalidKeyUsageException):
        kms.sign(root, KeyId=key_id, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")
    with pytest.raises(ValidationException):
        kms.sign(root, KeyId=key, Message=b"short", MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")


def test_get_public_key_never_for_symmetric(kms: LocalKms, root: Caller, key_id: str) -> None:
    """Symmetric keys have no public key (UnsupportedOperationException); asymmetric ones give DER SPKI."""
    with pytest.raises(UnsupportedOperationException):
        kms.get_public_key(root, KeyId=key_id)


def test_macs(kms: LocalKms, root: Caller) -> None:
    """GenerateMac and VerifyMac with an HMAC key; a wrong MAC is KMSInvalidMacException."""
    key = kms.create_key(root, KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    mac = kms.generate_mac(root, KeyId=key, Message=b"msg", MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert len(mac) == 32
    assert kms.verify_mac(root, KeyId=key, Message=b"msg", Mac=mac, MacAlgorithm="HMAC_SHA_256")["MacValid"] is True
    with pytest.raises(KMSInvalidMacException):
        kms.verify_mac(root, KeyId=key, Message=b"msg!", Mac=mac, MacAlgorithm="HMAC_SHA_256")
    with pytest.raises(InvalidKeyUsageException):
        kms.generate_mac(root, KeyId=key, Message=b"msg", MacAlgorithm="HMAC_SHA_512")


def test_data_keys(kms: LocalKms, root: Caller, key_id: str) -> None:
    """GenerateDataKey returns a data key and its ciphertext, which Decrypt turns back into the same key."""
    data = kms.generate_data_key(root, KeyId=key_id, KeySpec="AES_256", EncryptionContext={"a": "b"})
    assert len(data["Plaintext"]) == 32
    assert (
        kms.decrypt(root, CiphertextBlob=data["CiphertextBlob"], EncryptionContext={"a": "b"})["Plaintext"] == data["Plaintext"]
    )
    assert len(kms.generate_data_key(root, KeyId=key_id, NumberOfBytes=7)["Plaintext"]) == 7
    without = kms.generate_data_key_without_plaintext(root, KeyId=key_id, KeySpec="AES_128")
    assert "Plaintext" not in without and len(kms.decrypt(root, CiphertextBlob=without["CiphertextBlob"])["Plaintext"]) == 16
    with pytest.raises(ValidationException, match="either number of bytes or key spec"):
        kms.generate_data_key(root, KeyId=key_id)
    with pytest.raises(ValidationException):
        kms.generate_data_key(root, KeyId=key_id, NumberOfBytes=1025)


def test_data_key_pairs(kms: LocalKms, root: Caller, key_id: str) -> None:
    """GenerateDataKeyPair's private key decrypts from its ciphertext and matches its public key."""
    pair = kms.generate_data_key_pair(root, KeyId=key_id, KeyPairSpec="ECC_NIST_P256")
    private = kms.decrypt(root, CiphertextBlob=pair["PrivateKeyCiphertextBlob"])["Plaintext"]
    assert private == pair["PrivateKeyPlaintext"]
    loaded = serialization.load_der_private_key(private, None)
    assert (
        loaded.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        == pair["PublicKey"]
    )
    without = kms.generate_data_key_pair_without_plaintext(root, KeyId=key_id, KeyPairSpec="RSA_2048")
    assert "PrivateKeyPlaintext" not in without


def test_re_encrypt_moves_ciphertext_between_keys(kms: LocalKms, root: Caller, key_id: str) -> None:
    """ReEncrypt decrypts under the source and encrypts under the destination with its own context."""
    other = kms.create_key(root)["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(root, KeyId=key_id, Plaintext=b"move me", EncryptionContext={"k": "1"})["CiphertextBlob"]
    moved = kms.re_encrypt(
        root,
        CiphertextBlob=blob,
        SourceEncryptionContext={"k": "1"},
        DestinationKeyId=other,
        DestinationEncryptionContext={"k": "2"},
    )
    assert moved["SourceKeyId"].endswith(key_id) and moved["KeyId"].endswith(other)
    assert kms.decrypt(root, CiphertextBlob=moved["CiphertextBlob"], EncryptionContext={"k": "2"})["Plaintext"] == b"move me"


def test_re_encrypt_needs_both_permissions(kms: LocalKms, root: Caller, key_id: str) -> None:
    """A caller allowed ReEncryptFrom but not ReEncryptTo is denied (API ReEncrypt: two permissions)."""
    other = kms.create_key(root)["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(root, KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    half = Caller(
        f"arn:aws:iam::{ACCOUNT}:user/half",
        ACCOUNT,
        identity_policies=(
            pe.parse_policy(json.dumps({"Statement": [{"Effect": "Allow", "Action": "kms:ReEncryptFrom", "Resource": "*"}]})),
        ),
    )
    with pytest.raises(AccessDeniedException, match="kms:ReEncryptTo"):
        kms.re_encrypt(half, CiphertextBlob=blob, DestinationKeyId=other)


def test_generate_random(kms: LocalKms, root: Caller) -> None:
    """GenerateRandom returns the number of bytes asked for, 1 to 1024."""
    assert len(kms.generate_random(root, NumberOfBytes=1024)["Plaintext"]) == 1024
    with pytest.raises(ValidationException):
        kms.generate_random(root, NumberOfBytes=0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    plaintext=st.binary(min_size=1, max_size=600),
    context=st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=8), max_size=3),
)
def test_decrypt_of_encrypt_is_identity(
    kms: LocalKms, root: Caller, key_id: str, plaintext: bytes, context: dict[str, str]
) -> None:
    """For any plaintext and encryption context, decrypt(encrypt(p, ctx), ctx) == p."""
    blob = kms.encrypt(root, KeyId=key_id, Plaintext=plaintext, EncryptionContext=context)["CiphertextBlob"]
    assert kms.decrypt(root, CiphertextBlob=blob, EncryptionContext=context)["Plaintext"] == plaintext


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0, max_value=10_000), bit=st.integers(min_value=0, max_value=7))
def test_any_single_bit_flip_is_invalid_ciphertext(kms: LocalKms, root: Caller, key_id: str, position: int, bit: int) -> None:
    """Flipping any one bit of a ciphertext makes Decrypt fail with InvalidCiphertextException."""
    blob = bytearray(kms.encrypt(root, KeyId=key_id, Plaintext=b"integrity", EncryptionContext={"a": "b"})["CiphertextBlob"])
    blob[position % len(blob)] ^= 1 << bit
    with pytest.raises(InvalidCiphertextException):
        kms.decrypt(root, CiphertextBlob=bytes(blob), EncryptionContext={"a": "b"})


def test_clock_is_injected(kms: LocalKms, clock: ManualClock, root: Caller) -> None:
    """Key creation dates come from the injected clock."""
    meta = kms.create_key(root)["KeyMetadata"]
    assert meta["CreationDate"].timestamp() == clock.now()
