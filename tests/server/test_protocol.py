"""The JSON 1.1 protocol: shapes on the wire, AWS's error codes, and bad input that never 500s."""

from __future__ import annotations

import base64
import json
import logging
import random
from datetime import UTC, datetime
from typing import Any

import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from policyengine.server.shapes import ServiceCodec
from tests.server.conftest import Server


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


@pytest.fixture
def unchecked(server: Server) -> Any:
    """boto3 as the admin with its client-side parameter validation off, so the server's is what is tested."""
    return server.client("AKIAADMIN0000EXAMPLE", config=Config(parameter_validation=False, retries={"max_attempts": 1}))


def test_raw_response_uses_base64_and_epoch_seconds(server: Server) -> None:
    """On the wire, timestamps are epoch-second numbers and blobs base64 strings, as AWS sends them."""
    status, created = server.send_request(server.signed("CreateKey", {}))
    assert status == 200 and isinstance(created["KeyMetadata"]["CreationDate"], float)
    assert abs(created["KeyMetadata"]["CreationDate"] - datetime.now(UTC).timestamp()) < 3600
    key = created["KeyMetadata"]["Arn"]
    status, encrypted = server.send_request(
        server.signed("Encrypt", {"KeyId": key, "Plaintext": base64.b64encode(b"hi").decode()})
    )
    assert status == 200 and set(encrypted) == {"CiphertextBlob", "KeyId", "EncryptionAlgorithm"}
    base64.b64decode(encrypted["CiphertextBlob"], validate=True)


def test_response_has_exactly_the_model_members() -> None:
    """The encoder keeps the output shape's members only and converts blobs and datetimes."""
    codec = ServiceCodec(botocore.session.get_session().get_service_model("kms"))
    encoded = codec.operation("Encrypt").encode(
        {"CiphertextBlob": b"\x01", "KeyId": "k", "Internal": "x", "EncryptionAlgorithm": None}
    )
    assert encoded == {"CiphertextBlob": "AQ==", "KeyId": "k"}
    moment = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    scheduled = codec.operation("ScheduleKeyDeletion").encode({"KeyId": "k", "DeletionDate": moment})
    assert scheduled == {"KeyId": "k", "DeletionDate": moment.timestamp()}


def test_unknown_request_members_are_ignored(server: Server) -> None:
    """Members the model does not define are dropped before the facade sees them, as AWS ignores them."""
    status, body = server.send_request(server.signed("GenerateRandom", {"NumberOfBytes": 4, "Surprise": {"a": [1]}}))
    assert status == 200 and len(base64.b64decode(body["Plaintext"])) == 4


@pytest.mark.parametrize(
    ("target", "body", "code"),
    [
        ("GenerateRandom", b"this is not json", "SerializationException"),
        ("GenerateRandom", b"[1, 2]", "SerializationException"),
        ("GenerateRandom", b"\xff\xfe\x00", "SerializationException"),
        ("GenerateRandom", b"[" * 100_000 + b"]" * 100_000, "SerializationException"),
        ("GenerateRandom", b'{"NumberOfBytes": NaN}', "SerializationException"),
        ("GenerateRandom", b'{"NumberOfBytes": "8"}', "SerializationException"),
        ("GenerateRandom", b'{"NumberOfBytes": 8.5}', "SerializationException"),
        ("GenerateRandom", b'{"NumberOfBytes": 99999999999999999999}', "SerializationException"),
        ("Encrypt", b'{"KeyId": 5, "Plaintext": "aGk="}', "SerializationException"),
        ("Encrypt", b'{"KeyId": {"nested": true}, "Plaintext": "aGk="}', "SerializationException"),
        ("Encrypt", b'{"KeyId": "k", "Plaintext": "aGk=", "EncryptionContext": ["a"]}', "SerializationException"),
        ("Encrypt", b'{"KeyId": "k", "Plaintext": "aGk=", "EncryptionContext": {"a": 1}}', "SerializationException"),
        ("Encrypt", b'{"KeyId": "k", "Plaintext": "!!! not base64"}', "ValidationException"),
        ("Encrypt", b'{"KeyId": "k", "Plaintext": ""}', "ValidationException"),
        ("Encrypt", b'{"KeyId": "", "Plaintext": "aGk="}', "ValidationException"),
        ("Encrypt", b"{}", "ValidationException"),
        ("CreateKey", b'{"KeySpec": "NOT_A_SPEC"}', "ValidationException"),
        ("CreateAlias", b'{"AliasName": "alias/has space", "TargetKeyId": "k"}', "ValidationException"),
        ("ScheduleKeyDeletion", b'{"KeyId": "k", "PendingWindowInDays": true}', "SerializationException"),
        (
            "ImportKeyMaterial",
            b'{"KeyId": "k", "ImportToken": "aGk=", "EncryptedKeyMaterial": "aGk=", "ValidTo": "soon"}',
            "SerializationException",
        ),
        (
            "ImportKeyMaterial",
            b'{"KeyId": "k", "ImportToken": "aGk=", "EncryptedKeyMaterial": "aGk=", "ValidTo": 1e300}',
            "SerializationException",
        ),
    ],
)
def test_malformed_bodies_are_client_errors(server: Server, target: str, body: bytes, code: str) -> None:
    """Bodies that are not JSON, or members of the wrong kind, are 400s with AWS's error codes."""
    status, answer = server.send_request(server.signed(target, body))
    assert (status, answer["__type"]) == (400, code), answer
    assert answer["message"] and "Traceback" not in answer["message"]


def test_validation_lists_every_problem_in_aws_words(server: Server) -> None:
    """A body missing two required members gets one ValidationException naming both, as AWS does."""
    status, answer = server.send_request(server.signed("Encrypt", {}))
    assert status == 400
    assert answer["message"] == (
        "2 validation errors detected: "
        "Value null at 'keyId' failed to satisfy constraint: Member must not be null; "
        "Value null at 'plaintext' failed to satisfy constraint: Member must not be null"
    )


@pytest.mark.parametrize(
    ("call", "kwargs"),
    [
        ("schedule_key_deletion", {"PendingWindowInDays": 6}),
        ("schedule_key_deletion", {"PendingWindowInDays": 31}),
        ("enable_key_rotation", {"RotationPeriodInDays": 89}),
        ("enable_key_rotation", {"RotationPeriodInDays": 2561}),
        ("generate_data_key", {"NumberOfBytes": 1025}),
        ("generate_data_key", {"NumberOfBytes": 0}),
        ("encrypt", {"Plaintext": b"x" * 4097}),
        ("encrypt", {"Plaintext": b"x", "EncryptionAlgorithm": "RSAES_OAEP_SHA_1024"}),
    ],
)
def test_out_of_range_parameters_are_validation_errors(unchecked: Any, key_arn: str, call: str, kwargs: dict[str, Any]) -> None:
    """Lengths, ranges and enums are refused server-side with ValidationException (boto3's checks are off)."""
    with pytest.raises(ClientError) as error:
        getattr(unchecked, call)(KeyId=key_arn, **kwargs)
    assert _code(error) == "ValidationException"
    assert "validation error" in error.value.response["Error"]["Message"]


def test_generate_random_range(unchecked: Any) -> None:
    """GenerateRandom's NumberOfBytes must be 1..1024."""
    for count in (0, 1025):
        with pytest.raises(ClientError) as error:
            unchecked.generate_random(NumberOfBytes=count)
        assert _code(error) == "ValidationException"


@pytest.mark.parametrize(
    ("target", "code"),
    [
        (None, "UnknownOperationException"),
        ("TrentService.NoSuchOperation", "UnknownOperationException"),
        ("DynamoDB_20120810.ListTables", "UnknownOperationException"),
        ("TrentService.", "UnknownOperationException"),
    ],
)
def test_targets_that_name_no_implemented_operation(server: Server, target: str | None, code: str) -> None:
    """A missing or unknown X-Amz-Target is UnknownOperationException; AWS operations we lack are Unsupported."""
    request = server.signed("ListKeys", {})
    del request.headers["X-Amz-Target"]
    if target is not None:
        request.headers["X-Amz-Target"] = target
    del request.headers["Authorization"]
    from botocore.auth import SigV4Auth
    from botocore.credentials import Credentials

    SigV4Auth(Credentials("AKIAADMIN0000EXAMPLE", "admin-secret"), "kms", "us-east-1").add_auth(request)
    status, answer = server.send_request(request)
    assert (status, answer["__type"]) == (400, code)


def test_oversized_body_is_refused_unread(server: Server) -> None:
    """A body above 1 MiB is answered 413 without being read or authenticated."""
    status, answer = server.send("POST", "/", {"X-Amz-Target": "TrentService.ListKeys"}, b"{" + b" " * (1024 * 1024 + 10) + b"}")
    assert (status, answer["__type"]) == (413, "RequestEntityTooLargeException")


def test_non_post_is_refused(server: Server) -> None:
    """A signed GET is answered 405 in the JSON error shape."""
    status, answer = server.send_request(server.signed("ListKeys", b"", method="GET"))
    assert (status, answer["__type"]) == (405, "UnknownOperationException")


def test_dry_run(admin: Any, key_arn: str) -> None:
    """DryRun on Encrypt answers DryRunOperationException, HTTP 400 as AWS does (LocalStack's recording of
    real AWS, tests/aws/services/kms/test_kms.snapshot.json, test_generate_data_key_pair_dry_run)."""
    with pytest.raises(ClientError) as error:
        admin.encrypt(KeyId=key_arn, Plaintext=b"x", DryRun=True)
    assert _code(error) == "DryRunOperationException"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as error:
        admin.create_grant(
            KeyId=key_arn, GranteePrincipal="arn:aws:iam::111122223333:user/bob", Operations=["Decrypt"], DryRun=True
        )
    assert _code(error) == "UnsupportedOperationException"


def test_garbage_never_produces_a_server_error(server: Server) -> None:
    """Random bodies under many targets are answered without a server error, and the server keeps serving."""
    rng = random.Random(20240601)
    targets = [
        "Encrypt",
        "Decrypt",
        "CreateKey",
        "CreateGrant",
        "PutKeyPolicy",
        "ImportKeyMaterial",
        "ListAliases",
        "TagResource",
    ]
    samples: list[bytes] = [
        b'{"KeyId": null}',
        b'{"Tags": [{"TagKey": 1}]}',
        b'{"Tags": "x"}',
        b'{"Constraints": {"EncryptionContextEquals": []}}',
        b'{"Policy": 12}',
        b'{"Limit": -1}',
        b'{"GrantTokens": [null, 1]}',
        b'{"CiphertextBlob": "AAAA"}',
        b'"just a string"',
        b"null",
    ]
    samples += [bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64))) for _ in range(40)]
    alphabet = '{}[]":,0123456789abcdefKeyIdPlaintext tnul'
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80))).encode() for _ in range(40)]
    for body in samples:
        status, answer = server.send_request(server.signed(rng.choice(targets), body))
        assert status == 200 or (400 <= status < 500 and isinstance(answer.get("__type"), str)), (body, answer)
        assert "Traceback" not in json.dumps(answer)
    assert server.send_request(server.signed("ListKeys", {}))[0] == 200


def test_internal_errors_are_logged_and_answered_500(
    server: Server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A genuine bug becomes KMSInternalException with a request id; the traceback goes to the log only."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(server.background.app.dispatcher, "call", broken)
    with caplog.at_level(logging.ERROR, logger="policyengine.server"):
        status, answer = server.send_request(server.signed("ListKeys", {}))
    assert (status, answer["__type"]) == (500, "KMSInternalException")
    assert "simulated bug" not in answer["message"] and "request" in answer["message"]
    assert any("simulated bug" in str(record.exc_info) for record in caplog.records)
    monkeypatch.undo()
    assert server.send_request(server.signed("ListKeys", {}))[0] == 200


def test_reset_wipes_every_account_and_region(server: Server, admin: Any) -> None:
    """POST /_reset in test mode removes all keys, in every account and region."""
    admin.create_key()
    server.client("AKIACAROL000EXAMPLE", region="eu-west-1").create_key()
    server.reset()
    assert admin.list_keys()["Keys"] == []
    assert server.client("AKIACAROL000EXAMPLE", region="eu-west-1").list_keys()["Keys"] == []
