"""A sorted set of comparable values, for the in-memory store's ordered indexes.

Why blocks: the memory store pages keys by creation order and aliases by name, and finds due
work by due time; with 100,000 keys in an account, sorting on every call (or inserting into one
flat list of 100,000 entries) would make each call pay for the account's size. Values live in
sorted blocks of at most ``2 * _LOAD``, found by bisecting the blocks' last values, so adding,
removing and finding a position cost a bisect plus a shift within one block.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["SortedIndex"]

_LOAD = 256


class _Ordered(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...


T = TypeVar("T", bound=_Ordered)


class SortedIndex(Generic[T]):
    """Distinct values in ascending order; adding a present value or removing an absent one does nothing."""

    __slots__ = ("_blocks", "_maxes")

    def __init__(self) -> None:
        self._blocks: list[list[T]] = []
        self._maxes: list[T] = []  # the last (greatest) value of each block

    def __len__(self) -> int:
        return sum(map(len, self._blocks))

    def __bool__(self) -> bool:
        return bool(self._blocks)

    def add(self, value: T) -> None:
        if not self._blocks:
            self._blocks.append([value])
            self._maxes.append(value)
            return
        i = bisect_left(self._maxes, value)
        if i == len(self._maxes):  # past every value: the common case for keys (creation order)
            i -= 1
            block = self._blocks[i]
            block.append(value)
            self._maxes[i] = value
        else:
            block = self._blocks[i]
            j = bisect_left(block, value)
            if block[j] == value:  # j < len(block): value <= this block's last value
                return
            block.insert(j, value)
        if len(block) > 2 * _LOAD:
            self._blocks[i : i + 1] = [block[:_LOAD], block[_LOAD:]]
            self._maxes[i : i + 1] = [block[_LOAD - 1], block[-1]]

    def remove(self, value: T) -> None:
        i = bisect_left(self._maxes, value)
        if i == len(self._maxes):
            return
        block = self._blocks[i]
        j = bisect_left(block, value)
        if block[j] != value:
            return
        del block[j]
        if not block:
            del self._blocks[i]
            del self._maxes[i]
        elif j == len(block):
            self._maxes[i] = block[-1]

    def first(self) -> T | None:
        return self._blocks[0][0] if self._blocks else None

    def after(self, bound: T | None = None) -> Iterator[T]:
        """The values greater than ``bound`` (all of them for None), in order; lazily, so a caller that
        stops after a page pays for the page. The index must not change while this is consumed."""
        blocks = self._blocks
        if bound is None:
            i, j = 0, 0
        else:
            i = bisect_right(self._maxes, bound)
            if i == len(blocks):
                return
            j = bisect_right(blocks[i], bound)
        block = blocks[i] if blocks else []
        for position in range(j, len(block)):
            yield block[position]
        for later in range(i + 1, len(blocks)):
            yield from blocks[later]
