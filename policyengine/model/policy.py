"""Frozen models of an IAM-style policy document (dataclasses that pydantic validates: ``model/_frozen.py``).

The models hold a policy after it has been read: every list element is normalised to a tuple
(``"Action": "kms:Decrypt"`` and ``["kms:Decrypt"]`` give the same model), a single statement
object becomes a one-element tuple, and every node keeps the ``Span`` it came from. The models
never parse text themselves: the parser (``policyengine.parsing``) builds them, so data flows
one way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from policyengine.model._frozen import FrozenModel, frozen_model
from policyengine.model.principal import PrincipalRef
from policyengine.model.span import Span
from policyengine.model.template import TemplatePart

Effect = Literal["Allow", "Deny"]
PrincipalKind = Literal["AWS", "Service", "Federated", "CanonicalUser"]
Qualifier = Literal["ForAllValues", "ForAnyValue"]
JsonType = Literal["string", "number", "boolean", "null", "object", "array"]

CURRENT_VERSION = "2012-10-17"
LEGACY_VERSION = "2008-10-17"
VALID_VERSIONS = (CURRENT_VERSION, LEGACY_VERSION)


@dataclass(frozen=True, slots=True, kw_only=True)
class StringItem:
    """One string of an Action, NotAction, Resource or NotResource list.

    ``template`` holds the parsed policy variables when the string contains ``${``;
    ``template_error`` says why such a string could not be read (it is then taken literally).
    Leaf values are plain slotted dataclasses (a policy has hundreds, the parser makes them by their
    constructor, which does not validate); the structure above them validates when built by hand.
    """

    value: str
    span: Span | None = None
    template: tuple[TemplatePart, ...] | None = None
    template_error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PrincipalEntry:
    """One value under ``AWS``, ``Service``, ``Federated`` or ``CanonicalUser``."""

    kind: PrincipalKind
    value: str
    ref: PrincipalRef
    span: Span | None = None


@frozen_model
class PrincipalBlock(FrozenModel):
    """A ``Principal`` or ``NotPrincipal`` element.

    ``wildcard`` is the bare-string form ``"*"`` (everyone, including anonymous callers);
    ``{"AWS": "*"}`` is an entry whose ref kind is ``any`` instead.
    """

    wildcard: bool = False
    entries: tuple[PrincipalEntry, ...] = ()
    span: Span | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionValue:
    """One value of a condition key, as its string form; ``json_type`` says how it was written."""

    value: str
    json_type: JsonType = "string"
    span: Span | None = None
    template: tuple[TemplatePart, ...] | None = None
    template_error: str | None = None


@frozen_model
class Condition(FrozenModel):
    """One ``operator -> key -> values`` test of a statement's Condition block.

    The operator is split into its set qualifier, base operator and ``IfExists`` suffix by the
    condition-operator grammar; ``base`` is kept as written even when no such operator exists,
    so the linter can report it and the evaluator can treat it as never matching.
    """

    operator: str
    qualifier: Qualifier | None = None
    base: str
    if_exists: bool = False
    key: str
    values: tuple[ConditionValue, ...]
    operator_span: Span | None = None
    span: Span | None = None


@frozen_model
class Statement(FrozenModel):
    """One statement. Exactly one of each ``X``/``NotX`` pair may be set (the reader checks)."""

    index: int
    sid: str | None = None
    effect: Effect
    principal: PrincipalBlock | None = None
    not_principal: PrincipalBlock | None = None
    action: tuple[StringItem, ...] | None = None
    not_action: tuple[StringItem, ...] | None = None
    resource: tuple[StringItem, ...] | None = None
    not_resource: tuple[StringItem, ...] | None = None
    conditions: tuple[Condition, ...] = ()
    span: Span | None = None
    effect_span: Span | None = None
    sid_span: Span | None = None

    @property
    def label(self) -> str:
        """``Sid`` when there is one (an empty ``Sid`` is none), else ``#<index>``: how explanations name the statement."""
        return self.sid if self.sid else f"#{self.index}"


@frozen_model
class DuplicateKey(FrozenModel):
    """An object key that appears more than once; the last occurrence is the one used."""

    pointer: str
    key: str
    spans: tuple[Span | None, ...]


@frozen_model
class PolicyDocument(FrozenModel):
    """A whole policy: Version, Id and the normalised statements."""

    version: str | None = None
    id: str | None = None
    statements: tuple[Statement, ...]
    source: str = "<policy>"
    span: Span | None = None
    version_span: Span | None = None
    duplicate_keys: tuple[DuplicateKey, ...] = ()
    size: int = 0

    @property
    def substitutes_variables(self) -> bool:
        """Policy variables are substituted only under Version 2012-10-17 (IAM UG policy variables)."""
        return self.version == CURRENT_VERSION
