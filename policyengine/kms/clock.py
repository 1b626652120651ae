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
    come due now (``policyengine serve --test-mode``'s clock; ``POST /_clock`` moves it)."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, *, days: float = 0, seconds: float = 0) -> float:
        """Move forward (never back: AWS's time does not go back either); the new time."""
        step = days * 86400 + seconds
        if step < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += step
            return time.time() + self._offset

    def set(self, epoch: float) -> float:
        """Jump to ``epoch`` seconds, if that is not in the clock's past; the new time."""
        with self._lock:
            now = time.time() + self._offset
            if epoch < now:
                raise ValueError("the clock only moves forward")
            self._offset += epoch - now
            return epoch


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
