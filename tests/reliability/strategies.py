"""Hostile-but-plausible inputs for the fuzz targets: policy text, grammar strings, policies, requests, JSON.

Unlike ``tests/properties/strategies.py`` (small universes so that decisions can be compared
with a reference model), these reach for the corners: every condition operator with every
qualifier, values that are almost numbers, dates, addresses or variables, principals of every
kind, odd Unicode, deep nesting and byte-level damage to otherwise valid text.
"""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import strategies as st

from policyengine.evaluator.operators import OPERATORS

ACCOUNT = "111122223333"
OTHER = "444455556666"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"

# ---- small languages -------------------------------------------------------------------------

OPERATOR_FRAGMENTS = [
    "ForAllValues:",
    "ForAnyValue:",
    "IfExists",
    "String",
    "Equals",
    "NotEquals",
    "Like",
    "IgnoreCase",
    "Numeric",
    "Date",
    "LessThan",
    "GreaterThanEquals",
    "Bool",
    "Binary",
    "Null",
    "Arn",
    "IpAddress",
    "Not",
    ":",
    "x",
    "9",
    " ",
    "\t",
    "é",
    "_",
]
operator_names = st.lists(st.sampled_from(OPERATOR_FRAGMENTS), max_size=6).map("".join) | st.text(max_size=24)

VARIABLE_FRAGMENTS = [
    "${",
    "}",
    "aws:username",
    "aws:PrincipalTag/team",
    "kms:EncryptionContext:app",
    "aws:userid",
    ", '",
    ",'",
    "'",
    "default",
    ",",
    " ",
    "*",
    "?",
    "$",
    "${*}",
    "${?}",
    "${$}",
    "arn:aws:kms:",
    "/",
    ":",
    "\n",
    "€",
    "\x00",
]
variable_strings = st.lists(st.sampled_from(VARIABLE_FRAGMENTS), max_size=10).map("".join) | st.text(max_size=30)

ARN_FRAGMENTS = [
    "arn",
    ":",
    "aws",
    "aws-cn",
    "kms",
    "iam",
    "sts",
    "us-east-1",
    ACCOUNT,
    "key/",
    "role/",
    "*",
    "?",
    "/",
    " ",
    "\n",
    "ü",
    "",
]
arn_strings = st.lists(st.sampled_from(ARN_FRAGMENTS), max_size=12).map("".join) | st.text(max_size=30)

# ---- values that are almost something ---------------------------------------------------------

CONDITION_VALUES = [
    "blue",
    "Blue",
    "b*",
    "pay?ents",
    "",
    "*",
    "0",
    "-1",
    "1e3",
    "12345678901234567890123",
    "0x1F",
    "NaN",
    "Infinity",
    "1.5",
    "true",
    "false",
    "TRUE",
    "2024-01-01T00:00:00Z",
    "2024-02-30",
    "1700000000",
    "2024-01-01T00:00:00.123+05:30",
    "10.0.0.0/8",
    "10.0.0.1",
    "::1/128",
    "2001:db8::/129",
    "300.1.1.1",
    "dGVzdA==",
    "not base64!",
    "${aws:username}",
    "${aws:PrincipalTag/team}",
    "${aws:PrincipalTag/team, 'none'}",
    "${",
    "${aws:username",
    "${*}${?}${$}",
    "arn:aws:iam::111122223333:user/alice",
    "arn:aws:iam::*:role/*",
    "arn:aws:kms:*:111122223333:key/*",
    "arn:",
    "\u0000",
    "ß",
    "İ",
]
CONTEXT_KEYS = [
    "aws:PrincipalTag/team",
    "aws:ResourceTag/env",
    "aws:username",
    "aws:SourceIp",
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:MultiFactorAuthPresent",
    "aws:SecureTransport",
    "aws:PrincipalArn",
    "aws:CalledVia",
    "kms:EncryptionContext:app",
    "kms:EncryptionContextKeys",
    "kms:GrantOperations",
    "kms:ViaService",
    "kms:CallerAccount",
    "custom:n",
]
PRINCIPAL_VALUES = [
    "*",
    ACCOUNT,
    f"arn:aws:iam::{ACCOUNT}:root",
    f"arn:aws:iam::{ACCOUNT}:user/alice",
    f"arn:aws:iam::{ACCOUNT}:role/path/App",
    f"arn:aws:sts::{ACCOUNT}:assumed-role/App/s1",
    f"arn:aws:sts::{OTHER}:federated-user/fed",
    f"arn:aws:iam::{OTHER}:root",
    "AROAEXAMPLEEXAMPLE1234",
    "arn:aws:iam::*:root",
    "arn:aws:iam::12345:root",
    "not a principal",
]
SERVICE_VALUES = ["kms.amazonaws.com", "s3.amazonaws.com", "ec2.amazonaws.com.cn", "NOT_A_SERVICE", ""]
ACTION_VALUES = [
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:*",
    "kms:Describe*",
    "kms:GenerateDataKey*",
    "kms:?ecrypt",
    "KMS:decrypt",
    "*",
    "s3:GetObject",
    "kms:CreateGrant",
    "kms:PutKeyPolicy",
    "iam:PassRole",
]
RESOURCE_VALUES = [
    "*",
    KEY_ARN,
    f"arn:aws:kms:*:{ACCOUNT}:key/*",
    "arn:aws:kms:us-east-1:${aws:PrincipalAccount}:key/*",
    f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/*",
    "arn:aws:s3:::bucket/${aws:username}/*",
    "arn:*:*:*:*:*",
]


_CHAR_POOLS = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "*?$:/{}',.-_ \\\"",
    "\x00\t\n\u00e9\u00df\u0130\u2028\u20ac\U0001f600",
)
#: How often ``random_text`` ends with an unpaired UTF-16 surrogate (valid in a Python str and in a
#: JSON ``\\u`` escape, but not Unicode text).
SURROGATE_RATE = 0.02


def random_text(rng: random.Random, max_size: int = 12) -> str:
    """A short string mixing letters, policy punctuation and awkward code points."""
    text = "".join(rng.choice(rng.choice(_CHAR_POOLS)) for _ in range(rng.randint(0, max_size)))
    return text + "\ud800" if rng.random() < SURROGATE_RATE else text


def _one_or_list(rng: random.Random, make: Any) -> Any:
    return make() if rng.random() < 0.5 else [make() for _ in range(rng.randint(1, 3))]


def random_scalar(rng: random.Random) -> Any:
    """A condition value: usually a string that is almost something, sometimes a raw JSON scalar."""
    roll = rng.random()
    if roll < 0.55:
        return rng.choice(CONDITION_VALUES)
    if roll < 0.7:
        return random_text(rng)
    if roll < 0.8:
        return "".join(rng.choice(VARIABLE_FRAGMENTS) for _ in range(rng.randint(1, 5)))
    if roll < 0.88:
        return rng.randint(-(10**20), 10**20)
    if roll < 0.95:
        return rng.random() < 0.5
    return rng.uniform(-1e9, 1e9)


OPERATOR_NAMES = sorted(OPERATORS)

#: A ``Random`` seeded by Hypothesis: the builders below run at plain-Python speed, and a failing
#: example is replayed from its seed (shrinking is by seed only, which is enough to reproduce).
seeds = st.integers(0, 2**64 - 1).map(random.Random)


def random_operator(rng: random.Random) -> str:
    """A real operator with any qualifier and IfExists (``Null`` takes neither)."""
    base = rng.choice(OPERATOR_NAMES)
    if base == "Null":
        return base
    qualifier = rng.choice(["", "", "ForAllValues:", "ForAnyValue:"])
    return f"{qualifier}{base}{rng.choice(['', 'IfExists'])}"


def random_condition(rng: random.Random) -> dict[str, Any]:
    block: dict[str, dict[str, Any]] = {}
    for _ in range(rng.randint(1, 3)):
        key = rng.choice(CONTEXT_KEYS) if rng.random() < 0.85 else random_text(rng) or "k"
        block.setdefault(random_operator(rng), {})[key] = _one_or_list(rng, lambda: random_scalar(rng))
    return block


def random_principal(rng: random.Random) -> Any:
    kind = rng.choice(["star", "AWS", "AWS", "Service", "Federated", "CanonicalUser", "mixed"])
    aws = lambda: rng.choice(PRINCIPAL_VALUES)  # noqa: E731
    if kind == "star":
        return "*"
    if kind == "Service":
        return {"Service": _one_or_list(rng, lambda: rng.choice(SERVICE_VALUES))}
    if kind == "Federated":
        return {"Federated": rng.choice(["cognito-identity.amazonaws.com", f"arn:aws:iam::{ACCOUNT}:saml-provider/x"])}
    if kind == "CanonicalUser":
        return {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}
    if kind == "mixed":
        return {"AWS": _one_or_list(rng, aws), "Service": rng.choice(SERVICE_VALUES)}
    return {"AWS": _one_or_list(rng, aws)}


def random_statement(rng: random.Random, *, with_principal: bool, sid: str) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": rng.choice(["Allow", "Allow", "Deny"])}
    if rng.random() < 0.5:
        statement["Sid"] = sid
    if with_principal:
        statement["NotPrincipal" if rng.random() < 0.1 else "Principal"] = random_principal(rng)

    def action() -> str:
        return rng.choice(ACTION_VALUES) if rng.random() < 0.85 else f"kms:{random_text(rng, 8) or 'x'}"

    def resource() -> str:
        if rng.random() < 0.8:
            return rng.choice(RESOURCE_VALUES)
        return f"arn:aws:kms:us-east-1:{ACCOUNT}:key/" + "".join(rng.choice(VARIABLE_FRAGMENTS) for _ in range(3))

    statement["NotAction" if rng.random() < 0.15 else "Action"] = _one_or_list(rng, action)
    statement["NotResource" if rng.random() < 0.15 else "Resource"] = _one_or_list(rng, resource)
    if rng.random() < 0.6:
        statement["Condition"] = random_condition(rng)
    return statement


def random_policy(rng: random.Random, *, with_principal: bool, prefix: str, max_statements: int = 4) -> dict[str, Any]:
    """A well-formed policy document (Statement a list, or a single object when there is one)."""
    body = [
        random_statement(rng, with_principal=with_principal, sid=f"{prefix}{i}") for i in range(rng.randint(1, max_statements))
    ]
    version = rng.choice(["2012-10-17", "2012-10-17", "2008-10-17"])
    return {"Version": version, "Statement": body[0] if len(body) == 1 and rng.random() < 0.5 else body}


def policies(*, with_principal: bool, prefix: str, max_statements: int = 4) -> st.SearchStrategy[dict[str, Any]]:
    """Random well-formed policies, built from a Hypothesis-seeded ``Random``."""
    return seeds.map(lambda rng: random_policy(rng, with_principal=with_principal, prefix=prefix, max_statements=max_statements))


CALLERS = [
    (f"arn:aws:iam::{ACCOUNT}:user/alice", ACCOUNT),
    (f"arn:aws:sts::{ACCOUNT}:assumed-role/App/s1", ACCOUNT),
    (f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT),
    (f"arn:aws:iam::{OTHER}:user/bob", OTHER),
    (f"arn:aws:sts::{OTHER}:federated-user/fed", OTHER),
    ("kms.amazonaws.com", None),
]
CONCRETE_ACTIONS = [a for a in ACTION_VALUES if "*" not in a and "?" not in a]


def random_context_value(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.6:
        return random_scalar(rng) if rng.random() < 0.7 else str(random_scalar(rng))
    if roll < 0.97:
        return [str(random_scalar(rng)) for _ in range(rng.randint(0, 4))]
    return rng.choice([None, {"nested": "object"}, b"bytes"])  # not context values: make_request says so


def random_request(rng: random.Random) -> dict[str, Any]:
    """A caller, action and resource with a context of any keys and any values."""
    principal, account = rng.choice(CALLERS)
    context = {}
    for _ in range(rng.randint(0, 5)):
        key = rng.choice(CONTEXT_KEYS) if rng.random() < 0.8 else random_text(rng) or "k"
        context[key] = random_context_value(rng)
    return {
        "principal": principal,
        "account": account,
        "action": rng.choice(CONCRETE_ACTIONS),
        "resource": rng.choice([KEY_ARN, f"arn:aws:kms:us-east-1:{OTHER}:key/abc", "*"]),
        "context": context,
        "encryption_context": {random_text(rng, 6) or "k": random_text(rng, 6) for _ in range(rng.randint(0, 3))},
        "grant_tokens": [random_text(rng, 8) for _ in range(rng.randint(0, 2))],
    }


requests = seeds.map(random_request)


# ---- JSON of any shape, and text damaged byte by byte -------------------------------------------

POLICY_WORDS = [
    "Version",
    "Statement",
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
    "AWS",
    "Service",
    "Policy",
    "PolicyName",
    "StringEquals",
    "ForAnyValue:StringLike",
    "Null",
    "Allow",
    "Deny",
    "2012-10-17",
]
json_keys = st.sampled_from(POLICY_WORDS) | st.text(max_size=8)
json_scalars: st.SearchStrategy[Any] = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(POLICY_WORDS + CONDITION_VALUES + ACTION_VALUES + PRINCIPAL_VALUES)
    | st.text(max_size=16)
)
any_json: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(json_keys, children, max_size=5),
    max_leaves=30,
)


@st.composite
def policy_like_json(draw: st.DrawFn) -> Any:
    """A policy whose parts are replaced, at random depths, by JSON of any shape."""
    document: Any = draw(policies(with_principal=draw(st.booleans()), prefix="S"))
    for _ in range(draw(st.integers(0, 3))):
        path = [document]
        node = document
        while isinstance(node, dict | list) and node and draw(st.booleans()):
            node = (
                node[draw(st.sampled_from(sorted(node)))] if isinstance(node, dict) else node[draw(st.integers(0, len(node) - 1))]
            )
            path.append(node)
        if isinstance(node, dict):
            node[draw(json_keys)] = draw(any_json)
        elif isinstance(node, list):
            node.append(draw(any_json))
    if draw(st.integers(0, 5)) == 0:
        document = {"Policy": json.dumps(document), "PolicyName": "default"}
    return document


@st.composite
def damaged_text(draw: st.DrawFn, source: st.SearchStrategy[str]) -> str:
    """Text from ``source`` with a few characters deleted, inserted, replaced or a slice duplicated."""
    text = draw(source)
    for _ in range(draw(st.integers(0, 4))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "truncate"]))
        noise = draw(st.sampled_from([*'{}[]":,\\ \n0-.eEtfn*$?', "\\u", "\\ud800", "\u2028", "\x00", "😀", "${"]))
        if action == "delete":
            text = text[:position] + text[position + 1 :]
        elif action == "insert":
            text = text[:position] + noise + text[position:]
        elif action == "replace":
            text = text[:position] + noise + text[position + 1 :]
        elif action == "duplicate":
            end = draw(st.integers(position, min(len(text), position + 40)))
            text = text[:end] + text[position:end] + text[end:]
        else:
            text = text[:position]
    return text


policy_texts = (
    damaged_text(policy_like_json().map(json.dumps))
    | damaged_text(policies(with_principal=True, prefix="K").map(lambda d: json.dumps(d, indent=2)))
    | st.text(max_size=120)
    | st.builds(lambda depth, opener: opener * depth, st.integers(1, 3000), st.sampled_from(["[", '{"a":', '{"Statement":[']))
)
