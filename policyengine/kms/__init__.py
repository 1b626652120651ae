"""The local KMS: AWS's KMS API with real cryptography, every call gated by the evaluator."""

from policyengine.kms.caller import Caller, caller_with_policies, root_caller
from policyengine.kms.clock import Clock, ManualClock, OffsetClock, SystemClock
from policyengine.kms.core import request_scope
from policyengine.kms.errors import AccessDeniedException, KMSError
from policyengine.kms.facade import (
    OPERATIONS,
    LocalKms,
    default_data_dir,
    open_local_kms,
    open_postgres_store,
    snake_case,
    upgrade_postgres_store,
)
from policyengine.store.records import AuditRecord
from policyengine.store.sqlite import SqliteKeyStore

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
