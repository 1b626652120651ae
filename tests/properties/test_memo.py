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
