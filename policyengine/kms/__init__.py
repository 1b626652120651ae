"""The local KMS: AWS's KMS API with real cryptography, every call gated by the evaluator."""

from policyengine.kms.caller import Caller, caller_with_policies, root_caller
from policyengine.kms.clock import Clock, ManualClock, SystemClock
from policyengine.kms.errors import KMSError
from policyengine.kms.facade import OPERATIONS, LocalKms, open_local_kms, snake_case

__all__ = [
    "OPERATIONS",
    "Caller",
    "Clock",
    "KMSError",
    "LocalKms",
    "ManualClock",
    "SystemClock",
    "caller_with_policies",
    "open_local_kms",
    "root_caller",
    "snake_case",
]
