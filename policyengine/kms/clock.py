"""The clock the local KMS reads, injected so tests and the tour can move time (the ``*_at_time`` idea)."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Anything with ``now()`` in epoch seconds."""

    def now(self) -> float: ...


class SystemClock:
    """Real time."""

    def now(self) -> float:
        return time.time()


class OffsetClock:
    """Real time moved by a test: ``advance(days=8)`` makes deletion windows, rotations and import expiry
    come due now (``policyengine serve --test-mode``'s clock; ``POST /_clock`` moves it).

    Servers sharing a store share the offset through it (the server keeps it there and brings each
    process's clock up to it with ``use_offset``), so time moved through one is moved for all.
    """

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset

    def use_offset(self, offset: float) -> None:
        """Catch up with an offset another process set (never back: a lower one is ignored)."""
        with self._lock:
            self._offset = max(self._offset, offset)

    def advance(self, *, days: float = 0, seconds: float = 0) -> float:
        """Move forward (never back: AWS's time does not go back either); the new time."""
        offset = moved_offset(self.offset, days=days, seconds=seconds)
        self.use_offset(offset)
        return self.now()

    def set(self, epoch: float) -> float:
        """Jump to ``epoch`` seconds, if that is not in the clock's past; the new time."""
        self.use_offset(moved_offset(self.offset, to=epoch))
        return epoch


def moved_offset(current: float, *, days: float = 0, seconds: float = 0, to: float | None = None) -> float:
    """The offset after moving a clock at ``current`` by ``days`` and ``seconds``, or to epoch ``to``;
    ValueError for a move back in time."""
    if to is not None:
        offset = to - time.time()
        if offset < current:
            raise ValueError("the clock only moves forward")
        return offset
    step = days * 86400 + seconds
    if step < 0:
        raise ValueError("the clock only moves forward")
    return current + step


class ManualClock:
    """A clock that only moves when told to: ``advance(days=30)`` ages every key at once."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, *, days: float = 0, seconds: float = 0) -> None:
        with self._lock:
            self._now += days * 86400 + seconds
