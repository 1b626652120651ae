"""The position scanner is the Lark JSON grammar, faster: same tree and spans on valid JSON, deferral on the rest.

``scan_json`` replaced the Lark parser on the hot path (issue 13). The grammar stays the definition: for any
text, either both accept it and build identical ``JNode`` trees (kinds, values, number literals, duplicate keys,
every span), or the grammar rejects it, the scanner defers, and the error users see is the grammar's.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lark.exceptions import UnexpectedInput

from policyengine.errors import PolicyParseError
from policyengine.model.span import Span
from policyengine.parsing.diagnostics import describe_parse_error
from policyengine.parsing.document import _surrogate_issue, parse_json_with_positions
from policyengine.parsing.json_scan import ScanDeferred, scan_json
from policyengine.parsing.json_tree import JNode, UnpairedSurrogate
from policyengine.parsing.loader import policy_json_parser
from tests.reliability.strategies import policy_texts

NUMBER = r"-?(?:0|[1-9][0-9]{0,25})(?:\.[0-9]{1,12})?(?:[eE][+-]?[0-9]{1,4})?"
# Whitespace the grammar allows between tokens, including none, CRLF and blank lines.
GAPS = st.sampled_from(["", "", " ", "\n", "\n  ", "\n\n    ", "\t", "\r\n", " \r\n\t ", "\r"])
KEYS = st.sampled_from(["Action", "Effect", "a", "", "Sid", "é", 'a"b', "\\", "😀"]) | st.text(max_size=5)
STRINGS = st.text(max_size=12) | st.sampled_from(["kms:*", "arn:aws:iam::111122223333:root", "${aws:username}", "\u2028"])


@st.composite
def json_text(draw: st.DrawFn, depth: int = 0) -> str:
    """Valid JSON written every way the grammar allows: any spacing, escapes or not, duplicate keys."""
    gap = draw(GAPS)
    kind = draw(st.sampled_from(["string", "number", "literal", "object", "array"] if depth < 4 else ["string", "number"]))
    if kind == "string":
        return gap + _string(draw, draw(STRINGS))
    if kind == "number":
        return gap + draw(st.from_regex(NUMBER, fullmatch=True))
    if kind == "literal":
        return gap + draw(st.sampled_from(["true", "false", "null"]))
    count = draw(st.integers(0, 4))
    if kind == "array":
        items = [draw(json_text(depth + 1)) + draw(GAPS) for _ in range(count)]
        return gap + "[" + ",".join(items) + draw(GAPS) + "]"
    members = [
        draw(GAPS) + _string(draw, draw(KEYS)) + draw(GAPS) + ":" + draw(json_text(depth + 1)) + draw(GAPS) for _ in range(count)
    ]
    return gap + "{" + ",".join(members) + draw(GAPS) + "}"


def _string(draw: st.DrawFn, value: str) -> str:
    """``value`` as a JSON string, each character written plainly or as an escape (``\\/``, ``\\uXXXX``, pairs)."""
    ascii_only = draw(st.booleans())
    escaped = draw(st.lists(st.booleans(), min_size=len(value), max_size=len(value)))
    out = []
    for char, escape in zip(value, escaped, strict=True):
        if escape and char == "/":
            out.append("\\/")
        elif escape:
            units = char.encode("utf-16-be")
            out.extend(f"\\u{units[k]:02X}{units[k + 1]:02x}" for k in range(0, len(units), 2))
        else:
            out.append(json.dumps(char, ensure_ascii=ascii_only)[1:-1])
    return '"' + "".join(out) + '"'


@st.composite
def damaged_json(draw: st.DrawFn) -> str:
    """Valid JSON with one character replaced, inserted or deleted: mostly invalid, sometimes still valid."""
    text = draw(json_text())
    position = draw(st.integers(0, len(text)))
    noise = draw(st.characters() | st.sampled_from(list("{}[]\":,\\ \n=;'tfn0-.eE+")))
    action = draw(st.sampled_from(["replace", "insert", "delete"]))
    if action == "replace":
        return text[:position] + noise + text[position + 1 :]
    if action == "insert":
        return text[:position] + noise + text[position:]
    return text[:position] + text[position + 1 :]


def lark_tree(text: str) -> JNode:
    node: Any = policy_json_parser().parse(text)
    assert isinstance(node, JNode)
    return node


@settings(max_examples=1500, deadline=None)
@given(json_text(), GAPS)
@example('{"Statement": [{"Effect": "Allow"}], "Statement": []}', "")
@example('"\\ud83d\\ude00"', "\n")
@example("-0.0e-0", " ")
@example('{"a":"b","a" : "c" ,\r\n"a"\t:\t"d"}', "")
def test_scanner_builds_the_grammars_tree_on_valid_json(text: str, trailing: str) -> None:
    """Any JSON, however spaced and escaped: the same kinds, values, literals, duplicates and spans as Lark."""
    text += trailing
    assert scan_json(text).outline() == lark_tree(text).outline()


@settings(max_examples=1500, deadline=None)
@given(damaged_json() | policy_texts | st.text(alphabet='{}[],:"\\ \n\r\t0123456789.eE+-truefalsn=', max_size=40))
@example('{"a": "\\ud800"}')
@example('{"a": 1} x')
@example('{"a": 01}')
@example("\ufeff{}")
@example("[1,]")
@example('{"a" "b"}')
@example('{"a"="b"}')
@example("")
@example("  ")
@example('["\x1f"]')
@example("[" * 3000 + "]" * 3000)
def test_scanner_defers_exactly_where_the_grammar_refuses(text: str) -> None:
    """Where Lark accepts, the scanner gives Lark's tree; where Lark refuses, the scanner defers and the error is Lark's."""
    try:
        expected = lark_tree(text)
    except (UnexpectedInput, UnpairedSurrogate) as refusal:
        issue = describe_parse_error(text, refusal) if isinstance(refusal, UnexpectedInput) else _surrogate_issue(refusal)
        with pytest.raises(ScanDeferred):
            scan_json(text)
        with pytest.raises(PolicyParseError) as reported:
            parse_json_with_positions(text, "f.json")
        assert reported.value.issues == (issue,)
        return
    assert scan_json(text).outline() == expected.outline()


def test_nesting_deeper_than_python_recurses_is_read() -> None:
    """The scanner keeps its own stack: 100,000 levels (Lark's reach too) give the same innermost span."""
    depth = 100_000
    text = '{"a":' * depth + "1" + "}" * depth
    node = scan_json(text)
    for _ in range(depth):
        node = node.value[0][1]
    offset = 5 * depth
    assert node.kind == "number"
    assert node.span == Span(line=1, column=offset + 1, end_line=1, end_column=offset + 2, offset=offset, end_offset=offset + 1)


def test_numbers_stay_the_literals_written() -> None:
    node = scan_json("[1, 1.0, 1e400, -0, 123456789012345678901234567890]")
    assert [item.value for item in node.value] == ["1", "1.0", "1e400", "-0", "123456789012345678901234567890"]
