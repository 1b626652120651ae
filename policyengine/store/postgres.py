"""A ``KeyStore`` in PostgreSQL, so several server processes (on one or many machines) share one state.

Why these choices:

* **Isolation.** A write transaction runs at READ COMMITTED and locks what it reads: ``get_key``
  takes ``FOR NO KEY UPDATE`` on the key's row, ``get_grant`` and ``get_import_parameters``
  ``FOR UPDATE``, and ``get_alias`` a transaction-scoped advisory lock on the alias name (an
  alias that does not exist yet has no row to lock, and "create if absent" is exactly the race
  between two CreateAlias calls). Every facade operation that changes a key first reads it
  through ``get_key``, so two operations on one key (two rotations, a rotation and a deletion,
  two tag edits) queue on the row lock; once the first commits, PostgreSQL hands the second the
  row as the first left it, and the second's later statements see the first's writes. So the
  on-demand rotation count, alias uniqueness, grant retirement and deletion scheduling hold
  across servers without retries, and a hot key makes writers wait instead of fail.
  SERIALIZABLE was the alternative; it cannot be used here without re-running whole
  operations, because the store hands the facade a transaction as a context manager (the block
  cannot be replayed from inside), and under contention on one key it would abort most of the
  writers instead of queueing them.
* **Reads.** A read-only transaction (Encrypt, Decrypt, Describe...) is ``REPEATABLE READ READ
  ONLY``: one snapshot for all its statements (a key and its material versions always agree)
  and no locks, so it never waits for a writer and no writer waits for it.
* **Deadlocks.** Operations lock in the order they read (a key then its alias, or an alias then
  its keys), so two of them can deadlock. PostgreSQL detects it and aborts one; that
  transaction is rolled back and raises ``StoreConflict``, which says that running the whole
  operation again is safe (the facade does so a few times).
* **Scheduled work.** ``claim_key`` locks a key's row with ``FOR UPDATE SKIP LOCKED``: among servers
  that find the same key due, exactly one gets it, the others skip it, and the winner sees the
  row as of its lock, so work that another server already committed is not done twice.
* **Audit.** One row per call, numbered by a ``BIGSERIAL``. The row of a call that changed
  something is inserted in that call's write transaction, so the change and its record commit
  together (at the database's own ``synchronous_commit``). The row of a call that changed nothing
  is one ``INSERT`` committed on its own with ``synchronous_commit = off``: a crash of PostgreSQL
  itself can lose the last fraction of a second of those rows, never a change or its record —
  the same trade the SQLite store makes with ``synchronous=NORMAL`` for them.
* **Schema.** Versioned and created or migrated only by ``policyengine db upgrade`` (``upgrade``
  here), under an advisory lock and in one transaction (PostgreSQL's DDL is transactional), so a
  half-migrated schema is never visible. Opening a store checks the version and refuses,
  with the command to run, a database without our schema, an older one, or a newer one.
* **Material.** Sealed by the facade before it arrives; PostgreSQL only ever holds sealed blobs.
  ``check_master_key`` records a keyed check value (never the key) so a server started with a
  different master key file is refused before it writes material nobody else can open.

Connections come from a ``psycopg_pool`` pool; every error becomes a one-line ``StoreError``
naming the store without its password.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from policyengine.store import StoreConflict, StoreError
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

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg.conninfo import conninfo_to_dict, make_conninfo
    from psycopg.rows import TupleRow
    from psycopg.types.json import Json
    from psycopg_pool import ConnectionPool, PoolTimeout
except ImportError as _missing:  # pragma: no cover - exercised only without the extra installed
    raise StoreError("PostgreSQL stores need psycopg and psycopg-pool: pip install 'policyengine-kms[postgres]'") from _missing

__all__ = ["SCHEMA_VERSION", "PostgresKeyStore", "describe_url", "is_postgres_url", "schema_version", "upgrade"]

Connection = psycopg.Connection[TupleRow]

#: The schema this code reads and writes; ``upgrade`` brings a database to it.
SCHEMA_VERSION = 4
#: Marks the ``schema_version`` table (and so the database) as a policyengine key store.
MARKER = "policyengine key store"
_UPGRADE_LOCK = 0x50454B53  # "PEKS": one upgrade at a time per database
_ALIAS_LOCK_SPACE = 0x50454B41  # "PEKA": the advisory-lock space of alias names
_AUDIT_PAGE = 500
_CONNECT_TIMEOUT_S = 10
_SESSION_SETTINGS = (
    # A server that stops answering (frozen, partitioned) must not hold its row locks for ever.
    "SET idle_in_transaction_session_timeout = '60s'",
    # A writer queued behind a lock for this long is stuck: fail the call instead of the thread.
    "SET lock_timeout = '30s'",
    # What commits outside a write transaction is an audit row: it does not wait for the WAL flush.
    # Every write transaction sets the database's own setting back for itself (``_begin_write``).
    "SET synchronous_commit = off",
)
_SYNCHRONOUS_COMMIT = frozenset({"on", "off", "local", "remote_write", "remote_apply"})

# Each migration takes the schema from version N - 1 to N (N is its position, from 1). Text
# columns that lists are ordered by use the "C" collation, so order is by code point as in SQLite
# whatever the database's locale. Times are epoch seconds as double precision (exact for floats).
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE schema_version (version INTEGER NOT NULL, master_key_check TEXT)""",
        f"""COMMENT ON TABLE schema_version IS '{MARKER}'""",
        """CREATE TABLE keys (
            key_id TEXT COLLATE "C" PRIMARY KEY, arn TEXT NOT NULL, account TEXT NOT NULL, region TEXT NOT NULL,
            key_spec TEXT NOT NULL, key_usage TEXT NOT NULL, origin TEXT NOT NULL, key_manager TEXT NOT NULL,
            state TEXT NOT NULL, creation_date DOUBLE PRECISION NOT NULL, policy TEXT NOT NULL, description TEXT NOT NULL,
            deletion_date DOUBLE PRECISION, pending_window_days INTEGER, rotation_enabled BOOLEAN NOT NULL,
            rotation_period_days INTEGER, next_rotation_date DOUBLE PRECISION, on_demand_rotations INTEGER NOT NULL,
            valid_to DOUBLE PRECISION, expiration_model TEXT, tags JSON NOT NULL, material_fingerprint TEXT
        )""",
        """CREATE INDEX keys_by_place ON keys (account, region, creation_date, key_id)""",
        """CREATE TABLE materials (
            key_id TEXT COLLATE "C" NOT NULL REFERENCES keys (key_id) ON DELETE CASCADE, version INTEGER NOT NULL,
            sealed_material BYTEA NOT NULL, created DOUBLE PRECISION NOT NULL, rotation_type TEXT,
            imported BOOLEAN NOT NULL,
            PRIMARY KEY (key_id, version)
        )""",
        """CREATE TABLE aliases (
            account TEXT NOT NULL, region TEXT NOT NULL, alias_name TEXT COLLATE "C" NOT NULL,
            target_key_id TEXT COLLATE "C" NOT NULL REFERENCES keys (key_id) ON DELETE CASCADE,
            creation_date DOUBLE PRECISION NOT NULL, last_updated DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (account, region, alias_name)
        )""",
        """CREATE INDEX aliases_by_target ON aliases (target_key_id)""",
        """CREATE TABLE grants (
            grant_id TEXT COLLATE "C" PRIMARY KEY,
            key_id TEXT COLLATE "C" NOT NULL REFERENCES keys (key_id) ON DELETE CASCADE,
            key_arn TEXT NOT NULL, grantee_principal TEXT NOT NULL, operations TEXT[] NOT NULL,
            issuing_account TEXT NOT NULL, creation_date DOUBLE PRECISION NOT NULL, grant_token TEXT NOT NULL,
            retiring_principal TEXT, name TEXT, constraints JSON
        )""",
        """CREATE INDEX grants_by_key ON grants (key_id, creation_date, grant_id)""",
        """CREATE INDEX grants_by_retiring ON grants (retiring_principal, creation_date, grant_id)""",
        """CREATE TABLE import_parameters (
            key_id TEXT COLLATE "C" PRIMARY KEY REFERENCES keys (key_id) ON DELETE CASCADE,
            import_token TEXT NOT NULL, sealed_wrapping_key BYTEA NOT NULL, wrapping_algorithm TEXT NOT NULL,
            wrapping_key_spec TEXT NOT NULL, expires DOUBLE PRECISION NOT NULL
        )""",
        """CREATE TABLE audit (
            sequence BIGSERIAL PRIMARY KEY, event_time DOUBLE PRECISION NOT NULL, event_name TEXT NOT NULL,
            principal TEXT NOT NULL, key_arn TEXT, error_code TEXT, event JSON NOT NULL
        )""",
    ),
    # 2: multi-Region keys (the primary's region and every related key's region, in each related key's row)
    ("""ALTER TABLE keys ADD COLUMN multi_region JSON""",),
    # 3: when each key's scheduled work is due, indexed (store/schedule.py), filled for the keys already there
    (
        """ALTER TABLE keys ADD COLUMN due DOUBLE PRECISION""",
        """CREATE INDEX keys_by_due ON keys (due) WHERE due IS NOT NULL""",
        f"""UPDATE keys SET due = {DUE_SQL}""",
    ),
    # 4: test mode's clock offset, shared by every server on the database
    (
        """CREATE TABLE test_clock (id INTEGER PRIMARY KEY CHECK (id = 1), offset_seconds DOUBLE PRECISION NOT NULL)""",
        """INSERT INTO test_clock VALUES (1, 0)""",
    ),
)
assert len(_MIGRATIONS) == SCHEMA_VERSION
_OUR_TABLES = ("keys", "materials", "aliases", "grants", "import_parameters", "audit", "test_clock")

R = TypeVar("R")
_Codec = tuple[Callable[[Any], object], Callable[[Any], Any]]


def _same(value: Any) -> Any:
    return value


def _json_or_none(value: object) -> Json | None:
    return None if value is None else Json(value)


_JSON: _Codec = (Json, _same)  # psycopg parses json columns into fresh Python objects on the way out
_OPTIONAL_JSON: _Codec = (_json_or_none, _same)
_TUPLE: _Codec = (list, tuple)  # a Python list is a PostgreSQL array


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
        self.columns = tuple(f.name for f in dataclasses.fields(record))  # type: ignore[arg-type]  # R is always a record dataclass
        self._make: Callable[..., R] = record
        self._encoders = [(codecs or {}).get(c, (_same, _same))[0] for c in self.columns]
        self._decoders = [(codecs or {}).get(c, (_same, _same))[1] for c in self.columns]
        self._computed = tuple((computed or {}).values())
        written = (*self.columns, *(computed or {}))
        updates = ", ".join(f"{c} = excluded.{c}" for c in written if c not in key)
        self.select = f"SELECT {', '.join(self.columns)} FROM {name}"
        self.insert = f"INSERT INTO {name} ({', '.join(written)}) VALUES ({', '.join(['%s'] * len(written))})"
        # Upserts, never delete-and-insert: a delete would cascade to the key's material, aliases and grants.
        self.upsert = f"{self.insert} ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"

    def encode(self, record: R) -> tuple[object, ...]:
        fields = tuple(encode(getattr(record, c)) for encode, c in zip(self._encoders, self.columns, strict=True))
        return fields + tuple(compute(record) for compute in self._computed)

    def decode(self, row: tuple[Any, ...]) -> R:
        return self._make(*(decode(v) for decode, v in zip(self._decoders, row, strict=True)))


_KEYS = _Table("keys", KeyRecord, ("key_id",), {"tags": _JSON, "multi_region": _OPTIONAL_JSON}, {"due": due_time})
_MATERIALS = _Table("materials", MaterialRecord, ("key_id", "version"))
_ALIASES = _Table("aliases", AliasRecord, ("account", "region", "alias_name"))
_GRANTS = _Table("grants", GrantRecord, ("grant_id",), {"operations": _TUPLE, "constraints": _OPTIONAL_JSON})
_IMPORTS = _Table("import_parameters", ImportParameters, ("key_id",))
_AUDIT = _Table("audit", AuditRecord, ("sequence",), {"event": _JSON})


# ---- URLs and errors ------------------------------------------------------------------------


def is_postgres_url(location: str) -> bool:
    """Whether ``location`` names a PostgreSQL store (``postgresql://`` or ``postgres://``) rather than a file."""
    return location.startswith(("postgresql://", "postgres://"))


def describe_url(url: str) -> str:
    """``url`` without its password (or anything else secret), fit for logs and error messages."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.Error:
        return "postgresql://(unreadable URL)"
    user = f"{parts['user']}@" if parts.get("user") else ""
    host = str(parts.get("host") or "")
    port = f":{parts['port']}" if parts.get("port") else ""
    database = parts.get("dbname") or ""
    if host.startswith("/"):  # a Unix socket directory
        return f"postgresql://{user}{port}/{database}?host={host}"
    shown_host = f"[{host}]" if ":" in host and "," not in host else host
    return f"postgresql://{user}{shown_host}{port}/{database}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def _translate(exc: psycopg.Error, where: str, doing: str) -> StoreError:
    """The one-line ``StoreError`` for a psycopg error; ``StoreConflict`` when retrying the operation is safe."""
    if isinstance(exc, pg_errors.DeadlockDetected | pg_errors.SerializationFailure):
        return StoreConflict(f"{doing} on store {where} lost a race with another server and was rolled back; try again")
    if isinstance(exc, pg_errors.LockNotAvailable):
        return StoreError(f"{doing} on store {where} waited too long for a lock held by another transaction")
    if isinstance(exc, pg_errors.UndefinedTable):
        return StoreError(f"store {where} has no policyengine schema; run `policyengine db upgrade --store URL`")
    return StoreError(f"{doing} on store {where} failed: {_first_line(exc)}")


def _conninfo(url: str, where: str) -> str:
    """``url`` as libpq connection parameters, with our defaults where the URL sets none."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.Error as exc:
        reason = _first_line(exc).replace(url, "...").split(" in URI")[0]  # libpq quotes the URL, password and all
        raise StoreError(f"not a usable PostgreSQL URL: {reason}") from None
    parts.setdefault("connect_timeout", _CONNECT_TIMEOUT_S)
    parts.setdefault("application_name", "policyengine")
    return make_conninfo("", **parts)


def _connect(url: str, where: str) -> Connection:
    """A new connection outside the pool (schema checks and upgrades), errors as one line."""
    conninfo = _conninfo(url, where)
    try:
        return psycopg.connect(conninfo, autocommit=True)
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to store {where}: {_connection_reason(exc)}") from None


def _connection_reason(exc: BaseException) -> str:
    """libpq's reason without its preamble ("connection failed: connection to server at ... failed:")."""
    line = _first_line(exc)
    for noise in ("connection failed: ", "connection is bad: "):
        line = line.removeprefix(noise)
    head, sep, tail = line.rpartition(" failed: ")
    return tail if sep and head.startswith("connection to server") else line


# ---- schema -----------------------------------------------------------------------------------


def _read_version(conn: Connection, where: str) -> int | None:
    """The schema version of the database behind ``conn``; None when it has no policyengine schema at all.

    Raises ``StoreError`` for a database that has tables of ours' names but is not ours.
    """
    row = conn.execute(
        "SELECT to_regclass('schema_version') IS NOT NULL, obj_description(to_regclass('schema_version'), 'pg_class')"
    ).fetchone()
    assert row is not None  # a SELECT without FROM always gives one row
    exists, comment = row
    if not exists:
        clashes = [t for t in _OUR_TABLES if conn.execute("SELECT to_regclass(%s)", (t,)).fetchone() != (None,)]
        if clashes:
            raise StoreError(f"{where} is not a policyengine key store (it has a table `{clashes[0]}` of its own)")
        return None
    if comment != MARKER:
        raise StoreError(f"{where} is not a policyengine key store (its `schema_version` table is someone else's)")
    versions = [r[0] for r in conn.execute("SELECT version FROM schema_version")]
    if len(versions) != 1:
        raise StoreError(f"store {where} has a damaged `schema_version` table ({len(versions)} rows, expected 1)")
    return int(versions[0])


def schema_version(url: str) -> int | None:
    """The schema version of the store at ``url`` (None: no policyengine schema yet)."""
    where = describe_url(url)
    with contextlib.closing(_connect(url, where)) as conn:
        try:
            return _read_version(conn, where)
        except psycopg.Error as exc:
            raise _translate(exc, where, "reading the schema version") from None


def upgrade(url: str) -> tuple[int, int]:
    """Create or migrate the schema of the store at ``url`` to ``SCHEMA_VERSION``; return (before, after).

    One transaction under an advisory lock: two upgrades at once run one after the other (the
    second finds nothing to do), and a failure leaves the database exactly as it was. A
    database whose schema is newer than this code is refused, untouched.
    """
    where = describe_url(url)
    with contextlib.closing(_connect(url, where)) as conn:
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_UPGRADE_LOCK,))
                before = _read_version(conn, where) or 0
                if before > SCHEMA_VERSION:
                    raise StoreError(
                        f"store {where} has schema version {before}; this policyengine knows versions up to "
                        f"{SCHEMA_VERSION}: upgrade policyengine instead"
                    )
                for statements in _MIGRATIONS[before:]:
                    for statement in statements:
                        conn.execute(statement.encode())  # fixed text of ours, no parameters
                if before == 0:
                    conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (SCHEMA_VERSION,))
                elif before < SCHEMA_VERSION:
                    conn.execute("UPDATE schema_version SET version = %s", (SCHEMA_VERSION,))
        except psycopg.Error as exc:
            raise _translate(exc, where, "upgrading the schema") from None
    return before, SCHEMA_VERSION


# ---- transactions -----------------------------------------------------------------------------


_INSERT_AUDIT = (
    "INSERT INTO audit (event_time, event_name, principal, key_arn, error_code, event) VALUES (%s, %s, %s, %s, %s, %s::json)"
)


class _PgTransaction:
    """The ``StoreTransaction`` view over one open transaction on one pooled connection."""

    def __init__(self, conn: Connection, writable: bool, where: str) -> None:
        # One cursor for the whole transaction (each result is read before the next statement).
        self._cursor: psycopg.Cursor[TupleRow] | None = conn.cursor()
        self._writable = writable
        self._where = where

    def end(self) -> None:
        self._cursor = None

    def _run(self, query: str, params: tuple[object, ...] = ()) -> psycopg.Cursor[TupleRow]:
        if self._cursor is None:
            raise StoreError("a store transaction was used after its block ended")
        try:
            return self._cursor.execute(query.encode(), params)  # ours, never built from input: values go as parameters
        except psycopg.Error as exc:
            raise _translate(exc, self._where, "a store operation") from exc

    def _write(self, query: str, params: tuple[object, ...] = ()) -> psycopg.Cursor[TupleRow]:
        if not self._writable:
            raise StoreError("a read-only store transaction cannot write")
        return self._run(query, params)

    def _lock(self, clause: str) -> str:
        """A row lock for reads in a write transaction (a read-only one takes none: it cannot)."""
        return f" {clause}" if self._writable else ""

    def _one(self, table: _Table[R], where: str, params: tuple[object, ...], lock: str = "") -> R | None:
        row = self._run(f"{table.select} WHERE {where}{lock}", params).fetchone()
        return None if row is None else table.decode(row)

    def _all(self, table: _Table[R], tail: str, params: tuple[object, ...] = ()) -> list[R]:
        return [table.decode(row) for row in self._run(f"{table.select} {tail}", params).fetchall()]

    def _require_key(self, key_id: str, what: str) -> None:
        if self._run("SELECT 1 FROM keys WHERE key_id = %s", (key_id,)).fetchone() is None:
            raise StoreError(f"cannot store {what}: key `{key_id}` does not exist")

    # keys
    def get_key(self, key_id: str) -> KeyRecord | None:
        # NO KEY UPDATE: serialises writers of this key but not inserts that merely reference it.
        return self._one(_KEYS, "key_id = %s", (key_id,), self._lock("FOR NO KEY UPDATE"))

    def claim_key(self, key_id: str) -> KeyRecord | None:
        """The key locked for this transaction, or None if it is gone or another transaction holds it."""
        return self._one(_KEYS, "key_id = %s", (key_id,), self._lock("FOR UPDATE SKIP LOCKED"))

    def put_key(self, key: KeyRecord) -> None:
        self._write(_KEYS.upsert, _KEYS.encode(key))

    def delete_key(self, key_id: str) -> None:
        self._write("DELETE FROM keys WHERE key_id = %s", (key_id,))  # cascades to everything else

    def list_keys(
        self, account: str, region: str, *, after: tuple[float, str] | None = None, limit: int | None = None
    ) -> list[KeyRecord]:
        # keys_by_place (account, region, creation_date, key_id): a page is an index range; LIMIT NULL: no limit
        if after is None:
            tail = "WHERE account = %s AND region = %s ORDER BY creation_date, key_id LIMIT %s"
            return self._all(_KEYS, tail, (account, region, limit))
        tail = "WHERE account = %s AND region = %s AND (creation_date, key_id) > (%s, %s) ORDER BY creation_date, key_id LIMIT %s"
        return self._all(_KEYS, tail, (account, region, after[0], after[1], limit))

    def all_keys(self) -> list[KeyRecord]:
        return self._all(_KEYS, "ORDER BY creation_date, key_id")

    def clock_offset(self) -> float:
        row = self._run("SELECT offset_seconds FROM test_clock WHERE id = 1", ()).fetchone()
        return 0.0 if row is None else float(row[0])

    def set_clock_offset(self, offset: float) -> None:
        self._write("UPDATE test_clock SET offset_seconds = %s WHERE id = 1", (offset,))

    def due_keys(self, now: float) -> list[KeyRecord]:
        return self._all(_KEYS, "WHERE due <= %s ORDER BY due, key_id", (now,))  # keys_by_due

    def next_due(self) -> float | None:
        row = self._run("SELECT due FROM keys WHERE due IS NOT NULL ORDER BY due LIMIT 1", ()).fetchone()
        return None if row is None else float(row[0])

    # material
    def add_material(self, material: MaterialRecord) -> None:
        if not self._writable:
            raise StoreError("a read-only store transaction cannot write")
        self._require_key(material.key_id, "material")
        # DO NOTHING rather than a unique violation, which would abort the whole transaction.
        added = self._write(f"{_MATERIALS.insert} ON CONFLICT DO NOTHING", _MATERIALS.encode(material)).rowcount
        if added != 1:
            raise StoreError(f"key `{material.key_id}` already has material version {material.version}")

    def materials(self, key_id: str) -> list[MaterialRecord]:
        return self._all(_MATERIALS, "WHERE key_id = %s ORDER BY version", (key_id,))

    def delete_materials(self, key_id: str) -> None:
        self._write("DELETE FROM materials WHERE key_id = %s", (key_id,))

    # aliases
    def get_alias(self, account: str, region: str, alias_name: str) -> AliasRecord | None:
        if self._writable:
            # Held to the end of the transaction: whoever reads an alias name to change it (create,
            # repoint, delete) is alone with that name until it commits, even while no row exists.
            self._run("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_ALIAS_LOCK_SPACE, f"{account}:{region}:{alias_name}"))
        return self._one(_ALIASES, "account = %s AND region = %s AND alias_name = %s", (account, region, alias_name))

    def put_alias(self, alias: AliasRecord) -> None:
        if not self._writable:
            raise StoreError("a read-only store transaction cannot write")
        self._require_key(alias.target_key_id, f"alias `{alias.alias_name}`")
        self._write(_ALIASES.upsert, _ALIASES.encode(alias))

    def delete_alias(self, account: str, region: str, alias_name: str) -> None:
        self._write("DELETE FROM aliases WHERE account = %s AND region = %s AND alias_name = %s", (account, region, alias_name))

    def list_aliases(self, account: str, region: str, *, after: str | None = None, limit: int | None = None) -> list[AliasRecord]:
        tail = "WHERE account = %s AND region = %s AND alias_name > %s ORDER BY alias_name LIMIT %s"  # the primary key's order
        return self._all(_ALIASES, tail, (account, region, after or "", limit))

    def aliases_for_key(self, key_id: str) -> list[AliasRecord]:
        # aliases_by_target
        return self._all(_ALIASES, "WHERE target_key_id = %s ORDER BY alias_name, account, region", (key_id,))

    # grants
    def get_grant(self, grant_id: str) -> GrantRecord | None:
        # Locked so two retirements (or a retire and a revoke) of one grant cannot both succeed.
        return self._one(_GRANTS, "grant_id = %s", (grant_id,), self._lock("FOR UPDATE"))

    def put_grant(self, grant: GrantRecord) -> None:
        if not self._writable:
            raise StoreError("a read-only store transaction cannot write")
        self._require_key(grant.key_id, f"grant `{grant.grant_id}`")
        self._write(_GRANTS.upsert, _GRANTS.encode(grant))

    def delete_grant(self, grant_id: str) -> None:
        self._write("DELETE FROM grants WHERE grant_id = %s", (grant_id,))

    def grants_for_key(self, key_id: str) -> list[GrantRecord]:
        return self._all(_GRANTS, "WHERE key_id = %s ORDER BY creation_date, grant_id", (key_id,))

    def grants_for_retiring_principal(self, principal: str) -> list[GrantRecord]:
        return self._all(_GRANTS, "WHERE retiring_principal = %s ORDER BY creation_date, grant_id", (principal,))

    # import parameters
    def get_import_parameters(self, key_id: str) -> ImportParameters | None:
        return self._one(_IMPORTS, "key_id = %s", (key_id,), self._lock("FOR UPDATE"))

    def put_import_parameters(self, params: ImportParameters) -> None:
        if not self._writable:
            raise StoreError("a read-only store transaction cannot write")
        self._require_key(params.key_id, "import parameters")
        self._write(_IMPORTS.upsert, _IMPORTS.encode(params))

    def delete_import_parameters(self, key_id: str) -> None:
        self._write("DELETE FROM import_parameters WHERE key_id = %s", (key_id,))

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
        """The call's record, committed with the call's changes (at the database's own durability)."""
        # ASCII: the record may hold a string that is not Unicode text
        text = json.dumps(event, ensure_ascii=True, separators=(",", ":"))
        self._write(_INSERT_AUDIT, (event_time, event_name, principal, key_arn, error_code, text))


_BEGIN_READ = b"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"


def _begin_write(synchronous_commit: str) -> bytes:
    """BEGIN for a write transaction, committing as durably as the database is configured to (one round trip)."""
    setting = synchronous_commit if synchronous_commit in _SYNCHRONOUS_COMMIT else "on"
    return f"BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE; SET LOCAL synchronous_commit = {setting}".encode()


class PostgresKeyStore:
    """A ``KeyStore`` in the PostgreSQL database at ``url`` (whose schema ``upgrade`` made).

    ``max_connections`` caps this process's pool; a server needs about one per worker thread.
    The constructor connects once to check the schema, so a bad URL, a server that is down or a
    database without our schema is reported there, as one line.
    """

    def __init__(self, url: str, *, max_connections: int = 16, pool_timeout: float = 10.0) -> None:
        if not is_postgres_url(url):
            raise StoreError("a PostgreSQL store is named by a postgresql:// URL")
        self._where = describe_url(url)
        with contextlib.closing(_connect(url, self._where)) as conn:
            try:
                version = _read_version(conn, self._where)
                durability = conn.execute(b"SELECT current_setting('synchronous_commit')").fetchone()
            except psycopg.Error as exc:
                raise _translate(exc, self._where, "reading the schema version") from None
        self._begin_write = _begin_write(str(durability[0]) if durability else "on")
        if version is None:
            raise StoreError(f"store {self._where} has no policyengine schema; run `policyengine db upgrade --store URL`")
        if version < SCHEMA_VERSION:
            raise StoreError(
                f"store {self._where} has schema version {version}; run `policyengine db upgrade --store URL` "
                f"to bring it to version {SCHEMA_VERSION}"
            )
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"store {self._where} has schema version {version}; this policyengine reads version {SCHEMA_VERSION}"
            )
        self._pool: ConnectionPool[Connection] = ConnectionPool(
            _conninfo(url, self._where),
            kwargs={"autocommit": True},
            min_size=1,
            max_size=max(1, max_connections),
            configure=self._configure,
            timeout=pool_timeout,
            name=f"policyengine {self._where}",
            open=True,
        )
        self._active = threading.local()  # whether this thread is inside a transaction, to refuse nesting
        self._closed = False

    @property
    def location(self) -> str:
        """The store's URL without its password."""
        return self._where

    def __enter__(self) -> PostgresKeyStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @staticmethod
    def _configure(conn: Connection) -> None:
        for setting in _SESSION_SETTINGS:
            conn.execute(setting.encode())

    # connections

    def _check_usable(self) -> None:
        if self._closed:
            raise StoreError(f"store {self._where} is closed")
        if getattr(self._active, "open", False):
            raise StoreError("a store transaction is already open in this thread")

    @contextmanager
    def _borrow(self) -> Iterator[Connection]:
        """A pooled connection; one that broke is dropped by the pool when given back."""
        try:
            conn = self._pool.getconn()
        except PoolTimeout:
            raise StoreError(f"no connection to store {self._where} became free or could be made in time") from None
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to store {self._where}: {_connection_reason(exc)}") from None
        try:
            yield conn
        finally:
            self._pool.putconn(conn)

    @contextmanager
    def _begun(self, begin: bytes) -> Iterator[Connection]:
        """A pooled connection inside ``begin``. A pooled connection the server has closed since it
        was last used (a restart, an idle timeout) fails on its first statement: nothing has
        happened yet, so the pool drops every idle connection that is dead and we try once more."""
        for attempt in (1, 2):
            with self._borrow() as conn:
                try:
                    conn.execute(begin)
                except psycopg.OperationalError as exc:
                    if attempt == 1 and conn.broken:
                        self._pool.check()
                        continue
                    raise StoreError(f"cannot start a transaction on store {self._where}: {_first_line(exc)}") from None
                except psycopg.Error as exc:
                    raise _translate(exc, self._where, "starting a transaction") from None
                yield conn
                return
        raise AssertionError("unreachable")  # pragma: no cover

    def _finish(self, conn: Connection, failed: bool) -> None:
        if failed:
            if not conn.broken and not conn.closed:
                with contextlib.suppress(psycopg.Error):  # the error being raised matters more
                    conn.execute(b"ROLLBACK")
            return
        try:
            conn.execute(b"COMMIT")
        except psycopg.Error as exc:
            with contextlib.suppress(psycopg.Error):
                conn.execute(b"ROLLBACK")
            raise _translate(exc, self._where, "committing") from None

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[StoreTransaction]:
        """One transaction: everything the block did commits, or nothing does.

        ``write=False`` promises the block only reads: a lock-free snapshot (REPEATABLE READ,
        READ ONLY) that refuses writes.
        """
        self._check_usable()
        self._active.open = True
        try:
            with self._begun(self._begin_write if write else _BEGIN_READ) as conn:
                view = _PgTransaction(conn, write, self._where)
                try:
                    yield view
                except BaseException:
                    view.end()
                    self._finish(conn, failed=True)
                    raise
                view.end()
                self._finish(conn, failed=False)
        finally:
            self._active.open = False

    # master key

    def check_master_key(self, master_key: bytes) -> None:
        """Record the master key's check value on first use; refuse a different key afterwards.

        Every server sharing the store must seal and open material with the same master key (each
        reads it from its own file). The check value is an HMAC of a fixed label under the key: it
        tells keys apart without revealing anything about them.
        """
        check = check_value(master_key)
        self._check_usable()
        with self._begun(self._begin_write) as conn:
            failed = True
            try:
                row = conn.execute(b"SELECT master_key_check FROM schema_version FOR UPDATE").fetchone()
                recorded = None if row is None else row[0]
                if recorded is None:
                    conn.execute(b"UPDATE schema_version SET master_key_check = %s", (check,))
                elif not same_master_key(str(recorded), master_key):
                    raise StoreError(
                        f"this server's master key is not the one the material in store {self._where} is sealed under: "
                        "give every server a copy of the same master.key"
                    )
                failed = False
            except psycopg.Error as exc:
                raise _translate(exc, self._where, "checking the master key") from None
            finally:
                self._finish(conn, failed)

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
        """Record one event in a transaction of its own and return it with its sequence number.

        One statement, committed on its own without waiting for the WAL flush (the session's
        ``synchronous_commit = off``). Sequence numbers increase in the order rows are inserted;
        with several servers, a row can commit just after a later-numbered one, so a reader
        racing the writers may briefly see a gap that then fills.
        """
        self._check_usable()
        # ASCII: the audit record of a refused call may hold a string that is not Unicode text
        text = json.dumps(event, ensure_ascii=True, separators=(",", ":"))
        with self._borrow() as conn:
            try:
                row = conn.execute(
                    b"INSERT INTO audit (event_time, event_name, principal, key_arn, error_code, event)"
                    b" VALUES (%s, %s, %s, %s, %s, %s::json) RETURNING sequence",
                    (event_time, event_name, principal, key_arn, error_code, text),
                ).fetchone()
            except psycopg.Error as exc:
                raise _translate(exc, self._where, "appending to the audit log") from None
        assert row is not None  # INSERT ... RETURNING of one row
        # A copy made through JSON, as the stored one is: later changes to ``event`` cannot reach the record.
        return AuditRecord(int(row[0]), event_time, event_name, principal, key_arn, error_code, json.loads(text))

    def audit_records(self) -> Iterator[AuditRecord]:
        """Every audit record in sequence order, a page at a time so nothing is held between pages."""
        if self._closed:
            raise StoreError(f"store {self._where} is closed")
        return self._audit_pages()

    def _audit_pages(self) -> Iterator[AuditRecord]:
        after = 0
        while True:
            rows = self._audit_page(after)
            yield from map(_AUDIT.decode, rows)
            if len(rows) < _AUDIT_PAGE:
                return
            after = rows[-1][0]

    def _audit_page(self, after: int) -> list[tuple[Any, ...]]:
        if self._closed:
            raise StoreError(f"store {self._where} is closed")
        with self._borrow() as conn:
            try:
                return conn.execute(
                    f"{_AUDIT.select} WHERE sequence > %s ORDER BY sequence LIMIT {_AUDIT_PAGE}".encode(), (after,)
                ).fetchall()
            except psycopg.Error as exc:
                raise _translate(exc, self._where, "reading the audit log") from None

    def current_clock_offset(self) -> float:
        """Test mode's clock offset, read in one autocommit statement (every server reads it before each call)."""
        if self._closed:
            raise StoreError(f"store {self._where} is closed")
        with self._borrow() as conn:
            try:
                row = conn.execute(b"SELECT offset_seconds FROM test_clock WHERE id = 1").fetchone()
            except psycopg.Error as exc:
                raise _translate(exc, self._where, "reading the clock") from None
        return 0.0 if row is None else float(row[0])

    def close(self) -> None:
        """Close the pool (connections in use close when given back); the store refuses further use."""
        if self._closed:
            return
        self._closed = True
        self._pool.close()
