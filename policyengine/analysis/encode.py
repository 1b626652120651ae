"""Statements and the authorizer's decision as formulas over the symbolic request.

``allowed`` follows ``evaluator/authorizer.py`` for the policies a check is given (a key policy
and, for one principal, identity policies; no boundary, session policy, SCPs, RCPs or grants):

each piece (a Deny applies; the operation cannot cross accounts; the key policy names the
caller, its role or its account; an identity policy allows) becomes a term, and the combining
rule of ``evaluator/rule.py``, the one ``authorize`` and partial evaluation use, combines them.

Whose IAM policies? The identity policies a check is given belong to one principal (and, for a
role, to all its sessions); every other caller's IAM policies are unknown, so "its IAM policies
allow this request" is a free Boolean shared by the old and the new version (the same caller has
the same IAM policies on both sides). The root user needs no IAM policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from policyengine.analysis.backend import FALSE, TRUE, Backend, Term
from policyengine.analysis.conditions import ConditionEncoder
from policyengine.analysis.regex import glob_test, representable
from policyengine.analysis.symbolic import SymbolicRequest
from policyengine.analysis.universe import ClassIndex
from policyengine.evaluator.compiled import CompiledPolicy, CompiledStatement
from policyengine.evaluator.rule import Pieces, allowed


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
    """One version of the policies: the key policy and the given principal's identity policies."""

    key_policy: CompiledPolicy | None
    identity: tuple[CompiledPolicy, ...] = ()


class PolicyEncoder:
    """Turns statements and whole decisions into formulas; identical pieces are built once."""

    def __init__(self, sym: SymbolicRequest, group: tuple[str | None, ...] | None) -> None:
        self.sym = sym
        self.b: Backend = sym.b
        self.conditions = ConditionEncoder(sym)
        self._actions: dict[tuple[object, ...], Term] = {}
        self._resources: dict[tuple[object, ...], Term] = {}
        classes = sym.classes
        self.class_index = ClassIndex(classes)
        self.in_group = sym.caller_in([c.index for c in classes if group is not None and c.group == group])
        self.root = sym.caller_in([c.index for c in classes if c.kind == "account"])
        b = self.b
        self.cross = b.or_(b.and_((sym.is_class(c.index), sym.cross_account(c))) for c in classes)
        self.kms = b.and_((sym.is_kms_action, sym.is_key_resource))

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
        """Caller classes a key-policy statement names directly, through their role, and by account."""
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

    # -- decisions ---------------------------------------------------------------------------

    def identity_terms(self, policies: tuple[CompiledPolicy, ...]) -> tuple[Term, Term]:
        """(some identity statement allows, some identity statement denies), ignoring who calls."""
        allows: list[Term] = []
        denies: list[Term] = []
        for policy in policies:
            substitutes = policy.document.substitutes_variables
            for cs in policy.statements:
                (denies if cs.deny else allows).append(self.statement_term(cs, substitutes))
        return self.b.or_(allows), self.b.or_(denies)

    def allowed(self, side: Side) -> Term:
        """The request is allowed by ``side`` (see the module docstring)."""
        b = self.b
        identity_allow, identity_deny = self.identity_terms(side.identity)
        identity_ok = b.or_(
            (self.root, b.and_((self.in_group, identity_allow)), b.and_((b.not_(self.in_group), self.sym.iam_allows)))
        )
        denies: list[Term] = [b.and_((self.in_group, identity_deny))]
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
                d, c, a = self.principal_sets(cs)
                if cs.deny:
                    denies.append(b.and_((match, self.sym.caller_in(d + c + a))))
                    continue
                direct.append(b.and_((match, self.sym.caller_in(d))))
                capped.append(b.and_((match, self.sym.caller_in(c))))
                account.append(b.and_((match, self.sym.caller_in(a))))
        pieces = Pieces(
            deny=b.or_(denies),
            blocked=b.and_((self.kms, self.cross, b.not_(self.sym.cross_account_operation))),
            scps=TRUE,
            endpoint=TRUE,
            gated=self.kms,
            cross=self.cross,
            direct=b.or_(direct),
            capped=b.or_(capped),
            account=b.or_(account),
            identity=identity_ok,
            boundary=TRUE,
            session=TRUE,
            grants=FALSE,
        )
        return allowed(_Terms(b), pieces)

    def identity_allowed(self, policies: tuple[CompiledPolicy, ...]) -> Term:
        """An identity policy on its own: some statement allows and none denies."""
        allow, deny = self.identity_terms(policies)
        return self.b.and_((allow, self.b.not_(deny)))
