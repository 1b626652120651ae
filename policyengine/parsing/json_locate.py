"""Positions on demand: the span of one value of a decoded document, found in the text only when asked.

The linter reads a plain policy file with the C JSON decoder (``load_plain``: Python values, no
positions): most values are never reported, so finding every value's position up front
(``scan_json``, a Python step per value) is work thrown away. The reader gives each model a
``LazySpan`` instead, a ``Span`` that knows which value it is about (its container and its place
there) and finds its six numbers the first time one is read, through the document's
``SpanLocator``. A clean file never asks; a file with findings pays for the values its findings
point at.

A value is named by its container (a ``PairList`` or list of the decoded document; None for the
root) and its position there: item ``i`` of a list, the value of member ``i`` of an object (``i``),
or that member's key (``~i``). The locator finds where the container sits (a path of indexes from
the root, mapped once per document) and walks the text along that path, skipping each sibling
before the one it wants with the C decoder's scanner (``scan_once``, which reads one value from an
offset and says where it ends) and remembering where every child it passed starts, so the next
lookup in the same container resumes there. Line and column come from bisecting line starts made
in C once per file. A span found this way is the one the scanner and the Lark grammar give (keys
from the opening quote to past the closing one, containers from the bracket to past its partner);
property tests hold them equal.

If the text does not read as the value says (it always should: both come from one text), the
locator falls back to the full scanner (the Lark parser when the scanner defers) and takes the
span from that tree, walked in step with the decoded value.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from json import JSONDecoder
from json.decoder import scanstring  # type: ignore[attr-defined]  # the C scanner, when built
from typing import Any, cast

from policyengine.model.span import Span, line_starts
from policyengine.parsing.json_tree import PairList

__all__ = ["LazySpan", "SpanLocator"]

_WS = re.compile(r"[ \t\r\n]*")
_scan_once = JSONDecoder().scan_once  # type: ignore[attr-defined]  # one JSON value from an offset: (value, offset just past it), in C

# Where a value sits: the member or item index at each level down from the root.
_Path = tuple[int, ...]


class _Mismatch(Exception):
    """The text does not read as the value says: fall back to the full scanner."""


class SpanLocator:
    """Finds the spans of one document's values in its text, each the first time it is asked for.

    ``root`` must be the value ``load_plain`` decoded from ``text``; spans are remembered per place,
    and where each container's children start as far as any lookup has read.
    """

    def __init__(self, text: str, root: Any) -> None:
        self.text = text
        self.root = root
        self._paths: dict[int, _Path] | None = None
        self._walked = False  # whether ``_paths`` holds every container (else the root's first two levels and scopes read)
        self._line_starts: list[int] | None = None
        self._spans: dict[tuple[int, int], Span] = {}
        self._starts: dict[_Path, list[int]] = {}
        self._ends: dict[_Path, list[int]] = {}
        self._fallback: dict[tuple[int, int], Span | None] | None = None

    def span_of(self, container: Any, position: int, scope: Any = None) -> Span:
        """The span of the value at ``position`` in ``container`` (see the module docstring; None: the root).

        ``scope``, a container known to hold ``container`` (the reader's statement), is where the
        container is looked for when it is deeper than the root's first two levels.
        """
        place = (id(container), position)
        found = self._spans.get(place)
        if found is None:
            found = self._spans[place] = self._find(container, position, scope)
        return found

    def _find(self, container: Any, position: int, scope: Any) -> Span:
        if container is None:
            path: _Path = ()
        else:
            path = (*self._path(container, scope), position if position >= 0 else ~position)
        if self._fallback is None:
            try:
                start, end = self._offsets(path, position < 0)
            except (_Mismatch, IndexError, StopIteration, ValueError):
                self._fallback = _scanned_spans(self.text, self.root)
            else:
                return self._span(start, end)
        found = self._fallback[(id(container), position)]
        assert found is not None  # the scanner gives every value a span
        return found

    def _path(self, container: Any, scope: Any) -> _Path:
        """Where ``container`` sits: mapped for the root's first two levels, then for each scope asked about, then all."""
        paths = self._paths
        if paths is None:  # the root, its members and their items (the statements): a few dozen containers
            paths = self._paths = _container_paths(self.root, (), 2)
        found = paths.get(id(container))
        if found is None and scope is not None and id(scope) in paths:
            paths.update(_container_paths(scope, paths[id(scope)]))
            found = paths.get(id(container))
        if found is None and not self._walked:
            self._walked = True
            paths.update(_container_paths(self.root, ()))
            found = paths.get(id(container))
        if found is None:
            raise KeyError("the container is not in this locator's document")
        return found

    def _offsets(self, path: _Path, is_key: bool) -> tuple[int, int]:
        """Start and end offsets of the key (``is_key``) or value at ``path``."""
        text = self.text
        i = _WS.match(text, 0).end()  # type: ignore[union-attr]  # the pattern matches the empty string
        if not path:
            return i, _scan_once(text, i)[1]
        for depth, step in enumerate(path):
            is_object = text[i] == "{"
            if not is_object and text[i] != "[":
                raise _Mismatch()
            i = self._child_start(path[:depth], i, step, is_object)
            if is_object:
                key_end: int = scanstring(text, i + 1)[1]
                if is_key and depth == len(path) - 1:
                    return i, key_end
                i = self._value_start(key_end)
        ends = self._ends[path[:-1]]  # as far as read; holds every child before the last one started
        if len(ends) > path[-1]:
            return i, ends[path[-1]]
        end: int = _scan_once(text, i)[1]
        ends.append(end)  # where the next lookup in this container resumes from
        return i, end

    def _value_start(self, key_end: int) -> int:
        """Where a member's value starts, given where its key ends."""
        text = self.text
        i = _WS.match(text, key_end).end()  # type: ignore[union-attr]
        if text[i] != ":":
            raise _Mismatch()
        return _WS.match(text, i + 1).end()  # type: ignore[union-attr]

    def _child_start(self, container: _Path, opening: int, index: int, is_object: bool) -> int:
        """Where child ``index`` (a member's key, or an item) of the container opening at ``opening`` starts.

        Each child skipped on the way is read once (``scan_once``); where it ends is kept, so a later
        lookup of its span, or a skip past it, reads it no more.
        """
        text = self.text
        starts = self._starts.get(container)
        if starts is None:
            starts = self._starts[container] = [_WS.match(text, opening + 1).end()]  # type: ignore[union-attr]
            self._ends[container] = []
        ends = self._ends[container]
        while len(starts) <= index:
            i = starts[-1]
            if len(ends) < len(starts):
                ends.append(_scan_once(text, self._value_start(scanstring(text, i + 1)[1]) if is_object else i)[1])
            i = _WS.match(text, ends[-1]).end()  # type: ignore[union-attr]
            if text[i] != ",":
                raise _Mismatch()
            starts.append(_WS.match(text, i + 1).end())  # type: ignore[union-attr]
        return starts[index]

    def _span(self, start: int, end: int) -> Span:
        starts = self._line_starts
        if starts is None:  # once a file has a finding
            starts = self._line_starts = line_starts(self.text)
        line = bisect_right(starts, start)
        end_line = bisect_right(starts, end)
        return tuple.__new__(Span, (line, start - starts[line - 1] + 1, end_line, end - starts[end_line - 1] + 1, start, end))


def _container_paths(top: Any, base: _Path, depth: int = -1) -> dict[int, _Path]:
    """The containers under ``top`` (at ``base``), ``depth`` levels down (-1: all), by identity, with their paths."""
    if type(top) is not PairList and type(top) is not list:
        return {}
    found: dict[int, _Path] = {id(top): base}
    stack: list[tuple[Any, _Path]] = [(top, base)]
    limit = len(base) + depth
    while stack:
        node, path = stack.pop()
        deeper = len(path) + 1 != limit
        children = [member[1] for member in node] if type(node) is PairList else node
        for index, child in enumerate(children):
            kind = type(child)
            if kind is PairList or kind is list:
                step = (*path, index)
                found[id(child)] = step
                if deeper:
                    stack.append((child, step))
    return found


def _scanned_spans(text: str, root: Any) -> dict[tuple[int, int], Span | None]:
    """Every value's span from the full position parse, by the place of the decoded value in the same place."""
    from policyengine.parsing.document import parse_nodes  # the scanner, and Lark behind it
    from policyengine.parsing.json_tree import plain_with_spans

    return plain_with_spans(parse_nodes(text), root)[1]


class LazySpan(Span):
    """A ``Span`` whose numbers are found in the text when first read (``SpanLocator``).

    It holds its locator, container, position and scope as its tuple items, so making one costs one C call;
    every way of reading a span (fields, indexing, iteration, comparison, hashing, printing, pickling)
    reads the located span instead. ``resolved`` gives that plain ``Span``, which is what leaves the linter.
    """

    __slots__ = ()

    @staticmethod
    def of(locator: SpanLocator, container: Any, position: int, scope: Any = None) -> LazySpan:
        """The span of the value at ``position`` in ``container`` (see ``SpanLocator.span_of``)."""
        return tuple.__new__(LazySpan, (locator, container, position, scope))

    def resolved(self) -> Span:
        locator = cast(SpanLocator, tuple.__getitem__(self, 0))
        return locator.span_of(tuple.__getitem__(self, 1), tuple.__getitem__(self, 2), tuple.__getitem__(self, 3))

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
