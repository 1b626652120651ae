"""The policies around a key policy that an offline check judges it inside.

A key-policy change is only new access if the rest of the policy set lets it through: the
caller's identity policies, permissions boundary and session policy, the SCP levels of the
caller's account, the RCP levels of the key's account, the policy of the VPC endpoint a request
comes through, and the key's grants (SEMANTICS §1-4). ``Surroundings`` holds them as the
evaluator compiled them; ``encode.py`` turns each into pieces of the shared combining rule, and
the replay hands the same policies to ``authorize``.

Who has which IAM policies: a ``Holder`` is one principal whose policies are known (a user, or a
role together with all its sessions, or an account's root). Every other caller's IAM policies are
unknown to the check (a free Boolean), and so are its permissions boundary and session policy
(another free Boolean: "they allow this request"); see ``Surroundings.caps_unknown``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import cast

from policyengine.analysis.universe import CallerKind, group_of
from policyengine.errors import RequestError
from policyengine.evaluator.authorizer import PolicySet, trust_gated
from policyengine.evaluator.compiled import CompiledPolicy
from policyengine.model.grant import Grant
from policyengine.model.request import ContextValue, Request
from policyengine.parsing.request import classify_caller

Levels = tuple[tuple[CompiledPolicy, ...], ...]
Group = tuple[str | None, ...]


@dataclass(frozen=True, slots=True)
class Holder:
    """A principal whose IAM side is known: its identity policies, boundary and session policy.

    ``principal`` is a user ARN, a role ARN (its sessions share the policies) or an account's
    root. The session policy applies to every request of the holder, as ``PolicySet`` applies it.
    """

    principal: str
    identity: tuple[CompiledPolicy, ...] = ()
    boundary: CompiledPolicy | None = None
    session_policy: CompiledPolicy | None = None
    #: Whether its permissions boundary is known (``boundary`` None: it has none); otherwise its
    #: boundary and session policy are unknown to the check, as any other caller's.
    caps_known: bool = True
    #: Context keys every request of the holder carries with these values (tags, organization,
    #: user id, as ``can`` takes them from a snapshot); its other ``aws:PrincipalTag/`` keys are absent.
    facts: Mapping[str, ContextValue] | None = None

    @property
    def group(self) -> Group:
        ref = classify_caller(self.principal)
        if ref.kind not in ("account", "user", "role", "assumed_role", "federated_user"):
            raise RequestError(f"`{self.principal}`: only users, roles and account roots have identity policies")
        return group_of(cast(CallerKind, ref.kind), ref.partition, ref.account, ref.name)

    def policies(self) -> list[CompiledPolicy]:
        return [*self.identity, *(p for p in (self.boundary, self.session_policy) if p is not None)]


@dataclass(frozen=True, slots=True)
class Surroundings:
    """Everything besides the key policy that decides requests on the key.

    ``scp_levels``: SCP levels by the caller's account id (root level first). ``rcp_levels``:
    RCP levels by the key's account id (RCPFullAWSAccess implied at each level, as in
    ``PolicySet``). ``endpoints``: (VPC endpoint id, its policy); an id of ``None`` stands for
    whichever endpoint a request with ``aws:SourceVpce`` comes through. ``grants``: the key's grants.
    ``account_facts``: context keys every caller of an account carries (its organization);
    ``key_facts``: context keys every request on ``key`` carries (its tags, organization, spec).
    ``sessions_known``: the holders' session policies are known (a snapshot knows none: a session
    policy is chosen per session, so there they are unknown, as every unknown caller's caps are).
    """

    holders: tuple[Holder, ...] = ()
    scp_levels: Mapping[str, Levels] = field(default_factory=dict)
    rcp_levels: Mapping[str, Levels] = field(default_factory=dict)
    management_account: str | None = None
    endpoints: tuple[tuple[str | None, CompiledPolicy], ...] = ()
    grants: tuple[Grant, ...] = ()
    account_facts: Mapping[str, Mapping[str, ContextValue]] = field(default_factory=dict)
    key: str | None = None
    key_facts: Mapping[str, ContextValue] = field(default_factory=dict)
    sessions_known: bool = False

    def policies(self) -> list[CompiledPolicy]:
        """Every policy of the surroundings (the solver's keys, names and alphabet come from them)."""
        found = [p for holder in self.holders for p in holder.policies()]
        for levels in (*self.scp_levels.values(), *self.rcp_levels.values()):
            found.extend(p for level in levels for p in level)
        found.extend(policy for _, policy in self.endpoints)
        return found

    def caps_unknown(self, kind: str, group: Group) -> bool:
        """Whether a caller of this kind and group may have a permissions boundary or session policy
        the check does not know (a free Boolean "they allow the request", shared by both sides of a
        comparison; a replay that needs them to refuse gives the caller a session policy that
        allows nothing). The root user and services have neither."""
        if kind not in ("user", "role", "assumed_role", "federated_user"):
            return False
        holder = next((h for h in self.holders if h.group == group), None)
        if holder is None or not holder.caps_known:
            return True
        return not self.sessions_known and holder.session_policy is None and kind in ("assumed_role", "federated_user")

    def holds(self, principal: str) -> bool:
        """Whether the IAM policies of ``principal`` (or of its role, for a session) are known here."""
        group = Holder(principal).group
        return any(h.group == group for h in self.holders)

    def with_identity(self, principal: str | None, identity: tuple[CompiledPolicy, ...], known: bool) -> Surroundings:
        """These surroundings with ``principal``'s identity policies replaced by ``identity`` when
        ``known`` (otherwise they stay what the surroundings say, or unknown when they say nothing)."""
        if principal is None or not known:
            return self
        group = Holder(principal).group
        others = tuple(h for h in self.holders if h.group != group)
        existing = next((h for h in self.holders if h.group == group), None)
        base = existing or Holder(principal, caps_known=False)
        return replace(self, holders=(*others, replace(base, identity=identity)))


def from_policy_set(request: Request, policies: PolicySet) -> Surroundings:
    """The surroundings a ``PolicySet`` gives one request's caller (its IAM side is fully known)."""
    if trust_gated(policies, request):
        raise RequestError("role trust policies are not part of the offline checks' model (they decide sts:AssumeRole*)")
    holders: tuple[Holder, ...] = ()
    if request.caller.kind != "service":
        owner = request.identity_arn or request.principal
        holders = (Holder(owner, policies.identity, policies.boundary, policies.session_policy),)
    scps = {request.principal_account: policies.scp_levels} if policies.scp_levels and request.principal_account else {}
    rcps = {request.resource_account: policies.rcp_levels} if policies.rcp_levels and request.resource_account else {}
    endpoints = ((None, policies.endpoint_policy),) if policies.endpoint_policy is not None else ()
    return Surroundings(holders, scps, rcps, policies.management_account, endpoints, policies.grants, sessions_known=True)
