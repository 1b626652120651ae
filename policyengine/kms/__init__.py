"""The local KMS: AWS's KMS API with real cryptography, every call gated by the evaluator.

Names are imported on first use (``policyengine._lazy``): a command that needs only the audit
records or the data directory does not load the facade, the key store and the cryptography.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from policyengine._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "Caller": "policyengine.kms.caller",
    "caller_with_policies": "policyengine.kms.caller",
    "root_caller": "policyengine.kms.caller",
    "Clock": "policyengine.kms.clock",
    "ManualClock": "policyengine.kms.clock",
    "OffsetClock": "policyengine.kms.clock",
    "SystemClock": "policyengine.kms.clock",
    "request_scope": "policyengine.kms.core",
    "AccessDeniedException": "policyengine.kms.errors",
    "KMSError": "policyengine.kms.errors",
    "OPERATIONS": "policyengine.kms.facade",
    "LocalKms": "policyengine.kms.facade",
    "default_data_dir": "policyengine.kms.datadir",
    "open_local_kms": "policyengine.kms.facade",
    "open_postgres_store": "policyengine.kms.facade",
    "snake_case": "policyengine.kms.facade",
    "upgrade_postgres_store": "policyengine.kms.facade",
    "AuditRecord": "policyengine.store.records",
    "SqliteKeyStore": "policyengine.store.sqlite",
}

__all__ = [
    "OPERATIONS",
    "AccessDeniedException",
    "AuditRecord",
    "Caller",
    "Clock",
    "KMSError",
    "LocalKms",
    "ManualClock",
    "OffsetClock",
    "SqliteKeyStore",
    "SystemClock",
    "caller_with_policies",
    "default_data_dir",
    "open_local_kms",
    "open_postgres_store",
    "request_scope",
    "root_caller",
    "snake_case",
    "upgrade_postgres_store",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from policyengine.kms.caller import Caller, caller_with_policies, root_caller
    from policyengine.kms.clock import Clock, ManualClock, OffsetClock, SystemClock
    from policyengine.kms.core import request_scope
    from policyengine.kms.datadir import default_data_dir
    from policyengine.kms.errors import AccessDeniedException, KMSError
    from policyengine.kms.facade import (
        OPERATIONS,
        LocalKms,
        open_local_kms,
        open_postgres_store,
        snake_case,
        upgrade_postgres_store,
    )
    from policyengine.store.records import AuditRecord
    from policyengine.store.sqlite import SqliteKeyStore
