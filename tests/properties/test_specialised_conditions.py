"""The specialised condition tests of ``conditions._specialised`` equal the generic evaluation."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import policyengine as pe
from policyengine.evaluator.conditions import _TRUE_OUTCOMES, evaluate_condition

OPERATORS = [
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIfExists",
    "StringNotEqualsIfExists",
    "StringLike",
    "StringNotLike",
    "StringLikeIfExists",
    "Bool",
    "BoolIfExists",
    "Null",
    "ArnLike",
    "ArnNotLike",
    "ArnEquals",
]
TEXTS = ["a", "b", "A", "true", "false", "True", " true", "x*", "a?", "arn:aws:iam::1:user/a", "arn:aws:iam::*:user/*", ""]
REQUEST_VALUES = st.one_of(
    st.none(),
    st.sampled_from(TEXTS),
    st.lists(st.sampled_from(TEXTS), max_size=3).map(tuple),
)


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(OPERATORS), st.lists(st.sampled_from(TEXTS), min_size=1, max_size=3), REQUEST_VALUES)
def test_specialised_condition_equals_generic(operator: str, values: list[str], request_value: Any) -> None:
    """For every operator with a fast path, holds() agrees with the generic outcome on any request value."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {operator: {"aws:k": values}}}],
    }
    compiled = pe.compile_policy(pe.parse_policy_fast(json.dumps(policy)), "identity", "p")
    condition = compiled.statements[0].conditions[0]
    context = {} if request_value is None else {"aws:k": request_value}
    generic = evaluate_condition(condition, context)[0] in _TRUE_OUTCOMES
    assert condition.holds(context) == generic


def test_common_operators_are_specialised() -> None:
    """StringEquals, Bool, Null and the glob operators take the fast path (otherwise the property above tests nothing)."""
    for operator in ("StringEquals", "BoolIfExists", "Null", "StringLike", "ArnLike"):
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {operator: {"aws:k": "true"}}}],
        }
        compiled = pe.compile_policy(pe.parse_policy_fast(json.dumps(policy)), "identity", "p")
        assert compiled.statements[0].conditions[0].test is not None, operator
