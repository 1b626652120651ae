"""What only the PostgreSQL store has: its schema and upgrades, its errors, its locks, and its sharing across processes."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from multiprocessing.synchronize import Barrier as BarrierType
from typing import Any

import psycopg
import pytest

from policyengine.store import KeyRecord, StoreConflict, StoreError
from policyengine.store.postgres import (
    SCHEMA_VERSION,
    PostgresKeyStore,
    describe_url,
    schema_version,
    upgrade,
)
from tests.postgres.cluster import Cluster
from tests.unit.test_store import ACCOUNT, REGION, increment, make_alias, make_key, make_material


def _sql(url: str, statement: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement.encode())
        return cursor.fetchall() if cursor.description else []


def _in_threads(count: int, work: Callable[[int], object]) -> list[object]:
    """Run ``work(i)`` in ``count`` threads started together; what each returned or raised, in order."""
    start = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = work(index)
        except BaseException as error:  # reported to the test through the results
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


# ---- schema ---------------------------------------------------------------------------------------


def test_upgrade_creates_the_schema_and_is_idempotent(empty_pg_url: str) -> None:
    """The first upgrade creates the schema at the current version; running it again changes nothing."""
    assert schema_version(empty_pg_url) is None
    assert upgrade(empty_pg_url) == (0, SCHEMA_VERSION)
    assert upgrade(empty_pg_url) == (SCHEMA_VERSION, SCHEMA_VERSION)
    assert schema_version(empty_pg_url) == SCHEMA_VERSION
    tables = {row[0] for row in _sql(empty_pg_url, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
    assert tables == {"schema_version", "keys", "materials", "aliases", "grants", "import_parameters", "audit", "test_clock"}


def test_concurrent_upgrades_create_the_schema_once(empty_pg_url: str) -> None:
    """Four upgrades started together all succeed; exactly one of them created the schema."""
    results = _in_threads(4, lambda _: upgrade(empty_pg_url))
    assert sorted(results) == [(0, SCHEMA_VERSION)] + [(SCHEMA_VERSION, SCHEMA_VERSION)] * 3  # type: ignore[type-var]
    assert _sql(empty_pg_url, "SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]


def test_a_database_without_the_schema_names_the_upgrade_command(empty_pg_url: str) -> None:
    """Opening a store on an empty database is refused with the command that creates the schema."""
    with pytest.raises(StoreError, match=r"no policyengine schema; run `policyengine db upgrade --store URL`"):
        PostgresKeyStore(empty_pg_url)


def test_an_older_schema_asks_for_an_upgrade(pg_url: str) -> None:
    """A schema older than this code is refused with the upgrade command."""
    _sql(pg_url, "UPDATE schema_version SET version = 0")
    with pytest.raises(StoreError, match=r"schema version 0; run `policyengine db upgrade"):
        PostgresKeyStore(pg_url)


def test_a_newer_schema_is_refused_and_left_alone(pg_url: str) -> None:
    """A schema newer than this code is refused by the store and by upgrade, which changes nothing."""
    _sql(pg_url, f"UPDATE schema_version SET version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}; this policyengine reads version"):
        PostgresKeyStore(pg_url)
    with pytest.raises(StoreError, match="upgrade policyengine instead"):
        upgrade(pg_url)
    assert _sql(pg_url, "SELECT version FROM schema_version") == [(SCHEMA_VERSION + 1,)]


def test_someone_elses_database_is_refused_untouched(empty_pg_url: str) -> None:
    """A database with its own ``keys`` table is neither opened nor upgraded, and its table is not touched."""
    _sql(empty_pg_url, "CREATE TABLE keys (id INTEGER)")
    _sql(empty_pg_url, "INSERT INTO keys VALUES (42)")
    with pytest.raises(StoreError, match="not a policyengine key store"):
        upgrade(empty_pg_url)
    with pytest.raises(StoreError, match="not a policyengine key store"):
        PostgresKeyStore(empty_pg_url)
    assert _sql(empty_pg_url, "SELECT id FROM keys") == [(42,)]
    assert _sql(empty_pg_url, "SELECT to_regclass('schema_version')") == [(None,)]


def test_a_foreign_schema_version_table_is_refused(empty_pg_url: str) -> None:
    """A ``schema_version`` table without our marker is someone else's: refused, not migrated."""
    _sql(empty_pg_url, "CREATE TABLE schema_version (version INTEGER)")
    with pytest.raises(StoreError, match="not a policyengine key store"):
        upgrade(empty_pg_url)


# ---- errors: one line, no password -----------------------------------------------------------------


def _refused(url: str) -> str:
    with pytest.raises(StoreError) as caught:
        PostgresKeyStore(url)
    message = str(caught.value)
    assert "\n" not in message and "s3cret" not in message
    return message


def test_errors_are_one_line_without_the_password(pg_cluster: Cluster) -> None:
    """A server that is down, a missing database, a bad URL and a non-PostgreSQL URL each give one clear line."""
    down = f"postgresql://postgres:s3cret@127.0.0.1:{_closed_port()}/db"
    assert "cannot connect to store postgresql://postgres@127.0.0.1:" in _refused(down)
    assert "Connection refused" in _refused(down)
    missing = f"postgresql://postgres:s3cret@127.0.0.1:{pg_cluster.port}/no_such_database"
    assert 'database "no_such_database" does not exist' in _refused(missing)
    assert 'invalid integer value "notaport"' in _refused("postgresql://postgres:s3cret@127.0.0.1:notaport/db")
    assert "not a usable PostgreSQL URL" in _refused("postgresql://postgres:s3cret@[::1/db")
    assert "postgresql:// URL" in _refused("/var/lib/kms.sqlite3")


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends: nothing listens there


def test_describe_url_hides_the_password() -> None:
    """The store's name in messages and logs never carries the password."""
    assert (
        describe_url("postgresql://kms:s3cret@db.internal:5433/keys?sslmode=require") == "postgresql://kms@db.internal:5433/keys"
    )
    assert describe_url("postgresql:///keys?host=/run/postgresql") == "postgresql:///keys?host=/run/postgresql"


# ---- transactions and locks ----------------------------------------------------------------------


def test_a_read_only_transaction_refuses_to_write(store: PostgresKeyStore) -> None:
    """Every write in a ``write=False`` transaction raises StoreError and nothing is stored."""
    with store.transaction() as tx:
        tx.put_key(make_key("k1"))
    writes: list[Callable[[Any], None]] = [
        lambda tx: tx.put_key(make_key("k2")),
        lambda tx: tx.add_material(make_material("k1", 1)),
        lambda tx: tx.put_alias(make_alias("alias/x", "k1")),
        lambda tx: tx.delete_key("k1"),
    ]
    for write in writes:
        with pytest.raises(StoreError, match="read-only"), store.transaction(write=False) as tx:
            write(tx)
    with store.transaction(write=False) as tx:
        assert [k.key_id for k in tx.all_keys()] == ["k1"] and tx.materials("k1") == []


def test_readers_neither_wait_for_writers_nor_see_their_uncommitted_changes(store: PostgresKeyStore) -> None:
    """While a writer holds a key's lock, a read-only transaction reads the committed key (had it waited
    for the lock, it would have seen the writer's change: the writer commits only after the read)."""
    with store.transaction() as tx:
        tx.put_key(make_key("k1"))
    locked, release = threading.Event(), threading.Event()

    def writer() -> None:
        with store.transaction() as tx:
            key = tx.get_key("k1")
            assert key is not None
            tx.put_key(replace(key, state="Disabled"))
            locked.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert locked.wait(10)
        with store.transaction(write=False) as tx:
            seen = tx.get_key("k1")
        assert seen is not None and seen.state == "Enabled"
    finally:
        release.set()
        thread.join()
    with store.transaction(write=False) as tx:
        assert (tx.get_key("k1") or make_key()).state == "Disabled"


def test_a_read_only_transaction_sees_one_snapshot(store: PostgresKeyStore) -> None:
    """A change committed while a read-only transaction is open stays invisible to it (a key and its material agree)."""
    with store.transaction() as tx:
        tx.put_key(make_key("k1"))
        tx.add_material(make_material("k1", 1))
    with store.transaction(write=False) as reader:
        assert len(reader.materials("k1")) == 1
        done = threading.Event()

        def rotate() -> None:
            with store.transaction() as tx:
                tx.add_material(make_material("k1", 2))
                tx.put_key(replace(make_key("k1"), on_demand_rotations=1))
            done.set()

        threading.Thread(target=rotate).start()
        assert done.wait(10)
        assert len(reader.materials("k1")) == 1
        assert (reader.get_key("k1") or make_key()).on_demand_rotations == 0


def _wait_until_a_lock_is_awaited(url: str) -> None:
    """Return once some transaction in the database is waiting for a lock (PostgreSQL's own view, not a timer)."""
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(1000):
            row = conn.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()
            if row is not None and row[0] > 0:
                return
            time.sleep(0.01)
    raise AssertionError("no transaction ever waited for a lock")


def test_writers_of_one_key_queue_and_see_each_others_work(store: PostgresKeyStore, pg_url: str) -> None:
    """A second writer of a locked key waits for it, then reads the key as the first committed it."""
    with store.transaction() as tx:
        tx.put_key(make_key("k1"))
    locked, release = threading.Event(), threading.Event()
    seen: list[int] = []

    def first() -> None:
        with store.transaction() as tx:
            key = tx.get_key("k1")
            assert key is not None
            tx.put_key(replace(key, on_demand_rotations=key.on_demand_rotations + 1))
            locked.set()
            release.wait(10)

    def second() -> None:
        with store.transaction() as tx:
            key = tx.get_key("k1")
            assert key is not None
            seen.append(key.on_demand_rotations)
            tx.put_key(replace(key, on_demand_rotations=key.on_demand_rotations + 1))

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert locked.wait(10)
    threads[1].start()
    _wait_until_a_lock_is_awaited(pg_url)  # the second writer is queued behind the first's row lock
    release.set()
    for thread in threads:
        thread.join(10)
    assert seen == [1]
    with store.transaction(write=False) as tx:
        assert (tx.get_key("k1") or make_key()).on_demand_rotations == 2


def test_claim_key_skips_a_key_another_transaction_holds(store: PostgresKeyStore) -> None:
    """``claim_key`` returns None for a key locked elsewhere without waiting (had it waited, it would have
    got the key: the holder commits only after the claim), and the fresh key once it is free."""
    with store.transaction() as tx:
        tx.put_key(make_key("k1"))
    locked, release = threading.Event(), threading.Event()

    def holder() -> None:
        with store.transaction() as tx:
            assert tx.claim_key("k1") is not None
            tx.put_key(replace(make_key("k1"), state="PendingDeletion", deletion_date=5.0))
            locked.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert locked.wait(10)
        with store.transaction() as tx:
            assert tx.claim_key("k1") is None
            assert tx.claim_key("ghost") is None
    finally:
        release.set()
        thread.join()
    with store.transaction() as tx:
        claimed = tx.claim_key("k1")
        assert claimed is not None and claimed.state == "PendingDeletion"


def test_creating_one_alias_name_concurrently_finds_the_first(store: PostgresKeyStore) -> None:
    """Of transactions that each look for an alias name and create it if absent, exactly one finds it absent."""
    with store.transaction() as tx:
        for n in range(6):
            tx.put_key(make_key(f"k{n}"))

    def create_if_absent(index: int) -> bool:
        with store.transaction() as tx:
            if tx.get_alias(ACCOUNT, REGION, "alias/shared") is not None:
                return False
            time.sleep(0.05)  # where a second creator would slip in without the alias lock
            tx.put_alias(make_alias("alias/shared", f"k{index}"))
            return True

    results = _in_threads(6, create_if_absent)
    assert sorted(map(str, results)) == ["False"] * 5 + ["True"]
    with store.transaction(write=False) as tx:
        alias = tx.get_alias(ACCOUNT, REGION, "alias/shared")
    assert alias is not None and alias.target_key_id == f"k{results.index(True)}"


def test_a_deadlock_is_a_conflict_that_leaves_nothing_behind(store: PostgresKeyStore) -> None:
    """Two transactions locking two keys in opposite orders: one completes, the other raises StoreConflict and keeps nothing."""
    with store.transaction() as tx:
        tx.put_key(make_key("a"))
        tx.put_key(make_key("b"))
    both_locked = threading.Barrier(2)

    def cross(index: int) -> str:
        first, second = ("a", "b") if index == 0 else ("b", "a")
        with store.transaction() as tx:
            key = tx.get_key(first)
            assert key is not None
            tx.put_key(replace(key, description=f"by {index}"))
            both_locked.wait(10)
            tx.get_key(second)
            tx.put_key(replace(make_key(second), description=f"by {index}"))
        return f"done {index}"

    results = _in_threads(2, cross)
    conflicts = [r for r in results if isinstance(r, StoreConflict)]
    done = [r for r in results if isinstance(r, str)]
    assert len(conflicts) == 1 and len(done) == 1, results
    winner = done[0].split()[1]
    with store.transaction(write=False) as tx:
        assert {(tx.get_key(k) or make_key()).description for k in ("a", "b")} == {f"by {winner}"}


def test_a_connection_the_server_dropped_is_replaced(store: PostgresKeyStore, pg_url: str) -> None:
    """After PostgreSQL ends the pool's idle connections (a restart, a timeout), the next transaction just works."""
    with store.transaction() as tx:
        tx.put_key(make_key("k1"))
    database = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        ended = admin.execute(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s) t", (database,)
        ).fetchone()
    assert ended is not None and ended[0] >= 1
    with store.transaction(write=False) as tx:
        assert tx.get_key("k1") == make_key("k1")


def test_the_master_key_check_refuses_a_different_key(pg_url: str) -> None:
    """The first server records its master key's check value; the same key passes, a different one is refused."""
    with PostgresKeyStore(pg_url) as first:
        first.check_master_key(b"k" * 32)
        first.check_master_key(b"k" * 32)
    with PostgresKeyStore(pg_url) as second, pytest.raises(StoreError, match=r"a copy of the same master\.key"):
        second.check_master_key(b"x" * 32)
    recorded = _sql(pg_url, "SELECT master_key_check FROM schema_version")[0][0]
    assert isinstance(recorded, str) and len(recorded) == 64 and "kkkk" not in recorded


def test_audit_pages_through_more_than_one_page(store: PostgresKeyStore) -> None:
    """More audit records than one page come back complete and in order."""
    for i in range(1203):
        store.append_audit(float(i), "Encrypt", "p", None, None, {"i": i})
    records = list(store.audit_records())
    assert [r.sequence for r in records] == list(range(1, 1204))
    assert records[-1].event == {"i": 1202}


def test_material_reaches_postgresql_as_the_sealed_bytes_only(store: PostgresKeyStore, pg_url: str) -> None:
    """What the database holds for material is exactly the blob the facade handed over."""
    sealed = b"\x00\x01sealed-by-the-facade\xff" * 3
    with store.transaction() as tx:
        tx.put_key(make_key("k1"))
        tx.add_material(make_material("k1", 1, sealed_material=sealed))
    assert _sql(pg_url, "SELECT sealed_material FROM materials") == [(sealed,)]


# ---- several processes ---------------------------------------------------------------------------


def _increment_in_process(url: str, times: int, start: BarrierType) -> None:
    with PostgresKeyStore(url) as store:
        start.wait()
        increment(store, "k1", times)


def _audit_in_process(url: str, times: int, start: BarrierType) -> None:
    with PostgresKeyStore(url) as store:
        start.wait()
        for i in range(times):
            store.append_audit(float(i), "Encrypt", "p", None, None, {"i": i})


def _spawn(target: Callable[..., None], url: str, times: int, count: int = 3) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(count)
    processes = [context.Process(target=target, args=(url, times, start)) for _ in range(count)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)  # a guard against a hang, not a timing assertion
    assert [p.exitcode for p in processes] == [0] * count


def test_processes_sharing_the_database_lose_no_updates(pg_url: str) -> None:
    """Three processes each incrementing one key's counter 60 times end at 180."""
    with PostgresKeyStore(pg_url) as store, store.transaction() as tx:
        tx.put_key(make_key("k1"))
    _spawn(_increment_in_process, pg_url, 60)
    with PostgresKeyStore(pg_url) as store, store.transaction(write=False) as tx:
        key = tx.get_key("k1")
    assert isinstance(key, KeyRecord) and key.on_demand_rotations == 180


def test_processes_appending_audit_get_every_sequence_once(pg_url: str) -> None:
    """Three processes appending 40 audit events each get sequence numbers 1..120, each once."""
    _spawn(_audit_in_process, pg_url, 40)
    with PostgresKeyStore(pg_url) as store:
        assert [r.sequence for r in store.audit_records()] == list(range(1, 121))


# ---- scheduled work through the due-time index (store/schedule.py) ---------------------------------


def test_due_keys_follow_due_time_and_the_migration_fills_the_column(pg_url: str) -> None:
    """``due_keys``/``next_due`` answer as ``due_time`` says; a version-2 database gets the column, its
    index and every key's due time from ``upgrade`` (the SQL expression says what due_time says)."""
    from policyengine.store.postgres import PostgresKeyStore
    from policyengine.store.schedule import due_time
    from tests.unit.test_schedule import KEYS

    store = PostgresKeyStore(pg_url)
    with store.transaction() as tx:
        for key in KEYS:
            tx.put_key(key)
    with store.transaction(write=False) as tx:
        assert tx.next_due() == 100.0
        assert [k.key_id for k in tx.due_keys(500.0)] == ["rotating", "expiring", "deleting"]
    store.close()
    _sql(pg_url, "DROP TABLE test_clock")
    _sql(pg_url, "DROP INDEX keys_by_due")
    _sql(pg_url, "ALTER TABLE keys DROP COLUMN due")
    _sql(pg_url, "UPDATE schema_version SET version = 2")
    assert upgrade(pg_url) == (2, SCHEMA_VERSION)
    assert dict(_sql(pg_url, "SELECT key_id, due FROM keys")) == {k.key_id: due_time(k) for k in KEYS}
    indexes = dict(_sql(pg_url, "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'keys'"))
    assert "(due) WHERE (due IS NOT NULL)" in indexes["keys_by_due"]
