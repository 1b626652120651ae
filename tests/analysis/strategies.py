"""Random key policies, identity policies and concrete requests for the differential tests.

The universes are small (three accounts, a handful of principals, actions and context values)
so that random policies and random requests actually meet; every policy value also appears
among the request values, and vice versa.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import strategies as st

KEY = "111122223333"
OTHER = "444455556666"
THIRD = "777788889999"

PRINCIPALS: list[Any] = [
    f"arn:aws:iam::{KEY}:root",
    KEY,
    f"arn:aws:iam::{OTHER}:root",
    f"arn:aws:iam::{KEY}:user/alice",
    f"arn:aws:iam::{KEY}:role/App",
    f"arn:aws:sts::{KEY}:assumed-role/App/s1",
    f"arn:aws:iam::{OTHER}:role/Ext",
    f"arn:aws:sts::{KEY}:federated-user/fed",
    "*",
]
SERVICES = ["logs.us-east-1.amazonaws.com"]
ACTIONS = [
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:*",
    "kms:Describe*",
    "kms:GenerateDataKey*",
    "kms:?ecrypt",
    "*",
    "KMS:decrypt",
    "kms:PutKeyPolicy",
    "kms:CreateGrant",
    "s3:GetObject",
]
RESOURCES = [
    "*",
    f"arn:aws:kms:*:{KEY}:key/*",
    f"arn:aws:kms:us-east-1:{KEY}:key/k1",
    "arn:aws:kms:*:*:key/*",
    "arn:aws:kms:us-*",
    f"arn:aws:kms:eu-west-1:{OTHER}:key/?3",
]
TEXT = ["blue", "green", "Blue", "b*", "x"]
CONDITIONS: list[tuple[str, str, list[str]]] = [
    ("StringEquals", "aws:PrincipalTag/team", ["blue", "green"]),
    ("StringNotEquals", "aws:PrincipalTag/team", ["blue"]),
    ("StringLike", "aws:PrincipalTag/team", ["b*"]),
    ("StringNotLike", "aws:PrincipalTag/team", ["g?een"]),
    ("StringEqualsIgnoreCase", "kms:EncryptionContext:app", ["BLUE"]),
    ("StringEquals", "kms:EncryptionContext:app", ["blue"]),
    ("Bool", "aws:MultiFactorAuthPresent", ["true"]),
    ("BoolIfExists", "aws:MultiFactorAuthPresent", ["true"]),
    ("NumericLessThan", "custom:n", ["5"]),
    ("NumericGreaterThanEquals", "custom:n", ["2.5"]),
    ("DateLessThan", "aws:CurrentTime", ["2025-01-01T00:00:00Z"]),
    ("DateGreaterThan", "aws:CurrentTime", ["1700000000"]),
    ("IpAddress", "aws:SourceIp", ["10.0.0.0/8", "2001:db8::/32"]),
    ("NotIpAddress", "aws:SourceIp", ["10.1.0.0/16"]),
    ("ForAllValues:StringEquals", "kms:EncryptionContextKeys", ["app", "env"]),
    ("ForAnyValue:StringEquals", "kms:EncryptionContextKeys", ["app"]),
    ("ForAnyValue:StringNotLike", "kms:EncryptionContextKeys", ["a*"]),
    ("Null", "kms:EncryptionContextKeys", ["false"]),
    ("Null", "aws:PrincipalTag/team", ["true"]),
    ("ArnLike", "aws:PrincipalArn", [f"arn:aws:iam::{KEY}:role/*"]),
    ("ArnEquals", "aws:PrincipalArn", [f"arn:aws:iam::{KEY}:user/alice"]),
    ("StringNotEquals", "aws:PrincipalArn", [f"arn:aws:iam::{KEY}:role/App"]),
    ("StringEquals", "kms:CallerAccount", [KEY]),
    ("StringNotEquals", "aws:PrincipalAccount", [OTHER]),
    ("Bool", "aws:PrincipalIsAWSService", ["false"]),
    ("StringEquals", "aws:PrincipalType", ["User", "Account"]),
    ("StringLike", "kms:ViaService", ["s3.*.amazonaws.com"]),
    ("StringEquals", "aws:ResourceAccount", [KEY]),
    ("StringEquals", "aws:username", ["alice"]),
    ("StringEquals", "aws:PrincipalOrgID", ["o-abc"]),
]

CALLERS = [
    f"arn:aws:iam::{KEY}:root",
    f"arn:aws:iam::{OTHER}:root",
    f"arn:aws:iam::{THIRD}:root",
    f"arn:aws:iam::{KEY}:user/alice",
    f"arn:aws:iam::{KEY}:user/dev/alice",
    f"arn:aws:iam::{KEY}:user/bob",
    f"arn:aws:iam::{THIRD}:user/carol",
    f"arn:aws:iam::{KEY}:role/App",
    f"arn:aws:sts::{KEY}:assumed-role/App/s1",
    f"arn:aws:sts::{KEY}:assumed-role/App/s2",
    f"arn:aws:sts::{KEY}:assumed-role/Other/s1",
    f"arn:aws:sts::{OTHER}:assumed-role/Ext/s9",
    f"arn:aws:sts::{KEY}:federated-user/fed",
    "logs.us-east-1.amazonaws.com",
    "s3.amazonaws.com",
]
REQUEST_ACTIONS = [
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:DescribeKey",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair",
    "kms:CreateGrant",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "KMS:DECRYPT",
    "kms:DecryptX",
]
REQUEST_RESOURCES = [
    f"arn:aws:kms:us-east-1:{KEY}:key/k1",
    f"arn:aws:kms:eu-west-1:{KEY}:key/k2",
    f"arn:aws:kms:eu-west-1:{OTHER}:key/k3",
    f"arn:aws:kms:us-east-1:{THIRD}:key/k4",
]
CONTEXT_VALUES: dict[str, list[Any]] = {
    "aws:PrincipalTag/team": ["blue", "green", "Blue", "b*", "gxeen", "x"],
    "kms:EncryptionContext:app": ["blue", "BLUE", "Blue", "x"],
    "aws:MultiFactorAuthPresent": ["true", "false", "TRUE", "maybe"],
    "custom:n": ["0", "2.5", "2.4", "5", "7", "abc"],
    "aws:CurrentTime": ["2024-06-01T00:00:00Z", "2026-01-01T00:00:00Z", "1600000000", "1800000000", "soon"],
    "aws:SourceIp": ["10.1.2.3", "10.2.0.1", "192.168.0.1", "2001:db8::1", "::1", "nope"],
    "kms:EncryptionContextKeys": [[], ["app"], ["env"], ["app", "env"], ["app", "other"], ["other"]],
    "kms:ViaService": ["s3.us-east-1.amazonaws.com", "ec2.us-east-1.amazonaws.com"],
    "aws:PrincipalOrgID": ["o-abc", "o-xyz"],
}


def _values(draw: st.DrawFn, values: list[str]) -> str | list[str]:
    chosen = draw(st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True))
    return chosen[0] if len(chosen) == 1 else chosen


@st.composite
def statements(draw: st.DrawFn, *, key_policy: bool, sid: str) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"]))}
    if key_policy:
        if statement["Effect"] == "Deny" and draw(st.integers(0, 5)) == 0:
            statement["NotPrincipal"] = {"AWS": _values(draw, PRINCIPALS[:-1])}
        elif draw(st.integers(0, 8)) == 0:
            statement["Principal"] = {"Service": SERVICES[0]}
        else:
            principal = _values(draw, PRINCIPALS)
            statement["Principal"] = "*" if principal == "*" else {"AWS": principal}
    statement["NotAction" if draw(st.integers(0, 7)) == 0 else "Action"] = _values(draw, ACTIONS)
    statement["NotResource" if draw(st.integers(0, 9)) == 0 else "Resource"] = _values(draw, RESOURCES)
    block: dict[str, dict[str, Any]] = {}
    for index in draw(st.lists(st.integers(0, len(CONDITIONS) - 1), max_size=2, unique=True)):
        operator, key, values = CONDITIONS[index]
        block.setdefault(operator, {})[key] = list(values) if len(values) > 1 else values[0]
    if block:
        statement["Condition"] = block
    return statement


@st.composite
def policies(draw: st.DrawFn, *, key_policy: bool, prefix: str) -> dict[str, Any]:
    count = draw(st.integers(1 if key_policy else 0, 4))
    return {
        "Version": "2012-10-17",
        "Statement": [draw(statements(key_policy=key_policy, sid=f"{prefix}{i}")) for i in range(count)],
    }


@st.composite
def policy_pairs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """An old key policy and a new one: often a small edit of the old, sometimes unrelated."""
    old = draw(policies(key_policy=True, prefix="S"))
    if draw(st.integers(0, 3)) == 0:
        return old, draw(policies(key_policy=True, prefix="S"))
    new = {"Version": "2012-10-17", "Statement": [dict(s) for s in old["Statement"]]}
    edit = draw(st.sampled_from(["drop", "add", "replace", "same"]))
    if edit == "drop" and len(new["Statement"]) > 1:
        new["Statement"].pop(draw(st.integers(0, len(new["Statement"]) - 1)))
    elif edit == "add":
        new["Statement"].append(draw(statements(key_policy=True, sid="N")))
    elif edit == "replace":
        index = draw(st.integers(0, len(new["Statement"]) - 1))
        fresh = draw(statements(key_policy=True, sid="N"))
        field = draw(st.sampled_from(["Effect", "Action", "Resource", "Condition", "Principal"]))
        target = dict(new["Statement"][index])
        for name in (
            ("Action", "NotAction") if field == "Action" else ("Resource", "NotResource") if field == "Resource" else (field,)
        ):
            target.pop(name, None)
            if name in fresh:
                target[name] = fresh[name]
        if field == "Principal":
            target.pop("NotPrincipal", None)
            target["Principal"] = fresh.get("Principal", "*")
        if "Action" not in target and "NotAction" not in target:
            target["Action"] = "kms:*"
        if "Resource" not in target and "NotResource" not in target:
            target["Resource"] = "*"
        new["Statement"][index] = target
    return old, new


def random_request(rng: random.Random) -> dict[str, Any]:
    """A concrete request in the checks' scope: a KMS action on a key ARN, with a random context."""
    context: dict[str, Any] = {}
    for key, values in CONTEXT_VALUES.items():
        if rng.random() < 0.5:
            context[key] = rng.choice(values)
    return {
        "principal": rng.choice(CALLERS),
        "action": rng.choice(REQUEST_ACTIONS),
        "resource": rng.choice(REQUEST_RESOURCES),
        "context": context,
        "bypass": rng.random() < 0.2,
    }


def random_identity(rng: random.Random, action: str) -> dict[str, Any] | None:
    """Some identity policy for a caller whose IAM policies the check does not know."""
    choice = rng.randrange(4)
    if choice == 0:
        return None
    statements = [{"Effect": "Allow", "Action": "kms:*" if choice == 1 else action, "Resource": "*"}]
    if choice == 3:
        statements.append({"Effect": "Deny", "Action": "kms:PutKeyPolicy", "Resource": "*"})
    return {"Version": "2012-10-17", "Statement": statements}
