"""Lint inputs: every format is recognised, its policies become targets, and spans point into the outer file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policyengine.lint.engine import lint_target
from policyengine.lint.finding import LintTarget, PolicyType
from policyengine.lint.inputs import NOT_RECOGNISED, read_inputs
from policyengine.model import unknown
from policyengine.model.policy import PolicyDocument, Statement
from policyengine.model.span import Span

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "inputs"


def _targets_and_errors(paths: list[str], **options: Any) -> tuple[list[LintTarget], list[tuple[str, str]]]:
    """The policies read from ``paths`` and the input errors, as most tests here look at them."""
    found = read_inputs(paths, **options)
    return found.targets, found.errors


def fixture(name: str) -> str:
    return str(FIXTURES / name)


def only(path: str, policy_type: PolicyType | None = None) -> list[LintTarget]:
    """The targets of one file that must read without input errors."""
    targets, errors = _targets_and_errors([path], policy_type=policy_type)
    assert errors == []
    return targets


def document(target: LintTarget) -> PolicyDocument:
    assert target.read_issues == ()
    assert target.document is not None
    return target.document


def by_owner(targets: list[LintTarget]) -> dict[str | None, LintTarget]:
    return {t.owner: t for t in targets}


def at(span: Span | None, text: str) -> str:
    """The text a span covers."""
    assert span is not None
    return text[span.offset : span.end_offset]


def line_col(span: Span | None) -> tuple[int, int]:
    assert span is not None
    return span.line, span.column


def position_of(text: str, needle: str, occurrence: int = 0) -> tuple[int, int]:
    """1-based line and column of the ``occurrence``-th ``needle`` in ``text``."""
    index = -1
    for _ in range(occurrence + 1):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def statement(target: LintTarget, index: int) -> Statement:
    return document(target).statements[index]


# --- policy documents and get-key-policy output ------------------------------------------------


def test_key_policy_file_is_one_key_target_with_positions() -> None:
    """A key policy file is one target, inferred as a key policy, with spans in the file."""
    [target] = only(fixture("key-policy.json"))
    text = Path(fixture("key-policy.json")).read_text()
    assert (target.policy_type, target.owner, target.text) == ("key", None, text)
    assert len(document(target).statements) == 3
    action = statement(target, 0).action
    assert action is not None
    assert line_col(action[0].span) == (9, 17)
    assert document(target).size == len(text)


def test_policy_type_argument_overrides_inference() -> None:
    """``policy_type`` replaces the inferred type of a standalone document."""
    [target] = only(fixture("key-policy.json"), policy_type="resource")
    assert target.policy_type == "resource"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}, "identity"),
        (
            {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]},
            "resource",
        ),
        (
            {"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "trust",
        ),
        ({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "kms:*", "Resource": "*"}]}, "key"),
        (
            {
                "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "kms:*", "Resource": "arn:aws:kms:*"}
                ]
            },
            "resource",
        ),
    ],
)
def test_policy_type_is_inferred_from_statements(policy: dict[str, object], expected: str) -> None:
    """Principal, Resource `*` and KMS actions decide key / resource / trust / identity."""
    targets, errors = _targets_and_errors(["-"], stdin_text=json.dumps(policy))
    assert errors == []
    assert [t.policy_type for t in targets] == [expected]


def test_get_key_policy_output_maps_positions_into_the_file() -> None:
    """The policy inside ``get-key-policy`` output is a key target whose spans land on the escaped text."""
    [target] = only(fixture("get-key-policy.json"))
    text = Path(fixture("get-key-policy.json")).read_text()
    assert target.policy_type == "key"
    first = statement(target, 0)
    assert first.action is not None
    assert at(first.action[0].span, text) == '\\"kms:*\\"'
    assert line_col(first.action[0].span) == position_of(text, '\\"kms:*\\"')
    assert document(target).size == len(json.loads(text)["Policy"])


def test_policy_wrapper_without_policy_name_infers_the_type() -> None:
    """``{"Policy": "..."}`` alone (as ``get-bucket-policy`` writes it) takes the inferred type."""
    inner = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}]}
    targets, errors = _targets_and_errors(["-"], stdin_text=json.dumps({"Policy": json.dumps(inner)}))
    assert errors == []
    assert [t.policy_type for t in targets] == ["resource"]


def test_broken_policy_is_a_target_with_located_read_issues() -> None:
    """A policy with a JSON syntax error becomes a target whose issue points at the trailing comma."""
    [target] = only(fixture("broken-policy.json"))
    assert target.document is None
    [issue] = target.read_issues
    assert issue.code == "json-syntax"
    assert "trailing comma" in issue.message
    assert line_col(issue.span) == (8, 43)


def test_invalid_policy_keeps_reader_issues() -> None:
    """A JSON policy the reader rejects keeps every reader issue, located in the file."""
    text = '{\n  "Version": "2012-10-17",\n  "Statement": [{"Effect": "Alow", "Action": "s3:*", "Resource": "*"}]\n}\n'
    [target] = _targets_and_errors(["-"], stdin_text=text)[0]
    # read as far as it can be: a statement whose effect is unreadable is left out, never guessed
    assert target.document is not None and target.document.statements == ()
    assert [line_col(i.span) for i in target.read_issues] == [position_of(text, '"Alow"')]


def test_structural_error_does_not_hide_other_problems() -> None:
    """A misspelt ``Principle`` is reported and the unknown action two lines down is found in the same run."""
    text = (
        '{\n  "Version": "2012-10-17",\n  "Statement": [{\n    "Effect": "Allow",\n'
        '    "Principle": {"AWS": "arn:aws:iam::111122223333:root"},\n    "Action": "kms:Decrpyt",\n'
        '    "Resource": "*"\n  }]\n}\n'
    )
    [target] = _targets_and_errors(["-"], stdin_text=text, policy_type="key")[0]
    found = {(f.rule_id, f.line) for f in lint_target(target)}
    assert ("PE002", 5) in found  # unknown statement element `Principle` (did you mean `Principal`?)
    assert ("PE102", 6) in found  # kms:Decrpyt is not a KMS action
    assert not {rule for rule, _ in found} & {"PE015", "PE501", "PE509"}  # nothing judged on what was left out


# --- IAM authorization details -------------------------------------------------------------------


def test_authorization_details_has_one_target_per_policy_with_owner() -> None:
    """Inline, trust and default-version managed policies become targets naming their owners."""
    targets = only(fixture("authorization-details.json"))
    assert [(t.owner, t.policy_type) for t in targets] == [
        ('user/alice inline policy "s3-read"', "identity"),
        ('group/developers inline policy "deny-iam-writes"', "identity"),
        ("role/PaymentsApp trust policy", "trust"),
        ('role/PaymentsApp inline policy "kms-use"', "identity"),
        ("role/KeyAdmin trust policy", "trust"),
        ("managed policy arn:aws:iam::111122223333:policy/PaymentsReadOnly (v2)", "identity"),
        ("managed policy arn:aws:iam::111122223333:policy/DeveloperBoundary (v1)", "boundary"),
    ]
    managed = by_owner(targets)["managed policy arn:aws:iam::111122223333:policy/PaymentsReadOnly (v2)"]
    action = statement(managed, 0).action
    assert action is not None
    assert [a.value for a in action] == ["dynamodb:GetItem", "dynamodb:Query"]  # v2, not the older v1


def test_authorization_details_spans_point_into_the_export() -> None:
    """Documents written as objects keep their positions in the export file."""
    text = Path(fixture("authorization-details.json")).read_text()
    target = by_owner(only(fixture("authorization-details.json")))['role/PaymentsApp inline policy "kms-use"']
    resource = statement(target, 0).resource
    assert resource is not None
    assert line_col(resource[0].span) == (125, 45)
    assert at(resource[0].span, text).startswith('"arn:aws:kms:eu-west-1:111122223333:key/')


def test_url_encoded_documents_are_read_without_spans(tmp_path: Path) -> None:
    """Raw API output (URL-encoded documents) is decoded and read, with no misleading spans."""
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}
    broken = '{"Version": "2012-10-17", "Statement": [}'
    export = {
        "RoleDetailList": [
            {
                "RoleName": "Raw",
                "AssumeRolePolicyDocument": quote(json.dumps(policy), safe=""),
                "RolePolicyList": [{"PolicyName": "bad", "PolicyDocument": quote(broken, safe="")}],
            }
        ]
    }
    path = tmp_path / "raw.json"
    path.write_text(json.dumps(export))
    trust, bad = only(str(path))
    assert trust.owner == "role/Raw trust policy"
    first = statement(trust, 0)
    assert first.action is not None and first.action[0].value == "s3:ListBucket"
    assert first.span is None and first.action[0].span is None
    assert bad.document is None
    [issue] = bad.read_issues
    assert issue.span is None and "of the URL-decoded policy" in issue.message


def test_authorization_details_with_a_wrong_required_field_is_an_input_error(tmp_path: Path) -> None:
    """A role without a name is an input error with its position; the other policies are still read."""
    text = json.dumps(
        {
            "RoleDetailList": [
                {"RoleId": "AROA1", "AssumeRolePolicyDocument": {"Statement": []}},
                {"RoleName": "Ok", "AssumeRolePolicyDocument": {"Statement": []}},
            ],
            "Policies": [{"Arn": "arn:aws:iam::111122223333:policy/P", "PolicyVersionList": []}],
        },
        indent=2,
    )
    path = tmp_path / "export.json"
    path.write_text(text)
    targets, errors = _targets_and_errors([str(path)])
    assert [t.owner for t in targets] == ["role/Ok trust policy"]
    assert errors == [
        (str(path), "3:5: a `RoleDetailList` entry has no `RoleName` string"),
        (str(path), "19:28: managed policy arn:aws:iam::111122223333:policy/P has no version with `IsDefaultVersion` true"),
    ]


# --- Terraform plans -----------------------------------------------------------------------------


def test_terraform_plan_targets_by_resource_address() -> None:
    """Policy attributes of root and child-module resources become targets; unknown, empty and deleted ones do not."""
    targets = only(fixture("terraform-plan.json"))
    assert [(t.owner, t.policy_type) for t in targets] == [
        ("aws_kms_key.logs", "key"),
        ("aws_iam_role.task trust policy", "trust"),
        ('aws_iam_role.task inline policy "ssm-read"', "identity"),
        ("aws_iam_role.legacy trust policy", "trust"),
        ("module.app.aws_iam_policy.queue", "identity"),
        ("module.app.aws_iam_role_policy.decrypt", "identity"),
    ]
    assert all(t.document is not None for t in targets)


def test_terraform_spans_point_inside_the_policy_string() -> None:
    """The ``Action`` of a policy in a one-line plan maps to its escaped text in the plan file."""
    text = Path(fixture("terraform-plan.json")).read_text()
    target = by_owner(only(fixture("terraform-plan.json")))["module.app.aws_iam_policy.queue"]
    action = statement(target, 0).action
    assert action is not None
    assert at(action[0].span, text) == '\\"sqs:SendMessage\\"'
    assert line_col(action[0].span) == position_of(text, '\\"sqs:SendMessage\\"')
    sid_span = statement(target, 0).sid_span
    assert at(sid_span, text) == '\\"Queue\\"'


def test_terraform_broken_policy_string_is_located_in_the_plan(tmp_path: Path) -> None:
    """A policy string that is not JSON gives a read issue at the error's position in the plan."""
    text = json.dumps(
        {
            "format_version": "1.2",
            "planned_values": {
                "root_module": {
                    "resources": [
                        {
                            "address": "aws_iam_policy.p",
                            "mode": "managed",
                            "type": "aws_iam_policy",
                            "name": "p",
                            "values": {"policy": '{"Statement": [{"Effect": "Allow",}]}'},
                        }
                    ]
                }
            },
        },
        indent=2,
    )
    path = tmp_path / "plan.json"
    path.write_text(text)
    [target] = only(str(path))
    [issue] = target.read_issues
    assert issue.message == "trailing comma"
    assert at(issue.span, text) == ","
    assert line_col(issue.span) == position_of(text, ",}")


# --- CloudFormation --------------------------------------------------------------------------------


def test_cloudformation_yaml_targets() -> None:
    """A YAML template with short-form intrinsics gives one target per policy property, by logical ID."""
    targets = only(fixture("template.yaml"))
    assert [(t.owner, t.policy_type) for t in targets] == [
        ("DataKey", "key"),
        ("AppRole trust policy", "trust"),
        ('AppRole inline policy "app-data"', "identity"),
        ('AppRole inline policy "prod-alarms"', "identity"),
        ("ReadOnlyPolicy", "identity"),
        ("DataBucketPolicy", "resource"),
    ]
    assert all(t.document is not None for t in targets)


def test_cloudformation_yaml_spans_point_into_the_template() -> None:
    """The ``Resource`` written as ``!Sub`` is located at its line and column in the template."""
    text = Path(fixture("template.yaml")).read_text()
    key = by_owner(only(fixture("template.yaml")))["DataKey"]
    resource = statement(key, 1).resource
    assert resource is not None
    assert line_col(resource[0].span) == (34, 23)
    assert at(resource[0].span, text) == '!Sub "arn:aws:kms:${AWS::Region}:${AWS::AccountId}:key/*"'
    assert statement(key, 1).span is not None and line_col(statement(key, 1).span) == (27, 13)


def test_cloudformation_intrinsics_become_values() -> None:
    """Intrinsics are evaluated: the account root is the deploying account, ``!GetAtt Role.Arn`` a role of it.

    What the template cannot know stays an unknown of its kind, shown as the template wrote it.
    """
    targets = by_owner(only(fixture("template.yaml")))
    key = targets["DataKey"]
    assert document(key).version == "2012-10-17"  # unquoted in YAML: a timestamp to YAML, a string here
    root, use = statement(key, 0), statement(key, 1)
    assert root.principal is not None and use.principal is not None
    assert unknown.display(root.principal.entries[0].value) == "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
    assert root.principal.entries[0].ref.kind == "account"
    assert root.principal.entries[0].ref.account == unknown.OWN_ACCOUNT
    app_role = use.principal.entries[0]
    assert unknown.display(app_role.value) == "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/payments-${Stage}"
    assert (app_role.ref.kind, app_role.ref.account) == ("role", unknown.OWN_ACCOUNT)
    assert use.resource is not None
    assert unknown.display(use.resource[0].value) == "arn:aws:kms:${AWS::Region}:${AWS::AccountId}:key/*"
    assert [unknown.display(v.value) for v in use.conditions[0].values] == ["${AWS::AccountId}"]
    app = statement(targets['AppRole inline policy "app-data"'], 0)
    assert app.resource is not None and unknown.display(app.resource[0].value) == "${DataBucket.Arn}/*"
    bucket = statement(targets["DataBucketPolicy"], 0)
    assert bucket.resource is not None and [unknown.display(r.value) for r in bucket.resource] == [
        "${DataBucket.Arn}",
        "${DataBucket.Arn}/*",
    ]
    assert [(v.value, v.json_type) for v in bucket.conditions[0].values] == [("false", "boolean")]


def test_every_short_form_intrinsic_parses(tmp_path: Path) -> None:
    """Each short-form tag parses and reads without error wherever a policy string is expected."""
    tags = [
        "!Sub 'arn:aws:s3:::${B}'",
        "!Ref B",
        "!GetAtt B.Arn",
        "!Join ['', [a, !Ref B]]",
        "!If [C, x, y]",
        "!Select [0, [a, b]]",
        "!Split [',', 'a,b']",
        "!FindInMap [M, K, V]",
        "!ImportValue Exported",
        "!Base64 abc",
        "!Cidr [10.0.0.0/16, 2, 8]",
        "!GetAZs ''",
        "!Equals [a, b]",
        "!And [!Condition A, !Condition B]",
        "!Or [!Condition A, !Condition B]",
        "!Not [!Condition A]",
        "!Condition A",
    ]
    resources = "\n".join(f"              - {tag}" for tag in tags)
    text = (
        "Resources:\n  P:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n      PolicyDocument:\n"
        "        Version: '2012-10-17'\n        Statement:\n          - Effect: Allow\n            Action: s3:GetObject\n"
        f"            Resource:\n{resources}\n"
    )
    path = tmp_path / "tags.yaml"
    path.write_text(text)
    [target] = only(str(path))
    resource = statement(target, 0).resource
    assert resource is not None
    shown = [(unknown.display(r.value), r.span.line if r.span else None) for r in resource]
    assert shown == [
        ("arn:aws:s3:::${B}", 11),
        ("${B}", 12),
        ("${B.Arn}", 13),
        ("a${B}", 14),
        ("x", 15),  # condition C is not defined: both branches of the list item are read
        ("y", 15),
        ("a", 16),
        ("a", 17),  # !Split in a list: its items join the list
        ("b", 17),
        ("!FindInMap [M, K, V]", 18),  # no Mappings: an unknown value
        ("!ImportValue Exported", 19),
        ("!Base64", 20),
        ("!Cidr", 21),
        ("!GetAZs", 22),
        ("!Equals", 23),
        ("!And", 24),
        ("!Or", 25),
        ("!Not", 26),
        ("!Condition", 27),
    ]
    assert all(unknown.whole(r.value) is not None for r in resource[1:3] + resource[9:])


def test_cloudformation_json_targets_and_spans() -> None:
    """A JSON template's policies are read in place: a ``Fn::Join`` resource is located at its object."""
    text = Path(fixture("template.json")).read_text()
    targets = only(fixture("template.json"))
    assert [(t.owner, t.policy_type) for t in targets] == [
        ("ReportsKey", "key"),
        ('ReportsUser inline policy "read-reports"', "identity"),
        ('Analysts inline policy "athena"', "identity"),
        ("ReportsQueuePolicy", "resource"),
    ]
    user = statement(by_owner(targets)['ReportsUser inline policy "read-reports"'], 0)
    assert user.resource is not None and unknown.display(user.resource[0].value) == "arn:aws:s3:::${ReportsBucket}/*"
    assert line_col(user.resource[0].span) == (41, 31)
    assert at(user.resource[0].span, text).startswith('{"Fn::Join"')
    effect = statement(by_owner(targets)['Analysts inline policy "athena"'], 0).effect_span
    assert line_col(effect) == position_of(text, '"Allow", "Action": "athena:*"')


def test_cloudformation_policy_written_as_json_string(tmp_path: Path) -> None:
    """A ``KeyPolicy`` given as a JSON string in a JSON template is mapped into the template."""
    policy = json.dumps(
        {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "kms:*", "Resource": "*"}]}
    )
    text = json.dumps({"Resources": {"K": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": policy}}}}, indent=2)
    path = tmp_path / "t.template"
    path.write_text(text)
    [target] = only(str(path))
    action = statement(target, 0).action
    assert action is not None and at(action[0].span, text) == '\\"kms:*\\"'


def test_cloudformation_wrong_structure_is_an_input_error(tmp_path: Path) -> None:
    """``Policies`` that is not a list is an input error located in the template."""
    text = (
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      Policies: oops\n"
    )
    path = tmp_path / "t.yaml"
    path.write_text(text)
    targets, errors = _targets_and_errors([str(path)])
    assert targets == []
    assert errors == [(str(path), "6:17: the `Policies` of `R` must be a list")]


def test_yaml_syntax_error_is_an_input_error_with_position() -> None:
    """Invalid YAML is an input error that says line and column."""
    targets, errors = _targets_and_errors([fixture("broken-template.yaml")])
    assert targets == []
    [(path, message)] = errors
    assert path == fixture("broken-template.yaml")
    assert message.startswith("10:12: invalid YAML:")


# --- files, directories and stdin ----------------------------------------------------------------


def test_explicit_unrelated_file_is_an_input_error() -> None:
    """A JSON file of no known format named on the command line is an input error."""
    targets, errors = _targets_and_errors([fixture("package.json")])
    assert targets == []
    assert errors == [(fixture("package.json"), NOT_RECOGNISED)]


def test_missing_and_unreadable_files_are_input_errors(tmp_path: Path) -> None:
    """A path that does not exist and a file that is not UTF-8 are input errors."""
    binary = tmp_path / "x.json"
    binary.write_bytes(b"\xff\xfe\x00{")
    targets, errors = _targets_and_errors([str(tmp_path / "nope.json"), str(binary)])
    assert targets == []
    assert errors == [(str(tmp_path / "nope.json"), "no such file"), (str(binary), "not UTF-8 text (byte 0)")]


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES, root / "policies")
    (root / "infra").mkdir()
    shutil.copy(FIXTURES / "template.yaml", root / "infra" / "stack.template")
    (root / "tsconfig.json").write_text('{\n  // comments make this invalid JSON\n  "strict": true\n}\n')
    (root / ".github").mkdir()
    (root / ".github" / "ci.yml").write_text("on: push\njobs:\n  lint:\n    runs-on: ubuntu-latest\n")
    (root / "README.md").write_text('{"Statement": []}')
    for skipped in ("node_modules/pkg", ".git", ".venv/lib"):
        (root / skipped).mkdir(parents=True)
        shutil.copy(FIXTURES / "key-policy.json", root / skipped / "policy.json")
    return root


def test_directory_walk_is_recursive_sorted_and_quiet_about_unrelated_files(tmp_path: Path) -> None:
    """Walking finds every format in sorted order, skips .git/node_modules/.venv and unrelated files, and reports broken ones."""
    root = _tree(tmp_path)
    targets, errors = _targets_and_errors([str(root)])
    sources = sorted({Path(t.source).relative_to(root).as_posix() for t in targets})
    assert sources == [
        "infra/stack.template",
        "policies/authorization-details.json",
        "policies/broken-policy.json",
        "policies/get-key-policy.json",
        "policies/key-policy.json",
        "policies/template.json",
        "policies/template.yaml",
        "policies/terraform-plan.json",
    ]
    assert [t.source for t in targets] == sorted(t.source for t in targets)
    assert len(targets) == 7 + 1 + 1 + 1 + 4 + 6 + 6 + 6
    assert [(Path(p).relative_to(root).as_posix(), m[:20]) for p, m in errors] == [
        ("policies/broken-template.yaml", "10:12: invalid YAML:")
    ]


def test_include_and_exclude_globs(tmp_path: Path) -> None:
    """``include`` and ``exclude`` match the relative path or the base name, and excluded directories are pruned."""
    root = _tree(tmp_path)
    targets, errors = _targets_and_errors([str(root)], include=["*.template", "policies/key-*"])
    assert errors == []
    assert sorted({Path(t.source).name for t in targets}) == ["key-policy.json", "stack.template"]
    targets, errors = _targets_and_errors([str(root)], exclude=["policies", "*.template"])
    assert targets == [] and errors == []
    targets, errors = _targets_and_errors([str(root)], exclude=["broken-*", "policies/t*"])
    assert errors == []
    assert sorted({Path(t.source).name for t in targets}) == [
        "authorization-details.json",
        "get-key-policy.json",
        "key-policy.json",
        "stack.template",
    ]


def test_explicit_files_ignore_globs_and_skipped_directories(tmp_path: Path) -> None:
    """A file named on the command line is read whatever the globs say."""
    root = _tree(tmp_path)
    path = str(root / "node_modules" / "pkg" / "policy.json")
    targets, errors = _targets_and_errors([path], exclude=["*.json"])
    assert errors == [] and [t.source for t in targets] == [path]


def test_stdin_reads_json_and_yaml() -> None:
    """``-`` reads ``stdin_text`` and recognises its format by content."""
    yaml_text = Path(fixture("template.yaml")).read_text()
    targets, errors = _targets_and_errors(["-"], stdin_text=yaml_text)
    assert errors == [] and len(targets) == 6
    assert {t.source for t in targets} == {"<stdin>"}
    targets, errors = _targets_and_errors(["-"], stdin_text="name: not a template\n")
    assert targets == [] and errors == [("<stdin>", NOT_RECOGNISED)]
    targets, errors = _targets_and_errors(["-"], stdin_text='{"Statement": [')
    assert errors == [] and targets[0].read_issues[0].code == "json-syntax"


_KEYS = [
    "Statement",
    "Policy",
    "PolicyName",
    "Resources",
    "Type",
    "Properties",
    "KeyPolicy",
    "Policies",
    "PolicyDocument",
    "format_version",
    "planned_values",
    "root_module",
    "resources",
    "values",
    "policy",
    "RoleDetailList",
    "RoleName",
    "AssumeRolePolicyDocument",
    "Fn::If",
    "Ref",
    "Fn::Join",
    "Action",
    "Resource",
    "Principal",
    "Effect",
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=json_values, as_yaml=st.booleans())
def test_collect_never_raises(value: object, as_yaml: bool) -> None:
    """Any JSON value, as JSON or YAML text, gives targets or input errors and never an exception."""
    text = yaml.safe_dump(value) if as_yaml else json.dumps(value)
    targets, errors = _targets_and_errors(["-"], stdin_text=text)
    assert all(isinstance(t, LintTarget) for t in targets)
    assert all(isinstance(m, str) for _, m in errors)


def test_walking_passes_over_files_that_are_not_ours(tmp_path: Path) -> None:
    """package.json, tsconfig.json (with comments), pre-commit and GitHub workflow YAML are skipped quietly when
    found by walking a directory, and are input errors only when named on the command line."""
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(
        "on: [push]\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"
    )
    (tmp_path / "package.json").write_text('{"name": "app", "version": "1.0.0"}')
    (tmp_path / "tsconfig.json").write_text('{\n  // compiler options\n  "compilerOptions": {"strict": true}\n}\n')
    (tmp_path / ".pre-commit-config.yaml").write_text("repos:\n  - repo: local\n    hooks: []\n")
    (tmp_path / "main.tf").write_text('variable "name" {}\n')
    (tmp_path / "key.json").write_text(
        json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "kms:*", "Resource": "*"}]})
    )
    targets, errors = _targets_and_errors([str(tmp_path)])
    assert errors == []
    assert [Path(t.source).name for t in targets] == ["key.json"]
    for name in ("package.json", ".pre-commit-config.yaml", ".github/workflows/ci.yml"):
        _, errors = _targets_and_errors([str(tmp_path / name)])
        assert len(errors) == 1, name
    # named explicitly, text that is not JSON is reported as a JSON syntax problem
    [target] = _targets_and_errors([str(tmp_path / "tsconfig.json")])[0]
    assert target.document is None and target.read_issues[0].code == "json-syntax"
    # a glob the shell left alone finds files as walking does: quietly past what is not ours
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "app.yml").write_text("replicas: 2\n")
    targets, errors = _targets_and_errors([str(tmp_path / "*.json"), str(tmp_path / "**" / "*.yml")])
    assert errors == [] and [Path(t.source).name for t in targets] == ["key.json"]
    _, errors = _targets_and_errors([str(tmp_path / "nothing-*.json")])
    assert errors == [(str(tmp_path / "nothing-*.json"), "no file matches this pattern")]


def test_plan_policy_known_only_after_apply_is_listed_not_read(tmp_path: Path) -> None:
    """``after_unknown`` policies are not silently skipped: they are listed as not read."""
    plan = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "resources": [
                    {"address": "aws_kms_key.k", "mode": "managed", "type": "aws_kms_key", "name": "k", "values": {}},
                    {
                        "address": "aws_glue_resource_policy.catalog",
                        "mode": "managed",
                        "type": "aws_glue_resource_policy",
                        "name": "catalog",
                        "values": {
                            "policy": json.dumps(
                                {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "glue:*", "Resource": "*"}]}
                            )
                        },
                    },
                    {
                        "address": "aws_vpc_endpoint.s3",
                        "mode": "managed",
                        "type": "aws_vpc_endpoint",
                        "name": "s3",
                        "values": {
                            "policy": json.dumps(
                                {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
                            )
                        },
                    },
                ]
            }
        },
        "resource_changes": [
            {
                "address": "aws_kms_key.k",
                "mode": "managed",
                "type": "aws_kms_key",
                "name": "k",
                "change": {"actions": ["create"], "after": {}, "after_unknown": {"policy": True, "arn": True}},
            },
        ],
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    found = read_inputs([str(path)])
    assert found.errors == []
    # a VPC endpoint policy is read as one; a policy of a type not read (Glue) is listed
    assert [(t.owner, t.policy_type) for t in found.targets] == [("aws_vpc_endpoint.s3", "endpoint")]
    assert [(n.where, n.reason.split(";")[0]) for n in found.not_read] == [
        ("aws_kms_key.k.policy", "the policy is known only after apply"),
        ("aws_glue_resource_policy.catalog.policy", "policies of `aws_glue_resource_policy` are not read"),
    ]
