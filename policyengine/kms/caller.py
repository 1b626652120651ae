"""Who is calling the local KMS: a principal with its account, policies, tags and session facts.

A ``Caller`` is what the server builds from a verified request signature (or a test builds by
hand). Its identity policies, boundary, session policy and SCPs are compiled once, when the
caller is made, so every call it makes reuses them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from policyengine.evaluator.compiled import CompiledPolicy, compile_policy
from policyengine.model.policy import PolicyDocument
from policyengine.parsing.request import classify_caller


@dataclass(frozen=True)
class Caller:
    """A principal calling KMS, with what AWS knows about its session."""

    principal: str
    account: str
    identity_policies: tuple[PolicyDocument, ...] = ()
    permissions_boundary: PolicyDocument | None = None
    session_policy: PolicyDocument | None = None
    scp_levels: tuple[tuple[PolicyDocument, ...], ...] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    mfa: bool | None = None
    source_ip: str | None = "127.0.0.1"
    secure_transport: bool = True
    via_service: str | None = None
    user_agent: str = "policyengine"
    identity_arn: str | None = None
    user_id: str | None = None  # aws:userid (AIDA... for a user, AROA...:session for a role session)
    _compiled: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        classify_caller(self.principal)  # raises RequestError for a malformed principal
        compiled = self._compiled
        compiled["identity"] = tuple(
            compile_policy(doc, "identity", doc.id or _named(doc, f"identity policy {i + 1}"))
            for i, doc in enumerate(self.identity_policies)
        )
        compiled["boundary"] = (
            compile_policy(self.permissions_boundary, "boundary", "permissions boundary") if self.permissions_boundary else None
        )
        compiled["session"] = (
            compile_policy(self.session_policy, "session_policy", "session policy") if self.session_policy else None
        )
        compiled["scps"] = (
            tuple(
                tuple(compile_policy(d, "scp", _named(d, f"scp level {i}")) for d in level)
                for i, level in enumerate(self.scp_levels)
            )
            if self.scp_levels is not None
            else None
        )

    @property
    def compiled_identity(self) -> tuple[CompiledPolicy, ...]:
        value = self._compiled["identity"]
        assert isinstance(value, tuple)
        return value

    @property
    def compiled_boundary(self) -> CompiledPolicy | None:
        value = self._compiled["boundary"]
        return value if isinstance(value, CompiledPolicy) else None

    @property
    def compiled_session_policy(self) -> CompiledPolicy | None:
        value = self._compiled["session"]
        return value if isinstance(value, CompiledPolicy) else None

    @property
    def compiled_scps(self) -> tuple[tuple[CompiledPolicy, ...], ...] | None:
        value = self._compiled["scps"]
        return value if isinstance(value, tuple) else None

    @property
    def is_root(self) -> bool:
        return self.principal.endswith(":root")


def _named(document: PolicyDocument, fallback: str) -> str:
    """A policy's name in explanations: the name it was parsed under (a snapshot's "SCP FullAWSAccess",
    a file's path), else ``fallback``."""
    return fallback if document.source == "<policy>" else document.source


def root_caller(account: str, **facts: object) -> Caller:
    """The root user of ``account`` (needs no identity policy in its own account)."""
    return Caller(principal=f"arn:aws:iam::{account}:root", account=account, **facts)  # type: ignore[arg-type]


def caller_with_policies(principal: str, account: str, policies: Sequence[PolicyDocument], **facts: object) -> Caller:
    """A caller holding the given identity policies."""
    return Caller(principal=principal, account=account, identity_policies=tuple(policies), **facts)  # type: ignore[arg-type]
