"""Partial evaluation with every key known gives simulate's answer on each issue-15 vector
(``vectors/semantics_core.json``): every command draws from the same rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import policyengine as pe
from policyengine.access import allow_only_if

CASES: list[dict[str, Any]] = json.loads((Path(__file__).parent / "vectors" / "semantics_core.json").read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_partial_evaluation_agrees_with_simulate(case: dict[str, Any]) -> None:
    scenario = pe.scenario_from_dict(case["scenario"])
    decision = pe.simulate(scenario)
    partial = allow_only_if(scenario.request, scenario.policies, ())
    expected = case["expected"]
    assert decision.decision == expected["decision"]
    assert (partial.status, partial.reason) == ("allow" if decision.allowed else "deny", decision.reason)
