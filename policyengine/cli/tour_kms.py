"""The tour's local-KMS section: the seed notes' key lifecycle, live, on the embedded SQLite store.

A manual clock stands in for time, so rotation periods and deletion windows pass in an instant.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from typing import Any

from rich.markup import escape

import policyengine as pe
from policyengine.cli.output import out
from policyengine.kms import AccessDeniedException, Caller, KMSError, LocalKms, ManualClock, open_local_kms, root_caller

ACCOUNT = "111122223333"


def _step(text: str) -> None:
    out.print(f"[bold cyan]›[/] {escape(text)}")


def _result(text: str) -> None:
    out.print(f"    {escape(text)}")


def _expect_error(action: Callable[[], Any]) -> KMSError:
    try:
        action()
    except KMSError as error:
        return error
    raise AssertionError("the tour expected this call to fail")


def run_kms_tour() -> None:
    """Walk the lifecycle: keys, context, denials, rotation, deletion windows, aliases, signatures, audit."""
    with tempfile.TemporaryDirectory(prefix="policyengine-tour-") as data:
        clock = ManualClock()
        kms = open_local_kms(data, clock=clock)
        try:
            _lifecycle(kms, clock)
        finally:
            kms.store.close()


def _lifecycle(kms: LocalKms, clock: ManualClock) -> None:
    root = root_caller(ACCOUNT)
    _step("CreateKey with no policy: a symmetric AES-256 key gets the default key policy")
    meta = kms.create_key(root, Description="tour key")["KeyMetadata"]
    key = meta["KeyId"]
    _result(f"{meta['KeySpec']} {meta['KeyState']} {meta['Arn']}")

    _step("Encrypt with an encryption context; Decrypt needs the very same context")
    blob = kms.encrypt(root, KeyId=key, Plaintext=b"card number", EncryptionContext={"app": "payments"})["CiphertextBlob"]
    plain = kms.decrypt(root, CiphertextBlob=blob, EncryptionContext={"app": "payments"})["Plaintext"]
    _result(f"ciphertext {len(blob)} bytes -> {plain.decode()!r}")
    error = _expect_error(lambda: kms.decrypt(root, CiphertextBlob=blob, EncryptionContext={"app": "other"}))
    _result(f"wrong context: {error.code}")

    _step("alice has no IAM policy: the default key policy only opens the door, so she is refused")
    alice = Caller(f"arn:aws:iam::{ACCOUNT}:user/alice", ACCOUNT)
    denied = _expect_error(lambda: kms.decrypt(alice, CiphertextBlob=blob, EncryptionContext={"app": "payments"}))
    assert isinstance(denied, AccessDeniedException)
    _result(denied.message)
    _result(f"why: {denied.decision.reason_text}")

    _step("Give alice an IAM policy allowing Decrypt only for app=payments; now she may")
    policy = pe.parse_policy(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "kms:Decrypt",
                        "Resource": meta["Arn"],
                        "Condition": {"StringEquals": {"kms:EncryptionContext:app": "payments"}},
                    }
                ],
            }
        )
    )
    alice = Caller(alice.principal, ACCOUNT, identity_policies=(policy,))
    plain = kms.decrypt(alice, CiphertextBlob=blob, EncryptionContext={"app": "payments"})["Plaintext"]
    _result(f"alice decrypted {plain.decode()!r}")

    _step("Automatic rotation every 90 days: new material, same key id, old ciphertext still decrypts")
    kms.enable_key_rotation(root, KeyId=key, RotationPeriodInDays=90)
    clock.advance(days=91)
    newer = kms.encrypt(root, KeyId=key, Plaintext=b"after rotation")["CiphertextBlob"]
    rotations = kms.list_key_rotations(root, KeyId=key)["Rotations"]
    old = kms.decrypt(root, CiphertextBlob=blob, EncryptionContext={"app": "payments"})["Plaintext"]
    _result(
        f"{len(rotations)} rotation ({rotations[0]['RotationType']}); old ciphertext -> {old.decode()!r}; "
        f"new ciphertext decrypts too: {kms.decrypt(root, CiphertextBlob=newer)['Plaintext'].decode()!r}"
    )

    _step("On-demand rotation, without touching the automatic schedule")
    kms.rotate_key_on_demand(root, KeyId=key)
    _result(f"rotations now: {[r['RotationType'] for r in kms.list_key_rotations(root, KeyId=key)['Rotations']]}")

    _step("Disable the key: cryptography stops until it is enabled again")
    kms.disable_key(root, KeyId=key)
    _result(f"Decrypt while disabled: {_expect_error(lambda: kms.decrypt(root, CiphertextBlob=newer)).code}")
    kms.enable_key(root, KeyId=key)

    _step("Schedule deletion with a 7-day window (7..30 allowed), then cancel: the key comes back Disabled")
    scheduled = kms.schedule_key_deletion(root, KeyId=key, PendingWindowInDays=7)
    _result(f"{scheduled['KeyState']} until {scheduled['DeletionDate']:%Y-%m-%d}")
    _result(f"Encrypt while pending deletion: {_expect_error(lambda: kms.encrypt(root, KeyId=key, Plaintext=b'x')).code}")
    kms.cancel_key_deletion(root, KeyId=key)
    _result(f"after cancel: {kms.describe_key(root, KeyId=key)['KeyMetadata']['KeyState']}")
    kms.enable_key(root, KeyId=key)

    _step("Manual rotation through an alias: point alias/payments at a new key; old data keeps its old key")
    kms.create_alias(root, AliasName="alias/payments", TargetKeyId=key)
    second = kms.create_key(root, Description="payments v2")["KeyMetadata"]["KeyId"]
    kms.update_alias(root, AliasName="alias/payments", TargetKeyId=second)
    via_alias = kms.encrypt(root, KeyId="alias/payments", Plaintext=b"v2 data")
    _result(f"alias/payments now encrypts with {via_alias['KeyId'].rsplit('/', 1)[-1]}")

    _step("An asymmetric key: Sign inside, verify anywhere with the public key; the private key never leaves")
    signer = kms.create_key(root, KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    signature = kms.sign(root, KeyId=signer, Message=b"release-1.0.tar.gz", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    public = kms.get_public_key(root, KeyId=signer)["PublicKey"]
    valid = kms.verify(root, KeyId=signer, Message=b"release-1.0.tar.gz", Signature=signature, SigningAlgorithm="ECDSA_SHA_256")[
        "SignatureValid"
    ]
    _result(f"signature {len(signature)} bytes, public key {len(public)} bytes DER, valid: {valid}")

    _step("Deletion for real: once the window passes, the key and all its material are gone")
    kms.schedule_key_deletion(root, KeyId=second, PendingWindowInDays=7)
    clock.advance(days=8)
    _result(f"DescribeKey afterwards: {_expect_error(lambda: kms.describe_key(root, KeyId=second)).code}")

    records = list(kms.store.audit_records())
    refused = sum(1 for r in records if r.error_code == "AccessDeniedException")
    _step(f"Every call above left one audit record: {len(records)} records, {refused} refused by policy")
