"""The playground's workspace: every editor's text and the request, turned into one question.

A workspace is what the page holds: policy *texts* (which may be half-typed and invalid),
one per editor, and the request's fields. ``build`` parses each editor on its own, so an error
in one editor is reported in place (``EditorIssue`` with the editor's id and position) and does
not hide the others; the question is decided only when every editor that bears on it reads.

Editors are named by stable ids — ``key_policy``, ``identity_policies.0``, ``permissions_boundary``,
``session_policy``, ``scps.0``, ``rcps.0``, ``grants``, ``request.context``,
``request.encryption_context`` — and each compiled policy carries its editor id as its name, so
a deciding statement's span points straight into the text the user sees.

The same workspace round-trips through a scenario file (``scenarios.py``), the
format ``policyengine simulate`` reads, so a question asked here can be pasted into a ticket.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from policyengine._catalog import unknown_action
from policyengine.errors import Issue, PolicyEngineError, PolicyInputError, RequestError
from policyengine.evaluator.authorizer import PolicySet
from policyengine.evaluator.compiled import CompiledPolicy, compile_policy
from policyengine.explain.decision import PolicyKind
from policyengine.model.grant import Grant
from policyengine.model.policy import PolicyDocument
from policyengine.model.request import Request
from policyengine.parsing.document import parse_policy
from policyengine.parsing.request import classify_caller, make_grant, make_request
from policyengine.playground.recent import recent_per_editor

#: Hard limit on one editor's text: the page is interactive, not a batch tool.
MAX_TEXT = 256 * 1024
WORKSPACE_VERSION = 1

_POLICY_KINDS: dict[str, PolicyKind] = {
    "key_policy": "key_policy",
    "identity_policies": "identity",
    "permissions_boundary": "boundary",
    "session_policy": "session_policy",
    "scps": "scp",
    "rcps": "rcp",
}


class WorkspaceError(PolicyEngineError):
    """The workspace itself is malformed (not a policy error): a field of the wrong shape."""


@dataclass(frozen=True, slots=True)
class EditorIssue:
    """A problem shown in place: which editor, where in its text, what is wrong, what would fix it."""

    editor: str
    message: str
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None
    hint: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in (
                ("editor", self.editor),
                ("message", self.message),
                ("line", self.line),
                ("column", self.column),
                ("end_line", self.end_line),
                ("end_column", self.end_column),
                ("hint", self.hint),
            )
            if v is not None
        }


@dataclass(frozen=True, slots=True)
class PolicyText:
    """One policy editor: its id, the text, and for identity policies the principal it belongs to."""

    editor: str
    text: str
    principal: str | None = None
    level: int = 0


@dataclass(frozen=True)
class Workspace:
    """Editor texts and request fields exactly as the page holds them."""

    key_policy: str = ""
    identity_policies: tuple[PolicyText, ...] = ()
    permissions_boundary: str = ""
    session_policy: str = ""
    scps: tuple[PolicyText, ...] = ()
    rcps: tuple[PolicyText, ...] = ()
    grants: str = ""
    request: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Workspace:
        """Read the page's JSON; a wrong shape is a ``WorkspaceError`` naming the field."""
        if not isinstance(data, Mapping):
            raise WorkspaceError("workspace: must be a JSON object")
        unknown = set(data) - {"version", "policies", "request"}
        if unknown:
            raise WorkspaceError(f"workspace: unknown field `{sorted(unknown)[0]}` (expected policies, request, version)")
        policies = data.get("policies", {})
        if not isinstance(policies, Mapping):
            raise WorkspaceError("workspace.policies: must be an object")
        unknown = set(policies) - {*_POLICY_KINDS, "grants"}
        if unknown:
            raise WorkspaceError(f"workspace.policies: unknown field `{sorted(unknown)[0]}`")
        request = data.get("request", {})
        if not isinstance(request, Mapping):
            raise WorkspaceError("workspace.request: must be an object")
        for name, value in request.items():
            if name == "unknown":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise WorkspaceError("workspace.request.unknown: must be a list of context keys")
            elif not isinstance(value, str):
                raise WorkspaceError(f"workspace.request.{name}: must be a string")
            elif len(value) > MAX_TEXT:
                raise WorkspaceError(f"workspace.request.{name}: longer than {MAX_TEXT} characters")
        return cls(
            key_policy=_text(policies, "key_policy"),
            identity_policies=_list(policies, "identity_policies", with_principal=True),
            permissions_boundary=_text(policies, "permissions_boundary"),
            session_policy=_text(policies, "session_policy"),
            scps=_list(policies, "scps"),
            rcps=_list(policies, "rcps"),
            grants=_text(policies, "grants"),
            request=dict(request),
        )

    def to_json(self) -> dict[str, Any]:
        """The page's JSON (and the share format), inverse of ``from_json``."""

        def entries(items: tuple[PolicyText, ...], *, principal: bool = False) -> list[dict[str, Any]]:
            out = []
            for item in items:
                entry: dict[str, Any] = {"policy": item.text}
                if principal:
                    entry["principal"] = item.principal or ""
                else:
                    entry["level"] = item.level
                out.append(entry)
            return out

        return {
            "version": WORKSPACE_VERSION,
            "policies": {
                "key_policy": self.key_policy,
                "identity_policies": entries(self.identity_policies, principal=True),
                "permissions_boundary": self.permissions_boundary,
                "session_policy": self.session_policy,
                "scps": entries(self.scps),
                "rcps": entries(self.rcps),
                "grants": self.grants,
            },
            "request": dict(self.request),
        }

    def with_request(self, **fields: Any) -> Workspace:
        """The same policies asked another question (the what-if table's rows)."""
        return Workspace(
            self.key_policy,
            self.identity_policies,
            self.permissions_boundary,
            self.session_policy,
            self.scps,
            self.rcps,
            self.grants,
            {**self.request, **fields},
        )


def _text(policies: Mapping[str, Any], name: str) -> str:
    value = policies.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise WorkspaceError(f"workspace.policies.{name}: must be the policy's text (a string)")
    if len(value) > MAX_TEXT:
        raise WorkspaceError(f"workspace.policies.{name}: longer than {MAX_TEXT} characters")
    return value


def _list(policies: Mapping[str, Any], name: str, *, with_principal: bool = False) -> tuple[PolicyText, ...]:
    value = policies.get(name, [])
    if not isinstance(value, list):
        raise WorkspaceError(f"workspace.policies.{name}: must be a list")
    out = []
    for i, entry in enumerate(value):
        where = f"workspace.policies.{name}[{i}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("policy", ""), str):
            raise WorkspaceError(f"{where}: must be an object with the policy's text in `policy`")
        text = entry.get("policy", "")
        if len(text) > MAX_TEXT:
            raise WorkspaceError(f"{where}: longer than {MAX_TEXT} characters")
        principal = entry.get("principal") if with_principal else None
        if with_principal and not isinstance(principal, str):
            raise WorkspaceError(f"{where}.principal: must be the ARN the policy is attached to")
        level = entry.get("level", i) if not with_principal else 0
        if not isinstance(level, int) or isinstance(level, bool) or not 0 <= level < 10:
            raise WorkspaceError(f"{where}.level: must be a whole number from 0 (root) to 9")
        out.append(PolicyText(f"{name}.{i}", text, principal, level))
    return tuple(out)


@dataclass
class Built:
    """What one workspace became: the parsed policies, the request, and every problem in place."""

    issues: list[EditorIssue] = field(default_factory=list)
    documents: dict[str, PolicyDocument] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    caller_editors: list[str] = field(default_factory=list)  # identity editors attached to the caller
    policies: PolicySet | None = None
    request: Request | None = None
    unknown: tuple[str, ...] = ()

    @property
    def decidable(self) -> bool:
        return self.policies is not None and self.request is not None


def _issue_from(editor: str, issue: Issue) -> EditorIssue:
    span = issue.span
    if span is None:
        return EditorIssue(editor, issue.message, hint=issue.hint)
    return EditorIssue(editor, issue.message, span.line, span.column, span.end_line, span.end_column, issue.hint)


@recent_per_editor
def read_editor(editor: str, text: str) -> tuple[PolicyDocument | None, tuple[Issue, ...]]:
    """One editor's policy, parsed with positions, or the issues that kept it from reading.

    Cached on the text: a keystroke changes one editor, and the others' unchanged texts are
    not parsed again (documents are immutable, so sharing them is safe).
    """
    try:
        return parse_policy(text, editor), ()
    except PolicyInputError as error:
        return None, error.issues


@recent_per_editor
def compiled_editor(editor: str, kind: PolicyKind, text: str) -> CompiledPolicy:
    """The compiled policy of an editor that reads (cached like ``read_editor``)."""
    document, _ = read_editor(editor, text)
    if document is None:
        raise ValueError(f"{editor}: the policy does not read")
    return compile_policy(document, kind, editor)


def _parse(editor: str, text: str, built: Built) -> PolicyDocument | None:
    if not text.strip():
        return None
    document, issues = read_editor(editor, text)
    if document is None:
        built.issues.extend(_issue_from(editor, issue) for issue in issues)
        return None
    built.documents[editor] = document
    built.texts[editor] = text
    return document


def _json_object(editor: str, text: str, built: Built) -> dict[str, Any] | None:
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        built.issues.append(EditorIssue(editor, f"not valid JSON: {error.msg}", error.lineno, error.colno))
        return None
    if not isinstance(value, dict):
        built.issues.append(EditorIssue(editor, "must be a JSON object of key: value", 1, 1))
        return None
    return value


def _grants(text: str, built: Built) -> tuple[Grant, ...] | None:
    if not text.strip():
        return ()
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        built.issues.append(EditorIssue("grants", f"not valid JSON: {error.msg}", error.lineno, error.colno))
        return None
    if isinstance(value, dict):
        value = value["Grants"] if isinstance(value.get("Grants"), list) else [value]
    if not isinstance(value, list):
        built.issues.append(EditorIssue("grants", "must be a list of grants (objects)", 1, 1))
        return None
    grants = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            built.issues.append(EditorIssue("grants", f"grant {i + 1}: must be an object", 1, 1))
            return None
        data = _grant_fields(item)
        missing = [f for f in ("key_arn", "grantee_principal", "operations") if f not in data]
        if missing:
            built.issues.append(EditorIssue("grants", f"grant {i + 1}: missing `{missing[0]}`", 1, 1))
            return None
        try:
            grants.append(
                make_grant(
                    str(data.pop("grant_id", f"grant-{i + 1}")),
                    str(data.pop("key_arn")),
                    str(data.pop("grantee_principal")),
                    list(data.pop("operations")),
                    **data,
                )
            )
        except (RequestError, TypeError) as error:
            built.issues.append(EditorIssue("grants", f"grant {i + 1}: {error}", 1, 1))
            return None
    return tuple(grants)


#: ``aws kms list-grants`` field names, read as the scenario's names (paste either).
_AWS_GRANT_FIELDS = {
    "GrantId": "grant_id",
    "KeyId": "key_arn",
    "GranteePrincipal": "grantee_principal",
    "Operations": "operations",
    "Constraints": "constraints",
    "RetiringPrincipal": "retiring_principal",
    "Name": "name",
    "IssuingAccount": "issuing_account",
}
_AWS_CONSTRAINTS = {
    "EncryptionContextEquals": "encryption_context_equals",
    "EncryptionContextSubset": "encryption_context_subset",
}


def _grant_fields(item: Mapping[str, Any]) -> dict[str, Any]:
    """A grant in the scenario's field names, from either those or ``list-grants`` output's."""
    data = {_AWS_GRANT_FIELDS.get(k, k): v for k, v in item.items() if k != "CreationDate"}
    constraints = data.get("constraints")
    if isinstance(constraints, Mapping):
        data["constraints"] = {_AWS_CONSTRAINTS.get(k, k): v for k, v in constraints.items()}
    issuing = data.get("issuing_account")
    if isinstance(issuing, str) and issuing.startswith("arn:"):
        data["issuing_account"] = issuing.split(":")[4]
    return data


def caller_matches(principal: str, identity_owner: str) -> bool:
    """Whether an identity policy attached to ``identity_owner`` applies to the caller ``principal``.

    The exact ARN, or the role of an assumed-role session, or the same user/role with another path.
    """
    if principal == identity_owner:
        return True
    try:
        caller = classify_caller(principal)
        owner = classify_caller(identity_owner)
    except RequestError:
        return False
    if caller.kind == "assumed_role" and owner.kind == "role":
        return caller.account == owner.account and caller.name == owner.name
    return (caller.kind, caller.account, caller.name) == (owner.kind, owner.account, owner.name)


def _levels(items: tuple[PolicyText, ...], kind: PolicyKind, built: Built) -> tuple[tuple[CompiledPolicy, ...], ...] | None:
    if not items:
        return None
    by_level: dict[int, list[CompiledPolicy]] = {}
    for item in items:
        document = _parse(item.editor, item.text, built)
        if document is not None:
            by_level.setdefault(item.level, []).append(compiled_editor(item.editor, kind, item.text))
    if not by_level:
        return None
    return tuple(tuple(by_level.get(level, ())) for level in range(max(by_level) + 1))


def build(workspace: Workspace) -> Built:
    """Parse every editor (each error in place), then the request; decidable when all of it reads."""
    built = Built()
    key = _parse("key_policy", workspace.key_policy, built)
    principal = str(workspace.request.get("principal", "")).strip()
    identity: list[CompiledPolicy] = []
    for item in workspace.identity_policies:
        document = _parse(item.editor, item.text, built)
        if item.principal and principal and caller_matches(principal, item.principal):
            built.caller_editors.append(item.editor)
            if document is not None:
                identity.append(compiled_editor(item.editor, "identity", item.text))
    boundary = _parse("permissions_boundary", workspace.permissions_boundary, built)
    session = _parse("session_policy", workspace.session_policy, built)
    scps = _levels(workspace.scps, "scp", built)
    rcps = _levels(workspace.rcps, "rcp", built)
    grants = _grants(workspace.grants, built)
    context = _json_object("request.context", str(workspace.request.get("context", "")), built)
    encryption = _json_object("request.encryption_context", str(workspace.request.get("encryption_context", "")), built)
    unknown = workspace.request.get("unknown", [])
    built.unknown = tuple(str(k) for k in unknown) if isinstance(unknown, list) else ()

    request: Request | None = None
    action = str(workspace.request.get("action", "")).strip()
    resource = str(workspace.request.get("resource", "")).strip()
    for name, value in (("principal", principal), ("action", action), ("resource", resource)):
        if not value:
            built.issues.append(EditorIssue(f"request.{name}", f"the request needs a {name}"))
    misspelt = unknown_action(action) if action else None
    if misspelt is not None:
        # As `simulate` and `can` do: a misspelt action is an error, not a silent implicit deny.
        built.issues.append(EditorIssue("request.action", misspelt))
    if principal and action and not misspelt and resource and context is not None and encryption is not None:
        if encryption and not all(isinstance(v, str) for v in encryption.values()):
            built.issues.append(EditorIssue("request.encryption_context", "encryption context values must be strings", 1, 1))
        else:
            try:
                request = make_request(
                    principal,
                    action,
                    resource,
                    context or None,
                    encryption_context={str(k): str(v) for k, v in encryption.items()} if encryption else None,
                )
            except RequestError as error:
                built.issues.append(EditorIssue(_request_field(str(error)), str(error)))
    built.request = request
    policy_issues = any(not issue.editor.startswith("request.") for issue in built.issues)
    if grants is None or policy_issues or request is None:
        return built
    built.policies = PolicySet(
        key_policy=compiled_editor("key_policy", "key_policy", workspace.key_policy) if key is not None else None,
        identity=tuple(identity),
        boundary=compiled_editor("permissions_boundary", "boundary", workspace.permissions_boundary) if boundary else None,
        session_policy=compiled_editor("session_policy", "session_policy", workspace.session_policy) if session else None,
        scp_levels=scps,
        rcp_levels=rcps,
        grants=grants,
    )
    return built


def _request_field(message: str) -> str:
    for name in ("principal", "action", "resource", "context"):
        if name in message.split(":", 1)[0] or f"request {name}" in message:
            return f"request.{name}"
    return "request.context" if "context key" in message else "request.action"
