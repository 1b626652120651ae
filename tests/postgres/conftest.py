"""A throwaway PostgreSQL cluster for the session, and stores and local KMSes on fresh databases in it.

Why a cluster of our own: the tests must run against a real PostgreSQL (its locks, isolation
levels and error codes are what the store relies on), without touching any server the machine
may already run. ``cluster.py`` makes one in a temporary directory on a free loopback port (as
the ``postgres`` user when we are root), once per session, and stops and deletes it at the end.

Every test gets a database of its own, cloned from a template that already has the schema, so
tests never see each other's keys or audit sequence numbers. The only reason these tests skip is
that the PostgreSQL binaries are not installed (``.ci/run`` installs Debian's ``postgresql``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from policyengine.kms import LocalKms, ManualClock
from policyengine.store.postgres import PostgresKeyStore, upgrade
from tests.kms.conftest import alice, bob, clock, key_id, root  # noqa: F401  (the KMS suite's fixtures, reused)
from tests.postgres.cluster import Cluster, find_bindir, start_cluster

REPO = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """The session's PostgreSQL server (skips every PostgreSQL test when the binaries are not installed)."""
    bindir = find_bindir()
    if bindir is None:
        message = "PostgreSQL is not installed (no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; .ci/run installs it, so CI must not skip these tests")
        pytest.skip(message)
    cluster = start_cluster(bindir, durable=False)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_template(pg_cluster: Cluster) -> str:
    """The name of a database with the current schema, which per-test databases are copied from."""
    url = pg_cluster.create_database()
    upgrade(url)
    return url.rsplit("/", 1)[1]


@pytest.fixture
def pg_url(pg_cluster: Cluster, pg_template: str) -> str:
    """A fresh database with the schema, for this test only."""
    return pg_cluster.create_database(pg_template)


@pytest.fixture
def empty_pg_url(pg_cluster: Cluster) -> str:
    """A fresh database without any schema."""
    return pg_cluster.create_database()


@pytest.fixture
def store(pg_url: str) -> Iterator[PostgresKeyStore]:
    """The store protocol tests' ``store``: a PostgreSQL store on a fresh database."""
    made = PostgresKeyStore(pg_url)
    yield made
    made.close()


@pytest.fixture
def kms(pg_url: str) -> Iterator[LocalKms]:
    """The KMS suite's ``kms``: a local KMS on a PostgreSQL store, with a clock that only moves when told."""
    made = PostgresKeyStore(pg_url)
    service = LocalKms(made, os.urandom(32), clock=ManualClock())
    yield service
    made.close()
