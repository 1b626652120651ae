"""The policy language as data: frozen pydantic models with source spans."""

from policyengine.model.policy import (
    CURRENT_VERSION,
    LEGACY_VERSION,
    VALID_VERSIONS,
    Condition,
    ConditionValue,
    DuplicateKey,
    PolicyDocument,
    PrincipalBlock,
    PrincipalEntry,
    Statement,
    StringItem,
)
from policyengine.model.principal import PrincipalRef
from policyengine.model.span import Span

__all__ = [
    "CURRENT_VERSION",
    "LEGACY_VERSION",
    "VALID_VERSIONS",
    "Condition",
    "ConditionValue",
    "DuplicateKey",
    "PolicyDocument",
    "PrincipalBlock",
    "PrincipalEntry",
    "PrincipalRef",
    "Span",
    "Statement",
    "StringItem",
]
