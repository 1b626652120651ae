"""Every KMS error code the local KMS raises, reached through boto3, with AWS's status and shape."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from tests.server.conftest import Server


def _wrap(admin: Any, key: str, material: bytes) -> tuple[bytes, bytes]:
    params = admin.get_parameters_for_import(KeyId=key, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    public = load_der_public_key(params["PublicKey"])
    assert isinstance(public, rsa.RSAPublicKey)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    return params["ImportToken"], public.encrypt(material, oaep)


def _already_exists(admin: Any, key: str) -> None:
    admin.create_alias(AliasName="alias/dup", TargetKeyId=key)
    admin.create_alias(AliasName="alias/dup", TargetKeyId=key)


def _disabled(admin: Any, key: str) -> None:
    admin.disable_key(KeyId=key)
    admin.encrypt(KeyId=key, Plaintext=b"x")


def _incorrect_key(admin: Any, key: str) -> None:
    blob = admin.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    admin.decrypt(CiphertextBlob=blob, KeyId=admin.create_key()["KeyMetadata"]["Arn"])


def _incorrect_key_material(admin: Any, key: str) -> None:
    external = admin.create_key(Origin="EXTERNAL")["KeyMetadata"]["Arn"]
    token, wrapped = _wrap(admin, external, os.urandom(32))
    admin.import_key_material(
        KeyId=external, ImportToken=token, EncryptedKeyMaterial=wrapped, ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE"
    )
    admin.delete_imported_key_material(KeyId=external)
    token, wrapped = _wrap(admin, external, os.urandom(32))
    admin.import_key_material(
        KeyId=external, ImportToken=token, EncryptedKeyMaterial=wrapped, ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE"
    )


def _invalid_import_token(admin: Any, key: str) -> None:
    external = admin.create_key(Origin="EXTERNAL")["KeyMetadata"]["Arn"]
    _, wrapped = _wrap(admin, external, os.urandom(32))
    admin.import_key_material(
        KeyId=external, ImportToken=b"not-the-token", EncryptedKeyMaterial=wrapped, ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE"
    )


def _sign_key(admin: Any) -> str:
    return str(admin.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"])


def _mac_key(admin: Any) -> str:
    return str(admin.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["Arn"])


def _pending_deletion(admin: Any, key: str) -> None:
    admin.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    admin.encrypt(KeyId=key, Plaintext=b"x")


def _on_demand_rotation_limit(admin: Any, key: str) -> None:
    for _ in range(11):
        admin.rotate_key_on_demand(KeyId=key)


#: AWS answers these with no message at all (recorded in LocalStack's snapshots of real AWS).
SILENT = {"InvalidCiphertextException", "KMSInvalidMacException", "KMSInvalidSignatureException"}


SCENARIOS: dict[str, Callable[[Any, str], None]] = {
    "AlreadyExistsException": _already_exists,
    "DisabledException": _disabled,
    "IncorrectKeyException": _incorrect_key,
    "IncorrectKeyMaterialException": _incorrect_key_material,
    "InvalidAliasNameException": lambda admin, key: admin.create_alias(AliasName="alias/aws/reserved", TargetKeyId=key),
    "InvalidArnException": lambda admin, key: admin.describe_key(KeyId="arn:aws:kms:us-east-1"),
    "InvalidCiphertextException": lambda admin, key: admin.decrypt(CiphertextBlob=b"\x00" * 64),
    "InvalidGrantTokenException": lambda admin, key: admin.retire_grant(GrantToken="definitely-not-a-grant-token"),
    "InvalidImportTokenException": _invalid_import_token,
    "InvalidKeyUsageException": lambda admin, key: admin.encrypt(KeyId=_sign_key(admin), Plaintext=b"x"),
    "KMSInvalidMacException": lambda admin, key: admin.verify_mac(
        KeyId=_mac_key(admin), Message=b"m", Mac=b"\x00" * 32, MacAlgorithm="HMAC_SHA_256"
    ),
    "KMSInvalidSignatureException": lambda admin, key: admin.verify(
        KeyId=_sign_key(admin), Message=b"m", Signature=b"\x30\x06\x02\x01\x01\x02\x01\x01", SigningAlgorithm="ECDSA_SHA_256"
    ),
    "KMSInvalidStateException": _pending_deletion,
    "LimitExceededException": _on_demand_rotation_limit,
    "MalformedPolicyDocumentException": lambda admin, key: admin.put_key_policy(
        KeyId=key, PolicyName="default", Policy="{not json"
    ),
    "NotFoundException": lambda admin, key: admin.describe_key(KeyId="00000000-0000-0000-0000-000000000000"),
    "TagException": lambda admin, key: admin.tag_resource(KeyId=key, Tags=[{"TagKey": "aws:reserved", "TagValue": "v"}]),
    "UnsupportedOperationException": lambda admin, key: admin.get_public_key(KeyId=key),
}


@pytest.mark.parametrize("code", sorted(SCENARIOS))
def test_error_code_reaches_boto3(admin: Any, key_arn: str, code: str) -> None:
    """The facade's error arrives as boto3's modeled exception, status 400, with a message unless AWS sends none."""
    with pytest.raises(ClientError) as error:
        SCENARIOS[code](admin, key_arn)
    assert error.value.response["Error"]["Code"] == code
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert bool(error.value.response["Error"]["Message"]) is (code not in SILENT)
    assert ("message" in error.value.response) is (code not in SILENT)
    assert isinstance(error.value, getattr(admin.exceptions, code))


def test_errors_carry_a_request_id(server: Server) -> None:
    """Every answer, error or not, carries x-amzn-RequestId, which boto3 reports."""
    with pytest.raises(ClientError) as error:
        server.client().describe_key(KeyId="alias/missing")
    assert len(error.value.response["ResponseMetadata"]["RequestId"]) == 36
