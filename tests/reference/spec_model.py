"""A definitional model of the authorization rules, for differential testing only.

Written to be read, not to be fast: plain dicts in, a (decision, reason) pair out, no caching,
no compilation, no cleverness. It covers the subset the property tests generate: identity
policies, a key policy with account or direct principals, a boundary, the KMS gate and
cross-account rule, and the operators StringEquals, StringNotEquals, StringLike, NumericLessThan,
Bool and Null with IfExists and the two set qualifiers. Never imported by the package.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any


def glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_one(op: str, request_value: str, policy_value: str) -> bool:
    if op in ("StringEquals", "StringNotEquals"):
        return request_value == policy_value
    if op == "StringLike":
        return glob(policy_value, request_value)
    if op == "NumericLessThan":
        try:
            return float(request_value) < float(policy_value)
        except ValueError:
            return False
    if op == "Bool":
        return request_value.lower() == policy_value.lower()
    raise ValueError(op)


def condition_holds(full_op: str, key: str, values: list[str], context: dict[str, Any]) -> bool:
    qualifier, _, op = full_op.rpartition(":")
    if_exists = op.endswith("IfExists")
    op = op.removesuffix("IfExists")
    raw = next((v for k, v in context.items() if k.lower() == key.lower()), None)
    request_values = [] if raw is None else as_list(raw)
    if op == "Null":
        return any((v == "true") == (not request_values) for v in values)
    negated = op == "StringNotEquals"
    if not request_values:
        if qualifier == "ForAllValues" or if_exists:
            return True
        return qualifier == "" and negated
    hits = [any(test_one(op, rv, pv) for pv in values) for rv in request_values]
    if qualifier == "ForAllValues":
        return all((not h) if negated else h for h in hits)
    if qualifier == "ForAnyValue":
        return any((not h) if negated else h for h in hits)
    return (not any(hits)) if negated else any(hits)


def statement_applies(statement: dict[str, Any], request: dict[str, Any]) -> bool:
    action = request["action"]
    if "Action" in statement and not any(glob(p, action, True) for p in as_list(statement["Action"])):
        return False
    if "NotAction" in statement and any(glob(p, action, True) for p in as_list(statement["NotAction"])):
        return False
    if not any(fnmatch.fnmatchcase(request["resource"], p) for p in as_list(statement.get("Resource", "*"))):
        return False
    for op, block in statement.get("Condition", {}).items():
        for key, values in block.items():
            if not condition_holds(op, key, [str(v) for v in as_list(values)], request["context"]):
                return False
    return True


def principal_kind(statement: dict[str, Any], request: dict[str, Any]) -> str | None:
    """'direct', 'role' (direct to a role: caps apply) or 'account' when the Principal names the caller."""
    named = as_list(statement.get("Principal", {}).get("AWS", []))
    caller, role, account = request["principal"], request.get("role"), request["account"]
    if caller in named:
        return "direct"
    if role is not None and role in named:
        return "role"
    if f"arn:aws:iam::{account}:root" in named or account in named:
        return "account"
    return None


def decide(policies: dict[str, Any], request: dict[str, Any]) -> tuple[str, str]:
    key_policy = policies.get("key_policy", {"Statement": []})
    identity = [s for doc in policies.get("identity", []) for s in doc["Statement"]]
    boundary = policies.get("boundary")
    key_hits = [(s, principal_kind(s, request)) for s in key_policy["Statement"] if statement_applies(s, request)]
    key_hits = [(s, kind) for s, kind in key_hits if kind is not None]
    id_hits = [s for s in identity if statement_applies(s, request)]
    b_hits = [s for s in boundary["Statement"] if statement_applies(s, request)] if boundary else []
    if any(s["Effect"] == "Deny" for s in [*id_hits, *b_hits, *(s for s, _ in key_hits)]):
        return "explicit_deny", "explicit_deny"
    kinds = {kind for s, kind in key_hits if s["Effect"] == "Allow"}
    identity_allows = any(s["Effect"] == "Allow" for s in id_hits)
    boundary_ok = boundary is None or any(s["Effect"] == "Allow" for s in b_hits)
    cross = request["account"] != request["resource_account"]
    if cross:
        if kinds and identity_allows and boundary_ok:
            return "allow", "allowed"
        if kinds and identity_allows:
            return "implicit_deny", "boundary_cap"
        if kinds:
            return "implicit_deny", "cross_account_needs_identity_allow"
        return "implicit_deny", "key_policy_does_not_trust_account" if identity_allows else "no_allow"
    if "direct" in kinds:
        return "allow", "allowed"
    capped = "role" in kinds or ("account" in kinds and identity_allows)
    if capped:
        return ("allow", "allowed") if boundary_ok else ("implicit_deny", "boundary_cap")
    if identity_allows and "account" not in kinds:
        return "implicit_deny", "key_policy_does_not_trust_account"
    return "implicit_deny", "no_allow"
