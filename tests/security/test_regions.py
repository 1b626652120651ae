"""Ciphertexts stay in their region: KMS keys are regional (KMS DG "Multi-Region keys" and
"AWS KMS concepts": a KMS key never leaves the region it was created in), so a ciphertext made in
us-east-1 names no key for an eu-west-1 client (AWS: InvalidCiphertextException, or
NotFoundException for a key named by ARN in another region), whether it decrypts without KeyId,
re-encrypts, or names the key. Cross-account use of a ciphertext is a key-policy decision
(the ciphertext names its key), never a lookup that fails.
"""

from __future__ import annotations

from typing import Any

from tests.security.conftest import ADMIN, CAROL, OTHER_REGION, STRANGER, Server, error_code, open_to_account


def test_ciphertext_does_not_cross_regions(secure: Server, admin: Any, key_arn: str) -> None:
    blob = admin.encrypt(KeyId=key_arn, Plaintext=b"regional")["CiphertextBlob"]
    europe = secure.client(ADMIN, region=OTHER_REGION)
    assert error_code(lambda: europe.decrypt(CiphertextBlob=blob)) == "InvalidCiphertextException"
    assert error_code(lambda: europe.decrypt(CiphertextBlob=blob, KeyId=key_arn)) == "NotFoundException"
    local_key = europe.create_key()["KeyMetadata"]["Arn"]
    assert error_code(lambda: europe.re_encrypt(CiphertextBlob=blob, DestinationKeyId=local_key)) == "InvalidCiphertextException"
    assert admin.decrypt(CiphertextBlob=blob)["Plaintext"] == b"regional"


def test_ciphertext_crosses_accounts_only_by_key_policy(secure: Server, admin: Any, key_arn: str) -> None:
    """A stranger holding a ciphertext is refused by the key policy; trusted, it decrypts without KeyId."""
    blob = admin.encrypt(KeyId=key_arn, Plaintext=b"owned")["CiphertextBlob"]
    carol = secure.client(CAROL)
    assert error_code(lambda: carol.decrypt(CiphertextBlob=blob)) == "AccessDeniedException"
    shared = admin.create_key(Policy=open_to_account(STRANGER))["KeyMetadata"]["Arn"]
    shared_blob = admin.encrypt(KeyId=shared, Plaintext=b"shared")["CiphertextBlob"]
    assert carol.decrypt(CiphertextBlob=shared_blob)["Plaintext"] == b"shared"
    europe_carol = secure.client(CAROL, region=OTHER_REGION)
    assert error_code(lambda: europe_carol.decrypt(CiphertextBlob=shared_blob)) == "InvalidCiphertextException"


def test_multi_region_ciphertext_decrypts_only_where_a_replica_exists(secure: Server, admin: Any) -> None:
    """A multi-Region key's ciphertext names its mrk- id; another region finds a key for it only once a
    replica exists there (KMS DG "Multi-Region keys in AWS KMS": related keys share material, each is a
    regional resource)."""
    primary = admin.create_key(MultiRegion=True)["KeyMetadata"]
    blob = admin.encrypt(KeyId=primary["Arn"], Plaintext=b"everywhere")["CiphertextBlob"]
    europe = secure.client(ADMIN, region=OTHER_REGION)
    assert error_code(lambda: europe.decrypt(CiphertextBlob=blob)) == "InvalidCiphertextException"
    admin.replicate_key(KeyId=primary["KeyId"], ReplicaRegion=OTHER_REGION)
    assert europe.decrypt(CiphertextBlob=blob)["Plaintext"] == b"everywhere"
