"""What the evaluator returns: a Decision that names its reasons, never a bare bool.

These are frozen dataclasses with slots (not pydantic models) because one is built for every
decision on the hot path. ``deciding`` is always filled; the per-statement trace
(``statements``) only when a caller asked for it, so the untraced path stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from policyengine.model.span import Span

Effect = Literal["allow", "explicit_deny", "implicit_deny"]
PolicyKind = Literal[
    "key_policy",
    "resource_policy",
    "trust_policy",
    "endpoint_policy",
    "identity",
    "boundary",
    "session_policy",
    "scp",
    "rcp",
    "grant",
]
Outcome = Literal[
    "match", "no_match", "missing_key_true", "missing_key_false", "type_mismatch", "unsupported", "missing_variable"
]

#: Machine-readable reasons for a decision, with the sentence each one stands for.
REASONS: dict[str, str] = {
    "allowed": "an Allow applies and nothing denies",
    "explicit_deny": "a Deny statement matches; an explicit deny beats every allow",
    "no_allow": "no statement allows the request (implicit deny)",
    "key_policy_does_not_trust_account": "an IAM policy allows it, but the key policy neither names the caller nor "
    "lets its account in, so IAM policies do not count for this key",
    "cross_account_needs_identity_allow": "the key policy lets the other account in, but the caller's own IAM "
    "policies do not allow the action; cross-account access needs both sides",
    "cross_account_needs_resource_allow": "the caller's IAM policies allow it, but the resource's policy does not let "
    "the other account in; cross-account access needs both sides",
    "operation_not_cross_account": "this KMS operation cannot be used on a key in another account",
    "anonymous_not_accepted": "AWS KMS accepts signed requests only: an anonymous caller is refused whatever the key policy says",
    "no_scp_allow": "no service control policy allows the action at some level of the caller's organization",
    "resource_policy_excludes_caller": "the role's trust policy (or the key policy) names neither the caller nor its "
    "account, and it must",
    "no_endpoint_allow": "the request comes through a VPC endpoint whose policy does not allow it",
    "boundary_cap": "the caller's permissions boundary does not allow the action",
    "session_policy_cap": "the caller's session policy does not allow the action",
    "lockout_safety_check": "the new key policy would not let the caller call PutKeyPolicy again (the lockout safety check)",
}


#: How an allow came about (``Decision.facts`` key ``path``), in words that teach the rule.
ALLOW_PATHS: dict[str, str] = {
    "direct": "the key policy names the caller itself, which is enough on its own in the key's account",
    "role": "the key policy names the caller's role, which admits its sessions; a permissions boundary or session "
    "policy, where the caller has one, must allow too",
    "account": "the key policy lets the caller's account in, which makes IAM policies count; the caller's IAM "
    "policy allows the action (and any boundary and session policy allow it too)",
    "cross_account": "the key is in another account: its key policy lets the caller (or the caller's account) in, "
    "and the caller's own IAM policy allows the action; both sides are needed",
    "grant": "a grant on the key gives the caller this operation; grants only add access and never override a deny",
}


@dataclass(frozen=True, slots=True)
class StatementRef:
    """Which statement (or grant) took part: policy kind and name, index, Sid and span."""

    policy_kind: PolicyKind
    policy_name: str
    index: int
    sid: str | None
    effect: Literal["Allow", "Deny"]
    span: Span | None = None
    source: str | None = None  # the file the span points into, when it is not the policy's name

    @property
    def location(self) -> str | None:
        """``file:line:col`` of the statement, or None when unknown."""
        if self.span is None:
            return None
        return f"{self.source or self.policy_name}:{self.span.line}:{self.span.column}"

    @property
    def label(self) -> str:
        """``Sid`` when present, else ``<policy>#<index>``; grants are ``grant:<id>``."""
        if self.policy_kind == "grant":
            return f"grant:{self.sid}"
        return self.sid if self.sid is not None else f"{self.policy_name}#{self.index}"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "policy_kind": self.policy_kind,
            "policy": self.policy_name,
            "index": self.index,
            "sid": self.sid,
            "effect": self.effect,
            "label": self.label,
        }
        if self.span is not None:
            data["file"] = self.source or self.policy_name
            data["line"] = self.span.line
            data["column"] = self.span.column
        return data


@dataclass(frozen=True, slots=True)
class ElementResult:
    """Did one element (Principal, Action, Resource) match, through which pattern, and if not, why."""

    element: str
    matched: bool
    pattern: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ConditionResult:
    """One condition test: what was compared and how it came out."""

    operator: str
    key: str
    request_values: tuple[str, ...] | None
    policy_values: tuple[str, ...]
    outcome: Outcome
    matched: bool
    span: Span | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class StatementResult:
    """The full trace of one statement against one request."""

    ref: StatementRef
    matched: bool
    principal: ElementResult
    action: ElementResult
    resource: ElementResult
    conditions: tuple[ConditionResult, ...]


@dataclass(frozen=True, slots=True)
class EvalNote:
    """Something odd met while evaluating (an unsupported operator, a bad value); never an error."""

    code: str
    message: str
    ref: StatementRef | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer: ``decision``, the statements that decided it, a reason code, notes and trace."""

    decision: Effect
    deciding: tuple[StatementRef, ...] = ()
    reason: str = "no_allow"
    notes: tuple[EvalNote, ...] = ()
    statements: tuple[StatementResult, ...] | None = None
    facts: tuple[tuple[str, str], ...] = field(default=())

    @property
    def allowed(self) -> bool:
        """True only for ``allow``."""
        return self.decision == "allow"

    @property
    def reason_text(self) -> str:
        """The sentence the reason code stands for (sharpened by what the key policy did)."""
        if self.reason == "no_allow" and ("key_policy", "trusts_account") in self.facts:
            return (
                "the key policy lets the caller's account in, which makes IAM policies count, but no IAM "
                "policy of the caller allows the action (implicit deny)"
            )
        return REASONS.get(self.reason, self.reason)

    @property
    def path(self) -> str | None:
        """How an allow came about (``direct``, ``role``, ``account``, ``cross_account``, ``grant``)."""
        return dict(self.facts).get("path")

    @property
    def deciding_labels(self) -> tuple[str, ...]:
        return tuple(ref.label for ref in self.deciding)
