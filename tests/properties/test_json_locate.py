"""Positions found on demand are the scanner's positions, on real-world files and on any JSON.

The linter reads a plain policy file with the C decoder and finds a value's span only when a finding
points at it (``SpanLocator``, ``LazySpan``; issue 13). Those spans must be exactly the ones the
position scanner (and so the Lark grammar) gives: every value of the decoded document is located and
compared, keys included, on every JSON file of the test data (real-world policies, templates and
exports from public repositories) and on generated JSON with escapes, non-ASCII text, duplicate keys
and nesting. The reader, which reads decoded values, must give the same document and issues from the
decoded value with spans found on demand as from the scanner's tree.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from policyengine.lint.inputs import policy
from policyengine.lint.inputs._targets import FileContext, compact_size
from policyengine.model.span import Span, line_starts
from policyengine.parsing import json_locate
from policyengine.parsing.json_locate import LazySpan, SpanLocator
from policyengine.parsing.json_scan import scan_json
from policyengine.parsing.json_tree import JNode, PairList, load_plain, plain_with_spans
from policyengine.parsing.reader import read_document_best_effort
from tests.properties.test_json_scan import GAPS, json_text

TESTS = Path(__file__).resolve().parent.parent
DATA_FILES = sorted(p for p in TESTS.rglob("*.json") if p.is_file())


def _text(path: Path) -> str:
    return path.read_bytes().decode("utf-8-sig")


def _decodes(path: Path) -> bool:
    try:
        load_plain(_text(path))
    except ValueError:  # not JSON the C decoder reads: its errors come from the grammar, never located
        return False
    return True


DECODABLE = [p for p in DATA_FILES if _decodes(p)]
PLAIN_POLICIES = [p for p in DATA_FILES if policy.plain_document(_text(p)) is not None]


def places(decoded: Any, scanned: JNode) -> Iterator[tuple[Any, int, JNode]]:
    """Every value of the decoded document by place (container, position; keys included), with the scanner's node there."""
    yield None, 0, scanned
    stack = [(decoded, scanned)]
    while stack:
        value, node = stack.pop()
        if node.kind == "object":
            assert type(value) is PairList
            for index, ((key, member), (key_node, member_node)) in enumerate(zip(value, node.value, strict=True)):
                assert key == key_node.value
                yield value, ~index, key_node
                yield value, index, member_node
                stack.append((member, member_node))
        elif node.kind == "array":
            assert type(value) is list
            for index, (item, item_node) in enumerate(zip(value, node.value, strict=True)):
                yield value, index, item_node
                stack.append((item, item_node))


def assert_located_as_scanned(text: str, most: int | None = None) -> int:
    """Locate every node of ``text`` on demand (in a shuffled-looking order) and compare with the scanner.

    ``most`` bounds the lookups on a large file to an even sample of its nodes (the first and last
    included): the 800 KB IAM export among the data has about 60,000 nodes, and locating each of
    them twice took 44 s of CI for no more coverage than a sample spread over the whole file.
    """
    decoded = load_plain(text)
    locator = SpanLocator(text, decoded)
    found = list(places(decoded, scan_json(text)))
    if most is not None and len(found) > most:
        step = -(-len(found) // most)
        found = [*found[::step], found[-1]]
    for container, position, node in found[::-1] + found:  # last first, then again: resuming from earlier lookups
        assert locator.span_of(container, position) == node.span
        assert tuple(locator.span_of(container, position)) == tuple(node.span or ())
    return len(found)


@pytest.mark.parametrize("path", DECODABLE, ids=lambda p: str(p.relative_to(TESTS)))
def test_real_world_files_are_located_as_the_scanner_places_them(path: Path) -> None:
    assert assert_located_as_scanned(_text(path), most=2000) > 0


def test_the_test_data_holds_real_world_json() -> None:
    """The parametrized tests above and below run on most of the data (a filter gone wrong would empty them)."""
    assert len(DATA_FILES) > 100
    assert len(DECODABLE) > 0.8 * len(DATA_FILES)
    assert len(PLAIN_POLICIES) > 50


@settings(max_examples=1500, deadline=None)
@given(json_text(), GAPS)
@example('{"Statement": [{"Effect": "Allow"}], "Statement": [], "Statement": [{"a": [[1, [2]], {}]}]}', "\n")
@example('{"a\\"b": "\\ud83d\\ude00", "é": ["\\u00e9", "😀", "\\/"], "\\u0061": {"\\u0061": 1}}', " ")
@example('[\r\n  [ ] , { } ,\t"x" ,-0.0e-0,true,false,null]', "\r\n")
def test_any_json_is_located_as_the_scanner_places_it(text: str, trailing: str) -> None:
    """Escapes, non-ASCII, duplicate keys, nested and empty containers, any spacing: the scanner's spans."""
    text += trailing
    try:
        load_plain(text)
    except ValueError:  # an unpaired surrogate: the grammar's error, never located
        return
    assert_located_as_scanned(text)


@settings(max_examples=300, deadline=None)
@given(json_text(), GAPS)
def test_a_tree_with_positions_reaches_the_reader_as_the_decoder_gives_it(text: str, trailing: str) -> None:
    """``plain_with_spans``: the scanner's tree as ``load_plain``'s value, each span at the value's place."""
    text += trailing
    try:
        decoded = load_plain(text)
    except ValueError:
        return
    scanned = scan_json(text)
    plain, table = plain_with_spans(scanned)
    assert plain == decoded and repr(plain) == repr(decoded)
    assert repr(scanned.to_plain()) == repr(decoded)  # the same value without the span table
    assert {(id(c), p): n.span for c, p, n in places(plain, scanned)} == table
    assert plain_with_spans(scanned, decoded)[1] == {(id(c), p): n.span for c, p, n in places(decoded, scanned)}


POLICY = """{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "a", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root"]},
     "Action": ["kms:Decrypt", "kms:Decrpyt"], "Resource": "*",
     "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com", "kms:ViaService": ["x", 1, true]}}},
    {"Sid": "b", "Effect": "Deny", "Principle": "*", "NotAction": "kms:*", "Resource": "*"}
  ],
  "Version": "2012-10-17"
}
"""


def test_the_reader_gives_the_same_document_and_issues_with_spans_found_on_demand() -> None:
    """Every model span, duplicate key and reading issue: as the positions parse gives them."""
    decoded = load_plain(POLICY)
    lazy, lazy_issues = read_document_best_effort(decoded, "p.json", len(POLICY), SpanLocator(POLICY, decoded))
    eager, eager_issues = read_document_best_effort(scan_json(POLICY), "p.json", len(POLICY))
    assert lazy is not None and eager is not None
    assert isinstance(lazy.statements[0].span, LazySpan)
    assert lazy == eager
    assert lazy_issues == eager_issues and lazy_issues
    assert [tuple(s) for d in lazy.duplicate_keys for s in d.spans if s] == [
        tuple(s) for d in eager.duplicate_keys for s in d.spans if s
    ]
    assert lazy.model_dump() == eager.model_dump()


def test_a_lazy_span_reads_as_the_span_it_stands_for() -> None:
    decoded = load_plain(POLICY)
    locator = SpanLocator(POLICY, decoded)
    statements = decoded[1][1]
    lazy = LazySpan.of(locator, statements, 0)  # the first statement
    plain = locator.span_of(statements, 0)
    assert type(plain) is Span
    assert lazy == plain and plain == lazy
    assert (lazy != plain) is False and (plain != lazy) is False
    assert hash(lazy) == hash(plain)
    assert (lazy.line, lazy.column, lazy.end_line, lazy.end_column, lazy.offset, lazy.end_offset) == tuple(plain)
    assert lazy[0] == plain[0] and list(lazy) == list(plain) and len(lazy) == 6 and bool(lazy)
    assert str(lazy) == "4:5" and repr(lazy) == repr(plain)
    assert pickle.loads(pickle.dumps(lazy)) == plain and type(copy.copy(lazy)) is Span
    assert sorted([lazy, Span(line=1, column=1, end_line=1, end_column=2, offset=0, end_offset=1)])[1] == plain
    assert lazy.resolved() is plain


def test_text_that_does_not_read_as_the_tree_falls_back_to_the_scanner(monkeypatch: pytest.MonkeyPatch) -> None:
    """If skipping a value fails, the locator takes every span from the full position parse instead."""

    def refuse(text: str, offset: int) -> tuple[object, int]:
        raise StopIteration(offset)

    monkeypatch.setattr(json_locate, "_scan_once", refuse)
    assert assert_located_as_scanned(POLICY) > 30


@pytest.mark.parametrize("path", PLAIN_POLICIES, ids=lambda p: str(p.relative_to(TESTS)))
def test_a_plain_policy_files_compact_size_is_measured_from_its_text(path: Path) -> None:
    """The hot path measures a policy file's compact size from the decoder's value: the tree's measure, exactly."""
    text = _text(path)
    root = policy.plain_document(text)
    assert root is not None
    context = FileContext(str(path), text, "json", locator=SpanLocator(text, root))
    assert context.target("identity", root, owner=None).compact_size == compact_size(scan_json(text))


@given(st.text(alphabet="a\n\r\u2028é😀 "))
@example("")
@example("\n")
@example("a\n\nb\n")
def test_line_starts_are_the_offsets_after_each_newline(text: str) -> None:
    """The one line-start table every offset mapper bisects (the locator, the wrapper's string mapper, FileContext)."""
    assert line_starts(text) == [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
