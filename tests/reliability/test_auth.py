"""Authentication gaps left by tests/server/test_sigv4.py: replay, query, swapped keys, forged signatures, missing Host, files.

Each altered request is rejected with AWS's error code. The identities file must be private (like
the master key) and well formed, or the server refuses to start with one line.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from policyengine.server import IdentitiesError, ServerConfig, load_identities
from tests.reliability.conftest import background_server
from tests.server.conftest import BOB_POLICY, IDENTITIES, Server
from tests.server.test_serve_command import ServeProcess


def write_private_identities(directory: Path) -> Path:
    """The server tests' identities, in a file only its owner can read (mode 0600)."""
    (directory / "bob-policy.json").write_text(json.dumps(BOB_POLICY), encoding="utf-8")
    path = directory / "identities.yaml"
    path.write_text(yaml.safe_dump(IDENTITIES), encoding="utf-8")
    path.chmod(0o600)
    return path


class Clock:
    """The server's clock, movable by a test (the authenticator's ``now``)."""

    def __init__(self) -> None:
        self.offset = dt.timedelta(0)

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Clock]]:
    """A server outside test mode, on SQLite, whose clock a test can move."""
    directory = tmp_path_factory.mktemp("auth")
    config = ServerConfig(
        host="127.0.0.1", port=0, data_dir=directory / "data", identities=write_private_identities(directory), log_requests=False
    )
    clock = Clock()
    background = background_server(config)
    background.app.authenticator._now = clock
    with background:
        yield Server(background), clock


@pytest.fixture
def server(strict: tuple[Server, Clock]) -> Iterator[Server]:
    """The strict server with its clock back at the real time after the test."""
    yield strict[0]
    strict[1].offset = dt.timedelta(0)


def _code(response: tuple[int, dict[str, Any]]) -> tuple[int, str]:
    return response[0], str(response[1].get("__type"))


def test_replay_outside_the_skew_window_is_refused(strict: tuple[Server, Clock]) -> None:
    """A captured request replays while the server's clock is within 15 minutes of it, and is refused after."""
    server, clock = strict
    request = server.signed("GenerateRandom", {"NumberOfBytes": 8})
    assert server.send_request(request)[0] == 200
    clock.offset = dt.timedelta(minutes=14)
    assert server.send_request(request)[0] == 200
    clock.offset = dt.timedelta(minutes=16)
    status, body = server.send_request(request)
    assert (status, body["__type"]) == (400, "InvalidSignatureException") and body["message"].startswith("Signature expired")
    clock.offset = dt.timedelta(minutes=-16)  # a server whose clock is behind: the request is from its future
    status, body = server.send_request(request)
    assert (status, body["__type"]) == (400, "InvalidSignatureException") and body["message"].startswith(
        "Signature not yet current"
    )
    clock.offset = dt.timedelta(0)


def test_query_string_added_after_signing_fails(server: Server) -> None:
    """The query string is part of the canonical request: adding one after signing breaks the signature."""
    request = server.signed("ListKeys", {})
    assert _code(server.send_request(request, path="/?Action=ListKeys")) == (400, "InvalidSignatureException")


def test_access_key_swapped_to_another_identity_fails(server: Server) -> None:
    """A request signed with the admin's secret but claiming bob's access key does not verify."""
    request = server.signed("ListKeys", {})
    forged = request.headers["Authorization"].replace("AKIAADMIN0000EXAMPLE", "AKIABOB00000EXAMPLE")
    assert _code(server.send_request(request, headers={"Authorization": forged})) == (400, "InvalidSignatureException")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda value: value[:-1] + ("0" if value[-1] != "0" else "1"),  # one hex digit of the signature
        lambda value: value.replace("Signature=", "Signature=X")[: len(value)],  # not hex at all
        lambda value: value[: value.index("Signature=") + 10] + value[value.index("Signature=") + 10 :].upper(),  # upper-case hex
        lambda value: value.replace(";x-amz-target", ""),  # a signed header dropped from SignedHeaders
        lambda value: value.replace("/kms/", "/KMS/"),  # the service name cased differently
    ],
    ids=["signature-digit", "signature-not-hex", "signature-upper-case", "signed-headers-list", "service-case"],
)
def test_forged_authorization_fails(server: Server, tamper: Any) -> None:
    """An Authorization header edited after signing is InvalidSignatureException (or Incomplete when unreadable)."""
    request = server.signed("GenerateRandom", {"NumberOfBytes": 8})
    forged = tamper(request.headers["Authorization"])
    assert forged != request.headers["Authorization"]
    status, code = _code(server.send_request(request, headers={"Authorization": forged}))
    assert status == 400 and code in ("InvalidSignatureException", "IncompleteSignatureException"), code


def test_signed_header_sent_twice_fails(server: Server) -> None:
    """A second X-Amz-Target header (after the signed one) changes the canonical request."""
    request = server.signed("GenerateRandom", {"NumberOfBytes": 8})
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        connection.putrequest("POST", "/", skip_host=True, skip_accept_encoding=True)
        for name, value in request.headers.items():
            connection.putheader(name, value)
        connection.putheader("X-Amz-Target", "TrentService.ScheduleKeyDeletion")
        connection.putheader("Content-Length", str(len(request.body)))
        connection.endheaders(request.body)
        response = connection.getresponse()
        body = json.loads(response.read())
    finally:
        connection.close()
    assert (response.status, body["__type"]) == (400, "InvalidSignatureException")


def test_host_changed_or_missing_fails(server: Server) -> None:
    """Host is always signed: another value, or none at all, does not verify."""
    request = server.signed("GenerateRandom", {"NumberOfBytes": 8})
    assert _code(server.send_request(request, headers={"Host": "attacker.example"})) == (400, "InvalidSignatureException")
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        connection.putrequest("POST", "/", skip_host=True, skip_accept_encoding=True)
        for name, value in request.headers.items():
            if name.lower() != "host":
                connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(request.body)))
        connection.endheaders(request.body)
        response = connection.getresponse()
        body = json.loads(response.read())
    finally:
        connection.close()
    assert (response.status, body["__type"]) == (400, "InvalidSignatureException")


def test_date_moved_in_header_and_scope_fails(server: Server) -> None:
    """Moving X-Amz-Date and the credential scope together to another day (still within skew) does not verify."""
    request = server.signed("ListKeys", {})
    amz_date = request.headers["X-Amz-Date"]
    moved = (dt.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ") - dt.timedelta(minutes=1)).strftime("%Y%m%dT%H%M%SZ")
    authorization = request.headers["Authorization"].replace(f"/{amz_date[:8]}/", f"/{moved[:8]}/")
    status, code = _code(server.send_request(request, headers={"X-Amz-Date": moved, "Authorization": authorization}))
    assert (status, code) == (400, "InvalidSignatureException")


def test_session_token_sent_for_long_term_keys_is_unrecognized(server: Server) -> None:
    """Credentials without a session token that arrive with one are UnrecognizedClientException."""
    request = server.signed("ListKeys", {}, token="made-up-token")
    assert _code(server.send_request(request)) == (400, "UnrecognizedClientException")


def test_test_mode_still_verifies_known_identities(tmp_path: Path) -> None:
    """In test mode only unknown access keys go unverified; a known one with the wrong secret is refused."""
    config = ServerConfig(
        host="127.0.0.1", port=0, identities=write_private_identities(tmp_path), test_mode=True, log_requests=False
    )
    with background_server(config) as background:
        server = Server(background)
        assert server.send_request(server.signed("ListKeys", {}, access_key="AKIASTRANGER0EXAMPLE"))[0] == 200
        wrong = server.signed("ListKeys", {}, secret="not-the-admin-secret")
        assert _code(server.send_request(wrong)) == (400, "InvalidSignatureException")


# ---- the identities file ----------------------------------------------------------------------


def _refused_to_start(*args: str) -> tuple[int, str]:
    """Run `policyengine serve`; its exit code and stderr if it refused to start (a failure if it listened)."""
    process = ServeProcess(*args)
    try:
        endpoint = process.wait_listening()
    except AssertionError:  # it exited without listening, as it should
        _, rest = process.process.communicate(timeout=30)
        return process.process.returncode, "".join(process.lines) + rest.decode()
    process.kill()
    raise AssertionError(f"the server started on {endpoint} instead of refusing")


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620], ids=["0644", "0640", "0604", "0620"])
def test_identities_file_open_to_others_is_refused(tmp_path: Path, mode: int) -> None:
    """An identities file (it holds secret keys) that group or others may read or write is refused, like the master key."""
    path = write_private_identities(tmp_path)
    path.chmod(mode)
    with pytest.raises(IdentitiesError) as error:
        load_identities(path)
    assert "group or others" in str(error.value) and "\n" not in str(error.value)


def test_serve_refuses_an_identities_file_others_can_read(tmp_path: Path) -> None:
    """`policyengine serve` with a world-readable identities file exits 1 with one line, before listening."""
    path = write_private_identities(tmp_path)
    path.chmod(0o644)
    code, stderr = _refused_to_start("--test-mode", "--identities", str(path))
    lines = stderr.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("error: ") and "group or others" in lines[0], stderr


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("ids.json", b'{"AKIA1": {"secret_access_key": "s",', "is not valid JSON"),
        ("ids.yaml", b"AKIA1: {secret_access_key: \xff\xfe}", "cannot read identities file"),
        ("ids.yaml", b"AKIA1:\n  secret_access_key: s\n   principal: x", "is not valid YAML"),
        (
            "ids.yaml",
            b"AKIA1: {secret_access_key: s, principal: 'arn:aws:iam::111122223333:user/a', session_policy: {Statement: 1}}",
            "session_policy",
        ),
    ],
    ids=["json-syntax", "not-utf8", "yaml-indentation", "bad-inline-policy"],
)
def test_identities_syntax_errors_are_one_line(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    """JSON and YAML syntax errors, bytes that are not UTF-8 and bad inline policies are one-line IdentitiesErrors."""
    path = tmp_path / name
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(IdentitiesError) as error:
        load_identities(path)
    assert expected in str(error.value) and "\n" not in str(error.value)


def test_identities_path_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    """Pointing --identities at a directory is refused as a usage error naming it, not a traceback."""
    code, stderr = _refused_to_start("--test-mode", "--identities", str(tmp_path))
    assert code == 2 and "is a directory" in stderr and "Traceback" not in stderr
