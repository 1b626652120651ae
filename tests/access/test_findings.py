"""External access findings over the fixture organization: zones of trust, archive rules, JSON and SARIF.

What counts as external: IAM UG, "IAM Access Analyzer findings" (a principal outside the zone of trust:
another account, a principal of another account, an AWS service or anyone); with an organization as the
zone, accounts of the same organization are trusted.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from policyengine.access import Access, SnapshotError, external_access, load_archive_rules

from .conftest import ORG
from .test_cli import run

SCHEMA = Path(__file__).parents[1] / "lint" / "fixtures" / "reporting" / "sarif-schema-2.1.0.json"
PAYMENTS = "arn:aws:kms:us-east-1:111111111111:key/1111aaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"


def _index(findings: list[dict[str, object]]) -> dict[tuple[object, object], dict[str, object]]:
    return {(f["key"], f["principal_arn"]): f for f in findings}


def test_account_zone_lists_other_accounts_services_and_conditions(access: Access) -> None:
    """Every outsider that reaches a key is a finding, with allowed actions and the conditions of the others."""
    found = _index(external_access(access, "account").to_json()["findings"])
    audit = found[(PAYMENTS, "arn:aws:iam::333333333333:root")]
    assert audit["kind"] == "account" and audit["allowed"] == []
    (condition,) = audit["conditional"]
    assert condition["actions"] == ["kms:Decrypt", "kms:DescribeKey"] and "aws:SecureTransport" in condition["condition"]
    assert condition["condition_tree"]
    kinds = {f["kind"] for f in found.values()}
    assert {"account", "principal", "service"} <= kinds
    assert all(f["principal_account"] != "111111111111" for f in found.values() if f["kind"] != "service")


def test_organization_zone_trusts_member_accounts(access: Access) -> None:
    """With the organization as the zone, principals of its accounts are no findings; outsiders and services are."""
    found = external_access(access, "organization").to_json()["findings"]
    accounts = {f["principal_account"] for f in found if f["kind"] in ("account", "principal")}
    assert accounts and not accounts & {"111111111111", "222222222222", "333333333333"}
    assert any(f["kind"] == "service" for f in found)


def test_archive_rules_keep_intended_access_quiet(access: Access, tmp_path: Path) -> None:
    """A rule whose every criterion matches archives a finding; an actions list must cover all its actions."""
    rules = tmp_path / "archive.yaml"
    rules.write_text(
        "rules:\n"
        "  - name: auditors\n    principal: 'arn:aws:iam::333333333333:*'\n    actions: [kms:Decrypt, kms:Describe*]\n"
        "  - name: too narrow\n    kind: service\n    actions: [kms:Encrypt]\n"
    )
    result = external_access(access, "account", load_archive_rules(rules))
    archived = {(f.subject.arn, f.archived_by) for f in result.archived}
    assert ("arn:aws:iam::333333333333:root", "auditors") in archived
    assert not any(f.subject.account == "333333333333" for f in result.active)
    assert any(f.kind == "service" for f in result.active)  # Encrypt alone does not cover GenerateDataKey...
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - princpal: x\n")
    with pytest.raises(SnapshotError, match=r"rules\[0\]\.princpal"):
        load_archive_rules(bad)


def test_findings_command_formats_and_exit_codes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Text, JSON and SARIF (valid against the SARIF 2.1.0 schema); exit 3 with active findings, 0 when all archived."""
    code, out, _ = run(capsys, "findings", "-s", str(ORG))
    assert code == 3 and "ACCOUNT arn:aws:iam::333333333333:root" in out and "findings outside the account zone" in out
    code, out, _ = run(capsys, "findings", "-s", str(ORG), "--format", "sarif")
    log = json.loads(out)
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    assert code == 3 and {r["ruleId"] for r in log["runs"][0]["results"]} <= {"PEA001", "PEA002"}
    everything = tmp_path / "all.yaml"
    everything.write_text("rules:\n  - name: all of it\n    key: '*'\n")
    code, out, _ = run(capsys, "findings", "-s", str(ORG), "--archive-rules", str(everything), "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["counts"]["active"] == 0 and data["counts"]["archived"] > 0
