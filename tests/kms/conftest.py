"""Fixtures for the local KMS: a fresh KMS on a memory (or SQLite) store with a manual clock, and callers."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import policyengine as pe
from policyengine.kms import Caller, LocalKms, ManualClock, root_caller
from policyengine.store.memory import MemoryKeyStore
from policyengine.store.sqlite import SqliteKeyStore

ACCOUNT = "111122223333"
OTHER = "444455556666"


def identity_policy(*statements: dict[str, Any]) -> pe.PolicyDocument:
    return pe.parse_policy(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def allow(actions: str | list[str], resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource, **extra}


@pytest.fixture(params=["memory", "sqlite"])
def kms(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalKms]:
    """A local KMS on each store, with a clock that only moves when a test moves it."""
    store = MemoryKeyStore() if request.param == "memory" else SqliteKeyStore(tmp_path / "kms.sqlite3")
    service = LocalKms(store, os.urandom(32), clock=ManualClock())
    yield service
    store.close()


@pytest.fixture
def clock(kms: LocalKms) -> ManualClock:
    assert isinstance(kms.clock, ManualClock)
    return kms.clock


@pytest.fixture
def root() -> Caller:
    return root_caller(ACCOUNT)


@pytest.fixture
def alice() -> Caller:
    """An IAM user whose identity policy allows every KMS action (the key policy decides)."""
    return Caller(f"arn:aws:iam::{ACCOUNT}:user/alice", ACCOUNT, identity_policies=(identity_policy(allow("kms:*")),))


@pytest.fixture
def bob() -> Caller:
    """An IAM user with no identity policy at all."""
    return Caller(f"arn:aws:iam::{ACCOUNT}:user/bob", ACCOUNT)


@pytest.fixture
def key_id(kms: LocalKms, root: Caller) -> str:
    return str(kms.create_key(root, Description="test key")["KeyMetadata"]["KeyId"])
