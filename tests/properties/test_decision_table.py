"""The decision plan's outcome table gives the answer of the full combination on every request.

``authorize`` tables each plan's decisions by outcome (which statements hold, and the request
facts the rule reads besides); the first request with an outcome is combined in full and later
ones reuse that decision. Over complete scenarios (every policy kind), many requests of one
caller are decided on one policy set, in an order that fills the table first, and each answer
must equal the full combination of that request and the answer of a fresh policy set.
"""

from __future__ import annotations

import copy
import random
from typing import Any

import policyengine as pe
from policyengine.evaluator.authorizer import _combine, _plan
from tests.properties.test_complete_differential import ACTIONS, KEY, OTHER_KEY, scenario

VARIANTS: list[dict[str, Any]] = [
    {},
    {"aws:SecureTransport": "true"},
    {"aws:SecureTransport": "false"},
    {"aws:SecureTransport": True},
    {"aws:SecureTransport": "false", "aws:SourceVpce": "vpce-0123456789abcdef0"},
    {"aws:SourceVpce": "vpce-0123456789abcdef0"},
]
RESOURCES = [KEY, OTHER_KEY, "arn:aws:kms:us-east-1:444455556666:key/theirs", "arn:aws:s3:::bucket/object"]


def _variants(rng: random.Random, data: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for _ in range(12):
        variant = copy.deepcopy(data)
        request = variant["request"]
        request["action"] = rng.choice(ACTIONS)
        request["resource"] = rng.choice(RESOURCES)
        request["context"] = dict(rng.choice(VARIANTS))
        if not request["context"]:
            del request["context"]
        out.append(variant)
    return out


def test_tabled_decisions_equal_the_full_combination() -> None:
    rng = random.Random("decision-table")
    grew = total = 0
    for _ in range(400):
        data = scenario(rng)
        policies = pe.scenario_from_dict(data).policies
        requests = [pe.scenario_from_dict(v).request for v in _variants(rng, data)]
        for request in requests * 2:
            before = len(_plan(policies, request).table)
            tabled = pe.authorize(request, policies)
            grew += len(_plan(policies, request).table) > before
            total += 1
            fresh = pe.authorize(request, pe.scenario_from_dict(data).policies)
            assert tabled == _combine(request, policies, _plan(policies, request)) == fresh, (data, request)
    # the table is in use (it grew), and most answers came from it (it grew on few requests)
    assert 0 < grew < total // 3, (grew, total)
