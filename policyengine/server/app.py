"""The ASGI application: read the request, authenticate and dispatch in a worker thread, answer.

Why a plain ASGI callable and no framework: the protocol has one route (``POST /``) and a
test-only one (``POST /_reset``), so routing, middleware and validation layers would only add
per-request cost. The event loop does the HTTP work; everything that computes — signature
verification, the facade's authorization and cryptography, SQLite — runs in a thread pool, so
a slow request never stalls the loop and calls are not serialised behind one lock (SQLite
itself serialises writers with its own locking, across threads and processes alike).

Every request is logged on one line: method, operation, status, milliseconds, principal.
Nothing a client sends can produce a traceback in a response: errors the protocol or the facade
name are answered in AWS's shape, and anything else is logged with its traceback and answered
``500 KMSInternalException`` with a request id to find it in the log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import botocore.session

from policyengine.kms import AccessDeniedException, OffsetClock, request_scope
from policyengine.kms.clock import moved_offset
from policyengine.server.auth import Authenticator
from policyengine.server.config import ENV_VAR, ServerConfig
from policyengine.server.denials import Denial, DenialLog
from policyengine.server.dispatch import Dispatcher
from policyengine.server.errors import WireError
from policyengine.server.identities import IdentityRegistry, load_identities
from policyengine.server.protocol import (
    CONTENT_TYPE,
    IncomingRequest,
    error_body,
    error_for,
    parse_body,
    parse_target,
    success_body,
)
from policyengine.server.proxies import TrustedProxies
from policyengine.server.shapes import ServiceCodec
from policyengine.server.state import KmsState, memory_state, postgres_state, sqlite_state

if TYPE_CHECKING:
    from policyengine.server.seed import Seed

__all__ = ["KmsApp", "app_from_environment", "build_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("policyengine.server")

_JSON_HEADERS = [(b"content-type", CONTENT_TYPE.encode())]


class _Outcome:
    """What one request ended as, for the response and the log line."""

    __slots__ = ("body", "operation", "principal", "status")

    def __init__(self, status: int, body: bytes, operation: str = "-", principal: str = "-") -> None:
        self.status = status
        self.body = body
        self.operation = operation
        self.principal = principal


class KmsApp:
    """The KMS JSON 1.1 protocol as an ASGI application."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        authenticator: Authenticator,
        *,
        test_mode: bool = False,
        max_body: int,
        threads: int,
        log_requests: bool = True,
        proxies: TrustedProxies | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.proxies = proxies or TrustedProxies(())
        self.authenticator = authenticator
        self.registry = authenticator.registry
        self.test_mode = test_mode
        self.max_body = max_body
        self.log_requests = log_requests
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="policyengine-kms")
        #: Test mode only: each refused call's explanation, for the ``local_kms`` fixture (server/denials.py).
        self.denials = DenialLog()
        #: Test mode only: the snapshot the server was started with (``--seed``), put back after every reset.
        self.seed: Seed | None = None

    @property
    def state(self) -> KmsState:
        return self.dispatcher.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def close(self) -> None:
        """Finish in-flight calls, then close the store (every acknowledged write is committed)."""
        self._executor.shutdown(wait=True)
        self.state.close()

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        method: str = scope["method"]
        outcome = await self._respond(scope, receive, request_id)
        await send(
            {
                "type": "http.response.start",
                "status": outcome.status,
                "headers": [
                    *_JSON_HEADERS,
                    (b"content-length", str(len(outcome.body)).encode()),
                    (b"x-amzn-requestid", request_id.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": outcome.body})
        if self.log_requests:
            elapsed = (time.perf_counter() - started) * 1000
            log.info("%s %s %d %.1fms %s", method, outcome.operation, outcome.status, elapsed, outcome.principal)

    async def _respond(self, scope: Scope, receive: Receive, request_id: str) -> _Outcome:
        try:
            body = await self._read_body(scope, receive)
        except WireError as error:
            return _Outcome(error.status, error_body(error.code, error.message))
        client = scope.get("client")
        request = IncomingRequest(
            method=scope["method"],
            path=scope["path"],
            raw_path=scope.get("raw_path") or scope["path"].encode(),
            query=scope.get("query_string", b""),
            headers=list(scope["headers"]),
            body=body,
            client_ip=self.proxies.source_address(client[0] if client else None, scope["headers"]),
            request_id=request_id,
        )
        if request.path == "/_reset" and self.test_mode and request.method == "POST":
            return await self._in_thread(self._reset)
        if request.path == "/_clock" and self.test_mode and request.method == "POST":
            return await self._in_thread(lambda: self._move_clock(request.body))
        return await self._in_thread(lambda: self._handle(request))

    async def _in_thread(self, work: Callable[[], _Outcome]) -> _Outcome:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)
        except RuntimeError as error:  # the pool is shut down: the server is stopping
            return _Outcome(503, error_body("ServiceUnavailableException", f"The server is shutting down: {error}"))

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        """The whole body, refusing (unread) anything above ``max_body`` bytes."""
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_body:
                raise _too_large(self.max_body)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise WireError("RequestTimeoutException", "The client disconnected before sending the whole body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _too_large(self.max_body)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _handle(self, request: IncomingRequest) -> _Outcome:
        """Authenticate, route and call the facade (in a worker thread); never raises."""
        operation: str | None = None
        principal = "-"
        region = "-"
        try:
            caller, region = self.authenticator.authenticate(request)
            principal = caller.principal
            if request.path != "/":
                raise WireError("UnknownOperationException", f"No KMS operation at path {request.path[:128]}", 404)
            if request.method != "POST":
                raise WireError("UnknownOperationException", "KMS operations are POST requests", 405)
            operation = parse_target(request.header("x-amz-target"))
            if self.test_mode:
                self._sync_clock()
            with request_scope(request.request_id):  # the audit record carries the id the client is answered with
                response = self.dispatcher.call(operation, caller, region, parse_body(request.body))
            return _Outcome(200, success_body(response), operation, principal)
        except Exception as error:  # every failure becomes an AWS-shaped answer; bugs are logged inside
            if self.test_mode and isinstance(error, AccessDeniedException):
                self.denials.add(Denial(operation or "-", principal, region, error.message, error.decision))
            status, body = error_for(error, request_id=request.request_id, operation=operation)
            return _Outcome(status, body, operation or "-", principal)

    def move_clock(self, *, days: float = 0, seconds: float = 0, to: float | None = None) -> float:
        """Test mode: move the server's clock forward (by ``days``/``seconds``, or to epoch ``to``); the new time.

        The offset is kept in the store, so every server (and ``--workers`` process) sharing it moves
        too: each brings its clock up to the store's offset before each call (``_sync_clock``).
        Scheduled work that came due (deletions, rotations, import expiry) is done by the next call
        through any of them, once."""
        clock = self.state.clock
        if not isinstance(clock, OffsetClock):
            raise WireError("UnsupportedOperationException", "The clock can be moved in test mode only")
        try:
            with self.state.store.transaction() as tx:  # read, move and write under the store's write lock
                offset = moved_offset(max(tx.clock_offset(), clock.offset), days=days, seconds=seconds, to=to)
                tx.set_clock_offset(offset)
        except ValueError as error:
            raise WireError("ValidationException", str(error)) from None
        clock.use_offset(offset)
        return clock.now()

    def _sync_clock(self) -> None:
        """Test mode on a shared store: catch up with time another server moved (one small read)."""
        clock = self.state.clock
        if self.state.shared and isinstance(clock, OffsetClock):
            clock.use_offset(self.state.store.current_clock_offset())

    def _move_clock(self, body: bytes) -> _Outcome:
        """``POST /_clock`` with ``{"advance_days": d}``, ``{"advance_seconds": s}`` or ``{"now": epoch}``."""
        try:
            request = parse_body(body)
            numbers = {k: v for k, v in request.items() if k in ("advance_days", "advance_seconds", "now")}
            if (
                not numbers
                or len(numbers) != len(request)
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers.values())
            ):
                raise WireError(
                    "ValidationException", 'POST /_clock takes {"advance_days": n}, {"advance_seconds": n} or {"now": epoch}'
                )
            now = self.move_clock(
                days=float(numbers.get("advance_days", 0)),
                seconds=float(numbers.get("advance_seconds", 0)),
                to=numbers.get("now"),
            )
        except WireError as error:
            return _Outcome(error.status, error_body(error.code, error.message), "_clock")
        return _Outcome(200, json.dumps({"now": now}).encode(), "_clock")

    def reset(self) -> None:
        """Test mode: wipe every key, identity added at run time, organization and denial; then put the
        ``--seed`` snapshot back, so each test starts from it."""
        self.state.reset()
        self.state.organization.clear()
        self.registry.reset()
        self.denials.clear()
        if self.seed is not None:
            self.seed.apply(self)

    def _reset(self) -> _Outcome:
        try:
            self.reset()
        except Exception as error:
            status, body = error_for(error, request_id="reset", operation="_reset")
            return _Outcome(status, body, "_reset")
        return _Outcome(200, b"{}", "_reset")


def _too_large(limit: int) -> WireError:
    return WireError("RequestEntityTooLargeException", f"The request body is larger than {limit} bytes", 413)


def build_app(config: ServerConfig, *, registry: IdentityRegistry | None = None) -> KmsApp:
    """The app for ``config``: reads the identities file and opens the store (raising if either fails)."""
    if registry is None:
        registry = IdentityRegistry(load_identities(config.identities) if config.identities is not None else {})
    clock = OffsetClock() if config.test_mode else None  # test mode can move time (POST /_clock)
    if config.store is not None:
        assert config.data_dir is not None  # ServerConfig requires one for the master key
        state = postgres_state(config.store, config.data_dir, connections=config.threads + 1, clock=clock)
    elif config.data_dir is not None:
        state = sqlite_state(config.data_dir, clock=clock)
    else:
        state = memory_state(clock)
    model = botocore.session.get_session().get_service_model("kms")
    app = KmsApp(
        Dispatcher(state, ServiceCodec(model)),
        Authenticator(registry, test_mode=config.test_mode),
        test_mode=config.test_mode,
        max_body=config.max_body,
        threads=config.threads,
        log_requests=config.log_requests,
        proxies=TrustedProxies(config.trust_proxy),
    )
    if config.seed is not None:
        _seed(app, config.seed)
    return app


def _seed(app: KmsApp, path: Path) -> None:
    """Start from the snapshot at ``path`` (a bad snapshot stops the server with one line naming the field)."""
    from policyengine.server.seed import load_seed  # the snapshot layer only when asked for

    try:
        app.seed = load_seed(path)
        app.seed.apply(app)
    except BaseException:
        app.close()
        raise
    log.info("%s", app.seed.summary())


def app_from_environment() -> KmsApp:
    """The app of a ``--workers`` process, from the config its parent put in the environment."""
    text = os.environ.get(ENV_VAR)
    if not text:
        raise RuntimeError(f"{ENV_VAR} is not set; start workers through `policyengine serve`")
    config = ServerConfig.from_env(text)
    if not logging.getLogger().handlers:  # a spawned worker starts with no logging set up
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(message)s")
        logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    return build_app(config)
