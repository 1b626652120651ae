"""What ``snapshot pull`` reads, saved as the raw exports ``snapshot import`` reads, in a folder a re-run resumes.

The folder (``--exports DIR``)::

    DIR/organization/...                            the --organization layout (from the caller's account)
    DIR/<account>/iam/get-account-authorization-details.json
    DIR/<account>/kms/<region>/...                  the --kms-dir layout (flat: describe-key-<key-id>.json, ...)
    DIR/<account>/describe-regions.json             when regions were not given

Every output is written whole (to a temporary name, then renamed) once its last page is read,
and an output already there is read back instead of asked again: an interrupted pull, run
again, goes on where it stopped. What AWS refused is not written, so a re-run asks again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from policyengine.access.importers.organizations import RCP, SCP
from policyengine.access.pull.aws import Aws

_SUFFIX = {SCP: "scp", RCP: "rcp"}


class Exports:
    """The raw-exports folder: where each output goes, and whether it is already there."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def fetch(self, path: Path, ask: Callable[[], dict[str, Any] | None]) -> dict[str, Any] | None:
        """The saved output at ``path``, or ``ask()``'s answer saved there (nothing saved when AWS refused)."""
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else None
        answer = ask()
        if answer is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.partial")
            partial.write_text(json.dumps(answer, indent=2) + "\n", encoding="utf-8")
            os.replace(partial, path)
        return answer


def pull_organization(aws: Aws, exports: Exports) -> list[str]:
    """The caller's organization (tree, accounts, SCPs and RCPs); its active account ids, or none when not readable."""
    base = exports.root / "organization"
    described = exports.fetch(
        base / "describe-organization.json", partial(aws.call, "organizations", "DescribeOrganization", None)
    )
    if described is None:
        return []
    roots = exports.fetch(base / "list-roots.json", partial(aws.call, "organizations", "ListRoots", None))
    accounts = exports.fetch(base / "list-accounts.json", partial(aws.call, "organizations", "ListAccounts", None))
    if roots is None or accounts is None:
        return []
    enabled = {t["Type"] for t in described["Organization"].get("AvailablePolicyTypes") or () if t.get("Status") == "ENABLED"}
    targets: list[str] = []
    queue = [str(r["Id"]) for r in roots.get("Roots", ())]
    for root in roots.get("Roots", ()):
        enabled.update(t["Type"] for t in root.get("PolicyTypes") or () if t.get("Status") == "ENABLED")
    while queue:
        parent = queue.pop(0)
        targets.append(parent)
        units = exports.fetch(
            base / f"list-organizational-units-for-parent-{parent}.json",
            partial(aws.call, "organizations", "ListOrganizationalUnitsForParent", None, ParentId=parent),
        )
        queue.extend(str(u["Id"]) for u in (units or {}).get("OrganizationalUnits", ()))
    members = [str(a["Id"]) for a in accounts.get("Accounts", ())]
    for account in members:
        exports.fetch(
            base / f"list-parents-{account}.json",
            partial(aws.call, "organizations", "ListParents", None, ChildId=account),
        )
    policies: set[str] = set()
    for target in [*targets, *members]:
        for kind in (SCP, RCP):
            if kind not in enabled:
                continue
            listed = exports.fetch(
                base / f"list-policies-for-target-{target}-{_SUFFIX[kind]}.json",
                partial(aws.call, "organizations", "ListPoliciesForTarget", None, TargetId=target, Filter=kind),
            )
            policies.update(str(p["Id"]) for p in (listed or {}).get("Policies", ()))
    for policy in sorted(policies):
        exports.fetch(
            base / f"describe-policy-{policy}.json",
            partial(aws.call, "organizations", "DescribePolicy", None, PolicyId=policy),
        )
    return [str(a["Id"]) for a in accounts.get("Accounts", ()) if a.get("Status", "ACTIVE") == "ACTIVE"]


def pull_regions(aws: Aws, exports: Exports, fallback: str) -> list[str]:
    """The regions enabled for the account (``ec2:DescribeRegions``), or ``fallback`` when that is refused."""
    answer = exports.fetch(
        exports.root / aws.account / "describe-regions.json", partial(aws.call, "ec2", "DescribeRegions", fallback)
    )
    if answer is None:
        return [fallback]
    usable = ("opt-in-not-required", "opted-in")
    return sorted(str(r["RegionName"]) for r in answer.get("Regions", ()) if r.get("OptInStatus", usable[0]) in usable)


def pull_iam(aws: Aws, exports: Exports) -> None:
    """Users, groups, roles and policies of the account, every page of get-account-authorization-details in one file."""
    exports.fetch(
        exports.root / aws.account / "iam" / "get-account-authorization-details.json",
        partial(aws.call, "iam", "GetAccountAuthorizationDetails", None),
    )


def pull_kms(aws: Aws, exports: Exports, region: str) -> None:
    """Keys of one region: metadata, key policy, grants, tags; aliases for all of them."""
    folder = exports.root / aws.account / "kms" / region
    listed = exports.fetch(folder / "list-keys.json", partial(aws.call, "kms", "ListKeys", region))
    exports.fetch(folder / "list-aliases.json", partial(aws.call, "kms", "ListAliases", region))
    for entry in (listed or {}).get("Keys", ()):
        key = str(entry["KeyId"])
        exports.fetch(folder / f"describe-key-{key}.json", partial(aws.call, "kms", "DescribeKey", region, KeyId=key))
        exports.fetch(
            folder / f"get-key-policy-{key}.json",
            partial(aws.call, "kms", "GetKeyPolicy", region, KeyId=key, PolicyName="default"),
        )
        exports.fetch(folder / f"list-grants-{key}.json", partial(aws.call, "kms", "ListGrants", region, KeyId=key))
        exports.fetch(
            folder / f"list-resource-tags-{key}.json",
            partial(aws.call, "kms", "ListResourceTags", region, KeyId=key),
        )
