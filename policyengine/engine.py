"""``Authorizer``: a compiled policy set that answers many requests, remembering its answers.

``authorize`` is a pure function of the request and the policies, and a policy set can only
see a few request facts: the caller, the action, the resource, and the context keys its
conditions and policy variables name. ``Authorizer.decide`` keys a bounded memo on exactly
those facts in their canonical form (action names case-folded, context values as the texts
conditions compare: ``True`` and ``1`` differ, ``True`` and ``"true"`` do not), so a repeated
question costs a dictionary lookup, while a new one is decided by ``authorize`` in full.
A context key no policy names cannot change a decision, so leaving it out of the memo key is
exact, not an approximation (the property tests check this).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policyengine.evaluator.authorizer import PolicySet, authorize
from policyengine.evaluator.compiled import CompiledStatement
from policyengine.explain.decision import Decision
from policyengine.model.request import Request
from policyengine.model.template import VariablePart
from policyengine.parsing.request import canonical_value, make_request


def _statement_keys(cs: CompiledStatement, keys: set[str]) -> None:
    """Add the context keys (lowercased) one statement's conditions and variables read."""
    for condition in cs.conditions:
        keys.add(condition.key)
        for value in condition.source.values:
            for part in value.template or ():
                if isinstance(part, VariablePart):
                    keys.add(part.key.lower())
    for item in cs.resource_items:
        for part in item.template or ():
            if isinstance(part, VariablePart):
                keys.add(part.key.lower())


def referenced_keys(policies: PolicySet) -> frozenset[str]:
    """Every context key (lowercased) a condition or a policy variable of ``policies`` reads."""
    keys: set[str] = set()
    for policy in policies.all_policies():
        for cs in policy.statements:
            _statement_keys(cs, keys)
    return frozenset(keys)


class _Question:
    """What one caller's one action can depend on: the context keys of the statements that fit
    them, and the decisions already made, by resource and values of those keys."""

    __slots__ = ("answers", "keys")

    def __init__(self, keys: frozenset[str]) -> None:
        self.keys = keys
        self.answers: dict[tuple[Any, ...], Decision] = {}


class Authorizer:
    """Decides requests against one compiled ``PolicySet``; see the module docstring."""

    __slots__ = ("_memo_size", "_questions", "_size", "policies")

    def __init__(self, policies: PolicySet, *, memo_size: int = 65_536) -> None:
        self.policies = policies
        self._questions: dict[tuple[str, str], _Question] = {}
        self._memo_size = memo_size
        self._size = 0

    def authorize(self, request: Request, *, trace: bool = False) -> Decision:
        """The decision for a built request (no memo)."""
        return authorize(request, self.policies, trace=trace)

    def _question(self, request: Request) -> _Question:
        keys: set[str] = set()
        has_boundary = self.policies.boundary is not None
        for policy in self.policies.all_policies():
            for cs in policy.statements_for(request, has_boundary):
                _statement_keys(cs, keys)
        return _Question(frozenset(keys))

    def decide(
        self,
        principal: str,
        action: str,
        resource: str,
        context: Mapping[str, Any] | None = None,
        *,
        resource_account: str | None = None,
    ) -> Decision:
        """The decision for a plain request, from the memo when these facts were seen before.

        ``resource_account`` is needed only for resources whose ARN has no account (S3 buckets).
        Grants are not consulted with an encryption context here; use ``authorize`` for that.
        """
        question_key = (principal, action.lower())
        question = self._questions.get(question_key)
        request: Request | None = None
        if question is None:
            request = make_request(principal, action, resource, context, resource_account=resource_account)
            question = self._question(request)
            self._remember(question_key, question)
        values: list[tuple[str, Any]] = []
        if context and question.keys:
            keys = question.keys
            for key, value in context.items():
                lowered = key.lower()
                if lowered in keys:
                    values.append((lowered, canonical_value(key, value)))
            if len(values) > 1:
                values.sort()
        answer_key = (resource, resource_account, *values)
        decision = question.answers.get(answer_key)
        if decision is None:
            if request is None:
                request = make_request(principal, action, resource, context, resource_account=resource_account)
            decision = authorize(request, self.policies)
            question.answers[answer_key] = decision
            self._size += 1
            if self._size > self._memo_size:
                self._questions.clear()
                self._size = 0
        return decision

    def _remember(self, key: tuple[str, str], question: _Question) -> None:
        if len(self._questions) >= self._memo_size:
            self._questions.clear()
            self._size = 0
        self._questions[key] = question
