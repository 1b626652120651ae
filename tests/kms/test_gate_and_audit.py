"""The gate comes first, every call leaves exactly one audit record, and no secret ever reaches one."""

from __future__ import annotations

import json
from typing import Any

import pytest

import policyengine as pe
from policyengine.kms import Caller, LocalKms, _crypto
from policyengine.kms.errors import AccessDeniedException, KMSError, NotFoundException
from tests.kms.conftest import ACCOUNT, OTHER


def test_a_denied_call_reaches_no_crypto_and_writes_one_record(
    kms: LocalKms, root: Caller, bob: Caller, key_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every _crypto function replaced by a spy, a denied Encrypt calls none of them and is audited once."""
    blob = kms.encrypt(root, KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    calls: list[str] = []
    for name in dir(_crypto):
        if not name.startswith("_") and callable(getattr(_crypto, name)) and name[0].islower():
            original = getattr(_crypto, name)

            def spy(*args: Any, __name: str = name, __original: Any = original, **kwargs: Any) -> Any:
                calls.append(__name)
                return __original(*args, **kwargs)

            monkeypatch.setattr(_crypto, name, spy)
    before = len(list(kms.store.audit_records()))
    for operation in (
        lambda: kms.encrypt(bob, KeyId=key_id, Plaintext=b"secret"),
        lambda: kms.decrypt(bob, CiphertextBlob=blob),
        lambda: kms.generate_data_key(bob, KeyId=key_id, KeySpec="AES_256"),
    ):
        with pytest.raises(AccessDeniedException):
            operation()
    assert calls == []
    records = list(kms.store.audit_records())[before:]
    assert [(r.event_name, r.error_code) for r in records] == [
        ("Encrypt", "AccessDeniedException"),
        ("Decrypt", "AccessDeniedException"),
        ("GenerateDataKey", "AccessDeniedException"),
    ]


def test_access_denied_carries_the_decision_and_aws_message(kms: LocalKms, bob: Caller, key_id: str) -> None:
    """AccessDeniedException says who, what, which resource and why, and carries the evaluator's Decision."""
    with pytest.raises(AccessDeniedException) as info:
        kms.decrypt(bob, CiphertextBlob=kms.encrypt(root_of(kms), KeyId=key_id, Plaintext=b"p")["CiphertextBlob"])
    error = info.value
    assert error.code == "AccessDeniedException" and error.status == 400
    assert error.message.startswith(f"User: {bob.principal} is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:")
    assert error.message.endswith("because no identity-based policy allows the kms:Decrypt action")
    assert error.decision.reason == "no_allow"


def root_of(kms: LocalKms) -> Caller:
    return Caller(f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT)


def test_every_call_is_audited_in_cloudtrail_shape(kms: LocalKms, root: Caller, key_id: str) -> None:
    """Successful and failed calls each append one record with CloudTrail's fields."""
    before = len(list(kms.store.audit_records()))
    kms.encrypt(root, KeyId=key_id, Plaintext=b"hello", EncryptionContext={"purpose": "test"})
    with pytest.raises(NotFoundException):
        kms.describe_key(root, KeyId="alias/missing")
    records = list(kms.store.audit_records())[before:]
    assert len(records) == 2
    ok, failed = records[0].event, records[1].event
    assert ok["eventSource"] == "kms.amazonaws.com" and ok["eventName"] == "Encrypt"
    assert ok["userIdentity"]["arn"] == root.principal and ok["recipientAccountId"] == ACCOUNT
    assert ok["requestParameters"] == {"KeyId": key_id, "EncryptionContext": {"purpose": "test"}}
    assert ok["resources"][0]["ARN"].endswith(key_id) and "errorCode" not in ok
    assert failed["errorCode"] == "NotFoundException" and failed["eventName"] == "DescribeKey"


def test_no_secret_in_audit_errors_or_reprs(kms: LocalKms, root: Caller, key_id: str) -> None:
    """Plaintext, data keys and ciphertext never appear in audit records, error messages or reprs."""
    secret = b"TOP-SECRET-PLAINTEXT-0123456789"
    blob = kms.encrypt(root, KeyId=key_id, Plaintext=secret)["CiphertextBlob"]
    data = kms.generate_data_key(root, KeyId=key_id, KeySpec="AES_256")
    kms.decrypt(root, CiphertextBlob=blob)
    try:
        kms.decrypt(root, CiphertextBlob=blob, EncryptionContext={"wrong": "ctx"})
    except KMSError as error:
        assert secret.decode() not in str(error) and secret.decode() not in repr(error)
    dump = json.dumps([r.event for r in kms.store.audit_records()])
    for needle in (secret, data["Plaintext"], blob, data["CiphertextBlob"]):
        assert needle.hex() not in dump and needle.decode("latin-1") not in dump
    assert "master" not in repr(kms) and kms._master_key.hex() not in repr(kms)


def test_cross_account_use_needs_both_sides(kms: LocalKms, root: Caller, key_id: str) -> None:
    """An external role decrypts only when the key policy trusts its account and its own IAM policy allows."""
    external_no_iam = Caller(f"arn:aws:sts::{OTHER}:assumed-role/Consumer/s", OTHER)
    external = Caller(
        external_no_iam.principal,
        OTHER,
        identity_policies=(
            pe.parse_policy(
                json.dumps(
                    {
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:ScheduleKeyDeletion"],
                                "Resource": "*",
                            }
                        ]
                    }
                )
            ),
        ),
    )
    arn = kms.describe_key(root, KeyId=key_id)["KeyMetadata"]["Arn"]
    blob = kms.encrypt(root, KeyId=key_id, Plaintext=b"shared")["CiphertextBlob"]
    with pytest.raises(AccessDeniedException):
        kms.decrypt(external, CiphertextBlob=blob)  # key policy does not trust the other account yet
    policy = json.loads(kms.get_key_policy(root, KeyId=key_id)["Policy"])
    policy["Statement"].append(
        {
            "Sid": "External",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    )
    kms.put_key_policy(root, KeyId=key_id, Policy=json.dumps(policy))
    assert kms.decrypt(external, CiphertextBlob=blob)["Plaintext"] == b"shared"
    with pytest.raises(AccessDeniedException) as info:
        kms.decrypt(external_no_iam, CiphertextBlob=blob)
    assert info.value.decision.reason == "cross_account_needs_identity_allow"
    with pytest.raises(AccessDeniedException) as info:
        kms.schedule_key_deletion(external, KeyId=arn)
    assert info.value.decision.reason == "operation_not_cross_account"
    assert kms.describe_key(external, KeyId=arn)["KeyMetadata"]["KeyId"] == key_id
    with pytest.raises(NotFoundException):
        kms.describe_key(external, KeyId=key_id)  # other accounts must use the ARN


def test_conditions_on_request_context(kms: LocalKms, root: Caller, key_id: str) -> None:
    """Conditions see the call's context: encryption context, TLS, MFA and tags (KMS DG condition keys)."""
    policy = json.loads(kms.get_key_policy(root, KeyId=key_id)["Policy"])
    policy["Statement"].append(
        {
            "Sid": "NoPlainHttp",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "kms:*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )
    kms.put_key_policy(root, KeyId=key_id, Policy=json.dumps(policy))
    user = Caller(
        f"arn:aws:iam::{ACCOUNT}:user/u",
        ACCOUNT,
        tags={"team": "fin"},
        identity_policies=(
            pe.parse_policy(
                json.dumps(
                    {
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "kms:Encrypt",
                                "Resource": "*",
                                "Condition": {"StringEquals": {"kms:EncryptionContext:team": "${aws:PrincipalTag/team}"}},
                            }
                        ],
                        "Version": "2012-10-17",
                    }
                )
            ),
        ),
    )
    assert kms.encrypt(user, KeyId=key_id, Plaintext=b"x", EncryptionContext={"team": "fin"})
    with pytest.raises(AccessDeniedException):
        kms.encrypt(user, KeyId=key_id, Plaintext=b"x", EncryptionContext={"team": "hr"})
    insecure = Caller(
        user.principal, ACCOUNT, tags={"team": "fin"}, identity_policies=user.identity_policies, secure_transport=False
    )
    with pytest.raises(AccessDeniedException) as info:
        kms.encrypt(insecure, KeyId=key_id, Plaintext=b"x", EncryptionContext={"team": "fin"})
    assert info.value.decision.decision == "explicit_deny"


def test_a_change_and_its_audit_record_commit_together(
    kms: LocalKms, root: Caller, key_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call that changes something is recorded in its own transaction: if the process dies as soon as
    that transaction commits (here: any separate audit append kills it), the change is already recorded."""
    from policyengine.kms import request_scope

    class Killed(BaseException):
        pass

    def killed(*args: Any, **kwargs: Any) -> Any:
        raise Killed

    monkeypatch.setattr(kms.store, "append_audit", killed)
    with request_scope("req-create-alias"):
        kms.create_alias(root, AliasName="alias/recorded", TargetKeyId=key_id)
    kms.tag_resource(root, KeyId=key_id, Tags=[{"TagKey": "t", "TagValue": "v"}])
    grant = kms.create_grant(root, KeyId=key_id, GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:user/x", Operations=["Encrypt"])
    with pytest.raises(Killed):  # changes nothing: recorded on its own, which is where the "kill" strikes
        kms.describe_key(root, KeyId=key_id)
    monkeypatch.undo()
    records = {r.event_name: r.event for r in kms.store.audit_records()}
    assert {"CreateAlias", "TagResource", "CreateGrant"} <= set(records)
    assert records["CreateAlias"]["requestID"] == "req-create-alias"
    assert records["CreateGrant"]["responseElements"] == {"GrantId": grant["GrantId"]}
    assert grant["GrantToken"] not in json.dumps(records)


def test_a_failed_change_leaves_no_record_of_success(kms: LocalKms, root: Caller, key_id: str) -> None:
    """A call whose work fails rolls back and is recorded once, with its error, in a transaction of its own."""
    from policyengine.kms.errors import AlreadyExistsException

    kms.create_alias(root, AliasName="alias/taken", TargetKeyId=key_id)
    with pytest.raises(AlreadyExistsException):
        kms.create_alias(root, AliasName="alias/taken", TargetKeyId=key_id)
    records = [r for r in kms.store.audit_records() if r.event_name == "CreateAlias"]
    assert [r.error_code for r in records] == [None, "AlreadyExistsException"]
    ids = [r.event["requestID"] for r in records]
    assert len(set(ids)) == 2  # the Python facade makes one per call


def test_operations_write_only_through_the_calls_transaction() -> None:
    """Every operation module opens write transactions with ``self.writing()``, never the store's own:
    only the call's transaction carries its audit record, so a write outside it would be unaudited on a crash."""
    from pathlib import Path

    import policyengine.kms as kms_package

    offenders = [
        path.name
        for path in Path(kms_package.__file__).parent.glob("ops_*.py")
        if "store.transaction(" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
