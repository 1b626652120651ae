"""Differential tests: the checks against the real evaluator on random policies and requests.

A ``pass`` is a claim about every request; random concrete requests (with random identity
policies for callers whose IAM policies the check does not know) must never contradict it. A
``fail`` must come with a counterexample that the evaluator confirms; ``bug`` must never occur.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import policyengine as pe
from policyengine.analysis import access_not_granted, no_new_access, no_public_access
from policyengine.lint.rules.security import RESTRICTING_KEYS
from tests.analysis.conftest import decide, doc, requires_cvc5, same_iam_policies
from tests.analysis.strategies import KEY, policies, policy_pairs, random_identity, random_request

pytestmark = requires_cvc5
SAMPLES = 150
SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _replays_as_new_access(old: pe.PolicyDocument, new: pe.PolicyDocument, cex: Any, ids: tuple[Any, Any] = (None, None)) -> bool:
    request = {
        "principal": cex.principal,
        "action": cex.action,
        "resource": cex.resource,
        "context": cex.context,
        "bypass": cex.bypass_lockout_check,
    }
    old_ids = ids[0] if ids[0] is not None else ([cex.iam_policy] if cex.iam_policy else [])
    new_ids = ids[1] if ids[1] is not None else ([cex.iam_policy] if cex.iam_policy else [])
    restricted = cex.restricted
    return decide(new, request, new_ids, restricted).allowed and not decide(old, request, old_ids, restricted).allowed


def _check_outcome(result: Any) -> None:
    assert result.verdict != "bug", result.to_json()
    if result.verdict == "unconfirmed":
        assert result.approximations or "no answer" in result.message, result.to_json()


@requires_cvc5
@SETTINGS
@given(pair=policy_pairs(), seed=st.integers(0, 2**32 - 1))
def test_no_new_access_pass_is_never_contradicted_and_fail_replays(
    pair: tuple[dict[str, Any], dict[str, Any]], seed: int
) -> None:
    """Random key-policy pairs: a pass survives random requests, a fail's counterexample replays."""
    old, new = doc(pair[0], "old.json"), doc(pair[1], "new.json")
    # The first counterexample is what this test replays; listing every class is tests/analysis/test_classes.py's.
    result = no_new_access(old, new, list_all=False)
    _check_outcome(result)
    if result.verdict == "fail":
        assert _replays_as_new_access(old, new, result.counterexample)
    if result.verdict != "pass":
        return
    rng = random.Random(seed)
    for _ in range(SAMPLES):
        request = random_request(rng)
        iam = random_identity(rng, request["action"])
        ids = [iam] if iam else []
        after, before = decide(new, request, ids), decide(old, request, ids)
        assert not (after.allowed and not before.allowed), (request, iam, after.deciding_labels)


@requires_cvc5
@SETTINGS
@given(
    pair=policy_pairs(),
    identities=st.tuples(policies(key_policy=False, prefix="I"), policies(key_policy=False, prefix="J")),
    seed=st.integers(0, 2**32 - 1),
)
def test_no_new_access_with_identity_policies_agrees_with_the_evaluator(
    pair: tuple[dict[str, Any], dict[str, Any]], identities: tuple[dict[str, Any], dict[str, Any]], seed: int
) -> None:
    """With the App role's identity policies given, a pass survives random requests and a fail replays."""
    old, new = doc(pair[0], "old.json"), doc(pair[1], "new.json")
    principal = f"arn:aws:sts::{KEY}:assumed-role/App/s1"
    result = no_new_access(
        old, new, identity_old=[doc(identities[0])], identity_new=[doc(identities[1])], principal=principal, list_all=False
    )
    _check_outcome(result)
    if result.verdict == "fail":
        cex = result.counterexample
        in_group = same_iam_policies(principal, cex.principal)  # the App role, whatever its path
        given_ids = ([identities[0]], [identities[1]]) if in_group else (None, None)
        assert _replays_as_new_access(old, new, cex, given_ids)
    if result.verdict != "pass":
        return
    rng = random.Random(seed)
    for _ in range(SAMPLES):
        request = random_request(rng)
        if same_iam_policies(principal, request["principal"]):
            old_ids, new_ids = [identities[0]], [identities[1]]
        else:
            iam = random_identity(rng, request["action"])
            old_ids = new_ids = [iam] if iam else []
        after, before = decide(new, request, new_ids), decide(old, request, old_ids)
        assert not (after.allowed and not before.allowed), (request, after.deciding_labels)


@requires_cvc5
@SETTINGS
@given(policy=policies(key_policy=True, prefix="S"), seed=st.integers(0, 2**32 - 1))
def test_access_not_granted_pass_is_never_contradicted(policy: dict[str, Any], seed: int) -> None:
    """access-not-granted for Decrypt/PutKeyPolicy: a pass survives random requests, a fail replays."""
    document = doc(policy)
    actions = ["kms:Decrypt", "kms:PutKeyPolicy"]
    result = access_not_granted(document, actions)
    _check_outcome(result)
    if result.verdict == "fail":
        cex = result.counterexample
        request = {"principal": cex.principal, "action": cex.action, "resource": cex.resource, "context": cex.context}
        assert cex.action.lower() in ("kms:decrypt", "kms:putkeypolicy")
        assert decide(document, request, [cex.iam_policy] if cex.iam_policy else []).allowed
    if result.verdict != "pass":
        return
    rng = random.Random(seed)
    for _ in range(SAMPLES):
        request = random_request(rng)
        if request["action"].lower() not in ("kms:decrypt", "kms:putkeypolicy"):
            continue
        iam = random_identity(rng, request["action"])
        assert not decide(document, request, [iam] if iam else []).allowed, request


@requires_cvc5
@SETTINGS
@given(policy=policies(key_policy=True, prefix="S"), seed=st.integers(0, 2**32 - 1))
def test_no_public_access_fail_replays_from_an_unnamed_account(policy: dict[str, Any], seed: int) -> None:
    """no-public-access: a fail's caller is from an unnamed account and is allowed; a pass holds for such callers."""
    document = doc(policy)
    result = no_public_access(document)
    _check_outcome(result)
    text = str(policy)
    if result.verdict == "fail":
        cex = result.counterexample
        account = cex.principal.split(":")[4]
        assert account not in text
        request = {"principal": cex.principal, "action": cex.action, "resource": cex.resource, "context": cex.context}
        assert decide(document, request, [cex.iam_policy] if cex.iam_policy else []).allowed
    if result.verdict != "pass":
        return
    rng = random.Random(seed)
    for _ in range(SAMPLES):
        request = random_request(rng)
        if "777788889999" not in request["principal"] or ":777788889999:" in request["resource"]:
            continue  # a stranger is a caller from another account than the key's; its own account's keys are not public
        # the stranger cannot present the organization, network or source a restricting key names
        request["context"] = {k: v for k, v in request["context"].items() if k.lower() not in RESTRICTING_KEYS}
        iam = random_identity(rng, request["action"])
        assert not decide(document, request, [iam] if iam else []).allowed, request


@requires_cvc5
@SETTINGS
@given(policy=policies(key_policy=True, prefix="S"))
def test_a_policy_never_grants_new_access_over_itself(policy: dict[str, Any]) -> None:
    """A policy compared with itself passes: shared unknowns (IAM, unmodelled tests) never leak a false fail."""
    document = doc(policy)
    assert no_new_access(document, document).verdict == "pass"
