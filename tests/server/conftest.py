"""Fixtures for the KMS server tests: a test-mode server with an identities file, clients, raw requests.

One server per module (starting one is the slow part); every test gets it wiped clean through
``POST /_reset``. Identities span two accounts so cross-account and multi-region behaviour can
be driven through boto3 exactly as an application would.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from policyengine.pytest_plugin import local_kms, local_kms_server  # noqa: F401  (the plugin's fixtures, for test_plugin.py)
from policyengine.server import BackgroundServer, ServerConfig

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
TEST_ACCOUNT = "123456789012"
REGION = "us-east-1"

ALLOW_ALL_KMS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}

#: access key -> (secret, identities-file entry)
IDENTITIES: dict[str, dict[str, Any]] = {
    "AKIAADMIN0000EXAMPLE": {
        "secret_access_key": "admin-secret",
        "principal": f"arn:aws:iam::{ACCOUNT}:user/admin",
        "identity_policies": [ALLOW_ALL_KMS],
    },
    "AKIABOB00000EXAMPLE": {
        "secret_access_key": "bob-secret",
        "principal": f"arn:aws:iam::{ACCOUNT}:user/bob",
        "identity_policies": ["bob-policy.json"],
    },
    "AKIACAROL000EXAMPLE": {
        "secret_access_key": "carol-secret",
        "principal": f"arn:aws:iam::{OTHER_ACCOUNT}:user/carol",
        "identity_policies": [ALLOW_ALL_KMS],
        "tags": {"team": "payments"},
    },
    "ASIASESSION0EXAMPLE": {
        "secret_access_key": "session-secret",
        "session_token": "the-session-token",
        "principal": f"arn:aws:sts::{ACCOUNT}:assumed-role/AppRole/session-1",
        "identity_arn": f"arn:aws:iam::{ACCOUNT}:role/AppRole",
        "identity_policies": [ALLOW_ALL_KMS],
    },
}
BOB_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "EncryptOnly", "Effect": "Allow", "Action": ["kms:Encrypt", "kms:DescribeKey"], "Resource": "*"}],
}


def secret_of(access_key: str) -> str:
    entry = IDENTITIES.get(access_key)
    return str(entry["secret_access_key"]) if entry else "any-secret"


def write_identities(directory: Path) -> Path:
    (directory / "bob-policy.json").write_text(json.dumps(BOB_POLICY), encoding="utf-8")
    path = directory / "identities.yaml"
    path.write_text(yaml.safe_dump(IDENTITIES), encoding="utf-8")
    path.chmod(0o600)  # it holds secret keys: the server refuses a file others can read
    return path


class Server:
    """A running server plus helpers to make boto3 clients and raw signed requests against it."""

    def __init__(self, background: BackgroundServer, identities: dict[str, dict[str, Any]] | None = None) -> None:
        self.background = background
        self.identities = IDENTITIES if identities is None else identities
        self.endpoint_url = background.endpoint_url
        parsed = urllib.parse.urlsplit(self.endpoint_url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 80
        self._clients: dict[tuple[str, str], Any] = {}
        self.last_headers: dict[str, str] = {}  # of the last response ``send`` read

    def client(self, access_key: str = "AKIAADMIN0000EXAMPLE", region: str = REGION, **extra: Any) -> Any:
        """A boto3 KMS client signing as ``access_key`` (cached: making one costs more than most calls)."""
        if not extra:
            cached = self._clients.get((access_key, region))
            if cached is None:
                cached = self._clients[(access_key, region)] = self._new_client(access_key, region)
            return cached
        return self._new_client(access_key, region, **extra)

    def _new_client(self, access_key: str, region: str, **extra: Any) -> Any:
        entry = self.identities.get(access_key, {})
        session = boto3.session.Session(
            aws_access_key_id=access_key,
            aws_secret_access_key=extra.pop("secret", self.secret_of(access_key)),
            aws_session_token=extra.pop("token", entry.get("session_token")),
            region_name=region,
        )
        config = extra.pop("config", Config(retries={"max_attempts": 1, "mode": "standard"}))
        return session.client("kms", endpoint_url=self.endpoint_url, config=config, **extra)

    def signed(
        self,
        target: str,
        body: bytes | dict[str, Any],
        *,
        access_key: str = "AKIAADMIN0000EXAMPLE",
        secret: str | None = None,
        region: str = REGION,
        token: str | None = None,
        path: str = "/",
        method: str = "POST",
    ) -> AWSRequest:
        """A request signed by botocore's SigV4 signer, as boto3 would send it (not yet sent)."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = AWSRequest(
            method=method,
            url=f"{self.endpoint_url}{path}",
            data=data,
            headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"TrentService.{target}"},
        )
        credentials = Credentials(access_key, secret if secret is not None else self.secret_of(access_key), token)
        SigV4Auth(credentials, "kms", region).add_auth(request)
        return request

    def secret_of(self, access_key: str) -> str:
        entry = self.identities.get(access_key)
        return str(entry["secret_access_key"]) if entry else "any-secret"

    def send(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> tuple[int, dict[str, Any]]:
        """Send raw bytes; the status and the decoded JSON body."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            raw = response.read()
            self.last_headers = {name.lower(): value for name, value in response.getheaders()}
            assert response.getheader("Content-Type") == "application/x-amz-json-1.1"
            return response.status, json.loads(raw) if raw else {}
        finally:
            connection.close()

    def send_request(self, request: AWSRequest, **changes: Any) -> tuple[int, dict[str, Any]]:
        """Send a prepared request, optionally altered after signing (method, path, headers, body)."""
        headers = {k: v for k, v in request.headers.items()}
        headers.update(changes.get("headers", {}))
        for name in changes.get("drop_headers", ()):
            headers.pop(name, None)
        path = changes.get("path", urllib.parse.urlsplit(request.url).path or "/")
        body = changes.get("body", request.body or b"")
        return self.send(changes.get("method", request.method), path, headers, body)

    def reset(self) -> None:
        status, _ = self.send("POST", "/_reset")
        assert status == 200


@pytest.fixture(scope="module")
def server_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    identities = write_identities(tmp_path_factory.mktemp("identities"))
    config = ServerConfig(host="127.0.0.1", port=0, identities=identities, test_mode=True, log_requests=False)
    with BackgroundServer(config) as background:
        yield Server(background)


@pytest.fixture
def server(server_module: Server) -> Server:
    """The module's test-mode server, wiped clean for this test."""
    server_module.reset()
    return server_module


@pytest.fixture
def admin(server: Server) -> Any:
    """boto3 as an IAM user of 111122223333 allowed kms:* (the key policy decides)."""
    return server.client("AKIAADMIN0000EXAMPLE")


@pytest.fixture
def key_arn(admin: Any) -> str:
    """A fresh symmetric key in 111122223333/us-east-1 with the default key policy."""
    return str(admin.create_key(Description="test key")["KeyMetadata"]["Arn"])


@pytest.fixture(params=["server", "local"])
def client(request: pytest.FixtureRequest) -> Any:
    """The admin, twice: boto3 against the test-mode server, and ``LocalKms`` called directly (tests/server/dual.py)."""
    if request.param == "server":
        return request.getfixturevalue("admin")
    from tests.server.dual import local_admin

    return local_admin()
