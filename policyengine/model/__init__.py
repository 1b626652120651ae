"""The policy language as data: frozen models with source spans, validated by pydantic at the edges.

The classes are dataclasses with pydantic's model API (``policyengine.model._frozen``); pydantic is
imported when something validates, dumps or asks for a JSON Schema, never to read a policy. Names are
imported on first use (see ``policyengine._lazy``): ``policyengine.errors`` needs only ``Span``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from policyengine._lazy import lazy_exports

_POLICY = "policyengine.model.policy"
_EXPORTS: dict[str, str] = {
    "CURRENT_VERSION": _POLICY,
    "LEGACY_VERSION": _POLICY,
    "VALID_VERSIONS": _POLICY,
    "Condition": _POLICY,
    "ConditionValue": _POLICY,
    "DuplicateKey": _POLICY,
    "PolicyDocument": _POLICY,
    "PrincipalBlock": _POLICY,
    "PrincipalEntry": _POLICY,
    "Statement": _POLICY,
    "StringItem": _POLICY,
    "PrincipalRef": "policyengine.model.principal",
    "Span": "policyengine.model.span",
    # The base of the model's classes, for other packages' frozen classes (the access snapshot's).
    "FrozenModel": "policyengine.model._frozen",
    "frozen_model": "policyengine.model._frozen",
    "exact_instance": "policyengine.model._exact",
}

__all__ = [
    "CURRENT_VERSION",
    "LEGACY_VERSION",
    "VALID_VERSIONS",
    "Condition",
    "ConditionValue",
    "DuplicateKey",
    "FrozenModel",
    "PolicyDocument",
    "PrincipalBlock",
    "PrincipalEntry",
    "PrincipalRef",
    "Span",
    "Statement",
    "StringItem",
    "exact_instance",
    "frozen_model",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from policyengine.model._exact import exact_instance
    from policyengine.model._frozen import FrozenModel, frozen_model
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
