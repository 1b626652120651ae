"""Scheduled work found through an index on its due time (store/schedule.py).

Every store answers ``due_keys(now)`` and ``next_due()`` as ``due_time`` says; the SQL expression
that fills the column of keys written before it existed says what ``due_time`` says; a SQLite file
of schema version 2 gets the column, the index and each key's due time on open; and the query
SQLite runs for due keys uses the index rather than reading every key.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from policyengine.store import KeyRecord, KeyStore, MemoryKeyStore, SqliteKeyStore
from policyengine.store.schedule import DUE_SQL, due_time
from policyengine.store.sqlite import SCHEMA_VERSION as SQLITE_SCHEMA_VERSION
from tests.unit.test_store import make_key

DELETING = replace(make_key("deleting"), state="PendingDeletion", deletion_date=500.0, pending_window_days=7)
EXPIRING = replace(make_key("expiring"), origin="EXTERNAL", valid_to=300.0, expiration_model="KEY_MATERIAL_EXPIRES")
ROTATING = replace(make_key("rotating"), rotation_enabled=True, rotation_period_days=90, next_rotation_date=100.0)
# Due for nothing: rotation off, a disabled key's rotation, expiry that never comes, material not imported yet.
QUIET = (
    make_key("plain"),
    replace(ROTATING, key_id="disabled", state="Disabled"),
    replace(EXPIRING, key_id="no-expiry", expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE"),
    replace(EXPIRING, key_id="pending-import", state="PendingImport"),
    replace(ROTATING, key_id="imported-rotating", origin="EXTERNAL"),
)
# A key pending deletion is due at its deletion date even with rotation on (the first case wins).
DELETING_ROTATING = replace(ROTATING, key_id="deleting-rotating", state="PendingDeletion", deletion_date=900.0)
KEYS: tuple[KeyRecord, ...] = (DELETING, EXPIRING, ROTATING, DELETING_ROTATING, *QUIET)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyStore]:
    made: KeyStore = MemoryKeyStore() if request.param == "memory" else SqliteKeyStore(tmp_path / "kms.sqlite3")
    with made.transaction() as tx:
        for key in KEYS:
            tx.put_key(key)
    yield made
    made.close()


def test_due_time_cases() -> None:
    assert [due_time(k) for k in (DELETING, EXPIRING, ROTATING, DELETING_ROTATING)] == [500.0, 300.0, 100.0, 900.0]
    assert [due_time(k) for k in QUIET] == [None] * len(QUIET)


def test_due_keys_and_next_due_follow_due_time(store: KeyStore) -> None:
    with store.transaction(write=False) as tx:
        assert tx.next_due() == 100.0
        assert [k.key_id for k in tx.due_keys(99.0)] == []
        assert [k.key_id for k in tx.due_keys(500.0)] == ["rotating", "expiring", "deleting"]
        assert tx.due_keys(10_000.0)[-1] == DELETING_ROTATING


def test_writing_a_key_moves_its_due_time(store: KeyStore) -> None:
    with store.transaction() as tx:
        tx.put_key(replace(ROTATING, next_rotation_date=1000.0))
        tx.put_key(replace(EXPIRING, state="PendingImport", valid_to=None))
        tx.delete_key("deleting")
    with store.transaction(write=False) as tx:
        assert tx.next_due() == 900.0
        assert [k.key_id for k in tx.due_keys(1000.0)] == ["deleting-rotating", "rotating"]


def test_the_sql_expression_says_what_due_time_says(tmp_path: Path) -> None:
    path = tmp_path / "kms.sqlite3"
    SqliteKeyStore(path).close()
    with sqlite3.connect(path) as conn:
        rows = conn.execute(f"SELECT key_id, {DUE_SQL} FROM keys").fetchall()
    assert rows == []
    store = SqliteKeyStore(path)
    with store.transaction() as tx:
        for key in KEYS:
            tx.put_key(key)
    store.close()
    with sqlite3.connect(path) as conn:
        computed = dict(conn.execute(f"SELECT key_id, {DUE_SQL} FROM keys").fetchall())
        stored = dict(conn.execute("SELECT key_id, due FROM keys").fetchall())
    assert computed == stored == {k.key_id: due_time(k) for k in KEYS}


def test_a_version_2_file_gets_the_due_index_on_open(tmp_path: Path) -> None:
    path = tmp_path / "kms.sqlite3"
    store = SqliteKeyStore(path)
    with store.transaction() as tx:
        for key in KEYS:
            tx.put_key(key)
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE test_clock")
        conn.execute("DROP INDEX keys_by_due")
        conn.execute("ALTER TABLE keys DROP COLUMN due")
        conn.execute("UPDATE schema_version SET version = 2")
    store = SqliteKeyStore(path)
    with store.transaction(write=False) as tx:
        assert [k.key_id for k in tx.due_keys(500.0)] == ["rotating", "expiring", "deleting"]
    store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SQLITE_SCHEMA_VERSION,)]


def test_sqlite_finds_due_keys_through_the_index(tmp_path: Path) -> None:
    """The plans of both queries search keys_by_due; neither scans the keys table."""
    path = tmp_path / "kms.sqlite3"
    SqliteKeyStore(path).close()
    with sqlite3.connect(path) as conn:
        for query in (
            "SELECT key_id FROM keys WHERE due <= 1.0 ORDER BY due, key_id",
            "SELECT due FROM keys WHERE due IS NOT NULL ORDER BY due LIMIT 1",
        ):
            plan = " ".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {query}"))
            assert "keys_by_due" in plan and "SCAN keys" not in plan.replace("USING INDEX", ""), plan
