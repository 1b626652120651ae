"""SigV4 authentication: requests signed by botocore pass; anything altered after signing fails."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from typing import Any

import botocore.auth
import pytest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from policyengine.server import BackgroundServer, ServerConfig
from tests.server.conftest import Server, write_identities


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server outside test mode (SQLite store, identities file): every request must verify."""
    directory = tmp_path_factory.mktemp("strict")
    config = ServerConfig(port=0, data_dir=directory / "data", identities=write_identities(directory), log_requests=False)
    with BackgroundServer(config) as background:
        yield Server(background)


def _error(response: tuple[int, dict[str, Any]]) -> tuple[int, str]:
    status, body = response
    return status, str(body.get("__type"))


def _signed_at(monkeypatch: pytest.MonkeyPatch, moment: dt.datetime) -> None:
    """Make botocore sign as if its clock read ``moment`` (naive UTC, as botocore uses)."""
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda remove_tzinfo=True: moment)


def test_correctly_signed_request_passes(strict: Server) -> None:
    """A request signed by botocore's signer is accepted and answered 200."""
    status, body = strict.send_request(strict.signed("ListKeys", {}))
    assert status == 200 and "Keys" in body


def test_replay_within_the_skew_window_is_accepted(strict: Server) -> None:
    """As in AWS, the same signed request may be sent again while it is within the clock-skew limit."""
    request = strict.signed("GenerateRandom", {"NumberOfBytes": 8})
    assert strict.send_request(request)[0] == 200
    assert strict.send_request(request)[0] == 200


@pytest.mark.parametrize(
    ("change", "expected_message"),
    [
        ({"method": "PUT"}, "does not match"),
        ({"path": "/other"}, "does not match"),
        ({"headers": {"X-Amz-Target": "TrentService.CreateKey"}}, "does not match"),
        ({"headers": {"Content-Type": "application/json"}}, "does not match"),
        ({"body": b'{"NumberOfBytes": 9}'}, "does not match"),
        ({"drop_headers": ["X-Amz-Target"]}, "does not match"),
    ],
    ids=["method", "path", "target-header", "content-type-header", "body", "signed-header-removed"],
)
def test_altered_request_fails(strict: Server, change: dict[str, Any], expected_message: str) -> None:
    """Changing the method, path, a signed header or the body after signing is InvalidSignatureException."""
    status, body = strict.send_request(strict.signed("GenerateRandom", {"NumberOfBytes": 8}), **change)
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    assert expected_message in body["message"]


def test_unsigned_header_added_after_signing_is_ignored(strict: Server) -> None:
    """Only the headers listed in SignedHeaders are covered; others may change (as in AWS)."""
    response = strict.send_request(strict.signed("GenerateRandom", {"NumberOfBytes": 8}), headers={"X-Extra": "1"})
    assert response[0] == 200


def test_altered_date_fails(strict: Server) -> None:
    """A different X-Amz-Date than the one signed does not verify."""
    request = strict.signed("GenerateRandom", {"NumberOfBytes": 8})
    signed = dt.datetime.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    moved = signed.replace(second=(signed.second + 1) % 60).strftime("%Y%m%dT%H%M%SZ")
    assert _error(strict.send_request(request, headers={"X-Amz-Date": moved})) == (400, "InvalidSignatureException")


def test_altered_region_fails(strict: Server) -> None:
    """Rewriting the region in the credential scope does not verify (the region is signed)."""
    request = strict.signed("GenerateRandom", {"NumberOfBytes": 8})
    forged = request.headers["Authorization"].replace("/us-east-1/", "/eu-west-1/")
    assert _error(strict.send_request(request, headers={"Authorization": forged})) == (400, "InvalidSignatureException")


def test_wrong_secret_fails(strict: Server) -> None:
    """A known access key signing with the wrong secret is InvalidSignatureException through boto3 too."""
    with pytest.raises(ClientError) as error:
        strict.client("AKIAADMIN0000EXAMPLE", secret="not-the-secret").list_keys()
    assert error.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert error.value.response["Error"]["Message"].startswith("The request signature we calculated does not match")


def test_unknown_access_key_is_unrecognized(strict: Server) -> None:
    """An access key no identity claims is UnrecognizedClientException outside test mode."""
    with pytest.raises(ClientError) as error:
        strict.client("AKIANOBODY000EXAMPLE", secret="x").list_keys()
    assert error.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert error.value.response["Error"]["Message"] == "The security token included in the request is invalid."


def test_expired_request_fails(strict: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """A request signed 16 minutes ago is refused with AWS's "Signature expired" message."""
    _signed_at(monkeypatch, dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=16))
    status, body = strict.send_request(strict.signed("GenerateRandom", {"NumberOfBytes": 8}))
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    assert body["message"].startswith("Signature expired: ") and "(" in body["message"] and "- 15 min.)" in body["message"]


def test_future_request_fails(strict: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """A request dated 16 minutes ahead is refused as not yet current."""
    _signed_at(monkeypatch, dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=16))
    status, body = strict.send_request(strict.signed("GenerateRandom", {"NumberOfBytes": 8}))
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    assert body["message"].startswith("Signature not yet current: ")


def test_slightly_skewed_clock_is_accepted(strict: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """A client clock 10 minutes off is within AWS's 15-minute limit."""
    _signed_at(monkeypatch, dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=10))
    assert strict.send_request(strict.signed("GenerateRandom", {"NumberOfBytes": 8}))[0] == 200


def test_session_token_must_match(strict: Server) -> None:
    """An identity with a session token needs that token; without it the credentials are unrecognized."""
    good = strict.signed("ListKeys", {}, access_key="ASIASESSION0EXAMPLE", token="the-session-token")
    assert strict.send_request(good)[0] == 200
    missing = strict.signed("ListKeys", {}, access_key="ASIASESSION0EXAMPLE")
    assert _error(strict.send_request(missing)) == (400, "UnrecognizedClientException")
    wrong = strict.signed("ListKeys", {}, access_key="ASIASESSION0EXAMPLE", token="stolen")
    assert _error(strict.send_request(wrong)) == (400, "UnrecognizedClientException")


def test_content_hash_header_must_match_the_body(strict: Server) -> None:
    """A signed X-Amz-Content-SHA256 that is not the body's hash is refused (botocore would trust it)."""
    request = strict.signed("GenerateRandom", {"NumberOfBytes": 8})
    request.headers["X-Amz-Content-SHA256"] = hashlib.sha256(b'{"NumberOfBytes": 8}').hexdigest()
    del request.headers["Authorization"]
    botocore.auth.SigV4Auth(Credentials("AKIAADMIN0000EXAMPLE", "admin-secret"), "kms", "us-east-1").add_auth(request)
    assert strict.send_request(request)[0] == 200
    forged = strict.send_request(request, body=b'{"NumberOfBytes": 9}')
    assert _error(forged) == (400, "InvalidSignatureException")


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "MissingAuthenticationTokenException"),
        ("Bearer abc", "IncompleteSignatureException"),
        ("AWS4-HMAC-SHA256 Credential=AKIAADMIN0000EXAMPLE/20240101/us-east-1/kms/aws4_request", "IncompleteSignatureException"),
        ("AWS4-HMAC-SHA256 Credential=AKIA, SignedHeaders=host, Signature=00", "IncompleteSignatureException"),
        (
            "AWS4-HMAC-SHA256 Credential=AKIAADMIN0000EXAMPLE/{date}/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
            "InvalidSignatureException",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIAADMIN0000EXAMPLE/{date}/nowhere/kms/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
            "InvalidSignatureException",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIAADMIN0000EXAMPLE/19990101/us-east-1/kms/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
            "InvalidSignatureException",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIAADMIN0000EXAMPLE/{date}/us-east-1/kms/aws4_request, "
            "SignedHeaders=x-amz-date, Signature=" + "0" * 64,
            "IncompleteSignatureException",
        ),
    ],
    ids=[
        "missing",
        "other-scheme",
        "no-signature",
        "short-credential",
        "wrong-service",
        "bad-region",
        "scope-date",
        "host-unsigned",
    ],
)
def test_malformed_authorization(strict: Server, authorization: str | None, code: str) -> None:
    """Missing or malformed Authorization headers get AWS's authentication error codes, never a 500."""
    now = dt.datetime.now(dt.UTC)
    headers = {"X-Amz-Target": "TrentService.ListKeys", "X-Amz-Date": now.strftime("%Y%m%dT%H%M%SZ")}
    if authorization is not None:
        headers["Authorization"] = authorization.replace("{date}", now.strftime("%Y%m%d"))
    assert _error(strict.send("POST", "/", headers, b"{}")) == (400, code)


def test_missing_date_is_incomplete(strict: Server) -> None:
    """A signed request without X-Amz-Date is IncompleteSignatureException."""
    request = strict.signed("ListKeys", {})
    assert _error(strict.send_request(request, drop_headers=["X-Amz-Date"])) == (400, "IncompleteSignatureException")


def test_reset_is_not_exposed_outside_test_mode(strict: Server) -> None:
    """POST /_reset needs test mode: otherwise it is an unauthenticated request like any other."""
    assert _error(strict.send("POST", "/_reset")) == (400, "MissingAuthenticationTokenException")
    status, body = strict.send_request(strict.signed("ListKeys", {}, path="/_reset"))
    assert (status, body["__type"]) == (404, "UnknownOperationException")


def test_the_signature_is_botocores_for_every_secret_day_and_region() -> None:
    """The verifier keeps the signing key per secret, day, region and service; each must still change the signature
    exactly as botocore's own derivation does (AWS: "Signature Version 4 signing process", deriving the signing key:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html)."""
    from botocore.awsrequest import AWSRequest

    from policyengine.server.sigv4 import _ExactSigner

    for secret in ("secret-a", "secret-b"):
        for day in ("20260101", "20261207"):
            for region in ("us-east-1", "eu-west-3"):
                for service in ("kms", "sts"):
                    credentials = Credentials("AKIDEXAMPLE", secret)
                    request = AWSRequest(method="POST", url="http://127.0.0.1/")
                    request.context["timestamp"] = f"{day}T120000Z"
                    ours = _ExactSigner(credentials, service, region).signature("string to sign", request)
                    theirs = botocore.auth.SigV4Auth(credentials, service, region).signature("string to sign", request)
                    assert ours == theirs, (secret, day, region, service)
