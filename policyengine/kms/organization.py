"""What AWS Organizations adds to a KMS call: the organization of the caller's and of the key's
account, and the resource control policies (RCPs) that guard the key's account.

A caller carries its own account's SCPs (``Caller.scp_levels``), because SCPs follow the
principal. RCPs follow the resource, and ``aws:ResourceOrgID``/``aws:ResourceOrgPaths`` describe
the key's account, so they are looked up here by account when a key is used. The local KMS starts
with no organization; a seeded snapshot (``policyengine.server.seed``) fills one in.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from policyengine.evaluator.compiled import CompiledPolicy

__all__ = ["AccountOrganization", "Organization"]

Levels = tuple[tuple[CompiledPolicy, ...], ...]


@dataclass(frozen=True)
class AccountOrganization:
    """One account's place in an organization and the RCPs at each level above it (root first)."""

    org_id: str | None
    org_path: str | None  # ``o-abc/r-ab12/ou-ab12-1111/`` as aws:PrincipalOrgPaths holds it
    rcp_levels: Levels | None = None


class Organization:
    """Accounts' organization facts, shared by every region view of one local KMS (set in place)."""

    def __init__(self) -> None:
        self._accounts: dict[str, AccountOrganization] = {}
        self.management_account: str | None = None
        self._lock = threading.Lock()

    def set(self, accounts: Mapping[str, AccountOrganization], management_account: str | None) -> None:
        """Replace every account's facts (a new snapshot replaces the last one)."""
        with self._lock:
            self._accounts = dict(accounts)
            self.management_account = management_account

    def clear(self) -> None:
        self.set({}, None)

    def __bool__(self) -> bool:
        return bool(self._accounts)

    def rcp_levels(self, account: str) -> Levels | None:
        found = self._accounts.get(account)
        return found.rcp_levels if found is not None else None

    def principal_context(self, account: str) -> dict[str, Any]:
        """``aws:PrincipalOrgID`` and ``aws:PrincipalOrgPaths`` of a caller in ``account``."""
        return self._context(account, "Principal")

    def resource_context(self, account: str) -> dict[str, Any]:
        """``aws:ResourceOrgID`` and ``aws:ResourceOrgPaths`` of a key in ``account``."""
        return self._context(account, "Resource")

    def _context(self, account: str, side: str) -> dict[str, Any]:
        found = self._accounts.get(account)
        if found is None or found.org_id is None:
            return {}
        context: dict[str, Any] = {f"aws:{side}OrgID": found.org_id}
        if found.org_path is not None:
            context[f"aws:{side}OrgPaths"] = [found.org_path]
        return context
