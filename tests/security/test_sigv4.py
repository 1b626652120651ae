"""SigV4 attacks in secure mode that tests/server/test_sigv4.py does not already make: the host, the
service and the access key rewritten after signing, and signed headers sent twice.

(Body, method, path, date, region, skew beyond 15 minutes, wrong secret and unknown keys are
tests/server/test_sigv4.py's, on a server outside test mode too.) AWS: "Signature Version 4
signing process" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html):
every signed header, the credential scope and the body enter the signature.
"""

from __future__ import annotations

import http.client
import json

import pytest

from tests.security.conftest import ADMIN, DEV, Server


def _refused(server: Server, **change: object) -> tuple[int, str]:
    status, body = server.send_request(server.signed("ListKeys", {}, access_key=DEV), **change)
    return status, str(body.get("__type"))


def test_host_rewritten_after_signing_is_refused(secure: Server) -> None:
    assert _refused(secure, headers={"Host": f"evil.example:{secure.port}"}) == (400, "InvalidSignatureException")


def test_service_rewritten_after_signing_is_refused(secure: Server) -> None:
    request = secure.signed("ListKeys", {}, access_key=DEV)
    forged = request.headers["Authorization"].replace("/kms/aws4_request", "/s3/aws4_request")
    status, body = secure.send_request(request, headers={"Authorization": forged})
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    assert "scoped to correct service" in body["message"]


def test_access_key_swapped_after_signing_is_refused(secure: Server) -> None:
    """dev's signature presented under the admin's access key id: it must not act as the admin."""
    request = secure.signed("ScheduleKeyDeletion", {"KeyId": "alias/none"}, access_key=DEV)
    forged = request.headers["Authorization"].replace(f"Credential={DEV}/", f"Credential={ADMIN}/")
    status, body = secure.send_request(request, headers={"Authorization": forged})
    assert (status, body["__type"]) == (400, "InvalidSignatureException")


def _send_with(server: Server, request: object, extra: list[tuple[str, str]]) -> tuple[int, str]:
    """Send a signed request as its headers say, plus ``extra`` header lines (duplicates kept)."""
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        connection.putrequest("POST", "/", skip_host=True, skip_accept_encoding=True)
        body: bytes = request.body or b""  # type: ignore[attr-defined]
        connection.putheader("Host", f"{server.host}:{server.port}")  # the host botocore signed
        for name, value in request.headers.items():  # type: ignore[attr-defined]
            connection.putheader(name, value)
        for name, value in extra:
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        answer = json.loads(response.read())
    finally:
        connection.close()
    return response.status, str(answer.get("__type", ""))


@pytest.mark.parametrize("header", ["Host", "X-Amz-Target", "Content-Type", "X-Amz-Date"])
def test_signed_header_sent_twice_is_refused(secure: Server, header: str) -> None:
    """A second value of a signed header (another host, operation, type or date) does not ride along."""
    extra = {
        "Host": "evil.example",
        "X-Amz-Target": "TrentService.ScheduleKeyDeletion",
        "Content-Type": "application/json",
        "X-Amz-Date": "20990101T000000Z",
    }
    request = secure.signed("ListKeys", {}, access_key=ADMIN)
    assert _send_with(secure, request, []) == (200, "")
    assert _send_with(secure, request, [(header, extra[header])]) == (400, "InvalidSignatureException")
