"""Fuzzing the evaluator: any well-formed policy set and any request give a Decision, never an exception.

Policies use every condition operator with every qualifier, values that are almost numbers,
dates, addresses or variables, principals of every kind, NotAction/NotResource/NotPrincipal;
requests carry context values of every type. Whatever comes out must also render.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import policyengine as pe
from policyengine.aws_facts import GRANT_OPERATIONS
from policyengine.kms.ops_grants import CONSTRAINT_NAMES
from tests.reliability.conftest import count, fuzz_settings
from tests.reliability.strategies import KEY_ARN, policies, requests


def _compiled(document: dict[str, Any], kind: Any, name: str) -> pe.CompiledPolicy | None:
    """The compiled policy, or None when the generated document is not a policy (our error)."""
    try:
        return pe.compile_policy(pe.parse_policy_fast(json.dumps(document), name), kind, name)
    except pe.PolicyInputError:
        count("fuzz.evaluator.rejected_policies")
        return None


@st.composite
def grants(draw: st.DrawFn) -> list[pe.Grant]:
    made = []
    for i in range(draw(st.integers(0, 2))):
        constraint_name = draw(st.sampled_from([None, *CONSTRAINT_NAMES]))
        constraints = None
        if constraint_name is not None:
            key = "encryption_context_equals" if constraint_name == "EncryptionContextEquals" else "encryption_context_subset"
            constraints = {key: draw(st.dictionaries(st.text(min_size=1, max_size=4), st.text(max_size=4), max_size=2))}
        made.append(
            pe.make_grant(
                f"grant-{i}",
                KEY_ARN,
                draw(st.sampled_from(["arn:aws:iam::111122223333:user/alice", "arn:aws:iam::444455556666:root"])),
                draw(st.lists(st.sampled_from(sorted(GRANT_OPERATIONS)), min_size=1, max_size=3, unique=True)),
                constraints=constraints,
                grant_token=f"token-{i}",
            )
        )
    return made


@fuzz_settings(400)
@given(
    key_policy=policies(with_principal=True, prefix="K"),
    identity=st.lists(policies(with_principal=False, prefix="I"), max_size=2),
    boundary=st.none() | policies(with_principal=False, prefix="B", max_statements=2),
    session=st.none() | policies(with_principal=False, prefix="P", max_statements=2),
    scps=st.none()
    | st.lists(st.lists(policies(with_principal=False, prefix="O", max_statements=2), min_size=1, max_size=2), max_size=2),
    granted=grants(),
    request=requests,
    trace=st.booleans(),
)
def test_fuzz_evaluator_always_decides(
    key_policy: dict[str, Any],
    identity: list[dict[str, Any]],
    boundary: dict[str, Any] | None,
    session: dict[str, Any] | None,
    scps: list[list[dict[str, Any]]] | None,
    granted: list[pe.Grant],
    request: dict[str, Any],
    trace: bool,
) -> None:
    """Random well-formed policies of every kind plus grants, and a random request: a Decision that renders."""
    count("fuzz.evaluator")
    key = _compiled(key_policy, "key_policy", "key")
    compiled_identity = tuple(p for i, d in enumerate(identity) if (p := _compiled(d, "identity", f"id{i}")) is not None)
    compiled_boundary = _compiled(boundary, "boundary", "boundary") if boundary is not None else None
    compiled_session = _compiled(session, "session_policy", "session") if session is not None else None
    levels = None
    if scps is not None:
        levels = tuple(
            tuple(p for j, d in enumerate(level) if (p := _compiled(d, "scp", f"scp{i}.{j}")) is not None)
            for i, level in enumerate(scps)
        )
    policy_set = pe.PolicySet(
        key_policy=key,
        identity=compiled_identity,
        boundary=compiled_boundary,
        session_policy=compiled_session,
        scp_levels=levels,
        grants=tuple(granted),
    )
    try:
        made = pe.make_request(
            request["principal"],
            request["action"],
            request["resource"],
            request["context"],
            principal_account=request["account"],
            encryption_context=request["encryption_context"],
            grant_tokens=request["grant_tokens"],
        )
    except pe.RequestError:
        count("fuzz.evaluator.rejected_requests")
        return
    decision = pe.authorize(made, policy_set, trace=trace)
    assert decision.decision in ("allow", "implicit_deny", "explicit_deny")
    assert decision.reason in pe.REASONS
    assert pe.render_text(decision, view="full")
    json.dumps(pe.decision_to_json(decision))
    memo = pe.Authorizer(policy_set)
    assert memo.authorize(made).decision == decision.decision
