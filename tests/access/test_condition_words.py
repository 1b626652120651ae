"""Residual conditions read plainly: a condition and its opposite in words, never ``NOT x = false``.

AWS: "If the key that you specify in a policy condition is not present in the request context, the
values do not match and the condition is false", except for negated operators (StringNotEquals,
NotIpAddress, ...), which are true then, and ``...IfExists`` and ``ForAllValues``, which are true
when the key is absent (IAM User Guide, "Condition operators" and "Single-valued vs. multivalued
context keys"). Where the absent key passes, the words say so ("x is absent or ...").
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import policyengine as pe
from policyengine.access.atoms import ConditionAtom

CASES: list[tuple[str, str, Any, str, str]] = [
    # operator, key, values, the condition in words, its opposite in words
    (
        "Bool",
        "aws:SecureTransport",
        "false",
        "aws:SecureTransport = false",
        "aws:SecureTransport is absent or aws:SecureTransport = true",
    ),
    (
        "StringEquals",
        "kms:ViaService",
        "s3.us-east-1.amazonaws.com",
        "kms:ViaService = s3.us-east-1.amazonaws.com",
        "kms:ViaService is absent or kms:ViaService != s3.us-east-1.amazonaws.com",
    ),
    (
        "StringNotEquals",
        "aws:PrincipalOrgID",
        ["o-1", "o-2"],
        "aws:PrincipalOrgID is absent or aws:PrincipalOrgID not in {o-1, o-2}",
        "aws:PrincipalOrgID in {o-1, o-2}",
    ),
    (
        "StringEqualsIfExists",
        "kms:CallerAccount",
        "111122223333",
        "kms:CallerAccount is absent or kms:CallerAccount = 111122223333",
        "kms:CallerAccount != 111122223333",
    ),
    (
        "NotIpAddress",
        "aws:SourceIp",
        "10.0.0.0/8",
        "aws:SourceIp is absent or aws:SourceIp not in 10.0.0.0/8",
        "aws:SourceIp in 10.0.0.0/8",
    ),
    (
        "NumericLessThan",
        "kms:RecipientAttestation:PCR0",
        ["3", "5"],
        "kms:RecipientAttestation:PCR0 < one of {3, 5}",
        "kms:RecipientAttestation:PCR0 is absent or kms:RecipientAttestation:PCR0 >= all of {3, 5}",
    ),
    (
        "ForAnyValue:StringLike",
        "aws:TagKeys",
        ["team*", "env"],
        "some value of aws:TagKeys like one of {team*, env}",
        "aws:TagKeys is absent or every value of aws:TagKeys like none of {team*, env}",
    ),
    (
        "ForAllValues:StringEquals",
        "aws:TagKeys",
        ["team", "env"],
        "aws:TagKeys is absent or every value of aws:TagKeys in {team, env}",
        "some value of aws:TagKeys not in {team, env}",
    ),
    ("Null", "kms:GrantIsForAWSResource", "true", "kms:GrantIsForAWSResource is absent", "kms:GrantIsForAWSResource is present"),
    (
        "DateGreaterThan",
        "aws:CurrentTime",
        "2026-01-01T00:00:00Z",
        "aws:CurrentTime after 2026-01-01T00:00:00Z",
        "aws:CurrentTime is absent or aws:CurrentTime at or before 2026-01-01T00:00:00Z",
    ),
]


def _atom(operator: str, key: str, values: Any) -> ConditionAtom:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {operator: {key: values}}}
        ],
    }
    compiled = pe.compile_policy(pe.parse_policy(json.dumps(policy), "p.json"), "key_policy")
    (cc,) = compiled.statements[0].conditions
    return ConditionAtom.of(cc)


@pytest.mark.parametrize(("operator", "key", "values", "words", "opposite"), CASES, ids=[c[0] for c in CASES])
def test_a_condition_and_its_opposite_in_words(operator: str, key: str, values: Any, words: str, opposite: str) -> None:
    atom = _atom(operator, key, values)
    assert (atom.text(), atom.negated_text()) == (words, opposite)
    assert "NOT" not in words + opposite and "not (" not in words + opposite
    if operator != "Null":
        # the words name the absent key exactly when the evaluator lets an absent key pass
        absent_passes = atom.compiled.holds({})
        assert words.startswith(f"{key} is absent or ") == absent_passes
        assert opposite.startswith(f"{key} is absent or ") == (not absent_passes)
