"""Putting imports together: one snapshot from several exports and an optional base snapshot.

Exports hold what AWS's APIs show per account; the organization (its id, OU paths, SCP and RCP
levels) comes from saved Organizations outputs or a hand-written base snapshot. Accounts are
merged by id: lists are joined, and what the base says about an account's place in the
organization (OU path, SCP and RCP levels) is kept whole, never joined with an import's.
"""

from __future__ import annotations

from typing import Any

from policyengine.access.importers._common import PLACE_FIELDS, Imported
from policyengine.access.loader import snapshot_from_data
from policyengine.access.snapshot import Snapshot


def build_snapshot(imported: Imported, base: Snapshot | None = None, source: str = "import") -> Snapshot:
    """A validated snapshot: ``base`` (if any) with the imported accounts, policies and unused items merged in."""
    data: dict[str, Any] = base.model_dump(mode="json", exclude_defaults=True) if base is not None else {}
    accounts = {a["id"]: a for a in data.get("accounts", [])}
    order = [a["id"] for a in data.get("accounts", [])]
    for account_id, incoming in imported.accounts.items():
        mine = accounts.get(account_id)
        if mine is None:
            accounts[account_id] = dict(incoming)
            order.append(account_id)
            continue
        for name, value in incoming.items():
            if isinstance(value, list) and name not in PLACE_FIELDS:
                mine[name] = [*mine.get(name, []), *value]
            elif name not in mine:
                mine[name] = value
    data["accounts"] = [accounts[a] for a in order]
    if imported.organization is not None and data.get("organization") is None:
        data["organization"] = {k: v for k, v in imported.organization.items() if v is not None}
    known = {p["arn"] for p in data.get("aws_managed_policies", [])}
    data["aws_managed_policies"] = [
        *data.get("aws_managed_policies", []),
        *(p for a, p in imported.aws_managed.items() if a not in known),
    ]
    data["unused"] = [*data.get("unused", []), *imported.unused]
    return snapshot_from_data(data, source)
