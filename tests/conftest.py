"""Shared fixtures: paths to the examples and a helper that strips spans from model dumps."""

from __future__ import annotations

import os
import re
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# CI runs the property tests on a fixed sequence of examples, so a submission's CI result does not
# depend on luck; locally they explore fresh examples each run (and keep failures in .hypothesis/).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

#: Skip reasons that mean a piece of the test setup is missing (a package, a solver, a server, a browser).
_MISSING = re.compile(r"not installed|could not import|no module named", re.IGNORECASE)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    """Under CI, a test skipped because something is not installed fails instead: CI installs
    every extra (cvc5, z3, the Encryption SDK, PostgreSQL, Chromium), so such a skip would hide a
    missing piece."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and _MISSING.search(str(report.longrepr)):
        report.outcome = "failed"
        report.longrepr = f"CI: this test may not skip for a missing piece: {report.longrepr}"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker per usable core, at most four. Each worker that reaches them starts its own
    PostgreSQL cluster, KMS servers and browser, so more workers cost memory and start-up for little."""
    return max(1, min(len(os.sched_getaffinity(0)), 4))


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


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Generator[None, None, None]:
    """The CLI writing to a terminal (FORCE_COLOR, as rich reads it), colour allowed; afterwards the CLI's lazily
    made rich consoles are dropped, since a console made now keeps treating its stream as a terminal."""
    from policyengine.cli import output

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    yield
    for console in (output.out, output.err):
        vars(console).pop("console", None)
