"""Where the local KMS keeps its state: the ``KeyStore`` protocol, its records and two stores.

The facade is handed a ``KeyStore`` the way an HTTP client is handed a transport, so every
operation can be tested against ``MemoryKeyStore`` and run for real against ``SqliteKeyStore``
with the same semantics. ``load_or_create_master_key`` supplies the key the facade seals key
material with before it reaches either store; the stores never see plaintext material.
"""

from __future__ import annotations

from policyengine.errors import PolicyEngineError


class StoreError(PolicyEngineError):
    """A store or master key file cannot be used (missing, locked, foreign, corrupt or misused)."""


class StoreConflict(StoreError):
    """A transaction lost a race with another one (a deadlock PostgreSQL broke) and was rolled back.

    Nothing of it was kept, so running the whole operation again is safe; the facade does.
    """


# The stores raise StoreError, so it must exist before they are imported.
from policyengine.store.base import KeyStore, StoreTransaction  # noqa: E402
from policyengine.store.masterkey import load_or_create_master_key  # noqa: E402
from policyengine.store.memory import MemoryKeyStore  # noqa: E402
from policyengine.store.records import (  # noqa: E402
    AliasRecord,
    AuditRecord,
    GrantRecord,
    ImportParameters,
    KeyRecord,
    MaterialRecord,
)
from policyengine.store.sqlite import SqliteKeyStore  # noqa: E402

__all__ = [
    "AliasRecord",
    "AuditRecord",
    "GrantRecord",
    "ImportParameters",
    "KeyRecord",
    "KeyStore",
    "MaterialRecord",
    "MemoryKeyStore",
    "SqliteKeyStore",
    "StoreConflict",
    "StoreError",
    "StoreTransaction",
    "load_or_create_master_key",
]
