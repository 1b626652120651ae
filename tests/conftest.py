"""Shared fixtures: paths to the examples and a helper that strips spans from model dumps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def strip_spans(data: Any) -> Any:
    """A model dump without any position information, for comparing the two JSON paths."""
    if isinstance(data, dict):
        return {k: strip_spans(v) for k, v in data.items() if not k.endswith("span") and k not in ("spans", "size")}
    if isinstance(data, list | tuple):
        return [strip_spans(v) for v in data]
    return data


@pytest.fixture
def examples_dir() -> Path:
    return EXAMPLES
