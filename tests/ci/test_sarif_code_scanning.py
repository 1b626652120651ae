"""SARIF as GitHub code scanning needs it, produced by the CLI on a repository, run from a subdirectory.

What code scanning reads (docs.github.com, "SARIF support for code scanning"): one run per tool with
`tool.driver.name`/`version`/`semanticVersion`; rules with `shortDescription`, `help` and, for rules
tagged `security`, `properties.security-severity` as a number in a string (0.0-10.0: 9.0+ critical,
7.0 high, 4.0 medium, below low); results with `partialFingerprints.primaryLocationLineHash` and a
location whose `artifactLocation.uri` is relative to the repository root (`uriBaseId` `%SRCROOT%`,
defined in `originalUriBaseIds`). The log also validates against the SARIF 2.1.0 schema.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import policyengine as pe
from policyengine.cli.main import main
from policyengine.lint import all_rules
from tests.lint.samples import PUBLIC, key_policy_document

SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "lint" / "fixtures" / "reporting" / "sarif-schema-2.1.0.json").read_text(
        encoding="utf-8"
    )
)
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
SCORE = re.compile(r"^(?:10(?:\.0+)?|\d(?:\.\d+)?)$")

POLICY = key_policy_document(
    PUBLIC,
    {
        "Sid": "App",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"},
        "Action": ["kms:Decrypt", "kms:Encrypt", "kms:DescribeKey", "kms:Decrpyt"],
        "Resource": "*",
    },
)


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[Path, dict[str, Any]]:
    """The SARIF log of linting `infra/keys/` (a bad key policy, a file with a space) from `infra/`."""
    (tmp_path / ".git").mkdir()
    keys = tmp_path / "infra" / "keys"
    keys.mkdir(parents=True)
    (keys / "app key.json").write_text(json.dumps(POLICY, indent=2), encoding="utf-8")
    monkeypatch.chdir(tmp_path / "infra")
    with pytest.raises(SystemExit) as exited:
        main(["lint", "keys", "--format", "sarif"])
    assert exited.value.code == 3
    return tmp_path, json.loads(capsys.readouterr().out)


def test_log_validates_against_the_sarif_schema(log: tuple[Path, dict[str, Any]]) -> None:
    _, sarif = log
    jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER).validate(sarif)
    assert sarif["version"] == "2.1.0" and len(sarif["runs"]) == 1


def test_driver_names_tool_version_and_semantic_version(log: tuple[Path, dict[str, Any]]) -> None:
    driver = log[1]["runs"][0]["tool"]["driver"]
    assert driver["name"] == "policyengine"
    assert driver["version"] == pe.__version__ == driver["semanticVersion"]
    assert SEMVER.match(driver["semanticVersion"])


def test_every_rule_has_descriptions_help_and_a_security_severity_when_tagged_security(log: tuple[Path, dict[str, Any]]) -> None:
    """Each of the linter's rules is described; every security rule (and only those) is tagged `security` with a
    numeric-string score in 0.0-10.0, which GitHub turns into critical/high/medium/low."""
    rules = log[1]["runs"][0]["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} == set(all_rules())
    by_id = all_rules()
    for rule in rules:
        assert rule["shortDescription"]["text"].strip() and len(rule["shortDescription"]["text"]) <= 1024
        assert rule["fullDescription"]["text"].strip()
        assert rule["help"]["text"].strip() and rule["help"]["markdown"].strip()
        properties = rule["properties"]
        assert 1 <= len(properties["tags"]) <= 20 and properties["precision"] in ("very-high", "high", "medium", "low")
        is_security = by_id[rule["id"]].severity == "security"
        assert ("security" in properties["tags"]) == ("security-severity" in properties)
        if is_security:
            assert "security" in properties["tags"]
        if "security-severity" in properties:
            score = properties["security-severity"]
            assert isinstance(score, str) and SCORE.match(score) and 0.0 <= float(score) <= 10.0, (rule["id"], score)


def test_results_are_located_relative_to_the_repository_root(log: tuple[Path, dict[str, Any]]) -> None:
    """Run from `infra/`, the URIs still start at the repository root, percent-encoded, never absolute."""
    root, sarif = log
    run = sarif["runs"][0]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": root.as_uri() + "/"}}
    assert run["results"]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert re.fullmatch(r"[0-9a-f]{32}:\d+", result["partialFingerprints"]["primaryLocationLineHash"])
        [location] = result["locations"]
        artifact = location["physicalLocation"]["artifactLocation"]
        assert artifact == {"uri": "infra/keys/app%20key.json", "uriBaseId": "%SRCROOT%"}
        assert location["physicalLocation"]["region"]["startLine"] >= 1
        assert result["level"] in ("error", "warning", "note")
    fingerprints = [r["partialFingerprints"]["primaryLocationLineHash"] for r in run["results"]]
    assert len(set(fingerprints)) == len(fingerprints)
    assert {"PE401", "PE102"} <= {r["ruleId"] for r in run["results"]}
    assert run["invocations"] == [{"executionSuccessful": True}]


def test_unreadable_files_are_tool_notifications(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file that cannot be read makes the invocation unsuccessful, with a notification naming it."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(["lint", "missing.json", "--format", "sarif"])
    captured = capsys.readouterr()
    sarif = json.loads(captured.out)
    assert exited.value.code == 1
    jsonschema.Draft4Validator(SCHEMA).validate(sarif)
    [invocation] = sarif["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    [note] = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and note["message"]["text"] == "missing.json: no such file"
    assert note["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "missing.json", "uriBaseId": "%SRCROOT%"}
    assert captured.err.endswith("exit 1: 1 file could not be read\n")
