"""The workspace: editors read one by one (errors in place), the question matches `simulate`, scenarios round-trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policyengine import load_scenario, simulate
from policyengine.playground.answer import answer, decide
from policyengine.playground.examples import example_names, load_example
from policyengine.playground.scenarios import from_scenario, to_scenario
from policyengine.playground.workspace import Workspace, WorkspaceError, build, caller_matches

KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROOT = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scenarios"


def workspace(**policies: object) -> Workspace:
    request = policies.pop("request", None) or {
        "principal": "arn:aws:sts::111122223333:assumed-role/AppRole/s",
        "action": "kms:Decrypt",
        "resource": KEY,
    }
    return Workspace.from_json({"policies": policies, "request": request})


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.iterdir()))
def test_every_example_scenario_decides_as_simulate_does(name: str) -> None:
    """The playground assembles the question itself (editor by editor); it must be the question `simulate` answers."""
    expected = simulate(load_scenario(EXAMPLES / name))
    got = decide(load_example(f"scenario/{Path(name).stem}"))
    assert got is not None
    assert (got.decision, got.reason) == (expected.decision, expected.reason)
    assert [r.label for r in got.deciding] == [r.label for r in expected.deciding]


@pytest.mark.parametrize("name", [n for n in example_names() if n.startswith("scenario/")])
def test_scenario_round_trip_keeps_the_answer(name: str, tmp_path: Path) -> None:
    """Workspace -> scenario file -> `policyengine simulate` gives the playground's answer; and back again."""
    ws = load_example(name)
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(to_scenario(ws)), encoding="utf-8")
    decision = decide(ws)
    assert decision is not None
    assert simulate(load_scenario(path)).decision == decision.decision
    again = from_scenario(to_scenario(ws))
    assert to_scenario(again) == to_scenario(ws)


def test_errors_in_two_editors_are_both_reported_in_place() -> None:
    """A syntax error in the key policy does not hide a validation error in an identity policy."""
    broken = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",, }]}'
    ws = workspace(
        key_policy=broken,
        identity_policies=[
            {
                "principal": "arn:aws:iam::111122223333:role/AppRole",
                "policy": '{"Statement": [{"Effect": "Alow", "Action": "kms:Decrypt", "Resource": "*"}]}',
            }
        ],
    )
    built = build(ws)
    editors = {issue.editor for issue in built.issues}
    assert editors == {"key_policy", "identity_policies.0"}
    key_issue = next(i for i in built.issues if i.editor == "key_policy")
    assert (key_issue.line, key_issue.column) == (1, broken.index(",,") + 2)  # the second comma
    identity_issue = next(i for i in built.issues if i.editor == "identity_policies.0")
    assert identity_issue.hint is not None and "Allow" in identity_issue.hint
    assert not built.decidable


def test_request_problems_name_the_field() -> None:
    ws = workspace(
        key_policy=json.dumps({"Statement": [ROOT]}),
        request={"principal": "arn:aws:sts::111122223333:assumed-role/A/s", "action": "Decrypt", "resource": KEY},
    )
    result = answer(ws)
    assert result["decision"] is None
    assert [i["editor"] for i in result["issues"]] == ["request.action"]
    assert "service:Action" in result["issues"][0]["message"]


def test_bad_context_json_is_shown_at_its_position() -> None:
    ws = workspace(
        key_policy=json.dumps({"Statement": [ROOT]}),
        request={
            "principal": "arn:aws:iam::111122223333:user/a",
            "action": "kms:Decrypt",
            "resource": KEY,
            "context": '{"aws:SourceIp": }',
        },
    )
    issues = answer(ws)["issues"]
    assert issues == [{"editor": "request.context", "message": "not valid JSON: Expecting value", "line": 1, "column": 18}]


@pytest.mark.parametrize(
    "data, message",
    [
        ([], "workspace: must be a JSON object"),
        ({"policies": {"key_policies": ""}}, "unknown field `key_policies`"),
        ({"policies": {"key_policy": 3}}, "workspace.policies.key_policy: must be the policy's text"),
        ({"policies": {"scps": [{"policy": "", "level": 12}]}}, "level: must be a whole number from 0 (root) to 9"),
        ({"policies": {"identity_policies": [{"policy": ""}]}}, "principal: must be the ARN"),
        ({"request": {"action": 5}}, "workspace.request.action: must be a string"),
        ({"policies": {"key_policy": "x" * 300_000}}, "longer than"),
    ],
)
def test_malformed_workspaces_get_one_clear_line(data: object, message: str) -> None:
    with pytest.raises(WorkspaceError, match=None) as caught:
        Workspace.from_json(data)
    assert message in str(caught.value)


def test_identity_policies_belong_to_their_principal_only() -> None:
    """A role's policy applies to its sessions and ignores paths; another role's does not apply."""
    assert caller_matches("arn:aws:sts::111122223333:assumed-role/AppRole/s", "arn:aws:iam::111122223333:role/AppRole")
    assert caller_matches("arn:aws:iam::111122223333:role/AppRole", "arn:aws:iam::111122223333:role/team/AppRole")
    assert not caller_matches("arn:aws:sts::111122223333:assumed-role/AppRole/s", "arn:aws:iam::111122223333:role/Other")
    assert not caller_matches("arn:aws:sts::111122223333:assumed-role/AppRole/s", "arn:aws:iam::444455556666:role/AppRole")
    allow = json.dumps({"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]})
    ws = workspace(
        key_policy=json.dumps({"Statement": [ROOT]}),
        identity_policies=[{"principal": "arn:aws:iam::111122223333:role/Other", "policy": allow}],
    )
    decision = decide(ws)
    assert decision is not None and decision.decision == "implicit_deny"


def test_list_grants_output_is_read_as_grants() -> None:
    """`aws kms list-grants` output pasted as is: AWS's field names and the Grants wrapper."""
    grants = {
        "Grants": [
            {
                "KeyId": KEY,
                "GrantId": "abc",
                "GranteePrincipal": "arn:aws:iam::111122223333:role/AppRole",
                "Operations": ["Decrypt"],
                "Constraints": {"EncryptionContextSubset": {"app": "payments"}},
                "IssuingAccount": "arn:aws:iam::111122223333:root",
                "CreationDate": "2024-01-01T00:00:00Z",
            }
        ]
    }
    base = {"principal": "arn:aws:sts::111122223333:assumed-role/AppRole/s", "action": "kms:Decrypt", "resource": KEY}
    allowed = decide(
        workspace(
            key_policy=json.dumps({"Statement": [ROOT]}),
            grants=json.dumps(grants),
            request={**base, "encryption_context": '{"app": "payments"}'},
        )
    )
    refused = decide(
        workspace(
            key_policy=json.dumps({"Statement": [ROOT]}),
            grants=json.dumps(grants),
            request={**base, "encryption_context": '{"app": "hr"}'},
        )
    )
    assert allowed is not None and allowed.allowed and allowed.path == "grant"
    assert refused is not None and not refused.allowed
