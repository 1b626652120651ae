"""Three ``policyengine serve --store postgresql://...`` processes on one database, clients spread across them.

What must hold however requests interleave across processes: no update is lost, every
ciphertext decrypts through every server, the on-demand rotation limit, alias names, grant
retirement and deletion scheduling each hold under races, every call is audited once in
PostgreSQL, and killing a server mid-write loses nothing that was acknowledged while the
others keep serving. Clients never retry, so any failure a race causes is seen.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from botocore.exceptions import ClientError

from policyengine.store import load_or_create_master_key
from tests.postgres.conftest import REPO
from tests.postgres.servers import ServerProcess, data_dir_with_key, serve_cli

ROOT = "arn:aws:iam::123456789012:root"  # who test mode takes any credentials for


@pytest.fixture(scope="module")
def cluster_url(pg_cluster: Any, pg_template: str) -> str:
    return str(pg_cluster.create_database(pg_template))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("servers")


@pytest.fixture(scope="module")
def master_key(workdir: Path) -> Path:
    path = workdir / "master.key"
    load_or_create_master_key(path)
    return path


@pytest.fixture(scope="module")
def servers(cluster_url: str, workdir: Path, master_key: Path) -> Iterator[list[ServerProcess]]:
    """Three servers, each with its own data directory and its copy of the master key."""
    started = [
        serve_cli(cluster_url, data_dir_with_key(workdir, f"server{i}", master_key), workdir / f"server{i}.log") for i in range(3)
    ]
    try:
        yield [server.wait_ready() for server in started]
    finally:
        for server in started:
            server.stop()


def _together(count: int, work: Callable[[int], Any]) -> list[Any]:
    """``work(i)`` in ``count`` threads released together; what each returned, or the exception it raised."""
    gate = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        gate.wait()
        try:
            results[index] = work(index)
        except Exception as error:  # the test looks at every outcome
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def _code(outcome: Any) -> str:
    if isinstance(outcome, ClientError):
        return str(outcome.response["Error"]["Code"])
    if isinstance(outcome, Exception):
        return f"{type(outcome).__name__}: {outcome}"
    return "ok"


def _codes(outcomes: list[Any]) -> list[str]:
    return sorted(_code(o) for o in outcomes)


def test_state_is_shared_and_every_ciphertext_decrypts_through_every_server(servers: list[ServerProcess]) -> None:
    """Keys made on any server are seen by all; ciphertexts made through any server, before and during
    concurrent rotations of the key, decrypt through every server."""
    clients = [s.client() for s in servers]
    shared = clients[0].create_key()["KeyMetadata"]["KeyId"]

    def work(index: int) -> list[tuple[bytes, bytes, dict[str, str]]]:
        client = clients[index % 3]
        own = client.create_key()["KeyMetadata"]["KeyId"]
        made = []
        for call in range(8):
            if index == 0 and call % 2 == 0:
                client.rotate_key_on_demand(KeyId=shared)  # new material while the others encrypt
            context = {"client": str(index), "call": str(call)}
            for key in (shared, own):
                plaintext = f"{index}:{call}:{key}".encode()
                made.append(
                    (
                        client.encrypt(KeyId=key, Plaintext=plaintext, EncryptionContext=context)["CiphertextBlob"],
                        plaintext,
                        context,
                    )
                )
        return made

    outcomes = _together(6, work)
    assert [_code(o) for o in outcomes] == ["ok"] * 6
    for blob, plaintext, context in (item for batch in outcomes for item in batch):
        for client in clients:
            assert client.decrypt(CiphertextBlob=blob, EncryptionContext=context)["Plaintext"] == plaintext
    listed = [{k["KeyId"] for k in c.list_keys(Limit=1000)["Keys"]} for c in clients]
    assert listed[0] == listed[1] == listed[2] and len(listed[0]) >= 7


def test_concurrent_tagging_through_three_servers_loses_no_update(servers: list[ServerProcess]) -> None:
    """Twelve clients (four per server) each adding four tags to one key: all 48 tags are there, seen by every server."""
    clients = [s.client() for s in servers]
    key = clients[0].create_key()["KeyMetadata"]["KeyId"]

    def tag(index: int) -> None:
        for n in range(4):
            clients[index % 3].tag_resource(KeyId=key, Tags=[{"TagKey": f"c{index}-t{n}", "TagValue": "v"}])

    assert _codes(_together(12, tag)) == ["ok"] * 12
    for client in clients:
        tags = client.list_resource_tags(KeyId=key, Limit=50)["Tags"]
        assert {t["TagKey"] for t in tags} == {f"c{i}-t{n}" for i in range(12) for n in range(4)}


def test_the_on_demand_rotation_limit_holds_under_races(servers: list[ServerProcess]) -> None:
    """Fifteen RotateKeyOnDemand calls at once across servers: exactly ten rotate, five hit the limit."""
    clients = [s.client() for s in servers]
    key = clients[0].create_key()["KeyMetadata"]["KeyId"]
    outcomes = _together(15, lambda i: clients[i % 3].rotate_key_on_demand(KeyId=key))
    assert _codes(outcomes) == ["LimitExceededException"] * 5 + ["ok"] * 10
    for client in clients:
        rotations = client.list_key_rotations(KeyId=key)["Rotations"]
        assert [r["RotationType"] for r in rotations] == ["ON_DEMAND"] * 10


def test_alias_names_stay_unique_under_races(servers: list[ServerProcess]) -> None:
    """Twelve CreateAlias of one name at once: one wins, eleven are told it exists; concurrent UpdateAlias
    calls leave one alias, on one of their targets, as every server sees it."""
    clients = [s.client() for s in servers]
    keys = [clients[i % 3].create_key()["KeyMetadata"]["KeyId"] for i in range(12)]
    outcomes = _together(12, lambda i: clients[i % 3].create_alias(AliasName="alias/race", TargetKeyId=keys[i]))
    assert _codes(outcomes) == ["AlreadyExistsException"] * 11 + ["ok"]
    winner = keys[[_code(o) for o in outcomes].index("ok")]
    for client in clients:
        assert client.describe_key(KeyId="alias/race")["KeyMetadata"]["KeyId"] == winner
    outcomes = _together(12, lambda i: clients[i % 3].update_alias(AliasName="alias/race", TargetKeyId=keys[i]))
    assert _codes(outcomes) == ["ok"] * 12
    seen = set()
    for client in clients:
        aliases = [a for a in client.list_aliases(Limit=100)["Aliases"] if a["AliasName"] == "alias/race"]
        assert len(aliases) == 1
        seen.add(aliases[0]["TargetKeyId"])
    assert len(seen) == 1 and seen <= set(keys)


def test_a_grant_is_retired_exactly_once(servers: list[ServerProcess]) -> None:
    """Six RetireGrant calls with one grant token at once across servers: one retires it, five find it gone."""
    clients = [s.client() for s in servers]
    key = clients[0].create_key()["KeyMetadata"]["KeyId"]
    grant = clients[1].create_grant(KeyId=key, GranteePrincipal=ROOT, RetiringPrincipal=ROOT, Operations=["Decrypt"])
    outcomes = _together(6, lambda i: clients[i % 3].retire_grant(GrantToken=grant["GrantToken"]))
    codes = _codes(outcomes)
    assert codes.count("ok") == 1 and all(c in ("ok", "InvalidGrantTokenException", "NotFoundException") for c in codes), codes
    for client in clients:
        assert client.list_grants(KeyId=key)["Grants"] == []


def test_deletion_is_scheduled_exactly_once(servers: list[ServerProcess]) -> None:
    """Six ScheduleKeyDeletion calls for one key at once: one schedules it, five find it already pending deletion."""
    clients = [s.client() for s in servers]
    key = clients[0].create_key()["KeyMetadata"]["KeyId"]
    outcomes = _together(6, lambda i: clients[i % 3].schedule_key_deletion(KeyId=key, PendingWindowInDays=7 + i))
    assert _codes(outcomes) == ["KMSInvalidStateException"] * 5 + ["ok"]
    scheduled = next(o for o in outcomes if isinstance(o, dict))
    for client in clients:
        metadata = client.describe_key(KeyId=key)["KeyMetadata"]
        assert metadata["KeyState"] == "PendingDeletion" and metadata["DeletionDate"] == scheduled["DeletionDate"]


def _audit_count(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM audit").fetchone()
    return int(row[0]) if row else 0


def _unaudited_changes(url: str) -> list[str]:
    """Keys in the database without a successful CreateKey record, and tags without a successful
    TagResource record naming that tag on that key."""
    with psycopg.connect(url) as conn:
        keys = conn.execute("SELECT arn, tags::text FROM keys").fetchall()
        records = conn.execute("SELECT event_name, key_arn, event::text FROM audit WHERE error_code IS NULL").fetchall()
    created = {arn for name, arn, _ in records if name == "CreateKey"}
    tagged = {
        (arn, tag["TagKey"])
        for name, arn, event in records
        if name == "TagResource"
        for tag in json.loads(event)["requestParameters"].get("Tags", [])
    }
    missing = [f"CreateKey {arn}" for arn, _ in keys if arn not in created]
    for arn, tags in keys:
        missing += [f"TagResource {arn} {tag}" for tag in json.loads(tags) if (arn, tag) not in tagged]
    return missing


def test_every_call_through_any_server_is_audited_once_in_postgresql(servers: list[ServerProcess], cluster_url: str) -> None:
    """Calls through three servers at once add exactly one audit row each, denied ones included, and
    ``policyengine audit --store`` lists them."""
    clients = [s.client() for s in servers]
    key = clients[0].create_key(Description="audited")["KeyMetadata"]["KeyId"]
    before = _audit_count(cluster_url)

    def calls(index: int) -> None:
        client = clients[index % 3]
        for _ in range(5):
            client.describe_key(KeyId=key)
        with pytest.raises(ClientError):
            client.describe_key(KeyId="alias/does-not-exist")

    assert _codes(_together(6, calls)) == ["ok"] * 6
    assert _audit_count(cluster_url) - before == 36
    shown = subprocess.run(
        [sys.executable, "-m", "policyengine", "audit", "--store", cluster_url, "--key", key, "--format", "json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    events = json.loads(shown.stdout)
    assert [e["eventName"] for e in events].count("DescribeKey") == 30


def test_a_server_with_another_master_key_is_refused(cluster_url: str, workdir: Path, servers: list[ServerProcess]) -> None:
    """A server whose data directory has a different master key stops at startup with one line saying so."""
    stranger = workdir / "stranger"
    stranger.mkdir()
    server = serve_cli(cluster_url, stranger, workdir / "stranger.log")
    assert server.process.wait(60) == 1
    assert "give every server a copy of the same master.key" in server.output()


def test_killing_a_server_mid_write_loses_nothing_acknowledged(
    servers: list[ServerProcess], cluster_url: str, workdir: Path, master_key: Path
) -> None:
    """Writers on four servers; one server is SIGKILLed mid-write. The other servers keep answering every
    call, every acknowledged key and tag is there afterwards, nothing the dead server was writing stays locked,
    and every change that reached the database (acknowledged or not) has its audit record: a change and its
    record commit in one transaction, so no kill falls between them."""
    victim = serve_cli(cluster_url, data_dir_with_key(workdir, "victim", master_key), workdir / "victim.log").wait_ready()
    targets = [victim, victim, victim, servers[0], servers[1], servers[2]]
    acknowledged: list[list[tuple[str, str | None]]] = [[] for _ in targets]
    failures: list[list[str]] = [[] for _ in targets]
    stop = threading.Event()
    # Made before the clock starts: a boto3 client takes seconds to make on a loaded machine.
    clients = [target.client() for target in targets]

    def write(index: int) -> None:
        client = clients[index]
        while not stop.is_set():
            try:
                key = client.create_key()["KeyMetadata"]["KeyId"]
                acknowledged[index].append((key, None))
                for n in range(3):
                    client.tag_resource(KeyId=key, Tags=[{"TagKey": f"t{n}", "TagValue": str(index)}])
                    acknowledged[index].append((key, f"t{n}"))
            except Exception as error:  # on the victim: expected once it is killed; elsewhere: a failure
                failures[index].append(_code(error))
                if targets[index] is victim:
                    return

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(targets))]
    for thread in threads:
        thread.start()
    # Kill only once every writer on the victim has had a call acknowledged (a loaded machine may need
    # longer than a fixed pause), then a little later so the kill lands mid-write.
    deadline = time.monotonic() + 60
    while not all(acknowledged[i] for i in range(3)) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    victim.kill()
    time.sleep(1.0)  # the survivors keep writing after the kill
    stop.set()
    for thread in threads:
        thread.join(60)
    assert failures[3:] == [[], [], []], failures
    assert all(acknowledged[i] for i in range(3)), "the victim acknowledged nothing before it was killed"
    assert all(len(acknowledged[i]) > len(acknowledged[0]) / 4 for i in range(3, 6))
    survivor = servers[0].client()
    for index, done in enumerate(acknowledged):
        for key, tag in done:
            tags = {t["TagKey"]: t["TagValue"] for t in survivor.list_resource_tags(KeyId=key)["Tags"]}
            assert tag is None or tags.get(tag) == str(index)
    assert _unaudited_changes(cluster_url) == []
    # Whatever the victim was in the middle of was rolled back and unlocked: its keys take writes at once.
    for key in {key for i in range(3) for key, _ in acknowledged[i]}:
        survivor.tag_resource(KeyId=key, Tags=[{"TagKey": "after", "TagValue": "kill"}])
