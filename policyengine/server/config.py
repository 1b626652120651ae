"""How a server is set up: address, store, identities, test mode, processes and threads.

One frozen value carries every setting from the CLI (or a test) to the app factory. It also
travels through an environment variable to ``--workers`` processes, which uvicorn starts fresh
(spawned, not forked) and which therefore cannot be handed Python objects.
"""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = [
    "ENV_VAR",
    "MAX_BODY_BYTES",
    "STORE_ENV_VAR",
    "ServerConfig",
    "default_data_dir",
    "is_loopback",
    "is_store_url",
]

#: The environment variable carrying a ``ServerConfig`` to worker processes.
ENV_VAR = "POLICYENGINE_SERVER_CONFIG"
#: The environment variable ``serve --store`` falls back to (a ``postgresql://`` URL).
STORE_ENV_VAR = "POLICYENGINE_STORE"
#: Request bodies above this size are refused unread (KMS's largest request is far smaller).
MAX_BODY_BYTES = 1024 * 1024


def _default_threads() -> int:
    return min(32, (os.cpu_count() or 1) + 4)


def is_store_url(location: str) -> bool:
    """Whether ``location`` names a PostgreSQL store."""
    return location.startswith(("postgresql://", "postgres://"))


def is_loopback(host: str) -> bool:
    """Whether listening on ``host`` reaches this machine only (``localhost`` or a loopback address)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name could resolve to any interface


@dataclass(frozen=True)
class ServerConfig:
    """Every setting of one server. ``data_dir=None`` keeps state in memory (test mode only).

    ``store`` (a ``postgresql://`` URL) keeps the state in PostgreSQL, shared with every server
    given the same URL; ``data_dir`` then holds only this server's copy of the master key.

    ``trust_proxy`` lists the networks (CIDR) of reverse proxies whose ``X-Forwarded-For`` names
    the client; without it the source address (``aws:SourceIp``, the audit record's
    ``sourceIPAddress``) is the TCP peer and the header is ignored. Test mode listens only on a
    loopback address unless ``allow_remote_test_mode`` says otherwise.
    """

    host: str = "127.0.0.1"
    port: int = 4599
    data_dir: Path | None = None
    store: str | None = None
    identities: Path | None = None
    test_mode: bool = False
    workers: int = 1
    threads: int = field(default_factory=_default_threads)
    max_body: int = MAX_BODY_BYTES
    log_requests: bool = True
    trust_proxy: tuple[str, ...] = ()
    allow_remote_test_mode: bool = False
    seed: Path | None = None  # test mode: an account snapshot whose keys and principals the server starts with

    def __post_init__(self) -> None:
        object.__setattr__(self, "trust_proxy", tuple(self.trust_proxy))
        for network in self.trust_proxy:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"--trust-proxy takes a network such as 10.0.0.0/8 or 127.0.0.1, not `{network}`") from None
        if self.test_mode and not is_loopback(self.host) and not self.allow_remote_test_mode:
            raise ValueError(
                f"test mode accepts any credentials and lets anyone wipe the store: it listens on a loopback address, "
                f"not {self.host}, unless --allow-remote-test-mode is given"
            )
        if self.seed is not None and not self.test_mode:
            raise ValueError("--seed is for test mode: it adds identities that sign with a known secret")
        if self.store is not None and not is_store_url(self.store):
            raise ValueError("a store is named by a postgresql:// URL")
        if self.store is not None and self.data_dir is None:
            raise ValueError("a PostgreSQL store needs a data directory for the master key")
        if self.data_dir is None and not self.test_mode:
            raise ValueError("a server outside test mode needs a data directory")
        if self.workers < 1 or self.threads < 1:
            raise ValueError("workers and threads must be at least 1")
        if self.workers > 1 and self.data_dir is None:
            raise ValueError("several workers need a shared store: give a data directory")

    def to_env(self) -> str:
        data = asdict(self)
        data["data_dir"] = None if self.data_dir is None else str(self.data_dir)
        data["identities"] = None if self.identities is None else str(self.identities)
        data["seed"] = None if self.seed is None else str(self.seed)
        return json.dumps(data)

    @classmethod
    def from_env(cls, text: str) -> ServerConfig:
        data = json.loads(text)
        for name in ("data_dir", "identities", "seed"):
            if data.get(name) is not None:
                data[name] = Path(data[name])
        return cls(**data)


def default_data_dir() -> Path:
    """The user's data directory for policyengine (``$XDG_DATA_HOME/policyengine`` or its default)."""
    base = os.environ.get("XDG_DATA_HOME")
    if base and Path(base).is_absolute():
        return Path(base) / "policyengine"
    return Path.home() / ".local" / "share" / "policyengine"
