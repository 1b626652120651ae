"""The cvc5 backend (default): cvc5's string solver answers the regex-heavy queries fastest.

cvc5 ships no type information, so the module is imported through ``importlib`` and held as
``Any``; everything typed about it is the ``Backend`` interface it implements.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from functools import cache
from typing import Any, cast

from policyengine.analysis.backend import FALSE, TRUE, Backend, Regex, Status, Term


@cache
def _module() -> Any | None:
    try:
        return importlib.import_module("cvc5")
    except ImportError:
        return None


def available() -> bool:
    """True when the cvc5 Python package can be imported."""
    return _module() is not None


class Cvc5Backend(Backend):
    """One cvc5 term manager and solver per check."""

    name = "cvc5"

    def __init__(self) -> None:
        cvc5 = _module()
        assert cvc5 is not None
        self._k = cvc5.Kind
        self._tm = cvc5.TermManager()
        self._solver = cvc5.Solver(self._tm)
        self._solver.setOption("produce-models", "true")
        self._solver.setOption("strings-exp", "true")
        self._solver.setOption("incremental", "true")
        self._solver.setLogic("ALL")
        self._bool = self._tm.getBooleanSort()
        self._int = self._tm.getIntegerSort()
        self._str = self._tm.getStringSort()
        self._names: set[str] = set()

    def _term(self, kind: Any, *args: Any) -> Any:
        return self._tm.mkTerm(kind, *args)

    def _const(self, sort: Any, name: str) -> Term:
        if name in self._names:
            raise ValueError(f"variable `{name}` declared twice")
        self._names.add(name)
        return Term(self._tm.mkConst(sort, name))

    def bool_var(self, name: str) -> Term:
        return self._const(self._bool, name)

    def int_var(self, name: str) -> Term:
        return self._const(self._int, name)

    def str_var(self, name: str) -> Term:
        return self._const(self._str, name)

    def int_const(self, value: int) -> Term:
        return Term(self._tm.mkInteger(str(value)))

    def str_const(self, value: str) -> Term:
        return Term(self._tm.mkString(value))

    def _bool_const(self, value: bool) -> Term:
        return Term(self._tm.mkBoolean(value))

    def _and(self, terms: list[Term]) -> Term:
        return Term(self._term(self._k.AND, *terms))

    def _or(self, terms: list[Term]) -> Term:
        return Term(self._term(self._k.OR, *terms))

    def _not(self, term: Term) -> Term:
        return Term(self._term(self._k.NOT, term))

    def _ite(self, cond: Term, then: Term, other: Term) -> Term:
        return Term(self._term(self._k.ITE, cond, then, other))

    def eq(self, a: Term, b: Term) -> Term:
        return Term(self._term(self._k.EQUAL, self.lift(a), self.lift(b)))

    def le(self, a: Term, b: Term) -> Term:
        return Term(self._term(self._k.LEQ, a, b))

    def lt(self, a: Term, b: Term) -> Term:
        return Term(self._term(self._k.LT, a, b))

    def mul_const(self, term: Term, factor: int) -> Term:
        return Term(self._term(self._k.MULT, self.int_const(factor), term))

    def concat(self, terms: Sequence[Term]) -> Term:
        if len(terms) == 1:
            return terms[0]
        return Term(self._term(self._k.STRING_CONCAT, *terms))

    def prefixof(self, prefix: str, value: Term) -> Term:
        return Term(self._term(self._k.STRING_PREFIX, self._tm.mkString(prefix), value))

    def in_re(self, value: Term, regex: Regex) -> Term:
        return Term(self._term(self._k.STRING_IN_REGEXP, value, regex))

    def re_lit(self, text: str) -> Regex:
        return Regex(self._term(self._k.STRING_TO_REGEXP, self._tm.mkString(text)))

    def re_all(self) -> Regex:
        return Regex(self._term(self._k.REGEXP_STAR, self._term(self._k.REGEXP_ALLCHAR)))

    def re_char(self) -> Regex:
        return Regex(self._term(self._k.REGEXP_ALLCHAR))

    def re_range(self, low: str, high: str) -> Regex:
        return Regex(self._term(self._k.REGEXP_RANGE, self._tm.mkString(low), self._tm.mkString(high)))

    def re_concat(self, parts: Sequence[Regex]) -> Regex:
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return self.re_lit("")
        return Regex(self._term(self._k.REGEXP_CONCAT, *parts))

    def re_union(self, parts: Sequence[Regex]) -> Regex:
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return Regex(self._term(self._k.REGEXP_NONE))
        return Regex(self._term(self._k.REGEXP_UNION, *parts))

    def re_inter(self, parts: Sequence[Regex]) -> Regex:
        if len(parts) == 1:
            return parts[0]
        return Regex(self._term(self._k.REGEXP_INTER, *parts))

    def re_star(self, regex: Regex) -> Regex:
        return Regex(self._term(self._k.REGEXP_STAR, regex))

    def re_comp(self, regex: Regex) -> Regex:
        return Regex(self._term(self._k.REGEXP_COMPLEMENT, regex))

    def load(self, assertions: Sequence[Term]) -> None:
        solver = self._solver
        solver.resetAssertions()
        for term in assertions:
            if term is not TRUE:
                solver.assertFormula(self.lift(term))

    def check_more(self, extra: Sequence[Term], timeout_ms: int) -> Status:
        self._solver.setOption("tlimit-per", str(max(1, timeout_ms)))
        terms = [self.lift(t) for t in extra if t is not TRUE]
        return self._status(self._solver.checkSatAssuming(*terms) if terms else self._solver.checkSat())

    def _status(self, result: Any) -> Status:
        if result.isSat():
            return "sat"
        if result.isUnsat():
            return "unsat"
        return "unknown"

    def _value(self, term: Term) -> Any:
        return self._solver.getValue(term)

    def value_bool(self, term: Term) -> bool:
        if term is TRUE or term is FALSE:
            return bool(term)
        return bool(self._value(term).getBooleanValue())

    def value_int(self, term: Term) -> int:
        return int(self._value(term).getIntegerValue())

    def value_str(self, term: Term) -> str:
        return cast(str, self._value(term).getStringValue())
