"""Many clients at once: every call answered correctly, on the durable store too."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from policyengine.server import BackgroundServer, ServerConfig
from tests.server.conftest import Server


@pytest.fixture(scope="module")
def durable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A test-mode server on a SQLite store."""
    config = ServerConfig(port=0, data_dir=tmp_path_factory.mktemp("durable"), test_mode=True, log_requests=False, threads=8)
    with BackgroundServer(config) as background:
        yield Server(background)


def _hammer(server: Server, key: str, clients: int, calls: int) -> list[BaseException]:
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            kms: Any = server.client("AKIAANYONE")
            for call in range(calls):
                plaintext = f"{index}:{call}".encode()
                context = {"client": str(index)}
                blob = kms.encrypt(KeyId=key, Plaintext=plaintext, EncryptionContext=context)["CiphertextBlob"]
                assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)["Plaintext"] == plaintext
        except BaseException as error:  # collected and reported by the test
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_concurrent_clients_all_round_trip(request: pytest.FixtureRequest, store: str) -> None:
    """Sixteen clients encrypting and decrypting at once all get their own plaintext back."""
    server: Server = request.getfixturevalue("server" if store == "memory" else "durable")
    key = server.client("AKIAANYONE").create_key()["KeyMetadata"]["Arn"]
    assert _hammer(server, key, clients=16, calls=10) == []


def test_two_servers_on_one_store_stay_consistent(tmp_path: Path) -> None:
    """Two servers sharing one SQLite directory see each other's keys and never lose a write."""
    first = BackgroundServer(ServerConfig(port=0, data_dir=tmp_path, test_mode=True, log_requests=False)).start()
    second = BackgroundServer(ServerConfig(port=0, data_dir=tmp_path, test_mode=True, log_requests=False)).start()
    try:
        a, b = Server(first).client("AKIAANYONE"), Server(second).client("AKIAANYONE")
        made = [client.create_key()["KeyMetadata"]["Arn"] for client in (a, b) * 5]
        tagged = made[0]
        for i, client in enumerate((a, b) * 5):
            client.tag_resource(KeyId=tagged, Tags=[{"TagKey": f"t{i}", "TagValue": "v"}])
        assert {k["KeyArn"] for k in a.list_keys()["Keys"]} == set(made) == {k["KeyArn"] for k in b.list_keys()["Keys"]}
        assert len(b.list_resource_tags(KeyId=tagged)["Tags"]) == 10
    finally:
        first.stop()
        second.stop()
