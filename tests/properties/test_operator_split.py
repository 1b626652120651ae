"""The regular expression that splits condition operator names accepts exactly what the grammar accepts.

``parse_operator_name`` splits well-formed names with a regular expression and sends the rest to
grammars/condition_op.lark, which defines the language (``parse_arn``'s split is held to grammars/arn.lark by
test_arn_split.py). Both ways are compared on any text drawn from the characters that matter, so the fast
path cannot drift from the grammar: where the grammar accepts, the expression must accept with the same
parts, and where it refuses, so must the expression.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st
from lark import Token, Tree
from lark.exceptions import LarkError

from policyengine.parsing.loader import condition_operator_parser
from policyengine.parsing.strings import _OPERATOR

OPERATOR_TEXT = st.sampled_from(["", "ForAllValues:", "ForAnyValue:", "forallvalues:", "ForAllValues", "ForAnyValue"]).flatmap(
    lambda prefix: st.text(alphabet="StringLikeIfExists09:_ \n", max_size=12).map(lambda rest: prefix + rest)
)


def _operator_by_grammar(text: str) -> tuple[str | None, str] | None:
    try:
        tree = condition_operator_parser().parse(text)
    except LarkError:
        return None
    qualifier = next((str(c.children[0]).rstrip(":") for c in tree.children if isinstance(c, Tree)), None)
    base = next(str(c) for c in tree.children if isinstance(c, Token))
    return qualifier, base


@settings(max_examples=3000, deadline=None)
@given(OPERATOR_TEXT)
@example("ForAnyValue:StringLikeIfExists")
@example("ForAllValues:")
@example("StringEquals\n")
@example("ForAllValues:ForAnyValue:StringEquals")
@example("1StringEquals")
def test_operator_expression_is_the_grammar(text: str) -> None:
    match = _OPERATOR.fullmatch(text)
    assert (match.groups() if match else None) == _operator_by_grammar(text)
