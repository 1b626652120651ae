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
