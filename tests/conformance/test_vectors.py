"""Conformance: every vector in ``vectors/*.json`` decides as AWS would, for the reason it states.

Each vector is data (a scenario plus the expected decision, deciding Sids and reason) and
cites the AWS page that pins the behaviour. Unknown fields are errors. Set
``PE_VECTOR=<name>`` to run one case. ``known_gaps.json`` lists cases that fail for a known,
documented reason; a listed case that starts passing fails the suite, so the list stays honest.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from policyengine.parsing.document import parse_json_with_positions
from policyengine.scenario import read_scenario, simulate

HERE = Path(__file__).parent
VECTOR_DIR = HERE / "vectors"
CASE_FIELDS = {"name", "description", "cite", "scenario", "expected"}
EXPECTED_FIELDS = {"decision", "deciding", "reason"}
KNOWN_GAPS: dict[str, str] = json.loads((HERE / "known_gaps.json").read_text()) if (HERE / "known_gaps.json").exists() else {}


def _cases() -> list[Any]:
    params = []
    only = os.environ.get("PE_VECTOR")
    for path in sorted(VECTOR_DIR.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        root = parse_json_with_positions(text, str(path))
        top = dict((k.value, v) for k, v in root.value)
        assert set(top) == {"cases"}, f"{path.name}: the file must hold exactly `cases`"
        for node in top["cases"].value:
            fields = {k.value: v for k, v in node.value}
            unknown = set(fields) - CASE_FIELDS
            assert not unknown, f"{path.name}: unknown vector fields {sorted(unknown)}"
            name = fields["name"].value
            if only and name != only:
                continue
            case_id = f"{path.name}::{name}"
            marks = [pytest.mark.xfail(reason=KNOWN_GAPS[case_id], strict=True)] if case_id in KNOWN_GAPS else []
            params.append(pytest.param(path, text, fields, id=case_id, marks=marks))
    return params


@pytest.mark.parametrize(("path", "text", "fields"), _cases())
def test_vector(path: Path, text: str, fields: dict[str, Any]) -> None:
    """The evaluator's decision, deciding statements and reason equal the vector's expectation."""
    assert set(fields) == CASE_FIELDS, f"vector needs exactly {sorted(CASE_FIELDS)}"
    expected = fields["expected"].to_python()
    assert set(expected) <= EXPECTED_FIELDS and {"decision", "deciding"} <= set(expected)
    scenario = read_scenario(fields["scenario"], str(path), text, path.parent)
    decision = simulate(scenario)
    got = {"decision": decision.decision, "deciding": sorted(decision.deciding_labels), "reason": decision.reason}
    want = {
        "decision": expected["decision"],
        "deciding": sorted(expected["deciding"]),
        "reason": expected.get("reason") or ("allowed" if expected["decision"] == "allow" else got["reason"]),
    }
    assert got == want, fields["description"].value


def test_vector_count() -> None:
    """The suite keeps at least 250 conformance vectors."""
    assert len(_cases()) >= 250 or os.environ.get("PE_VECTOR")
