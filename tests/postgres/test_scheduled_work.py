"""Scheduled work across three servers on one database: automatic rotation, deletion at the end of its
window and imported-material expiry each happen exactly once, however many servers find them due at once.

The servers share a clock file (real time plus an offset), so the test moves all three 100 days
ahead together and then sends them calls at the same moment: every call first runs the work
that is due, so all three race for it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from policyengine.store import load_or_create_master_key
from tests.postgres.servers import ServerProcess, data_dir_with_key, serve_cli, serve_clocked

DAY = 86400


@pytest.fixture(scope="module")
def world(
    pg_cluster: Any, pg_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path, list[ServerProcess]]]:
    """(database URL, clock file, three servers on that clock)."""
    url = str(pg_cluster.create_database(pg_template))
    workdir = tmp_path_factory.mktemp("scheduled")
    clock = workdir / "clock"
    clock.write_text("0")
    master = workdir / "master.key"
    load_or_create_master_key(master)
    started = [serve_clocked(url, data_dir_with_key(workdir, f"s{i}", master), clock, workdir / f"s{i}.log") for i in range(3)]
    try:
        yield url, clock, [s.wait_ready() for s in started]
    finally:
        for server in started:
            server.stop()


def _import_expiring_material(client: Any, key: str, valid_for_days: int) -> None:
    params = client.get_parameters_for_import(KeyId=key, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    public = serialization.load_der_public_key(params["PublicKey"])
    assert isinstance(public, rsa.RSAPublicKey)
    wrapped = public.encrypt(
        bytes(range(32)), padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    )
    client.import_key_material(
        KeyId=key,
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=wrapped,
        ExpirationModel="KEY_MATERIAL_EXPIRES",
        ValidTo=datetime.now(UTC) + timedelta(days=valid_for_days),
    )


def _material_rows(url: str, key: str) -> list[tuple[int, str | None]]:
    with psycopg.connect(url) as conn:
        return [
            (int(v), t)
            for v, t in conn.execute("SELECT version, rotation_type FROM materials WHERE key_id = %s ORDER BY version", (key,))
        ]


def test_due_work_is_done_exactly_once_by_whichever_server_gets_there_first(world: tuple[str, Path, list[ServerProcess]]) -> None:
    """After 100 days, twelve calls at once through three servers: one automatic rotation, one deletion,
    one expiry, no failed call, and every server agrees."""
    url, clock, servers = world
    clients = [s.client() for s in servers]
    rotating = clients[0].create_key()["KeyMetadata"]["KeyId"]
    clients[0].enable_key_rotation(KeyId=rotating, RotationPeriodInDays=90)
    doomed = clients[1].create_key()["KeyMetadata"]["KeyId"]
    clients[1].schedule_key_deletion(KeyId=doomed, PendingWindowInDays=7)
    imported = clients[2].create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    _import_expiring_material(clients[2], imported, valid_for_days=30)
    assert clients[0].describe_key(KeyId=imported)["KeyMetadata"]["KeyState"] == "Enabled"

    clock.write_text(str(100 * DAY))
    gate = threading.Barrier(12)
    outcomes: list[str] = []

    def call(index: int) -> None:
        gate.wait()
        try:
            clients[index % 3].describe_key(KeyId=rotating)
            outcomes.append("ok")
        except Exception as error:  # reported below
            outcomes.append(repr(error))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcomes == ["ok"] * 12

    assert _material_rows(url, rotating) == [(1, None), (2, "AUTOMATIC")]
    # Expired imported material keeps its version's row, blank, so reimporting it restores every ciphertext.
    assert _material_rows(url, doomed) == [] and _material_rows(url, imported) == [(1, None)]
    for client in clients:
        rotations = client.list_key_rotations(KeyId=rotating)["Rotations"]
        assert [r["RotationType"] for r in rotations] == ["AUTOMATIC"]
        with pytest.raises(ClientError) as gone:
            client.describe_key(KeyId=doomed)
        assert gone.value.response["Error"]["Code"] == "NotFoundException"
        assert client.describe_key(KeyId=imported)["KeyMetadata"]["KeyState"] == "PendingImport"


def _move_clock(server: ServerProcess, days: float) -> float:
    """``POST /_clock`` on one server: what a test does over the wire; the server's new time."""
    import json
    import urllib.request

    request = urllib.request.Request(f"{server.endpoint}/_clock", data=json.dumps({"advance_days": days}).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return float(json.loads(response.read())["now"])


def test_time_moved_through_one_server_moves_every_server_and_the_work_is_done_once(
    pg_cluster: Any, pg_template: str, tmp_path: Path
) -> None:
    """Three ``serve --store URL --test-mode`` servers; a client moves time 100 days through one of them
    only (POST /_clock). Then twelve calls at once through all three: the rotation, the deletion and the
    expiry each happen exactly once, every server shows the same outcome, and a key made afterwards
    through another server is dated in the moved time (the offset lives in the database)."""
    url = str(pg_cluster.create_database(pg_template))
    master = tmp_path / "master.key"
    load_or_create_master_key(master)
    started = [serve_cli(url, data_dir_with_key(tmp_path, f"s{i}", master), tmp_path / f"s{i}.log") for i in range(3)]
    try:
        servers = [s.wait_ready() for s in started]
        clients = [s.client() for s in servers]
        rotating = clients[0].create_key()["KeyMetadata"]["KeyId"]
        clients[0].enable_key_rotation(KeyId=rotating, RotationPeriodInDays=90)
        doomed = clients[1].create_key()["KeyMetadata"]["KeyId"]
        clients[1].schedule_key_deletion(KeyId=doomed, PendingWindowInDays=7)
        imported = clients[2].create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
        _import_expiring_material(clients[2], imported, valid_for_days=30)

        moved = _move_clock(servers[2], 100)
        gate = threading.Barrier(12)
        outcomes: list[str] = []

        def call(index: int) -> None:
            gate.wait()
            try:
                clients[index % 3].describe_key(KeyId=rotating)
                outcomes.append("ok")
            except Exception as error:  # reported below
                outcomes.append(repr(error))

        threads = [threading.Thread(target=call, args=(i,)) for i in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert outcomes == ["ok"] * 12
        assert _material_rows(url, rotating) == [(1, None), (2, "AUTOMATIC")]
        for client in clients:
            assert [r["RotationType"] for r in client.list_key_rotations(KeyId=rotating)["Rotations"]] == ["AUTOMATIC"]
            with pytest.raises(ClientError) as gone:
                client.describe_key(KeyId=doomed)
            assert gone.value.response["Error"]["Code"] == "NotFoundException"
            assert client.describe_key(KeyId=imported)["KeyMetadata"]["KeyState"] == "PendingImport"
        created = clients[0].create_key()["KeyMetadata"]["CreationDate"].timestamp()
        assert moved - 5 <= created <= moved + 120
    finally:
        for server in started:
            server.stop()
