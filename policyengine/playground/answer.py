"""One keystroke's answer: problems in place, lint marks, the decision, the why-tree and what would allow.

Everything here is computed from the same engine the CLI uses — ``authorize`` with a trace for
the decision, partial evaluation for "allow only if ...", the linter's rules for gutter marks —
so the page can never say something ``simulate`` or ``lint`` would not. Spans are reported per
editor (each compiled policy is named by its editor id), which is what lets the page highlight
the deciding statement in the text the user is typing.
"""

from __future__ import annotations

from typing import Any

from policyengine.access import Partial, formula_json, formula_text, partial_authorize
from policyengine.access.facts import PRINCIPAL_KEYS, Facts
from policyengine.engine import referenced_keys
from policyengine.evaluator.authorizer import authorize
from policyengine.explain.decision import (
    ALLOW_PATHS,
    ConditionResult,
    Decision,
    ElementResult,
    StatementRef,
    StatementResult,
)
from policyengine.explain.render import HEADLINES, KIND_WORDS, condition_to_json
from policyengine.lint import LintTarget, PolicyType
from policyengine.lint.engine import lint_target
from policyengine.model.span import Span
from policyengine.playground.recent import recent_per_editor
from policyengine.playground.suggest import suggestions
from policyengine.playground.workspace import Built, Workspace, build, read_editor

_LINT_TYPES: dict[str, PolicyType] = {
    "key_policy": "key",
    "identity_policies": "identity",
    "permissions_boundary": "boundary",
    "session_policy": "identity",
    "scps": "scp",
    "rcps": "rcp",
}


def span_json(span: Span | None) -> dict[str, int]:
    if span is None:
        return {}
    return {
        "line": span.line,
        "column": span.column,
        "end_line": span.end_line,
        "end_column": span.end_column,
        "offset": span.offset,
        "end_offset": span.end_offset,
    }


def ref_json(ref: StatementRef) -> dict[str, Any]:
    """A deciding statement as the page needs it: which editor, where, and its label."""
    return {
        "editor": ref.policy_name if ref.policy_kind != "grant" else "grants",
        "kind": ref.policy_kind,
        "kind_text": KIND_WORDS[ref.policy_kind],
        "label": ref.label,
        "effect": ref.effect,
        "index": ref.index,
        **span_json(ref.span),
    }


def _element_json(element: ElementResult) -> dict[str, Any]:
    return {"element": element.element, "matched": element.matched, "pattern": element.pattern, "reason": element.reason}


def _condition_json(result: ConditionResult) -> dict[str, Any]:
    return {**condition_to_json(result), **span_json(result.span)}


def _statement_json(result: StatementResult) -> dict[str, Any]:
    return {
        **ref_json(result.ref),
        "matched": result.matched,
        "elements": [_element_json(e) for e in (result.principal, result.action, result.resource)],
        "conditions": [_condition_json(c) for c in result.conditions],
    }


def trace_tree(decision: Decision) -> list[dict[str, Any]]:
    """The trace grouped as the page draws it: policy kind -> policy (editor) -> statement -> elements."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for result in decision.statements or ():
        ref = result.ref
        editor = ref.policy_name if ref.policy_kind != "grant" else "grants"
        group = groups.setdefault(
            (ref.policy_kind, editor),
            {"kind": ref.policy_kind, "kind_text": KIND_WORDS[ref.policy_kind], "editor": editor, "statements": []},
        )
        group["statements"].append(_statement_json(result))
    return list(groups.values())


@recent_per_editor
def _lint_editor(editor: str, text: str) -> tuple[dict[str, Any], ...]:
    """One editor's findings, cached on its text (lint depends on nothing else)."""
    document, _ = read_editor(editor, text)
    if document is None:
        return ()
    target = LintTarget(editor, _LINT_TYPES[editor.split(".")[0]], document, text)
    return tuple(
        {
            "editor": editor,
            "rule": finding.rule_id,
            "severity": finding.severity,
            "message": finding.message,
            "suggestion": finding.suggestion,
            **span_json(finding.span),
        }
        for finding in lint_target(target)
    )


def _lint(built: Built) -> list[dict[str, Any]]:
    return [finding for editor, text in built.texts.items() for finding in _lint_editor(editor, text)]


def _facts(built: Built) -> Facts:
    """Which context keys count as decided: all but the ones the user left unknown."""
    request = built.request
    assert request is not None and built.policies is not None
    unknown = {key.lower() for key in built.unknown}
    if "*" in unknown:
        given = frozenset(k for k in request.context if not k.startswith("kms:encryptioncontext"))
        encryption = dict(request.encryption_context) if request.encryption_context else None
        return Facts(request.context, given, encryption)
    referenced = set(referenced_keys(built.policies)) | set(request.context)
    given = frozenset(k for k in referenced if k not in unknown)
    ec_open = any(k.startswith("kms:encryptioncontext") for k in unknown)
    encryption = None if ec_open else dict(request.encryption_context)
    opened = frozenset(k for k in unknown if k in PRINCIPAL_KEYS or k.startswith("aws:principaltag/"))
    return Facts({k: v for k, v in request.context.items() if k not in unknown}, given, encryption, opened)


def _residual(built: Built) -> dict[str, Any] | None:
    if not built.unknown or built.request is None or built.policies is None:
        return None
    answer: Partial = partial_authorize(built.request, built.policies, _facts(built))
    return {
        "status": answer.status,
        "text": formula_text(answer.residual),
        "json": formula_json(answer.residual),
        "unknown": list(built.unknown),
    }


def decision_json(decision: Decision) -> dict[str, Any]:
    """The decision with its reason in words, the allow path and the deciding statements."""
    return {
        "decision": decision.decision,
        "headline": HEADLINES[decision.decision],
        "allowed": decision.allowed,
        "reason": decision.reason,
        "reason_text": decision.reason_text,
        "path": decision.path,
        "path_text": ALLOW_PATHS.get(decision.path) if decision.path else None,
        "deciding": [ref_json(ref) for ref in decision.deciding],
        "notes": [{"code": n.code, "message": n.message} for n in decision.notes],
    }


def answer(workspace: Workspace) -> dict[str, Any]:
    """Everything the page shows for one state of the workspace."""
    built = build(workspace)
    out: dict[str, Any] = {
        "issues": [issue.to_json() for issue in built.issues],
        "findings": _lint(built),
        "decision": None,
        "trace": [],
        "residual": None,
        "suggestions": [],
    }
    if not built.decidable:
        return out
    assert built.request is not None and built.policies is not None
    decision = authorize(built.request, built.policies, trace=True)
    out["decision"] = decision_json(decision)
    out["trace"] = trace_tree(decision)
    out["residual"] = _residual(built)
    if not decision.allowed:
        out["suggestions"] = [s.to_json() for s in suggestions(built, decision)]
    return out


def decide(workspace: Workspace) -> Decision | None:
    """Just the decision (no trace), or None when the workspace does not read."""
    built = build(workspace)
    if not built.decidable:
        return None
    assert built.request is not None and built.policies is not None
    return authorize(built.request, built.policies)
