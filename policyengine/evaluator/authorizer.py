"""``authorize``: AWS's decision for one request against one set of policies.

The order of the checks is AWS's (IAM UG, "Policy evaluation logic"; KMS DG, "Determining
access to an AWS KMS key"; SEMANTICS.md §1-4):

1. any matching Deny in any applicable policy -> explicit deny;
2. a KMS operation that cannot cross accounts, from another account -> implicit deny;
3. service control policies: every level of the caller's organization must allow;
4. resource control policies: only their denies count, because AWS attaches RCPFullAWSAccess
   to every root, OU and account and it cannot be detached;
5. a request through a VPC endpoint (``aws:SourceVpce``) must be allowed by the endpoint policy;
6. the allow sources: key policy or role trust policy (naming the caller directly, or its
   account, which only opens the door to IAM policies), identity policies, grants; same-account
   and cross-account rules differ;
7. the caps: permissions boundary and session policy, where the allow depends on them;
8. for PutKeyPolicy/CreateKey with a new policy, the lockout safety check.

Steps 1-7 gather what each policy says; how those pieces combine is the rule in ``rule.py``,
written once and shared with partial evaluation and the solver encoding. The function is pure:
it reads its arguments and returns a ``Decision``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from policyengine.aws_facts import SERVICE_LINKED_ROLE_PATH
from policyengine.evaluator.compiled import (
    Candidate,
    CandidateIndex,
    CompiledPolicy,
    OutcomeIndex,
    compile_policy,
    holding,
    merged_index,
)
from policyengine.evaluator.grants import matching_grants
from policyengine.evaluator.kms_rules import allowed_cross_account, is_key_request
from policyengine.evaluator.rule import ALLOW_PATHS, reason_bool
from policyengine.explain.decision import Decision, StatementRef
from policyengine.model.request import Request

if TYPE_CHECKING:
    from policyengine.model.grant import Grant  # annotations only: the evaluator runs without loading grants

# How an allow came about, for explanations (shared constants: nothing allocated per decision).
_PATH_DIRECT = (("path", "direct"),)
_PATH_ROLE = (("path", "role"),)
_PATH_ACCOUNT = (("path", "account"),)
_PATH_CROSS = (("path", "cross_account"),)
_PATH_GRANT = (("path", "grant"),)
# An implicit deny where the key policy let the account in but no IAM policy allowed.
_DOOR_OPEN = (("key_policy", "trusts_account"),)
_NO_FACTS: tuple[tuple[str, str], ...] = ()
_TRUST_ACTIONS = ("sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity", "sts:tagsession")


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Everything that can decide one caller's request, compiled.

    ``key_policy`` is the resource's policy (a KMS key policy, or any resource policy).
    ``trust_policy`` is a role's trust policy, which gates ``sts:AssumeRole*`` requests on that
    role like a key policy gates KMS requests (it must admit the caller). ``endpoint_policy`` is
    the policy of the VPC endpoint requests with ``aws:SourceVpce`` arrive through: it must allow
    them too. ``scp_levels`` are the SCPs of the caller's account (root level first);
    ``rcp_levels`` the RCPs of the resource's account (RCPFullAWSAccess is implied at each level:
    list only the others). ``None`` means no organization policies were given.
    """

    key_policy: CompiledPolicy | None = None
    identity: tuple[CompiledPolicy, ...] = ()
    boundary: CompiledPolicy | None = None
    session_policy: CompiledPolicy | None = None
    scp_levels: tuple[tuple[CompiledPolicy, ...], ...] | None = None
    rcp_levels: tuple[tuple[CompiledPolicy, ...], ...] | None = None
    grants: tuple[Grant, ...] = ()
    management_account: str | None = None
    trust_policy: CompiledPolicy | None = None
    endpoint_policy: CompiledPolicy | None = None
    #: Decision plans by caller and action (see ``_Plan``): filled on use, never compared or copied.
    plans: dict[tuple[str, str | None, str | None, str], _Plan] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def all_policies(self) -> list[CompiledPolicy]:
        """Every policy in the set, in the order explanations list them (the resource's first).

        The one list the trace, the context keys a question depends on and the playground's
        suggestions walk, so a policy kind added here is seen by all of them.
        """
        found = [p for p in (self.key_policy, self.trust_policy) if p is not None]
        found.extend(self.identity)
        found.extend(p for p in (self.boundary, self.session_policy, self.endpoint_policy) if p is not None)
        for levels in (self.scp_levels, self.rcp_levels):
            for level in levels or ():
                found.extend(level)
        return found


def _grant_ref(grant: Grant) -> StatementRef:
    return StatementRef("grant", "grants", 0, grant.grant_id, "Allow", None)


def scps_apply(policies: PolicySet, request: Request) -> bool:
    """Do the caller's SCPs apply? Not to service principals, the management account or service-linked roles."""
    if policies.scp_levels is None or request.caller.kind in ("service", "anonymous"):
        return False
    if policies.management_account is not None and request.principal_account == policies.management_account:
        return False
    return not (request.identity_arn and SERVICE_LINKED_ROLE_PATH in request.identity_arn)


def rcps_apply(policies: PolicySet, request: Request) -> bool:
    """Do the resource's RCPs apply? Not to service principals, kms:RetireGrant or the management account's resources."""
    if policies.rcp_levels is None or request.caller.kind == "service":
        return False
    if request.action_lower == "kms:retiregrant":
        return False
    return not (policies.management_account is not None and request.resource_account == policies.management_account)


def trust_gated(policies: PolicySet, request: Request) -> bool:
    """An ``sts:AssumeRole*`` request on a role whose trust policy is given: the trust policy is the gate."""
    return policies.trust_policy is not None and request.action_lower.startswith(_TRUST_ACTIONS)


def via_endpoint(policies: PolicySet, request: Request) -> bool:
    """Does the request come through the VPC endpoint whose policy is given (``aws:SourceVpce`` set)?"""
    return policies.endpoint_policy is not None and "aws:sourcevpce" in request.context


def authorize(request: Request, policies: PolicySet, *, trace: bool = False) -> Decision:
    """The decision for ``request``; with ``trace`` the decision carries every statement's result."""
    decision = _decide(request, policies)
    if request.new_key_policy is not None and decision.allowed:
        decision = _lockout_check(request, policies, decision)
    if trace:
        from policyengine.evaluator.trace import trace_statements

        decision = trace_statements(decision, request, policies)
    return decision


class _Plan:
    """What every request of one caller for one action shares: each policy's statements that fit
    them (indexed by resource prefix, conditions still to test), whether the trust policy gates,
    whether SCPs apply. Built on first use and kept in the policy set, so a decision only tests
    resources and conditions (Cedar's and OPA's "prepare once, evaluate many")."""

    __slots__ = (
        "any_deny",
        "boundary",
        "endpoint",
        "identity",
        "key",
        "outcomes",
        "plain",
        "rcps",
        "scps",
        "session",
        "table",
        "trust",
    )

    def __init__(self, request: Request, policies: PolicySet) -> None:
        has_boundary = policies.boundary is not None
        self.trust = trust_gated(policies, request)
        resource_policy = policies.trust_policy if self.trust else policies.key_policy
        self.key = merged_index((resource_policy,), request, has_boundary) if resource_policy is not None else None
        self.identity = merged_index(policies.identity, request, has_boundary)
        self.boundary = merged_index((policies.boundary,), request, has_boundary) if policies.boundary else None
        session = policies.session_policy
        self.session = merged_index((session,), request, has_boundary) if session is not None else None
        self.scps: tuple[CandidateIndex | None, ...] | None = None
        if policies.scp_levels and scps_apply(policies, request):
            self.scps = tuple(merged_index(level, request, has_boundary) for level in policies.scp_levels)
        self.rcps: tuple[CandidateIndex | None, ...] = tuple(
            merged_index(level, request, has_boundary) for level in policies.rcp_levels or ()
        )
        endpoint = policies.endpoint_policy
        self.endpoint = merged_index((endpoint,), request, has_boundary) if endpoint is not None else None
        indexes = (self.key, self.identity, self.boundary, self.session, self.endpoint, *(self.scps or ()), *self.rcps)
        self.any_deny = any(index is not None and index.has_deny for index in indexes)
        outcomes: list[OutcomeIndex] = []
        width = 0
        for index in indexes:
            if index is not None:
                outcomes.append(OutcomeIndex(index, width))
                width += outcomes[-1].width
        self.outcomes = tuple(outcomes)
        #: Without prefix indexes (small policies), every entry in one tuple: one ``holding`` call.
        self.plain = tuple(e for o in outcomes for e in o.always) if not any(o.lengths for o in outcomes) else None
        #: Decisions by outcome (see ``_decide``); never more than ``_TABLE_LIMIT`` entries.
        self.table: dict[tuple[int, bool, bool, bool, bool], Decision] = {}


_PLAN_LIMIT = 65_536
_NO_MATCHES: list[Candidate] = []


def _plan(policies: PolicySet, request: Request) -> _Plan:
    key = (request.principal, request.identity_arn, request.principal_account, request.action_lower)
    plans = policies.plans
    plan = plans.get(key)
    if plan is None:
        if len(plans) >= _PLAN_LIMIT:
            plans.clear()
        plan = plans[key] = _Plan(request, policies)
    return plan


_TABLE_LIMIT = 1024


def _decide(request: Request, policies: PolicySet) -> Decision:
    """The plan's decision for the request's outcome: which statements hold, and the request facts
    the rule reads besides (a KMS key? across accounts? RCPs apply? through the endpoint?).

    Every request's resource and conditions are tested, statement by statement (``mask``); what
    is tabled is only the combination, which is a function of those outcomes: the first request
    with a given outcome is combined in full (``_combine``) and later ones reuse its ``Decision``
    (immutable). Grants read more of the request (tokens, encryption context), so a KMS request
    when the set has grants is always combined in full.
    """
    plan = _plan(policies, request)
    kms_key = is_key_request(request)
    if kms_key and policies.grants:
        return _combine(request, policies, plan)
    resource = request.resource
    context = request.context
    if plan.plain is not None:
        mask = holding(plan.plain, resource, context)
    else:
        mask = 0
        for outcome in plan.outcomes:
            mask |= outcome.mask(resource, context)
    key = (
        mask,
        kms_key,
        request.cross_account,
        bool(plan.rcps) and rcps_apply(policies, request),
        policies.endpoint_policy is not None and "aws:sourcevpce" in context,
    )
    table = plan.table
    decision = table.get(key)
    if decision is None:
        decision = _combine(request, policies, plan)
        if len(table) < _TABLE_LIMIT:
            table[key] = decision
    return decision


def _combine(request: Request, policies: PolicySet, plan: _Plan) -> Decision:
    """Gather what each policy says, then let the combining rule (``rule.py``) decide."""
    if request.caller.kind == "anonymous" and not plan.trust and is_key_request(request):
        return Decision("implicit_deny", (), "anonymous_not_accepted")  # KMS takes signed requests only
    resource = request.resource
    context = request.context
    trust = plan.trust

    # 1. Gather matching statements; any Deny anywhere decides.
    key_matches = plan.key.matching(resource, context) if plan.key is not None else _NO_MATCHES
    identity_matches = plan.identity.matching(resource, context) if plan.identity is not None else _NO_MATCHES
    has_boundary = policies.boundary is not None
    boundary_matches = plan.boundary.matching(resource, context) if plan.boundary is not None else _NO_MATCHES
    session = policies.session_policy
    session_matches = plan.session.matching(resource, context) if plan.session is not None else _NO_MATCHES
    scp_matches: list[list[Candidate]] = []
    if plan.scps is not None:
        scp_matches = [level.matching(resource, context) if level is not None else [] for level in plan.scps]
    rcp_matches: list[Candidate] = []
    if plan.rcps and rcps_apply(policies, request):
        for level in plan.rcps:
            if level is not None:
                rcp_matches.extend(level.matching(resource, context))
    endpoint = policies.endpoint_policy is not None and "aws:sourcevpce" in context
    endpoint_matches = plan.endpoint.matching(resource, context) if endpoint and plan.endpoint is not None else _NO_MATCHES
    if plan.any_deny:
        denies = [
            c[0].ref
            for group in (
                identity_matches,
                boundary_matches,
                session_matches,
                *scp_matches,
                rcp_matches,
                endpoint_matches,
                key_matches,
            )
            for c in group
            if c[0].deny
        ]
        if denies:
            return Decision("explicit_deny", tuple(denies), "explicit_deny")

    kms = not trust and is_key_request(request)
    gated = kms or trust
    cross = request.cross_account and request.caller.kind != "service"

    # 2. Operations that cannot be used across accounts.
    if kms and cross and not allowed_cross_account(request):
        return Decision("implicit_deny", (), "operation_not_cross_account")
    # 3. Organization guardrails: every SCP level must allow (RCPs only deny: RCPFullAWSAccess is
    #    attached at every level and cannot be detached). The endpoint policy must allow too.
    for level_matches in scp_matches:
        if not level_matches:
            return Decision("implicit_deny", (), "no_scp_allow")
    if endpoint and not endpoint_matches:
        return Decision("implicit_deny", (), "no_endpoint_allow")

    # 4. The allow sources and caps, combined by the rule.
    direct: list[StatementRef] = []
    capped: list[StatementRef] = []
    account: list[StatementRef] = []
    for cs, via in key_matches:
        if via == "direct":
            direct.append(cs.ref)
        elif via == "direct_capped":
            capped.append(cs.ref)
        elif via == "account":
            account.append(cs.ref)
    identity_refs = [c[0].ref for c in identity_matches]
    identity_ok = bool(identity_refs) or request.caller.kind == "account"
    boundary_ok = not has_boundary or bool(boundary_matches)
    session_ok = session is None or bool(session_matches)
    grants = matching_grants(policies.grants, request) if (kms and policies.grants) else ()
    if not ALLOW_PATHS[(gated, cross)](
        bool(direct), bool(capped), bool(account), identity_ok, boundary_ok, session_ok, bool(grants)
    ):
        why = reason_bool(
            False,
            False,
            True,
            True,
            gated,
            cross,
            bool(direct),
            bool(capped),
            bool(account),
            identity_ok,
            boundary_ok,
            session_ok,
            bool(grants),
            "trust" if trust else "kms" if kms else "iam",
        )
        facts = _DOOR_OPEN if (why == "no_allow" and kms and account) else _NO_FACTS
        return Decision("implicit_deny", (), why, facts=facts)

    # 5. Allowed: which statements decided, and by which path (for explanations).
    key_refs = direct + capped + account
    grant_refs = [_grant_ref(g) for g in grants]
    if not gated:
        return Decision("allow", tuple(identity_refs + key_refs), "allowed")
    caps_ok = boundary_ok and session_ok
    if not cross:
        counted = identity_refs if account else []
        deciding = tuple(key_refs + counted + grant_refs)
        if direct:
            return Decision("allow", deciding, "allowed", facts=_PATH_DIRECT)
        if caps_ok and (capped or (account and identity_ok)):
            return Decision("allow", deciding, "allowed", facts=_PATH_ROLE if capped else _PATH_ACCOUNT)
        return Decision("allow", deciding, "allowed", facts=_PATH_GRANT)
    if key_refs and identity_ok and caps_ok:
        return Decision("allow", tuple(key_refs + identity_refs + grant_refs), "allowed", facts=_PATH_CROSS)
    return Decision("allow", tuple(grant_refs + key_refs), "allowed", facts=_PATH_GRANT)


def _lockout_check(request: Request, policies: PolicySet, decision: Decision) -> Decision:
    """CreateKey/PutKeyPolicy: could the caller still call PutKeyPolicy under the new policy?"""
    if request.bypass_policy_lockout_safety_check or request.new_key_policy is None:
        return decision
    resource = request.resource
    if not is_key_request(request):
        account = request.principal_account or "000000000000"
        region = request.context.get("aws:requestedregion")
        region_text = region if isinstance(region, str) else "us-east-1"
        resource = f"arn:aws:kms:{region_text}:{account}:key/00000000-0000-0000-0000-000000000000"
    probe = Request(
        principal=request.principal,
        caller=request.caller,
        identity_arn=request.identity_arn,
        principal_account=request.principal_account,
        resource_account=request.principal_account if resource != request.resource else request.resource_account,
        action="kms:PutKeyPolicy",
        resource=resource,
        context={**request.context, "kms:bypasspolicylockoutsafetycheck": "false"},
    )
    new_policies = PolicySet(
        key_policy=compile_policy(request.new_key_policy, "key_policy", "new key policy"),
        identity=policies.identity,
        boundary=policies.boundary,
        session_policy=policies.session_policy,
        scp_levels=policies.scp_levels,
        rcp_levels=policies.rcp_levels,
        grants=(),
        management_account=policies.management_account,
        endpoint_policy=policies.endpoint_policy,
    )
    if _decide(probe, new_policies).allowed:
        return decision
    return Decision("implicit_deny", (), "lockout_safety_check", decision.notes)
