"""``authorize``: AWS's decision for one request against one set of policies.

The order of the checks is AWS's (IAM UG, "Policy evaluation logic"; KMS DG, "Determining
access to an AWS KMS key"; SEMANTICS.md §1-4):

1. any matching Deny in any applicable policy -> explicit deny;
2. a KMS operation that cannot cross accounts, from another account -> implicit deny;
3. service control policies: every level of the caller's organization must allow;
4. resource control policies: only their denies count, because AWS attaches RCPFullAWSAccess
   to every root, OU and account and it cannot be detached;
5. the allow sources: key policy (naming the caller directly, or its account, which only
   opens the door to IAM policies), identity policies, grants; same-account and
   cross-account rules differ;
6. the caps: permissions boundary and session policy, where the allow depends on them;
7. for PutKeyPolicy/CreateKey with a new policy, the lockout safety check.

The function is pure: it reads its arguments and returns a ``Decision``.
"""

from __future__ import annotations

from dataclasses import dataclass

from policyengine.evaluator.compiled import Candidate, CompiledPolicy, compile_policy
from policyengine.evaluator.grants import matching_grants
from policyengine.evaluator.kms_rules import allowed_cross_account, is_key_request
from policyengine.explain.decision import Decision, StatementRef
from policyengine.model.grant import Grant
from policyengine.model.request import Request

_EXEMPT_PATH = "/aws-service-role/"
# How an allow came about, for explanations (shared constants: nothing allocated per decision).
_PATH_DIRECT = (("path", "direct"),)
_PATH_ROLE = (("path", "role"),)
_PATH_ACCOUNT = (("path", "account"),)
_PATH_CROSS = (("path", "cross_account"),)
_PATH_GRANT = (("path", "grant"),)
# An implicit deny where the key policy let the account in but no IAM policy allowed.
_DOOR_OPEN = (("key_policy", "trusts_account"),)


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Everything that can decide one caller's request, compiled.

    ``scp_levels`` are the SCPs of the caller's account (root level first); ``rcp_levels`` the
    RCPs of the resource's account (RCPFullAWSAccess is implied at each level: list only the
    others). ``None`` means no organization policies were given.
    """

    key_policy: CompiledPolicy | None = None
    identity: tuple[CompiledPolicy, ...] = ()
    boundary: CompiledPolicy | None = None
    session_policy: CompiledPolicy | None = None
    scp_levels: tuple[tuple[CompiledPolicy, ...], ...] | None = None
    rcp_levels: tuple[tuple[CompiledPolicy, ...], ...] | None = None
    grants: tuple[Grant, ...] = ()
    management_account: str | None = None


def _statement_refs(candidates: list[Candidate]) -> list[StatementRef]:
    return [c[0].ref for c in candidates]


def _grant_ref(grant: Grant) -> StatementRef:
    return StatementRef("grant", "grants", 0, grant.grant_id, "Allow", None)


def _level_allows(level: tuple[CompiledPolicy, ...], request: Request, has_boundary: bool) -> bool:
    for policy in level:
        for cs, _via in policy.matching(request, has_boundary):
            if not cs.deny:
                return True
    return False


def _scps_apply(policies: PolicySet, request: Request) -> bool:
    if policies.scp_levels is None or request.caller.kind == "service":
        return False
    if policies.management_account is not None and request.principal_account == policies.management_account:
        return False
    return not (request.identity_arn and _EXEMPT_PATH in request.identity_arn)


def _rcps_apply(policies: PolicySet, request: Request) -> bool:
    if policies.rcp_levels is None or request.caller.kind == "service":
        return False
    if request.action_lower == "kms:retiregrant":
        return False
    return not (policies.management_account is not None and request.resource_account == policies.management_account)


def authorize(request: Request, policies: PolicySet, *, trace: bool = False) -> Decision:
    """The decision for ``request``; with ``trace`` the decision carries every statement's result."""
    decision = _decide(request, policies)
    if request.new_key_policy is not None and decision.allowed:
        decision = _lockout_check(request, policies, decision)
    if trace:
        from policyengine.evaluator.trace import trace_statements

        decision = trace_statements(decision, request, policies)
    return decision


def _decide(request: Request, policies: PolicySet) -> Decision:
    has_boundary = policies.boundary is not None
    scps = _scps_apply(policies, request)
    rcps = _rcps_apply(policies, request)

    # 1. Gather matching statements; any Deny anywhere decides.
    key_matches = policies.key_policy.matching(request, has_boundary) if policies.key_policy is not None else []
    identity_matches: list[Candidate] = []
    for policy in policies.identity:
        identity_matches.extend(policy.matching(request, has_boundary))
    boundary_matches = policies.boundary.matching(request, has_boundary) if policies.boundary is not None else []
    session_matches = policies.session_policy.matching(request, has_boundary) if policies.session_policy is not None else []
    guard_matches: list[Candidate] = []
    if scps and policies.scp_levels:
        for level in policies.scp_levels:
            for policy in level:
                guard_matches.extend(policy.matching(request, has_boundary))
    if rcps and policies.rcp_levels:
        for level in policies.rcp_levels:
            for policy in level:
                guard_matches.extend(policy.matching(request, has_boundary))
    denies = [
        c[0].ref
        for group in (identity_matches, boundary_matches, session_matches, guard_matches, key_matches)
        for c in group
        if c[0].deny
    ]
    if denies:
        return Decision("explicit_deny", tuple(denies), "explicit_deny")

    kms = is_key_request(request)
    cross = request.cross_account and request.caller.kind != "service"

    # 2. Operations that cannot be used across accounts.
    if kms and cross and not allowed_cross_account(request):
        return Decision("implicit_deny", (), "operation_not_cross_account")

    # 3-4. Organization guardrails: every level must allow.
    if scps and policies.scp_levels is not None:
        for level in policies.scp_levels:
            if not _level_allows(level, request, has_boundary):
                return Decision("implicit_deny", (), "no_scp_allow")
    # RCPs need no allow: RCPFullAWSAccess is attached at every level and cannot be detached
    # (Organizations UG, resource control policies), so only their Deny statements count (step 1).

    # 5. Allow sources.
    direct: list[Candidate] = []
    direct_capped: list[Candidate] = []
    account: list[Candidate] = []
    for candidate in key_matches:
        via = candidate[1]
        if via == "direct":
            direct.append(candidate)
        elif via == "direct_capped":
            direct_capped.append(candidate)
        elif via == "account":
            account.append(candidate)
    identity_allows = [c for c in identity_matches if not c[0].deny]
    root_caller = request.caller.kind == "account"
    identity_ok = bool(identity_allows) or root_caller
    boundary_ok = policies.boundary is None or bool(boundary_matches)
    session_ok = policies.session_policy is None or bool(session_matches)
    caps_ok = boundary_ok and session_ok
    cap_reason = "boundary_cap" if not boundary_ok else "session_policy_cap"
    grants = matching_grants(policies.grants, request) if (kms and policies.grants) else []
    grant_refs = [_grant_ref(g) for g in grants]

    key_refs = _statement_refs(direct) + _statement_refs(direct_capped) + _statement_refs(account)
    if kms:
        counted_identity = _statement_refs(identity_allows) if account else []
        deciding = tuple(key_refs + counted_identity + grant_refs)
        if not cross:
            if direct:
                return Decision("allow", deciding, "allowed", facts=_PATH_DIRECT)
            capped_path = bool(direct_capped) or (bool(account) and identity_ok)
            if capped_path and caps_ok:
                return Decision("allow", deciding, "allowed", facts=_PATH_ROLE if direct_capped else _PATH_ACCOUNT)
            if grants:
                return Decision("allow", deciding, "allowed", facts=_PATH_GRANT)
            if capped_path:
                return Decision("implicit_deny", (), cap_reason)
            if identity_ok and not account:
                return Decision("implicit_deny", (), "key_policy_does_not_trust_account")
            return Decision("implicit_deny", (), "no_allow", facts=_DOOR_OPEN if account else ())
        key_ok = bool(direct or direct_capped or account)
        deciding = tuple(key_refs + (_statement_refs(identity_allows) if key_ok else []) + grant_refs)
        if key_ok and identity_ok and caps_ok:
            return Decision("allow", deciding, "allowed", facts=_PATH_CROSS)
        if grants:
            return Decision("allow", tuple(grant_refs + key_refs), "allowed", facts=_PATH_GRANT)
        if key_ok and identity_ok:
            return Decision("implicit_deny", (), cap_reason)
        if key_ok:
            return Decision("implicit_deny", (), "cross_account_needs_identity_allow")
        if identity_ok:
            return Decision("implicit_deny", (), "key_policy_does_not_trust_account")
        return Decision("implicit_deny", (), "no_allow")

    # Not a key: the general IAM rule (union in one account, both sides across accounts).
    resource_refs = key_refs
    deciding = tuple(_statement_refs(identity_allows) + resource_refs)
    if not cross:
        if direct:
            return Decision("allow", deciding, "allowed")
        capped_path = bool(direct_capped) or identity_ok
        if capped_path and caps_ok:
            return Decision("allow", deciding, "allowed")
        if capped_path:
            return Decision("implicit_deny", (), cap_reason)
        return Decision("implicit_deny", (), "no_allow")
    resource_ok = bool(resource_refs)
    if resource_ok and identity_ok and caps_ok:
        return Decision("allow", deciding, "allowed")
    if resource_ok and identity_ok:
        return Decision("implicit_deny", (), cap_reason)
    if resource_ok:
        return Decision("implicit_deny", (), "cross_account_needs_identity_allow")
    if identity_ok:
        return Decision("implicit_deny", (), "cross_account_needs_resource_allow")
    return Decision("implicit_deny", (), "no_allow")


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
    )
    if _decide(probe, new_policies).allowed:
        return decision
    return Decision("implicit_deny", (), "lockout_safety_check", decision.notes)
