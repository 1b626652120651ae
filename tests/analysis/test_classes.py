"""no-new-access lists all new access as classes, with real action names and policy values, each replayed."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from policyengine.analysis import access_not_granted, no_new_access
from policyengine.analysis.replay import assumed_iam_policy
from policyengine.cli.main import cli
from policyengine.lint.catalog import actions
from tests.analysis.conftest import decide, doc, requires_cvc5

K, P = "111122223333", "444455556666"
ROOT = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{K}:root"}, "Action": "kms:*", "Resource": "*"}
PARTNER = {
    "Sid": "Partner",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{P}:root"},
    "Action": ["kms:Decrypt", "kms:ReEncrypt*"],
    "Resource": "*",
    "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
}
LOG_GROUPS = "arn:aws:logs:eu-west-1:111122223333:log-group:*"
LOGS = {
    "Sid": "Logs",
    "Effect": "Allow",
    "Principal": {"Service": "logs.eu-west-1.amazonaws.com"},
    "Action": ["kms:Encrypt", "kms:GenerateDataKey*"],
    "Resource": "*",
    "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": LOG_GROUPS}},
}


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _replays(new: dict[str, Any], old: dict[str, Any], example: dict[str, Any], action: str) -> bool:
    """The example with ``action`` is allowed by ``new`` (with the identity policy the check assumed) and denied by ``old``."""
    request = {**example, "action": action}
    identity = [assumed_iam_policy(action)] if "assumed_identity_policy" in example else None
    restricted = "caller_caps" in example
    return decide(doc(new), request, identity, restricted).allowed and not decide(doc(old), request, identity, restricted).allowed


@requires_cvc5
def test_every_class_of_new_access_is_listed_with_real_names_and_values() -> None:
    """Two statements added: the partner account (root, and its principals) and a service; nothing else."""
    old, new = _policy(ROOT), _policy(ROOT, PARTNER, LOGS)
    result = no_new_access(doc(old, "old.json"), doc(new, "new.json"))
    assert result.verdict == "fail" and result.details["all_classes_listed"] is True
    classes = result.details["classes"]
    real = {f"kms:{a}" for a in actions("kms")}
    partner = [c for c in classes if c["account"] == P]
    assert {c["caller_kind"] for c in partner} >= {"account"}
    for item in partner:
        assert item["actions"] == ["kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo"]
        assert item["context"] == {"aws:SourceVpce": "vpce-1a2b3c4d"}  # the policy's value, the policy's spelling
        assert item["conditions"] == ["aws:SourceVpce = vpce-1a2b3c4d"]
    (logs,) = [c for c in classes if c["caller_kind"] == "service"]
    assert logs["principal"] == "logs.eu-west-1.amazonaws.com"
    assert set(logs["actions"]) == {
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyPair",
        "kms:GenerateDataKeyPairWithoutPlaintext",
        "kms:GenerateDataKeyWithoutPlaintext",
    }
    assert logs["conditions"] == [f"kms:EncryptionContext:aws:logs:arn like {LOG_GROUPS}"]
    value = logs["context"]["kms:EncryptionContext:aws:logs:arn"]  # the policy's pattern, filled in
    assert fnmatchcase(value, LOG_GROUPS) and value != LOG_GROUPS[:-1]
    assert len(classes) == len(partner) + 1
    for item in classes:
        assert set(item["actions"]) <= real
        # a region the policies name (eu-west-1) and AWS's example key id, not what the solver made up
        assert item["resource"].split(":")[3] == "eu-west-1" and item["resource"].endswith(
            "/1234abcd-12ab-34cd-56ef-1234567890ab"
        )
        for action in item["actions"]:  # every action of every class replays as new access
            assert _replays(new, old, item["example"], action)


@requires_cvc5
def test_the_counterexample_reads_like_a_real_request() -> None:
    """The first counterexample too: real region and key id, context keys as the policy spells them."""
    old, new = _policy(ROOT), _policy(ROOT, PARTNER)
    cex = no_new_access(doc(old, "old.json"), doc(new, "new.json"), list_all=False).counterexample
    assert cex is not None
    region = cex.resource.split(":")[3]
    assert region == "us-east-1" and cex.resource.endswith(":key/1234abcd-12ab-34cd-56ef-1234567890ab")
    assert cex.context == {"aws:SourceVpce": "vpce-1a2b3c4d"}
    assert _replays(new, old, cex.to_json(), cex.action)


@requires_cvc5
def test_access_not_granted_keeps_the_rewritten_action_inside_the_question() -> None:
    """A readable counterexample never swaps in an action outside the actions asked about."""
    data = _policy({**PARTNER, "Action": "kms:*"})
    result = access_not_granted(doc(data), ["kms:ReEncrypt*"])
    assert result.verdict == "fail" and result.counterexample is not None
    assert result.counterexample.action in {"kms:ReEncryptFrom", "kms:ReEncryptTo"}


@requires_cvc5
def test_a_pass_lists_no_classes() -> None:
    result = no_new_access(doc(_policy(ROOT, PARTNER), "old.json"), doc(_policy(ROOT), "new.json"))
    assert result.verdict == "pass" and "classes" not in result.details


@requires_cvc5
def test_the_cli_prints_every_class(tmp_path: Path) -> None:
    (tmp_path / "old.json").write_text(json.dumps(_policy(ROOT)))
    (tmp_path / "new.json").write_text(json.dumps(_policy(ROOT, PARTNER, LOGS)))
    args = ["check", "no-new-access", "--old", str(tmp_path / "old.json"), "--new", str(tmp_path / "new.json")]
    text = CliRunner().invoke(cli, args)
    assert text.exit_code == 3, text.output
    assert "all new access, 3 classes, each replayed through the evaluator:" in text.output
    assert f"the root of {P}: kms:Decrypt, kms:ReEncryptFrom, kms:ReEncryptTo if aws:SourceVpce = vpce-1a2b3c4d" in text.output
    assert "logs.eu-west-1.amazonaws.com: kms:Encrypt, kms:GenerateDataKey," in text.output
    as_json = CliRunner().invoke(cli, [*args, "--format", "json"])
    details = json.loads(as_json.output)["details"]
    assert details["all_classes_listed"] is True and len(details["classes"]) == 3
