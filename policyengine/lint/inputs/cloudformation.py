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

Owners are logical IDs (``AppKey``, ``AppRole trust policy``, ``AppRole inline policy "s3"``).

Templates compute values with intrinsic functions, which the policy reader cannot evaluate. So
that a template still reads as the policy it deploys, each intrinsic is replaced before
reading, keeping the span of the node it replaces: ``Fn::Sub`` by its template string
(``${AWS::AccountId}`` kept as written), ``Ref`` by ``${Ref:Name}``, ``Fn::GetAtt`` by
``${GetAtt:Resource.Attribute}``, ``Fn::Join`` by the join of its parts, ``Fn::If`` by its
first branch that is not ``AWS::NoValue`` (a ``Ref: AWS::NoValue`` removes the value, as
CloudFormation does) and any other function by ``*``.
"""

from __future__ import annotations

from policyengine.lint.finding import LintTarget, PolicyType
from policyengine.lint.inputs._targets import FileContext, items, members, parse_detached, string_target, text_of
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
    "AWS::Organizations::Policy": (),
}
_WITH_INLINE_POLICIES = {"AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"}
_ORGANIZATIONS_TYPES: dict[str, PolicyType] = {"SERVICE_CONTROL_POLICY": "scp", "RESOURCE_CONTROL_POLICY": "rcp"}


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
    targets: list[LintTarget] = []
    for key, resource in resources.value:
        targets += _resource_targets(ctx, key.value, resource)
    return targets


def _resource_targets(ctx: FileContext, logical_id: str, resource: JNode) -> list[LintTarget]:
    if resource.kind != "object":
        if not logical_id.startswith("Fn::"):  # Fn::ForEach loops (language extensions) are lists
            ctx.error(f"resource `{logical_id}` must be a map", resource)
        return []
    found = members(resource)
    kind = text_of(found.get("Type"))
    if kind is None:
        ctx.error(f"resource `{logical_id}` has no `Type` string", resource)
        return []
    if kind not in _DOCUMENTS:
        return []
    properties = found.get("Properties")
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
            target = _document_target(ctx, props[name], policy_type, owner)
            if target is not None:
                targets.append(target)
    if kind in _WITH_INLINE_POLICIES and "Policies" in props:
        targets += _inline_policies(ctx, logical_id, props["Policies"])
    return targets


def _inline_policies(ctx: FileContext, logical_id: str, node: JNode) -> list[LintTarget]:
    policies = resolve(node)
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
        target = _document_target(ctx, document, "identity", f'{logical_id} inline policy "{name or "?"}"')
        if target is not None:
            targets.append(target)
    return targets


def _document_target(ctx: FileContext, node: JNode, policy_type: PolicyType, owner: str) -> LintTarget | None:
    document = resolve(node)
    if document is None:
        return None  # the property is removed (Ref AWS::NoValue)
    if isinstance(document, Placeholder):
        # A computed document (``!Sub`` over JSON text, ``!ImportValue`` ...): read its text
        # without positions, which belong to the substituted text, not to the template.
        root, issues = parse_detached(document.value, "substituted policy")
        if root is None:
            return ctx.target(policy_type, owner=owner, issues=issues)
        return ctx.target(policy_type, root, owner=owner, size=len(document.value))
    if document.kind == "string":
        return string_target(ctx, document, policy_type, owner)
    return ctx.target(policy_type, document, owner=owner)


# --- intrinsic functions -------------------------------------------------------------------------


class Placeholder(JNode):
    """A string standing in for an intrinsic function; its span is the function's."""

    __slots__ = ()


def intrinsic(node: JNode) -> tuple[str, JNode] | None:
    """``(function name, argument)`` when ``node`` is ``{"Ref": ...}``, ``{"Fn::X": ...}`` or ``{"Condition": "Name"}``.

    ``Condition`` is also a statement element, so only its intrinsic form (a lone member naming
    a template condition, as ``!Condition Name`` writes it) counts; that is never a statement.
    """
    if node.kind != "object" or len(node.value) != 1:
        return None
    key, argument = node.value[0]
    name: str = key.value
    if name == "Ref" or name.startswith("Fn::") or (name == "Condition" and argument.kind == "string"):
        return name, argument
    return None


def resolve(node: JNode) -> JNode | None:
    """``node`` with every intrinsic replaced (see the module docstring); None for ``AWS::NoValue``.

    Unchanged subtrees are returned as they are (the same objects), changed ones are rebuilt:
    the template's own tree is never modified.
    """
    function = intrinsic(node)
    if function is not None:
        name, argument = function
        if name == "Ref" and text_of(argument) == "AWS::NoValue":
            return None
        if name == "Fn::If" and argument.kind == "array" and len(argument.value) == 3:
            chosen = resolve(argument.value[1])
            return chosen if chosen is not None else resolve(argument.value[2])
        return Placeholder("string", placeholder_text(name, argument), node.span)
    if node.kind == "object":
        pairs: list[tuple[JNode, JNode]] = []
        changed = False
        for key, value in node.value:
            resolved = resolve(value)
            changed = changed or resolved is not value
            if resolved is not None:
                pairs.append((key, resolved))
        return JNode("object", pairs, node.span) if changed else node
    if node.kind == "array":
        values: list[JNode] = []
        changed = False
        for item in node.value:
            resolved = resolve(item)
            changed = changed or resolved is not item
            if resolved is not None:
                values.append(resolved)
        return JNode("array", values, node.span) if changed else node
    return node


def placeholder_text(name: str, argument: JNode) -> str:
    """The string a string-valued intrinsic stands for, as far as it can be known offline."""
    if name == "Ref":
        ref = text_of(argument)
        return f"${{Ref:{ref}}}" if ref is not None else "*"
    if name == "Fn::Sub":
        template = text_of(argument) or text_of(items(argument)[0] if items(argument) else None)
        return template if template is not None else "*"
    if name == "Fn::GetAtt":
        parts = [text_of(argument)] if argument.kind == "string" else [text_of(p) for p in items(argument)]
        if parts and all(p is not None for p in parts):
            return "${GetAtt:" + ".".join(p for p in parts if p is not None) + "}"
        return "*"
    if name == "Fn::Join":
        arguments = items(argument)
        delimiter = text_of(arguments[0]) if len(arguments) == 2 else None
        if delimiter is None or arguments[1].kind != "array":
            return "*"
        texts: list[str] = []
        for part in items(arguments[1]):
            resolved = resolve(part)
            if resolved is not None:
                texts.append(resolved.value if resolved.kind == "string" else "*")
        return delimiter.join(texts)
    return "*"
