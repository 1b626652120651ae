"""Partial evaluation: AWS's decision with part of the request context left open.

``authorize`` needs every context key; a question over a snapshot fixes only some of them
(``facts.py``). Here each statement that fits the caller, action and key becomes a formula:
TRUE when its conditions hold on decided keys, FALSE when one fails, or the AND of its
conditions on open keys. Those formulas are combined with exactly the rules of
``authorize`` (SEMANTICS §1-4): deny anywhere wins; every SCP and RCP level must allow; the
key policy must let the caller in, directly or through its account; identity policies,
boundary and session policy where the path needs them; grants as an extra allow. The result
is ``allow``, ``deny``, or ``allow only if <residual>``: never a guess in either direction.

When the residual is constant, the concrete ``authorize`` on the same facts gives the
explanation (deciding statements, reason, allow path), so a decided answer reads exactly like
``simulate``'s. The property test holds the two together: for any context, the residual's truth
equals the concrete decision.

Role trust policies follow the key-policy rule (``gate="trust"``): the policy must name the
caller or its account, and naming only the account makes the caller's IAM policies count
(IAM UG, evaluation logic: role trust policies and KMS key policies are the two exceptions to
the same-account union rule).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Literal, NamedTuple

from policyengine.access.atoms import ConditionAtom, GrantAtom, ResourceAtom
from policyengine.access.facts import Facts
from policyengine.access.formula import FALSE, TRUE, Atom, Formula, all_of, and_, any_of, lit, not_, or_
from policyengine.aws_facts import CONTEXT_OPERATIONS, CROSS_ACCOUNT_OPERATIONS, canonical_operation
from policyengine.evaluator.authorizer import PolicySet, authorize, rcps_apply, scps_apply, trust_gated
from policyengine.evaluator.compiled import CompiledPolicy, CompiledStatement, compile_policy
from policyengine.evaluator.conditions import CompiledCondition
from policyengine.evaluator.grants import constraints_hold, grantee_is_caller, matching_grants
from policyengine.evaluator.principals import Via
from policyengine.evaluator.rule import PIECE_NAMES, Algebra, Pieces, compile_open_rule, reason
from policyengine.explain.decision import Decision, StatementRef
from policyengine.model.grant import Grant
from policyengine.model.request import Request
from policyengine.model.template import VariablePart
from policyengine.parsing.document import parse_policy_fast

Status = Literal["allow", "deny", "conditional"]
Gate = Literal["kms", "trust", "iam"]

#: What each part of an explanation played in the decision.
Role = Literal[
    "deny", "scp", "rcp", "endpoint", "key_policy", "trust_policy", "identity", "boundary", "session_policy", "grant", "outside"
]


class Part(NamedTuple):
    """One statement (or grant, or outside fact) that bears on the answer, with its residual.

    A named tuple: every statement that applies makes one, and a frozen dataclass's
    ``__init__`` cost a third of collecting them.
    """

    role: Role
    ref: StatementRef | None
    formula: Formula
    text: str = ""


class Partial:
    """The answer to one request with the context partly open.

    For a decided answer the concrete ``Decision`` (deciding statements, reason, allow path) is
    computed only when asked for: a matrix needs the explanation of one answer per cell, not
    of every action it tried.
    """

    __slots__ = ("_decision", "_reason", "_thunk", "parts", "residual", "status")

    def __init__(
        self,
        status: Status,
        residual: Formula,
        reason: str,
        parts: tuple[Part, ...],
        thunk: Callable[[], Decision] | None = None,
    ) -> None:
        self.status = status
        self.residual = residual
        self.parts = parts
        self._reason = reason
        self._thunk = thunk
        self._decision: Decision | None = None

    @property
    def decision(self) -> Decision | None:
        """The concrete decision on the decided facts, when the answer does not depend on the open keys."""
        if self._decision is None and self._thunk is not None:
            self._decision = self._thunk()
            self._thunk = None
        return self._decision

    @property
    def reason(self) -> str:
        decision = self.decision
        return decision.reason if decision is not None else self._reason

    @property
    def deciding(self) -> tuple[StatementRef, ...]:
        decision = self.decision
        if decision is not None:
            return decision.deciding
        return tuple(p.ref for p in self.parts if p.ref is not None)


#: By the identity of a compiled condition or statement (kept with it, so an id reused later is not mistaken
#: for it). It holds what it caches alive, so it is emptied when full: a process that loads snapshot after
#: snapshot does not keep every old one's statements.
_VARIABLE_KEYS: dict[int, tuple[object, tuple[str, ...]]] = {}
VARIABLE_KEYS_LIMIT = 65_536


def _variables(owner: object, parts_list: Iterable[tuple[object, ...] | None]) -> tuple[str, ...]:
    """The (lowercased) context keys the policy variables of a condition or resource read (cached)."""
    cached = _VARIABLE_KEYS.get(id(owner))
    if cached is not None and cached[0] is owner:
        return cached[1]
    keys: list[str] = []
    for parts in parts_list:
        for part in parts or ():
            if isinstance(part, VariablePart):
                keys.append(part.key.lower())
    result = tuple(keys)
    if len(_VARIABLE_KEYS) >= VARIABLE_KEYS_LIMIT:
        _VARIABLE_KEYS.clear()
    _VARIABLE_KEYS[id(owner)] = (owner, result)
    return result


def _condition_decided(cc: CompiledCondition, facts: Facts) -> bool:
    if not facts.decided(cc.key):
        return False
    if not cc.has_dynamic:
        return True
    return all(facts.decided(k) for k in _variables(cc, (v.template for v in cc.source.values)))


def statement_formula(cs: CompiledStatement, request: Request, facts: Facts) -> Formula:
    """When a statement whose principal, action and static resource fit applies: TRUE, FALSE or its open conditions."""
    terms: list[Formula] = []
    if cs.resource_static is None:
        keys = _variables(cs, (item.template for item in cs.resource_items))
        if all(facts.decided(k) for k in keys):
            if not cs.resource_holds(request.resource, request.context):
                return FALSE
        else:
            patterns = tuple(i.value for i in cs.resource_items)
            terms.append(lit(ResourceAtom(cs.ref.label, patterns, request.resource, cs)))
    for cc in cs.conditions:
        if _condition_decided(cc, facts):
            if not cc.holds(request.context):
                return FALSE
        else:
            terms.append(lit(ConditionAtom.of(cc)))
    return all_of(terms)


Entry = tuple[CompiledStatement, "Via | None"]


class Prepared:
    """What one caller's requests on one resource share, whatever the action.

    The statements whose principal and resource fit (with their formulas, computed on first
    use), the grants naming the caller, and whether SCPs and RCPs apply. ``decide(action)``
    then filters by action and combines: a matrix asks 30 actions of the same pair, and the
    expensive part, the conditions, is done once per statement, not once per action.
    """

    def __init__(
        self,
        request: Request,
        policies: PolicySet,
        facts: Facts,
        *,
        gate: Gate | None = None,
        identity_atom: Atom | None = None,
        build: Callable[[str], Request] | None = None,
    ) -> None:
        self.request = request
        self.policies = policies
        self.facts = facts
        self.gate = gate
        self.identity_atom = identity_atom
        self.build = build
        self.has_boundary = policies.boundary is not None
        self._formulas: dict[int, Formula] = {}
        #: Each policy with the bit mask of its statements kept for this caller and resource.
        self.relevant: list[tuple[CompiledPolicy, int]] = []
        if gate is None and trust_gated(policies, request):
            self.gate = "trust"
        self.key = self._entries(policies.trust_policy if self.gate == "trust" and policies.trust_policy else policies.key_policy)
        self.identity = [e for policy in policies.identity for e in self._entries(policy)]
        self.boundary = self._entries(policies.boundary)
        self.session = self._entries(policies.session_policy)
        scps = scps_apply(policies, request) and bool(policies.scp_levels)
        self.scp_levels = [[e for p in level for e in self._entries(p)] for level in (policies.scp_levels or ())] if scps else []
        rcps = bool(policies.rcp_levels) and rcps_apply(policies, request)
        self.rcp_levels = [[e for p in level for e in self._entries(p)] for level in (policies.rcp_levels or ())] if rcps else []
        self.endpoint = self._entries(policies.endpoint_policy)
        self.through_endpoint = _through_endpoint(policies, facts, request)
        self.grants = [
            g for g in policies.grants if g.key_arn == request.resource and grantee_is_caller(g.grantee, request.caller)
        ]
        shape = request.resource.split(":", 5)
        self.key_shaped = len(shape) == 6 and shape[0] == "arn" and shape[2] == "kms" and shape[5].startswith("key/")
        self.cross = request.cross_account and request.caller.kind != "service"

    def _entries(self, policy: CompiledPolicy | None) -> list[Entry]:
        if policy is None:
            return []
        request = self.request
        found: list[Entry] = []
        bits = 0
        for i, cs in enumerate(policy.statements):
            via: Via | None = None
            if policy.uses_principal:
                via = cs.principal_via(request, self.has_boundary)
                if via is None:
                    continue
            if cs.resource_static is not None and not cs.resource_static(request.resource):
                continue
            found.append((cs, via))
            bits |= 1 << i
        self.relevant.append((policy, bits))
        return found

    def formula(self, cs: CompiledStatement) -> Formula:
        found = self._formulas.get(id(cs))
        if found is None:
            found = statement_formula(cs, self.request, self.facts)
            self._formulas[id(cs)] = found
        return found

    def decide(self, action: str) -> Partial:
        """The partial answer for ``action`` by this caller on this resource."""
        return _Combine(self, action).run()


class _Combine:
    """One action's combination of the prepared statements, with AWS's rules (see the module docstring)."""

    def __init__(self, prepared: Prepared, action: str) -> None:
        self.p = prepared
        self.action = action
        self.lowered = action.lower()
        self.parts: list[Part] = []

    def fit(self, entries: Sequence[Entry]) -> list[Entry]:
        lowered = self.lowered
        return [e for e in entries if e[0].action_test(lowered)]

    def formulas(self, entries: Sequence[Entry], role: Role, *, deny: bool, via: str | None = None) -> Formula:
        terms: list[Formula] = []
        for cs, cs_via in entries:
            if cs.deny != deny or (via is not None and cs_via != via):
                continue
            f = self.p.formula(cs)
            if f is not FALSE:
                terms.append(f)
                self.parts.append(Part("deny" if deny else role, cs.ref, f))
        return any_of(terms)

    def grants(self) -> Formula:
        p = self.p
        request = p.request
        operation = canonical_operation(self.action)
        if operation == "RetireGrant" and request.grant_id is not None:
            return TRUE if matching_grants(p.policies.grants, p.build(self.action) if p.build else request) else FALSE
        decided = p.facts.closed or p.facts.encryption_context is not None
        terms: list[Formula] = []
        for grant in p.grants:
            if operation not in grant.operations:
                continue
            if grant.pending and (grant.grant_token is None or grant.grant_token not in request.grant_tokens):
                continue
            f = _grant_formula(grant, operation, request, decided)
            if f is not FALSE:
                terms.append(f)
                self.parts.append(Part("grant", _grant_ref(grant), f))
        return any_of(terms)

    def run(self) -> Partial:
        p = self.p
        gate: Gate = p.gate or ("kms" if p.key_shaped and self.lowered.startswith("kms:") else "iam")
        if gate == "kms" and p.request.caller.kind == "anonymous":
            return self.finish(FALSE, "anonymous_not_accepted", gate)
        key_c = self.fit(p.key)
        identity_c = self.fit(p.identity)
        boundary_c = self.fit(p.boundary)
        session_c = self.fit(p.session)
        scp_c = [self.fit(level) for level in p.scp_levels]
        rcp_c = [self.fit(level) for level in p.rcp_levels] if self.lowered != "kms:retiregrant" else []
        endpoint_c = self.fit(p.endpoint) if p.through_endpoint is not FALSE else []

        # What each policy says, as formulas; the rule (evaluator/rule.py) combines them.
        deny = any_of(
            [
                self.formulas(identity_c, "identity", deny=True),
                self.formulas(boundary_c, "boundary", deny=True),
                self.formulas(session_c, "session_policy", deny=True),
                *(self.formulas(level, "scp", deny=True) for level in scp_c),
                *(self.formulas(level, "rcp", deny=True) for level in rcp_c),
                and_(p.through_endpoint, self.formulas(endpoint_c, "endpoint", deny=True)),
                self.formulas(key_c, "key_policy", deny=True),
            ]
        )
        blocked = gate == "kms" and p.cross and self.lowered.partition(":")[2] not in CROSS_ACCOUNT_OPERATIONS
        scps = all_of([self.formulas(level, "scp", deny=False) for level in scp_c])
        endpoint = or_(not_(p.through_endpoint), self.formulas(endpoint_c, "endpoint", deny=False))
        role: Role = "trust_policy" if gate == "trust" else "key_policy"
        identity = TRUE if p.request.caller.kind == "account" else self.formulas(identity_c, "identity", deny=False)
        if p.identity_atom is not None and identity is not TRUE:
            identity = or_(identity, lit(p.identity_atom))
            self.parts.append(Part("outside", None, lit(p.identity_atom), p.identity_atom.text()))
        pieces = Pieces(
            deny=deny,
            blocked=TRUE if blocked else FALSE,
            scps=scps,
            endpoint=endpoint,
            gated=TRUE if gate in ("kms", "trust") else FALSE,
            cross=TRUE if p.cross else FALSE,
            direct=self.formulas(key_c, role, deny=False, via="direct"),
            capped=self.formulas(key_c, role, deny=False, via="direct_capped"),
            account=self.formulas(key_c, role, deny=False, via="account"),
            identity=identity,
            boundary=TRUE if p.policies.boundary is None else self.formulas(boundary_c, "boundary", deny=False),
            session=TRUE if p.policies.session_policy is None else self.formulas(session_c, "session_policy", deny=False),
            grants=self.grants() if gate == "kms" and p.grants else FALSE,
        )
        residual = combine(pieces)

        def why() -> str:
            return reason(Pieces(**{name: _settled(getattr(pieces, name)) for name in PIECE_NAMES}), gate=gate)

        return self.finish(residual, why, gate)

    def finish(self, residual: Formula, why: str | Callable[[], str], gate: Gate) -> Partial:
        """The answer; the reason (``why``, a code or how to find it) is worked out only when nothing else gives it:
        a decided answer's reason is the concrete decision's, read when asked for, and a conditional one's is "conditional"."""
        p = self.p
        parts = tuple(self.parts)
        if residual is TRUE or residual is FALSE:
            status: Status = "allow" if residual is TRUE else "deny"
            if p.identity_atom is None:
                build = p.build
                action = self.action
                request = p.request
                policies = p.policies
                concrete = (lambda: authorize(build(action), policies)) if build else (lambda: authorize(request, policies))
                return Partial(status, residual, "", parts, concrete)
            code = why if isinstance(why, str) else why()
            if code == "conditional":
                code = "allowed" if status == "allow" else "no_allow"
            return Partial(status, residual, code, parts)
        return Partial("conditional", residual, "conditional", parts)


def _grant_formula(grant: Grant, operation: str, request: Request, decided: bool) -> Formula:
    if grant.constraints is None or operation not in CONTEXT_OPERATIONS:
        return TRUE
    if decided:
        return TRUE if constraints_hold(grant, operation, request.encryption_context) else FALSE
    return lit(GrantAtom(grant.grant_id, operation, grant))


def _grant_ref(grant: Grant) -> StatementRef:
    return StatementRef("grant", "grants", 0, grant.grant_id, "Allow", None)


def partial_authorize(
    request: Request,
    policies: PolicySet,
    facts: Facts,
    *,
    gate: Gate | None = None,
    identity_atom: Atom | None = None,
) -> Partial:
    """The decision for ``request`` with the keys ``facts`` leaves open kept symbolic.

    ``identity_atom`` stands for identity policies the snapshot does not hold (a caller outside
    it): it is ORed into "an identity policy allows".
    """
    return Prepared(request, policies, facts, gate=gate, identity_atom=identity_atom).decide(request.action)


def _settled(f: Formula) -> bool | None:
    """A formula's truth value when it is constant, else None (still open)."""
    return True if f is TRUE else False if f is FALSE else None


class _Formulas:
    """Residual formulas as the rule's algebra."""

    true = TRUE
    false = FALSE

    @staticmethod
    def and_(items: Sequence[Formula]) -> Formula:
        return all_of(items)

    @staticmethod
    def or_(items: Sequence[Formula]) -> Formula:
        return any_of(items)

    @staticmethod
    def not_(item: Formula) -> Formula:
        return not_(item)


FORMULAS: Algebra[Formula] = _Formulas()
_RULES: dict[tuple[bool | None, ...], Callable[..., Formula]] = {}


def combine(pieces: Pieces[Formula]) -> Formula:
    """``allowed(FORMULAS, pieces)``, with the rule specialised once per pattern of constant pieces
    (``rule.compile_open_rule``): most pieces of an answer are TRUE or FALSE, and folding them
    each time was a third of a decision's time. ``test_partial_rule`` holds the two equal."""
    values = [getattr(pieces, name) for name in PIECE_NAMES]
    shape = tuple(True if v is TRUE else False if v is FALSE else None for v in values)
    rule = _RULES.get(shape)
    if rule is None:
        if len(_RULES) >= 4096:
            _RULES.clear()
        constants = {name: known for name, known in zip(PIECE_NAMES, shape, strict=True) if known is not None}
        rule = _RULES[shape] = compile_open_rule(**constants)
    return rule(FORMULAS, *(v for v, known in zip(values, shape, strict=True) if known is None))


_SOURCE_VPCE = "aws:sourcevpce"
_VPCE_PRESENT: list[Formula] = []


def _vpce_present() -> Formula:
    """``aws:SourceVpce`` is present (a Null condition on it), as an open atom."""
    if not _VPCE_PRESENT:
        document = parse_policy_fast(
            '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", '
            '"Condition": {"Null": {"aws:SourceVpce": "false"}}}]}',
            source="<endpoint>",
        )
        condition = compile_policy(document, "identity", "<endpoint>").statements[0].conditions[0]
        _VPCE_PRESENT.append(lit(ConditionAtom.of(condition)))
    return _VPCE_PRESENT[0]


def _through_endpoint(policies: PolicySet, facts: Facts, request: Request) -> Formula:
    """Does the request come through the VPC endpoint whose policy is given? TRUE, FALSE or open."""
    if policies.endpoint_policy is None:
        return FALSE
    if facts.decided(_SOURCE_VPCE):
        return TRUE if _SOURCE_VPCE in request.context else FALSE
    return _vpce_present()


def allow_only_if(request: Request, policies: PolicySet, unknown: Iterable[str] | None = None) -> Partial:
    """``authorize`` with some context keys left open: the residual says when the request is allowed.

    ``unknown`` names the open keys (case ignored; ``kms:EncryptionContext:k`` for a pair);
    ``None`` leaves open every key the request does not give (keys AWS derives from the caller
    and the resource stay decided). Every other key is as the request says.
    """
    given = frozenset(request.context)
    if unknown is None:
        facts = Facts(request.context, given, request.encryption_context or None)
    else:
        opened = frozenset(k.lower() for k in unknown)
        facts = Facts(request.context, given, request.encryption_context, closed=True, unknown=opened)
    return partial_authorize(request, policies, facts)
