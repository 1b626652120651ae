"""Real templates (tests/lint/fixtures/realworld, sources in SOURCES.md): intrinsics read as values.

Each template writes its account root with an intrinsic (``!Sub arn:aws:iam::${AWS::AccountId}:root``,
``!Join ['', ['arn:aws:iam::', !Ref 'AWS::AccountId', ':root']]``) and some write ``kms:ViaService``
with ``!Sub s3.${AWS::Region}.amazonaws.com``. None of that is a lockout (PE501), a missing account
statement (PE509), ``kms:*`` to a non-account (PE502), a policy variable in a principal (PE208) or a
malformed ViaService (PE505). Problems planted into copies are still found, on their line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policyengine.lint import LintConfig, run_lint
from policyengine.lint.inputs import read_inputs
from policyengine.lint.inputs.bindings import make_bindings

REALWORLD = Path(__file__).resolve().parent / "fixtures" / "realworld"
INTRINSIC_FALSE_POSITIVES = {"PE501", "PE502", "PE208", "PE505", "PE509"}
TEMPLATES = sorted(p.name for p in REALWORLD.iterdir() if p.suffix in (".yml", ".yaml", ".json", ".template"))


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize("name", TEMPLATES)
def test_intrinsic_account_roots_are_not_findings(name: str) -> None:
    run = run_lint([str(REALWORLD / name)], LintConfig())
    assert run.input_errors == []
    assert run.targets > 0
    wrong = [f for f in run.findings if f.rule_id in INTRINSIC_FALSE_POSITIVES]
    assert wrong == []
    assert not any("\ue000" in f.message or "${Ref:" in f.message for f in run.findings)


def test_planted_unknown_action_is_found_on_its_line(tmp_path: Path) -> None:
    text = (REALWORLD / "s3-replication-destination.yml").read_text()
    planted = text.replace("            - kms:ReEncrypt*\n", "            - kms:ReEncrpyt*\n", 1)
    path = tmp_path / "destination.yml"
    path.write_text(planted)
    run = run_lint([str(path)], LintConfig())
    [found] = [f for f in run.findings if f.rule_id == "PE102"]
    assert found.line == line_of(planted, "kms:ReEncrpyt*")
    assert not [f for f in run.findings if f.rule_id in INTRINSIC_FALSE_POSITIVES]


def test_planted_via_service_without_region_is_found(tmp_path: Path) -> None:
    text = (REALWORLD / "hana-backup-bucket.yaml").read_text()
    planted = text.replace("!Sub 's3.${AWS::Region}.amazonaws.com'", "'s3.amazonaws.com'", 1)
    assert planted != text
    path = tmp_path / "hana.yaml"
    path.write_text(planted)
    run = run_lint([str(path)], LintConfig())
    [found] = [f for f in run.findings if f.rule_id == "PE505"]
    assert found.line == line_of(planted, "'s3.amazonaws.com'")


def test_planted_lockout_is_still_an_error(tmp_path: Path) -> None:
    """Remove the account statement's PutKeyPolicy: with only the source account's use statement left, it is a lockout."""
    text = (REALWORLD / "s3-replication-source.yml").read_text()
    planted = text.replace("Action: kms:*", "Action: kms:Decrypt", 1)
    assert planted != text
    path = tmp_path / "source.yml"
    path.write_text(planted)
    run = run_lint([str(path)], LintConfig())
    assert "PE501" in {f.rule_id for f in run.findings}


def test_parameters_make_unknown_accounts_concrete() -> None:
    """Unknown, the source account is not reported; given with --parameter, it is a cross-account grant (PE402)."""
    path = str(REALWORLD / "s3-replication-destination.yml")
    text = Path(path).read_text()
    quiet = run_lint([path], LintConfig())
    assert "PE402" not in {f.rule_id for f in quiet.findings}
    bound = run_lint([path], LintConfig(), bindings=make_bindings("111122223333", "us-east-1", ["AccountIdSource=444455556666"]))
    cross = [f for f in bound.findings if f.rule_id == "PE402"]
    assert cross and cross[0].line == line_of(text, "arn:aws:iam::${AccountIdSource}:root")
    assert "444455556666" in cross[0].message and "111122223333" in cross[0].message
    assert not [f for f in bound.findings if f.rule_id in INTRINSIC_FALSE_POSITIVES]


UNKNOWN_PRINCIPALS = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Env: {Type: String}
Mappings:
  Admins:
    prod: {Arn: arn:aws:iam::111122223333:role/KeyAdmin}
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Sid: Admins
            Effect: Allow
            Principal:
              AWS:
                - !ImportValue shared-key-admin-role-arn
                - !FindInMap [Admins, !Ref Env, Arn]
            Action: kms:*
            Resource: "*"
          - Sid: Logs
            Effect: Allow
            Principal:
              Service: !Sub logs.${AWS::Region}.${AWS::URLSuffix}
            Action: [kms:Encrypt, kms:Decrypt]
            Resource: "*"
            Condition:
              ArnLike:
                kms:EncryptionContext:aws:logs:arn: !Sub arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:*
"""


def test_imported_and_mapped_principals_are_unknown_not_public(tmp_path: Path) -> None:
    """``!ImportValue`` / ``!FindInMap`` principals are unknown principals: not public, and not a lockout."""
    path = tmp_path / "key.yaml"
    path.write_text(UNKNOWN_PRINCIPALS)
    run = run_lint([str(path)], LintConfig())
    assert run.input_errors == []
    assert {f.rule_id for f in run.findings} & (INTRINSIC_FALSE_POSITIVES | {"PE401", "PE016", "PE007"}) == set()
    # with the parameter given, the mapped admin is a concrete role of another account than the deploying one
    bound = run_lint([str(path)], LintConfig(), bindings=make_bindings(None, None, ["Env=prod"]))
    assert "PE401" not in {f.rule_id for f in bound.findings}


ENDPOINT = """\
Resources:
  Endpoint:
    Type: AWS::EC2::VPCEndpoint
    Properties:
      ServiceName: !Sub com.amazonaws.${AWS::Region}.s3
      VpcId: vpc-1
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: "*"
            Action: s3:GetObject
            Resource: "*"
            Condition:
              StringEquals:
                aws:ResourceAccount: !Ref AWS::AccountId
"""


def test_vpc_endpoint_policy_is_read_as_an_endpoint_policy(tmp_path: Path) -> None:
    """``Principal: "*"`` in an endpoint policy is every caller through the endpoint (VPC UG, endpoint policies)."""
    path = tmp_path / "endpoint.yaml"
    path.write_text(ENDPOINT)
    found = read_inputs([str(path)])
    assert [(t.owner, t.policy_type) for t in found.targets] == [("Endpoint", "endpoint")] and found.not_read == []
    assert "PE401" not in {f.rule_id for f in run_lint([str(path)], LintConfig()).findings}


def test_policy_in_a_yaml_string_is_located_at_the_string(tmp_path: Path) -> None:
    """A policy written as a JSON string in YAML (iac-model-evaluation's logs.yaml) is reported at that string."""
    path = tmp_path / "logs.yaml"
    path.write_text(
        "Resources:\n  Policy:\n    Type: AWS::Logs::ResourcePolicy\n    Properties:\n"
        '      PolicyName: p\n      PolicyDocument: "{}"\n'
    )
    [found] = [f for f in run_lint([str(path)], LintConfig()).findings if f.rule_id == "PE003"]
    assert (found.line, found.column) == (6, 23)


DOMAIN = """\
Resources:
  Search:
    Type: AWS::OpenSearchService::Domain
    Properties:
      AdvancedSecurityOptions:
        Enabled: {enabled}
        InternalUserDatabaseEnabled: true
      AccessPolicies:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {{AWS: "*"}}
            Action: es:ESHttp*
            Resource: !Sub arn:aws:es:${{AWS::Region}}:${{AWS::AccountId}}:domain/search/*
"""

DOMAIN_TF = """\
resource "aws_opensearch_domain" "search" {{
  domain_name = "search"
  advanced_security_options {{
    enabled                        = {enabled}
    internal_user_database_enabled = true
  }}
  access_policies = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Principal = {{ AWS = "*" }}, Action = "es:ESHttp*", Resource = "*" }}]
  }})
}}
"""


@pytest.mark.parametrize(("name", "source"), [("domain.yaml", DOMAIN), ("main.tf", DOMAIN_TF)])
def test_open_domain_policy_with_fine_grained_access_control_is_not_public(tmp_path: Path, name: str, source: str) -> None:
    """OpenSearch DG, fine-grained access control: AWS recommends an open domain access policy with it enabled."""
    path = tmp_path / name
    path.write_text(source.format(enabled="true"))
    assert "PE401" not in {f.rule_id for f in run_lint([str(path)], LintConfig()).findings}
    path.write_text(source.format(enabled="false"))
    assert "PE401" in {f.rule_id for f in run_lint([str(path)], LintConfig()).findings}


def test_open_domain_policy_in_a_plan(tmp_path: Path) -> None:
    policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"es:*","Resource":"*"}]}'
    values = {"domain_name": "search", "access_policies": policy, "advanced_security_options": [{"enabled": True}]}
    resource = {"address": "aws_opensearch_domain.s", "mode": "managed", "type": "aws_opensearch_domain", "name": "s"}
    plan = {"format_version": "1.2", "planned_values": {"root_module": {"resources": [{**resource, "values": values}]}}}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    assert "PE401" not in {f.rule_id for f in run_lint([str(path)], LintConfig()).findings}
    values["advanced_security_options"] = [{"enabled": False}]
    path.write_text(json.dumps(plan))
    assert "PE401" in {f.rule_id for f in run_lint([str(path)], LintConfig()).findings}
