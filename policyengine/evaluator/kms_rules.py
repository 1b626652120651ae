"""KMS predicates the authorizer needs; the facts they read live in ``policyengine.aws_facts``."""

from __future__ import annotations

from functools import lru_cache

from policyengine.aws_facts import CROSS_ACCOUNT_OPERATIONS, canonical_operation
from policyengine.model.request import Request


def is_key_request(request: Request) -> bool:
    """True for a KMS action on a key ARN: the key policy then governs (KMS DG key policies)."""
    return request.service == "kms" and is_key_arn(request.resource)


@lru_cache(maxsize=4096)
def is_key_arn(resource: str) -> bool:
    """``arn:<partition>:kms:<region>:<account>:key/<id>``."""
    if not resource.startswith("arn:"):
        return False
    parts = resource.split(":", 5)
    return len(parts) == 6 and parts[2] == "kms" and parts[5].startswith("key/")


def allowed_cross_account(request: Request) -> bool:
    """Whether the requested KMS operation may be called on a key in another account."""
    return request.action_lower.partition(":")[2] in CROSS_ACCOUNT_OPERATIONS


def grant_operation(request: Request) -> str:
    """The grant operation name for a KMS action, in AWS's spelling (``kms:decrypt`` -> ``Decrypt``)."""
    return canonical_operation(request.action)
