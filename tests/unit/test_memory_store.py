"""The memory store's undo log and indexes (store/memory.py, store/_sorted.py).

A write transaction changes the live tables and undoes its changes when its block raises; every
index (a key's aliases and grants, a retiring principal's grants, pages of keys and aliases, due
work) must come back with the records. The differential test replays one random history of
writes, a third of its transactions failing halfway, on the memory store and on SQLite (whose
rollback is SQLite's own) and compares every query after each transaction.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from policyengine.store import KeyStore, MemoryKeyStore, SqliteKeyStore, StoreTransaction
from policyengine.store._sorted import SortedIndex
from tests.unit.test_store import ACCOUNT, REGION, make_alias, make_grant, make_key, make_material, make_params

KEY_IDS = [f"k{i}" for i in range(12)]
ALIASES = [f"alias/a{i}" for i in range(10)]
GRANTS = [f"g{i}" for i in range(10)]
RETIRERS = [None, "arn:aws:iam::111122223333:role/r1", "arn:aws:iam::111122223333:role/r2"]
OTHER_REGION = "eu-west-1"


class Boom(Exception):
    """The failure that ends a transaction halfway."""


def random_write(tx: StoreTransaction, rng: random.Random) -> None:
    """One random write; those naming a key that does not exist are skipped (both stores refuse them alike)."""
    key_id = rng.choice(KEY_IDS)
    exists = tx.get_key(key_id) is not None
    choice = rng.randrange(9)
    if choice <= 1:  # create or change a key: its place, creation order and due time all move
        key = replace(
            make_key(key_id, region=rng.choice([REGION, OTHER_REGION]), created=float(rng.randrange(5))),
            rotation_enabled=rng.random() < 0.5,
            next_rotation_date=float(rng.randrange(100)),
            state=rng.choice(["Enabled", "Disabled", "PendingDeletion"]),
            deletion_date=float(rng.randrange(100)),
            tags={"n": str(rng.randrange(3))},
        )
        tx.put_key(key)
    elif choice == 2:
        tx.delete_key(key_id)
    elif not exists:
        return
    elif choice == 3:
        versions = [m.version for m in tx.materials(key_id)]
        tx.add_material(make_material(key_id, max(versions, default=0) + 1))
    elif choice == 4:
        tx.put_alias(make_alias(rng.choice(ALIASES), key_id, region=rng.choice([REGION, OTHER_REGION])))
    elif choice == 5:
        tx.delete_alias(ACCOUNT, rng.choice([REGION, OTHER_REGION]), rng.choice(ALIASES))
    elif choice == 6:
        grant = make_grant(rng.choice(GRANTS), key_id, created=float(rng.randrange(4)), retiring_principal=rng.choice(RETIRERS))
        tx.put_grant(grant)
    elif choice == 7:
        tx.delete_grant(rng.choice(GRANTS))
    elif rng.random() < 0.5:
        tx.put_import_parameters(make_params(key_id, token=str(rng.randrange(9))))
    else:
        tx.set_clock_offset(float(rng.randrange(1000)))


def everything(store: KeyStore) -> dict[str, object]:
    """Every question the stores answer, asked in one read-only transaction."""
    with store.transaction(write=False) as tx:
        answers: dict[str, object] = {"all": tx.all_keys(), "clock": tx.clock_offset(), "next_due": tx.next_due()}
        for region in (REGION, OTHER_REGION):
            keys = tx.list_keys(ACCOUNT, region)
            answers[f"keys {region}"] = keys
            answers[f"aliases {region}"] = tx.list_aliases(ACCOUNT, region)
            answers[f"key page {region}"] = tx.list_keys(ACCOUNT, region, limit=2)
            if keys:
                middle = keys[len(keys) // 2]
                answers[f"keys after middle {region}"] = tx.list_keys(
                    ACCOUNT, region, after=(middle.creation_date, middle.key_id), limit=3
                )
            answers[f"aliases after a4 {region}"] = tx.list_aliases(ACCOUNT, region, after="alias/a4", limit=3)
        for due in (10.0, 50.0, 1000.0):
            answers[f"due {due}"] = tx.due_keys(due)
        for key_id in KEY_IDS:
            answers[f"key {key_id}"] = (
                tx.get_key(key_id),
                tx.materials(key_id),
                tx.aliases_for_key(key_id),
                tx.grants_for_key(key_id),
                tx.get_import_parameters(key_id),
            )
        for retirer in RETIRERS[1:]:
            answers[f"retiring {retirer}"] = tx.grants_for_retiring_principal(retirer or "")
        for grant_id in GRANTS:
            answers[f"grant {grant_id}"] = tx.get_grant(grant_id)
    return answers


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[MemoryKeyStore, SqliteKeyStore]]:
    memory, sqlite = MemoryKeyStore(), SqliteKeyStore(tmp_path / "store.db")
    yield memory, sqlite
    memory.close()
    sqlite.close()


@pytest.mark.parametrize("seed", range(3))
def test_memory_store_matches_sqlite_through_commits_and_rollbacks(
    stores: tuple[MemoryKeyStore, SqliteKeyStore], seed: int
) -> None:
    """The same random history, some transactions failing after several writes, leaves both stores answering
    every query alike after every transaction: the undo log puts back records and indexes as SQLite's rollback does."""
    rolled_back = 0
    for step in range(150):
        fails = random.Random(f"{seed}-{step}").random() < 0.35
        for store in stores:
            rng = random.Random(f"{seed}-{step}")  # the same writes on both stores
            rng.random()
            try:
                with store.transaction() as tx:
                    for _ in range(rng.randrange(1, 6)):
                        random_write(tx, rng)
                    if fails:
                        raise Boom()
            except Boom:
                pass
        rolled_back += fails
        memory, sqlite = (everything(store) for store in stores)
        assert memory == sqlite, f"seed {seed}, step {step}"
    assert rolled_back > 20  # the history really exercised rollbacks


def test_a_failed_transaction_puts_back_every_index() -> None:
    """Moving an alias, re-parenting a grant, changing a key's creation order and due time and deleting a key,
    all undone: each index answers as before, not only the records."""
    store = MemoryKeyStore()
    rotating = replace(make_key("k1", created=1.0), rotation_enabled=True, next_rotation_date=50.0)
    with store.transaction() as tx:
        tx.put_key(rotating)
        tx.put_key(make_key("k2", created=2.0))
        tx.put_alias(make_alias("alias/one", "k1"))
        tx.put_grant(make_grant("g1", "k1", retiring_principal="arn:aws:iam::111122223333:role/r"))
    before = everything(store)
    with pytest.raises(Boom), store.transaction() as tx:
        tx.put_alias(make_alias("alias/one", "k2"))
        tx.put_grant(make_grant("g1", "k2", retiring_principal="arn:aws:iam::111122223333:role/other"))
        tx.put_key(replace(rotating, creation_date=9.0, next_rotation_date=5.0))
        tx.put_key(make_key("k3", region=OTHER_REGION))
        tx.delete_key("k1")
        tx.set_clock_offset(120.0)
        assert tx.list_keys(ACCOUNT, REGION) == [make_key("k2", created=2.0)]  # the changes were made in place
        raise Boom()
    assert everything(store) == before
    assert store.current_clock_offset() == 0.0
    with store.transaction(write=False) as tx:
        assert tx.aliases_for_key("k1") == [make_alias("alias/one", "k1")] and tx.aliases_for_key("k2") == []
        assert [g.key_id for g in tx.grants_for_retiring_principal("arn:aws:iam::111122223333:role/r")] == ["k1"]
        assert tx.next_due() == 50.0


def test_a_transaction_in_flight_does_not_move_the_clock_readers_see() -> None:
    """``current_clock_offset`` (read without the lock, before every call) shows committed offsets only."""
    store = MemoryKeyStore()
    with store.transaction() as tx:
        tx.set_clock_offset(30.0)
        assert store.current_clock_offset() == 0.0
    assert store.current_clock_offset() == 30.0


def test_sorted_index_against_a_sorted_list() -> None:
    """Random adds and removes across many blocks keep the values a sorted list of distinct values holds,
    and every ``after`` bound yields the values past it."""
    rng = random.Random(7)
    index: SortedIndex[int] = SortedIndex()
    model: set[int] = set()
    for _ in range(6000):
        value = rng.randrange(3000)
        if rng.random() < 0.6:
            index.add(value)
            model.add(value)
        else:
            index.remove(value)
            model.discard(value)
    expected = sorted(model)
    assert list(index.after()) == expected and len(index) == len(expected)
    assert index.first() == expected[0]
    for bound in [-1, 0, 1, 1500, 2998, 2999, 3000, *rng.sample(range(3000), 50)]:
        assert list(index.after(bound)) == [v for v in expected if v > bound], bound
    for value in expected:
        index.remove(value)
    assert not index and index.first() is None and list(index.after(5)) == []
