"""Condition tests as formulas, following ``evaluator/conditions.py`` rule for rule.

For a present key, each request value is tested against the policy values ("hit"); a value the
operator cannot read makes the whole test false (a type mismatch, also for negated operators);
then the qualifier combines the hits: none = some value hits (negated: no value hits),
``ForAllValues`` = every value hits (negated: none does), ``ForAnyValue`` = some value hits
(negated: some value misses). A missing key is true for ``IfExists``, for ``ForAllValues`` and
for unqualified negated operators, false otherwise; ``Null`` only looks at presence; an unknown
operator never matches; a key whose policy values are all unreadable never matches when present.

Values holding policy variables (substituted per request) are not modelled: such a condition
becomes a free Boolean shared by every identical condition, so it can take whichever value
helps a counterexample (over-approximation, recorded).
"""

from __future__ import annotations

from dataclasses import dataclass

from policyengine.analysis import values as typed_values
from policyengine.analysis.backend import FALSE, TRUE, Backend, Term
from policyengine.analysis.keys import KeyUse, family_of, is_dynamic
from policyengine.analysis.regex import arn_condition_test, glob_test, ignore_case_test, representable
from policyengine.analysis.symbolic import KeyVars, Slot, SymbolicRequest
from policyengine.evaluator.conditions import CompiledCondition
from policyengine.evaluator.operators import BadValue, Operator

_COMPARISONS = ("Equals", "NotEquals", "LessThan", "LessThanEquals", "GreaterThan", "GreaterThanEquals")


@dataclass(frozen=True, slots=True)
class SlotHit:
    """One request value: is it there, can the operator read it, does it hit a policy value."""

    used: Term
    readable: Term
    hit: Term


def signature(cc: CompiledCondition, substitutes: bool) -> tuple[object, ...]:
    """What makes two conditions the same test of the same request."""
    return (cc.source.operator, cc.key, tuple(v.value for v in cc.source.values), substitutes and is_dynamic(cc, substitutes))


class ConditionEncoder:
    """Builds (and caches) the formula of each distinct condition."""

    def __init__(self, sym: SymbolicRequest) -> None:
        self.sym = sym
        self.b: Backend = sym.b
        self._cache: dict[tuple[object, ...], Term] = {}
        self._havoc: dict[tuple[object, ...], Term] = {}
        self._derived: dict[tuple[str, str], tuple[Term, Term]] = {}

    def havoc(self, key: tuple[object, ...], why: str) -> Term:
        """A free Boolean standing for a test that is not modelled (shared by identical tests)."""
        term = self._havoc.get(key)
        if term is None:
            term = self.b.bool_var(f"unmodelled_{len(self._havoc)}")
            self._havoc[key] = term
            if why:
                self.sym.approximations.add(why)
        return term

    def condition(self, cc: CompiledCondition, substitutes: bool) -> Term:
        key = signature(cc, substitutes)
        term = self._cache.get(key)
        if term is None:
            term = self._build(cc, substitutes)
            self._cache[key] = term
        return term

    def _build(self, cc: CompiledCondition, substitutes: bool) -> Term:
        b = self.b
        operator = cc.operator
        if operator is None:
            return FALSE
        present = self.sym.keyvars[cc.key].present
        if operator.kind == "null":
            tests = [b.not_(present) if wanted_absent else present for wanted_absent in cc.values]
            return b.or_(tests)
        if is_dynamic(cc, substitutes):
            return self.havoc(
                signature(cc, substitutes),
                f"`{cc.source.operator}` on `{cc.source.key}` compares with policy variables: modelled as unknown",
            )
        qualifier = cc.source.qualifier
        # a missing key: true for IfExists, ForAllValues and unqualified negated operators
        missing_true = qualifier == "ForAllValues" or cc.source.if_exists or (qualifier is None and operator.negated)
        missing = TRUE if missing_true else FALSE
        hits = self.slot_hits(cc)
        if hits is None:  # no readable policy value: a present key is a type mismatch
            return b.ite(present, FALSE, missing)
        readable = b.and_(b.implies(h.used, h.readable) for h in hits)
        if qualifier == "ForAllValues":
            ok = b.and_(b.implies(h.used, b.not_(h.hit) if operator.negated else h.hit) for h in hits)
        elif qualifier == "ForAnyValue":
            ok = b.or_(b.and_((h.used, b.not_(h.hit) if operator.negated else h.hit)) for h in hits)
        else:
            positive = b.or_(b.and_((h.used, h.hit)) for h in hits)
            ok = b.not_(positive) if operator.negated else positive
        return b.ite(present, b.and_((readable, ok)), missing)

    # -- per-value tests ---------------------------------------------------------------------

    def slot_hits(self, cc: CompiledCondition) -> list[SlotHit] | None:
        """Each request value's hit test; None when the condition has no readable policy value."""
        operator = cc.operator
        assert operator is not None
        kv = self.sym.keyvars[cc.key]
        family = family_of(operator.kind)
        raw_values = [v.value for v in cc.source.values]
        prepared: list[tuple[str, object]] = []
        for raw in raw_values:
            try:
                prepared.append((raw, operator.prepare(raw)))
            except BadValue:
                continue
        if not prepared:
            return None
        out: list[SlotHit] = []
        for index, slot in enumerate(kv.slots):
            if family == "string":
                text = slot.text
                assert text is not None
                hit = self.b.or_(self._string_hit(cc, operator, text, raw, value, index) for raw, value in prepared)
                out.append(SlotHit(slot.used, TRUE, hit))
            else:
                readable, number = self._typed(kv, slot, family)
                hit = self.b.or_(self._typed_hit(kv.use, operator, family, number, value) for _, value in prepared)
                out.append(SlotHit(slot.used, readable, hit))
        return out

    def _string_hit(self, cc: CompiledCondition, operator: Operator, text: Term, raw: str, value: object, slot: int) -> Term:
        b = self.b
        if not representable(raw):
            return self.havoc(
                (cc.source.operator, cc.key, raw, slot),
                f"`{cc.source.key}` is compared with text outside the solver's alphabet: modelled as unknown",
            )
        if operator.kind == "arn":
            return arn_condition_test(b, text, raw)
        if operator.glob:
            return glob_test(b, text, raw)
        if operator.name.startswith("StringEqualsIgnoreCase") or operator.name.startswith("StringNotEqualsIgnoreCase"):
            assert isinstance(value, str)
            return ignore_case_test(b, text, value)
        assert isinstance(value, str)
        return b.eq(text, b.str_const(value))

    def _typed_hit(self, use: KeyUse, operator: Operator, family: str, number: Term, value: object) -> Term:
        b = self.b
        fixed = typed_values.constant(use, family, value)
        if fixed is None:
            return FALSE
        if isinstance(fixed, tuple):
            low, high = fixed
            return b.and_((b.le(b.int_const(low), number), b.le(number, b.int_const(high))))
        const = b.int_const(fixed)
        if family in ("bool", "binary"):
            return b.eq(number, const)
        comparison = operator.name.removeprefix("Numeric").removeprefix("Date")
        assert comparison in _COMPARISONS
        if comparison in ("Equals", "NotEquals"):
            return b.eq(number, const)
        if comparison == "LessThan":
            return b.lt(number, const)
        if comparison == "LessThanEquals":
            return b.le(number, const)
        if comparison == "GreaterThan":
            return b.lt(const, number)
        return b.le(const, number)

    def _typed(self, kv: KeyVars, slot: Slot, family: str) -> tuple[Term, Term]:
        if family in slot.typed:
            return slot.typed[family]
        assert kv.use.derived, f"no {family} reading declared for {kv.use.key}"
        return self._derived_reading(kv, family)

    def _derived_reading(self, kv: KeyVars, family: str) -> tuple[Term, Term]:
        """A typed reading of a key ``make_request`` derives: fixed where its text is known."""
        cached = self._derived.get((kv.use.key, family))
        if cached is not None:
            return cached
        sym, b = self.sym, self.b
        safe = "".join(c if c.isalnum() else "_" for c in kv.use.key)
        readable = b.bool_var(f"derived_{family}_ok_{safe}")
        number = b.int_var(f"derived_{family}_{safe}")
        sym.constraints.append(sym.typed_domain(kv.use, family, number, f"derived_{safe}"))
        for cls in sym.classes:
            for guard, text in sym.derived_alternatives(kv.use.key, cls):
                fixed = typed_values.reading(kv.use, family, text) if isinstance(text, str) else None
                if fixed is None:
                    sym.approximations.add(f"`{kv.use.key}` read as {family} where its value is symbolic: modelled as unknown")
                    continue
                ok, value = fixed
                facts = [b.eq(readable, b.lift(TRUE if ok else FALSE))]
                if ok:
                    facts.append(b.eq(number, b.int_const(value)))
                sym.constraints.append(b.implies(b.and_((sym.is_class(cls.index), guard)), b.and_(facts)))
        self._derived[(kv.use.key, family)] = (readable, number)
        return readable, number
