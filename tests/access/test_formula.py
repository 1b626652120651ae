"""Residual formulas: simplification keeps them short and never changes their truth."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from policyengine.access.formula import FALSE, TRUE, Formula, and_, atoms, holds, lit, not_, or_, to_json, to_text


@dataclass(frozen=True)
class Name:
    """A named test atom."""

    name: str

    def text(self) -> str:
        return self.name

    def negated_text(self) -> str:
        return f"not-{self.name}"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name}


A, B, C = lit(Name("a")), lit(Name("b")), lit(Name("c"))


def test_constants_fold() -> None:
    """TRUE and FALSE vanish from AND/OR or decide them, and NOT swaps them."""
    assert and_(A, TRUE) == A and and_(A, FALSE) is FALSE
    assert or_(A, FALSE) == A and or_(A, TRUE) is TRUE
    assert not_(TRUE) is FALSE and not_(not_(A)) == A


def test_contradictions_and_absorption() -> None:
    """x AND NOT x is FALSE, x OR NOT x is TRUE, and a AND (a OR b) is a."""
    assert and_(A, not_(A)) is FALSE
    assert or_(A, not_(A)) is TRUE
    assert and_(A, or_(A, B)) == A
    assert or_(A, and_(A, B)) == A


def test_text_and_json() -> None:
    """Text joins with and/or, bracketing nested groups; negations reach the atoms (De Morgan), so no NOT is
    left; JSON mirrors the tree."""
    f = and_(A, or_(B, C), not_(C))
    assert to_text(f) == "(b or c) and a and not-c"
    assert to_text(not_(and_(A, or_(B, C)))) == "(not-b and not-c) or not-a"
    assert to_json(and_(A, B)) == {"and": [{"name": "a"}, {"name": "b"}]}
    assert [a.text() for a in atoms(f)] == ["a", "b", "c"]


def _formulas() -> st.SearchStrategy[Formula]:
    leaves = st.sampled_from([A, B, C, TRUE, FALSE])
    return st.recursive(
        leaves,
        lambda inner: (
            st.tuples(inner, inner).map(lambda p: and_(*p)) | st.tuples(inner, inner).map(lambda p: or_(*p)) | inner.map(not_)
        ),
        max_leaves=8,
    )


@given(_formulas(), _formulas())
def test_simplification_keeps_truth(f: Formula, g: Formula) -> None:
    """For every assignment of the atoms, and_/or_/not_ agree with plain boolean logic."""
    for values in itertools.product([False, True], repeat=3):
        truth = dict(zip(["a", "b", "c"], values, strict=True))

        def value(atom: Any, truth: dict[str, bool] = truth) -> bool:
            return truth[atom.name]

        assert holds(and_(f, g), value) == (holds(f, value) and holds(g, value))
        assert holds(or_(f, g), value) == (holds(f, value) or holds(g, value))
        assert holds(not_(f), value) == (not holds(f, value))
