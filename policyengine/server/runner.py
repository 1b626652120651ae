"""Running the app under uvicorn: in the foreground (the CLI) or on a background thread (tests).

Why uvicorn: a small, actively maintained ASGI server whose C-accelerated HTTP parser
(httptools) and event loop (uvloop) are picked automatically when installed; it handles
keep-alive, pipelining, graceful shutdown on SIGINT/SIGTERM (stop accepting, finish in-flight
requests, then run the app's shutdown) and ``--workers`` process supervision, so none of
that is ours to maintain.

We bind the listening socket ourselves before handing it to uvicorn. That way port 0 means "a
free port" and the real port is known (and logged) before the first request, with no window in
which another process could take it.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import socket
import threading
import time
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from policyengine.server.app import KmsApp, build_app
from policyengine.server.config import ENV_VAR, ServerConfig, is_loopback
from policyengine.server.errors import StartupError

__all__ = ["BackgroundServer", "bind", "serve"]

log = logging.getLogger("policyengine.server")


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free one), shareable with worker processes.

    Raises ``StartupError`` when the address cannot be bound.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and without
    # it every response waits ~40 ms for the client's delayed ACK (BackgroundServer runs on asyncio).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise StartupError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _uvicorn_config(app: Any, config: ServerConfig, **extra: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        lifespan="on",
        access_log=False,  # the app logs its own line per request
        log_config=None,  # leave logging to the CLI or the test runner
        server_header=False,
        # The source address is the TCP peer: uvicorn would otherwise believe X-Forwarded-For from
        # loopback, and any local client could claim any aws:SourceIp. Trusted proxies are the
        # app's own, explicit setting (ServerConfig.trust_proxy).
        proxy_headers=False,
        timeout_graceful_shutdown=30,
        **extra,
    )


def endpoint(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def serve(config: ServerConfig) -> None:
    """Run until SIGINT/SIGTERM (graceful: in-flight requests finish, the store is closed).

    Raises a ``PolicyEngineError`` before listening when the identities file, the store or the
    address cannot be used (``IdentitiesError``, ``StoreError``, ``StartupError``).
    """
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    if config.workers == 1:
        app = build_app(config)
        sock = bind(config.host, config.port)
        _announce(config, sock, app.state.describe, len(app.registry))
        server = uvicorn.Server(_uvicorn_config(app, config))
        server.run(sockets=[sock])
        return
    # Open everything the workers will open, here first, so a bad file is one clear line.
    probe = build_app(config)
    probe.close()
    sock = bind(config.host, config.port)
    os.environ[ENV_VAR] = config.to_env()
    _announce(config, sock, probe.state.describe, len(probe.registry))
    uv_config = _uvicorn_config("policyengine.server.app:app_from_environment", config, factory=True, workers=config.workers)
    supervisor: Any = Multiprocess
    if "target" in inspect.signature(Multiprocess).parameters:  # uvicorn before 0.51 took the worker's target
        supervisor(uv_config, target=uvicorn.Server(uv_config).run, sockets=[sock]).run()
    else:
        supervisor(uv_config, sockets=[sock]).run()


def _announce(config: ServerConfig, sock: socket.socket, store: str, identities: int) -> None:
    if config.test_mode and not is_loopback(config.host):
        for line in remote_test_mode_banner(endpoint(sock)):
            log.warning("%s", line)
    mode = ", TEST MODE: any credentials act as the root of account 123456789012" if config.test_mode else ""
    log.info(
        "policyengine serve: listening on %s (store: %s; %d identities; %d worker(s)%s)",
        endpoint(sock),
        store,
        identities,
        config.workers,
        mode,
    )


def remote_test_mode_banner(where: str) -> list[str]:
    """The warning ``serve --test-mode --allow-remote-test-mode`` prints when it listens beyond loopback."""
    rule = "!" * 78
    return [
        rule,
        f"WARNING: TEST MODE on {where}, reachable from other machines (--allow-remote-test-mode).",
        "Any credentials act as the root of account 123456789012, and POST /_reset wipes every key.",
        "Never point it at data you care about; stop it when the test run ends.",
        rule,
    ]


class BackgroundServer:
    """The server on a daemon thread of this process, for test suites.

    ::

        with BackgroundServer(ServerConfig(port=0, test_mode=True)) as server:
            boto3.client("kms", endpoint_url=server.endpoint_url, ...)
    """

    def __init__(self, config: ServerConfig, *, app: KmsApp | None = None) -> None:
        self.config = config
        self.app = app or build_app(config)
        self._sock = bind(config.host, config.port)
        self.endpoint_url = endpoint(self._sock)
        self._server = uvicorn.Server(_uvicorn_config(self.app, config))
        self._thread = threading.Thread(target=self._run, name="policyengine-kms-server", daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self._sock]))
        except BaseException as error:  # reported by start(); a server thread must not die silently
            self._error = error

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        """Start serving; return once the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"the KMS server did not start: {self._error!r}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the KMS server did not start within {timeout} s")
            time.sleep(0.005)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop gracefully (in-flight requests finish) and close the store."""
        self._server.should_exit = True
        self._thread.join(timeout)
        self._sock.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
