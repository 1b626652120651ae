"""The pytest plugin's ``local_kms`` fixture, used as an application's test suite would use it."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from policyengine.pytest_plugin import LocalKmsFixture

APP_ACCOUNT = "123456789012"
KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Root",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{APP_ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "WriterEncrypts",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{APP_ACCOUNT}:role/writer"},
            "Action": "kms:Encrypt",
            "Resource": "*",
        },
        {
            "Sid": "ReaderDecrypts",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{APP_ACCOUNT}:role/reader"},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:EncryptionContext:app": "orders"}},
        },
    ],
}


def _denied(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as error:
        call(**kwargs)
    assert error.value.response["Error"]["Code"] == "AccessDeniedException"
    return str(error.value.response["Error"]["Message"])


def test_fixture_checks_an_applications_key_policy(local_kms: LocalKmsFixture) -> None:
    """Identities added to the fixture are allowed and denied exactly as the shipped key policy says."""
    admin = local_kms.client()
    key = admin.create_key(Policy=json.dumps(KEY_POLICY))["KeyMetadata"]["Arn"]
    local_kms.add_identity("AKIAWRITER", "writer-secret", f"arn:aws:iam::{APP_ACCOUNT}:role/writer")
    local_kms.add_identity("AKIAREADER", "reader-secret", f"arn:aws:iam::{APP_ACCOUNT}:role/reader")
    writer, reader = local_kms.client(access_key="AKIAWRITER"), local_kms.client(access_key="AKIAREADER")
    blob = writer.encrypt(KeyId=key, Plaintext=b"order 1", EncryptionContext={"app": "orders"})["CiphertextBlob"]
    assert reader.decrypt(CiphertextBlob=blob, EncryptionContext={"app": "orders"})["Plaintext"] == b"order 1"
    message = _denied(writer.decrypt, CiphertextBlob=blob, EncryptionContext={"app": "orders"})
    assert message.startswith(f"User: arn:aws:iam::{APP_ACCOUNT}:role/writer is not authorized to perform: kms:Decrypt")
    _denied(reader.encrypt, KeyId=key, Plaintext=b"x")


def test_identity_policies_count_when_the_key_policy_trusts_the_account(local_kms: LocalKmsFixture) -> None:
    """With the default key policy, an added identity's IAM policies decide."""
    key = local_kms.client().create_key()["KeyMetadata"]["Arn"]
    local_kms.add_identity(
        "AKIAAPP",
        "app-secret",
        f"arn:aws:iam::{APP_ACCOUNT}:role/app",
        identity_policies=[
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Encrypt", "Resource": key}]}
        ],
    )
    app = local_kms.client(access_key="AKIAAPP")
    assert app.encrypt(KeyId=key, Plaintext=b"x")["KeyId"] == key
    _denied(app.describe_key, KeyId=key)


def test_fixture_is_clean_for_each_test(local_kms: LocalKmsFixture) -> None:
    """Keys and identities from earlier tests are gone: the added identity is unknown, so it acts as root."""
    admin = local_kms.client()
    assert admin.list_keys()["Keys"] == []
    assert local_kms.client(access_key="AKIAWRITER").create_key()["KeyMetadata"]["AWSAccountId"] == APP_ACCOUNT


def test_environ_points_sdks_at_the_server(local_kms: LocalKmsFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """``environ()`` gives the variables an application's own boto3 clients pick up."""
    for name, value in local_kms.environ(region="eu-west-1").items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    created = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
    assert created.startswith(f"arn:aws:kms:eu-west-1:{APP_ACCOUNT}:key/")


def test_last_denial_explains_the_refusal_while_the_message_stays_aws(local_kms: LocalKmsFixture) -> None:
    """last_denial() gives the decision and the deciding statements; the client still saw AWS's words."""
    admin = local_kms.client()
    key = admin.create_key(Policy=json.dumps(KEY_POLICY))["KeyMetadata"]["Arn"]
    assert local_kms.last_denial() is None
    local_kms.add_identity("AKIAREADER", "reader-secret", f"arn:aws:iam::{APP_ACCOUNT}:role/reader")
    reader = local_kms.client(access_key="AKIAREADER")
    blob = admin.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"app": "billing"})["CiphertextBlob"]
    message = _denied(reader.decrypt, CiphertextBlob=blob, EncryptionContext={"app": "billing"})
    denial = local_kms.last_denial()
    assert denial is not None and denial.message == message and denial.operation == "Decrypt"
    assert not denial.decision.allowed
    assert denial.explanation.startswith(f"arn:aws:iam::{APP_ACCOUNT}:role/reader Decrypt in us-east-1: ")
    assert "why:" in denial.explanation and "implicit" in denial.explanation
    assert "explain" not in message and "why:" not in message
    assert [d.operation for d in local_kms.denials()] == ["Decrypt"]


pytest_plugins = ["pytester"]


def test_a_failing_test_reports_why_the_local_kms_denied(pytester: pytest.Pytester) -> None:
    """pytest's failure report of a test using local_kms has a section with each denial's explanation."""
    pytester.makepyfile(
        """
        import pytest
        from botocore.exceptions import ClientError

        def test_app(local_kms):
            local_kms.add_identity("AKIAAPP", "s", "arn:aws:iam::123456789012:role/app")
            key = local_kms.client().create_key()["KeyMetadata"]["Arn"]
            local_kms.client(access_key="AKIAAPP").encrypt(KeyId=key, Plaintext=b"x")
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*policyengine: why the local KMS denied*", "*role/app Encrypt in us-east-1: *", "*why:*"])
