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
API Gateway, Kinesis, OpenSearch, ECR, Secrets Manager, Backup,  resource
Logs, EFS, S3 access points and Tables, Glacier, EventBridge,
CodeArtifact, DynamoDB (``POLICY_ATTRIBUTES``)
``aws_vpc_endpoint.policy``, ``aws_vpc_endpoint_policy.policy``  endpoint
=============================================================  ===========================

Any other ``aws_`` resource with an attribute holding a policy (a JSON string with ``Statement``)
is listed as not read, never passed over in silence.

Policies are JSON strings, so positions are mapped through the string's escapes into the plan
file, as for ``get-key-policy`` output. The owner is the resource address
(``module.app.aws_iam_policy.p``); a role's policies add ``trust policy`` or
``inline policy "name"``. Values unknown until apply are null or absent and are skipped, as
are the empty ``inline_policy`` entries the AWS provider records for roles without one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from policyengine.lint.finding import LintTarget, PolicyType
from policyengine.lint.inputs._targets import FINE_GRAINED_ACCESS_CONTROL, FileContext, items, members, string_target, text_of
from policyengine.parsing.json_tree import JNode

# resource type -> (attribute, policy type) pairs holding one policy string each (plans and .tf sources)
POLICY_ATTRIBUTES: dict[str, tuple[tuple[str, PolicyType], ...]] = {
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
    "aws_sqs_queue": (("policy", "resource"),),
    "aws_sns_topic": (("policy", "resource"),),
    "aws_kms_external_key": (("policy", "key"),),
    "aws_kms_replica_external_key": (("policy", "key"),),
    "aws_api_gateway_rest_api": (("policy", "resource"),),
    "aws_api_gateway_rest_api_policy": (("policy", "resource"),),
    "aws_kinesis_resource_policy": (("policy", "resource"),),
    "aws_opensearch_domain": (("access_policies", "resource"),),
    "aws_opensearch_domain_policy": (("access_policies", "resource"),),
    "aws_elasticsearch_domain": (("access_policies", "resource"),),
    "aws_elasticsearch_domain_policy": (("access_policies", "resource"),),
    "aws_ecr_repository_policy": (("policy", "resource"),),
    "aws_secretsmanager_secret": (("policy", "resource"),),
    "aws_secretsmanager_secret_policy": (("policy", "resource"),),
    "aws_backup_vault_policy": (("policy", "resource"),),
    "aws_cloudwatch_log_resource_policy": (("policy_document", "resource"),),
    "aws_efs_file_system_policy": (("policy", "resource"),),
    "aws_s3_access_point": (("policy", "resource"),),
    "aws_s3control_access_point_policy": (("policy", "resource"),),
    "aws_s3tables_table_bucket_policy": (("resource_policy", "resource"),),
    "aws_s3tables_table_policy": (("resource_policy", "resource"),),
    "aws_glacier_vault": (("access_policy", "resource"),),
    "aws_cloudwatch_event_bus_policy": (("policy", "resource"),),
    "aws_codeartifact_domain_permissions_policy": (("policy_document", "resource"),),
    "aws_codeartifact_repository_permissions_policy": (("policy_document", "resource"),),
    "aws_dynamodb_resource_policy": (("policy", "resource"),),
    "aws_vpc_endpoint": (("policy", "endpoint"),),
    "aws_vpc_endpoint_policy": (("policy", "endpoint"),),
}
#: Resources holding policies that are not linted, and why (listed as not read).
NOT_READ: dict[str, tuple[str, str]] = {
    "aws_iot_policy": ("policy", "IoT policies are a different language from IAM policies"),
}
ORGANIZATIONS_TYPES: dict[str, PolicyType] = {"SERVICE_CONTROL_POLICY": "scp", "RESOURCE_CONTROL_POLICY": "rcp"}


def detect(root: JNode) -> bool:
    """``format_version`` with a plan's or a state's top-level members."""
    found = members(root)
    return "format_version" in found and any(k in found for k in ("planned_values", "resource_changes", "values"))


def extract(ctx: FileContext, root: JNode) -> list[LintTarget]:
    """One target per policy attribute of each planned AWS resource."""
    found = members(root)
    targets: list[LintTarget] = []
    seen: set[str] = set()
    pending = _after_unknown(found.get("resource_changes"))
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
            targets += _resource_targets(ctx, address, resource, members(resource).get("values"), pending.get(address))
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
            targets += _resource_targets(ctx, address, change, after, pending.get(address))
    return targets


def _after_unknown(changes: JNode | None) -> dict[str, dict[str, JNode]]:
    """Per resource address, the ``change.after_unknown`` flags: attributes known only after apply."""
    pending: dict[str, dict[str, JNode]] = {}
    for change in items(changes) if changes is not None else []:
        address = text_of(members(change).get("address"))
        flags = members(members(change).get("change") or JNode("null", None, None)).get("after_unknown")
        if address is not None and flags is not None:
            pending[address] = members(flags)
    return pending


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
    if not (kind or "").startswith("aws_"):
        return None
    name = text_of(found.get("name"))
    return text_of(found.get("address")) or (f"{kind}.{name}" if name else None)


def _resource_targets(
    ctx: FileContext, address: str, resource: JNode, values: JNode | None, pending: dict[str, JNode] | None = None
) -> list[LintTarget]:
    if values is None or values.kind == "null":
        return []  # a resource being destroyed
    if values.kind != "object":
        ctx.error(f"the values of `{address}` must be an object", values)
        return []
    kind = text_of(members(resource).get("type"))
    attributes = members(values)
    targets: list[LintTarget] = []
    if kind == "aws_organizations_policy":
        policy_type = ORGANIZATIONS_TYPES.get(text_of(attributes.get("type")) or "SERVICE_CONTROL_POLICY")
        pairs: tuple[tuple[str, PolicyType], ...] = (("content", policy_type),) if policy_type else ()
    else:
        pairs = POLICY_ATTRIBUTES.get(kind or "", ())
        if kind in NOT_READ and _holds_policy(attributes.get(NOT_READ[kind][0])):
            ctx.skip(f"{address}.{NOT_READ[kind][0]}", NOT_READ[kind][1], attributes.get(NOT_READ[kind][0]))
        elif not pairs:
            for name, value in attributes.items():
                if _holds_policy(value):  # a policy of a resource type not read: listed, never passed over
                    ctx.skip(f"{address}.{name}", f"policies of `{kind}` are not read", value)
    for attribute, policy_type in pairs:
        owner = f"{address} trust policy" if attribute == "assume_role_policy" else address
        flag = (pending or {}).get(attribute)
        if flag is not None and flag.kind == "boolean" and flag.value and attributes.get(attribute) is None:
            reason = "the policy is known only after apply; lint the .tf source to check it before"
            ctx.skip(f"{address}.{attribute}", reason, flag)
            continue
        target = _policy_target(ctx, attributes.get(attribute), policy_type, owner, f"{address}.{attribute}")
        if target is not None:
            targets.append(target)
    if kind in ("aws_opensearch_domain", "aws_elasticsearch_domain") and any(
        members(o).get("enabled") is not None and members(o)["enabled"].value is True
        for o in items(attributes.get("advanced_security_options") or JNode("null", None, None))
    ):
        targets = [dataclasses.replace(t, callers_checked_by=FINE_GRAINED_ACCESS_CONTROL) for t in targets]
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


def _holds_policy(node: JNode | None) -> bool:
    return node is not None and node.kind == "string" and '"Statement"' in node.value
