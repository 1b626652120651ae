"""The question put to the evaluator: who asks to do what, on which resource, in which context.

A ``Request`` is built by ``policyengine.parsing.request.make_request`` (which classifies the
caller and fills in the context keys AWS sets); the evaluator only reads it. Context keys are
stored lowercased, because condition key names are case-insensitive.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from policyengine.model.principal import PrincipalRef

if TYPE_CHECKING:
    from policyengine.model.policy import PolicyDocument

ContextValue = str | tuple[str, ...]


class Request:
    """One authorization question, with the caller already classified.

    A plain slotted class, built once per request and only read afterwards (nothing in the
    package assigns to a request after ``__init__``): a frozen dataclass costs a
    ``object.__setattr__`` per field, which was a third of a decision's time.
    ``action_lower`` and ``service`` are derived: the action lowercased (actions match
    case-insensitively) and its service prefix.
    """

    __slots__ = (
        "action",
        "action_lower",
        "bypass_policy_lockout_safety_check",
        "caller",
        "context",
        "encryption_context",
        "grant_id",
        "grant_tokens",
        "identity_arn",
        "key_state",
        "new_key_policy",
        "principal",
        "principal_account",
        "resource",
        "resource_account",
        "service",
    )

    def __init__(
        self,
        principal: str,
        caller: PrincipalRef,
        identity_arn: str | None,
        principal_account: str | None,
        resource_account: str | None,
        action: str,
        resource: str,
        context: Mapping[str, ContextValue],
        encryption_context: Mapping[str, str] | None = None,
        grant_tokens: tuple[str, ...] = (),
        key_state: str | None = None,
        new_key_policy: PolicyDocument | None = None,
        bypass_policy_lockout_safety_check: bool = False,
        grant_id: str | None = None,
    ) -> None:
        self.principal = principal
        self.caller = caller
        self.identity_arn = identity_arn
        self.principal_account = principal_account
        self.resource_account = resource_account
        self.action = action
        self.resource = resource
        self.context = context
        self.encryption_context: Mapping[str, str] = encryption_context if encryption_context is not None else {}
        self.grant_tokens = grant_tokens
        self.key_state = key_state
        self.new_key_policy = new_key_policy
        self.bypass_policy_lockout_safety_check = bypass_policy_lockout_safety_check
        self.grant_id = grant_id
        lowered = action.lower()
        self.action_lower = lowered
        self.service = lowered.partition(":")[0]

    def __repr__(self) -> str:
        return f"Request({self.principal!r}, {self.action!r}, {self.resource!r})"

    def with_context(self, context: Mapping[str, ContextValue], encryption_context: Mapping[str, str] | None = None) -> Request:
        """The same request with another (already canonical, lowercased) context, and encryption context if given."""
        return Request(
            self.principal,
            self.caller,
            self.identity_arn,
            self.principal_account,
            self.resource_account,
            self.action,
            self.resource,
            context,
            self.encryption_context if encryption_context is None else encryption_context,
            self.grant_tokens,
            self.key_state,
            self.new_key_policy,
            self.bypass_policy_lockout_safety_check,
            self.grant_id,
        )

    @property
    def cross_account(self) -> bool:
        """True when caller and resource belong to different known accounts."""
        return (
            self.principal_account is not None
            and self.resource_account is not None
            and self.principal_account != self.resource_account
        )
