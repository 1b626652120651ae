"""The combining rule specialised to an answer's constant pieces is the rule itself.

``partial.combine`` folds the pieces that are TRUE or FALSE into a Python function compiled
once per pattern of constants (``rule.compile_open_rule``) instead of interpreting
``rule.allowed`` over residual formulas on every answer. Here both are computed on every
pattern of constant and open pieces a random draw reaches, with open pieces that are atoms,
negations, conjunctions and disjunctions (some that simplify to constants only at run time),
and must be the same formula; over booleans the specialised rule is ``allowed`` on every one of
the 2^13 assignments.
"""

from __future__ import annotations

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from policyengine.access.formula import FALSE, TRUE, Formula, and_, lit, not_, or_
from policyengine.access.partial import FORMULAS, combine
from policyengine.evaluator.rule import BOOLS, PIECE_NAMES, Pieces, allowed, compile_open_rule
from tests.access.test_formula import Name

A, B, C = lit(Name("a")), lit(Name("b")), lit(Name("c"))
PIECES: list[Formula] = [TRUE, FALSE, A, B, C, not_(A), and_(A, B), or_(B, C), and_(not_(A), C), or_(A, not_(B))]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=len(PIECE_NAMES), max_size=len(PIECE_NAMES)))
def test_the_specialised_rule_is_the_rule_over_formulas(values: list[Formula]) -> None:
    pieces = Pieces(*values)
    assert combine(pieces) == allowed(FORMULAS, pieces)


def test_every_pattern_of_constants_and_one_open_piece() -> None:
    """All 2^13 constant patterns, and each piece open (the atom ``a``) against 1,000 patterns of the others
    (a fixed sample of the 4,096: all 53,248 take ten seconds and add nothing the random formulas do not)."""
    for values in itertools.product([TRUE, FALSE], repeat=len(PIECE_NAMES)):
        pieces = Pieces(*values)
        assert combine(pieces) == allowed(FORMULAS, pieces) in (TRUE, FALSE), values
    others = list(itertools.product([TRUE, FALSE], repeat=len(PIECE_NAMES) - 1))
    for where in range(len(PIECE_NAMES)):
        for values in random.Random(where).sample(others, 1000):
            row = [*values[:where], A, *values[where:]]
            pieces = Pieces(*row)
            assert combine(pieces) == allowed(FORMULAS, pieces), row
    for open_piece in (A, not_(A), and_(A, B)):
        pieces = Pieces(*([open_piece] * len(PIECE_NAMES)))
        assert combine(pieces) == allowed(FORMULAS, pieces)


def test_over_booleans_the_open_rule_is_allowed() -> None:
    rule = compile_open_rule()
    for values in itertools.product([True, False], repeat=len(PIECE_NAMES)):
        assert rule(BOOLS, *values) == allowed(BOOLS, Pieces(*values)), values
    folded = compile_open_rule(deny=False, blocked=False, scps=True, endpoint=True, gated=True, cross=False)
    rest = [n for n in PIECE_NAMES if n not in ("deny", "blocked", "scps", "endpoint", "gated", "cross")]
    for values in itertools.product([True, False], repeat=len(rest)):
        given_values = dict(zip(rest, values, strict=True))
        full = {"deny": False, "blocked": False, "scps": True, "endpoint": True, "gated": True, "cross": False, **given_values}
        assert folded(BOOLS, *values) == allowed(BOOLS, Pieces(**full))
