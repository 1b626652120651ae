"""What the importers share: reading export files, policy documents as AWS prints them, and the
record of what could not be used.

An importer returns ``Imported``: accounts as plain snapshot data, AWS managed policies, and
``unused``. It raises ``SnapshotError`` (file and field) only for an export it cannot read at
all; anything it can read but not use is listed in ``unused``, with the reason and what that
means for the answers, and the import goes on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from policyengine.access.errors import SnapshotError

#: An account's place in the organization: one source says it whole, so lists of it are never joined.
PLACE_FIELDS = frozenset({"ou_path", "scps", "rcps"})


@dataclass
class Imported:
    """Plain snapshot data from one or more exports, merged by account id."""

    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    aws_managed: dict[str, dict[str, Any]] = field(default_factory=dict)
    unused: list[dict[str, str]] = field(default_factory=list)
    organization: dict[str, Any] | None = None

    def account(self, account_id: str) -> dict[str, Any]:
        return self.accounts.setdefault(account_id, {"id": account_id})

    def skip(self, source: str, item: str, reason: str) -> None:
        self.unused.append({"source": source, "item": item, "reason": reason})

    def merge(self, other: Imported) -> None:
        for account_id, data in other.accounts.items():
            mine = self.account(account_id)
            for name, value in data.items():
                if isinstance(value, list) and name not in PLACE_FIELDS:
                    mine.setdefault(name, []).extend(value)
                elif name not in mine or mine[name] is None:
                    mine[name] = value
        self.aws_managed.update(other.aws_managed)
        self.organization = self.organization or other.organization
        self.unused.extend(other.unused)


def read_json(path: Path, what: str) -> Any:
    """A saved CLI output; a file that is missing or not JSON is a ``SnapshotError`` naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SnapshotError(str(path), "", f"cannot read the {what} ({exc.strerror})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SnapshotError(str(path), "", f"the {what} is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None


def read_optional(path: Path, what: str) -> Any:
    """A saved CLI output that may be absent: ``None`` then, else as ``read_json``."""
    return read_json(path, what) if path.exists() else None


def document(value: Any) -> dict[str, Any] | None:
    """A policy document as the IAM APIs give it: an object, JSON text, or URL-encoded JSON text."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        return None
    for text in (value, unquote(value)):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(parsed, dict):
            return parsed
    return None


def need(entry: Mapping[str, Any], name: str, source: str, where: str) -> Any:
    """A required field of an export entry, or a ``SnapshotError`` naming the file and the field."""
    value = entry.get(name)
    if value is None or value == "":
        raise SnapshotError(source, f"{where}.{name}", "missing (the export is incomplete or not of this kind)")
    return value


def tags(value: Any, key: str = "Key", val: str = "Value") -> dict[str, str]:
    """AWS tag lists (``[{"Key": k, "Value": v}]``) or plain maps, as a map."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    out: dict[str, str] = {}
    for item in value or ():
        if isinstance(item, dict) and key in item:
            out[str(item[key])] = str(item.get(val, ""))
    return out
