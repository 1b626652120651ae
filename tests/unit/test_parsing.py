"""The policy reader: positions, normalisation, duplicate keys, wrappers and actionable errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import policyengine as pe
from tests.conftest import EXAMPLES, ROOT, strip_spans

KEY_POLICY = """{
  "Version": "2012-10-17",
  "Statement": {
    "Sid": "Root",
    "Effect": "Allow",
    "Principal": {"AWS": "111122223333"},
    "Action": "kms:*",
    "Resource": "*"
  }
}"""


def test_single_statement_and_strings_are_normalised_to_tuples() -> None:
    """A statement object and string elements become one-element tuples."""
    doc = pe.parse_policy(KEY_POLICY)
    assert len(doc.statements) == 1
    statement = doc.statements[0]
    assert [a.value for a in statement.action or ()] == ["kms:*"]
    assert [r.value for r in statement.resource or ()] == ["*"]
    assert statement.principal is not None
    assert statement.principal.entries[0].ref.kind == "account"


def test_every_node_carries_its_span() -> None:
    """Statement, Effect, Action items and principals point at their line and column."""
    statement = pe.parse_policy(KEY_POLICY).statements[0]
    assert statement.span is not None and (statement.span.line, statement.span.column) == (3, 16)
    assert statement.effect_span is not None and (statement.effect_span.line, statement.effect_span.column) == (5, 15)
    action = (statement.action or ())[0]
    assert action.span is not None and (action.span.line, action.span.column, action.span.end_column) == (7, 15, 22)


def test_duplicate_keys_last_occurrence_wins_and_is_recorded() -> None:
    """As with AWS's parser the last duplicate is used, and the duplicate is reported with both spans."""
    text = '{"Statement": [{"Effect": "Deny", "Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}'
    doc = pe.parse_policy(text)
    assert doc.statements[0].effect == "Allow"
    assert [(d.key, d.pointer, len(d.spans)) for d in doc.duplicate_keys] == [("Effect", "/Statement/0", 2)]


def test_get_key_policy_output_is_read_with_positions_in_the_file() -> None:
    """`aws kms get-key-policy` output is unwrapped and spans point into the escaped string in the file."""
    inner = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}]}, indent=2)
    text = json.dumps({"Policy": inner, "PolicyName": "default"})
    doc = pe.parse_policy(text, "out.json")
    action = (doc.statements[0].action or ())[0]
    assert action.span is not None
    assert text[action.span.offset : action.span.end_offset] == '\\"kms:Decrypt\\"'


def test_error_inside_get_key_policy_output_is_located_in_the_file() -> None:
    """A bad Effect inside the embedded policy is reported at its place in the outer file."""
    text = '{"Policy": "{\\"Statement\\": {\\"Effect\\": \\"Alow\\", \\"Action\\": \\"a\\"}}"}'
    with pytest.raises(pe.PolicyValidationError) as info:
        pe.parse_policy(text, "wrapped.json")
    span = info.value.issues[0].span
    assert span is not None and text[span.offset : span.end_offset] == '\\"Alow\\"'


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        (
            '{"Statement": [{"Effect": "Allow", "Action": "a", "Principals": "*"}]}',
            "unknown statement element `Principals`",
            "did you mean `Principal`?",
        ),
        (
            '{"Statement": [{"Effect": "allow", "Action": "a"}]}',
            "`Effect` must be `Allow` or `Deny`, not `allow`",
            "case-sensitive",
        ),
        ('{"Statement": [{"Effect": "Allow", "Action": "a", "NotAction": "b"}]}', "both `Action` and `NotAction`", None),
        ('{"Version": "2012-10-18", "Statement": []}', "`Version` must be `2012-10-17` or `2008-10-17`", "2012-10-17"),
        (
            '{"Statement": [{"Effect": "Allow", "Action": "a", "Principal": "arn:aws:iam::111122223333:root"}]}',
            "a principal given as a string must be `*`",
            None,
        ),
        ('{"Statment": []}', "unknown top-level element `Statment`", "did you mean `Statement`?"),
        ('{"Statement": [{"Effect": "Allow", "Action": 3}]}', "`Action` values must be strings", None),
        (
            '{"Statement": [{"Effect": "Allow", "Action": "a", "Condition": {"Foo:Bar": {}}}]}',
            "is not a condition operator name",
            None,
        ),
        ("[]", "a policy must be a JSON object", None),
    ],
)
def test_validation_errors_say_what_is_wrong_and_how_to_fix_it(text: str, message: str, hint: str | None) -> None:
    """Each kind of invalid policy yields an issue with a clear message and, where possible, a hint."""
    with pytest.raises(pe.PolicyValidationError) as info:
        pe.parse_policy(text)
    issue = info.value.issues[0]
    assert message in issue.message
    if hint is not None:
        assert issue.hint is not None and hint in issue.hint


def test_all_problems_are_reported_together() -> None:
    """The reader gathers every issue of a document instead of stopping at the first."""
    text = '{"Statement": [{"Effect": "Maybe", "Action": "a"}, {"Effect": "Allow"}]}'
    with pytest.raises(pe.PolicyValidationError) as info:
        pe.parse_policy(text)
    assert len(info.value.issues) == 2


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ('{\n  "a": 1,\n}', 2, 9, "trailing comma"),
        ('{\n  "a": 1\n  "b": 2\n}', 3, 3, "missing comma"),
        ("{\n  'a': 1\n}", 2, 3, "double quotes"),
        ('{\n  "a": 1 // note\n}', 2, 10, "comments"),
        ('{\n  "a": "abc\n}', 2, 8, "unterminated string"),
        ('{"a": True}', 1, 7, "`True` is not JSON"),
        ('{"a" 1}', 1, 6, "missing colon"),
        ("", 1, 1, "empty"),
        ('{"a": [1, 2', 1, 11, "ends before it is complete"),
    ],
)
def test_json_syntax_errors_have_exact_positions_and_labels(text: str, line: int, column: int, message: str) -> None:
    """Malformed JSON is reported at the right line and column with a labelled message."""
    with pytest.raises(pe.PolicyParseError) as info:
        pe.parse_policy(text, "bad.json")
    error = info.value
    assert (error.line, error.column) == (line, column)
    assert message in error.issues[0].message


def test_broken_examples_are_explained_at_the_right_place() -> None:
    """Every deliberately broken example fails at the line, column and message recorded for it."""
    expected = json.loads((ROOT / "tests" / "golden" / "broken_examples.json").read_text())
    assert len(expected) >= 8
    for name, want in expected.items():
        with pytest.raises(pe.PolicyInputError) as info:
            pe.load_policy(EXAMPLES / "broken" / name)
        issue = info.value.issues[0]
        assert issue.span is not None, name
        assert (issue.span.line, issue.span.column) == (want["line"], want["column"]), name
        assert want["message"] in issue.message, name


def test_snippet_puts_a_caret_under_the_error() -> None:
    """The snippet repeats the source line and underlines the offending text."""
    with pytest.raises(pe.PolicyInputError) as info:
        pe.parse_policy('{"Statement": [{"Effect": "allow", "Action": "a"}]}', "x.json")
    snippet = info.value.snippet(info.value.issues[0])
    assert snippet is not None
    line, caret = snippet.splitlines()
    assert caret.index("^") == line.index('"allow"') and caret.count("^") == len('"allow"')


def test_unreadable_files_are_input_errors_naming_the_file(tmp_path: Path) -> None:
    """A missing file, a directory and non-UTF-8 bytes each give one clear error naming the path."""
    with pytest.raises(pe.PolicyInputError, match="no such file"):
        pe.load_policy(tmp_path / "missing.json")
    with pytest.raises(pe.PolicyInputError, match="directory"):
        pe.load_policy(tmp_path)
    bad = tmp_path / "latin1.json"
    bad.write_bytes(b'{"Sid": "\xe9"}')
    with pytest.raises(pe.PolicyInputError, match="not UTF-8"):
        pe.load_policy(bad)


def test_fast_path_and_positions_path_agree_on_every_example() -> None:
    """Both JSON paths give the same model for each shipped example, apart from spans."""
    for path in sorted(EXAMPLES.glob("*.json")):
        text = path.read_text()
        slow = strip_spans(pe.parse_policy(text, path.name).model_dump())
        fast = strip_spans(pe.parse_policy_fast(text, path.name).model_dump())
        assert slow == fast, path.name


def test_fast_path_reports_errors_with_positions() -> None:
    """On bad input the fast path falls back to the positions path, so errors still carry line:col."""
    with pytest.raises(pe.PolicyParseError) as info:
        pe.parse_policy_fast('{\n  "a": 1,\n}')
    assert (info.value.line, info.value.column) == (2, 9)
