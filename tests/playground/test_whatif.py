"""What if: rows that flip between allow and deny, and the no-new-access proof over a key-policy change."""

from __future__ import annotations

import json

import pytest

from policyengine.playground.whatif import MAX_ROWS, compare
from policyengine.playground.workspace import Workspace

KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROOT = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}
APP = {
    "Sid": "App",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111122223333:role/AppRole"},
    "Action": "kms:Decrypt",
    "Resource": "*",
}
ROWS = [
    {"principal": "arn:aws:sts::111122223333:assumed-role/AppRole/s", "action": "kms:Decrypt"},
    {"principal": "arn:aws:sts::111122223333:assumed-role/AppRole/s", "action": "kms:Encrypt"},
]


def ws(*statements: dict[str, object]) -> Workspace:
    return Workspace.from_json(
        {
            "policies": {"key_policy": json.dumps({"Version": "2012-10-17", "Statement": list(statements)})},
            "request": {**ROWS[0], "resource": KEY},
        }
    )


def test_widening_flips_a_row_and_the_proof_finds_new_access() -> None:
    pytest.importorskip("cvc5")  # the analysis extra; installed with the test extra, so CI always runs this
    result = compare(ws(ROOT), ws(ROOT, APP), ROWS)
    assert [r["flipped"] for r in result["rows"]] == [True, False]
    assert result["rows"][0]["before"]["decision"] == "implicit_deny" and result["rows"][0]["after"]["decision"] == "allow"
    assert result["flipped"] == 1
    proof = result["proof"]
    assert proof["status"] == "fail"
    assert proof["counterexample"]["action"].lower().startswith("kms:")


def test_narrowing_flips_nothing_new_and_the_proof_passes() -> None:
    pytest.importorskip("cvc5")
    result = compare(ws(ROOT, APP), ws(ROOT), ROWS)
    assert result["rows"][0]["flipped"] and result["rows"][0]["after"]["decision"] == "implicit_deny"
    assert result["proof"]["status"] == "pass"


def test_no_proof_when_more_than_the_key_policy_changed_and_bad_rows() -> None:
    before = ws(ROOT)
    data = before.to_json()
    data["policies"]["session_policy"] = json.dumps({"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]})
    assert compare(before, Workspace.from_json(data), ROWS)["proof"] is None
    broken = compare(before, ws(ROOT), [{"action": "Decrypt"}])
    assert broken["rows"][0]["before"]["decision"] == "error"
    with pytest.raises(ValueError, match=f"at most {MAX_ROWS}"):
        compare(before, before, [ROWS[0]] * (MAX_ROWS + 1))
