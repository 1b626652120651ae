"""The position-keeping JSON reader of the hot path: one pass over the text, no parse tree.

``scan_json`` gives exactly the ``JNode`` tree, spans included, that the Lark parser of
``grammars/policy_json.lark`` gives for the same text, at a small fraction of its cost: strings
are decoded by the C string scanner of the standard ``json`` module, numbers and whitespace are
matched with compiled regular expressions, and lines are counted only where whitespace holds a
newline (JSON allows a newline nowhere else). Objects keep every member in order, duplicates
included; nesting is followed with an explicit stack, so depth is limited by memory, not by
Python's recursion limit.

The grammar stays the definition of the language. The scanner accepts exactly the texts the
grammar accepts, and on anything else it gives up (``ScanDeferred``) without saying why: the
caller then runs the Lark parser, whose error messages are the ones users see. Text holding an
unpaired surrogate is deferred the same way, so that error too comes from one place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from json import JSONDecodeError
from json.decoder import scanstring  # type: ignore[attr-defined]  # the C scanner, when built
from typing import Any, cast

from policyengine.model.span import Span
from policyengine.parsing.json_tree import SURROGATE, JNode

__all__ = ["ScanDeferred", "scan_json"]

_WS = re.compile(r"[ \t\r\n]*")
_INDENT = re.compile(r"[ \t\r]*")  # what follows a newline in indented JSON
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
# The commonest member, `"key": "text"` on one line with no escapes, in one match: key and text decode to themselves.
_STRING_MEMBER = re.compile(r'"([^"\\\x00-\x1f]*)"[ \t\r]*:[ \t\r]*"([^"\\\x00-\x1f]*)"')
_BLANK = " \t\r\n"
_LITERALS = {"t": ("true", True, "boolean"), "f": ("false", False, "boolean"), "n": ("null", None, "null")}

_Always = Callable[[str, int], re.Match[str]]

# What the scanner expects next.
_VALUE, _FIRST_VALUE, _KEY, _FIRST_KEY, _COLON, _AFTER = range(6)


class ScanDeferred(Exception):
    """The scanner does not vouch for this text (a syntax error, or an unpaired surrogate): ask the grammar."""


def scan_json(text: str) -> JNode:
    """JSON text to the ``JNode`` tree with spans the Lark path builds; ``ScanDeferred`` when it is not plain JSON."""
    try:
        return _scan(text)
    except (IndexError, JSONDecodeError) as exc:  # ran off the end, or a string the C scanner refused
        raise ScanDeferred() from exc


def _scan(text: str) -> JNode:
    check_surrogates = "\\u" in text or (not text.isascii() and SURROGATE.search(text) is not None)
    new = tuple.__new__
    ws = cast(_Always, _WS.match)  # both match the empty string, so never None
    indent = cast(_Always, _INDENT.match)
    number = _NUMBER.match
    string_member = _STRING_MEMBER.match
    blank = _BLANK
    line = 1
    line_start = 0  # offset of the first character of the current line
    # Open containers, innermost last: [is an object, members, line, column, offset, the pending member's key].
    stack: list[list[Any]] = []
    frame: list[Any] = [False, [], 0, 0, 0, None]
    state = _VALUE
    i = 0
    while True:
        c = text[i]
        if c in blank:  # whitespace before the next token: newlines are counted here, and only here
            if c == "\n":
                j = indent(text, i + 1).end()
                if text[j] in blank:
                    j = ws(text, i).end()
                    line += text.count("\n", i, j)
                    line_start = text.rfind("\n", i, j) + 1
                else:
                    line += 1
                    line_start = i + 1
                i = j
            elif text[i + 1] in blank:
                j = ws(text, i).end()
                newline = text.rfind("\n", i, j)
                if newline >= 0:
                    line += text.count("\n", i, j)
                    line_start = newline + 1
                i = j
            else:
                i += 1
            c = text[i]
        node: JNode | None = None
        if state == _AFTER:
            if c == ",":
                i += 1
                state = _KEY if frame[0] else _VALUE
                continue
            if c != ("}" if frame[0] else "]"):
                raise ScanDeferred()
            i += 1
            stack.pop()
            node = JNode(
                "object" if frame[0] else "array",
                frame[1],
                new(Span, (frame[2], frame[3], line, i - line_start + 1, frame[4], i)),
            )
        elif state in (_KEY, _FIRST_KEY):
            if c == '"':
                member = string_member(text, i)
                if member is not None:  # the whole `"key": "text"` member at once
                    key, value = member.group(1, 2)
                    if check_surrogates and (SURROGATE.search(key) or SURROGATE.search(value)):
                        raise ScanDeferred()
                    column = i - line_start + 1
                    after = i + len(key) + 2
                    start = member.start(2) - 1
                    stop = member.end()
                    frame[1].append(
                        (
                            JNode("string", key, new(Span, (line, column, line, column + after - i, i, after))),
                            JNode(
                                "string",
                                value,
                                new(Span, (line, start - line_start + 1, line, stop - line_start + 1, start, stop)),
                            ),
                        )
                    )
                    i = stop
                    state = _AFTER
                    continue
                key, after = scanstring(text, i + 1)
                if check_surrogates and SURROGATE.search(key):
                    raise ScanDeferred()
                column = i - line_start + 1
                frame[5] = JNode("string", key, new(Span, (line, column, line, column + after - i, i, after)))
                i = after
                state = _COLON
                continue
            if c != "}" or state == _KEY:
                raise ScanDeferred()
            i += 1
            stack.pop()
            node = JNode("object", [], new(Span, (frame[2], frame[3], line, i - line_start + 1, frame[4], i)))
        elif state == _COLON:
            if c != ":":
                raise ScanDeferred()
            i += 1
            state = _VALUE
            continue
        elif c == '"':
            value, after = scanstring(text, i + 1)
            if check_surrogates and SURROGATE.search(value):
                raise ScanDeferred()
            column = i - line_start + 1
            node = JNode("string", value, new(Span, (line, column, line, column + after - i, i, after)))
            i = after
        elif c == "{" or c == "[":
            frame = [c == "{", [], line, i - line_start + 1, i, None]
            stack.append(frame)
            i += 1
            state = _FIRST_KEY if c == "{" else _FIRST_VALUE
            continue
        elif c == "]" and state == _FIRST_VALUE:
            i += 1
            stack.pop()
            node = JNode("array", [], new(Span, (frame[2], frame[3], line, i - line_start + 1, frame[4], i)))
        elif c in _LITERALS:
            word, literal, kind = _LITERALS[c]
            if not text.startswith(word, i):
                raise ScanDeferred()
            column = i - line_start + 1
            after = i + len(word)
            node = JNode(kind, literal, new(Span, (line, column, line, column + len(word), i, after)))  # type: ignore[arg-type]
            i = after
        else:
            match = number(text, i)
            if match is None:
                raise ScanDeferred()
            after = match.end()
            column = i - line_start + 1
            node = JNode("number", match.group(), new(Span, (line, column, line, column + after - i, i, after)))
            i = after
        # a value is complete: it belongs to the innermost open container, or it is the document
        if not stack:
            return _finish(text, i, node)
        frame = stack[-1]
        if frame[0]:
            frame[1].append((frame[5], node))
        else:
            frame[1].append(node)
        state = _AFTER


def _finish(text: str, i: int, root: JNode) -> JNode:
    """The document, once nothing but whitespace follows it."""
    if _WS.match(text, i).end() != len(text):  # type: ignore[union-attr]
        raise ScanDeferred()
    return root
