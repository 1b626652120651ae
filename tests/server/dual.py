"""One test body, two ways in: boto3 against the server, and ``LocalKms`` called directly.

``LocalClient`` looks like a boto3 KMS client (``client.encrypt(KeyId=..., Plaintext=...)``) but
calls a ``LocalKms`` as the admin user of the server tests, and raises botocore's ``ClientError``
with the body AWS would have sent (no ``message`` where AWS sends none), so a test written against
boto3 asserts the same things of both.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import ClientError

from policyengine.kms import Caller, KMSError, LocalKms, caller_with_policies
from policyengine.parsing.document import parse_policy
from policyengine.store.memory import MemoryKeyStore
from tests.server.conftest import ACCOUNT, ALLOW_ALL_KMS, REGION


class LocalClient:
    """A boto3-shaped view of a ``LocalKms`` (region views for ``region_name``)."""

    def __init__(self, kms: LocalKms, caller: Caller, region: str = REGION) -> None:
        self._kms = kms.for_region(region) if region != kms.region else kms
        self._root = kms
        self._caller = caller

    def in_region(self, region: str) -> LocalClient:
        return LocalClient(self._root, self._caller, region)

    def __getattr__(self, name: str) -> Callable[..., dict[str, Any]]:
        method = getattr(self._kms, name)

        def call(**params: Any) -> dict[str, Any]:
            try:
                return dict(method(self._caller, **params))
            except KMSError as error:
                body: dict[str, Any] = {"Error": {"Code": error.code, "Message": error.message}}
                if error.message:
                    body["message"] = error.message
                body["ResponseMetadata"] = {"HTTPStatusCode": error.status}
                raise ClientError(body, name) from error  # type: ignore[arg-type]

        return call


def local_admin() -> LocalClient:
    """A fresh in-memory LocalKms and the same admin identity the server tests sign as."""
    caller = caller_with_policies(f"arn:aws:iam::{ACCOUNT}:user/admin", ACCOUNT, [parse_policy(json.dumps(ALLOW_ALL_KMS))])
    return LocalClient(LocalKms(MemoryKeyStore(), os.urandom(32)), caller)


def regional(client: Any, region: str) -> Any:
    """The same caller's client for ``region`` (another boto3 client on the same server, or a region view)."""
    if isinstance(client, LocalClient):
        return client.in_region(region)
    credentials = client._request_signer._credentials
    return boto3.client(
        "kms",
        region_name=region,
        endpoint_url=client.meta.endpoint_url,
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        aws_session_token=credentials.token,
        config=client.meta.config,
    )
