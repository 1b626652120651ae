"""The one home of Hypothesis strategies: statements, policies, requests and contexts.

Everything is drawn from small universes (three accounts, a few principals, a few actions) so
that random policies and requests actually meet and matches are common.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

KEY_ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
KEY_ARN = f"arn:aws:kms:us-east-1:{KEY_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"

ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:DescribeKey", "kms:GenerateDataKey", "kms:CreateGrant"]
ACTION_PATTERNS = [
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:*",
    "kms:Describe*",
    "kms:GenerateDataKey*",
    "kms:?ecrypt",
    "*",
    "KMS:decrypt",
    "s3:GetObject",
]
RESOURCE_PATTERNS = ["*", KEY_ARN, f"arn:aws:kms:*:{KEY_ACCOUNT}:key/*", f"arn:aws:kms:us-east-1:{KEY_ACCOUNT}:key/other"]
CALLERS = [
    # (principal ARN, role ARN or None, account)
    (f"arn:aws:iam::{KEY_ACCOUNT}:user/alice", None, KEY_ACCOUNT),
    (f"arn:aws:sts::{KEY_ACCOUNT}:assumed-role/App/s1", f"arn:aws:iam::{KEY_ACCOUNT}:role/App", KEY_ACCOUNT),
    (f"arn:aws:iam::{OTHER_ACCOUNT}:user/bob", None, OTHER_ACCOUNT),
    (f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/Ext/s2", f"arn:aws:iam::{OTHER_ACCOUNT}:role/Ext", OTHER_ACCOUNT),
]
PRINCIPAL_VALUES = [
    f"arn:aws:iam::{KEY_ACCOUNT}:root",
    KEY_ACCOUNT,
    f"arn:aws:iam::{OTHER_ACCOUNT}:root",
    f"arn:aws:iam::{KEY_ACCOUNT}:user/alice",
    f"arn:aws:iam::{KEY_ACCOUNT}:role/App",
    f"arn:aws:sts::{KEY_ACCOUNT}:assumed-role/App/s1",
    f"arn:aws:iam::{OTHER_ACCOUNT}:user/bob",
    f"arn:aws:iam::{OTHER_ACCOUNT}:role/Ext",
]
CONTEXT_KEYS = [
    "aws:PrincipalTag/team",
    "kms:EncryptionContext:app",
    "aws:MultiFactorAuthPresent",
    "custom:n",
    "kms:EncryptionContextKeys",
]
STRING_VALUES = ["blue", "green", "Blue", "b*", "pay?ents", "payments", "x"]
OPERATORS = ["StringEquals", "StringNotEquals", "StringLike", "NumericLessThan", "Bool", "Null"]


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, Any]:
    block: dict[str, dict[str, Any]] = {}
    for _ in range(draw(st.integers(0, 2))):
        op = draw(st.sampled_from(OPERATORS))
        if op == "Null":
            full = op
            values: Any = draw(st.sampled_from(["true", "false"]))
        else:
            qualifier = draw(st.sampled_from(["", "", "ForAllValues:", "ForAnyValue:"]))
            suffix = draw(st.sampled_from(["", "", "IfExists"]))
            full = f"{qualifier}{op}{suffix}"
            if op == "NumericLessThan":
                values = draw(st.lists(st.sampled_from(["1", "5", "10"]), min_size=1, max_size=2))
            elif op == "Bool":
                values = draw(st.sampled_from(["true", "false"]))
            else:
                values = draw(st.lists(st.sampled_from(STRING_VALUES), min_size=1, max_size=3))
        key = draw(st.sampled_from(CONTEXT_KEYS))
        block.setdefault(full, {})[key] = values
    return block


@st.composite
def statements(draw: st.DrawFn, *, with_principal: bool, sid: str) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"]))}
    if with_principal:
        statement["Principal"] = {"AWS": draw(st.lists(st.sampled_from(PRINCIPAL_VALUES), min_size=1, max_size=2))}
    actions = draw(st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3))
    statement["NotAction" if draw(st.integers(0, 9)) == 0 else "Action"] = actions
    statement["Resource"] = draw(st.sampled_from(RESOURCE_PATTERNS))
    condition = draw(conditions())
    if condition:
        statement["Condition"] = condition
    return statement


@st.composite
def policies(draw: st.DrawFn, *, with_principal: bool, prefix: str, max_statements: int = 4) -> dict[str, Any]:
    count = draw(st.integers(0 if not with_principal else 1, max_statements))
    return {
        "Version": "2012-10-17",
        "Statement": [draw(statements(with_principal=with_principal, sid=f"{prefix}{i}")) for i in range(count)],
    }


@st.composite
def contexts(draw: st.DrawFn) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if draw(st.booleans()):
        context["aws:PrincipalTag/team"] = draw(st.sampled_from(STRING_VALUES))
    if draw(st.booleans()):
        context["kms:EncryptionContext:app"] = draw(st.sampled_from(STRING_VALUES))
    if draw(st.booleans()):
        context["aws:MultiFactorAuthPresent"] = draw(st.sampled_from(["true", "false", "TRUE", "maybe"]))
    if draw(st.booleans()):
        context["custom:n"] = draw(st.sampled_from(["0", "3", "7", "12", "abc"]))
    if draw(st.booleans()):
        context["kms:EncryptionContextKeys"] = draw(st.lists(st.sampled_from(STRING_VALUES), max_size=3, unique=True))
    return context


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    principal, role, account = draw(st.sampled_from(CALLERS))
    return {
        "principal": principal,
        "role": role,
        "account": account,
        "resource_account": KEY_ACCOUNT,
        "action": draw(st.sampled_from(ACTIONS)),
        "resource": KEY_ARN,
        "context": draw(contexts()),
    }


@st.composite
def policy_sets(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key_policy": draw(policies(with_principal=True, prefix="K")),
        "identity": [draw(policies(with_principal=False, prefix="I"))],
    }
    if draw(st.integers(0, 3)) == 0:
        data["boundary"] = draw(policies(with_principal=False, prefix="B", max_statements=2))
    return data


# Plain JSON values without duplicate keys, for the parser round trip.
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.text(max_size=12)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)
