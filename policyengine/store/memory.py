"""An in-memory ``KeyStore`` with the same semantics as the SQLite one, for tests and throwaway runs.

Why an undo log: a write transaction changes the live tables in place and notes, for each record
it touches, the value that record had before (``_Tables.set_*`` return it). If the block raises,
the notes are replayed in reverse, which puts back every record and, through the same setters,
every index: a failed operation leaves nothing behind, exactly as a rolled-back SQLite
transaction does, and a transaction costs what it touches, not the size of the store (copying the
tables per transaction made a call with 10,000 keys cost three times one with 10). One lock
serialises every transaction, readers included, so nobody sees a transaction half done. Records
are frozen; the few mutable values inside them (tags, grant constraints, audit events) are copied
on the way in and out so no caller can change stored state behind the store's back.

The indexes answer what SQLite answers from its indexes, so no call scans the account: a key's
aliases and grants, a retiring principal's grants, one page of an account-region's keys (by
creation order) or aliases (by name), and due work (by due time).

It also refuses what the SQLite store refuses (dangling key references, a duplicate material
version, nested transactions, store-level audit appends inside a transaction, writes in a
read-only transaction), so code tested against it does not break against the real store.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from operator import attrgetter
from typing import TypeVar

from policyengine.store import StoreError
from policyengine.store._sorted import SortedIndex
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
_Place = tuple[str, str]
_K = TypeVar("_K")
_V = TypeVar("_V")


_KEY_FIELDS = attrgetter(*(f.name for f in dataclasses.fields(KeyRecord)))
_TAGS = [f.name for f in dataclasses.fields(KeyRecord)].index("tags")
_MULTI_REGION = [f.name for f in dataclasses.fields(KeyRecord)].index("multi_region")


def _own_key(key: KeyRecord) -> KeyRecord:
    """A copy whose mutable fields are the copy's own (twice as fast as ``dataclasses.replace``: every
    read of a key makes one, and a page of ListKeys a hundred)."""
    values = list(_KEY_FIELDS(key))
    values[_TAGS] = dict(key.tags)
    if key.multi_region is not None:
        values[_MULTI_REGION] = {**key.multi_region, "regions": list(key.multi_region["regions"])}
    return KeyRecord(*values)


def _own_grant(grant: GrantRecord) -> GrantRecord:
    constraints = None if grant.constraints is None else {k: dict(v) for k, v in grant.constraints.items()}
    return dataclasses.replace(grant, operations=tuple(grant.operations), constraints=constraints)


def _key_order(key: KeyRecord) -> tuple[float, str]:
    return (key.creation_date, key.key_id)


def _grant_order(grant: GrantRecord) -> tuple[float, str]:
    return (grant.creation_date, grant.grant_id)


def _link(index: dict[_K, set[_V]], at: _K, value: _V) -> None:
    index.setdefault(at, set()).add(value)


def _unlink(index: dict[_K, set[_V]], at: _K, value: _V) -> None:
    members = index.get(at)
    if members is not None:
        members.discard(value)
        if not members:
            del index[at]


class _Tables:
    """The store's records and their indexes. Every change goes through a ``set_*`` method, which keeps
    the indexes in step and returns the record's previous value (None: there was none), so setting
    that value back undoes the change, indexes included."""

    __slots__ = (
        "aliases",
        "aliases_by_key",
        "aliases_by_place",
        "clock_offset",
        "due",
        "grants",
        "grants_by_key",
        "grants_by_retiring",
        "imports",
        "keys",
        "keys_by_place",
        "materials",
    )

    def __init__(self) -> None:
        self.keys: dict[str, KeyRecord] = {}
        self.materials: dict[str, tuple[MaterialRecord, ...]] = {}
        self.aliases: dict[_AliasKey, AliasRecord] = {}
        self.grants: dict[str, GrantRecord] = {}
        self.imports: dict[str, ImportParameters] = {}
        self.clock_offset = 0.0
        self.keys_by_place: dict[_Place, SortedIndex[tuple[float, str]]] = {}
        self.due: SortedIndex[tuple[float, str]] = SortedIndex()
        self.aliases_by_place: dict[_Place, SortedIndex[str]] = {}
        self.aliases_by_key: dict[str, set[_AliasKey]] = {}
        self.grants_by_key: dict[str, set[str]] = {}
        self.grants_by_retiring: dict[str, set[str]] = {}

    def set_key(self, key_id: str, key: KeyRecord | None) -> KeyRecord | None:
        old = self.keys.pop(key_id, None)
        if old is not None:
            place = self.keys_by_place[(old.account, old.region)]
            place.remove(_key_order(old))
            if not place:
                del self.keys_by_place[(old.account, old.region)]
            if (due := due_time(old)) is not None:
                self.due.remove((due, key_id))
        if key is not None:
            self.keys[key_id] = key
            self.keys_by_place.setdefault((key.account, key.region), SortedIndex()).add(_key_order(key))
            if (due := due_time(key)) is not None:
                self.due.add((due, key_id))
        return old

    def set_materials(self, key_id: str, materials: tuple[MaterialRecord, ...] | None) -> tuple[MaterialRecord, ...] | None:
        old = self.materials.pop(key_id, None)
        if materials is not None:
            self.materials[key_id] = materials
        return old

    def set_alias(self, name: _AliasKey, alias: AliasRecord | None) -> AliasRecord | None:
        old = self.aliases.pop(name, None)
        if old is not None:
            place = self.aliases_by_place[name[:2]]
            place.remove(name[2])
            if not place:
                del self.aliases_by_place[name[:2]]
            _unlink(self.aliases_by_key, old.target_key_id, name)
        if alias is not None:
            self.aliases[name] = alias
            self.aliases_by_place.setdefault(name[:2], SortedIndex()).add(name[2])
            _link(self.aliases_by_key, alias.target_key_id, name)
        return old

    def set_grant(self, grant_id: str, grant: GrantRecord | None) -> GrantRecord | None:
        old = self.grants.pop(grant_id, None)
        if old is not None:
            _unlink(self.grants_by_key, old.key_id, grant_id)
            if old.retiring_principal is not None:
                _unlink(self.grants_by_retiring, old.retiring_principal, grant_id)
        if grant is not None:
            self.grants[grant_id] = grant
            _link(self.grants_by_key, grant.key_id, grant_id)
            if grant.retiring_principal is not None:
                _link(self.grants_by_retiring, grant.retiring_principal, grant_id)
        return old

    def set_imports(self, key_id: str, params: ImportParameters | None) -> ImportParameters | None:
        old = self.imports.pop(key_id, None)
        if params is not None:
            self.imports[key_id] = params
        return old


class _MemoryTransaction:
    """The ``StoreTransaction`` view over the live tables, logging what each write replaced."""

    def __init__(self, tables: _Tables, writable: bool = True) -> None:
        self._tables: _Tables | None = tables
        self._writable = writable
        self._undo: list[Callable[[], object]] = []
        self.audit: list[tuple[float, str, str, str | None, str | None, str]] = []  # appended on commit

    def end(self) -> None:
        self._tables = None

    def roll_back(self) -> None:
        """Put back every record this transaction changed (and so every index), newest change first."""
        while self._undo:
            self._undo.pop()()
        self.audit.clear()

    def _t(self) -> _Tables:
        if self._tables is None:
            raise StoreError("a store transaction was used after its block ended")
        return self._tables

    def _w(self) -> _Tables:
        """The tables, for a write; a read-only transaction refuses."""
        if not self._writable:
            raise StoreError("a read-only store transaction cannot write")
        return self._t()

    def _set(self, setter: Callable[[_K, _V | None], _V | None], at: _K, value: _V | None) -> None:
        """One logged change: ``setter(at, value)``, undone by setting back what it returns."""
        old = setter(at, value)
        self._undo.append(lambda: setter(at, old))

    def _require_key(self, key_id: str, what: str) -> None:
        if key_id not in self._t().keys:
            raise StoreError(f"cannot store {what}: key `{key_id}` does not exist")

    # keys
    def get_key(self, key_id: str) -> KeyRecord | None:
        key = self._t().keys.get(key_id)
        return None if key is None else _own_key(key)

    def put_key(self, key: KeyRecord) -> None:
        self._set(self._w().set_key, key.key_id, _own_key(key))

    def delete_key(self, key_id: str) -> None:
        t = self._w()
        for name in sorted(t.aliases_by_key.get(key_id, ())):
            self._set(t.set_alias, name, None)
        for grant_id in sorted(t.grants_by_key.get(key_id, ())):
            self._set(t.set_grant, grant_id, None)
        self._set(t.set_imports, key_id, None)
        self._set(t.set_materials, key_id, None)
        self._set(t.set_key, key_id, None)

    def list_keys(
        self, account: str, region: str, *, after: tuple[float, str] | None = None, limit: int | None = None
    ) -> list[KeyRecord]:
        t = self._t()
        place = t.keys_by_place.get((account, region))
        if place is None:
            return []
        return [_own_key(t.keys[key_id]) for _, key_id in islice(place.after(after), limit)]

    def all_keys(self) -> list[KeyRecord]:
        return [_own_key(k) for k in sorted(self._t().keys.values(), key=_key_order)]

    def clock_offset(self) -> float:
        return self._t().clock_offset

    def set_clock_offset(self, offset: float) -> None:
        t = self._w()
        old = t.clock_offset
        t.clock_offset = offset

        def undo() -> None:
            t.clock_offset = old

        self._undo.append(undo)

    def due_keys(self, now: float) -> list[KeyRecord]:
        t = self._t()
        found = []
        for due, key_id in t.due.after():
            if due > now:
                break
            found.append(_own_key(t.keys[key_id]))
        return found

    def next_due(self) -> float | None:
        first = self._t().due.first()
        return None if first is None else first[0]

    def claim_key(self, key_id: str) -> KeyRecord | None:
        return self.get_key(key_id)  # one lock serialises every transaction: this one is alone already

    # material
    def add_material(self, material: MaterialRecord) -> None:
        self._require_key(material.key_id, "material")
        t = self._w()
        existing = t.materials.get(material.key_id, ())
        if any(m.version == material.version for m in existing):
            raise StoreError(f"key `{material.key_id}` already has material version {material.version}")
        self._set(t.set_materials, material.key_id, tuple(sorted((*existing, material), key=lambda m: m.version)))

    def materials(self, key_id: str) -> list[MaterialRecord]:
        return list(self._t().materials.get(key_id, ()))

    def delete_materials(self, key_id: str) -> None:
        self._set(self._w().set_materials, key_id, None)

    # aliases
    def get_alias(self, account: str, region: str, alias_name: str) -> AliasRecord | None:
        return self._t().aliases.get((account, region, alias_name))

    def put_alias(self, alias: AliasRecord) -> None:
        self._require_key(alias.target_key_id, f"alias `{alias.alias_name}`")
        self._set(self._w().set_alias, (alias.account, alias.region, alias.alias_name), alias)

    def delete_alias(self, account: str, region: str, alias_name: str) -> None:
        self._set(self._w().set_alias, (account, region, alias_name), None)

    def list_aliases(self, account: str, region: str, *, after: str | None = None, limit: int | None = None) -> list[AliasRecord]:
        t = self._t()
        place = t.aliases_by_place.get((account, region))
        if place is None:
            return []
        return [t.aliases[(account, region, name)] for name in islice(place.after(after or ""), limit)]

    def aliases_for_key(self, key_id: str) -> list[AliasRecord]:
        t = self._t()
        by_name = sorted(t.aliases_by_key.get(key_id, ()), key=lambda at: (at[2], at[0], at[1]))
        return [t.aliases[at] for at in by_name]

    # grants
    def get_grant(self, grant_id: str) -> GrantRecord | None:
        grant = self._t().grants.get(grant_id)
        return None if grant is None else _own_grant(grant)

    def put_grant(self, grant: GrantRecord) -> None:
        self._require_key(grant.key_id, f"grant `{grant.grant_id}`")
        self._set(self._w().set_grant, grant.grant_id, _own_grant(grant))

    def delete_grant(self, grant_id: str) -> None:
        self._set(self._w().set_grant, grant_id, None)

    def grants_for_key(self, key_id: str) -> list[GrantRecord]:
        return self._grants(self._t().grants_by_key.get(key_id, ()))

    def grants_for_retiring_principal(self, principal: str) -> list[GrantRecord]:
        return self._grants(self._t().grants_by_retiring.get(principal, ()))

    def _grants(self, grant_ids: Iterable[str]) -> list[GrantRecord]:
        grants = self._t().grants
        return [_own_grant(g) for g in sorted((grants[grant_id] for grant_id in grant_ids), key=_grant_order)]

    # import parameters
    def get_import_parameters(self, key_id: str) -> ImportParameters | None:
        return self._t().imports.get(key_id)

    def put_import_parameters(self, params: ImportParameters) -> None:
        self._require_key(params.key_id, "import parameters")
        self._set(self._w().set_imports, params.key_id, params)

    def delete_import_parameters(self, key_id: str) -> None:
        self._set(self._w().set_imports, key_id, None)

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
        self._committed_clock_offset = 0.0  # read without the lock, so never a transaction's uncommitted one
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
        """Yield a view over the live tables; if the block raises, undo what it changed (see the module docstring).

        A read-only transaction (``write=False``) refuses to write, so it has nothing to undo.
        """
        self._check_usable()
        with self._lock:
            self._owner = threading.get_ident()
            view = _MemoryTransaction(self._tables, write)
            try:
                try:
                    yield view
                except BaseException:
                    view.roll_back()
                    raise
                if write:
                    self._committed_clock_offset = self._tables.clock_offset
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
        return self._committed_clock_offset

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
