"""Small boolean formulas over atoms: the residual condition of a partial answer.

A residual is built the way ``authorize`` combines statements (OR of allow paths, AND NOT of
deny conditions), so it must be simplified as it is built or it grows with every policy. The
constructors here fold constants, flatten nested AND/OR, drop duplicates, spot ``x AND NOT x``
and ``x OR NOT x``, and apply absorption (``a AND (a OR b) = a``, ``(a AND b) OR a = a``).
That keeps the common cases, one or two conditions on an allow path, as short as a person
would write them, without a general minimiser.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol


class Atom(Protocol):
    """An undecided test: a condition on an open context key, a grant constraint, an unknown policy."""

    def text(self) -> str: ...

    def negated_text(self) -> str:
        """The atom's opposite in words (``x is absent or x = true``), never ``NOT x``."""
        ...

    def to_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Const:
    """``TRUE`` or ``FALSE``."""

    value: bool


@dataclass(frozen=True, slots=True)
class Lit:
    """One atom."""

    atom: Atom


@dataclass(frozen=True, slots=True)
class Not:
    """Negation."""

    inner: Formula


@dataclass(frozen=True, slots=True)
class And:
    """Conjunction of two or more formulas."""

    items: frozenset[Formula]


@dataclass(frozen=True, slots=True)
class Or:
    """Disjunction of two or more formulas."""

    items: frozenset[Formula]


Formula = Const | Lit | Not | And | Or
#: The only two constants: every constructor returns these very objects, so ``is`` tests them.
TRUE = Const(True)
FALSE = Const(False)


def lit(atom: Atom) -> Formula:
    return Lit(atom)


def not_(f: Formula) -> Formula:
    if f is TRUE:
        return FALSE
    if f is FALSE:
        return TRUE
    if isinstance(f, Not):
        return f.inner
    return Not(f)


def _members(f: Formula, kind: type[And] | type[Or]) -> frozenset[Formula]:
    return f.items if isinstance(f, kind) else frozenset((f,))


def _combine(fs: Iterable[Formula], kind: type[And] | type[Or]) -> Formula:
    unit, zero = (TRUE, FALSE) if kind is And else (FALSE, TRUE)
    collected: list[Formula] = []
    for f in fs:
        if f is zero:
            return zero
        if f is not unit:
            collected.append(f)
    if not collected:
        return unit
    if len(collected) == 1:
        return collected[0]
    items: set[Formula] = set()
    for f in collected:
        items.update(_members(f, kind))
    for f in items:
        if isinstance(f, Not) and f.inner in items:
            return zero
    if len(items) == 1:
        return next(iter(items))
    # Absorption: a member of the dual kind whose terms include all of another member's goes.
    dual: type[And] | type[Or] = Or if kind is And else And
    duals = [(f, _members(f, dual)) for f in items]
    kept = set(items)
    for f, terms in duals:
        if len(terms) == 1:
            continue
        for g, other in duals:
            if f is not g and g in kept and other < terms:
                kept.discard(f)
                break
    if len(kept) == 1:
        return next(iter(kept))
    return kind(frozenset(kept))


def and_(*fs: Formula) -> Formula:
    return _combine(fs, And)


def or_(*fs: Formula) -> Formula:
    return _combine(fs, Or)


def all_of(fs: Iterable[Formula]) -> Formula:
    return _combine(fs, And)


def any_of(fs: Iterable[Formula]) -> Formula:
    return _combine(fs, Or)


def atoms(f: Formula) -> list[Atom]:
    """The distinct atoms of ``f``, in text order."""
    found: dict[str, Atom] = {}

    def walk(g: Formula) -> None:
        if isinstance(g, Lit):
            found.setdefault(g.atom.text(), g.atom)
        elif isinstance(g, Not):
            walk(g.inner)
        elif isinstance(g, And | Or):
            for item in g.items:
                walk(item)

    walk(f)
    return [found[k] for k in sorted(found)]


def holds(f: Formula, value: Callable[[Atom], bool]) -> bool:
    """The truth of ``f`` when each atom's truth is ``value(atom)``."""
    if isinstance(f, Const):
        return f.value
    if isinstance(f, Lit):
        return value(f.atom)
    if isinstance(f, Not):
        return not holds(f.inner, value)
    if isinstance(f, And):
        return all(holds(g, value) for g in f.items)
    return any(holds(g, value) for g in f.items)


def _text(f: Formula, parent: str | None = None, negated: bool = False) -> str:
    """Words for ``f`` (its opposite when ``negated``): negations are pushed down to the atoms,
    which say their own opposite, so no ``NOT`` is left; a part that reads with its own
    ``and``/``or`` is bracketed inside another."""
    if isinstance(f, Const):
        return "true" if f.value != negated else "false"
    if isinstance(f, Lit):
        text = f.atom.negated_text() if negated else f.atom.text()
        return f"({text})" if parent is not None and (" or " in text or " and " in text) else text
    if isinstance(f, Not):
        return _text(f.inner, parent, not negated)
    me = "and" if isinstance(f, And) != negated else "or"
    body = f" {me} ".join(sorted(_text(g, me, negated) for g in f.items))
    return f"({body})" if parent is not None and parent != me else body


def to_text(f: Formula) -> str:
    """Readable text: ``kms:ViaService = s3.us-east-1.amazonaws.com and (aws:SecureTransport is absent or ...)``."""
    return _text(f)


def to_json(f: Formula) -> Any:
    """JSON: ``true``/``false``, an atom object, or ``{"and"|"or": [...]}`` / ``{"not": ...}``."""
    if isinstance(f, Const):
        return f.value
    if isinstance(f, Lit):
        return f.atom.to_json()
    if isinstance(f, Not):
        return {"not": to_json(f.inner)}
    key = "and" if isinstance(f, And) else "or"
    return {key: [to_json(g) for g in sorted(f.items, key=_text)]}
