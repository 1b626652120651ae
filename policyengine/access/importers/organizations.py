"""Saved ``aws organizations`` outputs to the organization part of a snapshot: OU paths, SCP and RCP levels.

The layout is one file per command, and per parent, child, target or policy where the command
takes one (the id goes in the file name, or the file sits in a folder named by the id)::

    DIR/describe-organization.json                       aws organizations describe-organization
    DIR/list-roots.json                                  aws organizations list-roots
    DIR/list-accounts.json                               aws organizations list-accounts
    DIR/list-organizational-units-for-parent-<ID>.json   ... list-organizational-units-for-parent --parent-id <ID>
    DIR/list-parents-<ID>.json                           ... list-parents --child-id <ID>      (accounts, OUs)
    DIR/list-policies-for-target-<ID>-scp.json           ... list-policies-for-target --target-id <ID>
                                                             --filter SERVICE_CONTROL_POLICY  (root, OUs, accounts)
    DIR/list-policies-for-target-<ID>-rcp.json           ... --filter RESOURCE_CONTROL_POLICY
    DIR/describe-policy-<POLICY-ID>.json                 ... describe-policy --policy-id <POLICY-ID>
    (or DIR/<ID>/list-parents.json, DIR/<ID>/list-policies-for-target-scp.json, ...)

An account's place comes from ``list-parents`` (account to OU) and from ``list-parents`` or
``list-organizational-units-for-parent`` (OU to its parent), up to the root. Each level of the
path (root, OUs, the account) becomes one SCP level and one RCP level. A policy's type is read
from the ``list-policies-for-target`` entries themselves, so the suffix after the id is free.

As AWS does: ``RCPFullAWSAccess`` is attached to every root, OU and account once RCPs are enabled
and cannot be detached, so every RCP level holds it whether the export lists it or not; the
contents of ``FullAWSAccess`` and ``RCPFullAWSAccess`` are known without ``describe-policy``
(Organizations UG, "Resource control policies", "Service control policies"). A level whose
policies were not exported is taken as allowing everything and listed in ``unused``, as is a
policy whose contents are missing and an account whose place in the tree is unknown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policyengine.access.errors import SnapshotError
from policyengine.access.importers._common import Imported, document, need, read_json, read_optional

SCP = "SERVICE_CONTROL_POLICY"
RCP = "RESOURCE_CONTROL_POLICY"
_TYPES = {SCP: "scps", RCP: "rcps"}
_WORD = {SCP: "SCP", RCP: "RCP"}
#: AWS managed policies whose contents AWS publishes: taken as known when ``describe-policy`` was not saved.
FULL_ACCESS: dict[str, tuple[str, dict[str, Any]]] = {
    SCP: ("FullAWSAccess", {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    RCP: (
        "RCPFullAWSAccess",
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]},
    ),
}
_FULL_IDS = {"p-FullAWSAccess": SCP, "p-RCPFullAWSAccess": RCP}
_ID = r"(?P<id>r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|\d{12}|p-[0-9A-Za-z_]{8,128})"
_PER_ID = ("list-organizational-units-for-parent", "list-parents", "list-policies-for-target", "describe-policy")


def _per_id_files(root: Path) -> Iterator[tuple[str, str, Path]]:
    """(command, id, path) for every per-id output: ``<command>-<id>[-suffix].json`` or ``<id>/<command>[-suffix].json``."""
    for path in sorted(root.rglob("*.json")):
        rel = path.relative_to(root)
        for command in _PER_ID:
            flat = re.fullmatch(rf"{command}-{_ID}(?:-[\w.-]+)?\.json", path.name)
            if flat is not None:
                yield command, flat["id"], path
                break
            parent = re.fullmatch(_ID, rel.parent.name) if len(rel.parts) >= 2 else None
            if parent is not None and re.fullmatch(rf"{command}(?:-[\w.-]+)?\.json", path.name):
                yield command, parent["id"], path
                break


@dataclass
class _Tree:
    """What the files say, gathered before accounts are placed."""

    parents: dict[str, str] = field(default_factory=dict)
    roots: set[str] = field(default_factory=set)
    attached: dict[str, dict[str, list[tuple[str, str, Path]]]] = field(default_factory=dict)
    contents: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    enabled: set[str] = field(default_factory=set)
    policy_types_known: bool = False


def import_organization(directory: str | Path) -> Imported:
    """Read saved Organizations outputs under ``directory`` into accounts' OU paths and SCP/RCP levels."""
    root = Path(directory)
    if not root.is_dir():
        raise SnapshotError(str(root), "", "not a folder of saved `aws organizations` outputs")
    out = Imported()
    tree = _Tree()
    described = read_optional(root / "describe-organization.json", "describe-organization output")
    if described is not None:
        organization = need(described, "Organization", str(root / "describe-organization.json"), "")
        out.organization = {
            "id": need(organization, "Id", str(root / "describe-organization.json"), "Organization"),
            "management_account": organization.get("MasterAccountId"),
        }
        for entry in organization.get("AvailablePolicyTypes") or ():
            if entry.get("Status") == "ENABLED" and entry.get("Type") in _TYPES:
                tree.enabled.add(entry["Type"])
    _roots(root, tree)
    for command, ident, path in _per_id_files(root):
        _per_id(out, tree, command, ident, path)
    accounts_path = root / "list-accounts.json"
    listed = read_optional(accounts_path, "list-accounts output")
    if listed is None:
        raise SnapshotError(str(root), "", "no list-accounts.json (aws organizations list-accounts): the accounts are unknown")
    if not isinstance(listed, dict) or not isinstance(listed.get("Accounts"), list):
        raise SnapshotError(str(accounts_path), "Accounts", "missing (is this a list-accounts output?)")
    if listed.get("NextToken"):
        out.skip(str(accounts_path), "list-accounts", "one page of several: accounts on later pages are not in the snapshot")
    for i, entry in enumerate(listed["Accounts"]):
        account_id = str(need(entry, "Id", str(accounts_path), f"Accounts[{i}]"))
        _account(out, tree, account_id, entry.get("Name"), str(root))
    return out


def _roots(root: Path, tree: _Tree) -> None:
    path = root / "list-roots.json"
    listed = read_optional(path, "list-roots output")
    if listed is None:
        return
    if not isinstance(listed, dict) or not isinstance(listed.get("Roots"), list):
        raise SnapshotError(str(path), "Roots", "missing (is this a list-roots output?)")
    for i, entry in enumerate(listed["Roots"]):
        tree.roots.add(str(need(entry, "Id", str(path), f"Roots[{i}]")))
        types = entry.get("PolicyTypes")
        if isinstance(types, list) and types:
            tree.policy_types_known = True
            tree.enabled.update(t["Type"] for t in types if t.get("Status") == "ENABLED" and t.get("Type") in _TYPES)


def _per_id(out: Imported, tree: _Tree, command: str, ident: str, path: Path) -> None:
    data = read_json(path, f"{command} output")
    if not isinstance(data, dict):
        raise SnapshotError(str(path), "", f"not a {command} output (expected a JSON object)")
    if data.get("NextToken"):
        out.skip(str(path), command, "one page of several: later pages were not saved and are not counted")
    if command == "list-organizational-units-for-parent":
        for i, unit in enumerate(_list(data, "OrganizationalUnits", path)):
            tree.parents[str(need(unit, "Id", str(path), f"OrganizationalUnits[{i}]"))] = ident
    elif command == "list-parents":
        parents = _list(data, "Parents", path)
        if parents:
            parent = str(need(parents[0], "Id", str(path), "Parents[0]"))
            tree.parents[ident] = parent
            if parents[0].get("Type") == "ROOT":
                tree.roots.add(parent)
    elif command == "list-policies-for-target":
        for i, summary in enumerate(_list(data, "Policies", path)):
            kind = summary.get("Type")
            if kind not in _TYPES:
                continue
            policy_id = str(need(summary, "Id", str(path), f"Policies[{i}]"))
            name = str(summary.get("Name") or policy_id)
            tree.attached.setdefault(ident, {}).setdefault(kind, []).append((policy_id, name, path))
            tree.enabled.add(kind)
        # An empty list still says which type was asked for when the file name does.
        for kind, suffix in ((SCP, "scp"), (RCP, "rcp")):
            if re.search(rf"(?:-|^){suffix}\b|{kind}", path.stem, re.IGNORECASE):
                tree.attached.setdefault(ident, {}).setdefault(kind, [])
    else:
        policy = need(data, "Policy", str(path), "")
        summary = need(policy, "PolicySummary", str(path), "Policy")
        content = document(policy.get("Content"))
        if content is None:
            raise SnapshotError(str(path), "Policy.Content", "missing or not a JSON policy (is this a describe-policy output?)")
        tree.contents[str(summary.get("Id") or ident)] = (str(summary.get("Name") or ident), content)


def _list(data: dict[str, Any], name: str, path: Path) -> list[dict[str, Any]]:
    value = data.get(name)
    if not isinstance(value, list):
        raise SnapshotError(str(path), name, f"missing (is this the output it is named after? expected `{name}`)")
    return [v for v in value if isinstance(v, dict)]


def _path_of(tree: _Tree, account_id: str) -> list[str] | None:
    """Root id, then OU ids down to the account's OU; ``None`` when a link is missing."""
    path: list[str] = []
    current = account_id
    while current in tree.parents and len(path) < 10:
        current = tree.parents[current]
        path.insert(0, current)
        if current.startswith("r-"):
            return path
    return None


def _account(out: Imported, tree: _Tree, account_id: str, name: Any, source: str) -> None:
    entry = out.account(account_id)
    if isinstance(name, str) and name:
        entry["name"] = name
    if out.organization is not None:
        entry["org_id"] = out.organization["id"]
    path = _path_of(tree, account_id)
    if path is None:
        out.skip(
            source,
            f"account {account_id}",
            "no list-parents output links it to the root: its OU path is unknown and SCPs and RCPs are not applied to it",
        )
        return
    entry["ou_path"] = path
    for kind in (SCP, RCP):
        if kind not in tree.enabled:
            continue
        entry[_TYPES[kind]] = [
            {"target": target, "policies": _level(out, tree, target, kind, source)} for target in [*path, account_id]
        ]


def _level(out: Imported, tree: _Tree, target: str, kind: str, source: str) -> list[dict[str, Any]]:
    word = _WORD[kind]
    full_name, full_doc = FULL_ACCESS[kind]
    attached = tree.attached.get(target, {}).get(kind)
    if attached is None:
        out.skip(
            source,
            f"{word}s of {target}",
            f"no list-policies-for-target output for {target} ({kind}): the level is taken as allowing everything",
        )
        return [{"name": full_name, "document": full_doc}]
    policies: list[dict[str, Any]] = []
    for policy_id, name, path in attached:
        found = tree.contents.get(policy_id)
        if found is not None:
            policies.append({"name": found[0], "document": found[1]})
        elif _FULL_IDS.get(policy_id) == kind:
            policies.append({"name": full_name, "document": full_doc})
        elif not any(u["item"] == f"{word} {policy_id}" for u in out.unused):
            out.skip(
                str(path),
                f"{word} {policy_id}",
                f"no describe-policy output for {name}: its statements are not counted "
                "(a level left with no policy allows nothing)",
            )
    if kind == RCP and not any(p["name"] == full_name for p in policies):
        policies.insert(0, {"name": full_name, "document": full_doc})
    return policies
