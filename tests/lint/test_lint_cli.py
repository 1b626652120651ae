"""`policyengine lint` end to end: formats, exit codes, config, baseline, suppression, explain."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from tests.lint.samples import PUBLIC_KEY_POLICY as BAD_KEY_POLICY
from tests.lint.samples import run


@pytest.fixture
def bad_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "key.json"
    path.write_text(json.dumps(BAD_KEY_POLICY, indent=2))
    return path


def test_text_output_and_fail_on(bad_policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A public key policy is a security finding, which ranks above error: every --fail-on fails on it,
    the default included; the last line says why the run exits as it does."""
    code, out, _ = run(["lint", "key.json"], capsys)
    assert code == 3
    assert "key.json:16:20: security PE401" in out
    for threshold in ("security", "error", "warning", "suggestion"):
        assert run(["lint", "key.json", "--fail-on", threshold], capsys)[0] == 3
    code, out, _ = run(["lint", "key.json", "--ignore", "PE401"], capsys)
    assert code == 0 and out.endswith("exit 0: no findings at or above `warning` (--fail-on)\n")


def test_sarif_output(bad_policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--format sarif prints a SARIF 2.1.0 log with the rule and a located result."""
    code, out, _ = run(["lint", "key.json", "--format", "sarif"], capsys)
    log = json.loads(out)
    assert code == 3 and log["version"] == "2.1.0"
    result = log["runs"][0]["results"][0]
    assert result["ruleId"] == "PE401"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 16


def test_select_ignore_and_config(bad_policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--ignore silences a rule; pyproject's [tool.policyengine.lint] is found and applied."""
    code, out, _ = run(["lint", "key.json", "--ignore", "PE401", "--format", "json"], capsys)
    assert code == 0 and json.loads(out)["findings"] == []
    Path("pyproject.toml").write_text('[tool.policyengine.lint]\nignore = ["security"]\n')
    code, out, _ = run(["lint", "key.json", "--format", "json"], capsys)
    assert code == 0 and json.loads(out)["findings"] == []
    Path("pyproject.toml").write_text('[tool.policyengine.lint]\nignroe = ["security"]\n')
    code, _, err = run(["lint", "key.json"], capsys)
    assert code == 1 and "unknown key `ignroe`" in err


def test_sid_suppression(bad_policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A statement whose Sid says policyengine:ignore=PE401 is not reported for PE401."""
    policy = json.loads(bad_policy.read_text())
    policy["Statement"][1]["Sid"] = "Everyone policyengine:ignore=PE401"
    bad_policy.write_text(json.dumps(policy, indent=2))
    code, out, _ = run(["lint", "key.json", "--format", "json"], capsys)
    assert code == 0 and json.loads(out)["findings"] == []


def test_baseline_keeps_old_findings_quiet(bad_policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """After --write-baseline, the same findings (even moved down a line) are not reported; new ones are."""
    code, _, _ = run(["lint", "key.json", "--write-baseline", "baseline.json"], capsys)
    assert code == 0 and Path("baseline.json").is_file()
    bad_policy.write_text("\n" + bad_policy.read_text())
    code, out, _ = run(["lint", "key.json", "--baseline", "baseline.json", "--format", "json"], capsys)
    assert code == 0 and json.loads(out)["findings"] == []
    policy = json.loads(bad_policy.read_text())
    policy["Statement"].append(
        {"Sid": "Wide", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Encrypt", "Resource": "*"}
    )
    bad_policy.write_text(json.dumps(policy, indent=2))
    code, out, _ = run(["lint", "key.json", "--baseline", "baseline.json", "--format", "json"], capsys)
    assert code == 3 and [f["statement"] for f in json.loads(out)["findings"]] == ["Wide"]


def test_input_errors_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A file given explicitly that is not a policy, template, plan or export is an input error (exit 1)."""
    monkeypatch.chdir(tmp_path)
    Path("package.json").write_text('{"name": "app"}')
    code, _, err = run(["lint", "package.json"], capsys)
    assert code == 1 and "package.json" in err


def test_directory_of_examples(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Linting the examples finds every broken example and stays quiet on the default key policy."""
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["lint", "examples", "--format", "json"], capsys)
    files = {f["file"] for f in json.loads(out)["findings"]}
    assert code == 3
    assert {f"examples/broken/{p.name}" for p in (EXAMPLES / "broken").glob("*.json")} <= files
    assert "examples/default-key-policy.json" not in files


def test_explain_rule(capsys: pytest.CaptureFixture[str]) -> None:
    """--explain shows a rule's summary with its bad and fixed examples."""
    code, out, _ = run(["lint", "--explain", "PE501"], capsys)
    assert code == 0 and "lockout-risk" in out and "fixed:" in out


NOT_READ_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Vault:
    Type: AWS::Backup::BackupVault
    Properties:
      BackupVaultName: vault
      AccessPolicy:
        Version: "2012-10-17"
        Statement:
          - Effect: Deny
            Principal: "*"
            Action: backup:DeleteRecoveryPoint
            Resource: "*"
  Thing:
    Type: AWS::IoT::Policy
    Properties:
      PolicyName: things
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: iot:Connect
            Resource: "*"
"""


def test_policies_not_read_are_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Backup vault's access policy is read; an IoT policy is listed as not read, in text and JSON."""
    monkeypatch.chdir(tmp_path)
    Path("stack.yaml").write_text(NOT_READ_TEMPLATE)
    code, out, _ = run(["lint", "stack.yaml", "--format", "json"], capsys)
    report = json.loads(out)
    assert code == 0 and report["findings"] == []
    assert report["not_read"] == [
        {
            "file": "stack.yaml",
            "line": 19,
            "where": "Thing PolicyDocument (AWS::IoT::Policy)",
            "reason": "IoT policies are a different language from IAM policies",
        }
    ]
    code, out, _ = run(["lint", "stack.yaml"], capsys)
    assert "not read (1)" in out and "stack.yaml:19: Thing PolicyDocument (AWS::IoT::Policy)" in out


def test_unreadable_file_never_says_no_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("broken.yaml").write_text("Resources: [\n")
    code, out, err = run(["lint", "broken.yaml"], capsys)
    assert code == 1 and "broken.yaml" in err
    assert "no findings" not in out and "1 file could not be read" in out


def test_account_region_parameter_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--parameter`` is repeatable and says so; a wrong ``--account`` is a usage error naming the option."""
    code, out, _ = run(["lint", "--help"], capsys)
    assert "--parameter NAME=VALUE" in out and "repeat" in out
    monkeypatch.chdir(tmp_path)
    Path("stack.yaml").write_text(NOT_READ_TEMPLATE)
    code, _, err = run(["lint", "stack.yaml", "--account", "12"], capsys)
    assert code == 1 and "--account" in err  # usage errors exit 1, as the command's help says
    code, _, _ = run(["lint", "stack.yaml", "--account", "111122223333", "--region", "eu-west-1", "--parameter", "A=b"], capsys)
    assert code == 0


def test_nested_policies_of_unread_types_are_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A DynamoDB table's ``ResourcePolicy.PolicyDocument`` sits one level down: still listed as not read."""
    monkeypatch.chdir(tmp_path)
    Path("table.yaml").write_text(
        "Resources:\n  Table:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      ResourcePolicy:\n"
        "        PolicyDocument:\n          Statement:\n            - Effect: Allow\n              Principal: '*'\n"
        "              Action: dynamodb:GetItem\n              Resource: '*'\n"
    )
    code, out, _ = run(["lint", "table.yaml", "--format", "json"], capsys)
    assert code == 0
    assert [n["where"] for n in json.loads(out)["not_read"]] == ["Table ResourcePolicy (AWS::DynamoDB::Table)"]


@pytest.mark.usefixtures("terminal")
def test_no_color_turns_colour_off_on_a_terminal(
    bad_policy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal (FORCE_COLOR stands for one here) the report and input errors are coloured and a progress
    bar runs while several paths are read; NO_COLOR (https://no-color.org) turns the colour off, as it does for
    every other command's output. (The progress bar entered its lazily made console as a context manager, which
    raised TypeError on every terminal before.)"""
    missing = str(tmp_path / "missing.json")
    code, out, err = run(["lint", "key.json", missing], capsys)
    assert code == 1 and "\x1b[" in out and f"{missing}: error:" not in err and "\x1b[31merror" in err
    monkeypatch.setenv("NO_COLOR", "1")
    code, out, err = run(["lint", "key.json", missing], capsys)
    assert code == 1 and "\x1b[" not in out and f"{missing}: error:" in err
    assert "key.json:16:20: security PE401" in out
