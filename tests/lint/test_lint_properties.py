"""The linter never raises on any input, and the same input always gives the same findings."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from policyengine.lint.engine import lint_target, target_from_text
from policyengine.lint.finding import POLICY_TYPES
from tests.properties.strategies import policies

odd_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10) | st.sampled_from(["*", "kms:*", "${aws:username}", "arn:"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["Effect", "Action", "Resource", "Principal", "Condition", "StringEquals", "AWS", "Sid", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=15,
)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        policies(with_principal=True, prefix="S"),
        policies(with_principal=False, prefix="S"),
        st.builds(lambda s: {"Version": "2012-10-17", "Statement": s}, odd_values),
    ),
    st.sampled_from(POLICY_TYPES),
)
def test_lint_never_raises_and_is_deterministic(document: Any, policy_type: Any) -> None:
    """Any JSON shaped like a policy, of any policy type, lints without an exception, identically twice."""
    text = json.dumps(document)
    first = lint_target(target_from_text(text, "p.json", policy_type))
    second = lint_target(target_from_text(text, "p.json", policy_type))
    assert first == second


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120), st.sampled_from(POLICY_TYPES))
def test_lint_of_arbitrary_text_reports_instead_of_raising(text: str, policy_type: Any) -> None:
    """Arbitrary text yields findings (at least one when it is not a policy), never an exception."""
    findings = lint_target(target_from_text(text, "p.json", policy_type))
    target = target_from_text(text, "p.json", policy_type)
    if target.document is None:
        assert findings
