"""Golden explanations: the rendered text of each example scenario, summary and full, fixed in files.

Regenerate with ``PE_UPDATE_GOLDEN=1 pytest tests/unit/test_golden_explain.py`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import policyengine as pe
from tests.conftest import EXAMPLES, ROOT

GOLDEN = ROOT / "tests" / "golden" / "explain"
SCENARIOS = sorted((EXAMPLES / "scenarios").glob("*.*"))


@pytest.mark.parametrize("view", ["summary", "full"])
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_explanation_matches_golden(path: Path, view: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rendered explanation of each example scenario equals its golden text."""
    monkeypatch.chdir(ROOT)
    scenario = pe.load_scenario(path.relative_to(ROOT))
    text = pe.render_text(pe.simulate(scenario, trace=view == "full"), view=view, title=path.name) + "\n"
    golden = GOLDEN / f"{path.stem}.{view}.txt"
    if os.environ.get("PE_UPDATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
        pytest.skip("golden file regenerated: review the diff (a regenerated file is not checked against itself)")
    assert text == golden.read_text()
