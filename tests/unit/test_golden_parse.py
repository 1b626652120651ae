"""Golden files: each example policy's normalised model, so changes to the model show in review.

Regenerate with ``PE_UPDATE_GOLDEN=1 pytest tests/unit/test_golden_parse.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import policyengine as pe
from tests.conftest import EXAMPLES, ROOT

GOLDEN = ROOT / "tests" / "golden" / "parse"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.name)
def test_example_parses_to_its_golden_model(path: Path) -> None:
    """The model of each example (spans included) equals its golden JSON."""
    model = pe.load_policy(path).model_dump(mode="json", exclude={"source"})
    golden = GOLDEN / path.name
    if os.environ.get("PE_UPDATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        golden.write_text(json.dumps(model, indent=1, sort_keys=True) + "\n")
        pytest.skip("golden file regenerated: review the diff (a regenerated file is not checked against itself)")
    assert model == json.loads(golden.read_text())
