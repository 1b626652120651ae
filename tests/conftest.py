"""Shared fixtures: paths to the examples and a helper that strips spans from model dumps."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# CI runs the property tests on a fixed sequence of examples, so a submission's CI result does not
# depend on luck; locally they explore fresh examples each run (and keep failures in .hypothesis/).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

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
