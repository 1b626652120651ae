"""The command line around the PostgreSQL store: ``db upgrade``, ``serve --store`` / ``POLICYENGINE_STORE``, ``audit --store``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from policyengine.cli.main import main
from policyengine.store import load_or_create_master_key
from policyengine.store.postgres import SCHEMA_VERSION, schema_version
from tests.postgres.servers import REPO, ServerProcess, data_dir_with_key


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as ended:
        main(argv)
    captured = capsys.readouterr()
    return int(ended.value.code or 0), captured.out, captured.err


def test_db_upgrade_creates_then_reports_the_schema(empty_pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``db upgrade`` creates the schema, says so, and says there is nothing to do the second time."""
    code, out, _ = _run(["db", "upgrade", "--store", empty_pg_url], capsys)
    assert code == 0 and f"schema created at version {SCHEMA_VERSION}" in out
    assert schema_version(empty_pg_url) == SCHEMA_VERSION
    code, out, _ = _run(["db", "upgrade", "--store", empty_pg_url], capsys)
    assert code == 0 and f"schema already at version {SCHEMA_VERSION}" in out


def test_db_upgrade_reads_the_store_from_the_environment(
    empty_pg_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --store, ``db upgrade`` uses POLICYENGINE_STORE."""
    monkeypatch.setenv("POLICYENGINE_STORE", empty_pg_url)
    code, out, _ = _run(["db", "upgrade"], capsys)
    assert code == 0 and "schema created" in out


def test_db_upgrade_failures_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """A server that is down, and a store that is not a PostgreSQL URL, each end with one line and exit code 1."""
    code, out, err = _run(["db", "upgrade", "--store", "postgresql://kms:s3cret@127.0.0.1:1/keys"], capsys)
    assert code == 1 and out == ""
    assert err.strip().count("\n") == 0 and "cannot connect to store postgresql://kms@127.0.0.1:1/keys" in err
    assert "s3cret" not in err
    code, _, err = _run(["db", "upgrade", "--store", "kms.sqlite3"], capsys)
    assert code == 1 and "postgresql:// URL" in err


def _serve_refused(*args: str) -> str:
    """Start ``policyengine serve`` (in a process of its own: it sets up logging and signals) expecting it to refuse."""
    ran = subprocess.run(
        [sys.executable, "-m", "policyengine", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert ran.returncode == 1 and ran.stderr.strip().count("\n") == 0, ran.stderr
    return ran.stderr


def test_serve_refuses_a_store_that_is_not_a_postgresql_url(tmp_path: Path) -> None:
    """``serve --store`` with a file path stops before listening, with one line."""
    refused = _serve_refused("--store", str(tmp_path / "kms.sqlite3"), "--data", str(tmp_path))
    assert "--store takes a postgresql:// URL" in refused


def test_serve_refuses_a_database_without_the_schema(empty_pg_url: str, tmp_path: Path) -> None:
    """``serve --store`` on a database nobody upgraded names the command to run, and does not listen."""
    assert "run `policyengine db upgrade --store URL`" in _serve_refused("--store", empty_pg_url, "--data", str(tmp_path))


def test_serve_takes_the_store_from_the_environment_and_audit_reads_it(pg_url: str, tmp_path: Path) -> None:
    """A server started with only POLICYENGINE_STORE keeps its state and audit trail in PostgreSQL,
    where ``policyengine audit`` (with the same variable) reads them."""
    load_or_create_master_key(tmp_path / "master.key")
    data = data_dir_with_key(tmp_path, "data", tmp_path / "master.key")
    command = [sys.executable, "-m", "policyengine", "serve", "--data", str(data), "--port", "0", "--test-mode"]
    server = ServerProcess(command, tmp_path / "server.log", env={"POLICYENGINE_STORE": pg_url})
    try:
        server.wait_ready()
        assert "store: PostgreSQL at postgresql://postgres@127.0.0.1:" in server.output()
        key = server.client().create_key(Description="from the environment")["KeyMetadata"]["Arn"]
    finally:
        server.stop()
    shown = subprocess.run(
        [sys.executable, "-m", "policyengine", "audit", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "POLICYENGINE_STORE": pg_url},
        check=True,
    )
    events = json.loads(shown.stdout)
    assert [e["eventName"] for e in events] == ["CreateKey"]
    assert key in json.dumps(events[0])
