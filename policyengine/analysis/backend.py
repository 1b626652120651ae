"""The solver interface the encoder speaks, with constant folding, and how a backend is chosen.

The encoder never touches a solver library: it builds terms through ``Backend``, whose two
implementations (``_cvc5.py``, ``_z3.py``) are imported only when a check runs, so the core
package stays pure Python and ``import policyengine`` never needs a solver. Python ``True`` and
``False`` stand for the Boolean constants: ``and_``/``or_``/``not_``/``ite`` fold them away
before anything reaches the solver, which keeps formulas small when most statements are
decided statically (an action that cannot match, a principal that is never named).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Literal, NewType

from policyengine.errors import PolicyEngineError

#: An opaque solver term (a cvc5 or z3 object), or a Python bool for a folded constant.
Term = NewType("Term", object)
#: An opaque solver regular expression.
Regex = NewType("Regex", object)
Status = Literal["sat", "unsat", "unknown"]

TRUE = Term(True)
FALSE = Term(False)

BACKENDS = ("cvc5", "z3")
#: The largest character of the SMT-LIB string theory (both solvers' default alphabet).
MAX_CHAR_CODE = 0x2FFFF
DEFAULT_BACKEND = "cvc5"
#: A check's default solver time limit, in milliseconds (here, with the backends, so the CLI reads it without loading the checks).
DEFAULT_TIMEOUT_MS = 10_000


class SolverUnavailable(PolicyEngineError):
    """The solver library of the chosen backend is not installed."""

    def __init__(self, backend: str) -> None:
        package = "cvc5" if backend == "cvc5" else "z3-solver"
        super().__init__(
            f'the `{backend}` solver is not installed: install "policyengine-kms[analysis]" (or `pip install {package}`)'
        )
        self.backend = backend


class Backend(ABC):
    """Term construction and solving; subclasses supply the ``_raw`` primitives.

    One backend object holds one solver context; a check builds one formula and asks one or
    two questions, so contexts are never shared between checks.
    """

    name: str = "?"

    # -- folding combinators (shared) -------------------------------------------------------

    def and_(self, terms: Iterable[Term]) -> Term:
        """Conjunction with constants folded."""
        kept: list[Term] = []
        for term in terms:
            if term is FALSE:
                return FALSE
            if term is not TRUE:
                kept.append(term)
        if not kept:
            return TRUE
        return kept[0] if len(kept) == 1 else self._and(kept)

    def or_(self, terms: Iterable[Term]) -> Term:
        """Disjunction with constants folded."""
        kept: list[Term] = []
        for term in terms:
            if term is TRUE:
                return TRUE
            if term is not FALSE:
                kept.append(term)
        if not kept:
            return FALSE
        return kept[0] if len(kept) == 1 else self._or(kept)

    def not_(self, term: Term) -> Term:
        if term is TRUE:
            return FALSE
        if term is FALSE:
            return TRUE
        return self._not(term)

    def implies(self, a: Term, b: Term) -> Term:
        return self.or_((self.not_(a), b))

    def ite(self, cond: Term, then: Term, other: Term) -> Term:
        """If-then-else over Booleans, folded; for other sorts use ``ite_value``."""
        if cond is TRUE:
            return then
        if cond is FALSE:
            return other
        if then is other:
            return then
        if then is TRUE and other is FALSE:
            return cond
        if then is FALSE and other is TRUE:
            return self._not(cond)
        return self._ite(cond, self.lift(then), self.lift(other))

    def ite_value(self, cond: Term, then: Term, other: Term) -> Term:
        """If-then-else over strings or integers (never folded constants)."""
        if cond is TRUE:
            return then
        if cond is FALSE:
            return other
        return self._ite(cond, then, other)

    def lift(self, term: Term) -> Term:
        """A solver term for ``term`` (turns the folded constants into solver constants)."""
        if term is TRUE or term is FALSE:
            return self._bool_const(bool(term))
        return term

    def one_of(self, var: Term, values: Sequence[int]) -> Term:
        """``var`` equals one of the integer ``values`` (ranges collapsed into bounds)."""
        if not values:
            return FALSE
        ordered = sorted(set(values))
        parts: list[Term] = []
        start = prev = ordered[0]
        for value in [*ordered[1:], None]:
            if value is not None and value == prev + 1:
                prev = value
                continue
            if start == prev:
                parts.append(self.eq(var, self.int_const(start)))
            else:
                parts.append(self.and_((self.le(self.int_const(start), var), self.le(var, self.int_const(prev)))))
            if value is not None:
                start = prev = value
        return self.or_(parts)

    # -- primitives every backend implements ------------------------------------------------

    @abstractmethod
    def bool_var(self, name: str) -> Term: ...

    @abstractmethod
    def int_var(self, name: str) -> Term: ...

    @abstractmethod
    def str_var(self, name: str) -> Term: ...

    @abstractmethod
    def int_const(self, value: int) -> Term: ...

    @abstractmethod
    def str_const(self, value: str) -> Term: ...

    @abstractmethod
    def _bool_const(self, value: bool) -> Term: ...

    @abstractmethod
    def _and(self, terms: list[Term]) -> Term: ...

    @abstractmethod
    def _or(self, terms: list[Term]) -> Term: ...

    @abstractmethod
    def _not(self, term: Term) -> Term: ...

    @abstractmethod
    def _ite(self, cond: Term, then: Term, other: Term) -> Term: ...

    @abstractmethod
    def eq(self, a: Term, b: Term) -> Term: ...

    @abstractmethod
    def le(self, a: Term, b: Term) -> Term: ...

    @abstractmethod
    def lt(self, a: Term, b: Term) -> Term: ...

    @abstractmethod
    def mul_const(self, term: Term, factor: int) -> Term:
        """``term * factor`` for an integer constant (stays linear)."""

    @abstractmethod
    def concat(self, terms: Sequence[Term]) -> Term: ...

    @abstractmethod
    def prefixof(self, prefix: str, value: Term) -> Term: ...

    @abstractmethod
    def in_re(self, value: Term, regex: Regex) -> Term: ...

    @abstractmethod
    def re_lit(self, text: str) -> Regex: ...

    @abstractmethod
    def re_all(self) -> Regex:
        """Any string (``.*``)."""

    @abstractmethod
    def re_char(self) -> Regex:
        """Any one character."""

    @abstractmethod
    def re_range(self, low: str, high: str) -> Regex: ...

    @abstractmethod
    def re_concat(self, parts: Sequence[Regex]) -> Regex: ...

    @abstractmethod
    def re_union(self, parts: Sequence[Regex]) -> Regex: ...

    @abstractmethod
    def re_inter(self, parts: Sequence[Regex]) -> Regex: ...

    @abstractmethod
    def re_star(self, regex: Regex) -> Regex: ...

    @abstractmethod
    def re_comp(self, regex: Regex) -> Regex: ...

    @abstractmethod
    def load(self, assertions: Sequence[Term]) -> None:
        """Replace the solver's assertions by ``assertions``."""

    @abstractmethod
    def check_more(self, extra: Sequence[Term], timeout_ms: int) -> Status:
        """Satisfiability of the loaded assertions plus ``extra`` (assumed for this call only)."""

    def check(self, assertions: Sequence[Term], timeout_ms: int) -> Status:
        """Satisfiability of the conjunction of ``assertions`` within the time limit."""
        self.load(assertions)
        return self.check_more((), timeout_ms)

    @abstractmethod
    def value_bool(self, term: Term) -> bool: ...

    @abstractmethod
    def value_int(self, term: Term) -> int: ...

    @abstractmethod
    def value_str(self, term: Term) -> str: ...

    # -- small regex helpers ----------------------------------------------------------------

    def re_plus(self, regex: Regex) -> Regex:
        return self.re_concat((regex, self.re_star(regex)))

    def re_not_char(self, chars: str) -> Regex:
        """Any one character outside ``chars``, as ranges (solvers handle ranges better than complements)."""
        parts: list[Regex] = []
        low = 0
        for code in sorted({ord(c) for c in chars}):
            if code > low:
                parts.append(self.re_range(chr(low), chr(code - 1)))
            low = code + 1
        if low <= MAX_CHAR_CODE:
            parts.append(self.re_range(chr(low), chr(MAX_CHAR_CODE)))
        return self.re_union(parts)


def load_backend(name: str = DEFAULT_BACKEND) -> Backend:
    """A fresh backend; raises ``SolverUnavailable`` when its library is not installed."""
    if name == "cvc5":
        from policyengine.analysis._cvc5 import Cvc5Backend, available

        if not available():
            raise SolverUnavailable(name)
        return Cvc5Backend()
    if name == "z3":
        from policyengine.analysis._z3 import Z3Backend
        from policyengine.analysis._z3 import available as z3_available

        if not z3_available():
            raise SolverUnavailable(name)
        return Z3Backend()
    raise ValueError(f"unknown solver backend `{name}` (choose from {', '.join(BACKENDS)})")
