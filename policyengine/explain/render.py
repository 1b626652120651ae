"""Decisions as text a person learns from, and as JSON a program reads.

Three views over the same decision (OPA's explain modes): ``summary`` gives the answer, the
reason in a sentence and the deciding statements; ``full`` adds every statement's trace,
element by element, with the values compared.
"""

from __future__ import annotations

from typing import Any

from policyengine.explain.decision import ALLOW_PATHS, ConditionResult, Decision, StatementRef, StatementResult

# What the page and the terminal call a decision and a policy kind (one wording for both).
HEADLINES = {"allow": "ALLOW", "explicit_deny": "DENY (explicit)", "implicit_deny": "DENY (implicit)"}
KIND_WORDS = {
    "key_policy": "key policy",
    "resource_policy": "resource policy",
    "trust_policy": "trust policy",
    "endpoint_policy": "VPC endpoint policy",
    "identity": "identity policy",
    "boundary": "permissions boundary",
    "session_policy": "session policy",
    "scp": "SCP",
    "rcp": "RCP",
    "grant": "grant",
}


def _where(ref: StatementRef) -> str:
    if ref.policy_kind == "grant":
        return f"grant {ref.sid}"
    if ref.span is None:
        position = ""
    elif ref.source is None:
        position = f" at {ref.span.line}:{ref.span.column}"
    else:
        position = f" ({ref.location})"
    return f"{KIND_WORDS[ref.policy_kind]} `{ref.policy_name}` statement {ref.label}{position}"


def _condition_line(result: ConditionResult) -> str:
    got = "(absent)" if result.request_values is None else ", ".join(result.request_values)
    mark = "✓" if result.matched else "✗"
    detail = f" — {result.detail}" if result.detail else ""
    return (
        f"{mark} {result.operator} {result.key}: request {got} vs policy {' | '.join(result.policy_values)} "
        f"[{result.outcome}]{detail}"
    )


def _statement_lines(result: StatementResult) -> list[str]:
    lines = [f"{'✓' if result.matched else '✗'} {result.ref.effect} {_where(result.ref)}"]
    for element in (result.principal, result.action, result.resource):
        mark = "✓" if element.matched else "✗"
        why = f": {element.reason}" if element.reason else ""
        pattern = f" via `{element.pattern}`" if element.pattern else ""
        lines.append(f"    {mark} {element.element}{pattern}{why}")
    lines.extend(f"    {_condition_line(c)}" for c in result.conditions)
    return lines


def absent_keys(decision: Decision) -> list[tuple[str, StatementRef]]:
    """Context keys the answer hangs on because the request lacks them: (key, the Allow statement that needed it).

    Only for a traced denial: an Allow statement whose principal, action and resource matched and
    whose every failing condition failed because its key was absent from the request.
    """
    if decision.allowed or decision.statements is None:
        return []
    found: list[tuple[str, StatementRef]] = []
    for result in decision.statements:
        if result.ref.effect != "Allow" or result.matched:
            continue
        if not (result.principal.matched and result.action.matched and result.resource.matched):
            continue
        failing = [c for c in result.conditions if not c.matched]
        if failing and all(c.outcome == "missing_key_false" for c in failing):
            found.extend((c.key, result.ref) for c in failing)
    return found


def render_text(decision: Decision, *, view: str = "summary", title: str | None = None) -> str:
    """The decision as plain text; ``view`` is ``summary`` or ``full``.

    A traced denial names, even in the summary, each context key it hangs on that the request
    lacks ("`kms:EncryptionContext:app` is absent"), so a missing key is not found only in the trace.
    """
    lines: list[str] = []
    head = HEADLINES[decision.decision]
    lines.append(f"{title}: {head}" if title else head)
    lines.append(f"  why: {decision.reason_text} [{decision.reason}]")
    if decision.path is not None:
        lines.append(f"  how: {ALLOW_PATHS[decision.path]}")
    if decision.deciding:
        lines.append("  deciding:")
        lines.extend(f"    - {_where(ref)}" for ref in decision.deciding)
    for note in decision.notes:
        lines.append(f"  note: {note.message} [{note.code}]")
    for key, ref in absent_keys(decision):
        lines.append(f"  absent: `{key}` is absent from the request; {_where(ref)} allows only with it")
    if view == "full" and decision.statements is not None:
        lines.append("  trace:")
        for result in decision.statements:
            lines.extend(f"    {line}" for line in _statement_lines(result))
    return "\n".join(lines)


def condition_to_json(result: ConditionResult) -> dict[str, Any]:
    """One condition test as JSON-ready data (what was compared, how it came out)."""
    return {
        "operator": result.operator,
        "key": result.key,
        "request_values": list(result.request_values) if result.request_values is not None else None,
        "policy_values": list(result.policy_values),
        "outcome": result.outcome,
        "matched": result.matched,
        "detail": result.detail,
    }


def decision_to_json(decision: Decision) -> dict[str, Any]:
    """The decision as JSON-ready data: decision, deciding, reason, notes and (if traced) the trace."""
    data: dict[str, Any] = {
        "decision": decision.decision,
        "deciding": [ref.to_json() for ref in decision.deciding],
        "reason": decision.reason,
        "reason_text": decision.reason_text,
        "path": decision.path,
        "notes": [{"code": n.code, "message": n.message} for n in decision.notes],
    }
    if decision.statements is not None:
        data["trace"] = [
            {
                "statement": r.ref.to_json(),
                "matched": r.matched,
                "elements": {
                    e.element: {"matched": e.matched, "pattern": e.pattern, "reason": e.reason}
                    for e in (r.principal, r.action, r.resource)
                },
                "conditions": [condition_to_json(c) for c in r.conditions],
            }
            for r in decision.statements
        ]
    return data
