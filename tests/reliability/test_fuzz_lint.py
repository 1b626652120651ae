"""Fuzzing the linter: any JSON or damaged text, as any policy type, gives findings that every reporter can render."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from policyengine.lint.engine import lint_target, target_from_text
from policyengine.lint.finding import POLICY_TYPES, SEVERITY_ORDER
from policyengine.lint.registry import all_rules
from policyengine.lint.reporters.json_report import render_json
from policyengine.lint.reporters.sarif import render_sarif
from policyengine.lint.reporters.text import render_text
from tests.reliability.conftest import count, fuzz_settings
from tests.reliability.strategies import any_json, damaged_text, policy_like_json, policy_texts

lint_inputs = (
    any_json.map(json.dumps)
    | policy_like_json().map(json.dumps)
    | damaged_text(policy_like_json().map(lambda d: json.dumps(d, indent=1)))
    | policy_texts
)


@fuzz_settings(400)
@given(lint_inputs, st.sampled_from(POLICY_TYPES))
@example('{"Version": "2012-10-17", "Statement": [], "\\udc00x": 1}', "key")
@example('{"Version": "2012-10-17", "Statement": {"Sid": "\\ud800", "Effect": "Allow", "Action": "*"}}', "identity")
def test_fuzz_linter_reports_and_renders(text: str, policy_type: Any) -> None:
    """Arbitrary JSON (or text) of any policy type lints without raising; findings are valid and render in every format."""
    count("fuzz.linter")
    rules = all_rules()
    target = target_from_text(text, "fuzz.json", policy_type)
    findings = lint_target(target)
    if target.document is None:
        assert findings, "text that is not a policy must be reported"
    for finding in findings:
        assert finding.rule_id in rules and finding.severity in SEVERITY_ORDER and finding.message
        if finding.span is not None:  # an error at the end of the input may point one past it
            assert 0 <= finding.span.offset <= finding.span.end_offset <= len(text) + 1
    render_text(findings, texts={"fuzz.json": text}, color=False)
    json.loads(render_json(findings, rules))
    used = {finding.rule_id: rules[finding.rule_id] for finding in findings}  # rule metadata is the same every time
    json.dumps(render_sarif(findings, used, texts={"fuzz.json": text}, tool_version="fuzz", information_uri=""))
