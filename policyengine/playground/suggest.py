"""For a deny: the smallest change that would allow, each one checked by the evaluator.

A suggestion is never a guess shown as advice. Each candidate — remove the deciding Deny, send a
context value a condition asks for, add the missing allow to the one policy layer that said no —
is applied to a copy of the question and decided again by ``authorize``; only candidates that
turn the answer into an allow are offered (``verified``). Where one change is not enough, the
layers are fixed one at a time, in the order AWS evaluates them, and the steps are offered
together. When the evaluator says no policy change can help (a key-management operation on
another account's key), that is said instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from policyengine.evaluator.authorizer import PolicySet, authorize
from policyengine.evaluator.compiled import CompiledPolicy, compile_policy
from policyengine.explain.decision import ConditionResult, Decision, StatementResult
from policyengine.model.request import Request
from policyengine.parsing.document import parse_policy
from policyengine.playground.workspace import Built, Workspace

#: Operators whose condition a single request value can satisfy, and how to pick that value.
_POSITIVE = ("StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "NumericEquals", "IpAddress", "Bool")
_NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike", "NotIpAddress"}


@dataclass(frozen=True)
class Change:
    """One edit: to an editor's policy (add or remove a statement) or to the request's context."""

    kind: str  # "add_statement" | "remove_statement" | "set_context"
    editor: str
    text: str
    statement: dict[str, Any] | None = None
    index: int | None = None
    key: str | None = None
    value: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Suggestion:
    """One way to allow: the changes, in words, each step verified by deciding again."""

    title: str
    changes: tuple[Change, ...]
    verified: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "verified": self.verified, "changes": [c.to_json() for c in self.changes]}


_EDITOR_KIND = {"key_policy": "key_policy", "permissions_boundary": "boundary", "session_policy": "session_policy"}


def _replace_policy(policies: PolicySet, old: CompiledPolicy | None, new: CompiledPolicy, editor: str) -> PolicySet:
    if editor == "key_policy":
        return replace(policies, key_policy=new)
    if editor == "permissions_boundary":
        return replace(policies, boundary=new)
    if editor == "session_policy":
        return replace(policies, session_policy=new)
    if editor.startswith("identity_policies"):
        kept = tuple(p for p in policies.identity if p is not old)
        return replace(policies, identity=(*kept, new))

    def swapped(levels: tuple[tuple[CompiledPolicy, ...], ...] | None) -> tuple[tuple[CompiledPolicy, ...], ...] | None:
        return None if levels is None else tuple(tuple(new if p is old else p for p in level) for level in levels)

    if editor.startswith("scps"):
        return replace(policies, scp_levels=swapped(policies.scp_levels))
    return replace(policies, rcp_levels=swapped(policies.rcp_levels))


def _edited(texts: dict[str, str], editor: str, edit: Any) -> str:
    """The editor's policy text with ``edit`` applied to its statement list (as JSON data)."""
    text = texts.get(editor, "")
    data: Any = json.loads(text) if text.strip() else {"Version": "2012-10-17", "Statement": []}
    statements = data.get("Statement", [])
    statements = list(statements) if isinstance(statements, list) else [statements]
    edit(statements)
    data["Statement"] = statements
    return json.dumps(data, indent=2)


def _with_statement(
    texts: dict[str, str], policy: CompiledPolicy | None, kind: str, editor: str, statement: dict[str, Any]
) -> CompiledPolicy:
    """The policy with one statement added: the text for the page, the model without parsing the whole text again."""
    texts[editor] = _edited(texts, editor, lambda statements: statements.append(statement))
    added = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": [statement]}), editor)
    if policy is None:
        return compile_policy(added, kind, editor)  # type: ignore[arg-type]
    existing = policy.document.statements
    document = policy.document.model_copy(
        update={"statements": (*existing, added.statements[0].model_copy(update={"index": len(existing)}))}
    )
    return compile_policy(document, policy.kind, editor)


def _without_statement(texts: dict[str, str], policy: CompiledPolicy, index: int) -> CompiledPolicy:
    texts[policy.name] = _edited(texts, policy.name, lambda statements: statements.pop(index))
    kept = tuple(s for s in policy.document.statements if s.index != index)
    return compile_policy(policy.document.model_copy(update={"statements": kept}), policy.kind, policy.name)


def _allows(request: Request, policies: PolicySet) -> Decision:
    return authorize(request, policies)


def _with_context(request: Request, key: str, value: str) -> Request:
    context = dict(request.context)
    lowered = key.lower()
    if lowered.startswith("kms:encryptioncontext:"):
        name = key.split(":", 2)[2]
        encryption = {**request.encryption_context, name: value}
        context[lowered] = value
        context["kms:encryptioncontextkeys"] = tuple(sorted(encryption))
        return request.with_context(context, encryption)
    context[lowered] = value
    return request.with_context(context)


def _satisfying_value(condition: ConditionResult) -> str | None:
    """A request value that makes this (failed) condition hold, when one value can."""
    base = condition.operator.removeprefix("ForAnyValue:").removeprefix("ForAllValues:").removesuffix("IfExists")
    if base not in _POSITIVE or not condition.policy_values:
        return None
    value = condition.policy_values[0]
    if base in ("StringLike", "ArnLike"):
        value = value.replace("*", "x").replace("?", "x")
    if base == "IpAddress":
        value = value.split("/")[0]
    return value


def _defeating_value(condition: ConditionResult) -> str | None:
    """A request value that makes this (matched) Deny condition fail, when one value can."""
    base = condition.operator.removesuffix("IfExists")
    if base == "Bool" and condition.policy_values:
        return "true" if condition.policy_values[0].lower() == "false" else "false"
    if base in _NEGATED and condition.policy_values:
        value = condition.policy_values[0]
        return value.split("/")[0] if base == "NotIpAddress" else value.replace("*", "x")
    return None


def _context_suggestions(built: Built, decision: Decision) -> list[Suggestion]:
    """Requests that would be allowed: a value a near-miss Allow asks for, or one a Deny refuses."""
    request, policies = built.request, built.policies
    assert request is not None and policies is not None
    out: list[Suggestion] = []
    seen: set[tuple[str, str]] = set()
    for result in decision.statements or ():
        candidates: list[tuple[str, str]] = []
        if result.ref.effect == "Allow" and not result.matched and _elements_match(result):
            candidates = [(c.key, v) for c in result.conditions if not c.matched and (v := _satisfying_value(c))]
        elif result.ref.effect == "Deny" and result.matched:
            candidates = [(c.key, v) for c in result.conditions if (v := _defeating_value(c))]
        for key, value in candidates:
            if (key.lower(), value) in seen:
                continue
            seen.add((key.lower(), value))
            if _allows(_with_context(request, key, value), policies).allowed:
                editor = "request.encryption_context" if key.lower().startswith("kms:encryptioncontext:") else "request.context"
                name = key.split(":", 2)[2] if editor == "request.encryption_context" else key
                change = Change("set_context", editor, f"send `{name}` = `{value}` in the request", key=name, value=value)
                out.append(Suggestion(f"the same request with {key} = {value} is allowed ({result.ref.label})", (change,)))
    return out


def _elements_match(result: StatementResult) -> bool:
    return result.principal.matched and result.action.matched and result.resource.matched


def _layer_fix(
    texts: dict[str, str], callers: list[str], request: Request, policies: PolicySet, decision: Decision
) -> tuple[Change, PolicySet] | None:
    """One policy edit that removes the current reason for denying, or None when none can."""
    documents = {p.name: p for p in policies.all_policies()}
    action, resource = request.action, request.resource
    reason = decision.reason
    if reason == "explicit_deny":
        for ref in decision.deciding:
            policy = documents.get(ref.policy_name)
            if ref.effect == "Deny" and policy is not None:
                text = f"remove (or narrow) the Deny statement {ref.label} of the {ref.policy_name.replace('_', ' ')}"
                change = Change("remove_statement", ref.policy_name, text, index=ref.index)
                return change, _replace_policy(policies, policy, _without_statement(texts, policy, ref.index), ref.policy_name)
        return None
    if reason in ("key_policy_does_not_trust_account", "cross_account_needs_resource_allow") or (
        reason == "no_allow" and policies.key_policy is not None and not _trusts(decision)
    ):
        caller = request.identity_arn or request.principal
        statement = {
            "Sid": "AllowCaller",
            "Effect": "Allow",
            "Principal": {"AWS": caller},
            "Action": action,
            "Resource": "*",
        }
        new = _with_statement(texts, policies.key_policy, "key_policy", "key_policy", statement)
        text = f"let the caller in: add to the key policy a statement that names `{caller}` for `{action}`"
        return Change("add_statement", "key_policy", text, statement=statement), _replace_policy(
            policies, policies.key_policy, new, "key_policy"
        )
    statement = {"Sid": "Allow" + action.partition(":")[2], "Effect": "Allow", "Action": action, "Resource": "*"}
    if reason in ("no_allow", "cross_account_needs_identity_allow"):
        identity_statement = {**statement, "Resource": resource}
        old = policies.identity[0] if policies.identity else None
        editor = old.name if old is not None else (callers[0] if callers else "identity_policies.new")
        new = _with_statement(texts, old, "identity", editor, identity_statement)
        text = f"allow `{action}` on the key in an identity policy of the caller"
        return Change("add_statement", editor, text, statement=identity_statement), _replace_policy(policies, old, new, editor)
    for reason_code, editor in (("boundary_cap", "permissions_boundary"), ("session_policy_cap", "session_policy")):
        if reason == reason_code:
            old = documents.get(editor)
            if old is None:
                return None
            new = _with_statement(texts, old, _EDITOR_KIND[editor], editor, statement)
            text = f"allow `{action}` in the {editor.replace('_', ' ')} (it caps what the caller may do)"
            return Change("add_statement", editor, text, statement=statement), _replace_policy(policies, old, new, editor)
    if reason in ("no_scp_allow", "no_rcp_allow"):
        levels = policies.scp_levels if reason == "no_scp_allow" else policies.rcp_levels
        for level in levels or ():
            if level and not any(_level_allows(p, request) for p in level):
                old = level[0]
                new = _with_statement(texts, old, old.kind, old.name, statement)
                text = f"allow `{action}` in {old.name} (every level of the organization must allow)"
                return Change("add_statement", old.name, text, statement=statement), _replace_policy(policies, old, new, old.name)
    return None


def _level_allows(policy: CompiledPolicy, request: Request) -> bool:
    return any(cs.statement.effect == "Allow" and cs.action_test(request.action_lower) for cs in policy.statements)


def _trusts(decision: Decision) -> bool:
    return ("key_policy", "trusts_account") in decision.facts or decision.reason != "no_allow"


def suggestions(built: Built, decision: Decision) -> list[Suggestion]:
    """Verified ways to turn this deny into an allow (request-side first: they change no policy)."""
    request, policies = built.request, built.policies
    assert request is not None and policies is not None
    if decision.reason == "operation_not_cross_account":
        text = f"`{request.action}` can never be used on a key in another account: no policy change can allow it"
        return [Suggestion(text, (), verified=True)]
    out = _context_suggestions(built, decision)
    changes: list[Change] = []
    current, state = decision, policies
    texts = dict(built.texts)
    for _ in range(6):
        fix = _layer_fix(texts, built.caller_editors, request, state, current)
        if fix is None:
            break
        change, state = fix
        changes.append(change)
        current = authorize(request, state)
        if current.allowed:
            title = "change the policies: " + "; then ".join(c.text for c in changes)
            out.append(Suggestion(title, tuple(changes)))
            break
    return out


def apply_change(workspace: Workspace, change: Change) -> Workspace:
    """The workspace with one suggested change made, as the page's Apply button makes it."""
    data = workspace.to_json()
    policies, request = data["policies"], data["request"]
    if change.kind == "set_context":
        name = change.editor.removeprefix("request.")
        current = json.loads(request.get(name) or "{}")
        current[change.key] = change.value
        request[name] = json.dumps(current, indent=2)
        return Workspace.from_json(data)
    editor = change.editor
    if editor == "identity_policies.new":
        policies["identity_policies"].append({"principal": request.get("principal", ""), "policy": ""})
        editor = f"identity_policies.{len(policies['identity_policies']) - 1}"
    texts = {editor: _text_of(policies, editor)}
    if change.kind == "add_statement":
        text = _edited(texts, editor, lambda statements: statements.append(change.statement))
    else:
        text = _edited(texts, editor, lambda statements: statements.pop(change.index))
    name, _, index = editor.partition(".")
    if index:
        policies[name][int(index)]["policy"] = text
    else:
        policies[name] = text
    return Workspace.from_json(data)


def _text_of(policies: dict[str, Any], editor: str) -> str:
    name, _, index = editor.partition(".")
    return str(policies[name][int(index)]["policy"]) if index else str(policies[name])
