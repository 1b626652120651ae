"""Lark's parse errors, turned into one-line messages a person can act on.

Token-level mistakes are labelled by example, as Lark's ``match_examples`` allows: each label
lists small bad inputs, and an error whose parser state matches one of them gets that label.
Character-level mistakes (single quotes, comments, stray words) are recognised by the
character that stopped the lexer.
"""

from __future__ import annotations

from functools import cache

from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from policyengine.errors import Issue
from policyengine.model.span import Span
from policyengine.parsing.loader import policy_json_parser

_TOKEN_EXAMPLES: dict[str, list[str]] = {
    "trailing comma": ['{"a": 1,}', '{"a": 1, "b": 2,}', '{"a": 1, "b": 2, "c": 3,}', "[1,]", "[1, 2,]", "[1, 2, 3,]"],
    "missing comma": [
        '{"a": 1 "b": 2}',
        '{"a": 1, "b": 2 "c": 3}',
        '{"a": 1, "b": 2, "c": 3 "d": 4}',
        "[1 2]",
        "[1, 2 3]",
        "[1, 2, 3 4]",
        "[1, 2, 3 {}]",
        "[1 {}]",
        "[1 []]",
        "[1, 2 []]",
        "[1, 2 {}]",
        "[1, 2, 3 []]",
    ],
    "missing colon": ['{"a" 1}', '{"a" "b"}', '{"a" {}}', '{"a" []}', '{"a" true}'],
    "missing value": ['{"a": }', '{"a": ,}', "[,]", '{"a":, "b": 1}'],
    "key must be a string": ["{1: 2}", "{[]: 1}", "{{}: 1}", "{true: 1}", '{"a": 1, 2: 3}'],
    "extra text after the JSON value": ["{} {}", "{}]", "{}}", "[] 1", "{},"],
}

_HINTS = {
    "trailing comma": "JSON does not allow a comma before `}` or `]`; remove it",
    "missing comma": "separate members and list items with `,`",
    "missing colon": 'write `"key": value`',
    "missing value": "give a value (a string, number, object or list) after the `:`",
    "key must be a string": "object keys are double-quoted strings",
    "extra text after the JSON value": "a policy file holds exactly one JSON object",
}


_VALUE_START = {"STRING", "NUMBER", "TRUE", "FALSE", "NULL", "LBRACE", "LBRACKET"}


def _span_at(text: str, offset: int) -> Span:
    line = text.count("\n", 0, offset) + 1
    line_start = text.rfind("\n", 0, offset) + 1
    column = offset - line_start + 1
    return Span(line=line, column=column, end_line=line, end_column=column + 1, offset=offset, end_offset=offset + 1)


@cache
def _labelled_parser_states() -> dict[str, set[object]]:
    """For each label, the parser states its bad examples stop in (computed once)."""
    parser = policy_json_parser()
    states: dict[str, set[object]] = {}
    for label, examples in _TOKEN_EXAMPLES.items():
        for example in examples:
            try:
                parser.parse(example)
            except UnexpectedToken as exc:
                states.setdefault(label, set()).add(_state_key(exc))
            except UnexpectedInput:
                continue
    return states


def describe_parse_error(text: str, exc: UnexpectedInput) -> Issue:
    """One ``Issue`` for a Lark error: the position, a label and a hint."""
    if not text.strip():
        return Issue(message="the input is empty; a policy is a JSON object", span=_span_at(text, 0), code="json-syntax")
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        end = len(text.rstrip())
        return Issue(
            message="the JSON ends before it is complete",
            span=_span_at(text, max(0, end - 1)),
            hint="a `}`, `]` or closing quote is missing",
            code="json-syntax",
        )
    if isinstance(exc, UnexpectedCharacters):
        return _character_issue(text, exc.pos_in_stream or 0)
    if isinstance(exc, UnexpectedToken):
        key = _state_key(exc)
        offset = exc.token.start_pos or 0
        for label, states in _labelled_parser_states().items():
            if key in states:
                if label == "trailing comma":
                    offset = _previous_non_space(text, offset)
                return Issue(message=label, span=_span_at(text, offset), hint=_HINTS[label], code="json-syntax")
        before = text[_previous_non_space(text, offset)] if offset > 0 else ""
        if exc.token.type in ("RBRACE", "RBRACKET") and before == ",":
            label = "trailing comma"
            return Issue(
                message=label, span=_span_at(text, _previous_non_space(text, offset)), hint=_HINTS[label], code="json-syntax"
            )
        if exc.token.type in _VALUE_START and (before in '"}]' or before.isalnum()):
            label = "missing comma"
            return Issue(message=label, span=_span_at(text, offset), hint=_HINTS[label], code="json-syntax")
        shown = str(exc.token).replace("\n", "\\n")
        return Issue(message=f"unexpected `{shown}`", span=_span_at(text, offset), code="json-syntax")
    return Issue(message=str(exc).splitlines()[0], span=None, code="json-syntax")


def _state_key(exc: UnexpectedToken) -> tuple[object, str]:
    state = getattr(exc.state, "position", exc.state)
    return (state, exc.token.type)


def _previous_non_space(text: str, offset: int) -> int:
    index = offset - 1
    while index > 0 and text[index] in " \t\r\n":
        index -= 1
    return index


def _character_issue(text: str, offset: int) -> Issue:
    span = _span_at(text, offset)
    char = text[offset] if offset < len(text) else ""
    if char == "'":
        return Issue(
            message="strings must use double quotes, not single quotes",
            span=span,
            hint="replace `'` with `\"`",
            code="json-syntax",
        )
    if char == "/" or char == "#":
        return Issue(message="JSON does not allow comments", span=span, hint="remove the comment", code="json-syntax")
    if char == '"':
        line_end = text.find("\n", offset)
        segment = text[offset + 1 : line_end if line_end >= 0 else len(text)]
        if '"' not in segment.replace('\\"', ""):
            return Issue(message="unterminated string", span=span, hint='add the closing `"`', code="json-syntax")
        return Issue(
            message="invalid character or escape inside a string",
            span=span,
            hint="escape `\\` as `\\\\` and write control characters as `\\n`, `\\t` or `\\uXXXX`",
            code="json-syntax",
        )
    word_end = offset
    while word_end < len(text) and (text[word_end].isalnum() or text[word_end] in "_-:*"):
        word_end += 1
    word = text[offset:word_end]
    if word in ("True", "False", "None", "TRUE", "FALSE", "NULL"):
        return Issue(
            message=f"`{word}` is not JSON", span=span, hint="JSON literals are `true`, `false` and `null`", code="json-syntax"
        )
    if word:
        return Issue(message=f"unquoted text `{word}`", span=span, hint="strings and keys need double quotes", code="json-syntax")
    shown = repr(char)[1:-1] if char else "end of input"
    return Issue(message=f"unexpected character `{shown}`", span=span, code="json-syntax")
