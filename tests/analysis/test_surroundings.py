"""The offline checks inside surrounding policies, on what the complete-scenario harness does not generate:
retiring a grant by its id (KMS API reference, RetireGrant: "the retiring principal, if specified in the
grant" and "the grantee principal, if the grant lets it retire" may retire it; KMS DG, "Retiring and
revoking grants"), through the API and with the request pinned (``analysis.pinned``); and callers whose
permissions boundary or session policy the check does not know."""

from __future__ import annotations

import json

import pytest

import policyengine as pe
from policyengine.analysis import Surroundings, access_not_granted, no_new_access
from policyengine.analysis.pinned import solver_decision
from tests.analysis.conftest import doc, requires_cvc5

A = "111122223333"
KEY = f"arn:aws:kms:us-east-1:{A}:key/0c0c0c0c-1111-2222-3333-444444444444"
CLEANER = f"arn:aws:iam::{A}:role/cleaner"
WORKER = f"arn:aws:iam::{A}:role/worker"
ONLY_ROOT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Root",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
            "Action": "kms:DescribeKey",
            "Resource": "*",
        }
    ],
}


def _grants() -> tuple[pe.Grant, ...]:
    return (
        pe.make_grant("g-retired-by-cleaner", KEY, WORKER, ["Decrypt"], retiring_principal=CLEANER),
        pe.make_grant("g-worker-retires", KEY, WORKER, ["Decrypt", "RetireGrant"]),
    )


@requires_cvc5
@pytest.mark.parametrize(
    ("caller", "grant_id"),
    [
        (f"arn:aws:sts::{A}:assumed-role/cleaner/s", "g-retired-by-cleaner"),
        (f"arn:aws:sts::{A}:assumed-role/cleaner/s", "g-worker-retires"),
        (f"arn:aws:sts::{A}:assumed-role/worker/s", "g-worker-retires"),
        (f"arn:aws:sts::{A}:assumed-role/worker/s", "g-retired-by-cleaner"),
        (f"arn:aws:sts::{A}:assumed-role/worker/s", None),
        (f"arn:aws:sts::{A}:assumed-role/worker/s", "g-nonexistent"),
        (CLEANER, "g-retired-by-cleaner"),
    ],
)
def test_retiring_by_grant_id_pinned(caller: str, grant_id: str | None) -> None:
    """The solver's model gives authorize's answer for RetireGrant requests naming a grant (or none)."""
    request = pe.make_request(caller, "kms:RetireGrant", KEY, grant_id=grant_id)
    policies = pe.PolicySet(key_policy=pe.compile_policy(doc(ONLY_ROOT), "key_policy"), grants=_grants())
    assert solver_decision(request, policies) is pe.authorize(request, policies).allowed


@requires_cvc5
def test_access_not_granted_finds_the_retiring_principal() -> None:
    """Only the grants let anyone retire: the check finds the cleaner's session retiring its grant by id, and the
    counterexample (with its grant id) replays through authorize; without the grants it is proved never."""
    policy = doc(ONLY_ROOT)
    around = Surroundings(grants=_grants())
    result = access_not_granted(policy, ["kms:RetireGrant"], [KEY], principal=CLEANER, around=around)
    assert result.verdict == "fail", result.message
    cex = result.counterexample
    assert cex is not None and cex.grant_id == "g-retired-by-cleaner", cex
    replay = pe.authorize(
        pe.make_request(cex.principal, cex.action, cex.resource, cex.context, grant_id=cex.grant_id),
        pe.PolicySet(key_policy=pe.compile_policy(policy, "key_policy"), grants=_grants()),
    )
    assert replay.allowed
    assert json.loads(json.dumps(cex.to_json()))["grant_id"] == "g-retired-by-cleaner"
    alone = access_not_granted(policy, ["kms:RetireGrant"], [KEY], principal=CLEANER, around=Surroundings())
    assert alone.verdict == "pass", alone.message


@requires_cvc5
def test_unknown_session_policies_are_not_assumed_to_allow() -> None:
    """Naming a session ARN where the role ARN was named is new access: the role ARN leaves a session capped by its
    session policy, the session ARN does not (IAM UG, "Policy evaluation logic", resource-based policies; SEMANTICS.md
    section 2). The check cannot know a session's session policy, so it finds the session whose session policy
    refuses the request, and says so; the replay gives it a session policy that allows nothing."""
    role = {"Sid": "Role", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:role/worker"}, "Action": "kms:Decrypt"}
    session = {**role, "Sid": "Session", "Principal": {"AWS": f"arn:aws:sts::{A}:assumed-role/worker/batch"}}
    old = doc({"Version": "2012-10-17", "Statement": [{**role, "Resource": "*"}]})
    new = doc({"Version": "2012-10-17", "Statement": [{**session, "Resource": "*"}]})
    result = no_new_access(old, new)
    assert result.verdict == "fail", result.message
    assert [c["description"].endswith("session policy refuses it)") for c in result.details["classes"]] == [True]
    cex = result.counterexample
    assert cex is not None and cex.restricted and cex.principal.endswith(":assumed-role/worker/batch"), cex
    assert cex.to_json()["caller_caps"].startswith("a permissions boundary or session policy")
    # the other way round, other sessions of the role gain access (the role ARN covers them all)
    back = no_new_access(new, old, list_all=False)
    assert back.verdict == "fail" and back.counterexample is not None and not back.counterexample.restricted
