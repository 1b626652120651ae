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


#: A positive base operator's words when a request value matches, and when it does not.
_WORDS: dict[str, tuple[str, str]] = {
    "StringEquals": ("=", "!="),
    "StringEqualsIgnoreCase": ("= (any case)", "!= (any case)"),
    "StringLike": ("like", "not like"),
    "NumericEquals": ("=", "!="),
    "NumericLessThan": ("<", ">="),
    "NumericLessThanEquals": ("<=", ">"),
    "NumericGreaterThan": (">", "<="),
    "NumericGreaterThanEquals": (">=", "<"),
    "DateEquals": ("=", "!="),
    "DateLessThan": ("before", "at or after"),
    "DateLessThanEquals": ("at or before", "after"),
    "DateGreaterThan": ("after", "at or before"),
    "DateGreaterThanEquals": ("at or after", "before"),
    "Bool": ("=", "!="),
    "BinaryEquals": ("=", "!="),
    "IpAddress": ("in", "not in"),
    "ArnEquals": ("like", "not like"),
    "ArnLike": ("like", "not like"),
}
#: AWS's negated operators (true when the key is absent) and the positive operator each negates.
_NEGATED_OF = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}
#: How a symbol reads before a set of values: ``in {a, b}``, ``like none of {a, b}``.
_MANY = {"=": "in", "!=": "not in", "in": "in one of", "not in": "in none of", "not like": "like none of"}


def _compare(subject: str, base: str, symbol_index: int, values: tuple[str, ...]) -> str:
    """``subject symbol values``, the symbol being the base's match (0) or no-match (1) words."""
    symbol = _WORDS[base][symbol_index]
    if base == "Bool" and len(values) == 1 and values[0].lower() in ("true", "false"):
        # AWS's Bool keys hold "true" or "false": not matching one is being the other
        wanted = values[0].lower() == "true"
        return f"{subject} = {str(wanted if symbol_index == 0 else not wanted).lower()}"
    if len(values) == 1:
        return f"{subject} {symbol} {values[0]}"
    many = _MANY.get(symbol, f"{symbol} {'one' if symbol_index == 0 else 'all'} of")
    return f"{subject} {many} {{{', '.join(values)}}}"


def describe_condition(
    operator: str,
    base: str,
    qualifier: str | None,
    if_exists: bool,
    key: str,
    values: tuple[str, ...],
    *,
    negated: bool = False,
) -> str:
    """A condition (or, with ``negated``, its opposite) in words, saying where an absent key passes.

    ``kms:ViaService in {a, b}``; ``aws:SourceIp`` with NotIpAddress reads
    ``aws:SourceIp is absent or aws:SourceIp not in 10.0.0.0/8``, as AWS treats a negated operator
    on a missing key as met; the opposite of ``Bool aws:SecureTransport false`` reads
    ``aws:SecureTransport is absent or aws:SecureTransport = true`` (never "NOT ... = false").
    """
    if base == "Null":
        wants_absent = {v.lower() == "true" for v in values}
        if len(wants_absent) != 1:
            return f"{key} is absent or present" if not negated else f"never ({key} is absent and present)"
        return f"{key} is {'absent' if (True in wants_absent) != negated else 'present'}"
    positive = _NEGATED_OF.get(base, base)
    if positive not in _WORDS:
        text = f"{operator} {key} {' | '.join(values)}"
        return f"not ({text})" if negated else text
    matches = base == positive  # a positive operator is met by a matching value, a negated one by none
    if qualifier == "ForAllValues":
        # met when absent or every value is met; its opposite: some value is not
        if negated:
            return _compare(f"some value of {key}", positive, 1 if matches else 0, values)
        return f"{key} is absent or " + _compare(f"every value of {key}", positive, 0 if matches else 1, values)
    if qualifier == "ForAnyValue":
        absent_passes = if_exists
        subject, opposite = f"some value of {key}", f"every value of {key}"
    else:
        absent_passes = if_exists or not matches
        subject = opposite = key
    met = matches != negated
    text = _compare(subject if not negated else opposite, positive, 0 if met else 1, values)
    return f"{key} is absent or {text}" if absent_passes != negated else text
