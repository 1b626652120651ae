"""Budgets, figures and shared helpers of the reliability suite (fuzzing, crashes, concurrency, secrets, limits).

Every test here is bounded: fuzz targets take their example counts from ``fuzz_settings`` (CI
defaults, or ``PE_FUZZ_EXAMPLES`` for a longer run), the crash test kills the server
``PE_CRASH_KILLS`` times (default 20). Each test adds what it did to ``FIGURES``; the counts are
printed at the end of the run and written as JSON to ``PE_RELIABILITY_FIGURES`` when that is set
(``bench/bench_reliability.py`` reads them to report the figures in ``docs/reliability.md``). The
figures live in the process that ran the tests, so they are reported only by a run in one process
(``-n 0``, as ``bench/bench_reliability.py`` runs): the suite's default ``-n auto`` keeps them in its workers.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from hypothesis import HealthCheck, settings

from policyengine.server import BackgroundServer, ServerConfig

REGION = "us-east-1"
#: The account test mode gives to credentials no identity claims.
TEST_ACCOUNT = "123456789012"

_lock = threading.Lock()
FIGURES: Counter[str] = Counter()


def count(name: str, amount: int = 1) -> None:
    """Add ``amount`` to the figure ``name`` (thread-safe)."""
    with _lock:
        FIGURES[name] += amount


def fuzz_examples(default: int) -> int:
    """The example budget of one fuzz target: ``PE_FUZZ_EXAMPLES`` when set, else the CI default."""
    configured = os.environ.get("PE_FUZZ_EXAMPLES", "").strip()
    return int(configured) if configured else default


def fuzz_settings(default: int) -> settings:
    """Hypothesis settings for a fuzz target: a bounded budget, no deadline, reproducible in CI."""
    return settings(
        max_examples=fuzz_examples(default),
        deadline=None,
        derandomize=bool(os.environ.get("CI")),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
        print_blob=True,
    )


def crash_kills() -> int:
    """How many times the crash test kills the server (``PE_CRASH_KILLS``, default 20)."""
    return int(os.environ.get("PE_CRASH_KILLS", "").strip() or 20)


def kms_client(endpoint_url: str, access_key: str = "AKIATESTMODE0000", secret: str = "any-secret") -> Any:
    """A boto3 KMS client for a test-mode server: one attempt per call, so one call is one request."""
    return boto3.session.Session(aws_access_key_id=access_key, aws_secret_access_key=secret, region_name=REGION).client(
        "kms",
        endpoint_url=endpoint_url,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30),
    )


def signed_send(kms: Any, operation: str, body: bytes) -> tuple[int, bytes]:
    """POST ``body`` to ``operation``, signed by ``kms``'s credentials and sent by its HTTP stack, unvalidated.

    boto3 checks parameters before sending; this skips those checks, so the server's own
    validation (and its answer to bodies no SDK would send) is what a test sees.
    """
    request = AWSRequest(
        method="POST",
        url=kms.meta.endpoint_url + "/",
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"TrentService.{operation}"},
    )
    SigV4Auth(kms._request_signer._credentials, "kms", REGION).add_auth(request)
    response = kms._endpoint.http_session.send(request.prepare())
    return int(response.status_code), bytes(response.content)


def background_server(config: ServerConfig) -> BackgroundServer:
    """A ``BackgroundServer`` (not started) whose connections send each response at once.

    ``runner.bind`` makes its socket with protocol 0, so asyncio never sets TCP_NODELAY on the
    connections it accepts and every response waits ~40 ms for the client's delayed ACK
    (``test_transport.py`` shows it). Setting the option on the listening socket, which Linux
    copies to accepted ones, keeps this suite's budget honest until that is fixed.
    """
    server = BackgroundServer(config)
    server._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return server


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the figures of this run, and write them to ``PE_RELIABILITY_FIGURES`` when set."""
    if not FIGURES:
        return
    target = os.environ.get("PE_RELIABILITY_FIGURES")
    if target:
        Path(target).write_text(json.dumps(dict(sorted(FIGURES.items())), indent=2) + "\n", encoding="utf-8")
    if terminalreporter.verbosity < 0:
        return  # quiet runs (the README's) keep pytest's own closing line last; -v or PE_RELIABILITY_FIGURES shows them
    terminalreporter.write_sep("-", "reliability figures")
    for name in sorted(FIGURES):
        terminalreporter.write_line(f"{name}: {FIGURES[name]}")


@pytest.fixture(scope="session")
def figures() -> Counter[str]:
    """The run's figures (tests add to them through ``count``)."""
    return FIGURES
