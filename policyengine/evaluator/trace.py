"""The full trace: every statement of every policy, element by element, for explanations.

Only built on request (``authorize(..., trace=True)``); the fast path never touches this
module. It reuses the compiled matchers, so the trace and the decision cannot disagree about
whether a statement matched.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from policyengine.evaluator.compiled import CompiledPolicy, CompiledStatement
from policyengine.explain.decision import Decision, ElementResult, StatementResult
from policyengine.model.request import Request

if TYPE_CHECKING:
    from policyengine.evaluator.authorizer import PolicySet


def _action_result(cs: CompiledStatement, request: Request) -> ElementResult:
    statement = cs.statement
    matched = cs.action_test(request.action_lower)
    element = "Action" if statement.action is not None else "NotAction"
    items = statement.action if statement.action is not None else statement.not_action or ()
    from policyengine.evaluator.patterns import action_matcher

    hit = next((i.value for i in items if action_matcher(i.value)(request.action_lower)), None)
    if matched:
        return ElementResult(element, True, hit if element == "Action" else None)
    reason = "not listed" if element == "Action" else f"excluded by `{hit}`"
    return ElementResult(element, False, None, f"`{request.action}` {reason}")


def _resource_result(cs: CompiledStatement, request: Request) -> ElementResult:
    statement = cs.statement
    if statement.resource is None and statement.not_resource is None:
        return ElementResult("Resource", True, None, "no Resource element")
    element = "Resource" if statement.resource is not None else "NotResource"
    matched = cs.resource_holds(request.resource, request.context)
    if matched:
        return ElementResult(element, True, None)
    return ElementResult(element, False, None, f"`{request.resource}` does not fit the {element} patterns")


def _principal_result(cs: CompiledStatement, policy: CompiledPolicy, request: Request, has_boundary: bool) -> ElementResult:
    if not policy.uses_principal:
        return ElementResult("Principal", True, None, "identity-based policy: applies to its holder")
    statement = cs.statement
    via = cs.principal_via(request, has_boundary)
    element = "Principal" if statement.not_principal is None else "NotPrincipal"
    if via is None:
        return ElementResult(element, False, None, f"`{request.principal}` is not named")
    words = {
        "direct": "names the caller",
        "direct_capped": "names the caller's role (boundary and session policy still apply)",
        "account": "names the caller's account (IAM policies must allow too)",
    }
    return ElementResult(element, True, None, words[via])


def trace_statements(decision: Decision, request: Request, policies: PolicySet) -> Decision:
    """``decision`` with the per-statement trace attached."""
    has_boundary = policies.boundary is not None
    results: list[StatementResult] = []
    for policy in policies.all_policies():
        for cs in policy.statements:
            principal = _principal_result(cs, policy, request, has_boundary)
            action = _action_result(cs, request)
            resource = _resource_result(cs, request)
            conditions = tuple(c.explain(request.context) for c in cs.conditions)
            matched = principal.matched and action.matched and resource.matched and all(c.matched for c in conditions)
            results.append(StatementResult(cs.ref, matched, principal, action, resource, conditions))
    return replace(decision, statements=tuple(results))
