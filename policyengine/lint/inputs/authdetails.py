"""The IAM ``aws iam get-account-authorization-details`` export: every policy in an account.

Recognised by its lists: ``UserDetailList``, ``GroupDetailList``, ``RoleDetailList`` (or a
``Policies`` list of managed policies with versions). It is the one offline snapshot of all
of an account's IAM policies, so each policy in it is a target naming its owner:

* inline policies of users, groups and roles (``UserPolicyList`` / ``GroupPolicyList`` /
  ``RolePolicyList``): ``user/alice inline policy "s3-read"``, identity policies;
* each role's trust policy (``AssumeRolePolicyDocument``): ``role/App trust policy``;
* the default version of each managed policy (``PolicyVersionList`` entry with
  ``IsDefaultVersion`` true; older versions are not in force):
  ``managed policy arn:aws:iam::111122223333:policy/X (v3)``. A managed policy attached to
  nothing and used only as a permissions boundary is linted as a boundary. An AWS managed
  policy (``arn:aws:iam::aws:policy/...``) is AWS's text, which the customer cannot edit and
  which customer quotas do not bound: only what it grants is linted (``authored_by_aws``).

A role's ``PermissionsBoundary`` is a reference to a managed policy, not a document, and is
not a target of its own. The CLI decodes documents into objects, which keep their positions
in the export. The raw API returns them URL-encoded; those are decoded and read without
positions (offsets in the decoded text are not offsets in the file).
"""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import unquote

from policyengine.lint.finding import LintTarget, PolicyType
from policyengine.lint.inputs._targets import FileContext, items, members, parse_detached, string_target, text_of
from policyengine.parsing.json_tree import JNode

_AWS_MANAGED = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/")

_PRINCIPAL_LISTS = (
    ("UserDetailList", "user", "UserName", "UserPolicyList"),
    ("GroupDetailList", "group", "GroupName", "GroupPolicyList"),
    ("RoleDetailList", "role", "RoleName", "RolePolicyList"),
)


def detect(root: JNode) -> bool:
    """The export's principal lists, or a ``Policies`` list of versioned managed policies."""
    found = members(root)
    if any(name in found for name, _, _, _ in _PRINCIPAL_LISTS):
        return True
    policies = items(found["Policies"]) if "Policies" in found else []
    return bool(policies) and all("PolicyVersionList" in members(p) for p in policies)


def extract(ctx: FileContext, root: JNode) -> list[LintTarget]:
    """One target per inline policy, role trust policy and managed policy default version."""
    found = members(root)
    targets: list[LintTarget] = []
    for list_name, kind, name_key, policy_list in _PRINCIPAL_LISTS:
        if list_name in found:
            for entry in _entries(ctx, found[list_name], list_name):
                targets += _principal_targets(ctx, entry, list_name, kind, name_key, policy_list)
    if "Policies" in found:
        for entry in _entries(ctx, found["Policies"], "Policies"):
            target = _managed_policy_target(ctx, entry)
            if target is not None:
                targets.append(target)
    return targets


def _entries(ctx: FileContext, node: JNode, list_name: str) -> list[JNode]:
    if node.kind != "array":
        ctx.error(f"`{list_name}` must be a list", node)
        return []
    result = []
    for entry in items(node):
        if entry.kind == "object":
            result.append(entry)
        else:
            ctx.error(f"each entry of `{list_name}` must be an object", entry)
    return result


def _principal_targets(
    ctx: FileContext, entry: JNode, list_name: str, kind: str, name_key: str, policy_list: str
) -> list[LintTarget]:
    found = members(entry)
    name = text_of(found.get(name_key))
    if name is None:
        ctx.error(f"a `{list_name}` entry has no `{name_key}` string", entry)
        return []
    principal = f"{kind}/{name}"
    targets: list[LintTarget] = []
    if kind == "role":
        trust = found.get("AssumeRolePolicyDocument")
        if trust is None:
            ctx.error(f"{principal} has no `AssumeRolePolicyDocument`", entry)
        else:
            targets.append(document_target(ctx, trust, "trust", f"{principal} trust policy"))
    inline = found.get(policy_list)
    if inline is None:
        return targets
    for policy in _entries(ctx, inline, policy_list):
        policy_members = members(policy)
        policy_name = text_of(policy_members.get("PolicyName"))
        document = policy_members.get("PolicyDocument")
        if policy_name is None or document is None:
            ctx.error(f"an inline policy of {principal} needs `PolicyName` and `PolicyDocument`", policy)
            continue
        targets.append(document_target(ctx, document, "identity", f'{principal} inline policy "{policy_name}"'))
    return targets


def _managed_policy_target(ctx: FileContext, entry: JNode) -> LintTarget | None:
    found = members(entry)
    name = text_of(found.get("Arn")) or text_of(found.get("PolicyName"))
    if name is None:
        ctx.error("a managed policy has neither `Arn` nor `PolicyName`", entry)
        return None
    versions = found.get("PolicyVersionList")
    if versions is None:
        ctx.error(f"managed policy {name} has no `PolicyVersionList`", entry)
        return None
    default = next(
        (v for v in _entries(ctx, versions, "PolicyVersionList") if _is_true(members(v).get("IsDefaultVersion"))), None
    )
    if default is None:
        ctx.error(f"managed policy {name} has no version with `IsDefaultVersion` true", versions)
        return None
    version_members = members(default)
    document = version_members.get("Document")
    if document is None:
        ctx.error(f"the default version of managed policy {name} has no `Document`", default)
        return None
    version = text_of(version_members.get("VersionId"))
    owner = f"managed policy {name}" + (f" ({version})" if version else "")
    boundary_only = _count(found.get("AttachmentCount")) == 0 and _count(found.get("PermissionsBoundaryUsageCount")) > 0
    target = document_target(ctx, document, "boundary" if boundary_only else "identity", owner)
    if _AWS_MANAGED.match(name):
        target = dataclasses.replace(target, authored_by_aws=True)
    return target


def document_target(ctx: FileContext, node: JNode, policy_type: PolicyType, owner: str) -> LintTarget:
    """A policy document as the export holds it: an object, a JSON string or URL-encoded JSON."""
    if node.kind != "string":
        return ctx.target(policy_type, node, owner=owner)
    if node.value.lstrip().startswith("{"):
        return string_target(ctx, node, policy_type, owner)
    decoded = unquote(node.value)
    root, issues = parse_detached(decoded, "URL-decoded policy")
    if root is None:
        return ctx.target(policy_type, owner=owner, issues=issues)
    return ctx.target(policy_type, root, owner=owner, size=len(decoded))


def _is_true(node: JNode | None) -> bool:
    return node is not None and node.kind == "boolean" and node.value is True


def _count(node: JNode | None) -> int:
    if node is None or node.kind != "number":
        return -1
    try:
        return int(node.value)
    except ValueError:
        return -1
