"""The question put to the evaluator: who asks to do what, on which resource, in which context.

A ``Request`` is built by ``policyengine.parsing.request.make_request`` (which classifies the
caller and fills in the context keys AWS sets); the evaluator only reads it. Context keys are
stored lowercased, because condition key names are case-insensitive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from policyengine.model.principal import PrincipalRef

if TYPE_CHECKING:
    from policyengine.model.policy import PolicyDocument

ContextValue = str | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Request:
    """One authorization question, with the caller already classified."""

    principal: str
    caller: PrincipalRef
    identity_arn: str | None
    principal_account: str | None
    resource_account: str | None
    action: str
    resource: str
    context: Mapping[str, ContextValue]
    encryption_context: Mapping[str, str] = field(default_factory=dict)
    grant_tokens: tuple[str, ...] = ()
    key_state: str | None = None
    new_key_policy: PolicyDocument | None = None
    bypass_policy_lockout_safety_check: bool = False
    grant_id: str | None = None
    action_lower: str = ""  # filled by __post_init__: the action, lowercased (actions match case-insensitively)
    service: str = ""  # filled by __post_init__: the action's service prefix, lowercased

    def __post_init__(self) -> None:
        lowered = self.action.lower()
        object.__setattr__(self, "action_lower", lowered)
        object.__setattr__(self, "service", lowered.partition(":")[0])

    @property
    def cross_account(self) -> bool:
        """True when caller and resource belong to different known accounts."""
        return (
            self.principal_account is not None
            and self.resource_account is not None
            and self.principal_account != self.resource_account
        )
