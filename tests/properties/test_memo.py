"""The memoizing ``Authorizer`` answers exactly as ``authorize`` does, however requests repeat."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import policyengine as pe
from tests.properties.strategies import policy_sets, requests


def _policy_set(policies: dict[str, Any]) -> pe.PolicySet:
    key = pe.compile_policy(pe.parse_policy_fast(json.dumps(policies["key_policy"])), "key_policy", "key")
    identity = tuple(
        pe.compile_policy(pe.parse_policy_fast(json.dumps(d)), "identity", f"id{i}") for i, d in enumerate(policies["identity"])
    )
    boundary = None
    if "boundary" in policies:
        boundary = pe.compile_policy(pe.parse_policy_fast(json.dumps(policies["boundary"])), "boundary", "b")
    return pe.PolicySet(key_policy=key, identity=identity, boundary=boundary)


@settings(max_examples=150, deadline=None)
@given(policy_sets(), st.lists(requests(), min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_memoized_decisions_equal_direct_ones(policies: dict[str, Any], batch: list[dict[str, Any]], rng: Any) -> None:
    """Across a stream of repeated and varied requests, decide() equals authorize() every time."""
    policy_set = _policy_set(policies)
    authorizer = pe.Authorizer(policy_set, memo_size=8)
    stream = batch + [rng.choice(batch) for _ in range(len(batch))]
    for request in stream:
        context = dict(request["context"])
        if rng.random() < 0.5:
            context["unrelated:Key"] = str(rng.random())  # a key no policy names must not change anything
        if rng.random() < 0.3 and context:
            key = rng.choice(sorted(context))
            context[key.upper()] = context.pop(key)  # condition keys are case-insensitive
        direct = pe.authorize(pe.make_request(request["principal"], request["action"], request["resource"], context), policy_set)
        memo = authorizer.decide(request["principal"], request["action"], request["resource"], context)
        assert (memo.decision, memo.reason, memo.deciding_labels) == (direct.decision, direct.reason, direct.deciding_labels)


_VARIANTS = st.sampled_from([True, False, 1, 0, 1.0, "true", "false", "1", "True", ["true", "1"], [True, 1], ("1",), 10, "10"])


@settings(max_examples=150, deadline=None)
@given(
    policy_sets(),
    st.lists(requests(), min_size=1, max_size=8),
    st.lists(_VARIANTS, min_size=1, max_size=8),
    st.randoms(use_true_random=False),
)
def test_memo_keys_on_canonical_facts(policies: dict[str, Any], batch: list[dict[str, Any]], values: list[Any], rng: Any) -> None:
    """Context values of other types (True vs 1 vs "true", lists, numbers) and action-name case never
    make the memo answer for a different canonical request: decide() equals authorize() each time."""
    policy_set = _policy_set(policies)
    authorizer = pe.Authorizer(policy_set)
    for request in batch + batch:
        context: dict[str, Any] = dict(request["context"])
        for key in sorted(context):
            if rng.random() < 0.5:
                context[key] = rng.choice(values)
        context["aws:SecureTransport"] = rng.choice(values)
        context["aws:MultiFactorAuthPresent"] = rng.choice(values)
        action = request["action"]
        action = rng.choice([action, action.lower(), action.upper(), action.swapcase()])
        direct = pe.authorize(pe.make_request(request["principal"], action, request["resource"], context), policy_set)
        memo = authorizer.decide(request["principal"], action, request["resource"], context)
        assert (memo.decision, memo.reason, memo.deciding_labels) == (direct.decision, direct.reason, direct.deciding_labels)


def test_memo_tells_true_from_one() -> None:
    """The memo's first answer for {"aws:x": True} is not reused for {"aws:x": 1}: their canonical texts differ."""
    policy = pe.parse_policy_fast(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "T",
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"aws:x": "true"}},
                    }
                ],
            }
        )
    )
    policy_set = pe.PolicySet(identity=(pe.compile_policy(policy, "identity", "id"),))
    authorizer = pe.Authorizer(policy_set)
    user = "arn:aws:iam::111122223333:user/Alice"
    assert authorizer.decide(user, "s3:GetObject", "arn:aws:s3:::b/k", {"aws:x": True}).allowed
    assert not authorizer.decide(user, "s3:GetObject", "arn:aws:s3:::b/k", {"aws:x": 1}).allowed
    assert authorizer.decide(user, "S3:getobject", "arn:aws:s3:::b/k", {"aws:x": "true"}).allowed


def test_memo_keys_on_what_the_endpoint_policy_reads() -> None:
    """A VPC endpoint policy's condition keys are part of the memo's facts, like every other policy's.

    The memo used to gather keys from the key policy, identity policies, boundary, session policy and
    organization levels only: an endpoint policy that allows one source network and not another got
    the first answer twice.
    """
    user = "arn:aws:iam::111122223333:user/Alice"
    key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

    def compiled(statement: dict[str, Any], kind: str, name: str) -> pe.CompiledPolicy:
        document = pe.parse_policy_fast(json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
        return pe.compile_policy(document, kind, name)  # type: ignore[arg-type]

    allow_all = {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}
    endpoint = compiled(
        {**allow_all, "Principal": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
        "endpoint_policy",
        "vpce",
    )
    policy_set = pe.PolicySet(
        key_policy=compiled({**allow_all, "Principal": {"AWS": "arn:aws:iam::111122223333:root"}}, "key_policy", "key"),
        identity=(compiled(allow_all, "identity", "id"),),
        endpoint_policy=endpoint,
    )
    authorizer = pe.Authorizer(policy_set)
    through = {"aws:SourceVpce": "vpce-1a2b3c4d", "aws:SourceIp": "10.1.2.3"}
    other = {"aws:SourceVpce": "vpce-1a2b3c4d", "aws:SourceIp": "192.0.2.7"}
    for context in (through, other, through):
        direct = pe.authorize(pe.make_request(user, "kms:Decrypt", key, context), policy_set)
        memo = authorizer.decide(user, "kms:Decrypt", key, context)
        assert (memo.decision, memo.reason) == (direct.decision, direct.reason)
    assert not authorizer.decide(user, "kms:Decrypt", key, other).allowed
