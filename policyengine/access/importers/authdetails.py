"""``aws iam get-account-authorization-details`` output to snapshot data (users, groups, roles, policies).

The export names managed policies by ARN and lists their versions under ``Policies``; only the
default version counts. When the export was filtered (``--filter LocalManagedPolicy`` leaves
out AWS managed policies), an attachment whose document is missing cannot be evaluated: it is
dropped and listed in ``unused`` with what that means (a missing allow can only make answers
stricter; a missing boundary can only make them looser).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from policyengine.access.errors import SnapshotError
from policyengine.access.importers._common import Imported, document, need, read_json, tags

_LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
#: The trust policy used when the exported one cannot be read: it admits nobody.
_NOBODY = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"}]}


def _account_of(arn: str, source: str, where: str) -> str:
    parts = arn.split(":")
    if len(parts) < 6 or parts[2] != "iam" or not parts[4].isdigit():
        raise SnapshotError(source, where, f"`{arn}` is not an IAM ARN")
    return parts[4]


def _inline(out: Imported, source: str, owner: str, entries: Any) -> list[dict[str, Any]]:
    found = []
    for entry in entries or ():
        name = entry.get("PolicyName", "?")
        doc = document(entry.get("PolicyDocument"))
        if doc is None:
            out.skip(source, f"{owner} inline policy {name}", "the policy document is not JSON: its permissions are not counted")
            continue
        found.append({"name": name, "document": doc})
    return found


def import_authdetails(path: str | Path) -> Imported:
    """Read one saved ``get-account-authorization-details`` output (all pages merged, as the CLI prints)."""
    source = str(path)
    data = read_json(Path(path), "authorization details")
    if not isinstance(data, dict) or not any(name in data for name in _LISTS):
        raise SnapshotError(source, "", f"not an authorization-details export (expected {', '.join(_LISTS)})")
    if data.get("IsTruncated"):
        raise SnapshotError(source, "IsTruncated", "the export is one page of several: save it with the CLI's automatic paging")
    out = Imported()
    managed: dict[str, dict[str, Any]] = {}
    accounts: set[str] = set()
    for i, policy in enumerate(data.get("Policies") or ()):
        where = f"Policies[{i}]"
        arn = need(policy, "Arn", source, where)
        default = policy.get("DefaultVersionId")
        versions = policy.get("PolicyVersionList") or []
        chosen = next((v for v in versions if v.get("IsDefaultVersion") or v.get("VersionId") == default), None)
        doc = document(chosen.get("Document")) if chosen else None
        if doc is None:
            out.skip(source, arn, "no readable default policy version: attachments of this policy are not counted")
            continue
        entry = {"arn": arn, "name": policy.get("PolicyName"), "document": doc}
        if arn.startswith("arn:aws:iam::aws:policy/") or ":iam::aws:policy/" in arn:
            out.aws_managed[arn] = entry
        else:
            managed[arn] = entry
    groups: dict[str, dict[str, Any]] = {}
    for i, group in enumerate(data.get("GroupDetailList") or ()):
        where = f"GroupDetailList[{i}]"
        name = need(group, "GroupName", source, where)
        account = _account_of(need(group, "Arn", source, where), source, f"{where}.Arn")
        accounts.add(account)
        groups[name] = {
            "name": name,
            "path": group.get("Path") or "/",
            "inline_policies": _inline(out, source, f"group/{name}", group.get("GroupPolicyList")),
            "managed_policies": _attached(out, source, f"group/{name}", group.get("AttachedManagedPolicies"), managed),
        }
    users = []
    for i, user in enumerate(data.get("UserDetailList") or ()):
        where = f"UserDetailList[{i}]"
        name = need(user, "UserName", source, where)
        accounts.add(_account_of(need(user, "Arn", source, where), source, f"{where}.Arn"))
        member_of = []
        for group_name in user.get("GroupList") or ():
            if group_name in groups:
                member_of.append(group_name)
            else:
                out.skip(
                    source, f"user/{name} group {group_name}", "the group is not in the export: its policies are not counted"
                )
        users.append(
            {
                "name": name,
                "path": user.get("Path") or "/",
                "id": user.get("UserId"),
                "groups": member_of,
                "inline_policies": _inline(out, source, f"user/{name}", user.get("UserPolicyList")),
                "managed_policies": _attached(out, source, f"user/{name}", user.get("AttachedManagedPolicies"), managed),
                "permissions_boundary": _boundary(out, source, f"user/{name}", user.get("PermissionsBoundary"), managed),
                "tags": tags(user.get("Tags")),
            }
        )
    roles = []
    for i, role in enumerate(data.get("RoleDetailList") or ()):
        where = f"RoleDetailList[{i}]"
        name = need(role, "RoleName", source, where)
        accounts.add(_account_of(need(role, "Arn", source, where), source, f"{where}.Arn"))
        trust = document(role.get("AssumeRolePolicyDocument"))
        if trust is None:
            out.skip(source, f"role/{name}", "no readable trust policy: nobody is counted as able to assume the role")
            trust = _NOBODY
        roles.append(
            {
                "name": name,
                "path": role.get("Path") or "/",
                "id": role.get("RoleId"),
                "trust_policy": trust,
                "inline_policies": _inline(out, source, f"role/{name}", role.get("RolePolicyList")),
                "managed_policies": _attached(out, source, f"role/{name}", role.get("AttachedManagedPolicies"), managed),
                "permissions_boundary": _boundary(out, source, f"role/{name}", role.get("PermissionsBoundary"), managed),
                "tags": tags(role.get("Tags")),
            }
        )
    accounts.update(_account_of(arn, source, "Policies") for arn in managed)
    if len(accounts) > 1:
        raise SnapshotError(source, "", f"the export mixes accounts {', '.join(sorted(accounts))}: save one file per account")
    if not accounts:
        raise SnapshotError(source, "", "the export holds no user, group, role or customer managed policy")
    entry = out.account(accounts.pop())
    entry["users"] = [_clean(u) for u in users]
    entry["groups"] = list(groups.values())
    entry["roles"] = [_clean(r) for r in roles]
    entry["managed_policies"] = list(managed.values())
    return out


def _attached(out: Imported, source: str, owner: str, entries: Any, managed: dict[str, dict[str, Any]]) -> list[str]:
    found = []
    for entry in entries or ():
        arn = entry.get("PolicyArn")
        if not arn:
            continue
        if arn in managed or arn in out.aws_managed:
            found.append(arn)
        else:
            out.skip(
                source, f"{owner} attachment {arn}", "the managed policy is not in the export: its permissions are not counted"
            )
    return found


def _boundary(out: Imported, source: str, owner: str, entry: Any, managed: dict[str, dict[str, Any]]) -> str | None:
    if not isinstance(entry, dict) or not entry.get("PermissionsBoundaryArn"):
        return None
    arn = str(entry["PermissionsBoundaryArn"])
    if arn in managed or arn in out.aws_managed:
        return arn
    out.skip(
        source,
        f"{owner} permissions boundary {arn}",
        "the boundary policy is not in the export: answers may allow more than AWS would",
    )
    return None


def _clean(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if v not in (None, [], {})}
