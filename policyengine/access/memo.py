"""A memo with a size cap, for answers a long-lived ``Access`` keeps between questions.

Answers are remembered by the group of equal callers and the key (``Access.same``), which
makes repeated and related questions cheap; but a server or notebook that asks about many keys
over hours would otherwise keep every answer it ever gave. The cap bounds that: past it the
oldest entry goes first (insertion order, which a dict keeps). A forgotten answer is computed
again on its next use, exactly as the first time, so the cap changes the cost, never an answer.
"""

from __future__ import annotations

from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedMemo(Generic[K, V]):
    """A dictionary of at most ``limit`` entries; adding one more drops the oldest."""

    __slots__ = ("_data", "limit")

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"a memo needs room for at least one entry, not {limit}")
        self.limit = limit
        self._data: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        return self._data.get(key)

    def put(self, key: K, value: V) -> None:
        data = self._data
        if key not in data and len(data) >= self.limit:
            del data[next(iter(data))]
        data[key] = value

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data
