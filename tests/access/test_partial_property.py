"""Partial evaluation agrees with ``authorize``: a residual is true exactly when the concrete request is allowed."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import policyengine as pe
from policyengine.access import Access, World, access_matrix
from policyengine.access.atoms import atom_holds
from policyengine.access.facts import Facts
from policyengine.access.formula import holds
from policyengine.access.matrix import _ActionClasses as ActionClasses
from policyengine.access.matrix import group_answers
from policyengine.access.partial import partial_authorize
from policyengine.access.synthetic import generate
from policyengine.model.request import Request
from tests.properties.strategies import CALLERS, CONTEXT_KEYS, KEY_ACCOUNT, KEY_ARN, contexts, policy_sets

ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:DescribeKey", "kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:CreateGrant"]
OPEN_VALUES: dict[str, list[str]] = {
    "aws:SecureTransport": ["true", "false"],
    "aws:MultiFactorAuthPresent": ["true", "false"],
    "kms:ViaService": ["s3.us-east-1.amazonaws.com", "rds.us-east-1.amazonaws.com"],
    "aws:SourceArn": [
        "arn:aws:cloudtrail:us-east-1:111111111111:trail/main",
        "arn:aws:cloudtrail:us-east-1:999999999999:trail/x",
    ],
}
ENCRYPTION_CONTEXTS = [None, {"dept": "finance"}, {"dept": "hr"}, {"Dept": "hr", "app": "x"}, {"dept": "HR"}]


@st.composite
def open_contexts(draw: st.DrawFn) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for key, values in OPEN_VALUES.items():
        choice = draw(st.sampled_from([None, *values]))
        if choice is not None:
            context[key] = choice
    ec = draw(st.sampled_from(ENCRYPTION_CONTEXTS))
    if ec is not None:
        context.update({f"kms:EncryptionContext:{k}": v for k, v in ec.items()})
    return context


def _truth(result: Any, request: Request) -> bool:
    return holds(result.residual, lambda atom: atom_holds(atom, request))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_residual_matches_concrete_can_on_the_fixture(world: World, access: Access, data: st.DataObject) -> None:
    """For random open contexts, the residual of every fixture question is true exactly when a concrete can allows."""
    subjects = [s for s in access.subjects.all() if not s.outside]
    subject = data.draw(st.sampled_from(subjects))
    key = data.draw(st.sampled_from(sorted(world.keys.values(), key=lambda k: k.arn)))
    action = data.draw(st.sampled_from(ACTIONS))
    result = access.evaluate(subject, action, key)
    for _ in range(3):
        context = data.draw(open_contexts())
        concrete = Access.of(world, context, closed=True)
        request = concrete.request(subject, action, key)
        decision = pe.authorize(request, concrete.policy_set(subject, key, key.account))
        assert _truth(result, request) == decision.allowed, (subject.label, action, key.label, context)
        assert concrete.evaluate(subject, action, key).status == ("allow" if decision.allowed else "deny")


@settings(max_examples=300, deadline=None)
@given(
    policy_sets(),
    st.sampled_from(CALLERS),
    st.sampled_from(ACTIONS),
    contexts(),
    st.lists(st.sampled_from(CONTEXT_KEYS), unique=True),
    st.data(),
)
def test_residual_matches_authorize_on_random_policies(
    policies: dict[str, Any],
    caller: tuple[str, str | None, str],
    action: str,
    context: dict[str, Any],
    given_keys: list[str],
    data: st.DataObject,
) -> None:
    """Random key, identity and boundary policies, some context keys given: the residual decides as authorize does."""
    principal, _role, _account = caller
    compiled = pe.PolicySet(
        key_policy=pe.compile_policy(pe.parse_policy_fast(_json(policies["key_policy"])), "key_policy", "K"),
        identity=(pe.compile_policy(pe.parse_policy_fast(_json(policies["identity"][0])), "identity", "I"),),
        boundary=pe.compile_policy(pe.parse_policy_fast(_json(policies["boundary"])), "boundary", "B")
        if "boundary" in policies
        else None,
    )
    fixed = {k: v for k, v in context.items() if k in given_keys or k.lower().startswith("aws:principaltag/")}
    partial_request = pe.make_request(principal, action, KEY_ARN, fixed, resource_account=KEY_ACCOUNT)
    facts = Facts(partial_request.context, frozenset(k.lower() for k in given_keys))
    result = partial_authorize(partial_request, compiled, facts)
    for _ in range(3):
        full = dict(fixed)
        full.update(
            {
                k: v
                for k, v in data.draw(contexts()).items()
                if k not in given_keys and not k.lower().startswith("aws:principaltag/")
            }
        )
        request = pe.make_request(principal, action, KEY_ARN, full, resource_account=KEY_ACCOUNT)
        assert _truth(result, request) == pe.authorize(request, compiled).allowed, (fixed, full)


def _json(document: dict[str, Any]) -> str:
    import json

    return json.dumps(document)


def test_matrix_action_classes_and_prechecks_are_exact() -> None:
    """On a generated organization, every matrix cell equals the per-action evaluation it stands for."""
    world = World.build(generate(60, 12, accounts=3, seed=3))
    access = Access.of(world)
    matrix = access_matrix(access, subjects=access.subjects.principals(), transitive=False)
    classes = ActionClasses()
    for subject in matrix.subjects:
        for key in matrix.keys:
            grouped = group_answers(access, classes, subject, key)
            for group, answers in grouped.items():
                for answer in answers:
                    one = access.evaluate(subject, answer.action, key)
                    assert one.status == answer.status and one.residual == answer.result.residual, (subject.label, answer.action)
                best = max((a.status for a in answers), key=["deny", "conditional", "allow"].index, default="deny")
                assert matrix.cell(subject, key, group).status == best, (subject.label, key.label, group)
