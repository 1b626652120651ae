"""The access commands end to end: text, JSON, exit codes and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policyengine.cli.access import COMMANDS
from policyengine.cli.main import cli, main

from .conftest import FIXTURES, ORG

for _command in COMMANDS:  # registered by cli/main.py; added here too so these tests run either way
    if _command.name not in cli.commands:
        cli.add_command(_command)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def test_can_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    """can exits 0 when allowed, 2 when denied and 4 when allowed only under conditions."""
    assert run(capsys, "can", "user/ops", "kms:DisableKey", "alias/workload", "-s", str(ORG))[0] == 0
    assert run(capsys, "can", "user/ops", "kms:ScheduleKeyDeletion", "alias/workload", "-s", str(ORG))[0] == 2
    code, out, _ = run(capsys, "can", "user/alice", "kms:Decrypt", "alias/payments", "-s", str(ORG))
    assert code == 4
    assert "user/alice -> role/deployer -> role/app -> kms:Decrypt" in out


def test_can_expect_and_direct_only(capsys: pytest.CaptureFixture[str]) -> None:
    """--expect turns the answer into pass (0) or fail (3) for CI; --direct-only leaves the role path out."""
    base = ["can", "user/ops", "kms:DisableKey", "alias/workload", "-s", str(ORG)]
    assert run(capsys, *base, "--expect", "allow")[0] == 0
    code, _, err = run(capsys, *base, "--expect", "deny")
    assert code == 3 and "expected deny" in err and "allow" in err
    denied = ["can", "user/ops", "kms:ScheduleKeyDeletion", "alias/workload", "-s", str(ORG)]
    assert run(capsys, *denied, "--expect", "deny")[0] == 0
    assert run(capsys, *denied, "--expect", "allow")[0] == 3
    via = ["can", "user/alice", "kms:Decrypt", "alias/payments", "-s", str(ORG)]
    code, out, _ = run(capsys, *via, "--direct-only")
    assert code == 2 and "role/deployer" not in out
    assert run(capsys, *via, "--expect", "conditional")[0] == 0


def test_can_json_with_context(capsys: pytest.CaptureFixture[str]) -> None:
    """--context fixes keys, and --format json carries the status, residual and route."""
    code, out, _ = run(
        capsys,
        "can",
        "user/carol",
        "Decrypt",
        "alias/logs",
        "-s",
        str(ORG),
        "--context",
        "kms:EncryptionContext:dept=hr",
        "--format",
        "json",
    )
    data = json.loads(out)
    assert code == 0 and data["status"] == "allow" and data["direct"]["deciding"][-1]["label"] == "grant:g-carol-hr"


def test_can_explain(capsys: pytest.CaptureFixture[str]) -> None:
    """--explain shows the deciding statements with their residuals."""
    _, out, _ = run(capsys, "can", "user/kms-admin", "kms:Decrypt", "alias/payments", "-s", str(ORG), "--explain")
    assert "DenyWithoutTLS" in out and "only if: aws:SecureTransport is absent or aws:SecureTransport = true" in out


def test_who_can_json(capsys: pytest.CaptureFixture[str]) -> None:
    """who-can lists every principal with its status; --hide-denied keeps those that can."""
    code, out, _ = run(capsys, "who-can", "kms:Decrypt", "alias/logs", "-s", str(ORG), "--format", "json", "--hide-denied")
    data = json.loads(out)
    statuses = {p["principal"]: p["status"] for p in data["principals"]}
    assert code == 0 and statuses["user/kms-admin"] == "allow" and "user/bob" not in statuses


def test_what_can_text(capsys: pytest.CaptureFixture[str]) -> None:
    """what-can prints the keys the principal reaches, with the role it goes through."""
    code, out, _ = run(capsys, "what-can", "user/dave", "-s", str(ORG))
    assert code == 0 and "alias/payments" in out and "role/auditor" in out


def test_access_matrix_writes_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """access-matrix --out writes one HTML file and --format json gives the cells that are not denies."""
    report = tmp_path / "report.html"
    code, out, _ = run(capsys, "access-matrix", "-s", str(ORG), "--out", str(report), "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["counts"]["allow"] == 18 and report.read_text().startswith("<!DOCTYPE html>")


def test_access_matrix_streams_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    """Without --out the matrix is streamed: the same cells and counts as the in-memory matrix, in key order,
    the text summary line last; two processes write what one writes."""
    code, out, _ = run(capsys, "access-matrix", "-s", str(ORG), "--format", "json", "--processes", "2")
    streamed = json.loads(out)
    code_one, out_one, _ = run(capsys, "access-matrix", "-s", str(ORG), "--format", "json", "--processes", "1")
    _, whole, _ = run(capsys, "access-matrix", "-s", str(ORG), "--format", "json", "--out", "/dev/null")
    in_memory = json.loads(whole)
    assert code == code_one == 0 and out == out_one
    assert streamed["counts"] == in_memory["counts"] == {"allow": 18, "conditional": 14, "deny": 144}
    assert sorted(map(json.dumps, streamed["cells"])) == sorted(map(json.dumps, in_memory["cells"]))
    key_order = [k["arn"] for k in streamed["keys"]]
    positions = [key_order.index(c["key"]) for c in streamed["cells"]]
    assert positions == sorted(positions) and len(set(positions)) > 1
    code, out, _ = run(capsys, "access-matrix", "-s", str(ORG))
    lines = out.strip().splitlines()
    assert code == 0 and lines[-1].endswith("18 allow, 14 conditional, 144 deny")
    assert any(line.startswith("user/ops  alias/workload  administer=allow") for line in lines)


def test_unknown_principal_and_bad_context(capsys: pytest.CaptureFixture[str]) -> None:
    """A principal not in the snapshot and a malformed --context are input errors (exit 1), never tracebacks."""
    code, _, err = run(capsys, "can", "user/nobody", "kms:Decrypt", "alias/logs", "-s", str(ORG))
    assert code == 1 and "user/nobody" in err
    code, _, err = run(capsys, "can", "user/alice", "kms:Decrypt", "alias/logs", "-s", str(ORG), "--context", "novalue")
    assert code == 1 and "KEY=VALUE" in err


def test_snapshot_import_and_check(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """snapshot import builds a snapshot from exports and lists what it could not use; check reads it back."""
    exports = FIXTURES / "exports"
    target = tmp_path / "snap.yaml"
    code, out, _ = run(
        capsys,
        "snapshot",
        "import",
        "--authdetails",
        str(exports / "authdetails.json"),
        "--kms-dir",
        str(exports / "kms"),
        "--out",
        str(target),
    )
    assert code == 0 and "could not be used" in out and target.exists()
    code, out, _ = run(capsys, "snapshot", "check", str(target), "--format", "json")
    assert code == 0 and json.loads(out)["keys"] == 2
    code, _, err = run(capsys, "can", "user/alice", "kms:Decrypt", "alias/orders", "-s", str(target))
    assert code == 0 and "incomplete" in err


def test_snapshot_import_organization(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """--organization reads saved Organizations outputs: the SCP of the account's OU denies bob's Encrypt."""
    exports = FIXTURES / "exports"
    target = tmp_path / "snap.json"
    argv = ["snapshot", "import", "--authdetails", str(exports / "authdetails.json"), "--kms-dir", str(exports / "kms-flat")]
    code, out, _ = run(
        capsys,
        *argv,
        "--kms-dir",
        str(exports / "kms-empty"),
        "--organization",
        str(exports / "org"),
        "--out",
        str(target),
        "--format",
        "json",
    )
    assert code == 0 and json.loads(out)["keys"] == 1
    saved = json.loads(target.read_text())
    assert saved["organization"] == {"id": "o-fixture1234", "management_account": "444444444444"}
    assert run(capsys, "can", "user/bob", "kms:Encrypt", "alias/orders", "-s", str(target))[0] == 2


def test_snapshot_import_help_documents_layouts_and_repeats(capsys: pytest.CaptureFixture[str]) -> None:
    """--help shows both KMS layouts, the Organizations layout, and which options repeat."""
    code, out, _ = run(capsys, "snapshot", "import", "--help")
    flat = " ".join(out.split())
    assert code == 0
    for text in (
        "describe-key-<key-id>.json",
        "<key-id>/describe-key.json",
        "list-policies-for-target-<ID>-rcp.json",
        "RCPFullAWSAccess is implied",
        "one file per account (repeatable)",
        "terraform show -json of a plan (repeatable)",
    ):
        assert text in flat, text


def test_snapshot_schema(capsys: pytest.CaptureFixture[str]) -> None:
    """snapshot schema prints the JSON schema."""
    code, out, _ = run(capsys, "snapshot", "schema")
    assert code == 0 and json.loads(out)["title"] == "policyengine account snapshot"


def test_unknown_action_is_an_error_with_a_suggestion(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`kms:Decypt` is not a silent deny: can, who-can, simulate and policyengine.simulate name the closest action."""
    code, _, err = run(capsys, "can", "user/ops", "kms:Decypt", "alias/workload", "-s", str(ORG), "--expect", "deny")
    assert code == 1 and "did you mean `kms:Decrypt`" in err
    code, _, err = run(capsys, "who-can", "Decypt", "alias/workload", "-s", str(ORG))
    assert code == 1 and "did you mean `kms:Decrypt`" in err
    scenario = {
        "policies": {"key_policy": {"Version": "2012-10-17", "Statement": []}},
        "request": {
            "principal": "arn:aws:iam::111122223333:user/ops",
            "action": "kms:GenerateDataKeyWithoutPlaintxt",
            "resource": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        },
    }
    path = tmp_path / "typo.json"
    path.write_text(json.dumps(scenario, indent=2))
    code, _, err = run(capsys, "simulate", str(path))
    assert code == 1 and "kms:GenerateDataKeyWithoutPlaintext" in err and "request.action" in err

    import policyengine as pe

    with pytest.raises(pe.PolicyEngineError, match="did you mean `kms:GenerateDataKeyWithoutPlaintext`"):
        pe.simulate(scenario)
    scenario["request"]["action"] = "kms:Generate*"  # type: ignore[index]
    assert pe.simulate(scenario).decision == "implicit_deny"  # wildcards are patterns, not names to check


def test_what_can_json_has_structured_conditions_and_full_arns(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """what-can JSON carries each condition as a tree (like can) and principals by full ARN, path included."""
    code, out, _ = run(capsys, "what-can", "role/deployer", "-s", str(ORG), "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["principal_arn"] == "arn:aws:iam::222222222222:role/deployer"
    conditional = [c for cell in data["keys"] for c in cell["conditional"]]
    assert conditional and all(c["residual_tree"] and c["parts"] for c in conditional)
    exports = FIXTURES / "exports"
    target = tmp_path / "snap.json"
    run(capsys, "snapshot", "import", "--authdetails", str(exports / "authdetails.json"), "--out", str(target))
    code, out, _ = run(capsys, "what-can", "user/bob", "-s", str(target), "--format", "json")
    assert json.loads(out)["principal_arn"] == "arn:aws:iam::555555555555:user/ops/bob"


def test_a_malformed_real_snapshot_is_one_line_naming_the_field(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The fixture organization with one mistake each: the whole line the user reads, item names and all.

    The snapshot's classes are dataclasses, for which pydantic words these two problems differently; the loader
    gives the words they always had (policyengine/access/loader.py). The field path names items in brackets
    (``roles[app]``), which the error line must show as text, not read as markup.
    """
    import yaml

    cases = (
        (
            ("keys", 0, "rotation", True),
            "`accounts[222222222222].keys[2222dddd-dddd-dddd-dddd-dddddddddddd].rotation`: extra inputs are not permitted",
        ),
        (
            ("roles", 1, "inline_policies", ["app-policy"]),
            "`accounts[222222222222].roles[app].inline_policies[0]`: input should be a valid dictionary"
            " or instance of InlinePolicy",
        ),
    )
    for number, ((items, index, field, value), expected) in enumerate(cases):
        broken = yaml.safe_load(ORG.read_text(encoding="utf-8"))
        broken["accounts"][1][items][index][field] = value
        path = tmp_path / f"broken{number}.yaml"
        path.write_text(yaml.safe_dump(broken), encoding="utf-8")
        code, out, err = run(capsys, "snapshot", "check", str(path))
        assert (code, out, err) == (1, "", f"error: {path}: {expected}\n")


@pytest.mark.usefixtures("terminal")
def test_progress_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    """On a terminal (FORCE_COLOR stands for one) who-can and the streamed matrix show a progress bar on stderr and
    still answer: rich's live display enters the lazily made console as a context manager (a TypeError before)."""
    code, out, _ = run(capsys, "access-matrix", "-s", str(ORG), "--format", "json", "--processes", "1")
    assert code == 0 and json.loads(out)["counts"]
    code, out, _ = run(capsys, "who-can", "kms:Decrypt", "alias/workload", "-s", str(ORG))
    assert code == 0 and "user/ops" in out
