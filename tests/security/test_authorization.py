"""Authorization attacks by users who hold some permission and reach for more.

The key policy and IAM policies decide as AWS decides (KMS DG "Authentication and access control",
https://docs.aws.amazon.com/kms/latest/developerguide/control-access.html); ReEncrypt needs
ReEncryptFrom on the source key and ReEncryptTo on the destination (API ReEncrypt); a ciphertext
opens only with the encryption context it was made with (KMS DG "Encryption context").
"""

from __future__ import annotations

import json
from typing import Any

from tests.security.conftest import ADMIN, CAROL, DEV, OWNER, ROLE, Server, error_code

DEV_ARN = f"arn:aws:iam::{OWNER}:user/dev"


def _key_dev_may_not_use(admin: Any) -> str:
    """A key whose policy explicitly denies dev everything (dev's IAM policy alone would allow use)."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"}, "Action": "kms:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": {"AWS": DEV_ARN}, "Action": "kms:*", "Resource": "*"},
        ],
    }
    return str(admin.create_key(Policy=json.dumps(policy))["KeyMetadata"]["Arn"])


def test_reencrypt_into_a_key_the_caller_cannot_use(secure: Server, admin: Any, key_arn: str) -> None:
    dev = secure.client(DEV)
    blob = dev.encrypt(KeyId=key_arn, Plaintext=b"move me")["CiphertextBlob"]
    forbidden = _key_dev_may_not_use(admin)
    assert error_code(lambda: dev.re_encrypt(CiphertextBlob=blob, DestinationKeyId=forbidden)) == "AccessDeniedException"
    # and out of a key it cannot use, into one it can
    locked = admin.encrypt(KeyId=forbidden, Plaintext=b"locked")["CiphertextBlob"]
    assert error_code(lambda: dev.re_encrypt(CiphertextBlob=locked, DestinationKeyId=key_arn)) == "AccessDeniedException"
    assert dev.re_encrypt(CiphertextBlob=blob, DestinationKeyId=key_arn)["KeyId"] == key_arn


def test_non_admin_cannot_change_policy_or_schedule_deletion(secure: Server, admin: Any, key_arn: str) -> None:
    """A key user (IAM user or role session) cannot take the key over or destroy it."""
    statement = {"Effect": "Allow", "Principal": {"AWS": DEV_ARN}, "Action": "kms:*", "Resource": "*"}
    takeover = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    for access_key in (DEV, ROLE):
        user = secure.client(access_key)
        assert error_code(lambda user=user: user.put_key_policy(KeyId=key_arn, PolicyName="default", Policy=takeover)) == (
            "AccessDeniedException"
        )
        assert error_code(lambda user=user: user.schedule_key_deletion(KeyId=key_arn)) == "AccessDeniedException"
        assert error_code(lambda user=user: user.disable_key(KeyId=key_arn)) == "AccessDeniedException"
    assert admin.describe_key(KeyId=key_arn)["KeyMetadata"]["KeyState"] == "Enabled"


def test_encryption_context_tampering_is_refused(secure: Server, key_arn: str) -> None:
    """Any change to the context (a value, a key's case, a pair added or dropped) fails alike."""
    dev = secure.client(DEV)
    context = {"tenant": "a", "purpose": "billing"}
    blob = dev.encrypt(KeyId=key_arn, Plaintext=b"bound", EncryptionContext=context)["CiphertextBlob"]
    for tampered in ({"tenant": "b", "purpose": "billing"}, {"Tenant": "a", "purpose": "billing"}, {"tenant": "a"}, {}):
        call = lambda tampered=tampered: dev.decrypt(CiphertextBlob=blob, EncryptionContext=tampered)  # noqa: E731
        assert error_code(call) == "InvalidCiphertextException"
    assert dev.decrypt(CiphertextBlob=blob, EncryptionContext=context)["Plaintext"] == b"bound"


def test_ciphertext_blob_tampering_is_refused(secure: Server, key_arn: str) -> None:
    dev = secure.client(DEV)
    blob = bytearray(dev.encrypt(KeyId=key_arn, Plaintext=b"sealed")["CiphertextBlob"])
    for index in (0, len(blob) // 2, len(blob) - 1):
        flipped = bytes(blob[:index]) + bytes([blob[index] ^ 1]) + bytes(blob[index + 1 :])
        assert error_code(lambda flipped=flipped: dev.decrypt(CiphertextBlob=flipped)) == "InvalidCiphertextException"


def test_stranger_cannot_use_a_key_by_arn(secure: Server, key_arn: str) -> None:
    """Another account with kms:* in its own IAM policy is refused: the key policy does not trust it."""
    carol = secure.client(CAROL)
    for call in (
        lambda: carol.encrypt(KeyId=key_arn, Plaintext=b"x"),
        lambda: carol.describe_key(KeyId=key_arn),
        lambda: carol.create_grant(KeyId=key_arn, GranteePrincipal=f"arn:aws:iam::{OWNER}:root", Operations=["Decrypt"]),
        lambda: carol.schedule_key_deletion(KeyId=key_arn),
    ):
        assert error_code(call) == "AccessDeniedException"


def test_admin_is_not_locked_out_by_its_own_mistake(secure: Server, admin: Any, key_arn: str) -> None:
    """The lockout safety check: a policy that would stop the caller changing it again is refused."""
    statement = {"Effect": "Allow", "Principal": {"AWS": DEV_ARN}, "Action": "kms:Encrypt", "Resource": "*"}
    lockout = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    assert error_code(lambda: admin.put_key_policy(KeyId=key_arn, PolicyName="default", Policy=lockout)) == (
        "MalformedPolicyDocumentException"
    )
    assert secure.client(ADMIN).describe_key(KeyId=key_arn)["KeyMetadata"]["Enabled"]
