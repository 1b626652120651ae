"""``principal-can``: everything one principal can do to KMS keys, as one consolidated, minimal IAM policy.

The answers are the access matrix's for that principal (key policies, IAM policies, boundaries,
SCPs, RCPs, grants and the roles it can assume, all counted); the policy only restates them:

* keys with the same allowed actions share a statement, and so do keys whose actions hang on
  the same condition;
* an action list becomes ``kms:*`` when it is every action that applies to the keys, and a run
  of actions becomes ``kms:Prefix*`` when the prefix names no action it does not hold;
* a residual condition becomes a ``Condition`` block when it is a conjunction of policy
  conditions (a negated one takes the negated operator: ``NOT StringEquals`` is
  ``StringNotEquals``, ``NOT Bool x = false`` is ``BoolIfExists x = true``), a disjunction
  becomes one statement per alternative, and a grant's encryption-context constraint becomes
  ``kms:EncryptionContext:`` conditions. What cannot be written as IAM conditions (an unknown
  outside policy, a resource pattern) is listed beside the policy instead of being guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from policyengine.access.actions import GROUPS, actions_for
from policyengine.access.atoms import ConditionAtom, GrantAtom
from policyengine.access.formula import And, Const, Formula, Lit, Not, Or, to_text
from policyengine.access.matrix import access_matrix
from policyengine.access.queries import Access
from policyengine.access.subjects import Subject
from policyengine.access.world import KeyInfo

#: Operators whose negation is another operator with the same treatment of an absent key.
_NEGATED = {
    "StringEquals": "StringNotEquals",
    "StringNotEquals": "StringEquals",
    "StringEqualsIgnoreCase": "StringNotEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringLike": "StringNotLike",
    "StringNotLike": "StringLike",
    "ArnEquals": "ArnNotEquals",
    "ArnNotEquals": "ArnEquals",
    "ArnLike": "ArnNotLike",
    "ArnNotLike": "ArnLike",
}
_BOOL_FLIP = {"true": "false", "false": "true"}


class _Unexpressible(Exception):
    """A residual that IAM condition operators cannot state exactly."""


@dataclass
class Consolidated:
    """The principal's policy, and what could not be written into it."""

    subject: Subject
    statements: list[dict[str, Any]] = field(default_factory=list)
    not_expressible: list[dict[str, Any]] = field(default_factory=list)

    def policy(self) -> dict[str, Any]:
        return {"Version": "2012-10-17", "Statement": self.statements}

    def to_json(self) -> dict[str, Any]:
        return {
            "principal": self.subject.label,
            "principal_arn": self.subject.arn,
            "policy": self.policy(),
            "not_expressible": self.not_expressible,
        }


def principal_policy(access: Access, principal: str) -> Consolidated:
    """Everything ``principal`` can do to the snapshot's keys, directly or through roles, as one policy."""
    subject = access.subject(principal)
    keys = sorted(access.world.keys.values(), key=lambda k: k.arn)
    matrix = access_matrix(access, subjects=[subject], keys=keys)
    allowed: dict[str, set[str]] = {}
    conditional: dict[str, dict[str, set[str]]] = {}  # condition block (JSON text) -> key -> actions
    blocks: dict[str, dict[str, Any]] = {}
    result = Consolidated(subject)
    for key in keys:
        for group in GROUPS:
            cell = matrix.cell(subject, key, group)
            allowed.setdefault(key.arn, set()).update(cell.allowed)
            for answer in cell.conditional:
                try:
                    alternatives = _alternatives(answer.result.residual)
                except _Unexpressible:
                    result.not_expressible.append(
                        {"key": key.arn, "action": answer.action, "condition": to_text(answer.result.residual)}
                    )
                    continue
                for block in alternatives:
                    text = repr(sorted((op, sorted(keys_.items())) for op, keys_ in block.items()))
                    blocks[text] = block
                    conditional.setdefault(text, {}).setdefault(key.arn, set()).add(answer.action)
    by_arn = {k.arn: k for k in keys}
    result.statements.extend(_statements(allowed, by_arn, None))
    for text in sorted(conditional):
        result.statements.extend(_statements(conditional[text], by_arn, blocks[text]))
    for i, statement in enumerate(result.statements, 1):
        statement["Sid"] = f"Access{i}"
    return result


def _statements(per_key: dict[str, set[str]], keys: dict[str, KeyInfo], condition: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Keys with equal action sets in one statement, with the action list made as short as it can be exactly."""
    grouped: dict[frozenset[str], list[str]] = {}
    for arn, actions in per_key.items():
        if actions:
            grouped.setdefault(frozenset(actions), []).append(arn)
    out = []
    for action_set, arns in sorted(grouped.items(), key=lambda item: sorted(item[1])):
        universe: set[str] = set()
        for arn in arns:
            key = keys[arn]
            for group_actions in actions_for(key.usage, key.spec, key.origin, key.multi_region).values():
                universe.update(group_actions)
        listed = compress(set(action_set), universe)
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Action": listed[0] if len(listed) == 1 else listed,
            "Resource": sorted(arns)[0] if len(arns) == 1 else sorted(arns),
        }
        if condition:
            statement["Condition"] = condition
        out.append(statement)
    return out


def compress(actions: set[str], universe: Iterable[str]) -> list[str]:
    """``actions`` as few entries as exactly: ``kms:*`` for all of ``universe``, ``kms:Prefix*`` for whole runs."""
    every = set(universe) | actions
    if every <= actions:
        return ["kms:*"]
    remaining = set(actions)
    chosen: list[str] = []
    prefixes = sorted({p for a in actions for p in _prefixes(a)}, key=lambda p: (-_covered(p, every), p))
    for prefix in prefixes:
        covered = {a for a in every if a.lower().startswith(prefix.lower())}
        if len(covered) >= 2 and covered <= actions and covered & remaining and covered <= remaining:
            chosen.append(f"{prefix}*")
            remaining -= covered
    return sorted(chosen + sorted(remaining))


def _covered(prefix: str, every: set[str]) -> int:
    return sum(1 for a in every if a.lower().startswith(prefix.lower()))


def _prefixes(action: str) -> list[str]:
    """``kms:GenerateDataKeyPair`` -> ``kms:Generate``, ``kms:GenerateData``, ``kms:GenerateDataKey``, ... (word boundaries)."""
    service, _, name = action.partition(":")
    cuts = [i for i in range(1, len(name)) if name[i].isupper()]
    return [f"{service}:{name[:i]}" for i in cuts]


def _alternatives(formula: Formula) -> list[dict[str, Any]]:
    """The residual as IAM condition blocks, one per alternative (their OR); ``_Unexpressible`` when it cannot be."""
    if isinstance(formula, Or):
        return [block for item in sorted(formula.items, key=to_text) for block in _alternatives(item)]
    parts = sorted(formula.items, key=to_text) if isinstance(formula, And) else [formula]
    block: dict[str, dict[str, Any]] = {}
    for part in parts:
        for operator, key, values in _tests(part):
            entry = block.setdefault(operator, {})
            if key in entry:
                raise _Unexpressible  # two tests of one key under one operator cannot share a block
            entry[key] = values[0] if len(values) == 1 else list(values)
    return [block]


def _tests(part: Formula) -> list[tuple[str, str, tuple[str, ...]]]:
    if isinstance(part, Const) and part.value:
        return []
    if isinstance(part, Lit) and isinstance(part.atom, ConditionAtom):
        return [(part.atom.compiled.source.operator, part.atom.compiled.source.key, part.atom.values)]
    if isinstance(part, Lit) and isinstance(part.atom, GrantAtom):
        constraints = part.atom.grant.constraints
        assert constraints is not None
        pairs = constraints.encryption_context_equals or constraints.encryption_context_subset or {}
        tests: list[tuple[str, str, tuple[str, ...]]] = [
            ("StringEquals", f"kms:EncryptionContext:{k}", (v,)) for k, v in sorted(pairs.items())
        ]
        if constraints.encryption_context_equals is not None:
            tests.append(("ForAllValues:StringEquals", "kms:EncryptionContextKeys", tuple(sorted(pairs))))
        return tests
    if isinstance(part, Not) and isinstance(part.inner, Lit) and isinstance(part.inner.atom, ConditionAtom):
        source = part.inner.atom.compiled.source
        values = part.inner.atom.values
        if source.qualifier is None and not source.if_exists and source.operator in _NEGATED:
            return [(_NEGATED[source.operator], source.key, values)]
        if source.qualifier is None and source.base == "Bool" and len(values) == 1 and values[0].lower() in _BOOL_FLIP:
            flipped = _BOOL_FLIP[values[0].lower()]
            return [("Bool" if source.if_exists else "BoolIfExists", source.key, (flipped,))]
    raise _Unexpressible
