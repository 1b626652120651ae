"""Key material at rest: sealed under the master key and bound to its key id and version.

A copied database is worthless without ``master.key``, and sealed material moved from one key's
row to another's (or to another version) does not open: the seal's additional data names the key
id and version it belongs to.
"""

from __future__ import annotations

import dataclasses
import os

import pytest

from policyengine.kms import LocalKms, _crypto, root_caller
from policyengine.store import MemoryKeyStore
from tests.security.conftest import OWNER


@pytest.fixture
def kms() -> LocalKms:
    return LocalKms(MemoryKeyStore(), os.urandom(32))


def test_material_is_sealed_and_bound_to_its_key(kms: LocalKms) -> None:
    root = root_caller(OWNER)
    first = kms.create_key(root)["KeyMetadata"]["KeyId"]
    second = kms.create_key(root)["KeyMetadata"]["KeyId"]
    with kms.store.transaction(write=False) as tx:
        sealed = tx.materials(first)[0]
    opened = kms.open_material(sealed)
    assert len(opened) == 32 and opened not in sealed.sealed_material
    for moved in (dataclasses.replace(sealed, key_id=second), dataclasses.replace(sealed, version=2)):
        with pytest.raises(_crypto.CryptoFailure):
            kms.open_material(moved)
    other_master = LocalKms(kms.store, os.urandom(32))
    with pytest.raises(_crypto.CryptoFailure):
        other_master.open_material(sealed)
