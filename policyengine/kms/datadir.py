"""Where the local KMS keeps its state unless told otherwise.

A module of its own so that `policyengine audit` finds the directory without loading the facade,
the key store and the cryptography.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["default_data_dir"]


def default_data_dir() -> Path:
    """Where ``serve`` and ``audit`` keep state unless told otherwise (XDG data directory)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "policyengine"
