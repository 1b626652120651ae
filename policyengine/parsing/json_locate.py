"""Positions on demand: the span of one value of a span-less tree, found in the text only when asked.

The linter reads a plain policy file with the C JSON decoder (``load_fast``, no positions): most
values are never reported, so finding every value's position up front (``scan_json``, a Python
step per value) is work thrown away. The reader gives each model a ``LazySpan`` instead, a
``Span`` that knows which node it is about and finds its six numbers the first time one is read,
through the document's ``SpanLocator``. A clean file never asks; a file with findings pays for
the values its findings point at.

The locator walks the text from the root along the node's path (member or item indexes),
skipping each sibling before the one it wants with the C decoder's scanner (``scan_once``, which
reads one value from an offset and says where it ends) and remembering where every child it
passed starts, so the next lookup in the same container resumes there. Line and column come from
counting newlines before an offset (``str.count``), both in C. A span found this way is the one
the scanner and the Lark grammar give (key nodes from the opening quote to past the closing one,
containers from the bracket to past its partner); property tests hold them equal.

If the text does not read as the tree says (it always should: both come from one text), the
locator falls back to the full scanner (the Lark parser when the scanner defers) and takes the
node's span from that tree, walked in step with the span-less one.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate
from json import JSONDecoder
from json.decoder import scanstring  # type: ignore[attr-defined]  # the C scanner, when built
from typing import Any, cast

from policyengine.model.span import Span
from policyengine.parsing.json_tree import JNode

__all__ = ["LazySpan", "SpanLocator"]

_WS = re.compile(r"[ \t\r\n]*")
_scan_once = JSONDecoder().scan_once  # type: ignore[attr-defined]  # one JSON value from an offset: (value, offset just past it), in C

# Where a node sits: the member or item index at each level down from the root, and whether it is
# a member's key (True) or a value (False).
_Path = tuple[int, ...]


class _Mismatch(Exception):
    """The text does not read as the tree says: fall back to the full scanner."""


class SpanLocator:
    """Finds the spans of one document's nodes in its text, each the first time it is asked for.

    ``root`` must be the tree ``load_fast`` built from ``text`` (any node of it can be located);
    spans are remembered per node, and where each container's children start as far as any
    lookup has read.
    """

    def __init__(self, text: str, root: JNode) -> None:
        self.text = text
        self.root = root
        self._top: dict[int, tuple[_Path, bool]] | None = None
        self._line_starts: list[int] | None = None
        self._spans: dict[int, Span] = {}
        self._starts: dict[_Path, list[int]] = {}
        self._fallback: dict[int, Span] | None = None

    def span_of(self, node: JNode, scope: JNode | None = None) -> Span:
        """The span of ``node`` (a node of this locator's tree) in the text.

        ``scope`` is a node known to hold ``node`` (the root, or a statement), where looking for it starts;
        the root's scope is its members and their items, anything else's its whole subtree.
        """
        found = self._spans.get(id(node))
        if found is None:
            found = self._spans[id(node)] = self._find(node, scope if scope is not None else self.root)
        return found

    def _find(self, node: JNode, scope: JNode) -> Span:
        where = self._path(node, scope)
        if self._fallback is None:
            try:
                start, end = self._offsets(*where)
            except (_Mismatch, IndexError, StopIteration, ValueError):
                self._fallback = _scanned_spans(self.text, self.root)
            else:
                return self._span(start, end)
        return self._fallback[id(node)]

    def _path(self, node: JNode, scope: JNode) -> tuple[_Path, bool]:
        """Where ``node`` is: looked for in ``scope`` first (found where the root's map places it), then everywhere."""
        top = self._top
        if top is None:  # the root, its members and their items (the statements): a few dozen entries
            top = self._top = _paths(self.root, (), 2)
        found = top.get(id(node))
        if found is None and scope is not self.root:
            at = top.get(id(scope))
            found = _search(scope, at[0], node) if at is not None else None
        if found is None:
            found = _search(self.root, (), node)
        if found is None:
            raise KeyError("the node is not in this locator's tree")
        return found

    def _offsets(self, path: _Path, is_key: bool) -> tuple[int, int]:
        """Start and end offsets of the key (``is_key``) or value at ``path``."""
        text = self.text
        i = _WS.match(text, 0).end()  # type: ignore[union-attr]  # the pattern matches the empty string
        for depth, step in enumerate(path):
            opening = text[i]
            i = self._child_start(path[:depth], i, step, opening == "{")
            if opening == "{":
                key_end: int = scanstring(text, i + 1)[1]
                if is_key and depth == len(path) - 1:
                    return i, key_end
                i = _WS.match(text, key_end).end()  # type: ignore[union-attr]
                if text[i] != ":":
                    raise _Mismatch()
                i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
            elif opening != "[":
                raise _Mismatch()
        end: int = _scan_once(text, i)[1]
        return i, end

    def _child_start(self, container: _Path, opening: int, index: int, is_object: bool) -> int:
        """Where child ``index`` (a member's key, or an item) of the container opening at ``opening`` starts."""
        text = self.text
        starts = self._starts.get(container)
        if starts is None:
            starts = self._starts[container] = [_WS.match(text, opening + 1).end()]  # type: ignore[union-attr]
        while len(starts) <= index:
            i = starts[-1]
            if is_object:
                i = _WS.match(text, scanstring(text, i + 1)[1]).end()  # type: ignore[union-attr]
                if text[i] != ":":
                    raise _Mismatch()
                i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
            i = _WS.match(text, _scan_once(text, i)[1]).end()  # type: ignore[union-attr]
            if text[i] != ",":
                raise _Mismatch()
            starts.append(_WS.match(text, i + 1).end())  # type: ignore[union-attr]
        return starts[index]

    def _span(self, start: int, end: int) -> Span:
        starts = self._line_starts
        if starts is None:  # where each line starts, made in C (split, len, accumulate) once a file has a finding
            starts = self._line_starts = list(accumulate(map((1).__add__, map(len, self.text.split("\n")[:-1])), initial=0))
        line = bisect_right(starts, start)
        end_line = bisect_right(starts, end)
        return tuple.__new__(Span, (line, start - starts[line - 1] + 1, end_line, end - starts[end_line - 1] + 1, start, end))


def _paths(top: JNode, base: _Path, depth: int) -> dict[int, tuple[_Path, bool]]:
    """The nodes under ``top`` (at ``base``), ``depth`` levels down (-1: all), by identity: path, and whether a key."""
    found: dict[int, tuple[_Path, bool]] = {id(top): (base, False)}
    stack: list[tuple[JNode, _Path]] = [(top, base)]
    limit = len(base) + depth if depth >= 0 else -1
    while stack:
        node, path = stack.pop()
        deeper = len(path) + 1 != limit
        if node.kind == "object":
            for index, (key, value) in enumerate(node.value):
                step = (*path, index)
                found[id(key)] = (step, True)
                found[id(value)] = (step, False)
                if deeper and (value.kind == "object" or value.kind == "array"):
                    stack.append((value, step))
        elif node.kind == "array":
            for index, item in enumerate(node.value):
                step = (*path, index)
                found[id(item)] = (step, False)
                if deeper and (item.kind == "object" or item.kind == "array"):
                    stack.append((item, step))
    return found


def _search(top: JNode, base: _Path, node: JNode) -> tuple[_Path, bool] | None:
    """The path of ``node`` under ``top`` (at ``base``), and whether it is a key; None when it is not there."""
    if top is node:
        return base, False
    if top.kind != "object" and top.kind != "array":
        return None
    stack: list[tuple[JNode, _Path]] = [(top, base)]
    while stack:
        container, path = stack.pop()
        if container.kind == "object":
            for index, (key, value) in enumerate(container.value):
                if key is node:
                    return (*path, index), True
                if value is node:
                    return (*path, index), False
                if value.kind == "object" or value.kind == "array":
                    stack.append((value, (*path, index)))
        else:
            for index, item in enumerate(container.value):
                if item is node:
                    return (*path, index), False
                if item.kind == "object" or item.kind == "array":
                    stack.append((item, (*path, index)))
    return None


def _scanned_spans(text: str, root: JNode) -> dict[int, Span]:
    """Every node's span from the full position parse, by the identity of the span-less tree's node in the same place."""
    from policyengine.parsing.document import parse_nodes  # the scanner, and Lark behind it

    scanned = parse_nodes(text)
    found: dict[int, Span] = {}
    stack = [(root, scanned)]
    while stack:
        bare, full = stack.pop()
        if full.span is not None:
            found[id(bare)] = full.span
        if bare.kind == "object":
            for (bare_key, bare_value), (full_key, full_value) in zip(bare.value, full.value, strict=True):
                stack += [(bare_key, full_key), (bare_value, full_value)]
        elif bare.kind == "array":
            stack += zip(bare.value, full.value, strict=True)
    return found


class LazySpan(Span):
    """A ``Span`` whose numbers are found in the text when first read (``SpanLocator``).

    It holds its locator, node and scope as its tuple items, so making one costs one C call; every way
    of reading a span (fields, indexing, iteration, comparison, hashing, printing, pickling) reads
    the located span instead. ``resolved`` gives that plain ``Span``, which is what leaves the linter.
    """

    __slots__ = ()

    @staticmethod
    def of(locator: SpanLocator, node: JNode, scope: JNode) -> LazySpan:
        """The span of ``node``, to be looked for in ``scope`` (see ``SpanLocator.span_of``)."""
        return tuple.__new__(LazySpan, (locator, node, scope))

    def resolved(self) -> Span:
        locator = cast(SpanLocator, tuple.__getitem__(self, 0))
        return locator.span_of(cast(JNode, tuple.__getitem__(self, 1)), cast(JNode, tuple.__getitem__(self, 2)))

    @property
    def line(self) -> int:
        return self.resolved()[0]

    @property
    def column(self) -> int:
        return self.resolved()[1]

    @property
    def end_line(self) -> int:
        return self.resolved()[2]

    @property
    def end_column(self) -> int:
        return self.resolved()[3]

    @property
    def offset(self) -> int:
        return self.resolved()[4]

    @property
    def end_offset(self) -> int:
        return self.resolved()[5]

    def __getitem__(self, index: Any) -> Any:
        return self.resolved()[index]

    def __iter__(self) -> Any:
        return iter(self.resolved())

    def __len__(self) -> int:
        return 6

    def __bool__(self) -> bool:
        return True

    def __eq__(self, other: object) -> bool:
        return tuple.__eq__(self.resolved(), _plain(other))

    def __ne__(self, other: object) -> bool:
        return tuple.__ne__(self.resolved(), _plain(other))

    def __lt__(self, other: tuple[Any, ...]) -> bool:
        return tuple.__lt__(self.resolved(), _plain(other))

    def __le__(self, other: tuple[Any, ...]) -> bool:
        return tuple.__le__(self.resolved(), _plain(other))

    def __gt__(self, other: tuple[Any, ...]) -> bool:
        return tuple.__gt__(self.resolved(), _plain(other))

    def __ge__(self, other: tuple[Any, ...]) -> bool:
        return tuple.__ge__(self.resolved(), _plain(other))

    def __hash__(self) -> int:
        return tuple.__hash__(self.resolved())

    def __str__(self) -> str:
        return str(self.resolved())

    def __repr__(self) -> str:
        return repr(self.resolved())

    def __reduce__(self) -> tuple[Any, ...]:
        return self.resolved().__reduce__()


def _plain(other: object) -> Any:
    return other.resolved() if isinstance(other, LazySpan) else other
