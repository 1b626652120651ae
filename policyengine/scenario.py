"""Scenarios: everything one authorization question needs, read from a file or a dict.

A scenario has ``policies`` (key policy or resource policy, a role's trust policy for
``sts:AssumeRole*``, a VPC endpoint policy for requests with ``aws:SourceVpce``, identity
policies by identity ARN, boundary, session policy, SCP and RCP levels by account, grants) and a
``request``. JSON files are read with
source positions, so a deciding statement points into the scenario file itself (or into the
policy file a scenario names by path). Unknown fields are errors: a typo must not silently
change the question.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from policyengine._catalog import unknown_action
from policyengine.aws_facts import key_state_error
from policyengine.errors import PolicyInputError, RequestError, ScenarioError
from policyengine.evaluator.authorizer import PolicySet, authorize
from policyengine.evaluator.compiled import CompiledPolicy, compile_policy
from policyengine.explain.decision import Decision, EvalNote, PolicyKind
from policyengine.model.grant import Grant
from policyengine.model.policy import PolicyDocument
from policyengine.model.request import Request
from policyengine.parsing.document import parse_json_with_positions, parse_policy, read_text
from policyengine.parsing.json_tree import JNode, from_python, load_fast
from policyengine.parsing.reader import read_document
from policyengine.parsing.request import classify_caller, make_grant, make_request
from policyengine.parsing.strings import parse_arn

POLICY_FIELDS = {
    "key_policy",
    "resource_policy",
    "identity_policies",
    "permissions_boundary",
    "session_policy",
    "scps",
    "rcps",
    "management_account",
    "grants",
    "trust_policy",
    "endpoint_policy",
}
REQUEST_FIELDS = {
    "principal",
    "identity_arn",
    "principal_account",
    "resource_account",
    "action",
    "resource",
    "context",
    "encryption_context",
    "grant_tokens",
    "key_state",
    "new_key_policy",
    "bypass_policy_lockout_safety_check",
    "grant_id",
}
GRANT_FIELDS = {
    "grant_id",
    "key_arn",
    "grantee_principal",
    "operations",
    "constraints",
    "retiring_principal",
    "name",
    "grant_token",
    "pending",
    "issuing_account",
}
KEY_STATES = {
    "Enabled",
    "Disabled",
    "PendingDeletion",
    "PendingImport",
    "PendingReplicaDeletion",
    "Unavailable",
    "Creating",
    "Updating",
}


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario: the request and all the policies that could bear on it."""

    source: str
    request: Request
    policies: PolicySet
    key_state: str | None = None


class _ScenarioReader:
    def __init__(self, source: str, text: str | None, base_dir: Path | None) -> None:
        self.source = source
        self.text = text
        self.base_dir = base_dir

    def fail(self, where: str, message: str, node: JNode | None = None) -> ScenarioError:
        position = f":{node.span.line}:{node.span.column}" if node is not None and node.span is not None else ""
        return ScenarioError(f"{self.source}{position}: `{where}`: {message}")

    def members(self, node: JNode, where: str, allowed: set[str] | None = None) -> dict[str, JNode]:
        if node.kind != "object":
            raise self.fail(where, "must be an object", node)
        out: dict[str, JNode] = {}
        for key, value in node.value:
            if allowed is not None and key.value not in allowed:
                raise self.fail(f"{where}.{key.value}", f"unknown field (expected one of {', '.join(sorted(allowed))})", key)
            out[key.value] = value
        return out

    def name(self, document: PolicyDocument, default: str) -> str:
        """A policy read from its own file is named by the file; an inline one by its role."""
        return document.source if document.source != self.source else default

    def string(self, node: JNode, where: str) -> str:
        if node.kind != "string":
            raise self.fail(where, "must be a string", node)
        return str(node.value)

    def policy(self, node: JNode, where: str) -> PolicyDocument:
        try:
            if node.kind == "string":
                path = Path(node.value)
                if self.base_dir is not None and not path.is_absolute():
                    path = Path(os.path.normpath(self.base_dir / path))
                shown = os.path.relpath(path) if path.is_absolute() else str(path)
                source, text = read_text(path)
                source = shown if not shown.startswith("..") else source
                return parse_policy(text, source)
            return read_document(node, self.source, 0)
        except PolicyInputError as exc:
            if exc.text is None and self.text is not None:
                raise type(exc)(exc.source, exc.issues, self.text) from None
            raise

    def policy_list(self, node: JNode, where: str) -> list[PolicyDocument]:
        items = node.value if node.kind == "array" else [node]
        return [self.policy(item, f"{where}[{i}]") for i, item in enumerate(items)]

    def levels(self, node: JNode, where: str, kind: PolicyKind) -> dict[str, tuple[tuple[CompiledPolicy, ...], ...]]:
        out: dict[str, tuple[tuple[CompiledPolicy, ...], ...]] = {}
        for account, levels in self.members(node, where).items():
            if levels.kind != "array":
                raise self.fail(f"{where}.{account}", "must be a list of levels (each a list of policies)", levels)
            compiled_levels = []
            for i, level in enumerate(levels.value):
                docs = self.policy_list(level, f"{where}.{account}[{i}]")
                compiled_levels.append(tuple(compile_policy(d, kind, f"{kind}:{account}:level{i}") for d in docs))
            out[account] = tuple(compiled_levels)
        return out

    def grant(self, node: JNode, where: str) -> Grant:
        fields = self.members(node, where, GRANT_FIELDS)
        for required in ("grant_id", "key_arn", "grantee_principal", "operations"):
            if required not in fields:
                raise self.fail(where, f"missing `{required}`", node)
        data = {k: v.to_python() for k, v in fields.items()}
        try:
            return make_grant(
                str(data.pop("grant_id")),
                str(data.pop("key_arn")),
                str(data.pop("grantee_principal")),
                list(data.pop("operations")),
                **data,
            )
        except (RequestError, TypeError) as exc:
            raise self.fail(where, str(exc), node) from None

    def scenario(self, root: JNode) -> Scenario:
        top = self.members(root, "scenario", {"policies", "request"})
        if "request" not in top:
            raise self.fail("scenario", "missing `request`", root)
        policies_node = top.get("policies", JNode("object", [], None))
        policies = self.members(policies_node, "policies", POLICY_FIELDS)
        request_fields = self.members(top["request"], "request", REQUEST_FIELDS)
        for required in ("principal", "action", "resource"):
            if required not in request_fields:
                raise self.fail("request", f"missing `{required}`", top["request"])
        values: dict[str, Any] = {}
        for name, node in request_fields.items():
            if name == "new_key_policy":
                values[name] = self.policy(node, "request.new_key_policy")
            else:
                values[name] = node.to_python()
        key_state = values.pop("key_state", None)
        if key_state is not None and key_state not in KEY_STATES:
            raise self.fail("request.key_state", f"`{key_state}` is not a key state ({', '.join(sorted(KEY_STATES))})")
        for name in ("principal", "action", "resource"):
            if not isinstance(values[name], str):
                raise self.fail(f"request.{name}", "must be a string", request_fields[name])
        unknown = unknown_action(values["action"])
        if unknown is not None:
            raise self.fail("request.action", unknown, request_fields["action"])
        try:
            request = make_request(
                values.pop("principal"),
                values.pop("action"),
                values.pop("resource"),
                values.pop("context", None),
                **values,
                key_state=key_state,
            )
        except RequestError as exc:
            raise self.fail("request", str(exc), top["request"]) from None
        except TypeError as exc:
            raise self.fail("request", f"a field has the wrong type ({exc})", top["request"]) from None

        if "key_policy" in policies and "resource_policy" in policies:
            raise self.fail("policies", "give `key_policy` or `resource_policy`, not both", policies_node)
        resource_policy: CompiledPolicy | None = None
        if "key_policy" in policies:
            doc = self.policy(policies["key_policy"], "policies.key_policy")
            resource_policy = compile_policy(doc, "key_policy", self.name(doc, "key policy"))
        elif "resource_policy" in policies:
            doc = self.policy(policies["resource_policy"], "policies.resource_policy")
            resource_policy = compile_policy(doc, "resource_policy", self.name(doc, "resource policy"))
        identity: list[CompiledPolicy] = []
        if "identity_policies" in policies:
            table = self.members(policies["identity_policies"], "policies.identity_policies")
            chosen = _identity_entry(table, request)
            if chosen is not None:
                arn, node = chosen
                docs = self.policy_list(node, f"policies.identity_policies.{arn}")
                identity = [
                    compile_policy(d, "identity", self.name(d, d.id or f"identity policy {i + 1} of {arn}"))
                    for i, d in enumerate(docs)
                ]
        boundary = session = None
        if "permissions_boundary" in policies:
            doc = self.policy(policies["permissions_boundary"], "policies.permissions_boundary")
            boundary = compile_policy(doc, "boundary", self.name(doc, "permissions boundary"))
        if "session_policy" in policies:
            doc = self.policy(policies["session_policy"], "policies.session_policy")
            session = compile_policy(doc, "session_policy", self.name(doc, "session policy"))
        trust = endpoint = None
        if "trust_policy" in policies:
            doc = self.policy(policies["trust_policy"], "policies.trust_policy")
            trust = compile_policy(doc, "trust_policy", self.name(doc, "trust policy"))
        if "endpoint_policy" in policies:
            doc = self.policy(policies["endpoint_policy"], "policies.endpoint_policy")
            endpoint = compile_policy(doc, "endpoint_policy", self.name(doc, "VPC endpoint policy"))
        scps = self.levels(policies["scps"], "policies.scps", "scp") if "scps" in policies else {}
        rcps = self.levels(policies["rcps"], "policies.rcps", "rcp") if "rcps" in policies else {}
        grants: list[Grant] = []
        if "grants" in policies:
            node = policies["grants"]
            if node.kind != "array":
                raise self.fail("policies.grants", "must be a list", node)
            grants = [self.grant(g, f"policies.grants[{i}]") for i, g in enumerate(node.value)]
        management = policies.get("management_account")
        policy_set = PolicySet(
            key_policy=resource_policy,
            identity=tuple(identity),
            boundary=boundary,
            session_policy=session,
            scp_levels=scps.get(request.principal_account or "") if scps else None,
            rcp_levels=rcps.get(request.resource_account or "") if rcps else None,
            grants=tuple(grants),
            management_account=self.string(management, "policies.management_account") if management else None,
            trust_policy=trust,
            endpoint_policy=endpoint,
        )
        return Scenario(self.source, request, policy_set, key_state)


def _identity_entry(table: Mapping[str, JNode], request: Request) -> tuple[str, JNode] | None:
    """The identity-policy entry of the caller: exact ARN, or the same user/role ignoring its path."""
    wanted = request.identity_arn or request.principal
    if wanted in table:
        return wanted, table[wanted]
    target = classify_caller(wanted) if parse_arn(wanted) else None
    for arn, node in table.items():
        if target is None or parse_arn(arn) is None:
            continue
        ref = classify_caller(arn)
        if (ref.kind, ref.account, ref.name) == (target.kind, target.account, target.name):
            return arn, node
    return None


def read_scenario(node: JNode, source: str, text: str | None = None, base_dir: Path | None = None) -> Scenario:
    """A scenario from JSON nodes (used for files and for conformance vectors)."""
    return _ScenarioReader(source, text, base_dir).scenario(node)


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file: JSON with positions, or YAML (``.yaml``/``.yml``)."""
    source, text = read_text(path)
    base_dir = Path(path).parent if str(path) != "-" else Path.cwd()
    if str(path).endswith((".yaml", ".yml")):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or "invalid YAML"
            raise ScenarioError(f"{source}{where}: {problem}") from None
        root = _from_plain(data, source)
        return read_scenario(root, source, None, base_dir)
    root = parse_json_with_positions(text, source)
    return read_scenario(root, source, text, base_dir)


def _from_plain(data: Any, source: str) -> JNode:
    try:
        return load_fast(json.dumps(data))
    except (TypeError, ValueError):
        raise ScenarioError(f"{source}: the scenario holds values that are not JSON (dates? use strings)") from None


def scenario_from_dict(data: Mapping[str, Any], source: str = "<scenario>") -> Scenario:
    """A scenario from plain Python data (the ``simulate`` API)."""
    return read_scenario(_from_plain(dict(data), source), source)


def simulate(scenario: Mapping[str, Any] | Scenario, *, trace: bool = False) -> Decision:
    """AWS's decision for a scenario; see the module docstring for the scenario's shape."""
    parsed = scenario if isinstance(scenario, Scenario) else scenario_from_dict(scenario)
    decision = authorize(parsed.request, parsed.policies, trace=trace)
    if decision.allowed and parsed.key_state is not None:
        error = key_state_error(parsed.request.action.partition(":")[2], parsed.key_state)
        if error is not None:
            note = EvalNote("key_state", f"authorized, but the key is {parsed.key_state}: the call fails with {error}")
            decision = Decision(
                decision.decision,
                decision.deciding,
                decision.reason,
                (*decision.notes, note),
                decision.statements,
                decision.facts,
            )
    return decision


__all__ = ["Scenario", "from_python", "load_scenario", "read_scenario", "scenario_from_dict", "simulate"]
