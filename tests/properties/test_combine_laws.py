"""Laws of combining statements (after cedar-spec's theorems), checked on random policies.

deny_wins: a matching Deny anywhere gives explicit_deny. default_deny: with nothing allowing,
the answer is a deny. order_irrelevant: shuffling and duplicating statements changes nothing.
adding_deny_never_grants and adding_matching_allow_never_denies: monotonicity in each direction.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import policyengine as pe
from policyengine.evaluator.kms_rules import is_key_request
from tests.properties.strategies import KEY_ARN, policy_sets, requests
from tests.properties.test_differential import real_decide

ALLOW_EVERYTHING = {"Sid": "AllowAll", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*", "Resource": "*"}
DENY_EVERYTHING = {"Sid": "DenyAll", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*", "Resource": "*"}


def _with_key_statement(policies: dict[str, Any], statement: dict[str, Any], position: int) -> dict[str, Any]:
    copy = json.loads(json.dumps(policies))
    statements = copy["key_policy"]["Statement"]
    statements.insert(min(position, len(statements)), statement)
    return copy


@settings(max_examples=200, deadline=None)
@given(policy_sets(), requests(), st.integers(0, 5))
def test_deny_wins(policies: dict[str, Any], request: dict[str, Any], position: int) -> None:
    """Adding a Deny that matches everything makes every request an explicit deny naming it."""
    decision = real_decide(_with_key_statement(policies, DENY_EVERYTHING, position), request)
    assert decision.decision == "explicit_deny"
    assert "DenyAll" in decision.deciding_labels


@settings(max_examples=200, deadline=None)
@given(requests())
def test_default_deny(request: dict[str, Any]) -> None:
    """With no statements at all, every request is an implicit deny."""
    empty = {"key_policy": {"Statement": []}, "identity": [{"Statement": []}]}
    assert real_decide(empty, request).decision == "implicit_deny"


@settings(max_examples=200, deadline=None)
@given(policy_sets(), requests(), st.randoms(use_true_random=False))
def test_order_and_duplicates_are_irrelevant(policies: dict[str, Any], request: dict[str, Any], rng: Any) -> None:
    """Shuffling every policy's statements and duplicating some does not change the decision or its reason."""
    before = real_decide(policies, request)
    shuffled = json.loads(json.dumps(policies))
    for doc in [shuffled["key_policy"], *shuffled["identity"], *([shuffled["boundary"]] if "boundary" in shuffled else [])]:
        statements = doc["Statement"]
        statements.extend(rng.sample(statements, k=min(2, len(statements))))
        rng.shuffle(statements)
    after = real_decide(shuffled, request)
    assert (after.decision, after.reason, sorted(set(after.deciding_labels))) == (
        before.decision,
        before.reason,
        sorted(set(before.deciding_labels)),
    )


@settings(max_examples=200, deadline=None)
@given(policy_sets(), requests(), st.sampled_from(["kms:*", "kms:Decrypt", "*"]))
def test_adding_a_deny_never_grants(policies: dict[str, Any], request: dict[str, Any], action: str) -> None:
    """If a request was denied, it stays denied after adding any Deny statement."""
    before = real_decide(policies, request)
    deny = {
        "Sid": "Extra",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": action,
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}},
    }
    after = real_decide(_with_key_statement(policies, deny, 0), request)
    if not before.allowed:
        assert not after.allowed


@settings(max_examples=200, deadline=None)
@given(policy_sets(), requests())
def test_adding_a_matching_allow_never_turns_an_allow_into_a_deny(policies: dict[str, Any], request: dict[str, Any]) -> None:
    """Allowed requests stay allowed when an Allow that matches everything is added."""
    before = real_decide(policies, request)
    after = real_decide(_with_key_statement(policies, ALLOW_EVERYTHING, 0), request)
    if before.allowed:
        assert after.allowed


def test_key_arn_fixture_is_a_key_request() -> None:
    """The strategies' key ARN is treated as a KMS key resource, so these laws exercise the KMS gate."""
    request = pe.make_request("arn:aws:iam::111122223333:user/alice", "kms:Decrypt", KEY_ARN)
    assert is_key_request(request)
    assert not is_key_request(pe.make_request("arn:aws:iam::111122223333:user/alice", "kms:CreateKey", "*"))
