"""Limits a hostile client cannot get past: body, plaintext, ciphertext, grants, aliases, tags, policy, context sizes.

Each limit is hit over the wire with AWS's error code and status (boto3's own checks bypassed by
sending raw signed bodies), one past the limit is refused and the limit itself is accepted.
Grants and aliases per key are tested with the facade's constants monkeypatched lower.
"""

from __future__ import annotations

import base64
import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest

from policyengine.kms import ops_aliases, ops_grants
from policyengine.server import BackgroundServer, ServerConfig
from policyengine.server.config import MAX_BODY_BYTES
from tests.reliability.conftest import TEST_ACCOUNT, background_server, count, kms_client, signed_send

GRANTEE = f"arn:aws:iam::{TEST_ACCOUNT}:user/grantee"


@pytest.fixture(scope="module")
def limits_server() -> Iterator[tuple[BackgroundServer, Any, str]]:
    """A test-mode server, a boto3 client and a symmetric key."""
    with background_server(ServerConfig(host="127.0.0.1", port=0, test_mode=True, log_requests=False)) as server:
        kms = kms_client(server.endpoint_url)
        yield server, kms, kms.create_key()["KeyMetadata"]["KeyId"]


def _call(kms: Any, operation: str, body: dict[str, Any]) -> tuple[int, str]:
    status, data = signed_send(kms, operation, json.dumps(body).encode())
    count("limits.requests")
    return status, json.loads(data).get("__type", "") if data else ""


def _b64(size: int) -> str:
    return base64.b64encode(b"p" * size).decode()


def _policy_of(size: int) -> str:
    """A valid key policy of exactly ``size`` bytes (padded in its Sid)."""
    base = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{TEST_ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    padding = size - len(json.dumps(base))
    base["Statement"][0]["Sid"] = "S" * padding
    text = json.dumps(base)
    assert len(text.encode()) == size
    return text


@pytest.mark.parametrize(
    ("operation", "make_body", "expected"),
    [
        ("Encrypt", lambda key: {"KeyId": key, "Plaintext": _b64(4096)}, (200, "")),
        ("Encrypt", lambda key: {"KeyId": key, "Plaintext": _b64(4097)}, (400, "ValidationException")),
        ("Decrypt", lambda key: {"CiphertextBlob": _b64(6145)}, (400, "ValidationException")),
        ("GenerateDataKey", lambda key: {"KeyId": key, "NumberOfBytes": 1025}, (400, "ValidationException")),
        ("GenerateRandom", lambda key: {"NumberOfBytes": 1025}, (400, "ValidationException")),
        (
            "Encrypt",
            lambda key: {"KeyId": key, "Plaintext": _b64(1), "EncryptionContext": {"k": "v" * 8192}},
            (400, "ValidationException"),
        ),
        ("PutKeyPolicy", lambda key: {"KeyId": key, "PolicyName": "default", "Policy": _policy_of(32768)}, (200, "")),
        (
            "PutKeyPolicy",
            lambda key: {"KeyId": key, "PolicyName": "default", "Policy": _policy_of(32769)},
            (400, "LimitExceededException"),
        ),
        (
            "PutKeyPolicy",
            lambda key: {"KeyId": key, "PolicyName": "default", "Policy": _policy_of(131073)},
            (400, "ValidationException"),
        ),
        ("CreateKey", lambda key: {"Policy": _policy_of(32769)}, (400, "LimitExceededException")),
        (
            "CreateKey",
            lambda key: {"Tags": [{"TagKey": f"k{i}", "TagValue": "v"} for i in range(51)]},
            (400, "TagException"),  # AWS's code and words ("Too many tags"), recorded by LocalStack
        ),
        (
            "TagResource",
            lambda key: {"KeyId": key, "Tags": [{"TagKey": f"t{i}", "TagValue": "v"} for i in range(51)]},
            (400, "TagException"),
        ),
        (
            "TagResource",
            lambda key: {"KeyId": key, "Tags": [{"TagKey": "k" * 129, "TagValue": "v"}]},
            (400, "ValidationException"),
        ),
        ("UpdateKeyDescription", lambda key: {"KeyId": key, "Description": "d" * 8193}, (400, "ValidationException")),
        ("ListKeys", lambda key: {"Limit": 1001}, (400, "ValidationException")),
        (
            "CreateGrant",
            lambda key: {
                "KeyId": key,
                "GranteePrincipal": GRANTEE,
                "Operations": ["Decrypt"],
                "Constraints": {"EncryptionContextEquals": {f"k{i}": "v" for i in range(9)}},
            },
            (400, "ValidationException"),
        ),
    ],
    ids=[
        "plaintext-4096-ok",
        "plaintext-4097",
        "ciphertext-6145",
        "data-key-1025-bytes",
        "random-1025-bytes",
        "encryption-context-8KiB",
        "policy-32768-ok",
        "policy-32769",
        "policy-over-the-model-max",
        "create-key-policy-32769",
        "create-key-51-tags",
        "tag-resource-51-tags",
        "tag-key-129-chars",
        "description-8193",
        "list-limit-1001",
        "grant-constraint-9-pairs",
    ],
)
def test_size_limits_over_the_wire(
    limits_server: tuple[BackgroundServer, Any, str], operation: str, make_body: Any, expected: tuple[int, str]
) -> None:
    """Each size limit answers AWS's error code and status one past the limit, and accepts the limit itself."""
    _, kms, key = limits_server
    assert _call(kms, operation, make_body(key)) == expected


def test_tags_accumulated_past_fifty_are_refused(limits_server: tuple[BackgroundServer, Any, str]) -> None:
    """Tags added a few at a time stop at 50 per key: the call that would pass it is refused and changes nothing."""
    _, kms, _ = limits_server
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    for batch in range(5):
        kms.tag_resource(KeyId=key, Tags=[{"TagKey": f"b{batch}-{i}", "TagValue": "v"} for i in range(10)])
    assert _call(kms, "TagResource", {"KeyId": key, "Tags": [{"TagKey": "one-more", "TagValue": "v"}]}) == (
        400,
        "TagException",
    )
    assert len(kms.list_resource_tags(KeyId=key, Limit=50)["Tags"]) == 50


def _raw_post(server: BackgroundServer, body: Any, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    host, port = server.endpoint_url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("POST", "/", body=body, headers=headers, encode_chunked=not isinstance(body, bytes))
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def test_body_size_limit_holds_for_chunked_bodies(limits_server: tuple[BackgroundServer, Any, str]) -> None:
    """A body sent chunked (no Content-Length to refuse up front) is cut off at 1 MiB with 413; 1 MiB itself is read."""
    server, _, _ = limits_server
    headers = {"X-Amz-Target": "TrentService.ListKeys", "Content-Type": "application/x-amz-json-1.1"}
    chunk = b" " * 65536
    status, body = _raw_post(server, iter([b"{"] + [chunk] * (MAX_BODY_BYTES // len(chunk) + 1) + [b"}"]), headers)
    assert (status, body["__type"]) == (413, "RequestEntityTooLargeException")
    at_limit = b"{" + b" " * (MAX_BODY_BYTES - 2) + b"}"
    status, body = _raw_post(server, at_limit, headers)
    assert status == 400 and body["__type"] == "MissingAuthenticationTokenException"  # read whole, then authenticated


def test_grants_per_key_limit(limits_server: tuple[BackgroundServer, Any, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """With the limit lowered to 3, the fourth CreateGrant on a key is LimitExceededException; retiring one frees a place."""
    monkeypatch.setattr(ops_grants, "MAX_GRANTS_PER_KEY", 3)
    _, kms, _ = limits_server
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    grant = {"KeyId": key, "GranteePrincipal": GRANTEE, "Operations": ["Decrypt"]}
    tokens = [kms.create_grant(**grant)["GrantToken"] for _ in range(3)]
    assert _call(kms, "CreateGrant", grant) == (400, "LimitExceededException")
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    assert _call(kms, "CreateGrant", {**grant, "KeyId": other})[0] == 200  # the limit is per key
    kms.retire_grant(GrantToken=tokens[0])
    assert _call(kms, "CreateGrant", grant)[0] == 200
    assert len(kms.list_grants(KeyId=key)["Grants"]) == 3


def test_aliases_per_key_limit_on_create(
    limits_server: tuple[BackgroundServer, Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the limit lowered to 2, a third CreateAlias for one key is LimitExceededException."""
    monkeypatch.setattr(ops_aliases, "MAX_ALIASES_PER_KEY", 2)
    _, kms, _ = limits_server
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    for name in ("alias/limit-create-1", "alias/limit-create-2"):
        kms.create_alias(AliasName=name, TargetKeyId=key)
    assert _call(kms, "CreateAlias", {"AliasName": "alias/limit-create-3", "TargetKeyId": key}) == (400, "LimitExceededException")


def test_aliases_per_key_limit_on_update(
    limits_server: tuple[BackgroundServer, Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """UpdateAlias cannot move a third alias onto a key that already has the most it may have (LimitExceededException)."""
    monkeypatch.setattr(ops_aliases, "MAX_ALIASES_PER_KEY", 2)
    _, kms, _ = limits_server
    full = kms.create_key()["KeyMetadata"]["KeyId"]
    spare = kms.create_key()["KeyMetadata"]["KeyId"]
    for name in ("alias/limit-update-1", "alias/limit-update-2"):
        kms.create_alias(AliasName=name, TargetKeyId=full)
    kms.create_alias(AliasName="alias/limit-update-3", TargetKeyId=spare)
    assert _call(kms, "UpdateAlias", {"AliasName": "alias/limit-update-3", "TargetKeyId": full}) == (
        400,
        "LimitExceededException",
    )
    assert len(kms.list_aliases(KeyId=full)["Aliases"]) == 2
