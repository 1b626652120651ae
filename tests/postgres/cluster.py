"""A throwaway PostgreSQL server in a temporary directory (for the tests and ``bench/bench_postgres.py``).

``initdb`` makes the cluster, ``pg_ctl`` starts it on a free loopback port with its Unix socket in
the same directory and trust authentication, and ``stop`` removes everything. PostgreSQL refuses
to run as root, so as root the cluster belongs to the ``postgres`` user (which Debian's package
creates) and the directory is handed over to it. Nothing here touches a server the machine may
already run.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

_names = itertools.count(1)


def find_bindir() -> Path | None:
    """The directory of ``initdb`` and ``pg_ctl``: on PATH, or Debian's newest /usr/lib/postgresql/N/bin."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent
    versions = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb") if p.parent.parent.name.isdigit()]
    return max(versions, key=lambda b: int(b.parent.name), default=None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    """A running PostgreSQL server: where it listens, how to make databases in it, how to stop it."""

    bindir: Path
    directory: Path
    port: int
    owner: str | None
    user: str = "postgres"
    host: str = "127.0.0.1"

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.url("postgres"), autocommit=True)

    def create_database(self, template: str | None = None) -> str:
        """A new database (empty, or a copy of ``template``); its URL."""
        name = f"t{os.getpid()}_{next(_names)}"
        clause = f" TEMPLATE {template} STRATEGY FILE_COPY" if template else ""
        with self.admin() as conn:
            conn.execute(f"CREATE DATABASE {name}{clause}".encode())
        return self.url(name)

    def postmaster_pid(self) -> int:
        return int((self.directory / "data" / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        command = [str(self.bindir / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "-w", "stop"]
        subprocess.run(_as_owner(command, self.owner), capture_output=True)
        shutil.rmtree(self.directory, ignore_errors=True)


def _memory_backed_parent() -> str | None:
    """``/dev/shm`` when it is a writable memory file system with room, else None (the usual temporary directory).

    A test cluster makes a database per test (about 8 MB each, over a gigabyte in a full run). On this
    machine's ext4 mounted with ``discard`` removing those files at the end took 113 s of CI's time;
    in memory it takes well under a second. A durable cluster (the benchmark's) stays on disk.
    """
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK | os.X_OK):
        return None
    stats = os.statvfs(shm)
    return str(shm) if stats.f_bavail * stats.f_frsize >= 4 * 2**30 else None


def _as_owner(command: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *command] if owner else command


def start_cluster(bindir: Path, *, durable: bool) -> Cluster:
    """initdb and start a cluster. ``durable=False`` turns fsync off: right for tests, wrong for a benchmark."""
    owner: str | None = None
    directory = Path(tempfile.mkdtemp(prefix="policyengine-pg-", dir=None if durable else _memory_backed_parent()))
    if os.geteuid() == 0:  # postgres will not run as root
        owner = "postgres"
        entry = pwd.getpwnam(owner)
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    settings = [
        "-c listen_addresses=127.0.0.1",
        f"-c unix_socket_directories={directory}",
        "-c max_connections=300",
        "-c shared_buffers=128MB",
        "-c deadlock_timeout=100ms",  # deadlocks (which the facade retries) are found sooner
    ]
    if not durable:
        settings += ["-c fsync=off", "-c full_page_writes=off"]
    try:
        initdb = [str(bindir / "initdb"), "-D", str(directory / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        subprocess.run(_as_owner([*initdb, *([] if durable else ["--no-sync"])], owner), check=True, capture_output=True)
        last = ""
        for _ in range(3):  # a port taken between choosing and binding it: choose again
            port = _free_port()
            log = directory / "server.log"
            command = [str(bindir / "pg_ctl"), "-D", str(directory / "data"), "-l", str(log), "-w", "-t", "60"]
            started = subprocess.run(
                _as_owner([*command, "-o", " ".join([f"-c port={port}", *settings]), "start"], owner),
                capture_output=True,
                text=True,
            )
            if started.returncode == 0:
                return Cluster(bindir, directory, port, owner)
            last = started.stderr + (log.read_text(errors="replace")[-2000:] if log.exists() else "")
            time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL did not start: {last}")
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
