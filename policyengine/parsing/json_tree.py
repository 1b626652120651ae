"""JSON values that remember where they were written.

``JNode`` is the parser's intermediate form: a JSON value plus its ``Span``. Objects keep every
member in order, duplicates included, so nothing the author wrote is lost before the reader
decides what it means. The scanner (``json_scan``) builds these, and so does the Lark
transformer (``json_grammar``) while the grammar parses, with no parse tree built;
``from_python`` builds the same shape from ``json.loads`` output, with no spans.

The reader takes neither: it reads the decoder's own values (``load_plain``), and a tree with
spans reaches it as its decoded value and a table of its spans (``plain_with_spans``).
"""

from __future__ import annotations

import json
import re
from typing import Any, Final, Literal

from policyengine.model.span import Span

NodeKind = Literal["string", "number", "boolean", "null", "object", "array"]

# json.loads joins a valid \uD8xx\uDCxx pair into one character, so a surrogate left in a decoded
# string is half a pair: not Unicode text, and not encodable as UTF-8 anywhere downstream.
SURROGATE = re.compile("[\ud800-\udfff]")


class UnpairedSurrogate(ValueError):
    """A JSON string holds half of a UTF-16 surrogate pair (``"\\ud800"``): it is not Unicode text."""

    def __init__(self, span: Span | None) -> None:
        super().__init__("string holds an unpaired UTF-16 surrogate escape; a policy must be Unicode text")
        self.span = span


def text_value(value: str, span: Span | None) -> str:
    """A decoded JSON string, refused (``UnpairedSurrogate``) when it is not Unicode text."""
    if SURROGATE.search(value):
        raise UnpairedSurrogate(span)
    return value


class JNode:
    """A JSON value with its kind, its Python value and its span (None on the fast path).

    ``value`` is a ``str`` for strings, the raw literal text for numbers (so ``1.0`` and ``1``
    stay distinct), a ``bool`` for booleans, None for null, a list of ``(key node, value node)``
    pairs for objects and a list of nodes for arrays.
    """

    __slots__ = ("kind", "span", "value")

    def __init__(self, kind: NodeKind, value: Any, span: Span | None) -> None:
        self.kind = kind
        self.value = value
        self.span = span

    def __repr__(self) -> str:
        return f"JNode({self.kind}, {self.value!r})"

    def outline(self) -> list[tuple[str, Any, Span | None]]:
        """Every node in document order as (kind, value or member count, span), without recursion.

        Two trees with equal outlines hold the same values at the same spans: the way the scanner's
        tree is checked against the grammar's (property tests, bench/bench_parse.py).
        """
        out: list[tuple[str, Any, Span | None]] = []
        stack = [self]
        while stack:
            current = stack.pop()
            if current.kind == "object":
                out.append(("object", len(current.value), current.span))
                for key, member in reversed(current.value):
                    stack += [member, key]
            elif current.kind == "array":
                out.append(("array", len(current.value), current.span))
                stack.extend(reversed(current.value))
            else:
                out.append((current.kind, current.value, current.span))
        return out

    def to_plain(self) -> Any:
        """The value ``load_plain`` gives for this node's text (``PairList`` objects, ``RawNumber`` numbers), no spans kept."""
        return _decoded(self)

    def to_python(self) -> Any:
        """The plain Python value ``json.loads`` would give (the last duplicate key wins)."""
        if self.kind == "object":
            return {key.value: member.to_python() for key, member in self.value}
        if self.kind == "array":
            return [item.to_python() for item in self.value]
        if self.kind == "number":
            return parse_number(self.value)
        return self.value


def parse_number(raw: str) -> int | float:
    """A JSON number literal as ``json.loads`` reads it."""
    if "." in raw or "e" in raw or "E" in raw:
        return float(raw)
    return int(raw)


def from_python(value: Any) -> JNode:
    """The span-less ``JNode`` for a value from ``json.loads(..., object_pairs_hook=list)``.

    Objects must arrive as lists of pairs (so duplicates survive), as ``load_fast`` makes them.
    Strings, the commonest values, are made in place rather than by a call (this is the linter's
    reading path).
    """
    kind = type(value)
    if kind is str:
        return JNode("string", value, None)
    if kind is PairList:
        return JNode(
            "object",
            [(JNode("string", k, None), JNode("string", v, None) if type(v) is str else from_python(v)) for k, v in value],
            None,
        )
    if kind is list:
        return JNode("array", [JNode("string", v, None) if type(v) is str else from_python(v) for v in value], None)
    if isinstance(value, RawNumber):  # before str: RawNumber is a str subclass, and a number must stay a number
        return JNode("number", str(value), None)
    if isinstance(value, str):
        return JNode("string", value, None)
    if isinstance(value, bool):
        return JNode("boolean", value, None)
    if value is None:
        return JNode("null", None, None)
    if isinstance(value, PairList):
        return JNode("object", [(JNode("string", k, None), from_python(v)) for k, v in value], None)
    if isinstance(value, list):
        return JNode("array", [from_python(v) for v in value], None)
    raise TypeError(f"not a JSON value: {type(value).__name__}")


#: A decoded JSON object: its members as ``(key, value)`` pairs in order, duplicates kept. A tuple, which the
#: C decoder makes from its list of pairs in C (a list subclass cost it a Python-level construction per
#: object); arrays are lists, so the two never mix. Immutable: ``plain_with_spans`` builds children first.
PairList: Final = tuple


class RawNumber(str):
    """A JSON number kept as its literal text, so both paths agree on ``1`` versus ``1.0``."""


def load_plain(text: str) -> Any:
    """The C JSON decoder's value of ``text``, in the form the reader takes (no positions, nothing per value in Python).

    Objects are ``PairList``s (members in order, duplicates kept), arrays lists, numbers ``RawNumber``s
    (their literal text), strings, booleans and null as Python has them. Raises ``ValueError`` on
    invalid JSON or text that is not Unicode.
    """
    value = _DECODER.decode(text)  # json.loads with these hooks, without making a decoder per call
    if "\\u" in text or (not text.isascii() and SURROGATE.search(text)):  # only an escape, or a surrogate already there
        _check_strings(value)
    return value


def load_fast(text: str) -> JNode:
    """Parse with the C JSON decoder into a span-less ``JNode`` tree; raises ``ValueError`` as ``load_plain``."""
    return from_python(load_plain(text))


#: The span of every value of a decoded document by its place: (id of its container, or of None for the root;
#: item or member index, or ``~index`` for a member's key). See ``policyengine.parsing.json_locate``.
SpanTable = dict[tuple[int, int], Span | None]

_BUILD = object()


def plain_with_spans(root: JNode, decoded: Any = _BUILD) -> tuple[Any, SpanTable]:
    """The value ``load_plain`` would give for ``root``'s text, and the span of each of its values by place.

    How a tree read with positions (the scanner's, YAML's, a template's resolved policy) reaches the
    reader, which reads decoded values. With ``decoded`` (the same document, already decoded) the
    places are that value's own and no value is built. Made with a stack, not recursion: nesting may
    be deeper than Python recurses.
    """
    value = _decoded(root) if decoded is _BUILD else decoded
    spans: SpanTable = {(id(None), 0): root.span}
    stack = [(root, value)]
    while stack:
        node, shell = stack.pop()
        at = id(shell)
        if node.kind == "object":
            for index, (key, member) in enumerate(node.value):
                spans[at, ~index] = key.span
                spans[at, index] = member.span
                if member.kind == "object" or member.kind == "array":
                    stack.append((member, shell[index][1]))
        elif node.kind == "array":
            for index, item in enumerate(node.value):
                spans[at, index] = item.span
                if item.kind == "object" or item.kind == "array":
                    stack.append((item, shell[index]))
    return value, spans


def _decoded(root: JNode) -> Any:
    """The value ``load_plain`` gives for ``root``'s text, each container made after its children (objects are tuples)."""
    if root.kind != "object" and root.kind != "array":
        return _leaf(root)
    built: dict[int, Any] = {}
    stack = [(root, False)]
    while stack:
        node, ready = stack.pop()
        children: list[JNode] = [member for _, member in node.value] if node.kind == "object" else node.value
        if not ready:
            stack.append((node, True))
            stack += [(child, False) for child in children if child.kind == "object" or child.kind == "array"]
            continue
        values = [built[id(c)] if c.kind == "object" or c.kind == "array" else _leaf(c) for c in children]
        keys = [key.value for key, _ in node.value] if node.kind == "object" else None
        built[id(node)] = values if keys is None else PairList(zip(keys, values, strict=True))
    return built[id(root)]


def _leaf(node: JNode) -> Any:
    """A string, number, boolean or null node's decoded value."""
    kind = node.kind
    if kind == "number":
        return RawNumber(node.value)
    if kind == "string":
        return str(node.value)
    return node.value  # a boolean, or None


def _check_strings(value: Any) -> None:
    """Raise ``UnpairedSurrogate`` if any string or key in a ``json.loads`` value holds half a surrogate pair."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            text_value(item, None)
        elif isinstance(item, PairList):
            for key, member in item:
                text_value(key, None)
                stack.append(member)
        elif isinstance(item, list):
            stack.extend(item)


def _reject(name: str) -> Any:
    raise ValueError(f"`{name}` is not valid JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=PairList, parse_float=RawNumber, parse_int=RawNumber, parse_constant=_reject)
