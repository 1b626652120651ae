"""Plain-English summaries of statements and conditions, for the tour, explanations and access answers."""

from __future__ import annotations

from policyengine.model.policy import PrincipalBlock, PrincipalEntry, Statement

_REF_WORDS = {
    "any": "every authenticated AWS principal",
    "service": "the service",
    "federated": "users federated through",
    "canonical_user": "the canonical user",
    "unique_id": "the deleted principal with unique id",
    "invalid": "the invalid principal",
}


def describe_principal_entry(entry: PrincipalEntry) -> str:
    """One principal in words, e.g. ``account 111122223333 (IAM policies decide)``."""
    ref = entry.ref
    if ref.kind == "account":
        return f"account {ref.account} (its IAM policies decide who)"
    if ref.kind == "user":
        return f"IAM user {ref.name} of {ref.account}"
    if ref.kind == "role":
        return f"role {ref.name} of {ref.account} (every session of it)"
    if ref.kind == "assumed_role":
        return f"session {ref.session} of role {ref.name} in {ref.account}"
    if ref.kind == "federated_user":
        return f"federated user {ref.name} of {ref.account}"
    return f"{_REF_WORDS.get(ref.kind, ref.kind)} `{entry.value}`"


def describe_principals(block: PrincipalBlock) -> str:
    """Everyone a Principal element names, joined with commas."""
    if block.wildcard:
        return "everyone (`*`), anonymous callers included"
    return ", ".join(describe_principal_entry(e) for e in block.entries)


def describe_statement(statement: Statement) -> str:
    """A one-line summary: effect, who, which actions, on what, and under which conditions."""
    parts: list[str] = [statement.effect]
    if statement.principal is not None:
        parts.append(describe_principals(statement.principal))
    if statement.not_principal is not None:
        parts.append(f"everyone except {describe_principals(statement.not_principal)}")
    if statement.action is not None:
        parts.append(", ".join(a.value for a in statement.action))
    elif statement.not_action is not None:
        parts.append("every action except " + ", ".join(a.value for a in statement.not_action))
    if statement.resource is not None:
        resources = [r.value for r in statement.resource]
        parts.append("on " + ("this key / any resource" if resources == ["*"] else ", ".join(resources)))
    elif statement.not_resource is not None:
        parts.append("on every resource except " + ", ".join(r.value for r in statement.not_resource))
    if statement.conditions:
        tests = [f"{c.key} {c.operator} {'|'.join(v.value for v in c.values)}" for c in statement.conditions]
        parts.append("when " + " AND ".join(tests))
    return " — ".join(parts)


_SYMBOL = {
    "StringEquals": "=",
    "StringNotEquals": "!=",
    "StringEqualsIgnoreCase": "= (any case)",
    "StringNotEqualsIgnoreCase": "!= (any case)",
    "StringLike": "like",
    "StringNotLike": "not like",
    "NumericEquals": "=",
    "NumericNotEquals": "!=",
    "NumericLessThan": "<",
    "NumericLessThanEquals": "<=",
    "NumericGreaterThan": ">",
    "NumericGreaterThanEquals": ">=",
    "DateEquals": "=",
    "DateNotEquals": "!=",
    "DateLessThan": "before",
    "DateLessThanEquals": "at or before",
    "DateGreaterThan": "after",
    "DateGreaterThanEquals": "at or after",
    "Bool": "=",
    "BinaryEquals": "=",
    "IpAddress": "in",
    "NotIpAddress": "not in",
    "ArnEquals": "like",
    "ArnLike": "like",
    "ArnNotEquals": "not like",
    "ArnNotLike": "not like",
}


def describe_condition(
    operator: str, base: str, qualifier: str | None, if_exists: bool, key: str, values: tuple[str, ...]
) -> str:
    """A condition in words: ``kms:ViaService in {a, b}``, ``aws:SourceIp not in 10.0.0.0/8``."""
    if base == "Null":
        wants_absent = [v.lower() == "true" for v in values]
        if all(wants_absent):
            return f"{key} is absent"
        if not any(wants_absent):
            return f"{key} is present"
        return f"{key} is absent or present"
    symbol = _SYMBOL.get(base)
    if symbol is None:
        return f"{operator} {key} {' | '.join(values)}"
    if len(values) == 1:
        shown = values[0]
    else:
        shown = "{" + ", ".join(values) + "}"
        symbol = {"=": "in", "!=": "not in"}.get(symbol, symbol if symbol in ("in", "not in") else f"{symbol} one of")
        if symbol.startswith("not ") and symbol.endswith(" one of"):
            symbol = symbol.removesuffix(" one of") + " any of"
    subject = key
    if qualifier == "ForAnyValue":
        subject = f"some value of {key}"
    elif qualifier == "ForAllValues":
        subject = f"every value of {key} (or none)"
    text = f"{subject} {symbol} {shown}"
    if if_exists:
        text += f" (or {key} absent)"
    return text
