"""Every operation of the local KMS, called through unmodified boto3 over HTTP."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from policyengine.kms import OPERATIONS, snake_case
from tests.server.conftest import ACCOUNT, REGION, Server

ARN = re.compile(rf"^arn:aws:kms:{REGION}:{ACCOUNT}:key/[0-9a-f-]{{36}}$")


def test_every_operation_is_exercised_in_this_file() -> None:
    """Each operation the local KMS implements is called somewhere below through boto3."""
    source = Path(__file__).read_text(encoding="utf-8")
    missing = [name for name in OPERATIONS if f".{snake_case(name)}(" not in source]
    assert missing == []


def test_key_lifecycle(admin: Any, key_arn: str) -> None:
    """Describe, list, update, disable, enable, schedule and cancel deletion return AWS's shapes."""
    meta = admin.describe_key(KeyId=key_arn)["KeyMetadata"]
    assert meta["Arn"] == key_arn and meta["AWSAccountId"] == ACCOUNT and meta["KeyState"] == "Enabled"
    assert isinstance(meta["CreationDate"], datetime) and meta["CreationDate"].tzinfo is not None
    assert {"KeyId": meta["KeyId"], "KeyArn": key_arn} in admin.list_keys()["Keys"]
    admin.update_key_description(KeyId=key_arn, Description="renamed")
    assert admin.describe_key(KeyId=key_arn)["KeyMetadata"]["Description"] == "renamed"
    admin.disable_key(KeyId=key_arn)
    assert admin.describe_key(KeyId=key_arn)["KeyMetadata"]["Enabled"] is False
    admin.enable_key(KeyId=key_arn)
    scheduled = admin.schedule_key_deletion(KeyId=key_arn, PendingWindowInDays=7)
    assert scheduled["KeyId"] == key_arn and scheduled["KeyState"] == "PendingDeletion"
    assert scheduled["PendingWindowInDays"] == 7 and isinstance(scheduled["DeletionDate"], datetime)
    assert admin.cancel_key_deletion(KeyId=key_arn)["KeyId"] == key_arn
    assert admin.describe_key(KeyId=key_arn)["KeyMetadata"]["KeyState"] == "Disabled"


def test_key_policies(admin: Any, key_arn: str) -> None:
    """GetKeyPolicy, PutKeyPolicy and ListKeyPolicies round-trip the policy text."""
    policy = json.loads(admin.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"])
    policy["Statement"].append(
        {
            "Sid": "Extra",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"},
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
    )
    admin.put_key_policy(KeyId=key_arn, PolicyName="default", Policy=json.dumps(policy))
    assert "Extra" in admin.get_key_policy(KeyId=key_arn)["Policy"]
    assert admin.list_key_policies(KeyId=key_arn)["PolicyNames"] == ["default"]


def test_tags(admin: Any, key_arn: str) -> None:
    """TagResource, UntagResource and ListResourceTags keep the key's tags."""
    admin.tag_resource(KeyId=key_arn, Tags=[{"TagKey": "env", "TagValue": "test"}, {"TagKey": "team", "TagValue": "a"}])
    admin.untag_resource(KeyId=key_arn, TagKeys=["team"])
    assert admin.list_resource_tags(KeyId=key_arn)["Tags"] == [{"TagKey": "env", "TagValue": "test"}]


def test_aliases(admin: Any, key_arn: str) -> None:
    """CreateAlias, UpdateAlias, ListAliases and DeleteAlias; an alias works as a KeyId."""
    other = admin.create_key()["KeyMetadata"]["Arn"]
    admin.create_alias(AliasName="alias/app", TargetKeyId=key_arn)
    assert admin.encrypt(KeyId="alias/app", Plaintext=b"x")["KeyId"] == key_arn
    admin.update_alias(AliasName="alias/app", TargetKeyId=other)
    listed = {a["AliasName"]: a for a in admin.list_aliases()["Aliases"]}
    assert listed["alias/app"]["TargetKeyId"] == other.split("/")[-1]
    assert listed["alias/app"]["AliasArn"] == f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/app"
    admin.delete_alias(AliasName="alias/app")
    assert "alias/app" not in {a["AliasName"] for a in admin.list_aliases()["Aliases"]}


def test_encrypt_decrypt_reencrypt(admin: Any, key_arn: str) -> None:
    """Blobs travel as base64 both ways and every KeyId in a response is the full key ARN."""
    context = {"purpose": "test"}
    encrypted = admin.encrypt(KeyId=key_arn.split("/")[-1], Plaintext=b"\x00secret\xff", EncryptionContext=context)
    assert ARN.match(encrypted["KeyId"]) and encrypted["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    decrypted = admin.decrypt(CiphertextBlob=encrypted["CiphertextBlob"], EncryptionContext=context)
    assert decrypted["Plaintext"] == b"\x00secret\xff" and decrypted["KeyId"] == key_arn
    other = admin.create_key()["KeyMetadata"]["Arn"]
    moved = admin.re_encrypt(
        CiphertextBlob=encrypted["CiphertextBlob"],
        SourceEncryptionContext=context,
        DestinationKeyId=other,
        DestinationEncryptionContext={"purpose": "moved"},
    )
    assert moved["SourceKeyId"] == key_arn and moved["KeyId"] == other
    back = admin.decrypt(CiphertextBlob=moved["CiphertextBlob"], EncryptionContext={"purpose": "moved"})
    assert back["Plaintext"] == b"\x00secret\xff"


def test_data_keys_and_random(admin: Any, key_arn: str) -> None:
    """GenerateDataKey (and its variants) and GenerateRandom return blobs of the requested sizes."""
    data_key = admin.generate_data_key(KeyId=key_arn, KeySpec="AES_256")
    assert len(data_key["Plaintext"]) == 32 and data_key["KeyId"] == key_arn
    assert admin.decrypt(CiphertextBlob=data_key["CiphertextBlob"])["Plaintext"] == data_key["Plaintext"]
    assert "Plaintext" not in admin.generate_data_key_without_plaintext(KeyId=key_arn, NumberOfBytes=16)
    pair = admin.generate_data_key_pair(KeyId=key_arn, KeyPairSpec="ECC_NIST_P256")
    assert pair["KeyPairSpec"] == "ECC_NIST_P256" and pair["PublicKey"] and pair["PrivateKeyPlaintext"]
    no_plain = admin.generate_data_key_pair_without_plaintext(KeyId=key_arn, KeyPairSpec="RSA_2048")
    assert "PrivateKeyPlaintext" not in no_plain and no_plain["KeyId"] == key_arn
    assert len(admin.generate_random(NumberOfBytes=64)["Plaintext"]) == 64


def test_sign_verify_and_public_key(admin: Any) -> None:
    """An asymmetric signing key signs, verifies and exports a public key that verifies the signature."""
    key = admin.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    signed = admin.sign(KeyId=key, Message=b"message", SigningAlgorithm="RSASSA_PSS_SHA_256")
    assert signed["KeyId"] == key
    verified = admin.verify(KeyId=key, Message=b"message", Signature=signed["Signature"], SigningAlgorithm="RSASSA_PSS_SHA_256")
    assert verified["SignatureValid"] is True
    public = admin.get_public_key(KeyId=key)
    assert public["KeySpec"] == "RSA_2048" and "RSASSA_PSS_SHA_256" in public["SigningAlgorithms"]
    loaded = serialization.load_der_public_key(public["PublicKey"])
    assert isinstance(loaded, rsa.RSAPublicKey)
    loaded.verify(
        signed["Signature"],
        b"message",
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH),
        hashes.SHA256(),
    )


def test_macs(admin: Any) -> None:
    """An HMAC key generates a MAC that VerifyMac accepts."""
    key = admin.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["Arn"]
    mac = admin.generate_mac(KeyId=key, Message=b"m", MacAlgorithm="HMAC_SHA_256")
    assert len(mac["Mac"]) == 32 and mac["KeyId"] == key
    assert admin.verify_mac(KeyId=key, Message=b"m", Mac=mac["Mac"], MacAlgorithm="HMAC_SHA_256")["MacValid"] is True


def test_grants(server: Server, admin: Any, key_arn: str) -> None:
    """A grant lets its grantee decrypt; list, retire and revoke manage it."""
    bob = f"arn:aws:iam::{ACCOUNT}:user/bob"
    grant = admin.create_grant(KeyId=key_arn, GranteePrincipal=bob, RetiringPrincipal=bob, Operations=["Decrypt"])
    assert grant["GrantId"] and grant["GrantToken"]
    blob = admin.encrypt(KeyId=key_arn, Plaintext=b"for bob")["CiphertextBlob"]
    bob_client = server.client("AKIABOB00000EXAMPLE")
    assert bob_client.decrypt(CiphertextBlob=blob)["Plaintext"] == b"for bob"
    listed = admin.list_grants(KeyId=key_arn)["Grants"]
    assert [g["GrantId"] for g in listed] == [grant["GrantId"]] and listed[0]["KeyId"] == key_arn
    assert isinstance(listed[0]["CreationDate"], datetime)
    assert [g["GrantId"] for g in admin.list_retirable_grants(RetiringPrincipal=bob)["Grants"]] == [grant["GrantId"]]
    bob_client.retire_grant(KeyId=key_arn, GrantId=grant["GrantId"])
    second = admin.create_grant(KeyId=key_arn, GranteePrincipal=bob, Operations=["Encrypt"])
    admin.revoke_grant(KeyId=key_arn, GrantId=second["GrantId"])
    assert admin.list_grants(KeyId=key_arn)["Grants"] == []


def test_rotation(admin: Any, key_arn: str) -> None:
    """Rotation can be enabled with a period, read back, triggered on demand and listed."""
    admin.enable_key_rotation(KeyId=key_arn, RotationPeriodInDays=90)
    status = admin.get_key_rotation_status(KeyId=key_arn)
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 90
    assert isinstance(status["NextRotationDate"], datetime)
    assert admin.rotate_key_on_demand(KeyId=key_arn)["KeyId"] == key_arn
    rotations = admin.list_key_rotations(KeyId=key_arn)["Rotations"]
    assert [r["RotationType"] for r in rotations] == ["ON_DEMAND"]
    admin.disable_key_rotation(KeyId=key_arn)
    assert admin.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"] is False


def test_import_key_material(admin: Any) -> None:
    """Material wrapped with the import parameters' public key is imported, used, and deleted."""
    key = admin.create_key(Origin="EXTERNAL")["KeyMetadata"]["Arn"]
    params = admin.get_parameters_for_import(KeyId=key, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    assert params["KeyId"] == key and isinstance(params["ParametersValidTo"], datetime)
    public = serialization.load_der_public_key(params["PublicKey"])
    assert isinstance(public, rsa.RSAPublicKey)
    material = os.urandom(32)
    wrapped = public.encrypt(material, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
    admin.import_key_material(
        KeyId=key, ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped, ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE"
    )
    blob = admin.encrypt(KeyId=key, Plaintext=b"imported")["CiphertextBlob"]
    assert admin.decrypt(CiphertextBlob=blob)["Plaintext"] == b"imported"
    assert admin.delete_imported_key_material(KeyId=key)["KeyId"] == key
    assert admin.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "PendingImport"


def test_import_with_expiry_timestamp(admin: Any) -> None:
    """A ValidTo timestamp sent by boto3 (epoch seconds) comes back as the same datetime."""
    key = admin.create_key(Origin="EXTERNAL")["KeyMetadata"]["Arn"]
    params = admin.get_parameters_for_import(KeyId=key, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    public = serialization.load_der_public_key(params["PublicKey"])
    assert isinstance(public, rsa.RSAPublicKey)
    wrapped = public.encrypt(
        os.urandom(32), padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    )
    valid_to = datetime.fromisoformat("2099-01-01T00:00:00+00:00")
    admin.import_key_material(KeyId=key, ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped, ValidTo=valid_to)
    meta = admin.describe_key(KeyId=key)["KeyMetadata"]
    assert meta["ValidTo"] == valid_to and meta["ExpirationModel"] == "KEY_MATERIAL_EXPIRES"


def test_shared_secret_operations(admin: Any) -> None:
    """DeriveSharedSecret, Encapsulate and Decapsulate answer AWS's shapes (crypto checked in test_key_specs.py)."""
    agreement = admin.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["Arn"]
    peer = admin.get_public_key(KeyId=agreement)["PublicKey"]
    derived = admin.derive_shared_secret(KeyId=agreement, KeyAgreementAlgorithm="ECDH", PublicKey=peer)
    assert len(derived["SharedSecret"]) == 32 and derived["KeyId"] == agreement
    kem = admin.create_key(KeySpec="ML_KEM_768", KeyUsage="ENCAPSULATE_DECAPSULATE")["KeyMetadata"]["Arn"]
    sealed = admin.encapsulate(KeyId=kem, EncapsulationAlgorithm="ML_KEM")
    opened = admin.decapsulate(
        KeyId=kem, EncapsulationAlgorithm="ML_KEM", SharedSecretCiphertextBlob=sealed["SharedSecretCiphertextBlob"]
    )
    assert opened["SharedSecret"] == sealed["SharedSecret"] and opened["EncapsulationAlgorithm"] == "ML_KEM"


def test_custom_key_store_operations(admin: Any) -> None:
    """Every custom key store operation answers as AWS answers an account that has none."""
    assert admin.describe_custom_key_stores()["CustomKeyStores"] == []
    store = "cks-1234567890abcdef0"
    for call in (
        lambda: admin.connect_custom_key_store(CustomKeyStoreId=store),
        lambda: admin.disconnect_custom_key_store(CustomKeyStoreId=store),
        lambda: admin.delete_custom_key_store(CustomKeyStoreId=store),
        lambda: admin.update_custom_key_store(CustomKeyStoreId=store),
    ):
        try:
            call()
        except admin.exceptions.CustomKeyStoreNotFoundException:
            continue
        raise AssertionError("a custom key store operation did not answer CustomKeyStoreNotFoundException")
    try:
        admin.create_custom_key_store(
            CustomKeyStoreName="xks",
            CustomKeyStoreType="EXTERNAL_KEY_STORE",
            XksProxyUriEndpoint="https://xks.example.com",
            XksProxyUriPath="/kms/xks/v1",
            XksProxyConnectivity="PUBLIC_ENDPOINT",
            XksProxyAuthenticationCredential={"AccessKeyId": "A" * 20, "RawSecretAccessKey": "s" * 43},
        )
    except admin.exceptions.XksProxyUriUnreachableException:
        return
    raise AssertionError("CreateCustomKeyStore did not answer XksProxyUriUnreachableException")


def test_multi_region_operations(server: Server, admin: Any) -> None:
    """ReplicateKey and UpdatePrimaryRegion answer AWS's shapes (behaviour in test_multi_region.py)."""
    key_id = admin.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    replica = admin.replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")
    assert replica["ReplicaKeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    assert admin.update_primary_region(KeyId=key_id, PrimaryRegion="us-west-2")["ResponseMetadata"]["HTTPStatusCode"] == 200
    west = server.client(region="us-west-2")
    assert west.describe_key(KeyId=key_id)["KeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"


def test_get_key_last_usage(admin: Any, key_arn: str) -> None:
    """GetKeyLastUsage names the last cryptographic call on the key, with its event and request ids."""
    unused = admin.get_key_last_usage(KeyId=key_arn)
    assert "KeyLastUsage" not in unused and unused["KeyCreationDate"] == unused["TrackingStartDate"]
    admin.encrypt(KeyId=key_arn, Plaintext=b"x")
    admin.describe_key(KeyId=key_arn)
    usage = admin.get_key_last_usage(KeyId=key_arn)["KeyLastUsage"]
    assert usage["Operation"] == "Encrypt" and isinstance(usage["Timestamp"], datetime)
    assert usage["CloudTrailEventId"] and usage["KmsRequestId"]
