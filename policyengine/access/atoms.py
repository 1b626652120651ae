"""The atoms of a residual: tests that the snapshot cannot decide, with their text and JSON.

Four kinds: a policy condition on a context key the request has not fixed
(``kms:ViaService = s3.us-east-1.amazonaws.com``), a grant's encryption-context constraint,
a Resource pattern whose policy variable reads such a key, and a fact outside the snapshot
(the IAM policies of an account it does not hold). The first three are decided by any
concrete request, with the evaluator's own code, which is what lets the property test check a
residual against ``authorize``; the last one is not, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from policyengine.evaluator.compiled import CompiledStatement
from policyengine.evaluator.conditions import CompiledCondition
from policyengine.evaluator.grants import constraints_hold
from policyengine.explain.describe import describe_condition
from policyengine.model.grant import Grant
from policyengine.model.request import Request


@dataclass(frozen=True, slots=True)
class ConditionAtom:
    """A policy condition whose key the request leaves open; equal conditions are one atom."""

    operator: str
    key: str
    values: tuple[str, ...]
    dynamic: bool
    compiled: CompiledCondition = field(compare=False, hash=False, repr=False)

    @classmethod
    def of(cls, cc: CompiledCondition) -> ConditionAtom:
        return cls(cc.source.operator, cc.key, tuple(v.value for v in cc.source.values), cc.has_dynamic, cc)

    def text(self) -> str:
        source = self.compiled.source
        return describe_condition(source.operator, source.base, source.qualifier, source.if_exists, source.key, self.values)

    def negated_text(self) -> str:
        source = self.compiled.source
        return describe_condition(
            source.operator, source.base, source.qualifier, source.if_exists, source.key, self.values, negated=True
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "condition",
            "operator": self.operator,
            "key": self.compiled.source.key,
            "values": list(self.values),
            "text": self.text(),
        }

    def holds(self, request: Request) -> bool:
        return self.compiled.holds(request.context)


@dataclass(frozen=True, slots=True)
class GrantAtom:
    """A grant's encryption-context constraint, open while the request's context is."""

    grant_id: str
    operation: str = field(compare=False, hash=False)  # only whether it carries an encryption context matters
    grant: Grant = field(compare=False, hash=False, repr=False)

    def text(self) -> str:
        constraints = self.grant.constraints
        assert constraints is not None
        if constraints.encryption_context_equals is not None:
            pairs = ", ".join(f"{k}={v}" for k, v in sorted(constraints.encryption_context_equals.items()))
            return f"encryption context is exactly {{{pairs}}} (grant {self.grant_id})"
        wanted = sorted((constraints.encryption_context_subset or {}).items())
        tests = " and ".join(f"kms:EncryptionContext:{k} = {v}" for k, v in wanted)
        return f"{tests} (grant {self.grant_id})"

    def negated_text(self) -> str:
        constraints = self.grant.constraints
        assert constraints is not None
        if constraints.encryption_context_equals is not None:
            pairs = ", ".join(f"{k}={v}" for k, v in sorted(constraints.encryption_context_equals.items()))
            return f"encryption context is not exactly {{{pairs}}} (grant {self.grant_id})"
        wanted = sorted((constraints.encryption_context_subset or {}).items())
        tests = " or ".join(f"kms:EncryptionContext:{k} is absent or not {v}" for k, v in wanted)
        return f"{tests} (grant {self.grant_id})"

    def to_json(self) -> dict[str, Any]:
        constraints = self.grant.constraints
        assert constraints is not None
        return {
            "type": "grant_constraint",
            "grant_id": self.grant_id,
            "encryption_context_equals": constraints.encryption_context_equals,
            "encryption_context_subset": constraints.encryption_context_subset,
            "text": self.text(),
        }

    def holds(self, request: Request) -> bool:
        return constraints_hold(self.grant, self.operation, request.encryption_context)


@dataclass(frozen=True, slots=True)
class ResourceAtom:
    """A Resource pattern holding a policy variable that reads an open context key."""

    label: str
    patterns: tuple[str, ...]
    resource: str
    statement: CompiledStatement = field(compare=False, hash=False, repr=False)

    def text(self) -> str:
        return f"`{self.resource}` fits {' | '.join(self.patterns)} ({self.label})"

    def negated_text(self) -> str:
        return f"`{self.resource}` fits none of {' | '.join(self.patterns)} ({self.label})"

    def to_json(self) -> dict[str, Any]:
        return {"type": "resource", "statement": self.label, "patterns": list(self.patterns), "text": self.text()}

    def holds(self, request: Request) -> bool:
        return self.statement.resource_holds(request.resource, request.context)


@dataclass(frozen=True, slots=True)
class OutsideAtom:
    """A fact the snapshot does not hold, e.g. the IAM policies of an account outside it."""

    description: str

    def text(self) -> str:
        return self.description

    def negated_text(self) -> str:
        return f"not so: {self.description}"

    def to_json(self) -> dict[str, Any]:
        return {"type": "outside_snapshot", "text": self.description}

    def holds(self, request: Request) -> bool:
        raise LookupError(f"cannot be decided from the snapshot: {self.description}")


def atom_holds(atom: object, request: Request) -> bool:
    """Decide an atom against a concrete request (the property test's oracle)."""
    if isinstance(atom, ConditionAtom | GrantAtom | ResourceAtom | OutsideAtom):
        return atom.holds(request)
    raise TypeError(f"not an atom: {atom!r}")
