"""Fuzzing the readers: policy text, condition-operator names, policy variables, ARNs and principals.

Each target states what may come out: a model or the project's own error, never anything else.
Budgets are CI defaults; ``PE_FUZZ_EXAMPLES=20000 pytest tests/reliability -k fuzz`` runs longer.
"""

from __future__ import annotations

import json

from hypothesis import example, given
from hypothesis import strategies as st

import policyengine as pe
from policyengine.evaluator.operators import find_operator
from policyengine.model.template import TextPart, VariablePart, WildcardPart
from policyengine.parsing.strings import classify_principal, parse_arn, parse_operator_name, parse_template
from tests.reliability.conftest import count, fuzz_settings
from tests.reliability.strategies import arn_strings, operator_names, policy_texts, variable_strings

DEEP = 5000


@fuzz_settings(600)
@given(policy_texts)
@example("[" * DEEP + "]" * DEEP)
@example('{"a":' * DEEP + "1" + "}" * DEEP)
@example('{"Version": "2012-10-17", "Statement": ' + "[" * DEEP + "]" * DEEP + "}")
@example('{"Policy": "' + "[" * 2000 + "]" * 2000 + '"}')
@example('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "\\ud800"}}')
@example('{"Version": "2012-10-17", "Statement": [{"Sid": 0, "Effect": "Allow", "Action": "*", "Resource": "*"}]}')
@example('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": 5, "Resource": 1.5}]}')
def test_fuzz_policy_parser_gives_a_model_or_our_error(text: str) -> None:
    """Any text, however damaged or deeply nested, is a PolicyDocument or a PolicyInputError from both parse paths."""
    count("fuzz.policy_parser")
    outcomes = []
    for parse in (pe.parse_policy, pe.parse_policy_fast):
        try:
            outcomes.append(type(parse(text)).__name__)
        except pe.PolicyInputError as error:
            assert error.issues and str(error)
            outcomes.append("error")
    assert outcomes[0] == outcomes[1], f"the two parse paths disagree on {text[:200]!r}: {outcomes}"


@fuzz_settings(1500)
@given(operator_names)
@example("ForAllValues:")
@example("ForAnyValue:IfExists")
@example("IfExists")
@example("StringEqualsIfExistsIfExists")
def test_fuzz_condition_operator_grammar(text: str) -> None:
    """An operator name parses to parts that spell it exactly, or to None; looking it up never raises."""
    count("fuzz.operator_grammar")
    parsed = parse_operator_name(text)
    if parsed is None:
        return
    rebuilt = (f"{parsed.qualifier}:" if parsed.qualifier else "") + parsed.base + ("IfExists" if parsed.if_exists else "")
    assert rebuilt == text
    assert parsed.qualifier in (None, "ForAllValues", "ForAnyValue")
    find_operator(parsed.base)


@fuzz_settings(1500)
@given(variable_strings)
@example("${aws:username, ''}")
@example("${aws:username,'x'")
@example("${${aws:username}}")
@example("$${*}")
def test_fuzz_policy_variable_grammar(text: str) -> None:
    """A policy string is parts or a located error, never an exception; literal text survives parsing intact."""
    count("fuzz.variable_grammar")
    result = parse_template(text)
    if "${" not in text:
        assert result == (None, None)
        return
    assert (result.parts is None) != (result.error is None)
    if result.error is not None:
        assert "malformed policy variable" in result.error
        return
    assert result.parts is not None
    for part in result.parts:
        assert isinstance(part, TextPart | VariablePart | WildcardPart)
    if not any(isinstance(part, VariablePart) for part in result.parts):
        # Without variables, the parts spell the text with its escapes resolved.
        literal = text.replace("${*}", "*").replace("${?}", "?").replace("${$}", "$")
        spelled = "".join(part.text if isinstance(part, TextPart) else part.char for part in result.parts)  # type: ignore[union-attr]
        assert spelled == literal


@fuzz_settings(1500)
@given(arn_strings)
@example("arn:aws:kms:us-east-1:111122223333:")
@example("arn:::::")
@example("arn:aws:iam::111122223333:role/a:b/c")
def test_fuzz_arn_and_principal_grammar(text: str) -> None:
    """An ARN splits into five parts that join back to the text, or is None; classifying any principal never raises."""
    count("fuzz.arn_principal_grammar")
    parts = parse_arn(text)
    if parts is not None:
        assert ":".join(("arn", *parts)) == text
    for kind in ("AWS", "Service", "Federated", "CanonicalUser"):
        ref = classify_principal(kind, text)
        assert ref.kind != "invalid" or ref.problem


@fuzz_settings(300)
@given(st.text(max_size=40), st.sampled_from(["StringLike", "ArnLike", "StringEquals"]))
def test_fuzz_policy_strings_inside_a_policy(value: str, operator: str) -> None:
    """Any string as a Resource and a condition value gives a policy or our error, and a policy then evaluates."""
    count("fuzz.policy_strings_in_policy")
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "kms:*", "Resource": value or "*", "Condition": {operator: {"aws:username": value}}}
        ],
    }
    try:
        policy = pe.parse_policy(json.dumps(document))
    except pe.PolicyInputError:
        return
    compiled = pe.compile_policy(policy, "identity", "fuzz")
    request = pe.make_request("arn:aws:iam::111122223333:user/alice", "kms:Decrypt", value or "*")
    assert pe.authorize(request, pe.PolicySet(identity=(compiled,))).decision in ("allow", "implicit_deny", "explicit_deny")
