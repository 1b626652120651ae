"""One differential harness over COMPLETE scenarios: every interpretation of the rule agrees.

A seeded generator builds scenarios with a key policy, identity policies, a permissions
boundary, a session policy, SCP and RCP levels, a VPC endpoint policy and grants (constraints,
tokens, pending), for same- and cross-account callers of every kind. On each case these must
agree:

* the reference model (``tests/reference/complete_model.py``, written from SEMANTICS.md);
* ``simulate`` (scenario loading + ``authorize``);
* partial evaluation with every key known (``allow_only_if`` with no open key);
* the solver's model (``analysis``: the same rule over solver terms, covering every policy kind),
  with the symbolic request pinned to the case's request (``analysis.pinned``), with cvc5 on
  every case and with z3 on every ``Z3_EVERY``-th.

On a sample of the cases (every ``OPEN_EVERY``-th; each open question costs a solver search)
the offline check is asked the open question too: "can this caller ever be allowed this action
on this key?", inside the case's whole policy set, must be answered "yes" with a counterexample
that ``authorize`` allows whenever the concrete request is allowed.

CI runs 2,000 cases, derandomized (a fixed seed); ``PE_DIFF_CASES=N`` runs more, and
``PE_DIFF_SEED`` picks another seed.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

import pytest

import policyengine as pe
from policyengine.access import allow_only_if
from tests.reference import complete_model

A, B = "111122223333", "444455556666"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = f"arn:aws:kms:us-east-1:{A}:key/other"
ALICE = f"arn:aws:iam::{A}:user/Alice"
APP_ROLE = f"arn:aws:iam::{A}:role/App"
APP_SESSION = f"arn:aws:sts::{A}:assumed-role/App/s1"
BOB = f"arn:aws:iam::{B}:user/Bob"
EXT_SESSION = f"arn:aws:sts::{B}:assumed-role/Ext/s2"
SERVICE = "rds.us-east-1.amazonaws.com"
CALLERS = [ALICE, APP_SESSION, APP_ROLE, BOB, EXT_SESSION, f"arn:aws:iam::{A}:root", SERVICE]
NAMES = [
    "*",
    {"AWS": "*"},
    {"AWS": f"arn:aws:iam::{A}:root"},
    {"AWS": A},
    {"AWS": ALICE},
    {"AWS": APP_ROLE},
    {"AWS": APP_SESSION},
    {"AWS": BOB},
    {"AWS": f"arn:aws:iam::{B}:root"},
    {"AWS": f"arn:aws:iam::{B}:role/Ext"},
    {"Service": SERVICE},
    {"AWS": [ALICE, f"arn:aws:iam::{B}:root"]},
]
ACTION_PATTERNS = ["kms:*", "kms:Decrypt", "kms:Encrypt", "kms:Describe*", "kms:GenerateDataKey*", "*", "kms:PutKeyPolicy"]
ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:DescribeKey", "kms:GenerateDataKey", "kms:PutKeyPolicy", "kms:decrypt"]
RESOURCES = ["*", KEY, f"arn:aws:kms:*:{A}:key/*", OTHER_KEY]
CONDITIONS = [
    {"Bool": {"aws:SecureTransport": "true"}},
    {"Bool": {"aws:SecureTransport": "false"}},
    {"StringEquals": {"kms:EncryptionContext:app": "payments"}},
    {"StringEquals": {"aws:PrincipalAccount": A}},
    {"StringNotEquals": {"aws:PrincipalAccount": A}},
    {"Null": {"aws:SourceVpce": "true"}},
]
GRANT_OPS = ["Decrypt", "Encrypt", "GenerateDataKey", "DescribeKey"]


def _statement(rng: random.Random, sid: str, *, principal: bool, deny_rate: float) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Deny" if rng.random() < deny_rate else "Allow"}
    if principal:
        statement["Principal"] = rng.choice(NAMES)
    statement["Action"] = rng.choice(ACTION_PATTERNS)
    statement["Resource"] = rng.choice(RESOURCES) if not principal else "*"
    if rng.random() < 0.4:
        statement["Condition"] = rng.choice(CONDITIONS)
    return statement


def _policy(rng: random.Random, prefix: str, n: int, *, principal: bool = False, deny_rate: float = 0.15) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [_statement(rng, f"{prefix}{i}", principal=principal, deny_rate=deny_rate) for i in range(n)],
    }


def _grant(rng: random.Random, i: int) -> dict[str, Any]:
    grant: dict[str, Any] = {
        "grant_id": f"g{i}",
        "key_arn": KEY,
        "grantee_principal": rng.choice([ALICE, APP_ROLE, APP_SESSION, BOB, EXT_SESSION, SERVICE]),
        "operations": rng.sample(GRANT_OPS, rng.randint(1, 3)),
    }
    if rng.random() < 0.4:
        kind = rng.choice(["encryption_context_equals", "encryption_context_subset"])
        grant["constraints"] = {kind: {rng.choice(["app", "App"]): "payments"}}
    if rng.random() < 0.3:
        grant["pending"] = True
        grant["grant_token"] = f"token-{i}"
    return grant


def scenario(rng: random.Random) -> dict[str, Any]:
    """One complete scenario: every policy kind, each present at random."""
    caller = rng.choice(CALLERS)
    policies: dict[str, Any] = {"key_policy": _policy(rng, "K", rng.randint(1, 4), principal=True)}
    identity_owner = APP_ROLE if caller == APP_SESSION else f"arn:aws:iam::{B}:role/Ext" if caller == EXT_SESSION else caller
    if caller != SERVICE and rng.random() < 0.8:
        policies["identity_policies"] = {identity_owner: [_policy(rng, "I", rng.randint(1, 3))]}
    if caller != SERVICE and rng.random() < 0.3:
        policies["permissions_boundary"] = _policy(rng, "PB", 1, deny_rate=0.1)
    if caller in (APP_SESSION, EXT_SESSION, APP_ROLE) and rng.random() < 0.3:
        policies["session_policy"] = _policy(rng, "SP", 1, deny_rate=0.1)
    if rng.random() < 0.3:
        account = A if caller in (ALICE, APP_SESSION, APP_ROLE) or rng.random() < 0.5 else B
        policies["scps"] = {account: [[_policy(rng, f"SCP{level}", 1, deny_rate=0.2)] for level in range(rng.randint(1, 2))]}
    if rng.random() < 0.3:
        policies["rcps"] = {
            A: [[_policy(rng, f"RCP{level}", 1, principal=True, deny_rate=0.7)] for level in range(rng.randint(1, 2))]
        }
    if rng.random() < 0.2:
        policies["endpoint_policy"] = _policy(rng, "E", rng.randint(1, 2), principal=True, deny_rate=0.2)
    if rng.random() < 0.5:
        policies["grants"] = [_grant(rng, i) for i in range(rng.randint(1, 2))]
    request: dict[str, Any] = {"principal": caller, "action": rng.choice(ACTIONS), "resource": KEY}
    context: dict[str, Any] = {}
    if rng.random() < 0.7:
        context["aws:SecureTransport"] = rng.choice(["true", "false", True, False])
    if rng.random() < 0.25:
        context["aws:SourceVpce"] = "vpce-0123456789abcdef0"
    if context:
        request["context"] = context
    if rng.random() < 0.6:
        request["encryption_context"] = rng.choice(
            [{"app": "payments"}, {"App": "payments"}, {"app": "other"}, {"app": "payments", "x": "1"}]
        )
    if rng.random() < 0.3:
        request["grant_tokens"] = [f"token-{rng.randint(0, 1)}"]
    return {"policies": policies, "request": request}


def _canonical(scenario_data: dict[str, Any]) -> dict[str, Any]:
    """The scenario as the reference model reads it: context values as the texts AWS compares."""
    data = json.loads(json.dumps(scenario_data))
    context = data["request"].get("context", {})
    for key, value in context.items():
        if isinstance(value, bool):
            context[key] = "true" if value else "false"
    return data


def _cases() -> list[int]:
    count = int(os.environ.get("PE_DIFF_CASES", "2000"))
    return list(range(count))


def _check(seed: int, index: int) -> None:
    rng = random.Random(f"{seed}:{index}")
    data = scenario(rng)
    want = complete_model.decide(_canonical(data))
    parsed = pe.scenario_from_dict(data)
    decision = pe.simulate(parsed)
    assert (decision.decision, decision.reason) == want, json.dumps(data, indent=1)
    partial = allow_only_if(parsed.request, parsed.policies, ())
    status = "allow" if want[0] == "allow" else "deny"
    assert (partial.status, partial.reason) == (status, want[1]), json.dumps(data, indent=1)


def test_complete_scenarios_agree_across_interpretations() -> None:
    """Reference model, simulate/authorize and partial evaluation with every key known give one answer on each case."""
    seed = int(os.environ.get("PE_DIFF_SEED", "15"))
    outcomes: dict[str, int] = {}
    for index in _cases():
        _check(seed, index)
        rng = random.Random(f"{seed}:{index}")
        outcome = complete_model.decide(_canonical(scenario(rng)))[1]
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    # The generator must reach every cause, or the agreement says little.
    expected = {
        "allowed",
        "explicit_deny",
        "no_allow",
        "operation_not_cross_account",
        "no_scp_allow",
        "no_endpoint_allow",
        "boundary_cap",
        "key_policy_does_not_trust_account",
        "cross_account_needs_identity_allow",
    }
    assert expected <= set(outcomes), outcomes


@pytest.mark.parametrize("index", range(5))
def test_partial_evaluation_with_open_keys_covers_every_value(index: int) -> None:
    """With aws:SecureTransport left open, the residual decides each of its values as authorize does."""
    from policyengine.access import formula_text

    rng = random.Random(f"open:{index}")
    for _ in range(200):
        data = scenario(rng)
        parsed = pe.scenario_from_dict(data)
        partial = allow_only_if(parsed.request, parsed.policies, ("aws:SecureTransport",))
        for value in ("true", "false", None):
            fixed = json.loads(json.dumps(data))
            context = fixed["request"].setdefault("context", {})
            context.pop("aws:SecureTransport", None)
            if value is not None:
                context["aws:SecureTransport"] = value
            concrete = pe.simulate(pe.scenario_from_dict(fixed))
            if partial.status != "conditional":
                assert (partial.status == "allow") == concrete.allowed, (formula_text(partial.residual), fixed)


def test_solver_model_agrees_on_every_case() -> None:
    """The solver's model of the whole policy set, with the request pinned, allows exactly what authorize allows."""
    pytest.importorskip("cvc5")
    from policyengine.analysis.pinned import solver_decision

    seed = int(os.environ.get("PE_DIFF_SEED", "15"))
    answers = {True: 0, False: 0}
    for index in _cases():
        data = scenario(random.Random(f"{seed}:{index}"))
        parsed = pe.scenario_from_dict(data)
        concrete = pe.simulate(parsed)
        got = solver_decision(parsed.request, parsed.policies)
        assert got is concrete.allowed, (index, concrete.reason, json.dumps(data, indent=1))
        answers[concrete.allowed] += 1
    assert answers[True] > 100 and answers[False] > 100, answers


#: The z3 backend (the test extra installs it) answers the same pinned question on every Z3_EVERY-th case.
Z3_EVERY = 10


def test_z3_model_agrees_on_a_sample() -> None:
    """The same encoding handed to z3 instead of cvc5 gives authorize's answer too."""
    pytest.importorskip("z3")
    from policyengine.analysis.pinned import solver_decision

    seed = int(os.environ.get("PE_DIFF_SEED", "15"))
    for index in _cases()[::Z3_EVERY]:
        data = scenario(random.Random(f"{seed}:{index}"))
        parsed = pe.scenario_from_dict(data)
        got = solver_decision(parsed.request, parsed.policies, backend="z3")
        assert got is pe.simulate(parsed).allowed, (index, json.dumps(data, indent=1))


#: The open question (a solver search with a replayed counterexample) runs on every OPEN_EVERY-th case.
OPEN_EVERY = 8


def test_offline_check_inside_the_whole_policy_set_agrees() -> None:
    """access-not-granted with the case's surroundings (boundary, session policy, SCPs, RCPs, endpoint
    policy, grants): a proof of "never" only for denied requests, and an allowed request always found,
    with a counterexample authorize allows in the same policy set."""
    pytest.importorskip("cvc5")
    from policyengine.analysis import access_not_granted
    from policyengine.analysis.surroundings import from_policy_set

    seed = int(os.environ.get("PE_DIFF_SEED", "15"))
    checked = {"pass": 0, "fail": 0}
    for index in _cases()[::OPEN_EVERY]:
        data = scenario(random.Random(f"{seed}:{index}"))
        policies, request = data["policies"], data["request"]
        if request["principal"] not in (ALICE, BOB, APP_ROLE, APP_SESSION, EXT_SESSION):
            continue
        parsed = pe.scenario_from_dict(data)
        owner = parsed.request.identity_arn or parsed.request.principal
        around = from_policy_set(parsed.request, parsed.policies)
        key = pe.parse_policy(json.dumps(policies["key_policy"]), "key.json")
        concrete = pe.simulate(parsed)
        result = access_not_granted(
            key, [request["action"]], [request["resource"]], principal=owner, key_account=A, around=around
        )
        assert result.verdict in ("pass", "fail"), (index, result.verdict, result.message, result.details)
        checked[result.verdict] += 1
        if concrete.allowed:
            assert result.verdict == "fail", json.dumps(data, indent=1)
        if result.verdict == "fail":
            cex = result.counterexample
            assert cex is not None
            replay = pe.authorize(
                pe.make_request(
                    cex.principal,
                    cex.action,
                    cex.resource,
                    cex.context,
                    bypass_policy_lockout_safety_check=cex.bypass_lockout_check,
                    encryption_context=cex.encryption_context,
                    grant_tokens=cex.grant_tokens,
                ),
                parsed.policies,
            )
            assert replay.allowed, (index, cex)
    # both answers occur, or the agreement says little
    assert checked["pass"] > 20 and checked["fail"] > 20, checked
