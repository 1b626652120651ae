"""A durable ``KeyStore`` in one SQLite file, shared safely by threads and processes.

Why these settings: write-ahead logging lets readers proceed while one writer commits;
``synchronous=FULL`` syncs every commit so a crash loses no acknowledged change; ``BEGIN
IMMEDIATE`` takes the write lock up front so two read-modify-write operations (in two threads
or two processes) serialise instead of one silently overwriting the other; foreign keys with
``ON DELETE CASCADE`` make ``delete_key`` remove everything hanging off a key in the same
transaction. Each transaction borrows a connection from a small pool, so no connection is ever used
by two threads at once and a thread-per-request server does not leave a connection per thread behind.

The file is marked with an application id and a ``schema_version`` table, so a file that is not
ours is refused (and left untouched) instead of being written into. Sealed material and wrapping
keys are stored as the opaque blobs the facade hands over; nothing here sees plaintext.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from operator import attrgetter
from pathlib import Path
from typing import Any, Generic, TypeVar

from policyengine.store import StoreError
from policyengine.store.base import StoreTransaction
from policyengine.store.masterkey import check_value, same_master_key
from policyengine.store.records import (
    AliasRecord,
    AuditRecord,
    GrantRecord,
    ImportParameters,
    KeyRecord,
    MaterialRecord,
)
from policyengine.store.schedule import DUE_SQL, due_time

__all__ = ["SqliteKeyStore"]

SCHEMA_VERSION = 4
_CLOCK_TABLE = "CREATE TABLE test_clock (id INTEGER PRIMARY KEY CHECK (id = 1), offset_seconds REAL NOT NULL)"
#: What takes a file from the version before each one to it (applied in order under the write lock).
_UPGRADES: dict[int, tuple[str, ...]] = {
    2: ("ALTER TABLE keys ADD COLUMN multi_region TEXT",),
    # 3: when each key's scheduled work is due, indexed (store/schedule.py)
    3: (
        "ALTER TABLE keys ADD COLUMN due REAL",
        "CREATE INDEX keys_by_due ON keys (due) WHERE due IS NOT NULL",
        f"UPDATE keys SET due = {DUE_SQL}",
    ),
    # 4: test mode's clock offset, shared by every process on the file
    4: (_CLOCK_TABLE, "INSERT INTO test_clock VALUES (1, 0)"),
}
APPLICATION_ID = 0x50454B53  # "PEKS": marks the file as a policyengine key store
_BEGIN_ATTEMPTS = 5  # each waits up to busy_timeout before SQLite reports the database locked
_AUDIT_PAGE = 500
_IDLE_CONNECTIONS = 8  # more can be open at once; the extra ones are closed when returned

_SCHEMA = """
CREATE TABLE schema_version (version INTEGER NOT NULL, master_key_check TEXT);
CREATE TABLE keys (
    key_id TEXT PRIMARY KEY, arn TEXT NOT NULL, account TEXT NOT NULL, region TEXT NOT NULL,
    key_spec TEXT NOT NULL, key_usage TEXT NOT NULL, origin TEXT NOT NULL, key_manager TEXT NOT NULL,
    state TEXT NOT NULL, creation_date REAL NOT NULL, policy TEXT NOT NULL, description TEXT NOT NULL,
    deletion_date REAL, pending_window_days INTEGER, rotation_enabled INTEGER NOT NULL,
    rotation_period_days INTEGER, next_rotation_date REAL, on_demand_rotations INTEGER NOT NULL,
    valid_to REAL, expiration_model TEXT, tags TEXT NOT NULL, material_fingerprint TEXT, multi_region TEXT, due REAL
);
CREATE INDEX keys_by_place ON keys (account, region, creation_date, key_id);
CREATE INDEX keys_by_due ON keys (due) WHERE due IS NOT NULL;
CREATE TABLE materials (
    key_id TEXT NOT NULL REFERENCES keys (key_id) ON DELETE CASCADE, version INTEGER NOT NULL,
    sealed_material BLOB NOT NULL, created REAL NOT NULL, rotation_type TEXT, imported INTEGER NOT NULL,
    PRIMARY KEY (key_id, version)
);
CREATE TABLE aliases (
    account TEXT NOT NULL, region TEXT NOT NULL, alias_name TEXT NOT NULL,
    target_key_id TEXT NOT NULL REFERENCES keys (key_id) ON DELETE CASCADE,
    creation_date REAL NOT NULL, last_updated REAL NOT NULL,
    PRIMARY KEY (account, region, alias_name)
);
CREATE INDEX aliases_by_target ON aliases (target_key_id);
CREATE TABLE grants (
    grant_id TEXT PRIMARY KEY, key_id TEXT NOT NULL REFERENCES keys (key_id) ON DELETE CASCADE,
    key_arn TEXT NOT NULL, grantee_principal TEXT NOT NULL, operations TEXT NOT NULL,
    issuing_account TEXT NOT NULL, creation_date REAL NOT NULL, grant_token TEXT NOT NULL,
    retiring_principal TEXT, name TEXT, constraints TEXT
);
CREATE INDEX grants_by_key ON grants (key_id, creation_date, grant_id);
CREATE INDEX grants_by_retiring ON grants (retiring_principal, creation_date, grant_id);
CREATE TABLE import_parameters (
    key_id TEXT PRIMARY KEY REFERENCES keys (key_id) ON DELETE CASCADE, import_token TEXT NOT NULL,
    sealed_wrapping_key BLOB NOT NULL, wrapping_algorithm TEXT NOT NULL, wrapping_key_spec TEXT NOT NULL,
    expires REAL NOT NULL
);
CREATE TABLE audit (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT, event_time REAL NOT NULL, event_name TEXT NOT NULL,
    principal TEXT NOT NULL, key_arn TEXT, error_code TEXT, event TEXT NOT NULL
);
CREATE TABLE test_clock (id INTEGER PRIMARY KEY CHECK (id = 1), offset_seconds REAL NOT NULL);
INSERT INTO test_clock VALUES (1, 0);
"""

R = TypeVar("R")
_Codec = tuple[Callable[[Any], object], Callable[[Any], Any]]


def _dumps(value: object) -> str:
    # ASCII: \u escapes keep any str storable (SQLite binds text as UTF-8, which a lone surrogate is not)
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))


def _loads(text: str) -> Any:
    return {} if text == "{}" else json.loads(text)  # most keys have no tags


def _loads_optional(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _dumps_optional(value: object) -> str | None:
    return None if value is None else _dumps(value)


_JSON: _Codec = (_dumps, _loads)
_OPTIONAL_JSON: _Codec = (_dumps_optional, _loads_optional)
_TUPLE: _Codec = (lambda v: _dumps(list(v)), lambda text: tuple(json.loads(text)))
_BOOL: _Codec = (int, bool)


class _Table(Generic[R]):
    """How one record type maps to one table: its columns are the record's fields, in order, then
    ``computed`` columns the store derives from the record (written, never read back)."""

    def __init__(
        self,
        name: str,
        record: type[R],
        key: tuple[str, ...],
        codecs: Mapping[str, _Codec] | None = None,
        computed: Mapping[str, Callable[[R], object]] | None = None,
    ) -> None:
        self.name = name
        self.columns = tuple(f.name for f in dataclasses.fields(record))  # type: ignore[arg-type]  # R is always a record dataclass
        self._make: Callable[..., R] = record
        self._codecs = dict(codecs or {})
        self._computed = dict(computed or {})
        written = (*self.columns, *self._computed)
        column_list = ", ".join(written)
        updates = ", ".join(f"{c} = excluded.{c}" for c in written if c not in key)
        self.select = f"SELECT {', '.join(self.columns)} FROM {name}"
        self.insert = f"INSERT INTO {name} ({column_list}) VALUES ({', '.join('?' * len(written))})"
        self.upsert = f"{self.insert} ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"

        # Only the coded columns are touched per row (a key has 24 columns and 3 codecs): every call decodes
        # a key record or more, and a generator over every column was a tenth of an Encrypt's time.
        self._fields = attrgetter(*self.columns)
        self._encoders = tuple((i, codec[0]) for i, c in enumerate(self.columns) if (codec := self._codecs.get(c)))
        self._decoders = tuple((i, codec[1]) for i, c in enumerate(self.columns) if (codec := self._codecs.get(c)))

    def encode(self, record: R) -> tuple[object, ...]:
        values = list(self._fields(record))
        for i, encode in self._encoders:
            values[i] = encode(values[i])
        return (*values, *(compute(record) for compute in self._computed.values()))

    def decode(self, row: tuple[Any, ...]) -> R:
        if len(row) != len(self.columns):
            raise StoreError(f"a {self.name} row has {len(row)} columns, not {len(self.columns)}")
        if not self._decoders:
            return self._make(*row)
        values = list(row)
        for i, decode in self._decoders:
            values[i] = decode(values[i])
        return self._make(*values)


# Upserts, never INSERT OR REPLACE: REPLACE deletes the old row first, and the delete would
# cascade to the key's material, aliases and grants.
_KEYS = _Table(
    "keys", KeyRecord, ("key_id",), {"tags": _JSON, "rotation_enabled": _BOOL, "multi_region": _OPTIONAL_JSON}, {"due": due_time}
)
_MATERIALS = _Table("materials", MaterialRecord, ("key_id", "version"), {"imported": _BOOL})
_ALIASES = _Table("aliases", AliasRecord, ("account", "region", "alias_name"))
_GRANTS = _Table("grants", GrantRecord, ("grant_id",), {"operations": _TUPLE, "constraints": _OPTIONAL_JSON})
_IMPORTS = _Table("import_parameters", ImportParameters, ("key_id",))
_AUDIT = _Table("audit", AuditRecord, ("sequence",), {"event": _JSON})


_INSERT_AUDIT = "INSERT INTO audit (event_time, event_name, principal, key_arn, error_code, event) VALUES (?, ?, ?, ?, ?, ?)"


class _SqliteTransaction:
    """The ``StoreTransaction`` view over one open transaction: ``BEGIN IMMEDIATE`` for a writer, a deferred
    ``BEGIN`` for a reader (``writable`` False), whose every write is refused before it reaches SQLite
    (a deferred transaction would otherwise upgrade itself to a writer and commit)."""

    def __init__(self, conn: sqlite3.Connection, writable: bool = True) -> None:
        self._conn: sqlite3.Connection | None = conn
        self._writable = writable

    def end(self) -> None:
        self._conn = None

    def _c(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("a store transaction was used after its block ended")
        return self._conn

    def _write(self, statement: str, params: tuple[object, ...]) -> None:
        if not self._writable:
            raise StoreError("a read-only store transaction cannot write")
        self._c().execute(statement, params)

    def _one(self, table: _Table[R], where: str, params: tuple[object, ...]) -> R | None:
        row = self._c().execute(f"{table.select} WHERE {where}", params).fetchone()
        return None if row is None else table.decode(row)

    def _all(self, table: _Table[R], tail: str, params: tuple[object, ...] = ()) -> list[R]:
        return [table.decode(row) for row in self._c().execute(f"{table.select} {tail}", params)]

    def _require_key(self, key_id: str, what: str) -> None:
        if self._c().execute("SELECT 1 FROM keys WHERE key_id = ?", (key_id,)).fetchone() is None:
            raise StoreError(f"cannot store {what}: key `{key_id}` does not exist")

    # keys
    def get_key(self, key_id: str) -> KeyRecord | None:
        return self._one(_KEYS, "key_id = ?", (key_id,))

    def put_key(self, key: KeyRecord) -> None:
        self._write(_KEYS.upsert, _KEYS.encode(key))

    def delete_key(self, key_id: str) -> None:
        self._write("DELETE FROM keys WHERE key_id = ?", (key_id,))  # cascades to everything else

    def list_keys(
        self, account: str, region: str, *, after: tuple[float, str] | None = None, limit: int | None = None
    ) -> list[KeyRecord]:
        # keys_by_place (account, region, creation_date, key_id): a page is an index range; LIMIT -1: no limit
        if after is None:
            tail = "WHERE account = ? AND region = ? ORDER BY creation_date, key_id LIMIT ?"
            return self._all(_KEYS, tail, (account, region, -1 if limit is None else limit))
        tail = "WHERE account = ? AND region = ? AND (creation_date, key_id) > (?, ?) ORDER BY creation_date, key_id LIMIT ?"
        return self._all(_KEYS, tail, (account, region, after[0], after[1], -1 if limit is None else limit))

    def all_keys(self) -> list[KeyRecord]:
        return self._all(_KEYS, "ORDER BY creation_date, key_id")

    def due_keys(self, now: float) -> list[KeyRecord]:
        return self._all(_KEYS, "WHERE due <= ? ORDER BY due, key_id", (now,))  # keys_by_due

    def next_due(self) -> float | None:
        row = self._c().execute("SELECT due FROM keys WHERE due IS NOT NULL ORDER BY due LIMIT 1").fetchone()
        return None if row is None else float(row[0])

    def clock_offset(self) -> float:
        row = self._c().execute("SELECT offset_seconds FROM test_clock WHERE id = 1").fetchone()
        return 0.0 if row is None else float(row[0])

    def set_clock_offset(self, offset: float) -> None:
        self._write("UPDATE test_clock SET offset_seconds = ? WHERE id = 1", (offset,))

    def claim_key(self, key_id: str) -> KeyRecord | None:
        return self.get_key(key_id)  # BEGIN IMMEDIATE: this transaction is the only writer already

    # material
    def add_material(self, material: MaterialRecord) -> None:
        self._require_key(material.key_id, "material")
        taken = "SELECT 1 FROM materials WHERE key_id = ? AND version = ?"
        if self._c().execute(taken, (material.key_id, material.version)).fetchone() is not None:
            raise StoreError(f"key `{material.key_id}` already has material version {material.version}")
        self._write(_MATERIALS.insert, _MATERIALS.encode(material))

    def materials(self, key_id: str) -> list[MaterialRecord]:
        return self._all(_MATERIALS, "WHERE key_id = ? ORDER BY version", (key_id,))

    def delete_materials(self, key_id: str) -> None:
        self._write("DELETE FROM materials WHERE key_id = ?", (key_id,))

    # aliases
    def get_alias(self, account: str, region: str, alias_name: str) -> AliasRecord | None:
        return self._one(_ALIASES, "account = ? AND region = ? AND alias_name = ?", (account, region, alias_name))

    def put_alias(self, alias: AliasRecord) -> None:
        self._require_key(alias.target_key_id, f"alias `{alias.alias_name}`")
        self._write(_ALIASES.upsert, _ALIASES.encode(alias))

    def delete_alias(self, account: str, region: str, alias_name: str) -> None:
        self._write("DELETE FROM aliases WHERE account = ? AND region = ? AND alias_name = ?", (account, region, alias_name))

    def list_aliases(self, account: str, region: str, *, after: str | None = None, limit: int | None = None) -> list[AliasRecord]:
        tail = "WHERE account = ? AND region = ? AND alias_name > ? ORDER BY alias_name LIMIT ?"  # the primary key's order
        return self._all(_ALIASES, tail, (account, region, after or "", -1 if limit is None else limit))

    def aliases_for_key(self, key_id: str) -> list[AliasRecord]:
        return self._all(_ALIASES, "WHERE target_key_id = ? ORDER BY alias_name, account, region", (key_id,))  # aliases_by_target

    # grants
    def get_grant(self, grant_id: str) -> GrantRecord | None:
        return self._one(_GRANTS, "grant_id = ?", (grant_id,))

    def put_grant(self, grant: GrantRecord) -> None:
        self._require_key(grant.key_id, f"grant `{grant.grant_id}`")
        self._write(_GRANTS.upsert, _GRANTS.encode(grant))

    def delete_grant(self, grant_id: str) -> None:
        self._write("DELETE FROM grants WHERE grant_id = ?", (grant_id,))

    def grants_for_key(self, key_id: str) -> list[GrantRecord]:
        return self._all(_GRANTS, "WHERE key_id = ? ORDER BY creation_date, grant_id", (key_id,))

    def grants_for_retiring_principal(self, principal: str) -> list[GrantRecord]:
        return self._all(_GRANTS, "WHERE retiring_principal = ? ORDER BY creation_date, grant_id", (principal,))

    # import parameters
    def get_import_parameters(self, key_id: str) -> ImportParameters | None:
        return self._one(_IMPORTS, "key_id = ?", (key_id,))

    def put_import_parameters(self, params: ImportParameters) -> None:
        self._require_key(params.key_id, "import parameters")
        self._write(_IMPORTS.upsert, _IMPORTS.encode(params))

    def delete_import_parameters(self, key_id: str) -> None:
        self._write("DELETE FROM import_parameters WHERE key_id = ?", (key_id,))

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
        """The call's record, committed (and fsynced) with the call's changes."""
        self._write(_INSERT_AUDIT, (event_time, event_name, principal, key_arn, error_code, _dumps(event)))


class _GroupCommit:
    """Audit appends of concurrent calls committed together: each caller queues its row and waits; one of
    them (the first to find no batch being written) writes everything queued in one transaction, and
    every caller returns once its own row is committed, with its sequence number (or the batch's error).

    Why: every call that changes nothing (each Encrypt, Decrypt...) appends one record; one write
    transaction each makes concurrent callers queue for SQLite's write lock, one commit at a time.
    """

    def __init__(self, write: Callable[[list[tuple[object, ...]]], list[int]]) -> None:
        self._write = write
        self._ready = threading.Condition()
        self._queue: list[_Pending] = []
        self._writing = False

    def commit(self, row: tuple[object, ...]) -> int:
        mine = _Pending(row)
        with self._ready:
            self._queue.append(mine)
            while not mine.done and self._writing:
                self._ready.wait()
            if mine.done:
                return mine.result()
            self._writing = True  # this caller writes the batch, its own row included
            batch, self._queue = self._queue, []
        try:
            try:
                sequences = self._write([p.row for p in batch])
            except BaseException as error:
                for pending in batch:
                    pending.error = error
            else:
                for pending, sequence in zip(batch, sequences, strict=True):
                    pending.sequence = sequence
        finally:
            with self._ready:
                for pending in batch:
                    pending.done = True
                self._writing = False
                self._ready.notify_all()
        return mine.result()


class _Pending:
    __slots__ = ("done", "error", "row", "sequence")

    def __init__(self, row: tuple[object, ...]) -> None:
        self.row = row
        self.done = False
        self.sequence = 0
        self.error: BaseException | None = None

    def result(self) -> int:
        if self.error is not None:
            raise self.error
        return self.sequence


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return (code & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def _check_location(path: Path) -> None:
    """Refuse, with a one-line reason, a path SQLite could not use, before SQLite tries."""
    parent = path.parent
    if not parent.is_dir():
        raise StoreError(f"cannot open store `{path}`: directory `{parent}` does not exist")
    if path.is_dir():
        raise StoreError(f"cannot open store `{path}`: it is a directory")
    # WAL mode creates -wal and -shm files beside the database, so the directory must be writable.
    if not os.access(parent, os.W_OK | os.X_OK):
        raise StoreError(f"cannot open store `{path}`: directory `{parent}` is not writable")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise StoreError(f"cannot open store `{path}`: the file is not readable and writable")


def _create_private(path: Path) -> None:
    """Create the database file readable and writable by its owner only (0600, whatever the umask),
    before SQLite creates it: SQLite gives its -wal and -shm files the database file's mode, and the
    file holds key policies, grants, tokens, encryption contexts and the audit trail."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreError(f"cannot create store `{path}`: {exc.strerror or exc}") from exc
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


class SqliteKeyStore:
    """A ``KeyStore`` in the SQLite file at ``path`` (created with its schema on first open)."""

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_ms: int = 5000) -> None:
        if os.fspath(path) == ":memory:":
            raise StoreError("an in-memory SQLite database cannot be shared between connections; use the in-memory store")
        self._path = Path(os.path.abspath(path))  # connections opened later must not depend on the cwd
        self._busy_timeout_ms = busy_timeout_ms
        # This process's transactions run one at a time, queueing here in Python. Why: every SQLite statement
        # releases and retakes the GIL, and threads interleaving statement by statement hand the GIL over at
        # each one: measured in process, 8 threads made half the Encrypts per second one thread made, and
        # as many as one thread with this lock. Writers also queue here rather than in SQLite's busy handler,
        # which sleeps in steps of milliseconds. Other processes (--workers, other servers) still run in
        # parallel and meet at SQLite's own locks. Held from BEGIN to COMMIT or ROLLBACK.
        self._one_at_a_time = threading.RLock()
        self._audit_batches = _GroupCommit(self._write_audit_batch)
        self._lock = threading.Lock()  # guards the fields below
        self._idle: list[sqlite3.Connection] = []
        self._audit_idle: list[sqlite3.Connection] = []  # synchronous=NORMAL, for store-level audit appends only
        self._pid = os.getpid()
        self._closed = False
        self._active = threading.local()  # whether this thread is inside a transaction, to refuse nesting
        _check_location(self._path)
        _create_private(self._path)
        with self._borrow():  # open one now, so a bad file is reported by the constructor
            pass

    @property
    def path(self) -> Path:
        return self._path

    def __enter__(self) -> SqliteKeyStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # connections: a small pool, so each transaction has a connection of its own without one per thread

    @contextmanager
    def _borrow(self, *, audit: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection no other thread is using, returned to the pool afterwards. ``audit``: one of the
        pool kept at ``synchronous = NORMAL`` for audit appends (see ``append_audit``)."""
        conn = self._take_idle(audit)
        if conn is None:
            conn = self._open()
            if audit:
                conn.execute("PRAGMA synchronous = NORMAL")
        try:
            yield conn
        finally:
            self._give_back(conn, audit)

    def _take_idle(self, audit: bool = False) -> sqlite3.Connection | None:
        with self._lock:
            if self._closed:
                raise StoreError(f"store `{self._path}` is closed")
            if self._pid != os.getpid():  # a forked child: the parent's connections are not ours to use
                self._idle, self._audit_idle, self._pid = [], [], os.getpid()
            pool = self._audit_idle if audit else self._idle
            return pool.pop() if pool else None

    def _give_back(self, conn: sqlite3.Connection, audit: bool = False) -> None:
        with self._lock:
            pool = self._audit_idle if audit else self._idle
            healthy = not conn.in_transaction  # a failed rollback must not poison the pool
            keep = healthy and not self._closed and self._pid == os.getpid() and len(pool) < _IDLE_CONNECTIONS
            if keep:
                pool.append(conn)
        if not keep:
            conn.close()

    def _open(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise self._error("cannot open store", exc) from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = FULL")
            fresh = self._check_ours(conn)
            if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
                raise StoreError(f"cannot open store `{self._path}`: the file system does not support write-ahead logging")
            if fresh:
                self._create_schema(conn)
        except sqlite3.Error as exc:
            conn.close()
            raise self._error("cannot open store", exc) from exc
        except BaseException:
            conn.close()
            raise
        return conn

    def _check_ours(self, conn: sqlite3.Connection) -> bool:
        """True for an empty database; raise for one that is not a policyengine store (read only)."""
        tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchone()[0]
        if tables == 0:
            return True
        if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            raise StoreError(f"`{self._path}` is not a policyengine key store")
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_version")]
        if len(versions) == 1 and 1 <= versions[0] < SCHEMA_VERSION:
            self._upgrade(conn)
            return False
        if versions != [SCHEMA_VERSION]:
            found = ", ".join(map(str, versions)) or "none"
            raise StoreError(f"store `{self._path}` has schema version {found}; this policyengine reads version {SCHEMA_VERSION}")
        return False

    def _upgrade(self, conn: sqlite3.Connection) -> None:
        """Bring a file an older policyengine made to ``SCHEMA_VERSION`` (once, whoever gets the lock first)."""
        with self._immediate(conn):
            (version,) = conn.execute("SELECT version FROM schema_version").fetchone()
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _UPGRADES[step]:
                    conn.execute(statement)
            conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        with self._immediate(conn):
            if not self._check_ours(conn):  # another process created it while we looked
                return
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            for statement in filter(str.strip, _SCHEMA.split(";")):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))

    # master key

    def check_master_key(self, master_key: bytes) -> None:
        """Record the master key's check value on first use; refuse a different key afterwards.

        Material in the file is sealed under the master key, so a server started with another key
        (a lost ``master.key`` replaced by a fresh one) would fail to open every old key and seal
        new ones under a key the old ones do not share. A store made before check values were
        recorded gets one now, from the key it is opened with (the column is added in place).
        """
        with self._writing() as conn:
            columns = [row[1] for row in conn.execute("PRAGMA table_info(schema_version)")]
            if "master_key_check" not in columns:
                conn.execute("ALTER TABLE schema_version ADD COLUMN master_key_check TEXT")
            recorded = conn.execute("SELECT master_key_check FROM schema_version").fetchone()[0]
            if recorded is None:
                conn.execute("UPDATE schema_version SET master_key_check = ?", (check_value(master_key),))
            elif not same_master_key(str(recorded), master_key):
                raise StoreError(
                    f"the master key is not the one store `{self._path}` is sealed under: restore the master.key "
                    "that was made with this store"
                )

    def needs_its_master_key(self) -> bool:
        """Whether the store holds anything sealed under a master key (or has recorded one): then a
        missing ``master.key`` must be restored, not replaced."""
        with self._writing(write=False) as conn:
            columns = [row[1] for row in conn.execute("PRAGMA table_info(schema_version)")]
            recorded = "master_key_check" in columns and conn.execute("SELECT master_key_check FROM schema_version").fetchone()[0]
            if recorded:
                return True
            sealed = "SELECT 1 FROM materials UNION ALL SELECT 1 FROM import_parameters LIMIT 1"
            return conn.execute(sealed).fetchone() is not None

    def _error(self, what: str, exc: sqlite3.Error) -> StoreError:
        reason = str(exc).splitlines()[0] if str(exc) else "database error"
        return StoreError(f"{what} `{self._path}`: {reason}")

    # transactions

    @contextmanager
    def _writing(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """A pooled connection inside ``BEGIN IMMEDIATE`` (or a plain read transaction when not
        ``write``); refused if this thread already has one open."""
        if getattr(self._active, "open", False):
            raise StoreError("a store transaction is already open in this thread")
        self._active.open = True
        try:
            with self._borrow() as conn, self._immediate(conn, write):
                yield conn
        finally:
            self._active.open = False

    @contextmanager
    def _immediate(self, conn: sqlite3.Connection, write: bool = True) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` if the block raises.

        A read transaction (``write=False``) is a deferred ``BEGIN``: in WAL mode it sees one
        snapshot and neither waits for writers nor blocks them, so readers run in parallel.
        """
        with self._one_at_a_time:
            if write:
                self._begin(conn)
            else:
                conn.execute("BEGIN")
            try:
                yield
            except sqlite3.Error as exc:
                self._rollback(conn)
                raise self._error("store operation failed on", exc) from exc
            except BaseException:
                self._rollback(conn)
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback(conn)
                raise self._error("cannot commit to store", exc) from exc

    def _begin(self, conn: sqlite3.Connection) -> None:
        self._write_lock_retrying(conn, "BEGIN IMMEDIATE", (), "cannot start a transaction on store")

    def _write_lock_retrying(
        self, conn: sqlite3.Connection, statement: str, params: tuple[object, ...], what: str
    ) -> sqlite3.Cursor:
        """``statement`` (one that takes the write lock), tried again a few times while another process
        holds the lock beyond the busy timeout."""
        for attempt in range(1, _BEGIN_ATTEMPTS + 1):
            try:
                return conn.execute(statement, params)
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or attempt == _BEGIN_ATTEMPTS:
                    raise self._error(what, exc) from exc
                time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    def _write_audit_batch(self, rows: list[tuple[object, ...]]) -> list[int]:
        """Commit ``rows`` in one transaction on a connection kept at ``synchronous = NORMAL``: durable
        against a crash of this process (WAL) without the per-commit fsync key state gets (docs/security.md).
        Their sequence numbers, in order. One row (no other call was waiting) is one autocommitted INSERT,
        atomic on its own: one statement instead of BEGIN IMMEDIATE, INSERT and COMMIT."""
        if len(rows) == 1:
            with self._borrow(audit=True) as conn, self._one_at_a_time:
                cursor = self._write_lock_retrying(conn, _INSERT_AUDIT, rows[0], "cannot append to the audit log of store")
                assert cursor.lastrowid is not None  # always set after a one-row INSERT
                return [cursor.lastrowid]
        with self._borrow(audit=True) as conn, self._immediate(conn):
            sequences = []
            for row in rows:
                cursor = conn.execute(_INSERT_AUDIT, row)
                assert cursor.lastrowid is not None  # always set after a one-row INSERT
                sequences.append(cursor.lastrowid)
            return sequences

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):  # the error being raised matters more
                conn.execute("ROLLBACK")

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[StoreTransaction]:
        """One ``BEGIN IMMEDIATE`` transaction: everything the block did commits, or nothing does.

        ``write=False`` promises the block only reads: it gets a snapshot without the write lock.
        """
        with self._writing(write) as conn:
            view = _SqliteTransaction(conn, write)
            try:
                yield view
            finally:
                view.end()

    # audit

    def append_audit(
        self,
        event_time: float,
        event_name: str,
        principal: str,
        key_arn: str | None,
        error_code: str | None,
        event: dict[str, object],
    ) -> AuditRecord:
        """Record one event (of a call that changed nothing) in a transaction of its own; sequences only increase."""
        text = _dumps(event)
        if getattr(self._active, "open", False):
            raise StoreError("a store transaction is already open in this thread")
        sequence = self._audit_batches.commit((event_time, event_name, principal, key_arn, error_code, text))
        return AuditRecord(sequence, event_time, event_name, principal, key_arn, error_code, json.loads(text))

    def current_clock_offset(self) -> float:
        """Test mode's clock offset, read in one statement (every server reads it before each call)."""
        with self._borrow() as conn:
            row = conn.execute("SELECT offset_seconds FROM test_clock WHERE id = 1").fetchone()
        return 0.0 if row is None else float(row[0])

    def audit_records(self) -> Iterator[AuditRecord]:
        """Every audit record in sequence order, read a page at a time so nothing is held between pages."""
        after = 0
        while True:
            rows = self._audit_page(after)
            yield from map(_AUDIT.decode, rows)
            if len(rows) < _AUDIT_PAGE:
                return
            after = rows[-1][0]

    def _audit_page(self, after: int) -> list[tuple[Any, ...]]:
        with self._borrow() as conn:
            try:
                return conn.execute(
                    f"{_AUDIT.select} WHERE sequence > ? ORDER BY sequence LIMIT {_AUDIT_PAGE}", (after,)
                ).fetchall()
            except sqlite3.Error as exc:
                raise self._error("cannot read the audit log of store", exc) from exc

    def close(self) -> None:
        """Close the idle connections; ones in use close when returned. The store refuses further use."""
        with self._lock:
            self._closed = True
            idle = [*self._idle, *self._audit_idle] if self._pid == os.getpid() else []
            self._idle, self._audit_idle = [], []
        for conn in idle:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
