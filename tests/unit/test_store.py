"""The key stores: every protocol method on both stores, atomicity, concurrency, durability, and the master key."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from multiprocessing.synchronize import Barrier as BarrierType
from pathlib import Path
from typing import Any, TypeVar

import pytest

from policyengine.errors import PolicyEngineError
from policyengine.store import (
    AliasRecord,
    GrantRecord,
    ImportParameters,
    KeyRecord,
    KeyStore,
    MaterialRecord,
    MemoryKeyStore,
    SqliteKeyStore,
    StoreError,
    StoreTransaction,
    load_or_create_master_key,
)
from policyengine.store.sqlite import SCHEMA_VERSION as SQLITE_SCHEMA_VERSION

ACCOUNT = "111122223333"
REGION = "us-east-1"
T = TypeVar("T")


def make_key(key_id: str = "k1", *, account: str = ACCOUNT, region: str = REGION, created: float = 1.0) -> KeyRecord:
    return KeyRecord(
        key_id=key_id,
        arn=f"arn:aws:kms:{region}:{account}:key/{key_id}",
        account=account,
        region=region,
        key_spec="SYMMETRIC_DEFAULT",
        key_usage="ENCRYPT_DECRYPT",
        origin="AWS_KMS",
        key_manager="CUSTOMER",
        state="Enabled",
        creation_date=created,
        policy='{"Version": "2012-10-17", "Statement": []}',
    )


def full_key() -> KeyRecord:
    """A key with every optional field set to something other than its default."""
    return replace(
        make_key("k-full", created=1700000000.123456),
        description="ünïcode — description",
        deletion_date=1700600000.5,
        pending_window_days=7,
        rotation_enabled=True,
        rotation_period_days=90,
        next_rotation_date=1707776000.25,
        on_demand_rotations=3,
        valid_to=1800000000.0,
        expiration_model="KEY_MATERIAL_EXPIRES",
        tags={"team": "платежи", "empty": "", 'quote"d': "a,b"},
    )


def make_material(key_id: str = "k1", version: int = 1, **changes: Any) -> MaterialRecord:
    return replace(MaterialRecord(key_id, version, bytes([version]) * 48 + b"\x00\xff", 10.0 + version), **changes)


def make_alias(name: str = "alias/app", target: str = "k1", *, region: str = REGION) -> AliasRecord:
    return AliasRecord(ACCOUNT, region, name, target, 5.0, 6.0)


def make_grant(grant_id: str = "g1", key_id: str = "k1", *, created: float = 2.0, **changes: Any) -> GrantRecord:
    grant = GrantRecord(
        grant_id=grant_id,
        key_id=key_id,
        key_arn=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}",
        grantee_principal=f"arn:aws:iam::{ACCOUNT}:role/app",
        operations=("Decrypt", "Encrypt", "GenerateDataKey"),
        issuing_account=f"arn:aws:iam::{ACCOUNT}:root",
        creation_date=created,
        grant_token=f"token-{grant_id}",
    )
    return replace(grant, **changes)


def make_params(key_id: str = "k1", token: str = "tok") -> ImportParameters:
    return ImportParameters(key_id, token, b"\x00sealed-wrapping-key\xff", "RSAES_OAEP_SHA_256", "RSA_2048", 99.5)


def put_key_with_dependents(tx: StoreTransaction, key_id: str) -> None:
    tx.put_key(make_key(key_id))
    tx.add_material(make_material(key_id, 1))
    tx.put_alias(make_alias(f"alias/{key_id}", key_id))
    tx.put_grant(make_grant(f"g-{key_id}", key_id, retiring_principal="arn:aws:iam::111122223333:role/retirer"))
    tx.put_import_parameters(make_params(key_id))


def increment(store: KeyStore, key_id: str, times: int) -> None:
    """Read-modify-write ``on_demand_rotations`` once per transaction, ``times`` times."""
    for _ in range(times):
        with store.transaction() as tx:
            key = tx.get_key(key_id)
            assert key is not None
            time.sleep(0)  # let the other thread run between the read and the write, where a lost update would happen
            tx.put_key(replace(key, on_demand_rotations=key.on_demand_rotations + 1))


def increment_in_process(path: str, times: int, start: BarrierType) -> None:
    """Entry point of the spawned processes: open the store, wait for the other process, and increment."""
    with SqliteKeyStore(path) as store:
        start.wait()
        increment(store, "k1", times)


def read(store: KeyStore, action: Callable[[StoreTransaction], T]) -> T:
    """What ``action`` returns when run in a transaction of its own."""
    with store.transaction() as tx:
        return action(tx)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyStore]:
    made: KeyStore = MemoryKeyStore() if request.param == "memory" else SqliteKeyStore(tmp_path / "store.db")
    yield made
    made.close()


# keys


def test_key_round_trips_every_field(store: KeyStore) -> None:
    """A key with every field set comes back equal, field types included."""
    key = full_key()
    with store.transaction() as tx:
        tx.put_key(key)
    got = read(store, lambda tx: tx.get_key("k-full"))
    assert got == key
    assert isinstance(got, KeyRecord) and got.rotation_enabled is True and isinstance(got.tags, dict)


def test_missing_records_read_as_none(store: KeyStore) -> None:
    """Getting a key, alias, grant or import parameters that do not exist gives None."""
    with store.transaction() as tx:
        assert tx.get_key("nope") is None
        assert tx.get_alias(ACCOUNT, REGION, "alias/nope") is None
        assert tx.get_grant("nope") is None
        assert tx.get_import_parameters("nope") is None
        assert tx.materials("nope") == []
        assert tx.grants_for_key("nope") == []


def test_put_key_replaces_the_key_but_keeps_its_dependents(store: KeyStore) -> None:
    """Putting a key again replaces its metadata without dropping its material, aliases, grants or parameters."""
    with store.transaction() as tx:
        put_key_with_dependents(tx, "k1")
    with store.transaction() as tx:
        tx.put_key(replace(make_key("k1"), state="Disabled", tags={"a": "b"}))
    with store.transaction() as tx:
        assert tx.get_key("k1") == replace(make_key("k1"), state="Disabled", tags={"a": "b"})
        assert len(tx.materials("k1")) == 1
        assert tx.get_alias(ACCOUNT, REGION, "alias/k1") is not None
        assert len(tx.grants_for_key("k1")) == 1
        assert tx.get_import_parameters("k1") is not None


def test_list_keys_filters_by_account_and_region_in_creation_order(store: KeyStore) -> None:
    """``list_keys`` gives one account and region's keys by creation date, then key id."""
    with store.transaction() as tx:
        tx.put_key(make_key("c", created=2.0))
        tx.put_key(make_key("b", created=1.0))
        tx.put_key(make_key("a", created=2.0))
        tx.put_key(make_key("other-region", region="eu-west-1", created=0.5))
        tx.put_key(make_key("other-account", account="444455556666", created=0.5))
    with store.transaction() as tx:
        assert [k.key_id for k in tx.list_keys(ACCOUNT, REGION)] == ["b", "a", "c"]
        assert [k.key_id for k in tx.list_keys(ACCOUNT, "eu-west-1")] == ["other-region"]
        assert tx.list_keys("999999999999", REGION) == []


def test_all_keys_spans_accounts_and_regions(store: KeyStore) -> None:
    """``all_keys`` gives every key in every account and region, by creation date then key id."""
    with store.transaction() as tx:
        tx.put_key(make_key("k2", region="eu-west-1", created=3.0))
        tx.put_key(make_key("k1", created=4.0))
        tx.put_key(make_key("k3", account="444455556666", created=1.0))
    assert [k.key_id for k in read(store, lambda tx: tx.all_keys())] == ["k3", "k2", "k1"]


# material


def test_materials_come_back_by_version_with_bytes_intact(store: KeyStore) -> None:
    """Material versions are listed ascending whatever the insertion order, blobs and flags unchanged."""
    versions = [
        make_material("k1", 3, rotation_type="ON_DEMAND"),
        make_material("k1", 1),
        make_material("k1", 2, rotation_type="AUTOMATIC", imported=True),
    ]
    with store.transaction() as tx:
        tx.put_key(make_key("k1"))
        for material in versions:
            tx.add_material(material)
    assert read(store, lambda tx: tx.materials("k1")) == sorted(versions, key=lambda m: m.version)


def test_duplicate_material_version_is_refused(store: KeyStore) -> None:
    """Adding a material version a key already has raises StoreError and the transaction keeps nothing."""
    with store.transaction() as tx:
        tx.put_key(make_key("k1"))
        tx.add_material(make_material("k1", 1))
    with pytest.raises(StoreError, match="already has material version 1"), store.transaction() as tx:
        tx.add_material(make_material("k1", 2))
        tx.add_material(make_material("k1", 1, sealed_material=b"other"))
    assert read(store, lambda tx: tx.materials("k1")) == [make_material("k1", 1)]


def test_delete_materials_removes_every_version(store: KeyStore) -> None:
    """``delete_materials`` removes all of one key's versions and leaves the key and other keys alone."""
    with store.transaction() as tx:
        for key_id in ("k1", "k2"):
            tx.put_key(make_key(key_id))
            tx.add_material(make_material(key_id, 1))
            tx.add_material(make_material(key_id, 2))
    with store.transaction() as tx:
        tx.delete_materials("k1")
    with store.transaction() as tx:
        assert tx.materials("k1") == []
        assert len(tx.materials("k2")) == 2
        assert tx.get_key("k1") is not None


WRITERS: dict[str, Callable[[StoreTransaction], None]] = {
    "material": lambda tx: tx.add_material(make_material("ghost", 1)),
    "alias": lambda tx: tx.put_alias(make_alias("alias/x", "ghost")),
    "grant": lambda tx: tx.put_grant(make_grant("g", "ghost")),
    "import parameters": lambda tx: tx.put_import_parameters(make_params("ghost")),
}


@pytest.mark.parametrize("what", sorted(WRITERS))
def test_records_must_refer_to_an_existing_key(store: KeyStore, what: str) -> None:
    """Material, aliases, grants and import parameters for a key that does not exist are refused."""
    with pytest.raises(StoreError, match="key `ghost` does not exist"), store.transaction() as tx:
        WRITERS[what](tx)


# aliases


def test_alias_put_get_list_delete(store: KeyStore) -> None:
    """Aliases are stored, listed by name within one account and region, and deleted."""
    with store.transaction() as tx:
        tx.put_key(make_key("k1"))
        for name in ("alias/zeta", "alias/alpha", "alias/mid"):
            tx.put_alias(make_alias(name))
        tx.put_alias(make_alias("alias/elsewhere", region="eu-west-1"))
    with store.transaction() as tx:
        assert tx.get_alias(ACCOUNT, REGION, "alias/mid") == make_alias("alias/mid")
        assert [a.alias_name for a in tx.list_aliases(ACCOUNT, REGION)] == ["alias/alpha", "alias/mid", "alias/zeta"]
        tx.delete_alias(ACCOUNT, REGION, "alias/mid")
    with store.transaction() as tx:
        assert tx.get_alias(ACCOUNT, REGION, "alias/mid") is None
        assert [a.alias_name for a in tx.list_aliases(ACCOUNT, "eu-west-1")] == ["alias/elsewhere"]


def test_alias_name_is_unique_per_account_and_region(store: KeyStore) -> None:
    """Putting an alias name again repoints the one alias; the same name in another region is a separate alias."""
    with store.transaction() as tx:
        tx.put_key(make_key("k1"))
        tx.put_key(make_key("k2"))
        tx.put_alias(make_alias("alias/app", "k1"))
        tx.put_alias(replace(make_alias("alias/app", "k2"), last_updated=9.0))
        tx.put_alias(make_alias("alias/app", "k1", region="eu-west-1"))
    with store.transaction() as tx:
        assert tx.list_aliases(ACCOUNT, REGION) == [replace(make_alias("alias/app", "k2"), last_updated=9.0)]
        assert tx.list_aliases(ACCOUNT, "eu-west-1") == [make_alias("alias/app", "k1", region="eu-west-1")]


# grants


def test_grants_round_trip_and_are_found_by_key_and_retiring_principal(store: KeyStore) -> None:
    """Grants keep their operations tuple and constraints dict and are listed by creation date then id."""
    retirer = "arn:aws:iam::111122223333:role/retirer"
    constrained = make_grant(
        "g-b",
        created=1.0,
        retiring_principal=retirer,
        name="n",
        constraints={"EncryptionContextSubset": {"Dept": "IT", "ünï": "çode"}},
    )
    grants = [make_grant("g-c", created=1.0), constrained, make_grant("g-a", created=3.0, retiring_principal=retirer)]
    with store.transaction() as tx:
        tx.put_key(make_key("k1"))
        tx.put_key(make_key("k2"))
        for grant in grants:
            tx.put_grant(grant)
        tx.put_grant(make_grant("g-other", "k2"))
    with store.transaction() as tx:
        got = tx.get_grant("g-b")
        assert got == constrained and got is not None and isinstance(got.operations, tuple)
        assert [g.grant_id for g in tx.grants_for_key("k1")] == ["g-b", "g-c", "g-a"]
        assert [g.grant_id for g in tx.grants_for_retiring_principal(retirer)] == ["g-b", "g-a"]
        assert tx.get_grant("g-c") == make_grant("g-c", created=1.0)  # None constraints stay None
        tx.delete_grant("g-b")
    with store.transaction() as tx:
        assert tx.get_grant("g-b") is None
        assert [g.grant_id for g in tx.grants_for_key("k1")] == ["g-c", "g-a"]


# import parameters


def test_import_parameters_put_replace_get_delete(store: KeyStore) -> None:
    """Import parameters are stored per key (a second put replaces), read back intact, and deleted."""
    with store.transaction() as tx:
        tx.put_key(make_key("k1"))
        tx.put_import_parameters(make_params("k1", "first"))
        tx.put_import_parameters(make_params("k1", "second"))
    assert read(store, lambda tx: tx.get_import_parameters("k1")) == make_params("k1", "second")
    with store.transaction() as tx:
        tx.delete_import_parameters("k1")
    assert read(store, lambda tx: tx.get_import_parameters("k1")) is None


# deletion and atomicity


def test_delete_key_cascades_to_everything_hanging_off_it(store: KeyStore) -> None:
    """Deleting a key removes its material, aliases, grants and import parameters, and nothing of other keys."""
    with store.transaction() as tx:
        put_key_with_dependents(tx, "k1")
        put_key_with_dependents(tx, "k2")
    with store.transaction() as tx:
        tx.delete_key("k1")
    with store.transaction() as tx:
        assert tx.get_key("k1") is None
        assert tx.materials("k1") == []
        assert tx.get_alias(ACCOUNT, REGION, "alias/k1") is None
        assert tx.grants_for_key("k1") == [] and tx.get_grant("g-k1") is None
        assert tx.get_import_parameters("k1") is None
        assert [a.alias_name for a in tx.list_aliases(ACCOUNT, REGION)] == ["alias/k2"]
        assert [g.grant_id for g in tx.grants_for_retiring_principal("arn:aws:iam::111122223333:role/retirer")] == ["g-k2"]
        assert len(tx.materials("k2")) == 1 and tx.get_import_parameters("k2") is not None


def test_deleting_what_does_not_exist_is_a_no_op(store: KeyStore) -> None:
    """Every delete of a missing record succeeds and changes nothing."""
    with store.transaction() as tx:
        tx.put_key(make_key("k1"))
    with store.transaction() as tx:
        tx.delete_key("ghost")
        tx.delete_materials("ghost")
        tx.delete_alias(ACCOUNT, REGION, "alias/ghost")
        tx.delete_grant("ghost")
        tx.delete_import_parameters("ghost")
    assert read(store, lambda tx: tx.all_keys()) == [make_key("k1")]


def test_exception_rolls_back_everything_the_transaction_did(store: KeyStore) -> None:
    """When the block raises, none of its inserts, updates or deletes is visible afterwards."""
    with store.transaction() as tx:
        put_key_with_dependents(tx, "k1")
    with pytest.raises(RuntimeError, match="boom"), store.transaction() as tx:
        put_key_with_dependents(tx, "k2")
        tx.put_key(replace(make_key("k1"), state="Disabled"))
        tx.add_material(make_material("k1", 2))
        tx.delete_alias(ACCOUNT, REGION, "alias/k1")
        tx.delete_grant("g-k1")
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.delete_key("k1")
        raise RuntimeError("again")
    with store.transaction() as tx:
        assert [k.key_id for k in tx.all_keys()] == ["k1"]
        assert tx.get_key("k1") == make_key("k1")
        assert [m.version for m in tx.materials("k1")] == [1]
        assert tx.get_alias(ACCOUNT, REGION, "alias/k1") is not None
        assert tx.get_grant("g-k1") is not None
        assert tx.get_import_parameters("k1") is not None


def test_stored_state_is_not_shared_with_callers(store: KeyStore) -> None:
    """Mutating a dict inside a record or event after storing or reading it does not change the store."""
    key = replace(make_key("k1"), tags={"a": "1"})
    grant = make_grant("g1", constraints={"EncryptionContextEquals": {"k": "v"}})
    event: dict[str, object] = {"nested": {"x": 1}}
    with store.transaction() as tx:
        tx.put_key(key)
        tx.put_grant(grant)
    key.tags["a"] = "changed"
    assert grant.constraints is not None
    grant.constraints["EncryptionContextEquals"]["k"] = "changed"
    store.append_audit(1.0, "Encrypt", "p", None, None, event)
    event["nested"] = "changed"
    with store.transaction() as tx:
        got = tx.get_key("k1")
        assert got is not None and got.tags == {"a": "1"}
        got.tags["a"] = "changed again"
        assert tx.get_key("k1") == replace(make_key("k1"), tags={"a": "1"})
        assert tx.get_grant("g1") == make_grant("g1", constraints={"EncryptionContextEquals": {"k": "v"}})
    first = next(iter(store.audit_records()))
    first.event["nested"] = "changed"
    assert next(iter(store.audit_records())).event == {"nested": {"x": 1}}


def test_transactions_do_not_nest(store: KeyStore) -> None:
    """Opening a transaction, or appending audit, inside a transaction in the same thread raises StoreError."""
    with store.transaction():
        with pytest.raises(StoreError, match="already open"), store.transaction():
            pass
        with pytest.raises(StoreError, match="already open"):
            store.append_audit(1.0, "Encrypt", "p", None, None, {})
    with store.transaction() as tx:  # still usable afterwards
        assert tx.all_keys() == []


def test_a_transaction_view_is_dead_after_its_block(store: KeyStore) -> None:
    """Using a transaction view after its block ended raises StoreError instead of writing outside a transaction."""
    with store.transaction() as tx:
        pass
    with pytest.raises(StoreError, match="after its block ended"):
        tx.put_key(make_key("k1"))


READ_ONLY_WRITES: dict[str, Callable[[StoreTransaction], None]] = {
    "put_key": lambda tx: tx.put_key(make_key("k2")),
    "put_key (replace)": lambda tx: tx.put_key(replace(make_key("k1"), state="Disabled")),
    "delete_key": lambda tx: tx.delete_key("k1"),
    "add_material": lambda tx: tx.add_material(make_material("k1", 2)),
    "delete_materials": lambda tx: tx.delete_materials("k1"),
    "put_alias": lambda tx: tx.put_alias(make_alias("alias/other", "k1")),
    "delete_alias": lambda tx: tx.delete_alias(ACCOUNT, REGION, "alias/k1"),
    "put_grant": lambda tx: tx.put_grant(make_grant("g-new", "k1")),
    "delete_grant": lambda tx: tx.delete_grant("g-k1"),
    "put_import_parameters": lambda tx: tx.put_import_parameters(make_params("k1", "other")),
    "delete_import_parameters": lambda tx: tx.delete_import_parameters("k1"),
    "set_clock_offset": lambda tx: tx.set_clock_offset(60.0),
    "append_audit": lambda tx: tx.append_audit(1.0, "CreateKey", "p", None, None, {}),
}


def everything_about_k1(tx: StoreTransaction) -> tuple[object, ...]:
    return (
        tx.all_keys(),
        tx.materials("k1"),
        tx.list_aliases(ACCOUNT, REGION),
        tx.grants_for_key("k1"),
        tx.get_import_parameters("k1"),
        tx.clock_offset(),
    )


@pytest.mark.parametrize("what", sorted(READ_ONLY_WRITES))
def test_a_read_only_transaction_refuses_every_write(store: KeyStore, what: str) -> None:
    """A ``write=False`` transaction (Encrypt, Decrypt, Describe...) raises StoreError on any write, and the
    write does not happen even if the caller swallows the error and the block ends normally."""
    with store.transaction() as tx:
        put_key_with_dependents(tx, "k1")
    before = read(store, everything_about_k1)
    with store.transaction(write=False) as tx, pytest.raises(StoreError, match="read-only store transaction cannot write"):
        READ_ONLY_WRITES[what](tx)
    assert read(store, everything_about_k1) == before
    assert list(store.audit_records()) == []


def test_closed_store_refuses_use(store: KeyStore) -> None:
    """A closed store raises StoreError on every entry point; closing twice is harmless."""
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.transaction().__enter__()
    with pytest.raises(StoreError, match="closed"):
        store.append_audit(1.0, "Encrypt", "p", None, None, {})
    with pytest.raises(StoreError, match="closed"):
        list(store.audit_records())


# audit


def test_append_audit_numbers_events_and_round_trips_them(store: KeyStore) -> None:
    """Audit records get increasing sequence numbers from 1 and come back in order with their event intact."""
    event: dict[str, object] = {"eventName": "Decrypt", "list": [1, 2.5, None, True], "nested": {"ü": {"x": "y"}}}
    made = [
        store.append_audit(10.0, "CreateKey", "arn:aws:iam::111122223333:root", None, None, {}),
        store.append_audit(11.5, "Decrypt", "arn:aws:iam::111122223333:role/app", "arn:key", "AccessDeniedException", event),
        store.append_audit(12.0, "Encrypt", "p", "arn:key", None, {"n": 1}),
    ]
    assert [r.sequence for r in made] == [1, 2, 3]
    assert list(store.audit_records()) == made
    assert made[1].event == event and made[1].error_code == "AccessDeniedException"


def test_audit_appends_from_threads_get_distinct_sequences(store: KeyStore) -> None:
    """Two threads appending audit events concurrently get every sequence number exactly once."""

    def append(n: int) -> None:
        for i in range(50):
            store.append_audit(float(i), "Encrypt", f"thread-{n}", None, None, {"i": i})

    threads = [threading.Thread(target=append, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.sequence for r in store.audit_records()] == list(range(1, 101))


def test_audit_appended_in_a_transaction_commits_with_it(store: KeyStore) -> None:
    """A call's record appended inside its transaction is stored with the change, in sequence after earlier ones."""
    store.append_audit(1.0, "DescribeKey", "p", None, None, {"n": 0})
    with store.transaction() as tx:
        tx.put_key(make_key("k1"))
        tx.append_audit(2.0, "CreateKey", "p", "arn:k1", None, {"n": 1})
    records = list(store.audit_records())
    assert [(r.sequence, r.event_name, r.event) for r in records] == [(1, "DescribeKey", {"n": 0}), (2, "CreateKey", {"n": 1})]


def test_audit_appended_in_a_transaction_rolls_back_with_it(store: KeyStore) -> None:
    """Neither the change nor its record survives a transaction that fails: no record of what did not happen."""
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.put_key(make_key("k1"))
        tx.append_audit(2.0, "CreateKey", "p", "arn:k1", None, {})
        raise RuntimeError("killed before commit")
    assert list(store.audit_records()) == []
    with store.transaction(write=False) as tx:
        assert tx.get_key("k1") is None


# concurrency


def test_threads_doing_read_modify_write_lose_no_updates(store: KeyStore) -> None:
    """Two threads incrementing one key's counter 200 times each inside transactions end at 400."""
    with store.transaction() as tx:
        tx.put_key(make_key("k1"))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            increment(store, "k1", 200)
        except BaseException as exc:  # surfaced below; a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    key = read(store, lambda tx: tx.get_key("k1"))
    assert isinstance(key, KeyRecord) and key.on_demand_rotations == 400


def test_processes_sharing_a_sqlite_file_lose_no_updates(tmp_path: Path) -> None:
    """Two spawned processes incrementing one key in the same SQLite file 100 times each end at 200."""
    path = tmp_path / "shared.db"
    with SqliteKeyStore(path) as store, store.transaction() as tx:
        tx.put_key(make_key("k1"))
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)  # so the two really overlap instead of one finishing before the other starts
    processes = [context.Process(target=increment_in_process, args=(str(path), 100, start)) for _ in range(2)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)  # a guard against a hang, not a timing assertion
    assert [p.exitcode for p in processes] == [0, 0]
    with SqliteKeyStore(path) as store:
        key = read(store, lambda tx: tx.get_key("k1"))
    assert isinstance(key, KeyRecord) and key.on_demand_rotations == 200


# SQLite specifics


def test_sqlite_state_survives_closing_and_reopening(tmp_path: Path) -> None:
    """Everything committed, audit included, is there after the file is closed and opened again."""
    path = tmp_path / "store.db"
    with SqliteKeyStore(path) as store:
        with store.transaction() as tx:
            tx.put_key(full_key())
            put_key_with_dependents(tx, "k1")
        store.append_audit(1.0, "CreateKey", "p", None, None, {"a": [1]})
    with SqliteKeyStore(path) as store:
        with store.transaction() as tx:
            assert tx.get_key("k-full") == full_key()
            assert tx.materials("k1") == [make_material("k1", 1)]
            assert tx.get_alias(ACCOUNT, REGION, "alias/k1") == make_alias("alias/k1", "k1")
            assert tx.get_grant("g-k1") == make_grant("g-k1", retiring_principal="arn:aws:iam::111122223333:role/retirer")
            assert tx.get_import_parameters("k1") == make_params("k1")
        assert store.append_audit(2.0, "Decrypt", "p", None, None, {}).sequence == 2
        assert [(r.sequence, r.event) for r in store.audit_records()] == [(1, {"a": [1]}), (2, {})]


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    """The SQLite store runs in WAL mode with full sync, a busy timeout and foreign keys on."""
    with SqliteKeyStore(tmp_path / "store.db") as store, store._borrow() as conn:  # settings are per connection
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SQLITE_SCHEMA_VERSION,)]


def test_sqlite_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    """A text file given as the database raises StoreError naming it, and is left as it was."""
    path = tmp_path / "notes.txt"
    path.write_text("these are not the keys you are looking for\n" * 20)
    with pytest.raises(StoreError, match=r"notes\.txt"):
        SqliteKeyStore(path)
    assert path.read_text().startswith("these are not")


def test_sqlite_refuses_someone_elses_database_without_touching_it(tmp_path: Path) -> None:
    """A SQLite database that is not a policyengine store is refused and its journal mode is not changed."""
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER)")
        conn.execute("INSERT INTO schema_version VALUES (1)")
    conn.close()
    with pytest.raises(StoreError, match="not a policyengine key store"):
        SqliteKeyStore(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_sqlite_refuses_a_newer_schema_version(tmp_path: Path) -> None:
    """A store whose schema version is newer than this code's raises StoreError stating both versions."""
    path = tmp_path / "store.db"
    SqliteKeyStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_version SET version = ?", (SQLITE_SCHEMA_VERSION + 1,))
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match=f"schema version {SQLITE_SCHEMA_VERSION + 1}"):
        SqliteKeyStore(path)


def test_sqlite_upgrades_a_version_1_file_in_place(tmp_path: Path) -> None:
    """A file an older policyengine made (schema 1, no multi_region column) is upgraded on open, keys kept."""
    path = tmp_path / "store.db"
    store = SqliteKeyStore(path)
    with store.transaction() as tx:
        tx.put_key(make_key("k1"))
    store.close()
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE test_clock")
    conn.execute("DROP INDEX keys_by_due")
    conn.execute("ALTER TABLE keys DROP COLUMN due")
    conn.execute("ALTER TABLE keys DROP COLUMN multi_region")
    conn.execute("UPDATE schema_version SET version = 1")
    conn.commit()
    conn.close()
    store = SqliteKeyStore(path)
    with store.transaction(write=False) as tx:
        assert tx.get_key("k1") == make_key("k1")
    store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SQLITE_SCHEMA_VERSION,)]
    conn.close()


def test_sqlite_refuses_a_missing_directory_or_a_directory_path(tmp_path: Path) -> None:
    """A database path in a missing directory, naming a directory, or ``:memory:`` raises StoreError."""
    with pytest.raises(StoreError, match="does not exist"):
        SqliteKeyStore(tmp_path / "missing" / "store.db")
    with pytest.raises(StoreError, match="is a directory"):
        SqliteKeyStore(tmp_path)
    with pytest.raises(StoreError, match="in-memory"):
        SqliteKeyStore(":memory:")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into any directory")
def test_sqlite_refuses_an_unwritable_directory(tmp_path: Path) -> None:
    """A database path in a directory the user cannot write raises StoreError."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(StoreError, match="not writable"):
            SqliteKeyStore(locked / "store.db")
    finally:
        locked.chmod(0o700)


def test_store_error_is_a_policyengine_error() -> None:
    """StoreError is caught by a handler for PolicyEngineError."""
    assert issubclass(StoreError, PolicyEngineError)


# master key


def test_master_key_is_created_private_and_reused(tmp_path: Path) -> None:
    """The first call creates a 32-byte file with mode 0600; the second returns the same key."""
    path = tmp_path / "master.key"
    key = load_or_create_master_key(path)
    assert len(key) == 32 and path.read_bytes() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_master_key(path) == key
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.key"]  # no temporary file left behind


def test_master_key_created_concurrently_is_one_key(tmp_path: Path) -> None:
    """Threads racing to create the master key all get the same key."""
    path = tmp_path / "master.key"
    keys: list[bytes] = []
    threads = [threading.Thread(target=lambda: keys.append(load_or_create_master_key(path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_master_key_open_to_others_is_refused(tmp_path: Path, mode: int) -> None:
    """A master key file readable or writable by group or others raises StoreError."""
    path = tmp_path / "master.key"
    load_or_create_master_key(path)
    path.chmod(mode)
    with pytest.raises(StoreError, match="group or others"):
        load_or_create_master_key(path)


@pytest.mark.parametrize("size", [0, 31, 33])
def test_master_key_of_the_wrong_size_is_refused(tmp_path: Path, size: int) -> None:
    """A master key file that is not exactly 32 bytes raises StoreError and is not replaced."""
    path = tmp_path / "master.key"
    path.write_bytes(b"k" * size)
    path.chmod(0o600)
    with pytest.raises(StoreError, match=f"{size} bytes"):
        load_or_create_master_key(path)
    assert path.read_bytes() == b"k" * size


def test_master_key_in_a_missing_directory_is_refused(tmp_path: Path) -> None:
    """A master key path in a directory that does not exist raises StoreError."""
    with pytest.raises(StoreError, match="does not exist"):
        load_or_create_master_key(tmp_path / "missing" / "master.key")


def test_clock_offset_is_kept_by_the_store(store: KeyStore) -> None:
    """Test mode's clock offset: 0 until set, kept by a committed write, not by a failed one."""
    with store.transaction(write=False) as tx:
        assert tx.clock_offset() == 0.0
    with store.transaction() as tx:
        tx.set_clock_offset(86400.5)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.set_clock_offset(1e9)
        raise RuntimeError("rolled back")
    with store.transaction(write=False) as tx:
        assert tx.clock_offset() == 86400.5


def test_sqlite_concurrent_audit_appends_commit_together_each_once(tmp_path: Path) -> None:
    """Sixteen threads appending at once (group commit): every record is there once, each caller got its
    own sequence number, and a failed batch raises in every caller whose record it held."""
    import threading

    store = SqliteKeyStore(tmp_path / "store.db")
    start = threading.Barrier(16)
    got: list[tuple[int, int]] = []

    def append(index: int) -> None:
        start.wait()
        for n in range(20):
            record = store.append_audit(float(n), "Encrypt", f"p{index}", None, None, {"n": n, "i": index})
            got.append((record.sequence, index * 100 + n))

    threads = [threading.Thread(target=append, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = {r.sequence: r.event["i"] * 100 + r.event["n"] for r in store.audit_records()}
    assert len(records) == len(got) == 320
    assert dict(got) == records
    failing = store._audit_batches  # the writer fails: every waiter of the batch sees the error
    failing._write = lambda rows: (_ for _ in ()).throw(StoreError("disk full"))  # type: ignore[method-assign]
    with pytest.raises(StoreError, match="disk full"):
        store.append_audit(1.0, "Encrypt", "p", None, None, {})
    store.close()
