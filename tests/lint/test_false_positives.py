"""False alarms the real-world corpus showed, each pinned with a bad and a good example.

Each group names the AWS page that says what is right. The corpus itself is measured in
``test_corpus_precision.py``; these are the small cases that say why.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policyengine.lint.config import LintConfig
from policyengine.lint.finding import Finding, PolicyType
from policyengine.lint.inputs import read_inputs
from policyengine.lint.inputs.policy import path_hint
from policyengine.lint.run import run_lint

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ROOT = {
    "Sid": "Root",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
    "Action": "kms:*",
    "Resource": "*",
}


def lint_file(path: Path, policy_type: PolicyType | None = None) -> list[Finding]:
    return run_lint([str(path)], LintConfig(), policy_type=policy_type).findings


def lint_policy(tmp_path: Path, policy: dict[str, object], name: str = "policy.json") -> list[Finding]:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(policy, indent=2))
    return lint_file(path)


def rules_of(findings: list[Finding], at_least_warning: bool = True) -> set[str]:
    return {f.rule_id for f in findings if not at_least_warning or f.severity != "suggestion"}


def policy(*statements: dict[str, object], **extra: object) -> dict[str, object]:
    return {"Version": "2012-10-17", **extra, "Statement": list(statements)}


# --- identity-provider and global condition keys ----------------------------------------------------
# IAM UG, "IAM and AWS STS condition context keys": "Available keys for AWS web identity federation"
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif:
# "the name of the OIDC provider followed by the claim (:aud, :azp, :amr, sub)") and "Available keys for
# SAML-based AWS STS federation" (#condition-keys-saml: saml:aud, saml:sub, saml:sub_type, ...).


def _trust(condition: dict[str, object], provider: str = "arn:aws:iam::111122223333:oidc-provider/x") -> dict[str, object]:
    action = "sts:AssumeRoleWithSAML" if "saml" in json.dumps(condition).lower() else "sts:AssumeRoleWithWebIdentity"
    return policy({"Effect": "Allow", "Principal": {"Federated": provider}, "Action": action, "Condition": condition})


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}},
        {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:octo-org/*"}},
        {"StringEquals": {"token.actions.githubusercontent.com:repository_owner_id": "1234"}},
        {"StringEquals": {"accounts.google.com:aud": "app.apps.googleusercontent.com", "accounts.google.com:oaud": "x"}},
        {"ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"}},
        {"StringEquals": {"graph.facebook.com:id": "123", "www.amazon.com:app_id": "amzn1.application.x"}},
        {
            "StringEquals": {
                "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub": "system:serviceaccount:a:b"
            }
        },
        {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml", "saml:sub_type": "persistent"}},
    ],
)
def test_identity_provider_keys_are_condition_keys(tmp_path: Path, condition: dict[str, object]) -> None:
    found = lint_policy(tmp_path, _trust(condition))
    assert not rules_of(found) & {"PE103", "PE104", "PE302"}, found


@pytest.mark.parametrize(
    ("key", "suggested"),
    [
        ("token.actions.githubusercontent.com:subb", "token.actions.githubusercontent.com:sub"),
        ("saml:audd", "saml:aud"),
    ],
)
def test_misspelt_identity_provider_keys_are_reported_with_a_suggestion(tmp_path: Path, key: str, suggested: str) -> None:
    found = [f for f in lint_policy(tmp_path, _trust({"StringEquals": {key: "x"}})) if f.rule_id == "PE103"]
    assert len(found) == 1 and found[0].suggestion == f"did you mean `{suggested}`?"


def test_placeholder_provider_is_still_unknown(tmp_path: Path) -> None:
    """A sample's `<OIDC_provider_name>:sub` placeholder names no provider: still reported."""
    found = lint_policy(tmp_path, _trust({"StringEquals": {"<OIDC_provider_name>:sub": "x"}}))
    assert "PE103" in rules_of(found)


def test_aws_source_owner_is_a_known_global_key(tmp_path: Path) -> None:
    """AWS's default SNS topic policy tests AWS:SourceOwner.

    awsdocs/iam-user-guide#111: AWS keeps it working and names aws:SourceAccount its replacement.
    """
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "SNS:Publish",
        "Resource": "arn:aws:sns:us-east-1:111122223333:topic",
        "Condition": {"StringEquals": {"AWS:SourceOwner": "111122223333"}},
    }
    assert "PE103" not in rules_of(lint_policy(tmp_path, policy(statement)))


# --- "did you mean" for condition keys, as for actions ----------------------------------------------


@pytest.mark.parametrize(
    ("key", "suggested"),
    [
        ("kms:ViaServce", "kms:ViaService"),
        ("kms:EncryptionContex:tenant", "kms:EncryptionContext:tenant"),
        ("aws:PrincipalTags/team", "aws:PrincipalTag/team"),
        ("kmss:CallerAccount", "kms:CallerAccount"),
    ],
)
def test_unknown_condition_key_suggests_the_closest_key(tmp_path: Path, key: str, suggested: str) -> None:
    statement = {**ROOT, "Sid": "Use", "Action": "kms:Decrypt", "Condition": {"StringEquals": {key: "x"}}}
    found = [f for f in lint_policy(tmp_path, policy(ROOT, statement)) if f.rule_id == "PE103"]
    assert len(found) == 1 and found[0].suggestion == f"did you mean `{suggested}`?", found


# --- which kind of policy a standalone file is ------------------------------------------------------


def _types(tmp_path: Path, document: dict[str, object], name: str = "policy.json") -> PolicyType:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    targets = read_inputs([str(path)]).targets
    return targets[0].policy_type


# Organizations UG, "Resource control policies (RCPs)": Deny-only, Principal must be "*".
RCP = policy(
    {
        "Sid": "EnforceOrgIdentities",
        "Effect": "Deny",
        "Principal": "*",
        "Action": ["s3:*", "sqs:*", "kms:*", "secretsmanager:*", "sts:AssumeRole"],
        "Resource": "*",
        "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abcdef1234"}},
    }
)
# VPC UG (PrivateLink), "Control access to VPC endpoints using endpoint policies".
ENDPOINT = policy(
    {
        "Sid": "Org",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "*",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abcdef1234"}},
    },
    {
        "Sid": "Services",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "*",
        "Resource": "*",
        "Condition": {"Bool": {"aws:PrincipalIsAWSService": "true"}},
    },
    {
        "Sid": "AwsOwned",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::amazonlinux.us-east-1.amazonaws.com/*",
    },
)


def test_deny_only_resource_control_policy_is_not_a_key_policy(tmp_path: Path) -> None:
    assert _types(tmp_path, RCP) == "rcp"
    assert not rules_of(lint_policy(tmp_path, RCP)) & {"PE501", "PE509"}


def test_deny_only_bucket_policy_stays_a_resource_policy(tmp_path: Path) -> None:
    bucket = policy(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::reports", "arn:aws:s3:::reports/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )
    assert _types(tmp_path, bucket) == "resource"


def test_endpoint_policy_is_not_reported_public(tmp_path: Path) -> None:
    assert _types(tmp_path, ENDPOINT) == "endpoint"
    assert "PE401" not in rules_of(lint_policy(tmp_path, ENDPOINT))


def test_public_bucket_policy_is_still_public(tmp_path: Path) -> None:
    bucket = policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/*"})
    assert _types(tmp_path, bucket) == "resource"
    assert "PE401" in rules_of(lint_policy(tmp_path, bucket))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("service_control_policies/deny-leave.json", "scp"),
        ("org/SCPs/Guardrails-Part1.json", "scp"),
        ("scp-region-lock.json", "scp"),
        ("resource-control-policies/confused-deputy.json", "rcp"),
        ("identity_perimeter_rcp.json", "rcp"),
        ("vpc-endpoint-policies/default.json", "endpoint"),
        ("iam-policies/boundary-policy.json", "boundary"),
        ("policies/app-role.json", None),
        ("/home/me/scp-tools/src/policies/app-role.json", None),
        ("scopes/describe.json", None),
    ],
)
def test_path_names_the_policy_type(path: str, expected: PolicyType | None) -> None:
    assert path_hint(path) == expected


def test_allow_list_scp_in_an_scp_folder_is_not_an_admin_identity_policy(tmp_path: Path) -> None:
    """FullAWSAccess in an SCP folder is an SCP; as an identity policy it would be full admin (PE404)."""
    full = policy({"Effect": "Allow", "Action": "*", "Resource": "*"})
    assert _types(tmp_path, full, "scps/FullAWSAccess.json") == "scp"
    assert "PE404" not in rules_of(lint_policy(tmp_path, full, "scps/FullAWSAccess.json"))
    assert "PE404" in rules_of(lint_policy(tmp_path, full, "a/b/roles/admin.json"))


def test_path_hint_must_fit_the_shape(tmp_path: Path) -> None:
    """A key policy kept in a folder called scps is still a key policy: SCPs have no principal."""
    assert _types(tmp_path, policy(ROOT), "scps/key.json") == "key"


def test_scp_over_the_limit_only_with_whitespace_is_a_warning(tmp_path: Path) -> None:
    """Organizations counts whitespace only for the CLI and SDKs (Organizations UG, quotas for policies)."""
    statement = {"Effect": "Deny", "Action": [f"ec2:Action{i:04d}" for i in range(180)], "Resource": "*"}
    document = policy(statement)
    path = tmp_path / "scps" / "big.json"
    path.parent.mkdir()
    path.write_text(json.dumps(document, indent=8))
    compact = len(json.dumps(document, separators=(",", ":")))
    assert compact < 5120 < len(path.read_text())
    found = [f for f in lint_file(path) if f.rule_id == "PE018"]
    assert [f.severity for f in found] == ["warning"] and "minify" in (found[0].suggestion or "")
    path.write_text(json.dumps(policy({**statement, "Action": [f"ec2:Action{i:04d}" for i in range(400)]})))
    assert [f.severity for f in lint_file(path) if f.rule_id == "PE018"] == ["error"]


# --- AWS's own policies ---------------------------------------------------------------------------------


def test_aws_managed_key_policy_has_no_lockout() -> None:
    """Customers cannot change an AWS managed key's policy (KMS DG, "AWS managed keys"), so there is no lockout."""
    assert "PE501" not in rules_of(lint_file(EXAMPLES / "aws-managed-key-policy.json"))


def test_customer_copy_of_a_managed_key_policy_is_linted_for_lockout(tmp_path: Path) -> None:
    document = json.loads((EXAMPLES / "aws-managed-key-policy.json").read_text())
    document["Id"] = "my-copy"
    assert "PE501" in rules_of(lint_policy(tmp_path, document))


@pytest.mark.parametrize("name", ["console-key-policy.json", "default-key-policy.json", "aws-managed-key-policy.json"])
def test_aws_default_key_policies_lint_clean_at_warning_level(name: str) -> None:
    """The console's default policy (KMS DG, "Default key policy"), the default policy and a managed key's policy."""
    assert not rules_of(lint_file(EXAMPLES / name)), lint_file(EXAMPLES / name)


def test_key_administrators_create_star_is_a_suggestion_to_narrow_it() -> None:
    found = [f for f in lint_file(EXAMPLES / "console-key-policy.json") if f.rule_id == "PE504"]
    assert [f.severity for f in found] == ["suggestion"]
    assert "kms:CreateAlias instead of `kms:Create*`" in (found[0].suggestion or "")
    assert "Condition" not in (found[0].suggestion or "").split("(")[0]


ADMINS = ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*", "kms:Disable*"]


@pytest.mark.parametrize(
    ("actions", "principal", "severity"),
    [
        (ADMINS, "arn:aws:iam::111122223333:role/KeyAdmin", "suggestion"),
        ([*ADMINS, "kms:CreateGrant"], "arn:aws:iam::111122223333:role/KeyAdmin", "warning"),  # named explicitly
        ([*ADMINS, "kms:Decrypt"], "arn:aws:iam::111122223333:role/KeyAdmin", "warning"),  # not only an administrator
        (["kms:Decrypt", "kms:CreateGrant"], "arn:aws:iam::111122223333:role/App", "warning"),  # a key user
        (
            ["kms:Decrypt", "kms:CreateGrant"],
            "arn:aws:iam::111122223333:role/aws-service-role/lakeformation.amazonaws.com/AWSServiceRoleForLakeFormationDataAccess",
            None,
        ),
        (["kms:Decrypt", "kms:CreateGrant"], "logs.us-east-1.amazonaws.com", None),  # a service: PE403's concern
    ],
)
def test_create_grant_severity(tmp_path: Path, actions: list[str], principal: str, severity: str | None) -> None:
    kind = "Service" if principal.endswith(".amazonaws.com") else "AWS"
    statement = {"Sid": "S", "Effect": "Allow", "Principal": {kind: principal}, "Action": actions, "Resource": "*"}
    found = [f.severity for f in lint_policy(tmp_path, policy(ROOT, statement)) if f.rule_id == "PE504"]
    assert found == ([severity] if severity else [])


def _export(arn: str, document: dict[str, object]) -> dict[str, object]:
    return {
        "UserDetailList": [],
        "Policies": [
            {
                "PolicyName": arn.rsplit("/", 1)[1],
                "Arn": arn,
                "AttachmentCount": 1,
                "PermissionsBoundaryUsageCount": 0,
                "DefaultVersionId": "v3",
                "PolicyVersionList": [{"Document": document, "VersionId": "v3", "IsDefaultVersion": True}],
            }
        ],
    }


def test_aws_managed_policies_in_an_export_are_linted_for_what_they_grant(tmp_path: Path) -> None:
    """An AWS managed policy is AWS's text: no size quota or catalog findings, but what it grants still shows."""
    big = policy(
        {"Effect": "Allow", "Action": [f"codestar:Describe{i:03d}" for i in range(400)], "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
    )
    aws = rules_of(lint_policy(tmp_path, _export("arn:aws:iam::aws:policy/ReadOnlyAccess", big), "aws.json"))
    mine = rules_of(lint_policy(tmp_path, _export("arn:aws:iam::111122223333:policy/ReadOnlyAccess", big), "mine.json"))
    assert aws == {"PE406"}
    assert {"PE018", "PE101", "PE406"} <= mine


# --- text output for a policy held on one line ----------------------------------------------------------


def test_text_report_shows_the_statement_of_a_one_line_policy(tmp_path: Path) -> None:
    """A Terraform plan holds each policy as one JSON string: show the statement, not the whole line."""
    from policyengine.lint.reporters.text import render_text

    statements = [
        {"Sid": f"Read{i}", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": f"arn:aws:s3:::bucket-{i}/*"}
        for i in range(20)
    ]
    statements.append({"Sid": "Everything", "Effect": "Allow", "Action": ["ec2:*"], "Resource": "*"})
    document = json.dumps(policy(*statements), indent=2)
    plan = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "resources": [
                    {"address": "aws_iam_policy.app", "type": "aws_iam_policy", "name": "app", "values": {"policy": document}}
                ]
            }
        },
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    run = run_lint([str(path)], LintConfig())
    found = [f for f in run.findings if f.rule_id == "PE406"]
    block = render_text(found, texts=run.texts, color=False).split("\n")
    source, carets = block[1], block[2]
    assert len(path.read_text().splitlines()[0]) > 2000 and len(source) < 200, source
    assert '{ "Sid": "Everything", "Effect": "Allow", "Action": [ "ec2:*" ], "Resource": "*" }' in source
    assert source[carets.index("^") : len(carets)] == '"ec2:*"'


# --- statements files merged into a policy elsewhere -------------------------------------------------
# A whole key policy names someone who can change it: KMS refuses one that does not unless the lockout
# check is bypassed (KMS DG, "Default key policy": "allows the account ... to manage the key"). A file
# that only lets services in, or that holds a template's intrinsics, is a set of statements a macro or
# an installer merges into a policy of its own (awslabs/aws-cloudformation-templates MergeStatements,
# Landing Zone Accelerator's key policy files).

LOGS_ONLY = {
    "Sid": "Logs",
    "Effect": "Allow",
    "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
    "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"],
    "Resource": "*",
    "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:111122223333:*"}},
}


def test_services_only_key_statements_file_is_a_fragment(tmp_path: Path) -> None:
    whole_document = {"PE011", "PE501", "PE509"}
    assert rules_of(lint_policy(tmp_path, policy(LOGS_ONLY))) & whole_document == set()
    # named a key policy, the same file is judged whole: nobody could change the key
    path = tmp_path / "policy.json"
    assert {"PE501", "PE509"} <= rules_of(lint_file(path, "key"))
    # a key policy naming an IAM principal is a whole policy even without --policy-type
    admin = {**LOGS_ONLY, "Sid": "Admin", "Principal": {"AWS": "arn:aws:iam::111122223333:role/Admin"}, "Condition": {}}
    del admin["Condition"]
    assert "PE501" in rules_of(lint_policy(tmp_path, policy(admin)))


def test_intrinsics_in_a_policy_file_are_values(tmp_path: Path) -> None:
    """``{"Fn::Sub": ...}`` and ``{"Ref": ...}`` in a statements file are evaluated, not type errors."""
    statement = {
        "Sid": "ViaS3",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": ["kms:Encrypt", "kms:Decrypt"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {
                "kms:CallerAccount": {"Ref": "AWS::AccountId"},
                "kms:ViaService": {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"},
            }
        },
    }
    findings = lint_policy(tmp_path, {"Statement": [statement]})
    assert rules_of(findings) == set(), [f.message for f in findings]
    admins = {"Sid": "Admins", "Effect": "Allow", "Principal": {"AWS": {"Ref": "KeyAdmins"}}, "Action": "kms:*", "Resource": "*"}
    assert rules_of(lint_policy(tmp_path, {"Statement": [admins]})) & {"PE008", "PE401", "PE501"} == set()


# --- callers limited to AWS services ---------------------------------------------------------------------
# IAM UG, global condition keys, aws:PrincipalIsAWSService: true only when the call is made directly by an
# AWS service principal, so no IAM user or role of another account satisfies it (the data perimeter
# endpoint policies allow AWS services this way).


def test_principal_is_aws_service_limits_the_caller(tmp_path: Path) -> None:
    everyone = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    services = {**everyone, "Condition": {"Bool": {"aws:PrincipalIsAWSService": "true"}}}
    assert "PE401" not in rules_of(lint_policy(tmp_path, policy(services)))
    assert "PE401" in rules_of(lint_policy(tmp_path, policy(everyone)))
    negated = {**everyone, "Condition": {"Bool": {"aws:PrincipalIsAWSService": "false"}}}
    assert "PE401" in rules_of(lint_policy(tmp_path, policy(negated)))


# --- the catalog read as AWS means it -----------------------------------------------------------------
# Service Authorization Reference: Elastic Load Balancing and Elastic Load Balancing V2 share the
# elasticloadbalancing prefix (V2's AddTags acts on target groups and listeners); Secrets Manager lists
# `secretsmanager:ResourceTag/tag-key` with the literal placeholder `tag-key`.


def test_elb_v2_resources_are_not_a_mismatch(tmp_path: Path) -> None:
    statement = {
        "Effect": "Allow",
        "Action": ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
        "Resource": ["arn:aws:elasticloadbalancing:*:*:targetgroup/*/*", "arn:aws:elasticloadbalancing:*:*:listener/net/*/*/*"],
    }
    assert "PE105" not in rules_of(lint_policy(tmp_path, policy(statement)))
    # a service with one description per action still gets the check
    assert "PE105" in rules_of(lint_policy(tmp_path, policy({**statement, "Action": "kms:Decrypt"})))


def test_tag_key_placeholder_of_the_reference(tmp_path: Path) -> None:
    statement = {
        "Effect": "Allow",
        "Action": "secretsmanager:DeleteSecret",
        "Resource": "*",
        "Condition": {"StringEquals": {"secretsmanager:ResourceTag/managed-by": "external-secrets"}},
    }
    assert "PE104" not in rules_of(lint_policy(tmp_path, policy(statement)))


def test_caller_credential_keys_apply_to_every_action(tmp_path: Path) -> None:
    """ssm:SourceInstanceARN is on every request signed with hybrid-activation credentials (SSM UG)."""
    statement = {
        "Effect": "Allow",
        "Action": "ssm:DescribeInstanceInformation",
        "Resource": "*",
        "Condition": {"ArnLike": {"ssm:SourceInstanceARN": "arn:aws:ssm:*:*:managed-instance/*"}},
    }
    assert "PE104" not in rules_of(lint_policy(tmp_path, policy(statement)))
    kms_only = {**statement, "Condition": {"StringEquals": {"kms:EncryptionContext:app": "x"}}}
    assert "PE104" in rules_of(lint_policy(tmp_path, policy(kms_only)))


# --- sizes of policies written in Terraform ---------------------------------------------------------
# IAM UG, quotas: managed policies 6,144 characters and role trust policies 2,048, whitespace excluded. A
# data source is measured as the JSON it renders, not as its HCL text; unknown values count as nothing.


def test_terraform_document_is_measured_as_the_json_it_renders(tmp_path: Path) -> None:
    comment = "# " + "x" * 100 + "\n"
    statements = "".join(
        f'{comment}  statement {{\n    sid = "S{i}"\n    actions = ["s3:GetObject"]\n'
        f'    resources = ["arn:aws:s3:::${{var.bucket}}/{i}/*"]\n  }}\n'
        for i in range(60)
    )
    policy_resource = 'resource "aws_iam_policy" "p" {\n  policy = data.aws_iam_policy_document.p.json\n}\n'
    source = f'data "aws_iam_policy_document" "p" {{\n{statements}}}\n\n{policy_resource}'
    path = tmp_path / "main.tf"
    path.write_text(source)
    assert len("".join(source.split())) > 6144  # the HCL text is over the limit, the policy is not
    assert "PE018" not in rules_of(lint_file(path))
    big = source.replace("/*", "/" + "k" * 60 + "/*")
    path.write_text(big)
    assert "PE018" in rules_of(lint_file(path))


# --- principals and keys AWS accepts ---------------------------------------------------------------------
# CloudFront DG, "Restrict access to an Amazon S3 origin" (legacy origin access identity): S3 bucket policies
# name an OAI as arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity <id>. AWS's data perimeter
# examples (aws-samples/data-perimeter-policy-examples) use aws:VpceAccount and aws:VpceOrgID.


def test_cloudfront_origin_access_identity_is_a_principal(tmp_path: Path) -> None:
    oai = "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHAPOMQZL"
    statement = {"Effect": "Allow", "Principal": {"AWS": oai}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/*"}
    found = rules_of(lint_policy(tmp_path, policy(statement)))
    assert "PE021" not in found and "PE401" not in found
    bare = {**statement, "Principal": {"AWS": "WebsiteRole"}}
    assert "PE021" in rules_of(lint_policy(tmp_path, policy(bare)))


def test_a_variable_in_a_principal_is_reported_once(tmp_path: Path) -> None:
    """``${ACCOUNT_ID}`` in a principal is PE208 (variables are not allowed there), not also PE021."""
    statement = {**ROOT, "Principal": {"AWS": "arn:aws:iam::${ACCOUNT_ID}:root"}}
    found = rules_of(lint_policy(tmp_path, policy(statement)))
    assert "PE208" in found and "PE021" not in found


def test_vpc_endpoint_owner_keys_are_known(tmp_path: Path) -> None:
    statement = {
        "Effect": "Deny",
        "Action": "s3:*",
        "Resource": "*",
        "Condition": {"StringNotEqualsIfExists": {"aws:VpceOrgID": "o-abc123def4", "aws:VpceAccount": "111122223333"}},
    }
    assert "PE103" not in rules_of(lint_policy(tmp_path, policy(statement)))


def test_zonal_shift_on_an_eks_cluster_is_not_a_mismatch(tmp_path: Path) -> None:
    """ARC zonal shift manages EKS clusters (ARC API reference, ManagedResourceSummary); the reference lists only ELBs."""
    statement = {
        "Effect": "Allow",
        "Action": "arc-zonal-shift:GetManagedResource",
        "Resource": "arn:aws:eks:us-east-1:111122223333:cluster/app",
    }
    assert "PE105" not in rules_of(lint_policy(tmp_path, policy(statement)))
    assert "PE105" in rules_of(lint_policy(tmp_path, policy({**statement, "Resource": "arn:aws:s3:::bucket"})))


def test_the_account_by_its_id_is_not_a_key_administrator_who_can_use_the_key(tmp_path: Path) -> None:
    """``"AWS": !Ref AWS::AccountId`` (an account id) is the account root, as the default key policy names it."""
    by_id = {**ROOT, "Principal": {"AWS": "111122223333"}}
    found = rules_of(lint_policy(tmp_path, policy(by_id)))
    assert "PE503" not in found and "PE504" not in found
    role = {**ROOT, "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}}
    assert "PE503" in rules_of(lint_policy(tmp_path, policy(ROOT, role)))


# --- the data perimeter pattern ----------------------------------------------------------------------
# AWS's data perimeter examples allow `*` for some role names and deny every caller outside the
# organization in the same policy (Deny + StringNotEquals aws:PrincipalOrgID): the Deny limits who calls.


def test_deny_outside_the_organization_fences_an_open_allow(tmp_path: Path) -> None:
    allow = {
        "Sid": "Deploy",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::staging/*",
        "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/deploy"}},
    }
    deny = {
        "Sid": "Perimeter",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::staging", "arn:aws:s3:::staging/*"],
        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123def4"}},
    }
    assert "PE401" not in rules_of(lint_policy(tmp_path, policy(allow, deny)))
    assert "PE401" in rules_of(lint_policy(tmp_path, policy(allow)))
    # a Deny that does not cover the Allow's resource, or that also needs another condition, fences nothing
    narrow = {**deny, "Resource": "arn:aws:s3:::other/*"}
    assert "PE401" in rules_of(lint_policy(tmp_path, policy(allow, narrow)))
    also = {**deny, "Condition": {**deny["Condition"], "Bool": {"aws:SecureTransport": "false"}}}
    assert "PE401" in rules_of(lint_policy(tmp_path, policy(allow, also)))


def test_a_deny_with_an_unreadable_value_fences_nobody(tmp_path: Path) -> None:
    """``NotIpAddress`` of ``10.0.0.0/33`` is not a CIDR range: IAM's policy validation reports it as an error
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html, "Error -
    Invalid condition data type"), and the condition never matches a caller's address, so the Deny turns
    nobody away and the open Allow stays public (the bench's planted ``public-principal`` next to an
    ``invalid-cidr`` Deny)."""
    allow = {"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"}
    deny = {
        "Sid": "Network",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "kms:*",
        "Resource": "*",
        "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/33"}},
    }
    found = rules_of(lint_policy(tmp_path, policy(allow, deny), "keys/key.json"))
    assert "PE401" in found and "PE202" in found
    valid = {**deny, "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/16"}}}
    assert "PE401" not in rules_of(lint_policy(tmp_path, policy(allow, valid), "keys/key.json"))
    # one unreadable value among readable ones: still not counted as a fence
    mixed = {**deny, "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/16", "10.0.0.0/33"]}}}
    assert "PE401" in rules_of(lint_policy(tmp_path, policy(allow, mixed), "keys/key.json"))


def test_a_key_no_action_lists_is_never_called_unset(tmp_path: Path) -> None:
    """states:HTTPEndpoint is defined by Step Functions but listed under no action in the reference."""
    statement = {
        "Effect": "Deny",
        "Action": "states:InvokeHTTPEndpoint",
        "Resource": "*",
        "Condition": {"StringNotLike": {"states:HTTPEndpoint": "https://api.example.com/*"}},
    }
    assert "PE104" not in rules_of(lint_policy(tmp_path, policy(statement), "scps/endpoints.json"))


def test_cross_account_does_not_claim_an_owner_it_guessed(tmp_path: Path) -> None:
    """Two accounts named once each: the message does not say which one owns the bucket."""
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam::111222333444:role/Reader", "arn:aws:iam::123456789123:role/Reader"]},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::bucket/*",
    }
    [found] = [f for f in lint_policy(tmp_path, policy(statement)) if f.rule_id == "PE402"]
    assert "(not " not in found.message and "equally often" in found.message
    owned = [
        f
        for f in lint_policy(tmp_path, policy(ROOT, {**statement, "Action": "kms:Decrypt", "Resource": "*"}))
        if f.rule_id == "PE402"
    ]
    assert {f.message.split(" (not ")[1].split(")")[0] for f in owned} == {"111122223333"}


# --- PE501 (lockout) stops early only when a Deny reads nothing about the caller -------------------------------


def test_lockout_is_judged_per_caller_when_a_deny_reads_the_caller(tmp_path: Path) -> None:
    """A Deny of PutKeyPolicy to everyone but one administrator turns the root away, not the administrator."""
    admin = "arn:aws:iam::111122223333:role/KeyAdmin"
    admins = {"Sid": "Admins", "Effect": "Allow", "Principal": {"AWS": admin}, "Action": "kms:PutKeyPolicy", "Resource": "*"}
    deny = {
        "Sid": "OnlyAdmins",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "kms:PutKeyPolicy",
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:PrincipalArn": admin}},
    }
    assert "PE501" not in rules_of(lint_policy(tmp_path, policy(ROOT, admins, deny), "keys/key.json"))
    # a Deny of every request over TLS (KMS takes no other) turns everyone away, the administrator too: lockout
    everyone = {**deny, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}
    assert "PE501" in rules_of(lint_policy(tmp_path, policy(ROOT, admins, everyone), "keys/key.json"))
    # the same Deny on another action leaves the administrators their PutKeyPolicy
    other = {**everyone, "Action": "kms:Decrypt"}
    assert "PE501" not in rules_of(lint_policy(tmp_path, policy(ROOT, admins, other), "keys/key.json"))


# --- PE501 judges every request context the policy itself names, not only one ------------------------------------
# KMS's safety check judges the calling request (PutKeyPolicy, BypassPolicyLockoutSafetyCheck:
# https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html), whose source address and endpoint the
# linter cannot know; an administrator calling from the network a Deny allows is not locked out.

CORPORATE = {
    "Sid": "OnlyFromTheOffice",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "kms:*",
    "Resource": "*",
    "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"]}},
}


def test_a_network_fence_is_not_a_lockout(tmp_path: Path) -> None:
    """aws:SourceIp (IAM UG, global condition context keys): a call from 10.0.0.0/8 passes the Deny, so root may re-policy."""
    assert "PE501" not in rules_of(lint_policy(tmp_path, policy(ROOT, CORPORATE), "keys/key.json"))


def test_a_fence_and_an_allow_on_other_keys_are_satisfied_together(tmp_path: Path) -> None:
    """Administrators only through one VPC endpoint, and only from the office: one context meets both."""
    admin = "arn:aws:iam::111122223333:role/KeyAdmin"
    admins = {
        "Sid": "Admins",
        "Effect": "Allow",
        "Principal": {"AWS": admin},
        "Action": "kms:*",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d"}},
    }
    assert "PE501" not in rules_of(lint_policy(tmp_path, policy(admins, CORPORATE), "keys/key.json"))


def test_fences_that_refuse_every_address_are_still_a_lockout(tmp_path: Path) -> None:
    """Deny outside 10.0.0.0/8 and Deny inside it: no source address is left, whatever the context."""
    inside = {**CORPORATE, "Sid": "NotFromTheOfficeEither", "Condition": {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}}
    assert "PE501" in rules_of(lint_policy(tmp_path, policy(ROOT, CORPORATE, inside), "keys/key.json"))
    # and a fence over TLS (every KMS request) still locks everyone out, as before
    tls = {**CORPORATE, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}
    assert "PE501" in rules_of(lint_policy(tmp_path, policy(ROOT, tls), "keys/key.json"))
