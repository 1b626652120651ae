"""Terraform sources (``.tf``): data-source documents, ``jsonencode``, heredocs, unknowns and positions.

The ``aws_iam_policy_document`` rendering follows the AWS provider's documentation of the data source
(https://registry.terraform.io/providers/hashicorp/aws/latest/docs/data-sources/iam_policy_document):
``effect`` defaults to Allow, ``principals`` blocks of one type merge, ``type = "*"`` with
``identifiers = ["*"]`` renders ``"Principal": "*"``, and ``&{...}`` writes a policy variable.
"""

from __future__ import annotations

from pathlib import Path

from policyengine.lint import LintConfig, run_lint
from policyengine.lint.finding import LintTarget
from policyengine.lint.inputs import read_inputs
from policyengine.lint.inputs.bindings import make_bindings
from policyengine.model import unknown
from policyengine.model.policy import Statement

REALWORLD = Path(__file__).resolve().parent / "fixtures" / "realworld"

SOURCE = """\
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
}

data "aws_iam_policy_document" "key" {
  statement {
    sid       = "Root"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${local.account_id}:root"]
    }
  }
  statement {
    sid       = "Use"
    actions   = ["kms:Decrypt"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = [aws_iam_role.app.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${data.aws_region.current.name}.amazonaws.com"]
    }
    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:s3:arn"
      values   = ["arn:aws:s3:::home/&{aws:username}/*"]
    }
  }
}

resource "aws_kms_key" "main" {
  policy = data.aws_iam_policy_document.key.json
}

resource "aws_iam_role" "app" {
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_policy" "read" {
  policy = <<-EOT
    {
      "Version": "2012-10-17",
      "Statement": [{
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::${var.bucket}/$${aws:username}/*"
      }]
    }
  EOT
}

resource "aws_s3_bucket_policy" "from_file" {
  bucket = "b"
  policy = file("bucket-policy.json")
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id       = "vpc-1"
  service_name = "com.amazonaws.us-east-1.s3"
}
"""


def read(tmp_path: Path, text: str = SOURCE, parameters: tuple[str, ...] = ()) -> tuple[dict[str | None, LintTarget], list[str]]:
    path = tmp_path / "main.tf"
    path.write_text(text)
    found = read_inputs([str(path)], bindings=make_bindings(None, None, parameters))
    assert found.errors == []
    return {t.owner: t for t in found.targets}, [f"{n.where}: {n.reason}" for n in found.not_read]


def statement(target: LintTarget, index: int) -> Statement:
    assert target.read_issues == () and target.document is not None
    return target.document.statements[index]


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_policy_document_data_source(tmp_path: Path) -> None:
    targets, _ = read(tmp_path)
    key = targets["data.aws_iam_policy_document.key (aws_kms_key.main)"]
    assert key.policy_type == "key"  # from the argument that uses it
    root, use = statement(key, 0), statement(key, 1)
    assert root.effect == "Allow" and root.principal is not None
    entry = root.principal.entries[0]
    assert unknown.display(entry.value) == (
        "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
    )
    assert (entry.ref.kind, entry.ref.account) == ("account", unknown.OWN_ACCOUNT)
    assert entry.span is not None and entry.span.line == line_of(SOURCE, '"arn:${data.aws_partition')
    assert use.principal is not None and use.principal.entries[0].ref.kind == "unknown"
    via, context = use.conditions
    assert unknown.example(via.values[0].value) == "s3.us-east-1.amazonaws.com"
    assert context.values[0].value == "arn:aws:s3:::home/${aws:username}/*"  # &{...} is a policy variable
    assert context.values[0].template is not None


def test_jsonencode_and_heredoc_keep_positions(tmp_path: Path) -> None:
    targets, _ = read(tmp_path)
    trust = statement(targets["aws_iam_role.app trust policy"], 0)
    assert trust.action is not None and trust.action[0].span is not None
    assert (trust.action[0].span.line, trust.action[0].span.column) == (line_of(SOURCE, '"sts:AssumeRole"'), 19)
    read_policy = statement(targets["aws_iam_policy.read"], 0)
    assert read_policy.resource is not None
    resource = read_policy.resource[0]
    assert unknown.display(resource.value) == "arn:aws:s3:::${var.bucket}/${aws:username}/*"
    assert resource.template is not None  # $${aws:username} is the IAM variable, ${var.bucket} Terraform's
    assert resource.span is not None and resource.span.line == line_of(SOURCE, '"arn:aws:s3:::${var.bucket}')


def test_variables_from_parameters(tmp_path: Path) -> None:
    targets, _ = read(tmp_path, parameters=("bucket=reports",))
    resource = statement(targets["aws_iam_policy.read"], 0).resource
    assert resource is not None and resource[0].value == "arn:aws:s3:::reports/${aws:username}/*"


def test_policies_not_written_in_the_file_are_listed(tmp_path: Path) -> None:
    _, not_read = read(tmp_path)
    assert not_read == ['aws_s3_bucket_policy.from_file: the policy is `file("bucket-policy.json")`, not written in this file']


def test_lint_is_clean_and_planted_problems_are_found(tmp_path: Path) -> None:
    path = tmp_path / "main.tf"
    path.write_text(SOURCE)
    run = run_lint([str(path)], LintConfig())
    assert [f.rule_id for f in run.findings if f.rule_id in {"PE501", "PE502", "PE505", "PE208", "PE509"}] == []
    planted = SOURCE.replace('actions   = ["kms:Decrypt"]', 'actions   = ["kms:Decrpyt"]')
    path.write_text(planted)
    run = run_lint([str(path)], LintConfig())
    [found] = [f for f in run.findings if f.rule_id == "PE102"]
    assert found.line == line_of(planted, '"kms:Decrpyt"')


def test_hcl_syntax_error_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.tf"
    path.write_text('resource "aws_kms_key" "k" {\n  policy = \n}\n')
    found = read_inputs([str(path)])
    assert found.targets == [] and len(found.errors) == 1
    assert found.errors[0][1].split(":")[0].isdigit()  # line:col first


def test_terraform_aws_kms_module() -> None:
    """terraform-aws-modules/terraform-aws-kms: dynamic statements, try(), locals; the generated statement is listed."""
    path = REALWORLD / "terraform-aws-kms-main.tf"
    text = path.read_text()
    run = run_lint([str(path)], LintConfig())
    assert run.input_errors == []
    assert [f for f in run.findings if f.rule_id in {"PE501", "PE502", "PE505", "PE208", "PE509", "PE004", "PE005"}] == []
    assert any(n.where.endswith(f"statement at line {line_of(text, 'for_each = var.key_statements') - 1}") for n in run.not_read)
    planted = text.replace('"kms:Describe*",', '"kms:Descrbe*",', 1)
    copy = REALWORLD.parent / "_planted_kms.tf"
    try:
        copy.write_text(planted)
        found = [f for f in run_lint([str(copy)], LintConfig()).findings if f.rule_id == "PE102"]
    finally:
        copy.unlink()
    assert [f.line for f in found] == [line_of(planted, '"kms:Descrbe*"')]


def test_terraform_aws_s3_bucket_module() -> None:
    """terraform-aws-modules/terraform-aws-s3-bucket: merged documents are not reported as empty policies."""
    run = run_lint([str(REALWORLD / "terraform-aws-s3-bucket-main.tf")], LintConfig())
    assert run.input_errors == []
    assert "PE019" not in {f.rule_id for f in run.findings}
    assert any("source_policy_documents" in n.where for n in run.not_read)
    assert run.targets >= 8


OTHER_TYPES = """\
resource "aws_vpc_endpoint" "s3" {
  vpc_id       = "vpc-1"
  service_name = "com.amazonaws.us-east-1.s3"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = "*"
      Action    = "s3:GetObject"
      Resource  = "*"
      Condition = { StringEquals = { "aws:PrincipalOrgID" = "o-abc123def4" } }
    }]
  })
}

resource "aws_glue_resource_policy" "catalog" {
  policy = <<-EOT
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "glue:*", "Resource": "*"}]}
  EOT
}

resource "aws_s3_bucket" "logs" {
  bucket = "logs"
}
"""


def test_endpoint_policies_read_and_other_types_listed(tmp_path: Path) -> None:
    """A VPC endpoint policy is read as one; a policy in a resource type not read is listed, not skipped."""
    path = tmp_path / "main.tf"
    path.write_text(OTHER_TYPES)
    found = read_inputs([str(path)])
    assert found.errors == []
    assert [(t.owner, t.policy_type) for t in found.targets] == [("aws_vpc_endpoint.s3", "endpoint")]
    assert [(n.where, n.reason, n.span.line if n.span else None) for n in found.not_read] == [
        ("aws_glue_resource_policy.catalog.policy", "policies of `aws_glue_resource_policy` are not read", 17)
    ]
