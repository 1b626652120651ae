"""``snapshot pull`` from start to end: which accounts and regions, reading each, and the snapshot built from it all.

The snapshot is always built from the raw exports by the same importers ``snapshot import``
uses, so a pulled snapshot and one imported from saved CLI outputs cannot disagree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policyengine.access.errors import SnapshotError
from policyengine.access.importers import Imported, build_snapshot, import_authdetails, import_kms_dir, import_organization
from policyengine.access.pull.aws import Aws, Calls, Note
from policyengine.access.pull.collect import Exports, pull_iam, pull_kms, pull_organization, pull_regions
from policyengine.access.snapshot import Snapshot

_ACCOUNT = re.compile(r"\d{12}")
_IAM_LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")


@dataclass(frozen=True)
class PullResult:
    """The snapshot, the accounts read, and what happened on the way."""

    snapshot: Snapshot
    accounts: list[str]
    calls: Calls


def pull(
    session: Any,
    exports_dir: str | Path,
    *,
    regions: Iterable[str] = (),
    accounts: Iterable[str] = (),
    all_accounts: bool = False,
    assume_role: str | None = None,
    base: Snapshot | None = None,
    on_call: Callable[[str], None] | None = None,
) -> PullResult:
    """Read the caller's account (or ``accounts``, or the whole organization) into ``exports_dir`` and a snapshot.

    ``session`` is a boto3 session holding the user's credentials; member accounts are read through
    ``assume_role`` (a role name, the same in every account, e.g. OrganizationAccountAccessRole).
    """
    root = Path(exports_dir)
    root.mkdir(parents=True, exist_ok=True)
    exports = Exports(root)
    calls = Calls(on_call=on_call)
    me = Aws.open(session, calls)
    wanted = list(dict.fromkeys(accounts))
    bad = [a for a in wanted if not _ACCOUNT.fullmatch(a)]
    if bad:
        raise SnapshotError("pull", "--accounts", f"`{bad[0]}` is not a 12-digit account id")
    if any(a != me.account for a in wanted) and assume_role is None:
        raise SnapshotError("pull", "--assume-role", "reading other accounts needs a role to assume in each (--assume-role NAME)")
    members = pull_organization(me, exports)
    if all_accounts:
        if not members:
            raise SnapshotError("pull", "--all-accounts", "the organization's accounts could not be listed: " + _why(calls))
        if assume_role is None and any(a != me.account for a in members):
            raise SnapshotError("pull", "--assume-role", "reading the organization's accounts needs --assume-role NAME")
        wanted = members
    targets = wanted or [me.account]
    fallback = session.region_name or "us-east-1"
    read: list[str] = []
    for account in targets:
        aws = me if account == me.account else me.assume(account, str(assume_role))
        if aws is None:
            continue
        read.append(account)
        pull_iam(aws, exports)
        for region in list(regions) or pull_regions(aws, exports, fallback):
            pull_kms(aws, exports, region)
    snapshot = snapshot_from_exports(root, calls.notes, base)
    return PullResult(snapshot, read, calls)


def _why(calls: Calls) -> str:
    organization = [n for n in calls.notes if n.api.startswith("organizations:")]
    return organization[-1].text() if organization else "no organization data"


def snapshot_from_exports(root: str | Path, notes: Iterable[Note] = (), base: Snapshot | None = None) -> Snapshot:
    """A snapshot from a pull's raw-exports folder (see ``collect``), with the pull's notes as ``unused`` items."""
    folder = Path(root)
    if not folder.is_dir():
        raise SnapshotError(str(folder), "", "not a folder of pulled exports")
    imported = Imported()
    if (folder / "organization" / "list-accounts.json").exists():
        imported.merge(import_organization(folder / "organization"))
    found = False
    for account_dir in sorted(p for p in folder.iterdir() if p.is_dir() and _ACCOUNT.fullmatch(p.name)):
        found = True
        imported.account(account_dir.name)
        _iam(imported, account_dir / "iam" / "get-account-authorization-details.json")
        kms = account_dir / "kms"
        for region in sorted(p for p in kms.iterdir() if p.is_dir()) if kms.is_dir() else ():
            _kms(imported, region, account_dir.name)
    if not found and not imported.accounts:
        raise SnapshotError(str(folder), "", "no account folders (<account-id>/iam, <account-id>/kms/<region>) nor organization/")
    for note in notes:
        where = f"{note.account}/{note.region}" if note.region else note.account
        imported.skip("snapshot pull", f"{note.api} in {where}", f"{note.code}: {note.message}")
    return build_snapshot(imported, base, str(folder))


def _iam(imported: Imported, path: Path) -> None:
    if not path.exists():
        return
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and not any(data.get(name) for name in _IAM_LISTS):
        return  # an account without users, groups, roles or policies of its own
    imported.merge(import_authdetails(path))


def _kms(imported: Imported, folder: Path, account: str) -> None:
    part = import_kms_dir(folder)
    strangers = sorted(set(part.accounts) - {account})
    if strangers:
        imported.skip(
            str(folder),
            f"keys of account {', '.join(strangers)}",
            f"saved as account {account}'s, but the keys belong to another account (were the right credentials used?): "
            "they are not in the snapshot",
        )
        part.accounts = {a: v for a, v in part.accounts.items() if a == account}
    imported.merge(part)
