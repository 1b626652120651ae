"""Verifying AWS Signature Version 4 on incoming requests, with botocore's own signer.

Why botocore's signer rather than our own canonicalisation: the requests we verify were signed
by botocore (boto3, the AWS CLI, the Encryption SDK), so recomputing the signature with the same
code removes a whole class of "our canonical form differs from theirs" bugs. We rebuild an
``AWSRequest`` from exactly what arrived — method, raw path, raw query, the headers the client
says it signed and nothing else, and the body — set the signing time to the request's own
``X-Amz-Date``, ask ``SigV4Auth`` for the signature and compare in constant time.

Two places where botocore's signer trusts its caller and a verifier must not:

* ``X-Amz-Content-SHA256``: when that header is present botocore uses its value instead of
  hashing the body, so a verifier that passed it through would accept any body. Here a signed
  hash must equal the body's hash, and an unsigned one is ignored.
* Headers botocore never signs (``user-agent``, ``expect``...): the verifier signs exactly the
  header names the client listed, whatever they are.

Requests older or newer than the clock-skew limit (AWS: 15 minutes) are refused as expired,
which is what stops an intercepted request from being replayed later.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from policyengine.server.errors import SIGNATURE_MISMATCH, incomplete_signature, invalid_signature

__all__ = [
    "MAX_SKEW",
    "Authorization",
    "check_clock_skew",
    "check_scope",
    "parse_authorization",
    "request_time",
    "verify_signature",
]

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "kms"
#: How far a request's X-Amz-Date may be from the server's clock, either way (AWS: 15 minutes).
MAX_SKEW = timedelta(minutes=15)
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_AMZ_DATE_SHAPE = re.compile(r"^\d{8}T\d{6}Z$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_HEADER_NAME = re.compile(r"^[a-z0-9!#$%&'*+.^_`|~-]+$")
_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class Authorization:
    """The parts of an ``AWS4-HMAC-SHA256`` Authorization header."""

    access_key: str
    scope_date: str
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> Authorization:
    """Split the Authorization header; IncompleteSignatureException when a part is missing."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise incomplete_signature(f"Unsupported AWS 'algorithm': '{algorithm}'; use {ALGORITHM}")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, item = part.strip().partition("=")
        if sep:
            fields[name.strip()] = item.strip()
    missing = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not fields.get(name)
    ]
    if missing:
        raise incomplete_signature(" ".join(missing))
    scope = fields["Credential"].split("/")
    if len(scope) != 5 or not scope[0]:
        raise incomplete_signature(
            "Authorization header requires the 'Credential' parameter in the form ACCESS_KEY/YYYYMMDD/REGION/kms/aws4_request."
        )
    signed = tuple(fields["SignedHeaders"].split(";"))
    if not all(_HEADER_NAME.match(name) for name in signed) or list(signed) != sorted(set(signed)):
        raise incomplete_signature("'SignedHeaders' must list lowercase header names, sorted, separated by ';'.")
    if "host" not in signed:
        raise incomplete_signature("'Host' must be a 'SignedHeader' in the AWS Authorization.")
    access_key, scope_date, region, service, terminator = scope
    return Authorization(access_key, scope_date, region, service, terminator, signed, fields["Signature"])


def request_time(amz_date: str | None) -> datetime:
    """The request's ``X-Amz-Date`` as an aware datetime; IncompleteSignatureException if absent or bad."""
    if not amz_date:
        raise incomplete_signature("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if not _AMZ_DATE_SHAPE.match(amz_date):
        raise incomplete_signature(f"X-Amz-Date must be in the ISO-8601 basic format YYYYMMDD'T'HHMMSS'Z', not '{amz_date}'.")
    try:  # by hand: strptime costs a noticeable share of a request
        d = amz_date
        return datetime(int(d[0:4]), int(d[4:6]), int(d[6:8]), int(d[9:11]), int(d[11:13]), int(d[13:15]), tzinfo=UTC)
    except ValueError:
        raise incomplete_signature(f"X-Amz-Date '{amz_date}' is not a valid date.") from None


def check_clock_skew(signed_at: datetime, now: datetime) -> None:
    """InvalidSignatureException (AWS's "Signature expired" wording) outside the skew limit."""
    minutes = int(MAX_SKEW.total_seconds() // 60)
    if signed_at < now - MAX_SKEW:
        raise invalid_signature(
            f"Signature expired: {_fmt(signed_at)} is now earlier than {_fmt(now - MAX_SKEW)} ({_fmt(now)} - {minutes} min.)"
        )
    if signed_at > now + MAX_SKEW:
        raise invalid_signature(
            f"Signature not yet current: {_fmt(signed_at)} is still later than {_fmt(now + MAX_SKEW)} "
            f"({_fmt(now)} + {minutes} min.)"
        )


def check_scope(auth: Authorization, amz_date: str) -> None:
    """The credential scope must name this service, a region, the request's date and aws4_request."""
    if auth.terminator != "aws4_request":
        raise invalid_signature(f"Credential should be scoped with a valid terminator: 'aws4_request', not '{auth.terminator}'.")
    if auth.service != SERVICE:
        raise invalid_signature(f"Credential should be scoped to correct service: '{SERVICE}'.")
    if not _REGION.match(auth.region):
        raise invalid_signature("Credential should be scoped to a valid region.")
    if auth.scope_date != amz_date[:8]:
        raise invalid_signature(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{auth.scope_date}' != '{amz_date[:8]}', from 'X-Amz-Date'."
        )


def verify_signature(
    auth: Authorization,
    secret_key: str,
    *,
    method: str,
    raw_path: bytes,
    query: bytes,
    headers: Iterable[tuple[bytes, bytes]],
    body: bytes,
    amz_date: str,
    session_token: str | None = None,
) -> None:
    """Recompute the signature of what arrived and compare it with the one given; raise if they differ."""
    signed: dict[str, list[str]] = {name: [] for name in auth.signed_headers}
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        if name in signed:
            signed[name].append(raw_value.decode("latin-1"))
    if any(not values for values in signed.values()):
        raise invalid_signature(SIGNATURE_MISMATCH)  # a header was signed but did not arrive
    content_hash = signed.get("x-amz-content-sha256")
    if content_hash is not None and content_hash != [hashlib.sha256(body).hexdigest()]:
        raise invalid_signature("The provided 'x-amz-content-sha256' header does not match what was computed.")
    if not _SIGNATURE.match(auth.signature):
        raise invalid_signature(SIGNATURE_MISMATCH)
    request = AWSRequest(method=method, url=_url(signed["host"][0], raw_path, query), data=body)
    request.headers = HTTPHeaders()
    for name in auth.signed_headers:
        for value in signed[name]:
            request.headers[name] = value
    request.context["timestamp"] = amz_date
    signer = _ExactSigner(Credentials(auth.access_key, secret_key, session_token), SERVICE, auth.region)
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    if not hmac.compare_digest(expected.encode("ascii"), auth.signature.encode("ascii")):
        raise invalid_signature(SIGNATURE_MISMATCH)


class _ExactSigner(SigV4Auth):  # type: ignore[misc]
    """``SigV4Auth`` that signs exactly the headers present (the ones the client listed).

    Canonical request and string to sign are botocore's own; the header selection, the body hash
    (a plain SHA-256 of the bytes that arrived) and the signature (botocore's derivation, with the
    signing key kept per day) are ours.
    """

    def headers_to_sign(self, request: Any) -> Any:
        return request.headers  # rebuilt by verify_signature from exactly the signed headers, names lowercased

    def payload(self, request: Any) -> str:
        # What botocore computes for a bytes body over http, without building a prepared request first.
        return hashlib.sha256(request.data or b"").hexdigest()

    def signature(self, string_to_sign: str, request: Any) -> str:
        # botocore's derivation (four HMACs from the secret, date, region and service), kept per day as
        # SigV4 intends (the signing key changes only with those): every request of a client reuses it.
        key = _signing_key(self.credentials.secret_key, request.context["timestamp"][0:8], self._region_name, self._service_name)
        return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


@functools.lru_cache(maxsize=1024)
def _signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret_key}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def _url(host: str, raw_path: bytes, query: bytes) -> str:
    path = raw_path.decode("latin-1") or "/"
    url = f"http://{host}{path}"
    return f"{url}?{query.decode('latin-1')}" if query else url


def _fmt(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_AMZ_DATE)
