"""The real evaluator agrees with the reference model on random policies and requests (cedar DRT)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings

import policyengine as pe
from tests.properties.strategies import policy_sets, requests
from tests.reference import spec_model


def real_decide(policies: dict[str, Any], request: dict[str, Any]) -> pe.Decision:
    key = pe.compile_policy(pe.parse_policy_fast(json.dumps(policies["key_policy"])), "key_policy", "key")
    identity = tuple(
        pe.compile_policy(pe.parse_policy_fast(json.dumps(d)), "identity", f"id{i}") for i, d in enumerate(policies["identity"])
    )
    boundary = None
    if "boundary" in policies:
        boundary = pe.compile_policy(pe.parse_policy_fast(json.dumps(policies["boundary"])), "boundary", "b")
    policy_set = pe.PolicySet(key_policy=key, identity=identity, boundary=boundary)
    req = pe.make_request(request["principal"], request["action"], request["resource"], request["context"])
    return pe.authorize(req, policy_set)


@settings(max_examples=600, deadline=None)
@given(policy_sets(), requests())
def test_evaluator_agrees_with_reference_model(policies: dict[str, Any], request: dict[str, Any]) -> None:
    """For any generated policy set and request, decision and reason equal the reference model's."""
    decision = real_decide(policies, request)
    assert (decision.decision, decision.reason) == spec_model.decide(policies, request)
