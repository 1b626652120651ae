"""What `policyengine serve` refuses or warns about before it serves: test mode beyond loopback,
a master key that is not the store's, a data directory others can read."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

import policyengine.server
from policyengine.cli import serve as serve_command
from policyengine.kms import open_local_kms, root_caller
from policyengine.server import BackgroundServer, ServerConfig
from policyengine.server.runner import _announce, bind
from policyengine.store import StoreError
from tests.security.conftest import ADMIN, IDENTITIES, OWNER, Server, secure_config
from tests.server.test_serve_command import ServeProcess, _run_once

# ---- test mode stays on loopback ------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "kms.example.com"])
def test_test_mode_refuses_a_non_loopback_address(host: str) -> None:
    """`serve --test-mode --host 0.0.0.0` exits 1 with one line, before binding anything."""
    result = _run_once("--test-mode", "--host", host, "--port", "0")
    assert result.returncode == 1
    assert result.stderr.startswith("error: test mode accepts any credentials") and result.stderr.count("\n") == 1
    assert "--allow-remote-test-mode" in result.stderr
    with pytest.raises(ValueError, match="allow-remote-test-mode"):
        ServerConfig(host=host, test_mode=True)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_test_mode_on_loopback_needs_no_flag(host: str) -> None:
    assert ServerConfig(host=host, test_mode=True).test_mode


def test_allow_remote_test_mode_starts_with_a_warning_banner(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """With the flag the configuration is accepted, and the announcement warns loudly (shown here on a
    loopback socket: this suite never listens beyond loopback)."""
    seen: list[ServerConfig] = []
    monkeypatch.setattr(policyengine.server, "serve", seen.append)  # the command imports it when it runs
    result = CliRunner().invoke(serve_command.serve, ["--test-mode", "--host", "0.0.0.0", "--allow-remote-test-mode"])
    assert result.exit_code == 0, result.output
    assert seen[0].host == "0.0.0.0" and seen[0].allow_remote_test_mode
    sock = bind("127.0.0.1", 0)
    try:
        with caplog.at_level(logging.INFO, logger="policyengine.server"):
            _announce(seen[0], sock, "in memory", 0)
    finally:
        sock.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("TEST MODE" in line and "reachable from other machines" in line for line in warnings)
    assert any("POST /_reset wipes every key" in line for line in warnings)


# ---- the master key belongs to its store ----------------------------------------------------


def _first_start(tmp_path: Path, processes: list[ServeProcess]) -> tuple[Path, str]:
    data = tmp_path / "data"
    identities = secure_config(tmp_path).identities
    assert identities is not None
    server = ServeProcess("--data", str(data), "--identities", str(identities))
    processes.append(server)
    server.wait_listening()
    kms = boto3.session.Session(
        aws_access_key_id=ADMIN, aws_secret_access_key=str(IDENTITIES[ADMIN]["secret_access_key"]), region_name="us-east-1"
    ).client("kms", endpoint_url=server.endpoint_url)
    kms.create_key()
    code, _ = server.stop()
    assert code == 0
    return data, str(identities)


def test_missing_master_key_is_not_replaced(tmp_path: Path, processes: list[ServeProcess]) -> None:
    """The issue's failure: a lost master.key was silently replaced and every old key became unreadable."""
    data, identities = _first_start(tmp_path, processes)
    (data / "master.key").unlink()
    result = _run_once("--data", str(data), "--identities", identities, "--port", "0")
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "master.key" in result.stderr and "restore" in result.stderr
    assert not (data / "master.key").exists()  # nothing made in its place


def test_another_master_key_is_refused(tmp_path: Path, processes: list[ServeProcess]) -> None:
    data, identities = _first_start(tmp_path, processes)
    (data / "master.key").unlink()
    fd = os.open(data / "master.key", os.O_CREAT | os.O_WRONLY, 0o600)
    os.write(fd, os.urandom(32))
    os.close(fd)
    result = _run_once("--data", str(data), "--identities", identities, "--port", "0")
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "is not the one store" in result.stderr and "restore the master.key" in result.stderr


def test_store_without_a_check_value_records_one_on_first_open(tmp_path: Path) -> None:
    """A store made before check values were recorded: the key it opens with becomes its key."""
    data = tmp_path / "data"
    kms = open_local_kms(data)
    kms.create_key(root_caller(OWNER))
    kms.store.close()
    with sqlite3.connect(data / "kms.sqlite3") as conn:  # the schema as it was before the column existed
        conn.execute("ALTER TABLE schema_version DROP COLUMN master_key_check")
    again = open_local_kms(data)
    assert len(again.list_keys(root_caller(OWNER))["Keys"]) == 1
    again.store.close()
    with sqlite3.connect(data / "kms.sqlite3") as conn:
        assert conn.execute("SELECT master_key_check FROM schema_version").fetchone()[0]
    key_bytes = (data / "master.key").read_bytes()
    assert key_bytes.hex() not in (data / "kms.sqlite3").read_bytes().decode("latin-1")
    (data / "master.key").unlink()
    fd = os.open(data / "master.key", os.O_CREAT | os.O_WRONLY, 0o600)
    os.write(fd, os.urandom(32))
    os.close(fd)
    with pytest.raises(StoreError, match="is not the one store"):
        open_local_kms(data)


def test_an_empty_store_may_get_a_new_master_key(tmp_path: Path) -> None:
    """Nothing sealed yet: a missing key file is simply made (first start, or a store never used)."""
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    from policyengine.store.sqlite import SqliteKeyStore

    SqliteKeyStore(data / "kms.sqlite3").close()
    open_local_kms(data).store.close()
    assert (data / "master.key").exists()


# ---- private files --------------------------------------------------------------------------


def test_data_directory_and_files_are_private(tmp_path: Path) -> None:
    """Made 0700 and 0600 whatever the umask (here 022): the database, its WAL and SHM, the master key."""
    previous = os.umask(0o022)
    try:
        config = secure_config(tmp_path)
        with BackgroundServer(config) as background:
            Server(background, IDENTITIES).client(ADMIN).create_key()
            assert config.data_dir is not None
            modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in config.data_dir.iterdir()}
            directory_mode = stat.S_IMODE(config.data_dir.stat().st_mode)
    finally:
        os.umask(previous)
    assert directory_mode == 0o700
    assert {"kms.sqlite3", "kms.sqlite3-wal", "kms.sqlite3-shm", "master.key"} <= set(modes)
    assert {name: mode for name, mode in modes.items() if mode != 0o600} == {}


def test_an_open_data_directory_is_warned_about(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    with caplog.at_level(logging.WARNING, logger="policyengine.server"), BackgroundServer(secure_config(tmp_path)):
        pass
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(f"`{data}` is open to group or others (mode 0755): run `chmod 700`" in w for w in warnings)
