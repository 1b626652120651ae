"""Terraform plan JSON (``terraform show -json plan.out``), and state JSON of the same format.

Recognised by ``format_version`` next to ``planned_values``, ``resource_changes`` or ``values``.
A plan is what is about to be applied, with every ``jsonencode`` and policy-document data
source already rendered, so it is where Terraform policies can be linted exactly.

Resources are read from ``planned_values.root_module`` and its nested ``child_modules`` (or
``values.root_module`` in state output), then from ``resource_changes[].change.after`` for any
address not seen there. The policy attributes linted, with the type they imply:

=============================================================  ===========================
``aws_kms_key.policy``, ``aws_kms_replica_key.policy``,         key
``aws_kms_key_policy.policy``
``aws_iam_policy.policy``, ``aws_iam_{role,user,group}_policy``  identity
``aws_iam_role.assume_role_policy``                              trust
``aws_iam_role.inline_policy[].policy``                          identity
``aws_organizations_policy.content``                             scp / rcp (from ``type``)
``aws_{s3_bucket,sqs_queue,sns_topic}_policy.policy``            resource
=============================================================  ===========================

Policies are JSON strings, so positions are mapped through the string's escapes into the plan
file, as for ``get-key-policy`` output. The owner is the resource address
(``module.app.aws_iam_policy.p``); a role's policies add ``trust policy`` or
``inline policy "name"``. Values unknown until apply are null or absent and are skipped, as
are the empty ``inline_policy`` entries the AWS provider records for roles without one.
"""

from __future__ import annotations

from collections.abc import Iterator

from policyengine.lint.finding import LintTarget, PolicyType
from policyengine.lint.inputs._targets import FileContext, items, members, string_target, text_of
from policyengine.parsing.json_tree import JNode

# resource type -> (attribute, policy type) pairs holding one policy string each
_ATTRIBUTES: dict[str, tuple[tuple[str, PolicyType], ...]] = {
    "aws_kms_key": (("policy", "key"),),
    "aws_kms_replica_key": (("policy", "key"),),
    "aws_kms_key_policy": (("policy", "key"),),
    "aws_iam_policy": (("policy", "identity"),),
    "aws_iam_role_policy": (("policy", "identity"),),
    "aws_iam_user_policy": (("policy", "identity"),),
    "aws_iam_group_policy": (("policy", "identity"),),
    "aws_iam_role": (("assume_role_policy", "trust"),),
    "aws_s3_bucket_policy": (("policy", "resource"),),
    "aws_sqs_queue_policy": (("policy", "resource"),),
    "aws_sns_topic_policy": (("policy", "resource"),),
}
_ORGANIZATIONS_TYPES: dict[str, PolicyType] = {"SERVICE_CONTROL_POLICY": "scp", "RESOURCE_CONTROL_POLICY": "rcp"}


def detect(root: JNode) -> bool:
    """``format_version`` with a plan's or a state's top-level members."""
    found = members(root)
    return "format_version" in found and any(k in found for k in ("planned_values", "resource_changes", "values"))


def extract(ctx: FileContext, root: JNode) -> list[LintTarget]:
    """One target per policy attribute of each planned AWS resource."""
    found = members(root)
    targets: list[LintTarget] = []
    seen: set[str] = set()
    for section in ("planned_values", "values"):
        values = found.get(section)
        if values is None or values.kind == "null":
            continue
        if values.kind != "object":
            ctx.error(f"`{section}` must be an object", values)
            continue
        module = members(values).get("root_module")
        if module is None:
            continue
        for resource in _module_resources(ctx, module, f"{section}.root_module"):
            address = _address(resource)
            if address is None or address in seen:
                continue
            seen.add(address)
            targets += _resource_targets(ctx, address, resource, members(resource).get("values"))
    changes = found.get("resource_changes")
    if changes is not None and changes.kind != "array":
        ctx.error("`resource_changes` must be a list", changes)
    elif changes is not None:
        for change in items(changes):
            address = _address(change)
            if address is None or address in seen:
                continue
            seen.add(address)
            after = members(members(change).get("change") or JNode("null", None, None)).get("after")
            targets += _resource_targets(ctx, address, change, after)
    return targets


def _module_resources(ctx: FileContext, module: JNode, where: str) -> Iterator[JNode]:
    if module.kind != "object":
        ctx.error(f"`{where}` must be an object", module)
        return
    found = members(module)
    resources = found.get("resources")
    if resources is not None:
        if resources.kind != "array":
            ctx.error(f"`{where}.resources` must be a list", resources)
        else:
            yield from (r for r in items(resources) if r.kind == "object")
    children = found.get("child_modules")
    if children is not None:
        if children.kind != "array":
            ctx.error(f"`{where}.child_modules` must be a list", children)
            return
        for child in items(children):
            name = text_of(members(child).get("address")) or "child_modules[]"
            yield from _module_resources(ctx, child, name)


def _address(resource: JNode) -> str | None:
    """The resource address of a managed resource (data sources and others give None)."""
    found = members(resource)
    if text_of(found.get("mode")) == "data":
        return None
    kind = text_of(found.get("type"))
    if kind not in _ATTRIBUTES and kind != "aws_organizations_policy":
        return None
    name = text_of(found.get("name"))
    return text_of(found.get("address")) or (f"{kind}.{name}" if name else None)


def _resource_targets(ctx: FileContext, address: str, resource: JNode, values: JNode | None) -> list[LintTarget]:
    if values is None or values.kind == "null":
        return []  # a resource being destroyed, or values unknown until apply
    if values.kind != "object":
        ctx.error(f"the values of `{address}` must be an object", values)
        return []
    kind = text_of(members(resource).get("type"))
    attributes = members(values)
    targets: list[LintTarget] = []
    if kind == "aws_organizations_policy":
        policy_type = _ORGANIZATIONS_TYPES.get(text_of(attributes.get("type")) or "SERVICE_CONTROL_POLICY")
        pairs: tuple[tuple[str, PolicyType], ...] = (("content", policy_type),) if policy_type else ()
    else:
        pairs = _ATTRIBUTES.get(kind or "", ())
    for attribute, policy_type in pairs:
        owner = f"{address} trust policy" if attribute == "assume_role_policy" else address
        target = _policy_target(ctx, attributes.get(attribute), policy_type, owner, f"{address}.{attribute}")
        if target is not None:
            targets.append(target)
    if kind == "aws_iam_role":
        inline = attributes.get("inline_policy")
        for entry in items(inline) if inline is not None else []:
            entry_members = members(entry)
            name = text_of(entry_members.get("name")) or ""
            target = _policy_target(
                ctx, entry_members.get("policy"), "identity", f'{address} inline policy "{name}"', f"{address}.inline_policy"
            )
            if target is not None:
                targets.append(target)
    return targets


def _policy_target(ctx: FileContext, node: JNode | None, policy_type: PolicyType, owner: str, where: str) -> LintTarget | None:
    if node is None or node.kind == "null" or (node.kind == "string" and not node.value.strip()):
        return None  # unknown until apply, or no policy
    if node.kind != "string":
        ctx.error(f"`{where}` must be a JSON string", node)
        return None
    return string_target(ctx, node, policy_type, owner)
