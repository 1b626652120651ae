"""The local KMS the server serves: one store, a facade view per region, and a way to wipe it.

State is kept per (account, region) as AWS keeps it: the account is the caller's, and the
region picks a view of the same store (``LocalKms.for_region``) whose ARNs name that region.
Views are made once per region and reused, so the facade's caches (compiled key policies,
scheduled work) are shared by every request in that region.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import cast

from policyengine.kms import Clock, LocalKms, open_local_kms
from policyengine.kms.organization import Organization
from policyengine.server.errors import StartupError
from policyengine.store import KeyStore, MemoryKeyStore, load_or_create_master_key

__all__ = ["KmsState", "memory_state", "postgres_state", "sqlite_state", "warn_if_open"]

log = logging.getLogger("policyengine.server")
#: The files of a data directory that hold state (the master key file refuses to be open on its own).
_STATE_FILES = ("kms.sqlite3", "kms.sqlite3-wal", "kms.sqlite3-shm")


def warn_if_open(directory: Path) -> list[str]:
    """Log (and return) a warning for a data directory, or a state file in it, that group or others
    can use: they hold key policies, grants and their tokens, encryption contexts and the audit
    trail. New directories are made 0700 and new files 0600; existing ones are left as they are."""
    warnings: list[str] = []
    for path in (directory, *(directory / name for name in _STATE_FILES)):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue
        if mode & 0o077:
            fix = "700" if path == directory else "600"
            warnings.append(
                f"`{path}` is open to group or others (mode {mode:04o}): run `chmod {fix}` on it; "
                "it holds key policies, grants, encryption contexts and the audit trail"
            )
    for warning in warnings:
        log.warning("warning: %s", warning)
    return warnings


class KmsState:
    """Holds the current ``LocalKms`` and its region views; ``reset`` wipes every key."""

    def __init__(
        self, make: Callable[[], LocalKms], *, describe: str, wipe: Callable[[LocalKms], LocalKms], shared: bool = True
    ) -> None:
        self._make = make
        #: Whether other processes may use the same store (SQLite file, PostgreSQL): then they share test mode's clock.
        self.shared = shared
        self._wipe = wipe
        self._kms = make()
        self._views: dict[str, LocalKms] = {}
        self._lock = threading.Lock()
        self.describe = describe

    def view(self, region: str) -> LocalKms:
        """The facade for ``region`` (made on first use)."""
        views = self._views
        view = views.get(region)
        if view is None:
            with self._lock:
                view = self._views.get(region)
                if view is None:
                    view = cast(LocalKms, self._kms.for_region(region))
                    self._views = {**self._views, region: view}
        return view

    def reset(self) -> None:
        """Wipe every key, alias, grant and import in every account and region."""
        with self._lock:
            self._kms = self._wipe(self._kms)
            self._views = {}

    @property
    def organization(self) -> Organization:
        """The organization facts every region's view shares (a seeded snapshot's)."""
        return self._kms.organization

    @property
    def store(self) -> KeyStore:
        return self._kms.store

    @property
    def clock(self) -> Clock:
        """The clock every region's view shares."""
        return self._kms.clock

    def close(self) -> None:
        self._kms.store.close()


def memory_state(clock: Clock | None = None) -> KmsState:
    """State that lives as long as the process: for test suites (reset makes a fresh store)."""

    def make() -> LocalKms:
        return LocalKms(MemoryKeyStore(), os.urandom(32), clock=clock)

    def wipe(old: LocalKms) -> LocalKms:
        old.store.close()
        return make()

    return KmsState(make, describe="in memory", wipe=wipe, shared=False)


def sqlite_state(data_dir: str | Path, clock: Clock | None = None) -> KmsState:
    """The durable store under ``data_dir`` (SQLite and its 0600 master key, made on first start).

    Reset deletes every key through the store's own transactions (which cascade to material,
    aliases, grants and import parameters) rather than deleting the file, so other processes
    sharing the file keep working; the audit log is kept.
    """
    directory = Path(data_dir)
    warn_if_open(directory)

    def make() -> LocalKms:
        try:
            return open_local_kms(directory, clock=clock)
        except OSError as error:
            raise StartupError(f"cannot use data directory `{directory}`: {error.strerror or error}") from None

    return KmsState(make, describe=f"SQLite in {directory}", wipe=_delete_every_key)


def postgres_state(url: str, data_dir: str | Path, *, connections: int = 16, clock: Clock | None = None) -> KmsState:
    """State in the PostgreSQL database at ``url``, shared by every server given the same URL.

    The master key stays in this server's ``data_dir`` (``master.key``, made on first start):
    material reaches PostgreSQL sealed. Every server sharing the database needs a copy of the
    same key file; the store refuses a different one. Reset deletes every key, as for SQLite.
    """
    from policyengine.store.postgres import PostgresKeyStore, describe_url  # psycopg only when asked for

    directory = Path(data_dir)
    warn_if_open(directory)

    def make() -> LocalKms:
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as error:
            raise StartupError(f"cannot use data directory `{directory}`: {error.strerror or error}") from None
        master_key = load_or_create_master_key(directory / "master.key")
        store = PostgresKeyStore(url, max_connections=connections)
        try:
            store.check_master_key(master_key)
        except BaseException:
            store.close()
            raise
        return LocalKms(store, master_key, clock=clock)

    return KmsState(make, describe=f"PostgreSQL at {describe_url(url)}", wipe=_delete_every_key)


def _delete_every_key(old: LocalKms) -> LocalKms:
    """Delete every key through the store's own transactions (cascading to what hangs off them),
    so other processes sharing the store keep working; the audit log is kept."""
    with old.store.transaction() as tx:
        for key in tx.all_keys():
            tx.delete_key(key.key_id)
    old.wake_scheduler()
    return old
