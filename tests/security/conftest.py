"""The security suite: a server in secure mode (identities file, SigV4, SQLite store), attacked.

One server per module, started with ``test_mode=False``: no reset endpoint and no default
identity, so every test makes its own keys and nothing it does can leak into another test.
The identities span two accounts, IAM users with and without KMS permissions, a user allowed
only from 10.0.0.0/8, and an assumed-role session; boto3 clients and raw signed requests come
from the server suite's ``Server`` helper.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from policyengine.server import BackgroundServer, ServerConfig
from tests.reliability.test_secrets import _Capture
from tests.server.conftest import Server
from tests.server.test_serve_command import processes  # noqa: F401  (the serve suite's fixture, reused)

OWNER = "111122223333"
STRANGER = "444455556666"
REGION = "us-east-1"
OTHER_REGION = "eu-west-1"

ALLOW_ALL_KMS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
KEY_USER = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*",
        }
    ],
}
FROM_OFFICE_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "kms:*",
            "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        }
    ],
}

ADMIN = "AKIASECADMIN0000000"
DEV = "AKIASECDEV000000000"
GRANTEE = "AKIASECGRANTEE00000"
OFFICE = "AKIASECOFFICE000000"
ROLE = "ASIASECROLE00000000"
CAROL = "AKIASECCAROL0000000"

#: access key -> identities-file entry
IDENTITIES: dict[str, dict[str, Any]] = {
    ADMIN: {
        "secret_access_key": "sec-admin-secret-0123456789",
        "principal": f"arn:aws:iam::{OWNER}:user/admin",
        "identity_policies": [ALLOW_ALL_KMS],
    },
    DEV: {
        "secret_access_key": "sec-dev-secret-0123456789",
        "principal": f"arn:aws:iam::{OWNER}:user/dev",
        "identity_policies": [KEY_USER],
    },
    GRANTEE: {
        "secret_access_key": "sec-grantee-secret-0123456789",
        "principal": f"arn:aws:iam::{OWNER}:user/grantee",
    },
    OFFICE: {
        "secret_access_key": "sec-office-secret-0123456789",
        "principal": f"arn:aws:iam::{OWNER}:user/office",
        "identity_policies": [FROM_OFFICE_ONLY],
    },
    ROLE: {
        "secret_access_key": "sec-role-secret-0123456789",
        "session_token": "sec-role-session-token-0123456789",
        "principal": f"arn:aws:sts::{OWNER}:assumed-role/AppRole/worker-1",
        "identity_arn": f"arn:aws:iam::{OWNER}:role/AppRole",
        "identity_policies": [KEY_USER],
    },
    CAROL: {
        "secret_access_key": "sec-carol-secret-0123456789",
        "principal": f"arn:aws:iam::{STRANGER}:user/carol",
        "identity_policies": [ALLOW_ALL_KMS],
    },
}
#: Every secret a test may hunt for in logs, records, messages and files.
SECRETS = tuple(
    [str(entry["secret_access_key"]) for entry in IDENTITIES.values()]
    + [str(entry["session_token"]) for entry in IDENTITIES.values() if "session_token" in entry]
)


def principal_of(access_key: str) -> str:
    return str(IDENTITIES[access_key]["principal"])


def write_identities(directory: Path) -> Path:
    path = directory / "identities.yaml"
    path.write_text(yaml.safe_dump(IDENTITIES), encoding="utf-8")
    path.chmod(0o600)
    return path


def secure_config(directory: Path, **changes: Any) -> ServerConfig:
    """A secure-mode configuration: SQLite under ``directory/data``, the suite's identities."""
    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "data_dir": directory / "data",
        "identities": write_identities(directory),
        "test_mode": False,
        "log_requests": True,
    }
    settings.update(changes)
    return ServerConfig(**settings)


@pytest.fixture(scope="module")
def secure_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("secure")


@pytest.fixture(scope="module")
def server_log() -> Iterator[_Capture]:
    """Everything the server's loggers emit (at DEBUG) while the module's server runs."""
    capture = _Capture()
    loggers = [logging.getLogger(name) for name in ("policyengine", "uvicorn")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(capture)
        logger.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(capture)
            logger.setLevel(level)


@pytest.fixture(scope="module")
def secure(secure_dir: Path, server_log: _Capture) -> Iterator[Server]:
    """The module's secure-mode server (never reset: each test makes its own keys), its log captured."""
    with BackgroundServer(secure_config(secure_dir)) as background:
        yield Server(background, IDENTITIES)


def audit_events(server: Server) -> list[dict[str, Any]]:
    """Every audit record the server has written so far, as CloudTrail-shaped events."""
    return [record.event for record in server.background.app.state.view(REGION).store.audit_records()]


@pytest.fixture
def admin(secure: Server) -> Any:
    return secure.client(ADMIN)


@pytest.fixture
def key_arn(admin: Any) -> str:
    """A fresh symmetric key of 111122223333 with the default key policy (IAM policies decide)."""
    return str(admin.create_key(Description="security suite key")["KeyMetadata"]["Arn"])


def error_code(call: Any) -> str:
    """The AWS error code ``call()`` raised (it must raise a botocore ClientError)."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as caught:
        call()
    return str(caught.value.response["Error"]["Code"])


def open_to_account(account: str, key_owner: str = OWNER) -> str:
    """A key policy for ``key_owner``'s key that also trusts ``account`` (its IAM policies decide)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{key_owner}:root"}, "Action": "kms:*", "Resource": "*"},
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant"],
                    "Resource": "*",
                },
            ],
        }
    )
