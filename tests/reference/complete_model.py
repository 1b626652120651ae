"""A definitional model of AWS's decision over COMPLETE scenarios, for differential testing only.

Written from SEMANTICS.md (§1-4) and the AWS pages the conformance vectors cite, as a direct
decision procedure: plain dicts in (the scenario format of ``policyengine.scenario``), a
(decision, reason) pair out. It covers every policy kind the generator of
``tests/properties/test_complete_differential.py`` produces: key policy, identity policies,
permissions boundary, session policy, SCP levels, RCP levels, VPC endpoint policy, grants with
encryption-context constraints, tokens and pending state; same- and cross-account callers (users,
role sessions, a role ARN as caller, the account root, a service principal). It shares no code
with the package and never imports it; the reasons follow the decision tree SEMANTICS §2-3 draws
(not the package's counterfactual rule), so the two derivations check each other.
"""

from __future__ import annotations

import re
from typing import Any

CROSS_OK = {
    "decrypt",
    "encrypt",
    "describekey",
    "generatedatakey",
    "creategrant",
    "retiregrant",
    "reencryptfrom",
    "reencryptto",
    "sign",
    "verify",
}
CONTEXT_OPS = {"decrypt", "encrypt", "generatedatakey", "reencryptfrom", "reencryptto"}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


def resource_matches(pattern: str, resource: str) -> bool:
    """Resource element: wildcards stay inside a colon segment, except one ending a segment (IAM UG)."""
    if pattern == "*":
        return True
    p_parts, r_parts = pattern.split(":", 5), resource.split(":", 5)
    if len(p_parts) != 6 or len(r_parts) != 6:
        return glob(pattern, resource)
    return all(glob(p, r) for p, r in zip(p_parts, r_parts, strict=True))


class Caller:
    """Who is asking, in the terms the rules need."""

    def __init__(self, principal: str) -> None:
        self.text = principal
        self.service = principal.endswith(".amazonaws.com")
        self.account = None if self.service else principal.split(":")[4]
        self.kind = "service"
        self.role: str | None = None
        if not self.service:
            resource = principal.split(":", 5)[5]
            if resource == "root":
                self.kind = "root"
            elif resource.startswith("user/"):
                self.kind = "user"
            elif resource.startswith("role/"):
                self.kind = "role"
                self.role = principal
            elif resource.startswith("assumed-role/"):
                self.kind = "session"
                self.role = f"arn:aws:iam::{self.account}:role/{resource.split('/')[1]}"


def names_caller(principal: Any, caller: Caller) -> str | None:
    """How a Principal element names the caller: 'direct', 'role' (capped) or 'account'."""
    if principal == "*":
        return "direct"
    best = None
    for kind, values in principal.items():
        for value in as_list(values):
            if kind == "Service":
                if caller.service and value == caller.text:
                    return "direct"
                continue
            if kind == "AWS" and value == "*":
                return "direct"  # every authenticated caller, service principals included
            if kind != "AWS" or caller.service:
                continue
            if value == caller.text and caller.kind in ("user", "session"):
                return "direct"
            if caller.role is not None and value == caller.role:
                best = "role"
            if value in (caller.account, f"arn:aws:iam::{caller.account}:root") and best is None:
                best = "account"
    return best


def condition_holds(op: str, key: str, values: list[str], context: dict[str, Any]) -> bool:
    raw = next((v for k, v in context.items() if k.lower() == key.lower()), None)
    if op == "Null":
        return any((v == "true") == (raw is None) for v in values)
    if raw is None:
        return op == "StringNotEquals"
    if op == "StringEquals":
        return str(raw) in values
    if op == "StringNotEquals":
        return str(raw) not in values
    if op == "Bool":
        return str(raw).lower() in [v.lower() for v in values]
    raise ValueError(op)


def statement_applies(statement: dict[str, Any], action: str, resource: str, context: dict[str, Any]) -> bool:
    if "Action" in statement and not any(glob(p, action, True) for p in as_list(statement["Action"])):
        return False
    if not any(resource_matches(p, resource) for p in as_list(statement.get("Resource", "*"))):
        return False
    for op, block in statement.get("Condition", {}).items():
        for key, values in block.items():
            if not condition_holds(op, key, [str(v) for v in as_list(values)], context):
                return False
    return True


def hits(
    policy: dict[str, Any] | None, request: dict[str, Any], context: dict[str, Any], caller: Caller | None
) -> list[tuple[str, str | None]]:
    """(effect, how the principal is named) of each statement of ``policy`` that applies."""
    found = []
    for statement in (policy or {"Statement": []})["Statement"]:
        via = None
        if caller is not None:
            via = names_caller(statement["Principal"], caller)
            if via is None:
                continue
        if statement_applies(statement, request["action"], request["resource"], context):
            found.append((statement["Effect"], via))
    return found


def grant_allows(grant: dict[str, Any], request: dict[str, Any], caller: Caller) -> bool:
    operation = request["action"].split(":")[1]
    if grant["key_arn"] != request["resource"]:
        return False
    if operation.lower() not in [op.lower() for op in grant["operations"]]:
        return False
    grantee = grant["grantee_principal"]
    if grantee != caller.text and not (caller.role is not None and grantee == caller.role):
        return False
    if grant.get("pending") and grant.get("grant_token") not in request.get("grant_tokens", []):
        return False
    constraints = grant.get("constraints")
    if constraints and operation.lower() in CONTEXT_OPS:
        ec = {k.lower(): v for k, v in request.get("encryption_context", {}).items()}
        if "encryption_context_equals" in constraints:
            return ec == {k.lower(): v for k, v in constraints["encryption_context_equals"].items()}
        return all(ec.get(k.lower()) == v for k, v in constraints["encryption_context_subset"].items())
    return True


def decide(scenario: dict[str, Any]) -> tuple[str, str]:
    """AWS's (decision, reason) for a complete scenario."""
    policies, request = scenario["policies"], scenario["request"]
    caller = Caller(request["principal"])
    key_account = request["resource"].split(":")[4]
    context = {k.lower(): v for k, v in request.get("context", {}).items()}
    for k, v in request.get("encryption_context", {}).items():
        context[f"kms:encryptioncontext:{k.lower()}"] = v
    if caller.service:
        context["aws:principalisawsservice"] = "true"
    else:
        context.setdefault("aws:principalaccount", caller.account)
        context.setdefault("aws:principalarn", caller.role or caller.text)
    identity_docs = policies.get("identity_policies", {}).get(caller.role or request["principal"], [])
    identity = [h for doc in identity_docs for h in hits(doc, request, context, None)]
    boundary = policies.get("permissions_boundary")
    session = policies.get("session_policy")
    b_hits = hits(boundary, request, context, None) if boundary else []
    s_hits = hits(session, request, context, None) if session else []
    key_hits = hits(policies.get("key_policy"), request, context, caller)
    scp_levels = [] if caller.service else policies.get("scps", {}).get(caller.account, [])
    scp_hits = [[h for doc in level for h in hits(doc, request, context, None)] for level in scp_levels]
    rcp_on = not caller.service and request["action"].lower() != "kms:retiregrant"
    rcp_levels = policies.get("rcps", {}).get(key_account, []) if rcp_on else []
    rcp_hits = [h for level in rcp_levels for doc in level for h in hits(doc, request, context, caller)]
    endpoint = policies.get("endpoint_policy")
    through = endpoint is not None and "aws:sourcevpce" in context
    e_hits = hits(endpoint, request, context, caller) if through else []

    everything = [*identity, *b_hits, *s_hits, *(h for level in scp_hits for h in level), *rcp_hits, *e_hits, *key_hits]
    if any(effect == "Deny" for effect, _ in everything):
        return "explicit_deny", "explicit_deny"
    cross = not caller.service and caller.account != key_account
    if cross and request["action"].split(":")[1].lower() not in CROSS_OK:
        return "implicit_deny", "operation_not_cross_account"
    if any(not level for level in scp_hits):
        return "implicit_deny", "no_scp_allow"
    if through and not e_hits:
        return "implicit_deny", "no_endpoint_allow"

    named = {via for _, via in key_hits}
    identity_ok = bool(identity) or caller.kind == "root"
    boundary_ok = boundary is None or bool(b_hits)
    session_ok = session is None or bool(s_hits)
    caps_ok = boundary_ok and session_ok
    cap_reason = "boundary_cap" if not boundary_ok else "session_policy_cap"
    granted = any(grant_allows(g, request, caller) for g in policies.get("grants", []))
    if not cross:
        if "direct" in named:
            return "allow", "allowed"
        through_caps = "role" in named or ("account" in named and identity_ok)
        if through_caps and caps_ok:
            return "allow", "allowed"
        if granted:
            return "allow", "allowed"
        if through_caps:
            return "implicit_deny", cap_reason
        if identity_ok and "account" not in named:
            return "implicit_deny", "key_policy_does_not_trust_account"
        return "implicit_deny", "no_allow"
    if named and identity_ok and caps_ok:
        return "allow", "allowed"
    if granted:
        return "allow", "allowed"
    if named and identity_ok:
        return "implicit_deny", cap_reason
    if named:
        return "implicit_deny", "cross_account_needs_identity_allow"
    if identity_ok:
        return "implicit_deny", "key_policy_does_not_trust_account"
    return "implicit_deny", "no_allow"
