"""Policies compiled once for many evaluations.

Compiling turns every Action and Resource pattern into a matcher and every condition into a
prepared test. A ``CompiledPolicy`` then answers "which statements apply to this caller,
action and resource?" from a per-policy cache, because those three facts repeat across
requests; only the conditions (which read the request context) run for every request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from policyengine.evaluator.conditions import CompiledCondition, Context, compile_condition
from policyengine.evaluator.patterns import action_matcher, resource_matcher, template_matcher
from policyengine.evaluator.principals import Via, not_principal_applies, principal_matches
from policyengine.explain.decision import PolicyKind, StatementRef
from policyengine.model.policy import PolicyDocument, Statement, StringItem
from policyengine.model.request import Request

Matcher = Callable[[str], bool]
_CACHE_LIMIT = 65_536


def _any_of(matchers: list[Matcher]) -> Matcher:
    if len(matchers) == 1:
        return matchers[0]
    return lambda value: any(m(value) for m in matchers)


@dataclass(frozen=True, slots=True)
class CompiledStatement:
    """A statement with its patterns and conditions ready to test."""

    ref: StatementRef
    statement: Statement
    deny: bool
    action_test: Matcher  # takes the lowercased action; NotAction already folded in
    resource_static: Matcher | None  # None when a resource pattern holds policy variables
    resource_items: tuple[StringItem, ...]
    resource_negated: bool
    conditions: tuple[CompiledCondition, ...]
    condition_tests: tuple[Callable[[Context], bool], ...] = ()  # each condition's fastest ``holds``

    def resource_holds(self, resource: str, context: Context) -> bool:
        """Resource/NotResource test, substituting policy variables when the pattern has them."""
        if self.resource_static is not None:
            return self.resource_static(resource)
        hit = False
        for item in self.resource_items:
            if item.template is not None:
                matcher = template_matcher(item.template, context, resource=True)
                if matcher is not None and matcher(resource):
                    hit = True
                    break
            elif resource_matcher(item.value)(resource):
                hit = True
                break
        return hit != self.resource_negated

    def conditions_hold(self, context: Context) -> bool:
        for test in self.condition_tests:  # noqa: SIM110 - a plain loop: no generator on the hot path
            if not test(context):
                return False
        return True

    def principal_via(self, request: Request, has_boundary: bool) -> Via | None:
        """How the statement's Principal/NotPrincipal applies to the caller (resource policies)."""
        statement = self.statement
        if statement.principal is not None:
            return principal_matches(statement.principal, request.caller)
        if statement.not_principal is not None:
            applies = not_principal_applies(statement.not_principal, request.caller, deny=self.deny, has_boundary=has_boundary)
            if not applies:
                return None
            return "direct"  # like `*`: the statement names every caller it applies to
        return None


def compile_statement(
    statement: Statement, kind: PolicyKind, name: str, substitutes: bool, source: str | None = None
) -> CompiledStatement:
    """Build the matchers and condition tests of one statement."""
    if statement.action is not None:
        action_test = _any_of([action_matcher(a.value) for a in statement.action])
    else:
        inner = _any_of([action_matcher(a.value) for a in statement.not_action or ()])
        action_test = lambda action: not inner(action)  # noqa: E731
    items = statement.resource if statement.resource is not None else statement.not_resource
    negated = statement.resource is None and statement.not_resource is not None
    resource_static: Matcher | None
    if items is None:
        resource_static = _always
        items = ()
    elif substitutes and any(i.template is not None for i in items):
        resource_static = None
    else:
        positive = _any_of([resource_matcher(i.value) for i in items])
        resource_static = (lambda r: not positive(r)) if negated else positive
    ref = StatementRef(
        kind, name, statement.index, statement.sid, statement.effect, statement.span, source if source != name else None
    )
    conditions = tuple(compile_condition(c, substitutes) for c in statement.conditions)
    tests = tuple(c.test if c.test is not None else c.holds for c in conditions)
    return CompiledStatement(
        ref, statement, statement.effect == "Deny", action_test, resource_static, items, negated, conditions, tests
    )


def _always(_: str) -> bool:
    return True


Candidate = tuple[CompiledStatement, "Via | None"]


def _literal_prefix(pattern: str) -> str:
    """The text of a resource pattern before its first wildcard (what every match starts with)."""
    cut = len(pattern)
    for char in "*?":
        position = pattern.find(char)
        if position != -1:
            cut = min(cut, position)
    return pattern[:cut]


class CandidateIndex:
    """Statements that fit a caller and an action, indexed by the literal prefix of their resources.

    A request's resource can only match a pattern that it starts with the literal prefix of, so
    looking up the resource's prefixes of each indexed length finds the few statements worth a
    full resource test, however many statements the policy has.
    """

    __slots__ = ("always", "by_prefix", "has_deny", "lengths", "plain")

    def __init__(self, candidates: list[tuple[int, Candidate]]) -> None:
        self.has_deny = any(c[0].deny for _, c in candidates)
        self.always: list[tuple[int, Candidate]] = []
        self.by_prefix: dict[str, list[tuple[int, Candidate]]] = {}
        for order, candidate in candidates:
            cs = candidate[0]
            prefixes = None
            if cs.resource_static is not None and not cs.resource_negated and cs.resource_items:
                prefixes = {_literal_prefix(i.value) for i in cs.resource_items}
                if "" in prefixes:
                    prefixes = None
            if prefixes is None:
                self.always.append((order, candidate))
            else:
                for prefix in prefixes:
                    self.by_prefix.setdefault(prefix, []).append((order, candidate))
        self.lengths = tuple(sorted({len(p) for p in self.by_prefix}))
        #: With no prefix index, the candidates to test, in order (the common, small case).
        self.plain = tuple(c for _, c in self.always) if not self.lengths else None

    def matching(self, resource: str, context: Context) -> list[Candidate]:
        """The candidates whose resource and conditions hold for this request."""
        out: list[Candidate] = []
        for candidate in self.plain if self.plain is not None else self.lookup(resource):
            cs = candidate[0]
            static = cs.resource_static
            if static is not None:
                if not static(resource):
                    continue
            elif not cs.resource_holds(resource, context):
                continue
            if cs.condition_tests and not cs.conditions_hold(context):
                continue
            out.append(candidate)
        return out

    def lookup(self, resource: str) -> list[Candidate]:
        if not self.lengths:
            return [c for _, c in self.always]
        found = list(self.always)
        by_prefix = self.by_prefix
        for length in self.lengths:
            if length > len(resource):
                break
            hits = by_prefix.get(resource[:length])
            if hits:
                found.extend(hits)
        if len(found) > 1:
            found.sort(key=_order)
            unique: list[Candidate] = []
            last = -1
            for order, candidate in found:
                if order != last:
                    unique.append(candidate)
                    last = order
            return unique
        return [c for _, c in found]


class OutcomeIndex:
    """A ``CandidateIndex`` whose statements each own one bit of a decision plan's outcome mask.

    ``mask`` tests the resource and conditions of every statement the resource can match and
    returns the bits of those that hold: which statements apply to the request, as one integer
    (a statement listed under several prefixes sets the same bit each time).
    """

    __slots__ = ("always", "by_prefix", "lengths", "width")

    def __init__(self, index: CandidateIndex, first_bit: int) -> None:
        bits: dict[int, int] = {}

        def entry(order: int, candidate: Candidate) -> _Outcome:
            bit = bits.get(order)
            if bit is None:
                bit = bits[order] = 1 << (first_bit + len(bits))
            statement = candidate[0]
            static = statement.resource_static
            if static is _always:
                return (None, None, statement.condition_tests, bit)
            return (static, None if static is not None else statement, statement.condition_tests, bit)

        self.always = tuple(entry(order, candidate) for order, candidate in index.always)
        self.by_prefix = {prefix: tuple(entry(o, c) for o, c in hits) for prefix, hits in index.by_prefix.items()}
        self.lengths = index.lengths
        self.width = len(bits)

    def mask(self, resource: str, context: Context) -> int:
        found = holding(self.always, resource, context) if self.always else 0
        if self.lengths:
            by_prefix = self.by_prefix
            for length in self.lengths:
                if length > len(resource):
                    break
                hits = by_prefix.get(resource[:length])
                if hits:
                    found |= holding(hits, resource, context)
        return found


#: (static resource test or None, statement whose resource holds policy variables or None, condition tests, bit):
#: with neither test, the statement fits every resource.
_Outcome = tuple[Matcher | None, CompiledStatement | None, tuple[Callable[[Context], bool], ...], int]


def holding(entries: tuple[_Outcome, ...], resource: str, context: Context) -> int:
    """The bits of the entries whose resource test and conditions hold."""
    found = 0
    for static, dynamic, tests, bit in entries:
        if static is not None:
            if not static(resource):
                continue
        elif dynamic is not None and not dynamic.resource_holds(resource, context):
            continue
        for test in tests:
            if not test(context):
                break
        else:
            found |= bit
    return found


def _order(item: tuple[int, Candidate]) -> int:
    return item[0]


class CompiledPolicy:
    """A compiled policy of one kind, with a cache of statements by caller and action."""

    __slots__ = ("_cache", "document", "kind", "name", "statements", "uses_principal")

    def __init__(self, document: PolicyDocument, kind: PolicyKind, name: str | None = None) -> None:
        self.document = document
        self.kind: PolicyKind = kind
        self.name = name or document.source
        substitutes = document.substitutes_variables
        self.statements = tuple(compile_statement(s, kind, self.name, substitutes, document.source) for s in document.statements)
        self.uses_principal = kind in ("key_policy", "resource_policy", "trust_policy", "endpoint_policy", "rcp")
        self._cache: dict[tuple[str, str, str | None, bool], CandidateIndex] = {}

    def _index(self, request: Request, has_boundary: bool) -> CandidateIndex:
        action = request.action_lower
        key = (action, request.principal, request.identity_arn, has_boundary)
        index = self._cache.get(key)
        if index is None:
            found: list[tuple[int, Candidate]] = []
            for order, cs in enumerate(self.statements):
                if not cs.action_test(action):
                    continue
                via: Via | None = None
                if self.uses_principal:
                    via = cs.principal_via(request, has_boundary)
                    if via is None:
                        continue
                found.append((order, (cs, via)))
            index = CandidateIndex(found)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = index
        return index

    def index_for(self, request: Request, has_boundary: bool, start: int = 0) -> list[tuple[int, Candidate]]:
        """The (order, candidate) pairs that fit the caller and action, orders offset by ``start``."""
        index = self._index(request, has_boundary)
        pairs = [*index.always, *(pair for hits in index.by_prefix.values() for pair in hits)]
        return [(start + order, candidate) for order, candidate in pairs]

    def statements_for(self, request: Request, has_boundary: bool) -> list[CompiledStatement]:
        """Statements whose principal and action fit the request, whatever its resource."""
        index = self._index(request, has_boundary)
        found = [c[0] for _, c in index.always]
        for hits in index.by_prefix.values():
            found.extend(c[0] for _, c in hits)
        return found

    def candidates(self, request: Request, has_boundary: bool) -> list[Candidate]:
        """Statements whose principal, action and (static) resource fit; conditions not yet tested."""
        resource = request.resource
        return [
            c
            for c in self._index(request, has_boundary).lookup(resource)
            if c[0].resource_static is None or c[0].resource_static(resource)
        ]

    def matching(self, request: Request, has_boundary: bool) -> list[Candidate]:
        """Statements that apply to ``request`` completely, conditions included."""
        context = request.context
        resource = request.resource
        out: list[Candidate] = []
        for candidate in self._index(request, has_boundary).lookup(resource):
            cs = candidate[0]
            if cs.resource_static is not None:
                if not cs.resource_static(resource):
                    continue
            elif not cs.resource_holds(resource, context):
                continue
            if cs.conditions and not cs.conditions_hold(context):
                continue
            out.append(candidate)
        return out


def merged_index(policies: tuple[CompiledPolicy, ...], request: Request, has_boundary: bool) -> CandidateIndex | None:
    """One index over the statements of several policies (identity policies, an SCP level) that
    fit the caller and action, in policy order; None when none fits."""
    pairs: list[tuple[int, Candidate]] = []
    start = 0
    for policy in policies:
        pairs.extend(policy.index_for(request, has_boundary, start))
        start += len(policy.statements)
    if not pairs:
        return None
    # a statement listed under several prefixes appears once per prefix: keep one
    unique = list({order: (order, candidate) for order, candidate in pairs}.values())
    return CandidateIndex(unique)


def compile_policy(document: PolicyDocument, kind: PolicyKind, name: str | None = None) -> CompiledPolicy:
    """Compile ``document`` as a policy of ``kind`` (key_policy, identity, boundary, scp, ...)."""
    return CompiledPolicy(document, kind, name)
