"""`policyengine serve` as a process: first start, durable state, clean shutdown, startup errors, workers."""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.server.conftest import IDENTITIES, write_identities

LISTENING = re.compile(r"listening on (http://\S+)")


class ServeProcess:
    """`python -m policyengine.cli.serve ...` with its announced endpoint and collected stderr."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "policyengine.cli.serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.lines: list[str] = []
        self._partial = b""  # the start of a line not yet ended, read from the pipe
        self.endpoint_url = ""

    def wait_listening(self, timeout: float = 30.0) -> str:
        """Read stderr until the server announces its endpoint."""
        assert self.process.stderr is not None
        # Read the pipe's file descriptor directly: a buffered readline() would pull every line already written
        # into Python's buffer, where select() cannot see them, and the announcement could sit there unread
        # while select() waits for bytes that never come (it made this wait time out when the server wrote its
        # seeding line and its announcement together).
        fd = self.process.stderr.fileno()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:  # end of file: the server closed its stderr, so it is exiting
                    break
                self._partial += chunk
                *complete, self._partial = self._partial.split(b"\n")
                for raw in complete:
                    line = raw.decode() + "\n"
                    self.lines.append(line)
                    found = LISTENING.search(line)
                    if found and not self.endpoint_url:
                        self.endpoint_url = found.group(1)
                if self.endpoint_url:
                    return self.endpoint_url
            elif self.process.poll() is not None:
                break
        if self._partial:  # an unended last line: keep it with the others for the callers that read ``lines``
            self.lines.append(self._partial.decode())
            self._partial = b""
        raise AssertionError(f"the server did not start: {''.join(self.lines)}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> tuple[int, str]:
        """Send ``sig``, wait for the exit, and return the exit code and the rest of stderr."""
        self.process.send_signal(sig)
        _, rest = self.process.communicate(timeout=timeout)
        return self.process.returncode, "".join(self.lines) + (self._partial + rest).decode()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate(timeout=10)

    def client(self, access_key: str = "AKIAADMIN0000EXAMPLE") -> Any:
        return boto3.session.Session(
            aws_access_key_id=access_key,
            aws_secret_access_key=str(IDENTITIES[access_key]["secret_access_key"]),
            region_name="us-east-1",
        ).client("kms", endpoint_url=self.endpoint_url, config=Config(retries={"max_attempts": 1}))


@pytest.fixture
def processes() -> Iterator[list[ServeProcess]]:
    started: list[ServeProcess] = []
    yield started
    for process in started:
        process.kill()


def _run_once(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "policyengine.cli.serve", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_first_start_durable_state_and_clean_shutdown(tmp_path: Path, processes: list[ServeProcess]) -> None:
    """The store and a 0600 master key are made on first start; SIGTERM exits 0 and keeps every acknowledged write."""
    data = tmp_path / "data"
    identities = write_identities(tmp_path)
    first = ServeProcess("--data", str(data), "--identities", str(identities))
    processes.append(first)
    first.wait_listening()
    assert stat.S_IMODE((data / "master.key").stat().st_mode) == 0o600
    kms = first.client()
    key = kms.create_key(Description="durable")["KeyMetadata"]["Arn"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"kept")["CiphertextBlob"]
    code, log = first.stop(signal.SIGTERM)
    assert code == 0, log
    assert re.search(r"POST CreateKey 200 [0-9.]+ms arn:aws:iam::111122223333:user/admin", log)
    assert "Traceback" not in log

    second = ServeProcess("--data", str(data), "--identities", str(identities))
    processes.append(second)
    second.wait_listening()
    assert second.client().decrypt(CiphertextBlob=blob)["Plaintext"] == b"kept"
    code, _ = second.stop(signal.SIGINT)
    assert code == 0


def test_unknown_credentials_are_refused_outside_test_mode(tmp_path: Path, processes: list[ServeProcess]) -> None:
    """Without --test-mode, only the identities file's access keys are accepted."""
    server = ServeProcess("--data", str(tmp_path / "data"), "--quiet")
    processes.append(server)
    server.wait_listening()
    stranger = boto3.client(
        "kms",
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="AKIASTRANGER",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}),
    )
    with pytest.raises(stranger.exceptions.ClientError) as error:
        stranger.list_keys()
    assert error.value.response["Error"]["Code"] == "UnrecognizedClientException"
    code, log = server.stop()
    assert code == 0 and "POST" not in log  # --quiet: no per-request lines


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("AKIA1: [unclosed", "is not valid YAML"),
        ("AKIA1: {principal: 'arn:aws:iam::111122223333:user/a'}", "needs `secret_access_key`"),
        ("AKIA1: {secret_access_key: s, principal: 'arn:aws:iam::111122223333:user/a', colour: red}", "unknown field `colour`"),
        (
            "AKIA1: {secret_access_key: s, principal: 'arn:aws:iam::111122223333:user/a', identity_policies: [missing.json]}",
            "missing.json",
        ),
    ],
)
def test_bad_identities_file_refuses_to_start_with_one_line(tmp_path: Path, content: str, expected: str) -> None:
    """A bad identities file stops the server before it listens: exit 1 and one clear line."""
    path = tmp_path / "identities.yaml"
    path.write_text(content, encoding="utf-8")
    path.chmod(0o600)
    result = _run_once("--port", "0", "--test-mode", "--identities", str(path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], result.stderr


def test_unreadable_identities_file(tmp_path: Path) -> None:
    """A missing identities file is one line, not a traceback."""
    result = _run_once("--port", "0", "--test-mode", "--identities", str(tmp_path / "absent.yaml"))
    assert result.returncode == 1 and result.stderr.startswith("error: cannot read identities file")


def test_port_in_use(tmp_path: Path) -> None:
    """A port that is taken is one line and exit 1."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = _run_once("--port", str(port), "--test-mode")
    assert result.returncode == 1 and result.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}")


def test_workers_share_one_store(tmp_path: Path, processes: list[ServeProcess]) -> None:
    """With --workers 2, keys created concurrently through either process are all seen by both."""
    server = ServeProcess(
        "--data", str(tmp_path / "data"), "--identities", str(write_identities(tmp_path)), "--workers", "2", "--quiet"
    )
    processes.append(server)
    server.wait_listening()
    made: list[str] = []
    errors: list[BaseException] = []

    def create(count: int) -> None:
        try:
            kms = server.client()
            for _ in range(count):
                made.append(kms.create_key()["KeyMetadata"]["Arn"])
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=create, args=(5,)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for _ in range(6):  # fresh connections, spread over both workers
        listed = {k["KeyArn"] for k in server.client().list_keys(Limit=1000)["Keys"]}
        assert listed == set(made) and len(made) == 30
    code, _ = server.stop()
    assert code == 0
