"""Why was I denied? In test mode the server keeps each refused call's explanation for the test.

AWS's AccessDeniedException message stays AWS's (an application must see what production would
send); the explanation — the decision, its reason and the deciding statements, as ``policyengine
simulate --explain`` prints them — is kept here for the ``local_kms`` fixture's ``last_denial()``
and for pytest's failure report. Only the newest few are kept: a test looks at its own.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from policyengine.explain.decision import Decision
from policyengine.explain.render import render_text

__all__ = ["Denial", "DenialLog"]

_KEPT = 64


@dataclass(frozen=True)
class Denial:
    """One refused call: what was asked, AWS's message, and the evaluator's decision and its explanation."""

    operation: str
    principal: str
    region: str
    message: str
    decision: Decision

    @property
    def explanation(self) -> str:
        """The decision as ``simulate --explain`` prints it (summary view)."""
        return render_text(self.decision, title=f"{self.principal} {self.operation} in {self.region}")

    def __str__(self) -> str:
        return f"{self.explanation}\n  AWS's message: {self.message}"


class DenialLog:
    """The newest denials, oldest first; safe to use from the server's worker threads."""

    def __init__(self) -> None:
        self._denials: deque[Denial] = deque(maxlen=_KEPT)
        self._lock = threading.Lock()

    def add(self, denial: Denial) -> None:
        with self._lock:
            self._denials.append(denial)

    def all(self) -> list[Denial]:
        with self._lock:
            return list(self._denials)

    def clear(self) -> None:
        with self._lock:
            self._denials.clear()
