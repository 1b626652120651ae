"""Reading a policy from text: the two JSON paths, the get-key-policy wrapper, files and stdin.

``parse_policy`` keeps source positions (Lark); ``parse_policy_fast`` uses the C JSON decoder
for callers that only evaluate. Both feed the same reader, so both give the same model apart
from the spans. Wherever a policy is read, the output of ``aws kms get-key-policy``
(``{"Policy": "<JSON text>"}``) is accepted too, with positions mapped back into the file.
"""

from __future__ import annotations

import sys
from bisect import bisect_right
from pathlib import Path
from typing import Any

from policyengine.errors import Issue, PolicyInputError, PolicyParseError, PolicyValidationError
from policyengine.model.policy import PolicyDocument
from policyengine.model.span import Span, line_starts
from policyengine.parsing.json_scan import ScanDeferred, scan_json
from policyengine.parsing.json_tree import JNode, PairList, UnpairedSurrogate, load_plain
from policyengine.parsing.reader import read_document

_WRAPPER_KEYS = {"Policy", "PolicyName"}


def parse_json_with_positions(text: str, source: str = "<policy>") -> JNode:
    """JSON text to a ``JNode`` tree with spans; raises ``PolicyParseError``."""
    try:
        return parse_nodes(text)
    except JsonSyntaxError as exc:
        raise PolicyParseError(source, (exc.issue,), text) from None
    except UnpairedSurrogate as exc:
        raise PolicyParseError(source, (_surrogate_issue(exc),), text) from None


def _surrogate_issue(exc: UnpairedSurrogate) -> Issue:
    return Issue(
        message=str(exc), span=exc.span, hint="write the character itself, or a valid surrogate pair", code="json-syntax"
    )


class JsonSyntaxError(Exception):
    """The policy_json grammar refused the text; ``issue`` is its explanation (position, message, hint)."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message)
        self.issue = issue


def parse_nodes(text: str) -> JNode:
    """The ``JNode`` tree of ``text``: the scanner's, or, when it defers, the Lark parser's (which explains errors).

    Raises ``JsonSyntaxError`` (or ``UnpairedSurrogate``). Lark and the grammar are loaded only
    when the scanner defers, so reading well-formed JSON never imports them.
    """
    try:
        return scan_json(text)
    except ScanDeferred:
        pass
    from lark.exceptions import UnexpectedInput

    from policyengine.parsing.diagnostics import describe_parse_error
    from policyengine.parsing.loader import policy_json_parser

    try:
        node: Any = policy_json_parser().parse(text)  # the grammar's verdict: usually an error, with its message
    except UnexpectedInput as exc:
        raise JsonSyntaxError(describe_parse_error(text, exc)) from None
    assert isinstance(node, JNode)
    return node


def parse_policy(text: str, source: str = "<policy>") -> PolicyDocument:
    """Policy text to a ``PolicyDocument`` with source spans on every node.

    Raises ``PolicyParseError`` for text that is not JSON and ``PolicyValidationError`` for
    JSON that is not a policy; both name ``source`` with line and column.
    """
    root = parse_json_with_positions(text, source)
    embedded = _embedded_policy(root)
    if embedded is not None:
        return _parse_embedded(text, embedded, source)
    try:
        return read_document(root, source, len(text))
    except PolicyValidationError as exc:
        raise PolicyValidationError(source, exc.issues, text) from None


def parse_policy_fast(text: str, source: str = "<policy>") -> PolicyDocument:
    """Like ``parse_policy`` without spans, for evaluation; errors are located by the slow path."""
    try:
        root = load_plain(text)
    except (ValueError, RecursionError):  # not JSON, nested deeper than the C decoder recurses, or not Unicode text
        return parse_policy(text, source)
    if type(root) is PairList and is_wrapper_keys({key for key, _ in root}):
        for key, value in root:
            if key == "Policy" and type(value) is str:
                return parse_policy_fast(value, source)
    try:
        return read_document(root, source, len(text))
    except PolicyValidationError:
        return parse_policy(text, source)


def load_policy(path: str | Path, *, positions: bool = True) -> PolicyDocument:
    """Read a policy from a file (``-`` is standard input); errors name the file."""
    source, text = read_text(path)
    return parse_policy(text, source) if positions else parse_policy_fast(text, source)


def read_text(path: str | Path) -> tuple[str, str]:
    """The display name and the text of a file, or of stdin for ``-``; errors are ours."""
    if str(path) == "-":
        return "<stdin>", sys.stdin.read()
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise PolicyInputError(source, (Issue(message="no such file", code="io"),)) from None
    except IsADirectoryError:
        raise PolicyInputError(source, (Issue(message="is a directory, not a policy file", code="io"),)) from None
    except OSError as exc:
        raise PolicyInputError(source, (Issue(message=f"cannot read file: {exc.strerror}", code="io"),)) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PolicyInputError(source, (Issue(message=f"not UTF-8 text (byte {exc.start})", code="io"),)) from None
    return source, text


def is_wrapper_keys(keys: set[str]) -> bool:
    """Whether an object with these member names is ``get-key-policy`` output: ``Policy``, and ``PolicyName`` at most."""
    return "Policy" in keys and keys <= _WRAPPER_KEYS


def _embedded_policy(root: JNode) -> JNode | None:
    """The ``Policy`` string of ``get-key-policy`` output, or None for a plain document."""
    if root.kind != "object" or not is_wrapper_keys({key.value for key, _ in root.value}):
        return None
    for key, value in root.value:
        if key.value == "Policy" and value.kind == "string":
            found: JNode = value
            return found
    return None


def _parse_embedded(outer_text: str, embedded: JNode, source: str) -> PolicyDocument:
    assert embedded.span is not None
    inner_text: str = embedded.value
    mapper = OffsetMapper(outer_text, embedded.span.offset)
    try:
        root = parse_nodes(inner_text)
    except JsonSyntaxError as exc:
        raise PolicyParseError(source, (remap_issue(exc.issue, mapper),), outer_text) from None
    except UnpairedSurrogate as exc:
        raise PolicyParseError(source, (remap_issue(_surrogate_issue(exc), mapper),), outer_text) from None
    remap_node(root, mapper)
    try:
        return read_document(root, source, len(inner_text))
    except PolicyValidationError as exc:
        raise PolicyValidationError(source, exc.issues, outer_text) from None


class OffsetMapper:
    """Maps offsets in a decoded JSON string back to offsets and positions in the file."""

    def __init__(self, outer: str, token_offset: int) -> None:
        self.outer = outer
        self.line_starts = line_starts(outer)
        raw_offsets: list[int] = []
        i = token_offset + 1  # past the opening quote
        while outer[i] != '"':
            raw_offsets.append(i)
            if outer[i] == "\\":
                if outer[i + 1] == "u":
                    code = int(outer[i + 2 : i + 6], 16)
                    if 0xD800 <= code <= 0xDBFF and outer[i + 6 : i + 8] == "\\u":
                        i += 12
                    else:
                        i += 6
                else:
                    i += 2
            else:
                i += 1
        raw_offsets.append(i)
        self.raw_offsets = raw_offsets

    def position(self, inner_offset: int) -> tuple[int, int, int]:
        offset = self.raw_offsets[min(inner_offset, len(self.raw_offsets) - 1)]
        line_index = bisect_right(self.line_starts, offset) - 1
        return offset, line_index + 1, offset - self.line_starts[line_index] + 1

    def span(self, span: Span) -> Span:
        start, line, column = self.position(span.offset)
        end, end_line, end_column = self.position(span.end_offset)
        return Span(line=line, column=column, end_line=end_line, end_column=end_column, offset=start, end_offset=end)


def remap_node(node: JNode, mapper: OffsetMapper) -> None:
    """Map every span under ``node`` into the outer file (with a stack: nesting may be deeper than Python recurses)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.span is not None:
            current.span = mapper.span(current.span)
        if current.kind == "object":
            for key, value in current.value:
                stack.append(key)
                stack.append(value)
        elif current.kind == "array":
            stack.extend(current.value)


def remap_issue(issue: Issue, mapper: OffsetMapper) -> Issue:
    if issue.span is None:
        return issue
    return Issue(message=issue.message, span=mapper.span(issue.span), pointer=issue.pointer, hint=issue.hint, code=issue.code)
