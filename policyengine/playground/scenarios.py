"""Workspaces and scenario files, both ways: a question asked in the playground runs in ``simulate``.

A scenario file holds policies as JSON (inline, or by path) and the request; a workspace holds policy
*texts*. ``to_scenario`` needs every editor to hold valid JSON and names the first that does not;
``from_scenario`` pretty-prints each policy into its editor and keeps the SCPs and RCPs of the accounts
the request is about (a scenario may list several accounts; the page edits one organization).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from policyengine.parsing.strings import parse_arn
from policyengine.playground.workspace import PolicyText, Workspace, WorkspaceError


def to_scenario(workspace: Workspace) -> dict[str, Any]:
    """The workspace as a scenario file for ``policyengine simulate`` (inline policies).

    Every editor must hold valid JSON: a ``WorkspaceError`` names the first that does not.
    """

    def obj(editor: str, text: str) -> Any:
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise WorkspaceError(f"{editor}:{error.lineno}:{error.colno}: not valid JSON ({error.msg})") from None

    policies: dict[str, Any] = {}
    if workspace.key_policy.strip():
        policies["key_policy"] = obj("key_policy", workspace.key_policy)
    identity: dict[str, list[Any]] = {}
    for item in workspace.identity_policies:
        if item.text.strip() and item.principal:
            identity.setdefault(item.principal, []).append(obj(item.editor, item.text))
    if identity:
        policies["identity_policies"] = identity
    if workspace.permissions_boundary.strip():
        policies["permissions_boundary"] = obj("permissions_boundary", workspace.permissions_boundary)
    if workspace.session_policy.strip():
        policies["session_policy"] = obj("session_policy", workspace.session_policy)
    request = workspace.request
    for name, items, account in (
        ("scps", workspace.scps, _account(str(request.get("principal", "")))),
        ("rcps", workspace.rcps, _account(str(request.get("resource", "")))),
    ):
        texts = [item for item in items if item.text.strip()]
        if texts:
            levels: list[list[Any]] = [[] for _ in range(max(item.level for item in texts) + 1)]
            for item in texts:
                levels[item.level].append(obj(item.editor, item.text))
            policies[name] = {account or "111122223333": levels}
    if workspace.grants.strip():
        grants = obj("grants", workspace.grants)
        policies["grants"] = grants if isinstance(grants, list) else [grants]
        for i, grant in enumerate(policies["grants"]):
            if isinstance(grant, dict):
                grant.setdefault("grant_id", f"grant-{i + 1}")
    out_request: dict[str, Any] = {name: str(request.get(name, "")) for name in ("principal", "action", "resource")}
    for name in ("context", "encryption_context"):
        text = str(request.get(name, ""))
        if text.strip():
            out_request[name] = obj(f"request.{name}", text)
    return {"policies": policies, "request": out_request}


def _account(arn: str) -> str | None:
    parts = parse_arn(arn)
    return parts.account if parts is not None and parts.account else None


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2) + "\n"


def from_scenario(data: Mapping[str, Any]) -> Workspace:
    """A workspace from a scenario file's data (inline policies; SCPs/RCPs of the accounts asked about)."""
    policies = data.get("policies", {})
    request = data.get("request", {})
    if not isinstance(policies, Mapping) or not isinstance(request, Mapping):
        raise WorkspaceError("scenario: `policies` and `request` must be objects")
    for name, value in policies.items():
        if isinstance(value, str):
            raise WorkspaceError(f"scenario: policies.{name} names a file; the playground takes inline policies only")

    def levels(name: str, account: str | None) -> tuple[PolicyText, ...]:
        table = policies.get(name) or {}
        if not isinstance(table, Mapping):
            raise WorkspaceError(f"scenario: policies.{name} must map accounts to levels")
        chosen = table.get(account or "") or (next(iter(table.values())) if len(table) == 1 else [])
        out: list[PolicyText] = []
        for level, docs in enumerate(chosen):
            for doc in docs if isinstance(docs, list) else [docs]:
                out.append(PolicyText(f"{name}.{len(out)}", _pretty(doc), None, level))
        return tuple(out)

    identity: list[PolicyText] = []
    table = policies.get("identity_policies") or {}
    if not isinstance(table, Mapping):
        raise WorkspaceError("scenario: policies.identity_policies must map principal ARNs to policies")
    for arn, docs in table.items():
        for doc in docs if isinstance(docs, list) else [docs]:
            identity.append(PolicyText(f"identity_policies.{len(identity)}", _pretty(doc), str(arn)))
    out_request: dict[str, Any] = {name: str(request.get(name, "")) for name in ("principal", "action", "resource")}
    for name in ("context", "encryption_context"):
        if request.get(name):
            out_request[name] = _pretty(request[name])
    key = policies.get("key_policy", policies.get("resource_policy"))
    return Workspace(
        key_policy=_pretty(key) if key is not None else "",
        identity_policies=tuple(identity),
        permissions_boundary=_pretty(policies["permissions_boundary"]) if policies.get("permissions_boundary") else "",
        session_policy=_pretty(policies["session_policy"]) if policies.get("session_policy") else "",
        scps=levels("scps", _account(out_request["principal"])),
        rcps=levels("rcps", _account(out_request["resource"])),
        grants=_pretty(policies["grants"]) if policies.get("grants") else "",
        request=out_request,
    )
