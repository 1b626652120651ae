"""The CloudFormation intrinsic resolver: every function, pseudo parameter and binding, on small templates.

Semantics from the CloudFormation User Guide, "Intrinsic function reference" and "Pseudo parameters
reference" (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html).
"""

from __future__ import annotations

from typing import Any

import yaml

from policyengine.lint.inputs._yaml import parse_yaml_with_positions
from policyengine.lint.inputs.bindings import Bindings, make_bindings
from policyengine.lint.inputs.intrinsics import TemplateResolver
from policyengine.model import unknown
from policyengine.parsing.json_tree import JNode

TEMPLATE = """
Parameters:
  Stage: {Type: String, Default: prod}
  Admins: {Type: CommaDelimitedList, Default: "arn:aws:iam::111122223333:role/a,arn:aws:iam::111122223333:role/b"}
  Partner: {Type: String}
  Secret: {Type: 'AWS::SSM::Parameter::Value<String>', Default: /app/partner}
Mappings:
  Accounts:
    prod: {Ops: '444455556666'}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsDev: !Not [!Condition IsProd]
  PartnerSet: !Not [!Equals [!Ref Partner, '']]
Resources:
  AppRole:
    Type: AWS::IAM::Role
    Properties: {Path: /service/, RoleName: !Sub 'app-${Stage}'}
  AnonRole:
    Type: AWS::IAM::Role
  Bucket:
    Type: AWS::S3::Bucket
"""


def resolver(bindings: Bindings | None = None) -> TemplateResolver:
    root = parse_yaml_with_positions(TEMPLATE)
    assert root is not None
    return TemplateResolver(root, bindings)


def value(expression: str, bindings: Bindings | None = None) -> Any:
    """What a YAML expression resolves to, with unknowns shown as written."""
    node = parse_yaml_with_positions(f"V: {expression}")
    assert node is not None
    resolved = resolver(bindings).resolve(node.value[0][1])
    return None if resolved is None else _shown(resolved)


def _shown(node: JNode) -> Any:
    if node.kind == "array":
        return [_shown(n) for n in node.value]
    if node.kind == "object":
        return {k.value: _shown(v) for k, v in node.value}
    return unknown.display(node.value) if node.kind == "string" else node.value


def test_sub_with_pseudo_parameters_both_forms() -> None:
    assert (
        value('!Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"') == "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
    )
    assert value("!Sub ['arn:aws:s3:::${B}/*', {B: !Ref Stage}]") == "arn:aws:s3:::prod/*"
    assert value("!Sub '${AWS::StackName}-${AWS::URLSuffix}'") == "${AWS::StackName}-${AWS::URLSuffix}"
    # ${!Literal} is a literal ${Literal}: here a real IAM policy variable
    assert value("!Sub 'home/${!aws:username}/${Stage}'") == "home/${aws:username}/prod"


def test_account_and_region_kinds() -> None:
    node = parse_yaml_with_positions("V: !Sub 'kms.${AWS::Region}.amazonaws.com'")
    assert node is not None
    resolved = resolver().resolve(node.value[0][1])
    assert resolved is not None
    assert [u.kind for u in unknown.unknowns(resolved.value)] == ["region"]
    assert unknown.example(resolved.value) == "kms.us-east-1.amazonaws.com"


def test_bindings_fill_in_account_region_partition_and_parameters() -> None:
    bound = make_bindings("111122223333", "cn-north-1", ["Partner=777788889999"])
    assert value('!Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"', bound) == "arn:aws-cn:iam::111122223333:root"
    assert value("!Sub 'ec2.${AWS::Region}.${AWS::URLSuffix}'", bound) == "ec2.cn-north-1.amazonaws.com.cn"
    assert value("!Ref Partner", bound) == "777788889999"
    for wrong in (("12345", None, []), (None, "mars", []), (None, None, ["novalue"])):
        try:
            make_bindings(*wrong)
        except ValueError as exc:
            assert str(exc).startswith("--")
        else:
            raise AssertionError(f"{wrong} accepted")


def test_ref_parameters_defaults_lists_and_unknowns() -> None:
    assert value("!Ref Stage") == "prod"
    assert value("!Ref Admins") == ["arn:aws:iam::111122223333:role/a", "arn:aws:iam::111122223333:role/b"]
    assert value("!Ref Partner") == "${Partner}"  # no default: unknown
    assert value("!Ref Secret") == "${Secret}"  # an SSM parameter's default is its name, not its value
    assert value("!Ref Bucket") == "${Bucket}"
    assert value("!Ref AWS::NoValue") is None


def test_get_att_arn_of_roles_is_a_role_of_the_deploying_account() -> None:
    assert value("!GetAtt AppRole.Arn") == "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/service/app-prod"
    assert value("!GetAtt [AnonRole, Arn]") == "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${AnonRole}"
    assert value("!Sub '${AppRole.Arn}'") == "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/service/app-prod"
    assert value("!GetAtt AppRole.RoleId") == "${AppRole.RoleId}"
    assert value("!GetAtt Bucket.Arn") == "${Bucket.Arn}"
    assert value("!Ref AppRole") == "app-prod"


def test_join_select_split_find_in_map() -> None:
    assert value("!Join ['', ['arn:aws:iam::', !Ref 'AWS::AccountId', ':root']]") == "arn:aws:iam::${AWS::AccountId}:root"
    assert value("!Select [1, !Ref Admins]") == "arn:aws:iam::111122223333:role/b"
    assert value("!Select [5, !Ref Admins]") == "!Select"
    assert value("!Split [',', 'a,b']") == ["a", "b"]
    assert value("!FindInMap [Accounts, !Ref Stage, Ops]") == "444455556666"
    assert value("!FindInMap [Accounts, !Ref Partner, Ops]") == "!FindInMap [Accounts, ${Partner}, Ops]"
    assert value("!FindInMap [Accounts, dev, Ops, {DefaultValue: none}]") == "none"
    assert value("!ImportValue SharedKeyAdmin") == "!ImportValue SharedKeyAdmin"


def test_if_decided_by_conditions_or_both_branches() -> None:
    # a parameter's Default does not decide a condition: the deployer may pick another value
    assert value("[!If [IsProd, a, b]]") == ["a", "b"]
    prod = Bindings(parameters={"Stage": "prod"})
    assert value("!If [IsProd, a, b]", prod) == "a"
    assert value("!If [IsDev, a, b]", prod) == "b"
    assert value("!If [IsDev, a, b]", Bindings(parameters={"Stage": "dev"})) == "a"
    assert value("!If [PartnerSet, a, b]") == "!If [PartnerSet, ...]"  # depends on an unknown: an unknown value
    assert value("[!If [PartnerSet, a, b], c]") == ["a", "b", "c"]  # in a list: both branches are read
    assert value("[!If [PartnerSet, a, !Ref AWS::NoValue]]") == ["a"]
    assert value("!If [PartnerSet, {K: v}, !Ref AWS::NoValue]") == {"K": "v"}


def test_spans_are_the_functions() -> None:
    node = parse_yaml_with_positions("V:\n  - !Sub '${AWS::AccountId}'\n")
    assert node is not None
    resolved = resolver().resolve(node.value[0][1])
    assert resolved is not None and resolved.value[0].span is not None
    assert (resolved.value[0].span.line, resolved.value[0].span.column) == (2, 5)


def test_template_is_not_modified() -> None:
    root = parse_yaml_with_positions(TEMPLATE)
    assert root is not None
    before = yaml.safe_dump(root.to_python())
    TemplateResolver(root).resolve(root)
    assert yaml.safe_dump(root.to_python()) == before


def test_circular_references_end() -> None:
    root = parse_yaml_with_positions("Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties: {RoleName: !Ref R}\n")
    assert root is not None
    node = parse_yaml_with_positions("V: !GetAtt R.Arn")
    assert node is not None
    resolved = TemplateResolver(root).resolve(node.value[0][1])
    assert resolved is not None and "(circular)" in unknown.display(resolved.value)
