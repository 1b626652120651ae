"""An in-memory ``KeyStore`` with the same semantics as the SQLite one, for tests and throwaway runs.

Why copy-on-write: a transaction works on shallow copies of the tables and swaps them in only
when its block ends without an exception, so a failed operation leaves nothing behind, exactly
as a rolled-back SQLite transaction does. Records are frozen, so copying the dicts that hold them
is enough; the few mutable values inside records (tags, grant constraints, audit events) are
copied on the way in and out so no caller can change stored state behind the store's back.

It also refuses what the SQLite store refuses (dangling key references, a duplicate material
version, nested transactions, store-level audit appends inside a transaction), so code tested against it
does not break against the real store.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from policyengine.store import StoreError
from policyengine.store.base import StoreTransaction
from policyengine.store.records import (
    AliasRecord,
    AuditRecord,
    GrantRecord,
    ImportParameters,
    KeyRecord,
    MaterialRecord,
)
from policyengine.store.schedule import due_time

__all__ = ["MemoryKeyStore"]

_AliasKey = tuple[str, str, str]


@dataclass(slots=True)
class _Tables:
    """The store's state; a transaction edits a copy and the store keeps whichever copy committed."""

    keys: dict[str, KeyRecord] = field(default_factory=dict)
    materials: dict[str, tuple[MaterialRecord, ...]] = field(default_factory=dict)
    aliases: dict[_AliasKey, AliasRecord] = field(default_factory=dict)
    grants: dict[str, GrantRecord] = field(default_factory=dict)
    imports: dict[str, ImportParameters] = field(default_factory=dict)
    clock_offset: float = 0.0

    def copy(self) -> _Tables:
        return _Tables(
            dict(self.keys), dict(self.materials), dict(self.aliases), dict(self.grants), dict(self.imports), self.clock_offset
        )


def _own_key(key: KeyRecord) -> KeyRecord:
    multi_region = None if key.multi_region is None else {**key.multi_region, "regions": list(key.multi_region["regions"])}
    return dataclasses.replace(key, tags=dict(key.tags), multi_region=multi_region)


def _own_grant(grant: GrantRecord) -> GrantRecord:
    constraints = None if grant.constraints is None else {k: dict(v) for k, v in grant.constraints.items()}
    return dataclasses.replace(grant, operations=tuple(grant.operations), constraints=constraints)


def _key_order(key: KeyRecord) -> tuple[float, str]:
    return (key.creation_date, key.key_id)


def _grant_order(grant: GrantRecord) -> tuple[float, str]:
    return (grant.creation_date, grant.grant_id)


class _MemoryTransaction:
    """The ``StoreTransaction`` view over one transaction's private copy of the tables."""

    def __init__(self, tables: _Tables, writable: bool = True) -> None:
        self._tables: _Tables | None = tables
        self._writable = writable
        self.audit: list[tuple[float, str, str, str | None, str | None, str]] = []  # appended on commit

    def end(self) -> None:
        self._tables = None

    def _t(self) -> _Tables:
        if self._tables is None:
            raise StoreError("a store transaction was used after its block ended")
        return self._tables

    def _w(self) -> _Tables:
        """The tables, for a write; a read-only transaction looks at the live tables and refuses."""
        if not self._writable:
            raise StoreError("a read-only store transaction cannot write")
        return self._t()

    def _require_key(self, key_id: str, what: str) -> None:
        if key_id not in self._t().keys:
            raise StoreError(f"cannot store {what}: key `{key_id}` does not exist")

    # keys
    def get_key(self, key_id: str) -> KeyRecord | None:
        key = self._t().keys.get(key_id)
        return None if key is None else _own_key(key)

    def put_key(self, key: KeyRecord) -> None:
        self._w().keys[key.key_id] = _own_key(key)

    def delete_key(self, key_id: str) -> None:
        t = self._w()
        t.keys.pop(key_id, None)
        t.materials.pop(key_id, None)
        t.imports.pop(key_id, None)
        t.aliases = {name: a for name, a in t.aliases.items() if a.target_key_id != key_id}
        t.grants = {gid: g for gid, g in t.grants.items() if g.key_id != key_id}

    def list_keys(
        self, account: str, region: str, *, after: tuple[float, str] | None = None, limit: int | None = None
    ) -> list[KeyRecord]:
        # A scan and a sort: the memory store is for tests and small accounts (SQLite and PostgreSQL read one page).
        found = sorted(
            (k for k in self._t().keys.values() if k.account == account and k.region == region),
            key=_key_order,
        )
        if after is not None:
            found = [k for k in found if _key_order(k) > after]
        return [_own_key(k) for k in found[:limit]]

    def all_keys(self) -> list[KeyRecord]:
        return [_own_key(k) for k in sorted(self._t().keys.values(), key=_key_order)]

    def clock_offset(self) -> float:
        return self._t().clock_offset

    def set_clock_offset(self, offset: float) -> None:
        self._w().clock_offset = offset

    def due_keys(self, now: float) -> list[KeyRecord]:
        found = [(due, k) for k in self._t().keys.values() if (due := due_time(k)) is not None and due <= now]
        return [_own_key(k) for _, k in sorted(found, key=lambda pair: (pair[0], pair[1].key_id))]

    def next_due(self) -> float | None:
        return min((due for k in self._t().keys.values() if (due := due_time(k)) is not None), default=None)

    def claim_key(self, key_id: str) -> KeyRecord | None:
        return self.get_key(key_id)  # one lock serialises every transaction: this one is alone already

    # material
    def add_material(self, material: MaterialRecord) -> None:
        self._require_key(material.key_id, "material")
        existing = self._w().materials.get(material.key_id, ())
        if any(m.version == material.version for m in existing):
            raise StoreError(f"key `{material.key_id}` already has material version {material.version}")
        self._w().materials[material.key_id] = tuple(sorted((*existing, material), key=lambda m: m.version))

    def materials(self, key_id: str) -> list[MaterialRecord]:
        return list(self._t().materials.get(key_id, ()))

    def delete_materials(self, key_id: str) -> None:
        self._w().materials.pop(key_id, None)

    # aliases
    def get_alias(self, account: str, region: str, alias_name: str) -> AliasRecord | None:
        return self._t().aliases.get((account, region, alias_name))

    def put_alias(self, alias: AliasRecord) -> None:
        self._require_key(alias.target_key_id, f"alias `{alias.alias_name}`")
        self._w().aliases[(alias.account, alias.region, alias.alias_name)] = alias

    def delete_alias(self, account: str, region: str, alias_name: str) -> None:
        self._w().aliases.pop((account, region, alias_name), None)

    def list_aliases(
        self, account: str, region: str, *, after: str | None = None, limit: int | None = None
    ) -> list[AliasRecord]:
        found = [a for a in self._t().aliases.values() if a.account == account and a.region == region]
        return sorted((a for a in found if a.alias_name > (after or "")), key=lambda a: a.alias_name)[:limit]

    def aliases_for_key(self, key_id: str) -> list[AliasRecord]:
        # A scan: the memory store is for tests and small accounts (SQLite and PostgreSQL use an index).
        return sorted((a for a in self._t().aliases.values() if a.target_key_id == key_id), key=lambda a: a.alias_name)

    # grants
    def get_grant(self, grant_id: str) -> GrantRecord | None:
        grant = self._t().grants.get(grant_id)
        return None if grant is None else _own_grant(grant)

    def put_grant(self, grant: GrantRecord) -> None:
        self._require_key(grant.key_id, f"grant `{grant.grant_id}`")
        self._w().grants[grant.grant_id] = _own_grant(grant)

    def delete_grant(self, grant_id: str) -> None:
        self._w().grants.pop(grant_id, None)

    def grants_for_key(self, key_id: str) -> list[GrantRecord]:
        found = [g for g in self._t().grants.values() if g.key_id == key_id]
        return [_own_grant(g) for g in sorted(found, key=_grant_order)]

    def grants_for_retiring_principal(self, principal: str) -> list[GrantRecord]:
        found = [g for g in self._t().grants.values() if g.retiring_principal == principal]
        return [_own_grant(g) for g in sorted(found, key=_grant_order)]

    # import parameters
    def get_import_parameters(self, key_id: str) -> ImportParameters | None:
        return self._t().imports.get(key_id)

    def put_import_parameters(self, params: ImportParameters) -> None:
        self._require_key(params.key_id, "import parameters")
        self._w().imports[params.key_id] = params

    def delete_import_parameters(self, key_id: str) -> None:
        self._w().imports.pop(key_id, None)


    # audit
    def append_audit(
        self,
        event_time: float,
        event_name: str,
        principal: str,
        key_arn: str | None,
        error_code: str | None,
        event: dict[str, object],
    ) -> None:
        """The call's record, kept only if this transaction commits."""
        self._w()
        self.audit.append((event_time, event_name, principal, key_arn, error_code, json.dumps(event)))


class MemoryKeyStore:
    """A thread-safe ``KeyStore`` held in memory; one lock serialises its transactions."""

    def __init__(self) -> None:
        self._tables = _Tables()
        self._lock = threading.Lock()
        self._owner: int | None = None  # the thread inside a transaction, to refuse nesting
        self._audit: list[tuple[int, float, str, str, str | None, str | None, str]] = []
        self._audit_lock = threading.Lock()
        self._closed = False

    def __enter__(self) -> MemoryKeyStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _check_usable(self) -> None:
        if self._closed:
            raise StoreError("the in-memory store is closed")
        if self._owner == threading.get_ident():
            raise StoreError("a store transaction is already open in this thread")

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[StoreTransaction]:
        """Yield a view over a private copy of the state; keep the copy only if the block succeeds.

        A read-only transaction (``write=False``) needs no copy: it looks at the live tables,
        which writers replace whole on commit, and refuses to write.
        """
        self._check_usable()
        with self._lock:
            self._owner = threading.get_ident()
            view = _MemoryTransaction(self._tables.copy() if write else self._tables, write)
            try:
                yield view
                if write:
                    self._tables = view._t()
                    with self._audit_lock:
                        for row in view.audit:
                            self._audit.append((len(self._audit) + 1, *row))
            finally:
                view.end()
                self._owner = None

    def append_audit(
        self,
        event_time: float,
        event_name: str,
        principal: str,
        key_arn: str | None,
        error_code: str | None,
        event: dict[str, object],
    ) -> AuditRecord:
        """Record one event with the next sequence number (1, 2, ...); the event must be JSON-ready."""
        self._check_usable()
        # Kept as JSON text, as the SQLite store keeps it: later changes to ``event`` cannot reach the record,
        # and readers each get a fresh copy.
        text = json.dumps(event)
        with self._audit_lock:
            sequence = len(self._audit) + 1
            self._audit.append((sequence, event_time, event_name, principal, key_arn, error_code, text))
        return AuditRecord(sequence, event_time, event_name, principal, key_arn, error_code, json.loads(text))

    def current_clock_offset(self) -> float:
        return self._tables.clock_offset

    def audit_records(self) -> Iterator[AuditRecord]:
        """Every audit record in sequence order, as of the call."""
        if self._closed:
            raise StoreError("the in-memory store is closed")
        with self._audit_lock:
            snapshot = list(self._audit)
        return (AuditRecord(*row[:6], json.loads(row[6])) for row in snapshot)

    def close(self) -> None:
        """Refuse further use; the state is dropped with the object."""
        self._closed = True
