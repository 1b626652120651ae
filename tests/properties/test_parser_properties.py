"""Parser properties: the Lark path reads JSON exactly as ``json.loads``, never crashes, and both paths agree."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import policyengine as pe
from policyengine.parsing.document import parse_json_with_positions
from tests.conftest import strip_spans
from tests.properties.strategies import json_values, policies


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@settings(max_examples=300, deadline=None)
@given(json_values, st.sampled_from([None, 0, 2]), st.booleans())
def test_lark_json_equals_json_loads(value: Any, indent: int | None, ascii_only: bool) -> None:
    """For any JSON value without duplicate keys, the positions path yields what json.loads yields."""
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    assert _same(parse_json_with_positions(text).to_python(), json.loads(text))


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=80) | st.text(alphabet='{}[],:"\\ \n0123456789.eE+-truefalsn*ActionEfctSmV', max_size=60))
def test_arbitrary_text_gives_a_model_or_our_error(text: str) -> None:
    """Any text is either a policy or a PolicyInputError; no other exception escapes either path."""
    for parse in (pe.parse_policy, pe.parse_policy_fast):
        try:
            parse(text)
        except pe.PolicyInputError as error:
            assert error.issues


@settings(max_examples=200, deadline=None)
@given(policies(with_principal=True, prefix="S"), st.sampled_from([None, 1, 4]))
def test_fast_path_and_positions_path_give_identical_models(document: dict[str, Any], indent: int | None) -> None:
    """The C-decoder path and the Lark path build the same model apart from spans."""
    text = json.dumps(document, indent=indent)
    slow = strip_spans(pe.parse_policy(text).model_dump())
    fast = strip_spans(pe.parse_policy_fast(text).model_dump())
    assert slow == fast
