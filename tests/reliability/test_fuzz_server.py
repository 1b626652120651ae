"""Fuzzing the server's request decoding: random targets, headers, methods, paths and bodies never get a 500.

Bodies are built from botocore's model of each operation's input (the members AWS defines, with
random values, wrong types, broken base64, out-of-range numbers, unknown members) or are any
JSON, damaged JSON or random bytes. Test mode accepts unknown credentials unverified, so most
requests get past authentication into decoding and the facade; some carry damaged
Authorization headers to fuzz the SigV4 parser instead. After every request the server must
answer in AWS's JSON error shape with a 4xx (or 200), and it must keep answering.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import botocore.session
import pytest
from hypothesis import given
from hypothesis import strategies as st

from policyengine.server import BackgroundServer, ServerConfig
from tests.reliability.conftest import background_server, count, fuzz_settings, kms_client, signed_send
from tests.reliability.strategies import any_json, random_text, seeds

MODEL = botocore.session.get_session().get_service_model("kms")
OPERATIONS = sorted(MODEL.operation_names)
SLOW_SPECS = ("RSA_3072", "RSA_4096")  # key generation would dominate the budget; RSA_2048 stays


class RawClient:
    """One keep-alive HTTP connection to the server, reopened whenever the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.connection: http.client.HTTPConnection | None = None

    def send(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> tuple[int, bytes]:
        for attempt in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
                for name, value in headers:
                    self.connection.putheader(name, value)
                self.connection.putheader("Content-Length", str(len(body)))
                self.connection.endheaders(body)
                response = self.connection.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return response.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


@dataclass
class Target:
    """The server under fuzzing, a raw connection and a boto3 client to it, and key references to aim at."""

    server: BackgroundServer
    raw: RawClient
    kms: Any
    refs: list[str]


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[Target]:
    """A test-mode server on the memory store with a few keys to aim at, and a raw connection to it."""
    config = ServerConfig(host="127.0.0.1", port=0, test_mode=True, log_requests=False)
    with background_server(config) as server:
        kms = kms_client(server.endpoint_url)
        refs: list[str] = []
        for spec, usage in (
            ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"),
            ("HMAC_256", "GENERATE_VERIFY_MAC"),
            ("ECC_NIST_P256", "SIGN_VERIFY"),
        ):
            meta = kms.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]
            refs += [meta["KeyId"], meta["Arn"]]
        kms.create_alias(AliasName="alias/fuzz", TargetKeyId=refs[0])
        refs += ["alias/fuzz", "alias/aws/s3", "arn:aws:kms:us-east-1:123456789012:alias/fuzz", "arn:aws:kms:eu-west-1:1:key/x"]
        host, port = server.endpoint_url.removeprefix("http://").rsplit(":", 1)
        target = Target(server, RawClient(host, int(port)), kms, refs)
        yield target
        target.raw.close()


def _value(rng: random.Random, shape: Any, name: str, refs: list[str], depth: int = 0) -> Any:
    """A JSON value for ``shape``: usually of the right kind, sometimes not, rarely well-behaved."""
    if rng.random() < 0.08:
        return rng.choice([None, True, 1, -1, 2**70, 1.5, "", "x" * rng.randint(1, 3000), [], {}, [1, "a"], {"a": {"b": []}}])
    kind = shape.type_name
    if kind == "structure" and depth < 4:
        out: dict[str, Any] = {}
        for member, member_shape in shape.members.items():
            if member in shape.required_members or rng.random() < 0.5:
                out[member] = _value(rng, member_shape, member, refs, depth + 1)
        if rng.random() < 0.1:
            out[random_text(rng, 8) or "Unknown"] = random_text(rng)
        return out
    if kind == "list" and depth < 4:
        return [_value(rng, shape.member, name, refs, depth + 1) for _ in range(rng.choice([0, 1, 1, 2, 3, 60]))]
    if kind == "map" and depth < 4:
        return {random_text(rng, 8): random_text(rng) for _ in range(rng.choice([0, 1, 2, 9]))}
    if kind == "string":
        if shape.enum:
            choices = [v for v in shape.enum if v not in SLOW_SPECS]
            return rng.choice(choices) if rng.random() < 0.85 else random_text(rng)
        if "KeyId" in name or name in ("TargetKeyId", "DestinationKeyId", "SourceKeyId"):
            return rng.choice(refs) if rng.random() < 0.8 else random_text(rng, 40)
        if name in ("GranteePrincipal", "RetiringPrincipal"):
            return rng.choice(["arn:aws:iam::123456789012:user/u", "arn:aws:iam::123456789012:root", random_text(rng)])
        if name == "AliasName":
            return rng.choice(["alias/fuzz", "alias/aws/x", f"alias/{random_text(rng, 6)}", random_text(rng)])
        if name == "Policy":
            return rng.choice(['{"Version":"2012-10-17","Statement":[]}', "{}", random_text(rng, 40)])
        return random_text(rng, rng.choice([4, 16, 300]))
    if kind in ("integer", "long"):
        return rng.choice([0, 1, 7, 30, 1024, 1025, -5, 2**31, 2**63, rng.randint(-(10**6), 10**6)])
    if kind == "boolean":
        return rng.random() < 0.5 if rng.random() < 0.9 else "true"
    if kind == "blob":
        raw = bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 16, 64, 5000])))
        return base64.b64encode(raw).decode() if rng.random() < 0.85 else random_text(rng, 20)
    if kind == "timestamp":
        return rng.choice([0, 1.7e9, 4e9, -1, "2030-01-01T00:00:00Z", "soon", 1e30])
    return None


def _request(rng: random.Random, refs: list[str]) -> tuple[str, str, list[tuple[str, str]], bytes, str]:
    """Method, path, headers, body and a label, for one fuzzed request."""
    roll = rng.random()
    operation = rng.choice(OPERATIONS)
    target: str | None = f"TrentService.{operation}"
    if roll < 0.08:
        target = rng.choice(
            [None, "", "TrentService.", "TrentService.NoSuch", "DynamoDB_20120810.ListTables", random_text(rng, 30)]
        )
    roll = rng.random()
    if roll < 0.6:
        body = json.dumps(_value(rng, MODEL.operation_model(operation).input_shape, operation, refs)).encode()
    elif roll < 0.75:
        body = json.dumps(rng.choice([{}, [], "x", None, {"KeyId": refs[0], "Plaintext": "aGk="}])).encode()
    elif roll < 0.85:
        text = json.dumps(_value(rng, MODEL.operation_model(operation).input_shape, operation, refs))
        cut = rng.randint(0, len(text))
        body = (text[:cut] + rng.choice(['"', "{", "\\u", "\x00", "", "]", "NaN"]) + text[cut + 1 :]).encode(
            "utf-8", "surrogatepass"
        )
    else:
        body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 200)))
    now = dt.datetime.now(dt.UTC)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    authorization = (
        f"AWS4-HMAC-SHA256 Credential=AKIAFUZZ0000/{amz_date[:8]}/us-east-1/kms/aws4_request, "
        f"SignedHeaders=host;x-amz-date;x-amz-target, Signature={'0' * 64}"
    )
    if rng.random() < 0.15:
        authorization = rng.choice(
            [
                random_text(rng, 60),
                authorization.replace("us-east-1", random_text(rng, 6)),
                authorization.replace("Credential=", "Credential="[: rng.randint(0, 11)]),
                authorization.replace("kms", "s3"),
                "AWS4-HMAC-SHA256 " + ", ".join(random_text(rng, 10) for _ in range(3)),
                authorization.replace("host;", "Host;"),
            ]
        )
    headers = [("Host", "127.0.0.1"), ("X-Amz-Date", amz_date if rng.random() < 0.95 else random_text(rng, 16))]
    if rng.random() < 0.97:
        headers.append(("Authorization", authorization))
    if target is not None:
        headers.append(("X-Amz-Target", target))
    headers.append(("Content-Type", rng.choice(["application/x-amz-json-1.1", "application/json", "text/plain", ""])))
    for _ in range(rng.choice([0, 0, 1, 2])):
        headers.append(
            (
                rng.choice(["X-Amz-Target", "X-Amz-Security-Token", "X-Amz-Content-Sha256", "X-Fuzz", "Expect-Nothing"]),
                random_text(rng, 20),
            )
        )
    headers = [
        (name, value.encode("latin-1", "replace").decode("latin-1").replace("\n", " ").replace("\r", " "))
        for name, value in headers
    ]
    method = "POST" if rng.random() < 0.95 else rng.choice(["GET", "PUT", "DELETE", "PATCH"])
    path = "/" if rng.random() < 0.95 else rng.choice(["/x", "//", "/_reset/../", "/?a=b", "/%00"])
    return method, path, headers, body, f"{method} {path} {target}"


def _check(status: int, data: bytes, what: str) -> None:
    assert status < 500, f"{what}: {status} {data[:300]!r}"
    if status == 400 and not data.startswith(b"{"):  # uvicorn's HTTP parser refused bytes that are not HTTP/1.1
        assert b"Traceback" not in data and len(data) < 200, data
        count("fuzz.server_requests_refused_by_http_parser")
        return
    answer = json.loads(data) if data else {}
    if status != 200:
        # "message" is left out exactly where AWS leaves it out (InvalidCiphertextException and a few more)
        assert isinstance(answer.get("__type"), str) and isinstance(answer.get("message", ""), str), (what, answer)
    assert "Traceback" not in data.decode("utf-8", "replace")


@fuzz_settings(400)
@given(rng=seeds)
def test_fuzz_server_request_decoding_never_500s(fuzz_server: Target, rng: random.Random) -> None:
    """A fuzzed request is answered with AWS's JSON shape and a 2xx or 4xx status; the server keeps answering."""
    method, path, headers, body, what = _request(rng, fuzz_server.refs)
    count("fuzz.server_requests")
    status, data = fuzz_server.raw.send(method, path, headers, body)
    _check(status, data, what)


@fuzz_settings(200)
@given(body=any_json, operation=st.sampled_from(OPERATIONS))
def test_fuzz_server_any_json_body(fuzz_server: Target, body: Any, operation: str) -> None:
    """Any JSON value as the body of any operation (signed the way boto3 signs) is answered without a 500."""
    count("fuzz.server_json_bodies")
    status, data = signed_send(fuzz_server.kms, operation, json.dumps(body).encode())
    _check(status, data, operation)


DEEP_POLICY = json.dumps({"Policy": "[" * 2000 + "]" * 2000})  # get-key-policy output wrapping a deeply nested text


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        ("PutKeyPolicy", {"KeyId": "$KEY", "PolicyName": "default", "Policy": DEEP_POLICY}),
        ("CreateKey", {"Policy": DEEP_POLICY}),
        ("CreateKey", {"Tags": "$NESTED"}),
        ("Encrypt", {"KeyId": "$KEY", "Plaintext": "aGk=", "EncryptionContext": {"a": "$NESTED"}}),
        ("CreateKey", {"Description": "\ud800"}),
        ("Encrypt", {"KeyId": "$KEY", "Plaintext": "aGk=", "EncryptionContext": {"a": "\udfff"}}),
        ("DescribeKey", {"KeyId": "alias/\ud800", "GrantTokens": ["\ud800"]}),
        (
            "CreateGrant",
            {"KeyId": "$KEY", "GranteePrincipal": "arn:aws:iam::123456789012:user/\ud800", "Operations": ["Decrypt"]},
        ),
    ],
    ids=[
        "deep-wrapped-policy-put",
        "deep-wrapped-policy-create",
        "deep-tags",
        "deep-context",
        "unpaired-surrogate-description",
        "unpaired-surrogate-context",
        "unpaired-surrogate-alias",
        "unpaired-surrogate-principal",
    ],
)
def test_hostile_bodies_are_client_errors(fuzz_server: Target, operation: str, body: dict[str, Any]) -> None:
    """Bodies found by fuzzing (deep nesting, unpaired UTF-16 surrogates in \\u escapes) get AWS's 4xx answer, not a 500."""
    text = json.dumps(body).replace('"$KEY"', json.dumps(fuzz_server.refs[0])).replace('"$NESTED"', "[" * 900 + "]" * 900)
    text = text.replace("\\\\u", "\\u")  # json.dumps doubled the backslash of the escapes written above
    status, data = signed_send(fuzz_server.kms, operation, text.encode())
    _check(status, data, operation)
    assert status == 400


def test_server_still_answers_after_fuzzing(fuzz_server: Target) -> None:
    """After the fuzz targets, the same server still creates keys and round-trips a plaintext."""
    kms = kms_client(fuzz_server.server.endpoint_url)
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"still here")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"still here"
