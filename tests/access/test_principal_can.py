"""principal-can: one consolidated policy that restates the principal's answers exactly (checked against can)."""

from __future__ import annotations

import json

import pytest

import policyengine as pe
from policyengine.access import Access, principal_policy
from policyengine.access.actions import actions_for
from policyengine.access.consolidate import compress

from .conftest import ORG
from .test_cli import run


def _covered(statement: dict[str, object], action: str, key: str) -> bool:
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    names = [str(a).lower() for a in actions]
    matches = any(n == action.lower() or (n.endswith("*") and action.lower().startswith(n[:-1])) for n in names)
    return matches and key in resources


@pytest.mark.parametrize("principal", ["user/kms-admin", "user/alice", "role/deployer", "role/app", "user/carol"])
def test_policy_restates_every_answer(access: Access, principal: str) -> None:
    """Every action on every key: allowed <=> an unconditional statement covers it; conditional <=> only a
    conditional statement does (or it is listed as not expressible); denied <=> nothing covers it."""
    result = principal_policy(access, principal)
    pe.parse_policy(json.dumps(result.policy()), "consolidated")  # a valid IAM policy document
    plain = [s for s in result.statements if "Condition" not in s]
    conditional = [s for s in result.statements if "Condition" in s]
    listed = {(i["key"], i["action"]) for i in result.not_expressible}
    for key in access.world.keys.values():
        for actions in actions_for(key.usage, key.spec, key.origin, key.multi_region).values():
            for action in actions:
                status = access.can(principal, action, key.arn).status
                in_plain = any(_covered(s, action, key.arn) for s in plain)
                in_conditional = any(_covered(s, action, key.arn) for s in conditional) or (key.arn, action) in listed
                assert in_plain == (status == "allow"), (action, key.arn, status)
                assert (in_conditional and not in_plain) == (status == "conditional"), (action, key.arn, status)


def test_residual_conditions_become_condition_blocks(access: Access) -> None:
    """A negated Bool becomes BoolIfExists with the other value; equalities join one StringEquals block."""
    (statement,) = principal_policy(access, "role/app").statements
    assert statement["Condition"] == {
        "BoolIfExists": {"aws:SecureTransport": "true"},
        "StringEquals": {"kms:EncryptionContext:dept": "finance", "kms:ViaService": "s3.us-east-1.amazonaws.com"},
    }


def test_compress_uses_wildcards_only_when_exact() -> None:
    """kms:* for every applicable action; kms:Prefix* only when the prefix names nothing else."""
    universe = {"kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:GetPublicKey", "kms:Decrypt"}
    assert compress(set(universe), universe) == ["kms:*"]
    assert compress({"kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:GetPublicKey"}, universe) == ["kms:Get*"]
    assert compress({"kms:GetKeyPolicy", "kms:GetKeyRotationStatus"}, universe) == ["kms:GetKey*"]
    assert compress({"kms:GetKeyPolicy", "kms:Decrypt"}, universe) == ["kms:Decrypt", "kms:GetKeyPolicy"]


def test_principal_can_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "principal-can", "user/kms-admin", "-s", str(ORG))
    assert code == 0 and json.loads(out)["Statement"][0]["Action"] == "kms:*"
    code, out, _ = run(capsys, "principal-can", "role/app", "-s", str(ORG), "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["principal_arn"] == "arn:aws:iam::222222222222:role/app" and data["not_expressible"] == []
