"""Aliases, grants, rotation and imported key material (seed notes; KMS Developer Guide)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

import policyengine as pe
from policyengine.kms import Caller, LocalKms, ManualClock, _crypto
from policyengine.kms.errors import (
    AccessDeniedException,
    AlreadyExistsException,
    ExpiredImportTokenException,
    IncorrectKeyMaterialException,
    InvalidAliasNameException,
    InvalidGrantTokenException,
    InvalidImportTokenException,
    KMSInvalidStateException,
    LimitExceededException,
    NotFoundException,
    UnsupportedOperationException,
    ValidationException,
)
from tests.kms.conftest import ACCOUNT

# -- aliases -------------------------------------------------------------------------------------


def test_alias_lifecycle_and_manual_rotation(kms: LocalKms, root: Caller, key_id: str) -> None:
    """Pointing an alias at a new key rotates manually; old ciphertext still decrypts with the old key (seed)."""
    kms.create_alias(root, AliasName="alias/payments", TargetKeyId=key_id)
    old_blob = kms.encrypt(root, KeyId="alias/payments", Plaintext=b"v1")["CiphertextBlob"]
    new_key = kms.create_key(root)["KeyMetadata"]["KeyId"]
    kms.update_alias(root, AliasName="alias/payments", TargetKeyId=new_key)
    new_blob = kms.encrypt(root, KeyId="alias/payments", Plaintext=b"v2")
    assert new_blob["KeyId"].endswith(new_key)
    assert kms.decrypt(root, CiphertextBlob=old_blob)["Plaintext"] == b"v1"
    listed = kms.list_aliases(root)["Aliases"]
    assert [(a["AliasName"], a["TargetKeyId"]) for a in listed if "TargetKeyId" in a] == [("alias/payments", new_key)]
    assert kms.list_aliases(root, KeyId=key_id)["Aliases"] == []
    kms.delete_alias(root, AliasName="alias/payments")
    with pytest.raises(NotFoundException):
        kms.describe_key(root, KeyId="alias/payments")


def test_list_aliases_shows_the_predefined_aws_aliases_as_a_real_account(kms: LocalKms, root: Caller) -> None:
    """alias/aws/... names are listed without a target until first use makes the AWS managed key."""
    listed = {a["AliasName"]: a for a in kms.list_aliases(root)["Aliases"]}
    assert listed["alias/aws/s3"] == {"AliasName": "alias/aws/s3", "AliasArn": "arn:aws:kms:us-east-1:111122223333:alias/aws/s3"}
    assert list(listed) == sorted(listed)
    kms.describe_key(root, KeyId="alias/aws/s3")
    s3 = next(a for a in kms.list_aliases(root)["Aliases"] if a["AliasName"] == "alias/aws/s3")
    assert s3["TargetKeyId"] and "CreationDate" in s3


def test_alias_rules(kms: LocalKms, root: Caller, key_id: str) -> None:
    """Names are unique per account and Region; alias/aws/ is reserved; bad characters are refused."""
    kms.create_alias(root, AliasName="alias/one", TargetKeyId=key_id)
    with pytest.raises(AlreadyExistsException):
        kms.create_alias(root, AliasName="alias/one", TargetKeyId=key_id)
    with pytest.raises(InvalidAliasNameException):
        kms.create_alias(root, AliasName="alias/aws/mine", TargetKeyId=key_id)
    with pytest.raises(InvalidAliasNameException):
        kms.create_alias(root, AliasName="alias/has space", TargetKeyId=key_id)
    with pytest.raises(ValidationException):
        kms.create_alias(root, AliasName="noprefix", TargetKeyId=key_id)
    other_region = kms.for_region("eu-west-1")
    assert isinstance(other_region, LocalKms)
    eu_key = other_region.create_key(root)["KeyMetadata"]["KeyId"]
    other_region.create_alias(root, AliasName="alias/one", TargetKeyId=eu_key)  # same name, other Region


def test_alias_needs_permission_on_alias_and_key(kms: LocalKms, root: Caller, key_id: str) -> None:
    """CreateAlias checks the alias ARN (IAM) and the key (key policy): a user allowed only on the key is denied."""
    only_key = Caller(
        f"arn:aws:iam::{ACCOUNT}:user/k",
        ACCOUNT,
        identity_policies=(
            pe.parse_policy(
                json.dumps(
                    {
                        "Statement": [
                            {"Effect": "Allow", "Action": "kms:CreateAlias", "Resource": f"arn:aws:kms:*:{ACCOUNT}:key/*"}
                        ]
                    }
                )
            ),
        ),
    )
    with pytest.raises(AccessDeniedException, match="alias/new"):
        kms.create_alias(only_key, AliasName="alias/new", TargetKeyId=key_id)


# -- grants --------------------------------------------------------------------------------------


def test_grant_gives_access_and_retire_or_revoke_takes_it_away(kms: LocalKms, root: Caller, bob: Caller, key_id: str) -> None:
    """A grant lets bob decrypt without any policy; retiring it (by token) ends that (KMS DG grants)."""
    blob = kms.encrypt(root, KeyId=key_id, Plaintext=b"shared")["CiphertextBlob"]
    with pytest.raises(AccessDeniedException):
        kms.decrypt(bob, CiphertextBlob=blob)
    grant = kms.create_grant(
        root, KeyId=key_id, GranteePrincipal=bob.principal, Operations=["Decrypt"], RetiringPrincipal=bob.principal
    )
    assert kms.decrypt(bob, CiphertextBlob=blob)["Plaintext"] == b"shared"
    listed = kms.list_grants(root, KeyId=key_id)["Grants"]
    assert [g["GrantId"] for g in listed] == [grant["GrantId"]]
    assert kms.list_retirable_grants(root, RetiringPrincipal=bob.principal)["Grants"][0]["GrantId"] == grant["GrantId"]
    kms.retire_grant(bob, GrantToken=grant["GrantToken"])
    with pytest.raises(AccessDeniedException):
        kms.decrypt(bob, CiphertextBlob=blob)
    second = kms.create_grant(root, KeyId=key_id, GranteePrincipal=bob.principal, Operations=["Decrypt"])
    kms.revoke_grant(root, KeyId=key_id, GrantId=second["GrantId"])
    assert kms.list_grants(root, KeyId=key_id)["Grants"] == []


def test_grant_constraints_and_denies(kms: LocalKms, root: Caller, bob: Caller, key_id: str) -> None:
    """An EncryptionContextSubset grant allows only matching contexts; a key-policy Deny beats the grant."""
    good = kms.encrypt(root, KeyId=key_id, Plaintext=b"a", EncryptionContext={"Dept": "fin", "x": "1"})["CiphertextBlob"]
    bad = kms.encrypt(root, KeyId=key_id, Plaintext=b"a", EncryptionContext={"Dept": "hr"})["CiphertextBlob"]
    kms.create_grant(
        root,
        KeyId=key_id,
        GranteePrincipal=bob.principal,
        Operations=["Decrypt"],
        Constraints={"EncryptionContextSubset": {"dept": "fin"}},
    )
    assert kms.decrypt(bob, CiphertextBlob=good, EncryptionContext={"Dept": "fin", "x": "1"})["Plaintext"] == b"a"
    with pytest.raises(AccessDeniedException):
        kms.decrypt(bob, CiphertextBlob=bad, EncryptionContext={"Dept": "hr"})
    policy = json.loads(kms.get_key_policy(root, KeyId=key_id)["Policy"])
    policy["Statement"].append(
        {"Sid": "NoBob", "Effect": "Deny", "Principal": {"AWS": bob.principal}, "Action": "kms:*", "Resource": "*"}
    )
    kms.put_key_policy(root, KeyId=key_id, Policy=json.dumps(policy))
    with pytest.raises(AccessDeniedException) as info:
        kms.decrypt(bob, CiphertextBlob=good, EncryptionContext={"Dept": "fin", "x": "1"})
    assert info.value.decision.decision == "explicit_deny" and "explicit deny" in info.value.message


def test_create_grant_validation(kms: LocalKms, root: Caller, key_id: str) -> None:
    """Unknown operations, bad principals and bad tokens are refused with AWS's errors."""
    with pytest.raises(ValidationException):
        kms.create_grant(root, KeyId=key_id, GranteePrincipal="arn:aws:iam::111122223333:user/x", Operations=["PutKeyPolicy"])
    with pytest.raises(ValidationException):
        kms.create_grant(root, KeyId=key_id, GranteePrincipal="nobody", Operations=["Decrypt"])
    with pytest.raises(InvalidGrantTokenException):
        kms.retire_grant(root, GrantToken="not-a-token")


def test_named_grant_is_idempotent(kms: LocalKms, root: Caller, key_id: str) -> None:
    """CreateGrant with the same Name and parameters returns the same grant (API CreateGrant, Name)."""
    params = {"KeyId": key_id, "GranteePrincipal": f"arn:aws:iam::{ACCOUNT}:role/R", "Operations": ["Encrypt"], "Name": "n"}
    assert kms.create_grant(root, **params)["GrantId"] == kms.create_grant(root, **params)["GrantId"]


def test_grant_with_create_grant_cannot_widen(kms: LocalKms, root: Caller, bob: Caller, key_id: str) -> None:
    """A grantee holding CreateGrant through a grant may pass on only the operations it holds."""
    kms.create_grant(root, KeyId=key_id, GranteePrincipal=bob.principal, Operations=["Decrypt", "CreateGrant"])
    kms.create_grant(bob, KeyId=key_id, GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:user/c", Operations=["Decrypt"])
    with pytest.raises(AccessDeniedException):
        kms.create_grant(bob, KeyId=key_id, GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:user/c", Operations=["Encrypt"])


# -- rotation ------------------------------------------------------------------------------------


def test_automatic_rotation_keeps_old_ciphertext_decryptable(
    kms: LocalKms, clock: ManualClock, root: Caller, key_id: str
) -> None:
    """When the period passes, new material is added under the same key id and old ciphertext still decrypts (seed)."""
    before = kms.encrypt(root, KeyId=key_id, Plaintext=b"old")["CiphertextBlob"]
    kms.enable_key_rotation(root, KeyId=key_id, RotationPeriodInDays=90)
    status = kms.get_key_rotation_status(root, KeyId=key_id)
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 90
    clock.advance(days=91)
    after = kms.encrypt(root, KeyId=key_id, Plaintext=b"new")["CiphertextBlob"]
    rotations = kms.list_key_rotations(root, KeyId=key_id)["Rotations"]
    assert [r["RotationType"] for r in rotations] == ["AUTOMATIC"]
    assert after != before and kms.decrypt(root, CiphertextBlob=before)["Plaintext"] == b"old"
    assert kms.decrypt(root, CiphertextBlob=after)["Plaintext"] == b"new"


@pytest.mark.parametrize("days", [89, 2561])
def test_rotation_period_bounds(kms: LocalKms, root: Caller, key_id: str, days: int) -> None:
    """RotationPeriodInDays must be 90 to 2560 (seed)."""
    with pytest.raises(ValidationException):
        kms.enable_key_rotation(root, KeyId=key_id, RotationPeriodInDays=days)


def test_default_rotation_period_is_365_days(kms: LocalKms, root: Caller, key_id: str) -> None:
    """Without a period, rotation is yearly (seed)."""
    kms.enable_key_rotation(root, KeyId=key_id)
    assert kms.get_key_rotation_status(root, KeyId=key_id)["RotationPeriodInDays"] == 365


def test_on_demand_rotation_and_its_limit(kms: LocalKms, root: Caller, key_id: str) -> None:
    """On-demand rotation works without automatic rotation and stops at the per-key limit (seed)."""
    blobs = []
    for i in range(10):
        blobs.append(kms.encrypt(root, KeyId=key_id, Plaintext=bytes([i]))["CiphertextBlob"])
        kms.rotate_key_on_demand(root, KeyId=key_id)
    with pytest.raises(LimitExceededException):
        kms.rotate_key_on_demand(root, KeyId=key_id)
    assert kms.get_key_rotation_status(root, KeyId=key_id)["KeyRotationEnabled"] is False
    assert [kms.decrypt(root, CiphertextBlob=b)["Plaintext"] for b in blobs] == [bytes([i]) for i in range(10)]
    assert len(kms.list_key_rotations(root, KeyId=key_id)["Rotations"]) == 10


def test_rotation_only_for_symmetric_aws_material(kms: LocalKms, root: Caller) -> None:
    """Asymmetric keys cannot be rotated automatically or on demand (seed: manual rotation instead)."""
    key = kms.create_key(root, KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    with pytest.raises(UnsupportedOperationException):
        kms.enable_key_rotation(root, KeyId=key)
    with pytest.raises(UnsupportedOperationException):
        kms.rotate_key_on_demand(root, KeyId=key)


# -- import ---------------------------------------------------------------------------------------


def _import(
    kms: LocalKms, root: Caller, key: str, material: bytes, algorithm: str = "RSAES_OAEP_SHA_256", **extra: object
) -> None:
    params = kms.get_parameters_for_import(root, KeyId=key, WrappingAlgorithm=algorithm, WrappingKeySpec="RSA_2048")
    wrapped = _crypto.wrap_key_material(params["PublicKey"], material, algorithm)
    kms.import_key_material(root, KeyId=key, ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped, **extra)


@pytest.mark.parametrize("algorithm", ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "RSA_AES_KEY_WRAP_SHA_256"])
def test_import_makes_the_key_usable(kms: LocalKms, root: Caller, algorithm: str) -> None:
    """An EXTERNAL key is PendingImport until material is imported, then Enabled (BYOK)."""
    key = kms.create_key(root, Origin="EXTERNAL")["KeyMetadata"]
    assert key["KeyState"] == "PendingImport"
    with pytest.raises(KMSInvalidStateException):
        kms.encrypt(root, KeyId=key["KeyId"], Plaintext=b"x")
    _import(kms, root, key["KeyId"], b"k" * 32, algorithm, ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    blob = kms.encrypt(root, KeyId=key["KeyId"], Plaintext=b"byok")["CiphertextBlob"]
    assert kms.decrypt(root, CiphertextBlob=blob)["Plaintext"] == b"byok"


def test_imported_material_expires_back_to_pending_import(kms: LocalKms, clock: ManualClock, root: Caller) -> None:
    """Material with ValidTo is deleted when the clock passes it and the key returns to PendingImport."""
    key = kms.create_key(root, Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    valid_to = dt.datetime.fromtimestamp(clock.now() + 86400, dt.UTC)
    _import(kms, root, key, b"m" * 32, ValidTo=valid_to)
    assert kms.describe_key(root, KeyId=key)["KeyMetadata"]["ExpirationModel"] == "KEY_MATERIAL_EXPIRES"
    clock.advance(days=1, seconds=1)
    assert kms.describe_key(root, KeyId=key)["KeyMetadata"]["KeyState"] == "PendingImport"
    _import(kms, root, key, b"m" * 32, ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")  # the same material again
    assert kms.describe_key(root, KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled"
    kms.delete_imported_key_material(root, KeyId=key)
    assert kms.describe_key(root, KeyId=key)["KeyMetadata"]["KeyState"] == "PendingImport"
    with pytest.raises(IncorrectKeyMaterialException):
        _import(kms, root, key, b"z" * 32, ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")


def test_import_token_rules(kms: LocalKms, clock: ManualClock, root: Caller) -> None:
    """A wrong token is InvalidImportToken; a token older than 24 hours is ExpiredImportToken."""
    key = kms.create_key(root, Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    params = kms.get_parameters_for_import(root, KeyId=key, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    wrapped = _crypto.wrap_key_material(params["PublicKey"], b"k" * 32, "RSAES_OAEP_SHA_256")
    with pytest.raises(InvalidImportTokenException):
        kms.import_key_material(
            root, KeyId=key, ImportToken=b"forged", EncryptedKeyMaterial=wrapped, ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE"
        )
    clock.advance(days=1, seconds=1)
    with pytest.raises(ExpiredImportTokenException):
        kms.import_key_material(
            root,
            KeyId=key,
            ImportToken=params["ImportToken"],
            EncryptedKeyMaterial=wrapped,
            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
        )


def test_import_needs_external_origin(kms: LocalKms, root: Caller, key_id: str) -> None:
    """GetParametersForImport on a key with AWS_KMS material is UnsupportedOperationException."""
    with pytest.raises(UnsupportedOperationException):
        kms.get_parameters_for_import(root, KeyId=key_id, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
