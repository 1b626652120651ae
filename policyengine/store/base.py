"""The ``KeyStore`` protocol: the I/O boundary the KMS facade is given (as httpx transports).

Every facade operation runs inside one ``transaction()``: all its reads and writes commit
together or not at all, so a crash never leaves a half-made key, grant or rotation visible.
An operation that only reads asks for ``transaction(write=False)``: a consistent snapshot that
does not take the write lock, so reads (Encrypt, Decrypt, Describe...) run side by side.
The audit record of a call that changed something is appended inside that call's own
transaction (``StoreTransaction.append_audit``), so the change and its record commit together or
not at all: a crash between them cannot leave an unaudited change. Calls that changed nothing
(reads, refusals, failures, whose transaction rolled back) are recorded with
``KeyStore.append_audit`` in a transaction of their own, so every call is recorded exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Protocol

from policyengine.store.records import (
    AliasRecord,
    AuditRecord,
    GrantRecord,
    ImportParameters,
    KeyRecord,
    MaterialRecord,
)


class StoreTransaction(Protocol):
    """Reads and writes inside one transaction. Lists come back in a stable order.

    ``claim_key`` is for scheduled work that must happen once however many processes share the
    store: it returns the key as it is now and keeps every other transaction from changing it
    until this one ends, or None, without waiting, if the key is gone or another transaction
    holds it (that one is doing the work). A store that lets one writer in at a time (SQLite,
    memory) already has the key to itself, so there it is ``get_key``.
    """

    # keys
    def get_key(self, key_id: str) -> KeyRecord | None: ...
    def put_key(self, key: KeyRecord) -> None: ...  # insert or replace by key_id
    def delete_key(self, key_id: str) -> None: ...  # also its material, aliases, grants, import parameters
    # by creation_date, then key_id; ``start``/``limit`` select one page (an index range, not the whole list)
    # in (creation_date, key_id) order; ``after``: only keys past that position (a page's last key)
    def list_keys(
        self, account: str, region: str, *, after: tuple[float, str] | None = None, limit: int | None = None
    ) -> list[KeyRecord]: ...
    def all_keys(self) -> list[KeyRecord]: ...  # every account and region (a reset)
    def due_keys(self, now: float) -> list[KeyRecord]: ...  # keys whose scheduled work is due by now (store.schedule)
    def next_due(self) -> float | None: ...  # the earliest due time of any key; both from an index on it

    # test mode's clock: seconds added to real time, shared by every process on the store (0 until moved)
    def clock_offset(self) -> float: ...
    def set_clock_offset(self, offset: float) -> None: ...
    def claim_key(self, key_id: str) -> KeyRecord | None: ...  # see the class docstring

    # material
    def add_material(self, material: MaterialRecord) -> None: ...
    def materials(self, key_id: str) -> list[MaterialRecord]: ...  # by version ascending
    def delete_materials(self, key_id: str) -> None: ...

    # aliases
    def get_alias(self, account: str, region: str, alias_name: str) -> AliasRecord | None: ...
    def put_alias(self, alias: AliasRecord) -> None: ...  # insert or replace
    def delete_alias(self, account: str, region: str, alias_name: str) -> None: ...
    # by alias_name; ``after``: only names past it (a page's last alias)
    def list_aliases(
        self, account: str, region: str, *, after: str | None = None, limit: int | None = None
    ) -> list[AliasRecord]: ...
    # by alias_name (then account, region: a key's record may have moved); an index lookup, not a scan
    def aliases_for_key(self, key_id: str) -> list[AliasRecord]: ...

    # grants
    def get_grant(self, grant_id: str) -> GrantRecord | None: ...
    def put_grant(self, grant: GrantRecord) -> None: ...
    def delete_grant(self, grant_id: str) -> None: ...
    def grants_for_key(self, key_id: str) -> list[GrantRecord]: ...  # by creation_date, then grant_id
    def grants_for_retiring_principal(self, principal: str) -> list[GrantRecord]: ...

    # import parameters
    def get_import_parameters(self, key_id: str) -> ImportParameters | None: ...
    def put_import_parameters(self, params: ImportParameters) -> None: ...
    def delete_import_parameters(self, key_id: str) -> None: ...

    # audit: the record of the call whose changes this transaction holds, committed with them
    def append_audit(
        self,
        event_time: float,
        event_name: str,
        principal: str,
        key_arn: str | None,
        error_code: str | None,
        event: dict[str, object],
    ) -> None: ...


class KeyStore(Protocol):
    """A place that keeps the local KMS's state; see the module docstring for the contract."""

    def transaction(self, write: bool = True) -> AbstractContextManager[StoreTransaction]: ...
    def append_audit(
        self,
        event_time: float,
        event_name: str,
        principal: str,
        key_arn: str | None,
        error_code: str | None,
        event: dict[str, object],
    ) -> AuditRecord: ...
    def audit_records(self) -> Iterator[AuditRecord]: ...  # in sequence order
    def current_clock_offset(self) -> float: ...  # StoreTransaction.clock_offset in one statement (read before each call)
    def close(self) -> None: ...
