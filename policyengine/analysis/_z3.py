"""The z3 backend (optional): same interface as cvc5, kept for comparison and as a fallback.

Imported through ``importlib`` and held as ``Any`` because z3 ships no type information.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from functools import cache
from typing import Any, cast

from policyengine.analysis.backend import FALSE, TRUE, Backend, Regex, Status, Term

_ESCAPE = re.compile(r"\\u\{([0-9a-fA-F]{1,5})\}|\\u([0-9a-fA-F]{4})")


@cache
def _module() -> Any | None:
    try:
        return importlib.import_module("z3")
    except ImportError:
        return None


def available() -> bool:
    """True when the z3 Python package can be imported."""
    return _module() is not None


class Z3Backend(Backend):
    """One z3 context and solver per check."""

    name = "z3"

    def __init__(self) -> None:
        z3 = _module()
        assert z3 is not None
        self._z = z3
        self._ctx = z3.Context()
        self._solver = z3.Solver(ctx=self._ctx)
        self._model: Any = None
        self._re_sort = z3.ReSort(z3.StringSort(self._ctx))

    def bool_var(self, name: str) -> Term:
        return Term(self._z.Bool(name, self._ctx))

    def int_var(self, name: str) -> Term:
        return Term(self._z.Int(name, self._ctx))

    def str_var(self, name: str) -> Term:
        return Term(self._z.String(name, self._ctx))

    def int_const(self, value: int) -> Term:
        return Term(self._z.IntVal(value, self._ctx))

    def str_const(self, value: str) -> Term:
        return Term(self._z.StringVal(value, self._ctx))

    def _bool_const(self, value: bool) -> Term:
        return Term(self._z.BoolVal(value, self._ctx))

    def _and(self, terms: list[Term]) -> Term:
        return Term(self._z.And(*terms))

    def _or(self, terms: list[Term]) -> Term:
        return Term(self._z.Or(*terms))

    def _not(self, term: Term) -> Term:
        return Term(self._z.Not(term))

    def _ite(self, cond: Term, then: Term, other: Term) -> Term:
        return Term(self._z.If(cond, then, other))

    def eq(self, a: Term, b: Term) -> Term:
        left: Any = self.lift(a)
        return Term(left == self.lift(b))

    def le(self, a: Term, b: Term) -> Term:
        left: Any = a
        return Term(left <= b)

    def lt(self, a: Term, b: Term) -> Term:
        left: Any = a
        return Term(left < b)

    def mul_const(self, term: Term, factor: int) -> Term:
        value: Any = term
        return Term(value * factor)

    def concat(self, terms: Sequence[Term]) -> Term:
        if len(terms) == 1:
            return terms[0]
        return Term(self._z.Concat(*terms))

    def prefixof(self, prefix: str, value: Term) -> Term:
        return Term(self._z.PrefixOf(self._z.StringVal(prefix, self._ctx), value))

    def in_re(self, value: Term, regex: Regex) -> Term:
        return Term(self._z.InRe(value, regex))

    def re_lit(self, text: str) -> Regex:
        return Regex(self._z.Re(self._z.StringVal(text, self._ctx)))

    def re_all(self) -> Regex:
        return Regex(self._z.Star(self._z.AllChar(self._re_sort)))

    def re_char(self) -> Regex:
        return Regex(self._z.AllChar(self._re_sort))

    def re_range(self, low: str, high: str) -> Regex:
        return Regex(self._z.Range(self._z.StringVal(low, self._ctx), self._z.StringVal(high, self._ctx)))

    def re_concat(self, parts: Sequence[Regex]) -> Regex:
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return self.re_lit("")
        return Regex(self._z.Concat(*parts))

    def re_union(self, parts: Sequence[Regex]) -> Regex:
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return Regex(self._z.Empty(self._re_sort))
        return Regex(self._z.Union(*parts))

    def re_inter(self, parts: Sequence[Regex]) -> Regex:
        if len(parts) == 1:
            return parts[0]
        return Regex(self._z.Intersect(*parts))

    def re_star(self, regex: Regex) -> Regex:
        return Regex(self._z.Star(regex))

    def re_comp(self, regex: Regex) -> Regex:
        return Regex(self._z.Complement(regex))

    def load(self, assertions: Sequence[Term]) -> None:
        solver = self._solver
        solver.reset()
        for term in assertions:
            if term is not TRUE:
                solver.add(self.lift(term))

    def check_more(self, extra: Sequence[Term], timeout_ms: int) -> Status:
        self._solver.set("timeout", max(1, timeout_ms))
        return self._status(self._solver.check(*[self.lift(t) for t in extra if t is not TRUE]))

    def _status(self, result: Any) -> Status:
        solver = self._solver
        self._model = solver.model() if result == self._z.sat else None
        if result == self._z.sat:
            return "sat"
        if result == self._z.unsat:
            return "unsat"
        return "unknown"

    def _value(self, term: Term) -> Any:
        return self._model.eval(term, model_completion=True)

    def value_bool(self, term: Term) -> bool:
        if term is TRUE or term is FALSE:
            return bool(term)
        return bool(self._z.is_true(self._value(term)))

    def value_int(self, term: Term) -> int:
        return int(self._value(term).as_long())

    def value_str(self, term: Term) -> str:
        # z3 prints characters outside printable ASCII (and the backslash) as SMT-LIB escapes
        text = cast(str, self._value(term).as_string())
        return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)
