"""Secrets of secure mode — secret access keys, session tokens, grant tokens, plaintext — searched for
(raw, base64, hex) in the server's log, the audit records, every error message, and the data files.

The reliability suite (tests/reliability/test_secrets.py) does the same for key material and data
keys on a test-mode server; this one signs every call, so credentials are in play too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.reliability.test_secrets import _Capture, _leaks
from tests.security.conftest import ADMIN, CAROL, DEV, GRANTEE, IDENTITIES, ROLE, SECRETS, Server, audit_events, principal_of


@pytest.fixture(scope="module")
def hunted(secure: Server, server_log: _Capture, secure_dir: Path) -> dict[str, Any]:
    """One session of calls that handle every kind of secret, allowed and refused; what it left behind."""
    admin = secure.client(ADMIN)
    key = admin.create_key()["KeyMetadata"]["Arn"]
    plaintext = b"the plaintext nobody may log 0123456789"
    blob = admin.encrypt(KeyId=key, Plaintext=plaintext)["CiphertextBlob"]
    grant = admin.create_grant(KeyId=key, GranteePrincipal=principal_of(GRANTEE), Operations=["Decrypt", "RetireGrant"])
    secure.client(GRANTEE).decrypt(CiphertextBlob=blob, GrantTokens=[grant["GrantToken"]])
    secure.client(ROLE).encrypt(KeyId=key, Plaintext=plaintext)
    errors: list[str] = []
    for call in (
        lambda: secure.client(DEV, secret="wrong-secret").list_keys(),
        lambda: secure.client(ROLE, token="wrong-session-token").list_keys(),
        lambda: secure.client(CAROL).decrypt(CiphertextBlob=blob),
        lambda: secure.client(DEV).decrypt(CiphertextBlob=blob, EncryptionContext={"x": "y"}),
        lambda: secure.client(DEV).encrypt(KeyId=key, Plaintext=plaintext, GrantTokens=[grant["GrantToken"] + "x"]),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        errors.append(json.dumps(caught.value.response["Error"]))
    secure.client(GRANTEE).retire_grant(GrantToken=grant["GrantToken"])
    secrets = {f"secret {i}": s.encode() for i, s in enumerate(SECRETS)}
    secrets["grant token"] = grant["GrantToken"].encode()
    secrets["plaintext"] = plaintext
    data = secure_dir / "data"
    files = {path.name: path.read_bytes() for path in data.iterdir() if path.name.startswith("kms.sqlite3")}
    return {
        "secrets": secrets,
        "log": "\n".join(server_log.lines),
        "audit": json.dumps(audit_events(secure)),
        "errors": errors,
        "files": files,
        "grant_token": grant["GrantToken"],
    }


def test_session_exercised_what_it_hunts(hunted: dict[str, Any]) -> None:
    assert len(hunted["secrets"]) == len(IDENTITIES) + 3  # every secret key, the session token, the grant token, plaintext
    assert "POST Decrypt 200" in hunted["log"] and "InvalidSignatureException" in "".join(hunted["errors"])
    assert "CreateGrant" in hunted["audit"] and hunted["files"]


def test_no_secret_in_the_server_log(hunted: dict[str, Any]) -> None:
    assert _leaks(hunted["log"].encode(), hunted["secrets"]) == []


def test_no_secret_in_audit_records(hunted: dict[str, Any]) -> None:
    assert _leaks(hunted["audit"].encode(), hunted["secrets"]) == []


def test_no_secret_in_error_messages(hunted: dict[str, Any]) -> None:
    assert _leaks("\n".join(hunted["errors"]).encode(), hunted["secrets"]) == []


def test_no_credential_or_plaintext_in_the_data_files(hunted: dict[str, Any]) -> None:
    """The store keeps grant tokens (CreateGrant's retry answer needs them; the file is 0600), never
    credentials or plaintext."""
    wanted = {name: value for name, value in hunted["secrets"].items() if name != "grant token"}
    for name, content in hunted["files"].items():
        assert _leaks(content, wanted) == [], name
