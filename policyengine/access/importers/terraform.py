"""A Terraform plan (``terraform show -json plan.out``) to snapshot data: IAM and KMS resources as planned.

Planned values are read from ``planned_values`` (modules included). A value Terraform only
knows after apply (a role name from ``name_prefix``, a key id) is taken from the
configuration's references where it names another resource of the plan (``aws_iam_role.app.name``),
or synthesised from the resource address for ids and ARNs (``tf-aws_kms_key.main``), which
changes nothing about who may do what. A policy document that is not known at plan time
cannot be evaluated: its resource is listed in ``unused``. Resources of other types are
counted in one ``unused`` line, by type.

Resources read: aws_iam_user, aws_iam_group, aws_iam_role, aws_iam_policy, aws_iam_user_policy,
aws_iam_group_policy, aws_iam_role_policy, aws_iam_{user,group,role}_policy_attachment,
aws_iam_user_group_membership, aws_iam_group_membership, aws_kms_key, aws_kms_key_policy,
aws_kms_alias, aws_kms_grant. A key without a policy gets AWS's default key policy, as
CreateKey does (KMS DG, "Default key policy").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from policyengine.access.errors import SnapshotError
from policyengine.access.importers._common import Imported, document, read_json, tags
from policyengine.key_policies import default_key_policy_json

_HANDLED = {
    "aws_iam_user",
    "aws_iam_group",
    "aws_iam_role",
    "aws_iam_policy",
    "aws_iam_user_policy",
    "aws_iam_group_policy",
    "aws_iam_role_policy",
    "aws_iam_user_policy_attachment",
    "aws_iam_group_policy_attachment",
    "aws_iam_role_policy_attachment",
    "aws_iam_user_group_membership",
    "aws_iam_group_membership",
    "aws_kms_key",
    "aws_kms_key_policy",
    "aws_kms_alias",
    "aws_kms_grant",
}


def _resources(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from module.get("resources", ())
    for child in module.get("child_modules", ()):
        yield from _resources(child)


def _config_resources(module: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    for resource in module.get("resources", ()):
        yield prefix + str(resource.get("address")), resource
    for name, call in (module.get("module_calls") or {}).items():
        yield from _config_resources(call.get("module", {}), f"{prefix}module.{name}.")


class _Plan:
    def __init__(self, data: dict[str, Any], source: str, account: str | None, region: str | None) -> None:
        self.source = source
        self.out = Imported()
        root = (data.get("planned_values") or {}).get("root_module")
        if not isinstance(root, dict):
            raise SnapshotError(source, "planned_values.root_module", "missing (is this `terraform show -json` of a plan?)")
        self.resources = [r for r in _resources(root) if r.get("mode", "managed") == "managed"]
        self.config = dict(_config_resources((data.get("configuration") or {}).get("root_module") or {}))
        found = account or self._account_from_plan()
        if found is None:
            raise SnapshotError(source, "", "the plan does not say which account it is for: pass the account id")
        self.account: str = found
        provider = ((data.get("configuration") or {}).get("provider_config") or {}).get("aws") or {}
        planned_region = ((provider.get("expressions") or {}).get("region") or {}).get("constant_value")
        self.region = region or (str(planned_region) if planned_region else "us-east-1")
        self.by_address = {str(r.get("address")): r for r in self.resources}

    def _account_from_plan(self) -> str | None:
        for resource in self.resources:
            for value in (resource.get("values") or {}).values():
                if isinstance(value, str) and value.startswith("arn:aws:") and value.split(":")[4:5] != [""]:
                    account = value.split(":")[4]
                    if account.isdigit() and len(account) == 12:
                        return account
        return None

    def value(self, resource: dict[str, Any], name: str) -> Any:
        return (resource.get("values") or {}).get(name)

    def reference(self, resource: dict[str, Any], name: str) -> dict[str, Any] | None:
        """The plan resource a configuration expression points at (``aws_iam_role.app.name``)."""
        config = self.config.get(str(resource.get("address")).split("[")[0])
        expression = ((config or {}).get("expressions") or {}).get(name) or {}
        for ref in expression.get("references", ()):
            parts = str(ref).split(".")
            for cut in range(len(parts), 1, -1):
                target = self.by_address.get(".".join(parts[:cut]))
                if target is not None:
                    return target
        return None

    def name_of(self, resource: dict[str, Any]) -> str:
        return str(self.value(resource, "name") or f"tf-{resource.get('address')}")

    def policy_arn(self, resource: dict[str, Any]) -> str:
        path = self.value(resource, "path") or "/"
        return str(self.value(resource, "arn") or f"arn:aws:iam::{self.account}:policy{path}{self.name_of(resource)}")

    def key_id(self, resource: dict[str, Any]) -> str:
        return str(self.value(resource, "key_id") or f"tf-{resource.get('address')}")

    def target(self, resource: dict[str, Any], field: str, kind: str) -> str | None:
        """The name (or key id / policy ARN) a field names, directly or through a reference."""
        referenced = self.reference(resource, field)
        if referenced is not None and referenced.get("type") == kind:
            if kind == "aws_kms_key":
                return self.key_id(referenced)
            if kind == "aws_iam_policy":
                return self.policy_arn(referenced)
            return self.name_of(referenced)
        value = self.value(resource, field)
        return str(value) if value else None

    def policy_doc(self, resource: dict[str, Any], field: str = "policy") -> dict[str, Any] | None:
        doc = document(self.value(resource, field))
        if doc is None:
            self.out.skip(
                self.source, str(resource.get("address")), f"`{field}` is not known at plan time or not JSON: not counted"
            )
        return doc

    def run(self) -> Imported:
        account = self.out.account(self.account)
        users: dict[str, dict[str, Any]] = {}
        groups: dict[str, dict[str, Any]] = {}
        roles: dict[str, dict[str, Any]] = {}
        keys: dict[str, dict[str, Any]] = {}
        managed: list[dict[str, Any]] = []
        later: list[dict[str, Any]] = []
        other: Counter[str] = Counter()
        for resource in self.resources:
            kind = str(resource.get("type"))
            if kind not in _HANDLED:
                other[kind] += 1
            elif kind == "aws_iam_user":
                users[self.name_of(resource)] = {
                    "name": self.name_of(resource),
                    "path": self.value(resource, "path") or "/",
                    "tags": tags(self.value(resource, "tags")),
                }
            elif kind == "aws_iam_group":
                groups[self.name_of(resource)] = {"name": self.name_of(resource), "path": self.value(resource, "path") or "/"}
            elif kind == "aws_iam_role":
                roles[self.name_of(resource)] = self.role(resource)
            elif kind == "aws_iam_policy":
                doc = self.policy_doc(resource)
                if doc is not None:
                    managed.append({"arn": self.policy_arn(resource), "name": self.name_of(resource), "document": doc})
            elif kind == "aws_kms_key":
                keys[self.key_id(resource)] = self.key(resource)
            else:
                later.append(resource)
        for resource in later:
            self.attach(resource, users, groups, roles, keys)
        if other:
            listing = ", ".join(f"{kind} ({n})" for kind, n in sorted(other.items()))
            self.out.skip(self.source, "other resources", f"not IAM or KMS resources, not read: {listing}")
        account["users"] = list(users.values())
        account["groups"] = list(groups.values())
        account["roles"] = [r for r in roles.values() if r.get("trust_policy") is not None]
        account["keys"] = list(keys.values())
        account["managed_policies"] = managed
        return self.out

    def role(self, resource: dict[str, Any]) -> dict[str, Any]:
        name = self.name_of(resource)
        trust = self.policy_doc(resource, "assume_role_policy")
        inline = []
        for block in self.value(resource, "inline_policy") or ():
            doc = document(block.get("policy"))
            if doc is not None and block.get("name"):
                inline.append({"name": block["name"], "document": doc})
        role: dict[str, Any] = {
            "name": name,
            "path": self.value(resource, "path") or "/",
            "trust_policy": trust,
            "inline_policies": inline,
            "managed_policies": list(self.value(resource, "managed_policy_arns") or ()),
            "tags": tags(self.value(resource, "tags")),
        }
        if self.value(resource, "permissions_boundary"):
            role["permissions_boundary"] = self.value(resource, "permissions_boundary")
        return role

    def key(self, resource: dict[str, Any]) -> dict[str, Any]:
        key_id = self.key_id(resource)
        policy = document(self.value(resource, "policy"))
        if policy is None:
            if self.value(resource, "policy") not in (None, ""):
                self.out.skip(
                    self.source,
                    str(resource.get("address")),
                    "`policy` is not known at plan time: the default key policy is assumed",
                )
            policy = default_key_policy_json(self.account)
        return {
            "id": key_id,
            "region": self.region,
            "arn": self.value(resource, "arn") or f"arn:aws:kms:{self.region}:{self.account}:key/{key_id}",
            "policy": policy,
            "state": "Enabled" if self.value(resource, "is_enabled") is not False else "Disabled",
            "spec": self.value(resource, "customer_master_key_spec") or self.value(resource, "key_spec") or "SYMMETRIC_DEFAULT",
            "usage": self.value(resource, "key_usage") or "ENCRYPT_DECRYPT",
            "multi_region": bool(self.value(resource, "multi_region")),
            "description": self.value(resource, "description") or "",
            "tags": tags(self.value(resource, "tags")),
            "aliases": [],
            "grants": [],
        }

    def attach(
        self,
        resource: dict[str, Any],
        users: dict[str, dict[str, Any]],
        groups: dict[str, dict[str, Any]],
        roles: dict[str, dict[str, Any]],
        keys: dict[str, dict[str, Any]],
    ) -> None:
        kind = str(resource.get("type"))
        address = str(resource.get("address"))
        owners = {"user": (users, "aws_iam_user"), "group": (groups, "aws_iam_group"), "role": (roles, "aws_iam_role")}
        for word, (table, owner_kind) in owners.items():
            if kind == f"aws_iam_{word}_policy":
                owner = table.get(self.target(resource, word, owner_kind) or "")
                doc = self.policy_doc(resource)
                if owner is None:
                    self.out.skip(self.source, address, f"its {word} is not in the plan: not counted")
                elif doc is not None:
                    owner.setdefault("inline_policies", []).append({"name": self.name_of(resource), "document": doc})
                return
            if kind == f"aws_iam_{word}_policy_attachment":
                owner = table.get(self.target(resource, word, owner_kind) or "")
                arn = self.target(resource, "policy_arn", "aws_iam_policy")
                if owner is None or arn is None:
                    self.out.skip(self.source, address, f"its {word} or policy is not known at plan time: not counted")
                else:
                    owner.setdefault("managed_policies", []).append(arn)
                return
        if kind == "aws_iam_user_group_membership":
            user = users.get(self.target(resource, "user", "aws_iam_user") or "")
            if user is None:
                self.out.skip(self.source, address, "its user is not in the plan: not counted")
            else:
                user.setdefault("groups", []).extend(str(g) for g in self.value(resource, "groups") or ())
        elif kind == "aws_iam_group_membership":
            group = self.target(resource, "group", "aws_iam_group")
            for name in self.value(resource, "users") or ():
                if name in users and group:
                    users[name].setdefault("groups", []).append(group)
                else:
                    self.out.skip(self.source, address, f"user `{name}` is not in the plan: membership not counted")
        elif kind in ("aws_kms_key_policy", "aws_kms_alias", "aws_kms_grant"):
            field = "target_key_id" if kind == "aws_kms_alias" else "key_id"
            key = keys.get(self.target(resource, field, "aws_kms_key") or "")
            if key is None:
                self.out.skip(self.source, address, "its key is not in the plan: not counted")
            elif kind == "aws_kms_key_policy":
                doc = self.policy_doc(resource)
                if doc is not None:
                    key["policy"] = doc
            elif kind == "aws_kms_alias":
                key["aliases"].append(str(self.value(resource, "name")))
            else:
                grant = self.grant(resource)
                if grant["grantee_principal"]:
                    key["grants"].append(grant)
                else:
                    self.out.skip(self.source, address, "its grantee is not known at plan time: not counted")

    def grant(self, resource: dict[str, Any]) -> dict[str, Any]:
        grant: dict[str, Any] = {
            "grant_id": str(self.value(resource, "grant_id") or f"tf-{resource.get('address')}"),
            "grantee_principal": self.value(resource, "grantee_principal"),
            "operations": list(self.value(resource, "operations") or ()),
        }
        for block in self.value(resource, "constraints") or ():
            for field in ("encryption_context_equals", "encryption_context_subset"):
                if block.get(field):
                    grant["constraints"] = {field: dict(block[field])}
        if self.value(resource, "retiring_principal"):
            grant["retiring_principal"] = self.value(resource, "retiring_principal")
        return grant


def import_terraform_plan(path: str | Path, *, account: str | None = None, region: str | None = None) -> Imported:
    """Read ``terraform show -json`` output of a plan."""
    source = str(path)
    data = read_json(Path(path), "Terraform plan JSON")
    if not isinstance(data, dict) or "format_version" not in data:
        raise SnapshotError(source, "format_version", "missing (is this `terraform show -json` output?)")
    return _Plan(data, source, account, region).run()
