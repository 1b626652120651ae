"""Server processes on one PostgreSQL database, for the multi-process tests.

Two kinds: ``policyengine serve --store URL`` exactly as an operator runs it, and (for scheduled
work, which needs time to pass) ``python -m tests.postgres.servers``: the same app on a clock that
is real time plus an offset every server reads from one shared file, so a test can move all
servers 100 days ahead at once. Each server has its own data directory holding its copy of the
one master key, as servers on separate machines would.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent.parent
_LISTENING = re.compile(r"listening on (http://[\d.]+:\d+)")


class ServerProcess:
    """One server process: its endpoint, boto3 clients for it, and ways to stop or kill it."""

    def __init__(self, command: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        env = {**os.environ, **(env or {}), "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
        with log.open("wb") as sink:  # a pipe nobody reads would fill up and stall the server
            self.process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=REPO)
        self.endpoint = ""

    def wait_ready(self, timeout: float = 60.0) -> ServerProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = _LISTENING.search(self.log.read_text(errors="replace"))
            if found:
                self.endpoint = found.group(1)
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.output()[-3000:]}")
            time.sleep(0.05)
        raise RuntimeError(f"server not listening after {timeout} s: {self.output()[-3000:]}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def client(self) -> Any:
        """A boto3 KMS client for this server that never retries, so every failure is seen."""
        import boto3
        from botocore.config import Config

        return boto3.session.Session(
            aws_access_key_id="AKIAPOSTGRESTEST", aws_secret_access_key="any-secret", region_name="us-east-1"
        ).client(
            "kms",
            endpoint_url=self.endpoint,
            config=Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=60, max_pool_connections=32),
        )

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, in-flight requests and transactions cut off where they are."""
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def data_dir_with_key(parent: Path, name: str, master_key: Path) -> Path:
    """A server's own data directory holding a copy of the shared master key (mode 0600)."""
    directory = parent / name
    directory.mkdir()
    shutil.copyfile(master_key, directory / "master.key")
    (directory / "master.key").chmod(0o600)
    return directory


def serve_cli(url: str, data_dir: Path, log: Path, *extra: str) -> ServerProcess:
    """``policyengine serve --store URL`` in test mode on a free port (not yet waited for)."""
    command = [sys.executable, "-m", "policyengine", "serve", "--store", url, "--data", str(data_dir), "--port", "0"]
    return ServerProcess([*command, "--test-mode", "--quiet", *extra], log)


def serve_clocked(url: str, data_dir: Path, clock_file: Path, log: Path) -> ServerProcess:
    """A test-mode server on the store at ``url`` whose clock is real time plus the offset in ``clock_file``."""
    command = [sys.executable, "-m", "tests.postgres.servers", url, str(data_dir), str(clock_file)]
    return ServerProcess(command, log)


class FileClock:
    """Real time plus a number of seconds kept in a file (re-read when the file changes)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._seen: tuple[int, float] = (-1, 0.0)

    def now(self) -> float:
        stamp = self._path.stat().st_mtime_ns
        if stamp != self._seen[0]:
            self._seen = (stamp, float(self._path.read_text() or 0))
        return time.time() + self._seen[1]


def _serve_clocked(url: str, data_dir: Path, clock_file: Path) -> None:
    """The entry point of ``serve_clocked``: the server app, wired by hand to take the shared clock."""
    import logging

    import botocore.session
    import uvicorn

    from policyengine.kms import LocalKms
    from policyengine.server.app import KmsApp
    from policyengine.server.auth import Authenticator
    from policyengine.server.dispatch import Dispatcher
    from policyengine.server.identities import IdentityRegistry
    from policyengine.server.runner import bind, endpoint
    from policyengine.server.shapes import ServiceCodec
    from policyengine.server.state import KmsState
    from policyengine.store import load_or_create_master_key
    from policyengine.store.postgres import PostgresKeyStore

    def make() -> LocalKms:
        return LocalKms(PostgresKeyStore(url), load_or_create_master_key(data_dir / "master.key"), clock=FileClock(clock_file))

    def wipe(old: LocalKms) -> LocalKms:
        return old

    state = KmsState(make, describe="PostgreSQL", wipe=wipe)
    app = KmsApp(
        Dispatcher(state, ServiceCodec(botocore.session.get_session().get_service_model("kms"))),
        Authenticator(IdentityRegistry({}), test_mode=True),
        test_mode=True,
        max_body=1024 * 1024,
        threads=8,
        log_requests=False,
    )
    sock = bind("127.0.0.1", 0)
    print(f"listening on {endpoint(sock)}", flush=True)
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    config = uvicorn.Config(app, lifespan="on", access_log=False, log_config=None)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    _serve_clocked(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
