"""Statements and the authorizer's decision as formulas over the symbolic request.

``allowed`` follows ``evaluator/authorizer.py`` for the whole policy set a check is given: the
key policy, and around it (``surroundings.py``) the known principals' identity policies,
permissions boundaries and session policies, the SCP levels of callers' accounts, the RCP levels
of the key's account, VPC endpoint policies and the key's grants. Each piece the combining rule
reads (a Deny applies; the operation cannot cross accounts; every SCP level allows; the endpoint
policy allows; the key policy names the caller, its role or its account; an identity policy
allows; boundary and session policy allow; a grant allows) becomes a term, and the combining
rule of ``evaluator/rule.py``, the one ``authorize`` and partial evaluation use, combines them.

Whose IAM policies? Those of the known principals (a user, or a role and all its sessions); every
other caller's IAM policies are unknown, so "its IAM policies allow this request" is a free
Boolean shared by the old and the new version (the same caller has the same IAM policies on both
sides), and it has no boundary or session policy. The root user needs no IAM policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from policyengine.analysis.backend import FALSE, TRUE, Backend, Term
from policyengine.analysis.conditions import ConditionEncoder
from policyengine.analysis.regex import glob_test, representable
from policyengine.analysis.surroundings import Group, Holder, Surroundings
from policyengine.analysis.symbolic import SymbolicRequest
from policyengine.analysis.universe import CallerClass, ClassIndex, placeholder_ref
from policyengine.aws_facts import CONTEXT_OPERATIONS, SERVICE_LINKED_ROLE_PATH
from policyengine.evaluator.compiled import CompiledPolicy, CompiledStatement
from policyengine.evaluator.grants import grantee_is_caller
from policyengine.evaluator.rule import Pieces, allowed
from policyengine.model.grant import Grant


class _Terms:
    """Solver terms as the combining rule's algebra (``evaluator/rule.py``)."""

    true = TRUE
    false = FALSE

    def __init__(self, backend: Backend) -> None:
        self.b = backend

    def and_(self, items: Sequence[Term]) -> Term:
        return self.b.and_(items)

    def or_(self, items: Sequence[Term]) -> Term:
        return self.b.or_(items)

    def not_(self, item: Term) -> Term:
        return self.b.not_(item)


@dataclass(frozen=True, slots=True)
class Side:
    """One version of the policy set: the key policy and what surrounds it."""

    key_policy: CompiledPolicy | None
    around: Surroundings = field(default_factory=Surroundings)

    def holder(self, group: Group) -> Holder | None:
        """The known principal whose IAM policies the callers of ``group`` have, if any."""
        return next((h for h in self.around.holders if h.group == group), None)


class PolicyEncoder:
    """Turns statements and whole decisions into formulas; identical pieces are built once."""

    def __init__(self, sym: SymbolicRequest) -> None:
        self.sym = sym
        self.b: Backend = sym.b
        self.conditions = ConditionEncoder(sym)
        self._actions: dict[tuple[object, ...], Term] = {}
        self._resources: dict[tuple[object, ...], Term] = {}
        classes = sym.classes
        self.class_index = ClassIndex(classes)
        self.root = sym.caller_in([c.index for c in classes if c.kind == "account"])
        self.service = sym.caller_in([c.index for c in classes if c.kind == "service"])
        b = self.b
        self.cross = b.or_(b.and_((sym.is_class(c.index), sym.cross_account(c))) for c in classes)
        self.kms = b.and_((sym.is_kms_action, sym.is_key_resource))
        self.retire = b.eq(sym.action, b.str_const("kms:retiregrant"))

    def group_in(self, group: Group) -> Term:
        """The caller is one of ``group``'s classes (a user, or a role and its sessions)."""
        return self.sym.caller_in([c.index for c in self.sym.classes if c.group == group])

    # -- statement elements ------------------------------------------------------------------

    def action_term(self, cs: CompiledStatement) -> Term:
        statement = cs.statement
        negated = statement.action is None
        patterns = tuple(
            a.value.lower() for a in (statement.action if statement.action is not None else statement.not_action or ())
        )
        key = (negated, patterns)
        term = self._actions.get(key)
        if term is None:
            b = self.b
            tests: list[Term] = []
            for pattern in patterns:
                if representable(pattern):
                    tests.append(glob_test(b, self.sym.action, pattern))
                else:
                    tests.append(
                        self.conditions.havoc(("action", pattern), "an action pattern has text outside the solver's alphabet")
                    )
            hit = b.or_(tests)
            term = b.not_(hit) if negated else hit
            self._actions[key] = term
        return term

    def resource_term(self, cs: CompiledStatement, substitutes: bool) -> Term:
        statement = cs.statement
        items = statement.resource if statement.resource is not None else statement.not_resource
        if items is None:
            return TRUE
        negated = statement.resource is None
        dynamic = substitutes and any(i.template is not None for i in items)
        key = (negated, tuple(i.value for i in items), dynamic)
        term = self._resources.get(key)
        if term is None:
            b = self.b
            if dynamic or not all(representable(i.value) for i in items):
                term = self.conditions.havoc(
                    ("resource", *key), "a Resource holds policy variables (or unusual text): modelled as unknown"
                )
            else:
                hit = b.or_(self.sym.resource_matches(i.value) for i in items)
                term = b.not_(hit) if negated else hit
            self._resources[key] = term
        return term

    def statement_term(self, cs: CompiledStatement, substitutes: bool) -> Term:
        """Action, resource and conditions of one statement (the principal is handled by class)."""
        b = self.b
        action = self.action_term(cs)
        if action is FALSE:
            return FALSE
        resource = self.resource_term(cs, substitutes)
        if resource is FALSE:
            return FALSE
        return b.and_((action, resource, *(self.conditions.condition(c, substitutes) for c in cs.conditions)))

    def principal_sets(self, cs: CompiledStatement) -> tuple[list[int], list[int], list[int]]:
        """Caller classes a resource-policy statement names directly, through their role, and by account."""
        direct: list[int] = []
        capped: list[int] = []
        account: list[int] = []
        for index, via in sorted(self.class_index.vias(cs).items()):
            if via == "direct":
                direct.append(index)
            elif via == "direct_capped":
                capped.append(index)
            elif via == "account":
                account.append(index)
        return direct, capped, account

    def _named(self, cs: CompiledStatement, bounded: Sequence[int]) -> Term:
        """The caller is one the statement's Principal (or NotPrincipal) names in any way.

        A Deny with NotPrincipal always applies to a caller with a permissions boundary (IAM UG,
        NotPrincipal), which is how the evaluator reads it for those callers (``bounded``).
        """
        d, c, a = self.principal_sets(cs)
        named = set(d + c + a)
        if cs.deny and cs.statement.not_principal is not None:
            named.update(bounded)
        return self.sym.caller_in(sorted(named))

    # -- decisions ---------------------------------------------------------------------------

    def identity_terms(self, policies: Sequence[CompiledPolicy]) -> tuple[Term, Term]:
        """(some statement allows, some statement denies) of principal-free policies, ignoring who calls."""
        allows: list[Term] = []
        denies: list[Term] = []
        for policy in policies:
            substitutes = policy.document.substitutes_variables
            for cs in policy.statements:
                (denies if cs.deny else allows).append(self.statement_term(cs, substitutes))
        return self.b.or_(allows), self.b.or_(denies)

    def resource_terms(self, policies: Sequence[CompiledPolicy], bounded: Sequence[int]) -> tuple[Term, Term]:
        """(some statement allows the caller, some statement denies it) of policies with a Principal."""
        b = self.b
        allows: list[Term] = []
        denies: list[Term] = []
        for policy in policies:
            substitutes = policy.document.substitutes_variables
            for cs in policy.statements:
                match = self.statement_term(cs, substitutes)
                if match is not FALSE:
                    (denies if cs.deny else allows).append(b.and_((match, self._named(cs, bounded))))
        return b.or_(allows), b.or_(denies)

    def allowed(self, side: Side) -> Term:
        """The request is allowed by ``side`` (see the module docstring)."""
        b = self.b
        around = side.around
        holders = [(h, self.group_in(h.group)) for h in around.holders]
        bounded = [c.index for c in self.sym.classes if (h := side.holder(c.group)) is not None and h.boundary is not None]
        denies: list[Term] = []
        identity_allows: list[Term] = [self.root]
        boundary: list[Term] = []
        session: list[Term] = []
        for holder, member in holders:
            allow, deny = self.identity_terms(holder.identity)
            identity_allows.append(b.and_((member, allow)))
            denies.append(b.and_((member, deny)))
            for policy, caps in ((holder.boundary, boundary), (holder.session_policy, session)):
                if policy is not None:
                    cap_allow, cap_deny = self.identity_terms((policy,))
                    caps.append(b.implies(member, cap_allow))
                    denies.append(b.and_((member, cap_deny)))
        identity_allows.append(b.and_((b.not_(b.or_(m for _, m in holders)), self.sym.iam_allows)))
        unknown_caps = [c.index for c in self.sym.classes if around.caps_unknown(c.kind, c.group)]
        boundary.append(b.implies(self.sym.caller_in(unknown_caps), self.sym.caps_allow))
        direct: list[Term] = []
        capped: list[Term] = []
        account: list[Term] = []
        policy = side.key_policy
        if policy is not None:
            substitutes = policy.document.substitutes_variables
            for cs in policy.statements:
                match = self.statement_term(cs, substitutes)
                if match is FALSE:
                    continue
                if cs.deny:
                    denies.append(b.and_((match, self._named(cs, bounded))))
                    continue
                d, c, a = self.principal_sets(cs)
                direct.append(b.and_((match, self.sym.caller_in(d))))
                capped.append(b.and_((match, self.sym.caller_in(c))))
                account.append(b.and_((match, self.sym.caller_in(a))))
        scps, scp_deny = self.scp_terms(around)
        endpoint, endpoint_deny = self.endpoint_terms(around, bounded)
        denies.extend((scp_deny, self.rcp_deny(around, bounded), endpoint_deny))
        pieces = Pieces(
            deny=b.or_(denies),
            blocked=b.and_((self.kms, self.cross, b.not_(self.sym.cross_account_operation))),
            scps=scps,
            endpoint=endpoint,
            gated=self.kms,
            cross=self.cross,
            direct=b.or_(direct),
            capped=b.or_(capped),
            account=b.or_(account),
            identity=b.or_(identity_allows),
            boundary=b.and_(boundary),
            session=b.and_(session),
            grants=b.and_((self.kms, self.grants_term(around.grants))),
        )
        return allowed(_Terms(b), pieces)

    def identity_allowed(self, policies: tuple[CompiledPolicy, ...]) -> Term:
        """An identity policy on its own: some statement allows and none denies."""
        allow, deny = self.identity_terms(policies)
        return self.b.and_((allow, self.b.not_(deny)))

    # -- organization guardrails, endpoints, grants --------------------------------------------

    def _service_linked(self, cls: CallerClass) -> Term:
        """SCPs skip service-linked roles: the caller's identity ARN holds ``/aws-service-role/``."""
        if cls.kind not in ("user", "role"):
            return FALSE
        if cls.path is not None:
            return TRUE if SERVICE_LINKED_ROLE_PATH in f"/{cls.kind}/{cls.path}" else FALSE
        b = self.b
        path = b.concat([b.str_const("/"), self.sym.path_var(cls)])
        return b.in_re(path, b.re_concat((b.re_all(), b.re_lit(SERVICE_LINKED_ROLE_PATH), b.re_all())))

    def scp_terms(self, around: Surroundings) -> tuple[Term, Term]:
        """(every SCP level allows, some SCP denies): SCPs apply to the caller's account, except to
        service principals, the management account and service-linked roles (``scps_apply``)."""
        b = self.b
        oks: list[Term] = []
        denies: list[Term] = []
        for account, levels in sorted(around.scp_levels.items()):
            if account == around.management_account or not levels:
                continue
            applies = b.or_(
                b.and_((self.sym.is_class(c.index), b.not_(self._service_linked(c))))
                for c in self.sym.classes
                if c.kind != "service" and c.account == account
            )
            if applies is FALSE:
                continue
            level_allows: list[Term] = []
            for level in levels:
                allow, deny = self.identity_terms(level)
                level_allows.append(allow)
                denies.append(b.and_((applies, deny)))
            oks.append(b.implies(applies, b.and_(level_allows)))
        return b.and_(oks), b.or_(denies)

    def rcp_deny(self, around: Surroundings, bounded: Sequence[int]) -> Term:
        """Some RCP of the key's account denies (they only deny: RCPFullAWSAccess is implied at
        every level); not for service principals, kms:RetireGrant or the management account's keys."""
        b = self.b
        denies: list[Term] = []
        for account, levels in sorted(around.rcp_levels.items()):
            if account == around.management_account:
                continue
            _, deny = self.resource_terms([p for level in levels for p in level], bounded)
            if deny is not FALSE:
                here = b.eq(self.sym.r_account, b.str_const(account))
                denies.append(b.and_((here, b.not_(self.service), b.not_(self.retire), deny)))
        return b.or_(denies)

    def endpoint_terms(self, around: Surroundings, bounded: Sequence[int]) -> tuple[Term, Term]:
        """(the endpoint policy allows, it denies) for a request through a VPC endpoint (``aws:SourceVpce``)."""
        b = self.b
        if not around.endpoints:
            return TRUE, FALSE
        vpce = self.sym.keyvars["aws:sourcevpce"]
        text = vpce.slots[0].text
        assert text is not None
        oks: list[Term] = []
        denies: list[Term] = []
        for endpoint_id, policy in around.endpoints:
            through = vpce.present if endpoint_id is None else b.and_((vpce.present, b.eq(text, b.str_const(endpoint_id))))
            allow, deny = self.resource_terms((policy,), bounded)
            oks.append(b.implies(through, allow))
            denies.append(b.and_((through, deny)))
        return b.and_(oks), b.or_(denies)

    def grants_term(self, grants: Sequence[Grant]) -> Term:
        """Some grant allows the request (``evaluator.grants.matching_grants``): a RetireGrant that
        names a grant is allowed by that grant alone, for its retiring principal or, when the grant
        lists RetireGrant, its grantee; any other request by the grants that match it."""
        b, sym = self.b, self.sym
        if not grants:
            return FALSE
        named = b.and_((self.retire, b.not_(sym.grant_id_is(None))))
        retiring: list[Term] = []
        for grant in grants:
            who: list[Term] = []
            if grant.retiring_principal is not None:
                who.extend(b.and_((sym.is_class(c.index), self._is(c, grant.retiring_principal))) for c in sym.classes)
            if "RetireGrant" in grant.operations:
                who.append(sym.caller_in([c.index for c in sym.classes if grantee_is_caller(grant.grantee, placeholder_ref(c))]))
            retiring.append(b.and_((sym.grant_id_is(grant.grant_id), sym.resource_matches(grant.key_arn), b.or_(who))))
        normal = b.or_(self.grant_term(g) for g in grants)
        return b.or_((b.and_((b.not_(named), normal)), b.and_((named, b.or_(retiring)))))

    def _is(self, cls: CallerClass, arn: str) -> Term:
        """A caller of class ``cls`` is ``arn``, or its identity (a session's role) is
        (``retirement_grant`` compares the request's principal and identity ARN with it)."""
        ref = placeholder_ref(cls)
        if arn not in (ref.text, ref.role_arn if ref.kind == "assumed_role" else ref.text):
            return FALSE
        if cls.has_path and cls.path is None:  # the placeholder spells no path; the caller's is symbolic
            return self.b.eq(self.sym.path_var(cls), self.b.str_const(""))
        return TRUE

    def grant_term(self, grant: Grant) -> Term:
        """The grant allows the request (``evaluator.grants.matching_grants``): on the key, for the
        caller, the operation listed, its token sent when it is pending, its constraint holding."""
        b, sym = self.b, self.sym
        grantees = [c.index for c in sym.classes if grantee_is_caller(grant.grantee, placeholder_ref(c))]
        if not grantees:
            return FALSE
        operations = {op.lower() for op in grant.operations}
        parts = [
            sym.resource_matches(grant.key_arn),
            sym.caller_in(grantees),
            b.or_(b.eq(sym.action, b.str_const(f"kms:{op}")) for op in sorted(operations)),
        ]
        if grant.pending:
            parts.append(sym.token(grant.grant_token) if grant.grant_token is not None else FALSE)
        constraints = grant.constraints
        if constraints is not None and operations & {op.lower() for op in CONTEXT_OPERATIONS}:
            with_context = b.or_(b.eq(sym.action, b.str_const(f"kms:{op.lower()}")) for op in sorted(CONTEXT_OPERATIONS))
            parts.append(b.implies(with_context, self.context_constraint(grant)))
        return b.and_(parts)

    def context_constraint(self, grant: Grant) -> Term:
        """``EncryptionContextEquals`` / ``EncryptionContextSubset`` (keys case-insensitive, values not)."""
        b, sym = self.b, self.sym
        constraints = grant.constraints
        assert constraints is not None
        equals = constraints.encryption_context_equals
        wanted = equals if equals is not None else constraints.encryption_context_subset
        if wanted is None:
            return TRUE
        pairs = {k.lower(): v for k, v in wanted.items()}
        parts = [sym.ec_pair(k, v) for k, v in sorted(pairs.items())]
        if equals is not None:
            parts.extend(b.not_(sym.ec_has(k)) for k in sym.ec_keys if k not in pairs)
            parts.append(b.not_(sym.ec_other))
        return b.and_(parts)
