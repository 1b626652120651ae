"""CloudFormation templates, JSON or YAML, with findings located in the template.

Recognised by ``AWSTemplateFormatVersion`` or a ``Resources`` map with an ``AWS::...`` typed
resource (SAM templates included). Policies in templates are inline objects, so they are read
straight from the template's node tree and every finding points into the template. The
properties linted, with the type they imply:

==========================================================================  ==============
``AWS::KMS::Key`` / ``AWS::KMS::ReplicaKey`` ``KeyPolicy``                  key
``AWS::IAM::Policy`` / ``ManagedPolicy`` / ``RolePolicy`` / ``UserPolicy``
/ ``GroupPolicy`` ``PolicyDocument``                                         identity
``AWS::IAM::Role`` ``AssumeRolePolicyDocument``                              trust
``AWS::IAM::Role`` / ``User`` / ``Group`` ``Policies[].PolicyDocument``      identity
``AWS::S3::BucketPolicy`` / ``SQS::QueuePolicy`` / ``SNS::TopicPolicy``      resource
``AWS::Organizations::Policy`` ``Content``                                   scp / rcp
==========================================================================  ==============

``AWS::Backup::BackupVault`` ``AccessPolicy``, ``AWS::CloudTrail::ResourcePolicy``,
``AWS::S3::AccessPoint`` / ``MultiRegionAccessPointPolicy`` ``Policy``, ``AWS::S3Tables::*Policy``,
``AWS::S3Express::BucketPolicy``, ``AWS::SNS::TopicInlinePolicy``, ``AWS::SQS::QueueInlinePolicy``,
``AWS::SecretsManager::ResourcePolicy``, ``AWS::ECR::Repository``, ``AWS::Logs::ResourcePolicy``,
``AWS::OpenSearchService::Domain`` / ``Elasticsearch::Domain`` ``AccessPolicies``,
``AWS::EFS::FileSystem``, ``AWS::ApiGateway::RestApi``, ``AWS::Kinesis::ResourcePolicy``,
``AWS::CodeArtifact::*`` and ``AWS::Events::EventBus``                      resource
``AWS::EC2::VPCEndpoint`` ``PolicyDocument``                                endpoint
==========================================================================  ==============

Owners are logical IDs (``AppKey``, ``AppRole trust policy``, ``AppRole inline policy "s3"``).

Any other property that holds a policy document (a ``Statement``), such as an IoT policy, is listed
as not read, never passed over in silence.

Intrinsic functions are evaluated by ``policyengine.lint.inputs.intrinsics``: values the template
cannot know become unknowns of their kind, never ``${...}`` text.
"""

from __future__ import annotations

import dataclasses

from policyengine.lint.finding import LintTarget, PolicyType
from policyengine.lint.inputs._targets import (
    FINE_GRAINED_ACCESS_CONTROL,
    FileContext,
    items,
    members,
    parse_detached,
    string_target,
    text_of,
)
from policyengine.lint.inputs.intrinsics import Computed, TemplateResolver
from policyengine.parsing.json_tree import JNode

_DOCUMENTS: dict[str, tuple[tuple[str, PolicyType], ...]] = {
    "AWS::KMS::Key": (("KeyPolicy", "key"),),
    "AWS::KMS::ReplicaKey": (("KeyPolicy", "key"),),
    "AWS::IAM::Policy": (("PolicyDocument", "identity"),),
    "AWS::IAM::ManagedPolicy": (("PolicyDocument", "identity"),),
    "AWS::IAM::RolePolicy": (("PolicyDocument", "identity"),),
    "AWS::IAM::UserPolicy": (("PolicyDocument", "identity"),),
    "AWS::IAM::GroupPolicy": (("PolicyDocument", "identity"),),
    "AWS::IAM::Role": (("AssumeRolePolicyDocument", "trust"),),
    "AWS::IAM::User": (),
    "AWS::IAM::Group": (),
    "AWS::S3::BucketPolicy": (("PolicyDocument", "resource"),),
    "AWS::SQS::QueuePolicy": (("PolicyDocument", "resource"),),
    "AWS::SNS::TopicPolicy": (("PolicyDocument", "resource"),),
    "AWS::SQS::QueueInlinePolicy": (("PolicyDocument", "resource"),),
    "AWS::SNS::TopicInlinePolicy": (("PolicyDocument", "resource"),),
    "AWS::Organizations::Policy": (),
    "AWS::Backup::BackupVault": (("AccessPolicy", "resource"),),
    "AWS::CloudTrail::ResourcePolicy": (("ResourcePolicy", "resource"),),
    "AWS::S3::AccessPoint": (("Policy", "resource"),),
    "AWS::S3::MultiRegionAccessPointPolicy": (("Policy", "resource"),),
    "AWS::S3Express::BucketPolicy": (("PolicyDocument", "resource"),),
    "AWS::S3Tables::TableBucketPolicy": (("ResourcePolicy", "resource"),),
    "AWS::S3Tables::TablePolicy": (("ResourcePolicy", "resource"),),
    "AWS::SecretsManager::ResourcePolicy": (("ResourcePolicy", "resource"),),
    "AWS::ECR::Repository": (("RepositoryPolicyText", "resource"),),
    "AWS::Logs::ResourcePolicy": (("PolicyDocument", "resource"),),
    "AWS::OpenSearchService::Domain": (("AccessPolicies", "resource"),),
    "AWS::Elasticsearch::Domain": (("AccessPolicies", "resource"),),
    "AWS::EFS::FileSystem": (("FileSystemPolicy", "resource"),),
    "AWS::ApiGateway::RestApi": (("Policy", "resource"),),
    "AWS::Kinesis::ResourcePolicy": (("ResourcePolicy", "resource"),),
    "AWS::CodeArtifact::Domain": (("PermissionsPolicyDocument", "resource"),),
    "AWS::CodeArtifact::Repository": (("PermissionsPolicyDocument", "resource"),),
    "AWS::Events::EventBus": (("Policy", "resource"),),
    "AWS::EC2::VPCEndpoint": (("PolicyDocument", "endpoint"),),
}
_WITH_INLINE_POLICIES = {"AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"}
_ORGANIZATIONS_TYPES: dict[str, PolicyType] = {"SERVICE_CONTROL_POLICY": "scp", "RESOURCE_CONTROL_POLICY": "rcp"}
#: Why some policy-bearing properties are not linted (others: "policies of this resource type are not read").
_NOT_READ_REASONS = {
    "AWS::IoT::Policy": "IoT policies are a different language from IAM policies",
    "AWS::Serverless::Function": "SAM policies are expanded by the SAM transform; lint the transformed template",
    "AWS::Serverless::StateMachine": "SAM policies are expanded by the SAM transform; lint the transformed template",
}


def detect(root: JNode) -> bool:
    """``AWSTemplateFormatVersion``, or ``Resources`` holding a resource of an ``AWS::`` type."""
    found = members(root)
    if "AWSTemplateFormatVersion" in found:
        return True
    resources = found.get("Resources")
    if resources is None:
        return False
    return any((text_of(members(r).get("Type")) or "").startswith("AWS::") for _, r in members(resources).items())


def extract(ctx: FileContext, root: JNode) -> list[LintTarget]:
    """One target per policy property of each IAM, KMS and resource-policy resource."""
    resources = members(root).get("Resources")
    if resources is None:
        ctx.error("the template has no `Resources`", root)
        return []
    if resources.kind != "object":
        ctx.error("`Resources` must be a map of logical IDs to resources", resources)
        return []
    resolver = TemplateResolver(root, ctx.bindings)
    targets: list[LintTarget] = []
    for key, resource in resources.value:
        targets += _resource_targets(ctx, resolver, key.value, resource)
    return targets


def _resource_targets(ctx: FileContext, resolver: TemplateResolver, logical_id: str, resource: JNode) -> list[LintTarget]:
    if resource.kind != "object":
        if not logical_id.startswith("Fn::"):  # Fn::ForEach loops (language extensions) are lists
            ctx.error(f"resource `{logical_id}` must be a map", resource)
        return []
    found = members(resource)
    kind = text_of(found.get("Type"))
    if kind is None:
        ctx.error(f"resource `{logical_id}` has no `Type` string", resource)
        return []
    properties = found.get("Properties")
    if kind not in _DOCUMENTS:
        _list_unread(ctx, logical_id, kind, properties)
        return []
    if properties is None:
        return []  # e.g. a key without KeyPolicy gets the default key policy
    if properties.kind != "object":
        ctx.error(f"the `Properties` of `{logical_id}` must be a map", properties)
        return []
    props = members(properties)
    pairs = _DOCUMENTS[kind]
    if kind == "AWS::Organizations::Policy":
        policy_type = _ORGANIZATIONS_TYPES.get(text_of(props.get("Type")) or "")
        pairs = (("Content", policy_type),) if policy_type else ()
    targets: list[LintTarget] = []
    for name, policy_type in pairs:
        if name in props:
            owner = f"{logical_id} trust policy" if name == "AssumeRolePolicyDocument" else logical_id
            target = _document_target(ctx, resolver, props[name], policy_type, owner)
            if target is not None:
                targets.append(target)
    if kind in _WITH_INLINE_POLICIES and "Policies" in props:
        targets += _inline_policies(ctx, resolver, logical_id, props["Policies"])
    if kind in _SEARCH_DOMAINS and _fine_grained(resolver, props):
        targets = [dataclasses.replace(t, callers_checked_by=FINE_GRAINED_ACCESS_CONTROL) for t in targets]
    return targets


_SEARCH_DOMAINS = {"AWS::OpenSearchService::Domain", "AWS::Elasticsearch::Domain"}


def _fine_grained(resolver: TemplateResolver, props: dict[str, JNode]) -> bool:
    """``AdvancedSecurityOptions.Enabled`` is true (written, or computed from a parameter's value)."""
    options = props.get("AdvancedSecurityOptions")
    resolved = resolver.resolve(options) if options is not None else None
    enabled = members(resolved).get("Enabled") if resolved is not None else None
    if enabled is None:
        return False
    return enabled.value is True or (enabled.kind == "string" and enabled.value.lower() == "true")


def _list_unread(ctx: FileContext, logical_id: str, kind: str, properties: JNode | None) -> None:
    """Record each property of an unread resource type that holds a policy document."""
    for key, value in properties.value if properties is not None and properties.kind == "object" else ():
        if _holds_policy(value):
            reason = _NOT_READ_REASONS.get(kind, "policies of this resource type are not read")
            ctx.skip(f"{logical_id} {key.value} ({kind})", reason, value)


def _holds_policy(node: JNode, depth: int = 3) -> bool:
    """A policy document: an object with ``Statement`` or JSON text with it, here or a few levels down."""
    if node.kind == "string":
        return '"Statement"' in node.value
    if depth == 0:
        return False
    if node.kind == "object":
        found = members(node)
        return "Statement" in found or any(_holds_policy(v, depth - 1) for v in found.values())
    return any(_holds_policy(v, depth - 1) for v in items(node))


def _inline_policies(ctx: FileContext, resolver: TemplateResolver, logical_id: str, node: JNode) -> list[LintTarget]:
    policies = resolver.resolve(node)
    if policies is None:
        return []
    if policies.kind != "array":
        ctx.error(f"the `Policies` of `{logical_id}` must be a list", node)
        return []
    targets: list[LintTarget] = []
    for entry in items(policies):
        found = members(entry)
        document = found.get("PolicyDocument")
        if entry.kind != "object" or document is None:
            ctx.error(f"each of the `Policies` of `{logical_id}` needs a `PolicyDocument`", entry)
            continue
        name = text_of(found.get("PolicyName"))
        target = _document_target(ctx, resolver, document, "identity", f'{logical_id} inline policy "{name or "?"}"')
        if target is not None:
            targets.append(target)
    return targets


def _document_target(
    ctx: FileContext, resolver: TemplateResolver, node: JNode, policy_type: PolicyType, owner: str
) -> LintTarget | None:
    document = resolver.resolve(node)
    if document is None:
        return None  # the property is removed (Ref AWS::NoValue)
    if isinstance(document, Computed):
        # A computed document (``!Sub`` over JSON text, ``!ImportValue`` ...): read its text
        # without positions, which belong to the substituted text, not to the template.
        if document.value.lstrip()[:1] != "{":
            ctx.skip(owner, "the policy is computed from values only the deployment knows", node)
            return None
        root, issues = parse_detached(document.value, "substituted policy")
        if root is None:
            return ctx.target(policy_type, owner=owner, issues=issues)
        return ctx.target(policy_type, root, owner=owner, size=len(document.value))
    if document.kind == "string":
        return string_target(ctx, document, policy_type, owner)
    return ctx.target(policy_type, document, owner=owner)
