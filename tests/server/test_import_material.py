"""Imported key material as AWS does it now, through boto3 against the server and through LocalKms:
asymmetric and HMAC imports, new material for a symmetric key rotated in with RotateKeyOnDemand,
KeyMaterialId/CurrentKeyMaterialId, and reimport after deletion.

Wrapping is done here with ``cryptography`` directly (RSA-OAEP-SHA-256 of a fresh AES key, then RFC 5649
AES key wrap with padding: RSA_AES_KEY_WRAP_SHA_256), and results are checked with the imported keys.
Sources: AWS CLI reference import-key-material ("For asymmetric, HMAC and multi-Region keys, you cannot
change the key material after the initial import. You can import multiple key materials into
single-Region, symmetric encryption keys and rotate the key material on demand"); LocalStack's
recordings of real AWS (test_import_key_material_raises_if_there_is_already_key_material_pending,
test_rotate_key_on_demand_raises_for_no_pending_key_material, test_import_key_asymmetric).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def _import(client: Any, key: str, material: bytes, **extra: Any) -> dict[str, Any]:
    params = client.get_parameters_for_import(KeyId=key, WrappingAlgorithm="RSA_AES_KEY_WRAP_SHA_256", WrappingKeySpec="RSA_3072")
    public = serialization.load_der_public_key(params["PublicKey"])
    ephemeral = os.urandom(32)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    wrapped = public.encrypt(ephemeral, oaep) + aes_key_wrap_with_padding(ephemeral, material)  # type: ignore[union-attr]
    extra.setdefault("ExpirationModel", "KEY_MATERIAL_DOES_NOT_EXPIRE")
    return dict(client.import_key_material(KeyId=key, ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped, **extra))


def test_imported_ecc_signing_key_signs_as_the_imported_private_key(client: Any) -> None:
    """An ECC private key made outside signs inside; its own public key verifies; no CurrentKeyMaterialId."""
    ours = ec.generate_private_key(ec.SECP256R1())
    der = ours.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    key = client.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY", Origin="EXTERNAL")["KeyMetadata"]["Arn"]
    imported = _import(client, key, der)
    assert imported["KeyId"] == key and len(imported["KeyMaterialId"]) == 64
    meta = client.describe_key(KeyId=key)["KeyMetadata"]
    assert meta["KeyState"] == "Enabled" and meta["ExpirationModel"] == "KEY_MATERIAL_DOES_NOT_EXPIRE"
    assert "CurrentKeyMaterialId" not in meta
    signature = client.sign(KeyId=key, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    ours.public_key().verify(signature, b"m", ec.ECDSA(hashes.SHA256()))
    other = ec.generate_private_key(ec.SECP384R1())
    key2 = client.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY", Origin="EXTERNAL")["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as error:
        _import(
            client,
            key2,
            other.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        )
    assert _code(error) == "IncorrectKeyMaterialException"


def test_imported_hmac_key_computes_the_outside_hmac(client: Any) -> None:
    """HMAC material of a length AWS accepts (here 40 bytes for HMAC_256) makes the same MAC as hmac does."""
    material = os.urandom(40)
    key = client.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC", Origin="EXTERNAL")["KeyMetadata"]["Arn"]
    _import(client, key, material)
    mac = client.generate_mac(KeyId=key, Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert mac == hmac.new(material, b"m", hashlib.sha256).digest()
    with pytest.raises(ClientError) as error:
        _import(client, key, os.urandom(40), ImportType="NEW_KEY_MATERIAL")
    assert _code(error) == "UnsupportedOperationException"


def test_new_material_is_rotated_in_on_demand(client: Any) -> None:
    """NEW_KEY_MATERIAL waits until RotateKeyOnDemand; old ciphertext still decrypts; one pending at a time."""
    key = client.create_key(Origin="EXTERNAL")["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as error:
        client.rotate_key_on_demand(KeyId=key)
    assert _code(error) == "KMSInvalidStateException"
    first = _import(client, key, os.urandom(32))["KeyMaterialId"]
    with pytest.raises(ClientError) as error:
        client.rotate_key_on_demand(KeyId=key)
    assert error.value.response["Error"]["Message"] == f"No available key material pending rotation for the key: {key}."
    assert client.describe_key(KeyId=key)["KeyMetadata"]["CurrentKeyMaterialId"] == first
    old = client.encrypt(KeyId=key, Plaintext=b"old")["CiphertextBlob"]
    second = _import(client, key, os.urandom(32), ImportType="NEW_KEY_MATERIAL")["KeyMaterialId"]
    assert second != first and client.describe_key(KeyId=key)["KeyMetadata"]["CurrentKeyMaterialId"] == first
    with pytest.raises(ClientError) as error:
        _import(client, key, os.urandom(32), ImportType="NEW_KEY_MATERIAL")
    assert (
        _code(error) == "KMSInvalidStateException"
        and f"(id: {second}) is pending rotation" in error.value.response["Error"]["Message"]
    )
    states = {
        r["KeyMaterialId"]: r["KeyMaterialState"]
        for r in client.list_key_rotations(KeyId=key, IncludeKeyMaterial="ALL_KEY_MATERIAL")["Rotations"]
    }
    assert states == {first: "CURRENT", second: "PENDING_ROTATION"}
    client.rotate_key_on_demand(KeyId=key)
    assert client.describe_key(KeyId=key)["KeyMetadata"]["CurrentKeyMaterialId"] == second
    rotations = client.list_key_rotations(KeyId=key)["Rotations"]
    assert [(r["KeyMaterialId"], r["RotationType"], r["KeyMaterialState"]) for r in rotations] == [
        (second, "ON_DEMAND", "CURRENT")
    ]
    assert client.decrypt(CiphertextBlob=old)["Plaintext"] == b"old"
    new = client.encrypt(KeyId=key, Plaintext=b"new")["CiphertextBlob"]
    assert client.decrypt(CiphertextBlob=new)["Plaintext"] == b"new"


def test_deleted_material_comes_back_by_reimport(client: Any) -> None:
    """After DeleteImportedKeyMaterial the key is PendingImport without ExpirationModel; reimporting the
    same bytes restores it (same KeyMaterialId), other bytes are refused."""
    material = os.urandom(32)
    key = client.create_key(Origin="EXTERNAL")["KeyMetadata"]["Arn"]
    material_id = _import(client, key, material)["KeyMaterialId"]
    blob = client.encrypt(KeyId=key, Plaintext=b"kept")["CiphertextBlob"]
    assert client.delete_imported_key_material(KeyId=key)["KeyId"] == key
    meta = client.describe_key(KeyId=key)["KeyMetadata"]
    assert meta["KeyState"] == "PendingImport" and "ExpirationModel" not in meta and meta["CurrentKeyMaterialId"] == material_id
    with pytest.raises(ClientError) as error:
        client.decrypt(CiphertextBlob=blob)
    assert _code(error) == "KMSInvalidStateException"
    with pytest.raises(ClientError) as error:
        _import(client, key, os.urandom(32))
    assert _code(error) == "IncorrectKeyMaterialException"
    assert _import(client, key, material)["KeyMaterialId"] == material_id
    assert client.decrypt(CiphertextBlob=blob)["Plaintext"] == b"kept"
