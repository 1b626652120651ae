"""Every rule fires on its bad example and stays quiet on its fixed one; findings are golden files.

Regenerate the golden findings with ``PE_UPDATE_GOLDEN=1 pytest tests/lint/test_rules.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from policyengine.lint.engine import lint_target, target_from_text
from policyengine.lint.finding import LintTarget, PolicyType
from policyengine.lint.registry import Rule, all_rules

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "lint"
RULES = all_rules()


def example_type(rule: Rule, text: str) -> PolicyType:
    if rule.policy_types:
        return rule.policy_types[0]
    return "key" if '"Principal"' in text or '"NotPrincipal"' in text else "identity"


def _oversized_key_policy() -> str:
    statements = [
        {
            "Sid": f"S{i}",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::111122223333:role/Role{i:04d}"},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "*",
        }
        for i in range(260)
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)


#: Bad examples too large to keep in the rule's metadata, built here.
GENERATED_BAD = {"PE018": _oversized_key_policy}


def example_target(rule: Rule, text: str) -> LintTarget:
    return target_from_text(text, f"{rule.id}.json", example_type(rule, text))


def test_there_are_at_least_forty_rules() -> None:
    """The catalog keeps at least 40 rules, each with a unique id and a bad and a good example."""
    assert len(RULES) >= 40
    assert all(r.bad and r.good and r.summary for r in RULES.values())


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_bad_example_fires(rule_id: str) -> None:
    """The rule reports its own bad example, and the findings equal the golden file."""
    rule = RULES[rule_id]
    bad = GENERATED_BAD[rule_id]() if rule.bad.startswith("(") else rule.bad
    findings = [f for f in lint_target(example_target(rule, bad)) if f.rule_id == rule_id]
    assert findings, f"{rule_id} did not fire on its bad example"
    data = [
        {"rule": f.rule_id, "severity": f.severity, "line": f.line, "column": f.column, "message": f.message} for f in findings
    ]
    golden = GOLDEN / f"{rule_id}.json"
    if os.environ.get("PE_UPDATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        golden.write_text(json.dumps(data, indent=1) + "\n")
        pytest.skip("golden file regenerated: review the diff (a regenerated file is not checked against itself)")
    assert data == json.loads(golden.read_text())


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_good_example_is_quiet(rule_id: str) -> None:
    """The rule does not report its fixed example."""
    rule = RULES[rule_id]
    assert [f for f in lint_target(example_target(rule, rule.good)) if f.rule_id == rule_id] == []


def test_rule_reference_is_up_to_date() -> None:
    """docs/rules.md is exactly what the registry generates (regenerate with python -m policyengine.lint.docs)."""
    from policyengine.lint.docs import rules_markdown

    assert (GOLDEN.parent.parent.parent / "docs" / "rules.md").read_text() == rules_markdown()
