"""The playground's web app: a plain ASGI callable serving the page and a small JSON API.

Why no framework: like the KMS server, the app has a handful of fixed routes and no state but
the lessons, so a router, middleware and validation layers would only add weight. It listens on
loopback only and guards against the two ways a web page elsewhere could reach it anyway: a
request whose ``Host`` is not loopback (DNS rebinding) and a cross-origin POST are refused.
Every answer is computed in a worker thread, so a slow 32 KB policy never stalls the loop.

Routes: ``GET /`` (the page), ``GET /static/<file>``, ``GET /api/lessons``,
``GET /api/lessons/<id>``, ``GET /api/examples``, ``GET /api/examples/<name>``,
``POST /api/answer``, ``POST /api/whatif``, ``POST /api/lessons/<id>/check``,
``POST /api/scenario`` (workspace -> scenario file) and ``POST /api/from-scenario``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from policyengine.errors import PolicyEngineError
from policyengine.playground.answer import answer
from policyengine.playground.examples import example_names, load_example
from policyengine.playground.lessons import Lesson, check_lesson, load_lessons
from policyengine.playground.scenarios import from_scenario, to_scenario
from policyengine.playground.whatif import compare
from policyengine.playground.workspace import Workspace

__all__ = ["MAX_BODY", "PlaygroundApp"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("policyengine.playground")

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: A whole workspace of 32 KB policies fits many times over; anything larger is not typing.
MAX_BODY = 4 * 1024 * 1024
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
_JSON = "application/json"
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


class HttpError(Exception):
    """An answer other than 200, with a one-line message the page shows in place."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class PlaygroundApp:
    """The ASGI application; ``lessons_dir`` adds a folder of one's own lessons."""

    def __init__(self, lessons_dir: Path | None = None, start: Workspace | None = None) -> None:
        self.lessons: dict[str, Lesson] = {lesson.id: lesson for lesson in load_lessons()}
        if lessons_dir is not None:
            self.lessons.update({lesson.id: lesson for lesson in load_lessons(lessons_dir)})
        self.start = start

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        try:
            status, content_type, body = await self._handle(scope, receive)
        except HttpError as error:
            status, content_type, body = error.status, _JSON, _json({"error": error.message})
        except Exception:  # a bug must not reach the page as a traceback; it goes to the log
            log.exception("playground request failed: %s %s", scope.get("method"), scope.get("path"))
            status, content_type, body = 500, _JSON, _json({"error": "internal error (see the server log)"})
        headers = [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
            (b"x-content-type-options", b"nosniff"),
            (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'"),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _handle(self, scope: Scope, receive: Receive) -> tuple[int, str, bytes]:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        if not host.startswith(_LOOPBACK_HOSTS):
            raise HttpError(403, "the playground answers only on a loopback address")
        method, path = scope["method"], scope["path"]
        if method == "GET":
            return self._get(path)
        if method != "POST":
            raise HttpError(405, f"{method} is not supported")
        origin = headers.get("origin")
        if origin is not None and origin.split("://", 1)[-1] != host:
            raise HttpError(403, "cross-origin requests are refused")
        body = await _read_body(receive)
        return 200, _JSON, _json(await asyncio.to_thread(self._post, path, body))

    def _get(self, path: str) -> tuple[int, str, bytes]:
        if path in ("/", "/index.html"):
            return 200, _TYPES[".html"], (STATIC_DIR / "index.html").read_bytes()
        if path.startswith("/static/"):
            name = path.removeprefix("/static/")
            file = STATIC_DIR / name
            if "/" in name or name.startswith(".") or file.suffix not in _TYPES or not file.is_file():
                raise HttpError(404, f"no such file: {name}")
            return 200, _TYPES[file.suffix], file.read_bytes()
        if path == "/api/lessons":
            return 200, _JSON, _json({"lessons": [lesson.summary() for lesson in self._ordered()]})
        if path.startswith("/api/lessons/"):
            return 200, _JSON, _json(self._lesson(path.removeprefix("/api/lessons/")).to_json())
        if path == "/api/examples":
            return 200, _JSON, _json({"examples": example_names()})
        if path.startswith("/api/examples/"):
            try:
                workspace = load_example(path.removeprefix("/api/examples/"))
            except KeyError:
                raise HttpError(404, "no such example") from None
            return 200, _JSON, _json(workspace.to_json())
        if path == "/api/start":
            start = self.start or load_example("default")
            return 200, _JSON, _json(start.to_json())
        raise HttpError(404, f"no such page: {path}")

    def _ordered(self) -> list[Lesson]:
        return sorted(self.lessons.values(), key=lambda lesson: (lesson.order, lesson.id))

    def _lesson(self, lesson_id: str) -> Lesson:
        lesson = self.lessons.get(lesson_id)
        if lesson is None:
            raise HttpError(404, f"no lesson `{lesson_id}`")
        return lesson

    def _post(self, path: str, body: Any) -> Any:
        try:
            if path == "/api/answer":
                return answer(Workspace.from_json(_field(body, "workspace")))
            if path == "/api/whatif":
                rows = _field(body, "rows")
                if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                    raise HttpError(400, "rows: must be a list of request objects")
                before = Workspace.from_json(_field(body, "before"))
                after = Workspace.from_json(_field(body, "after"))
                return compare(before, after, rows)
            if path.startswith("/api/lessons/") and path.endswith("/check"):
                lesson = self._lesson(path.removeprefix("/api/lessons/").removesuffix("/check"))
                return check_lesson(lesson, Workspace.from_json(_field(body, "workspace")))
            if path == "/api/scenario":
                return to_scenario(Workspace.from_json(_field(body, "workspace")))
            if path == "/api/from-scenario":
                return from_scenario(_field(body, "scenario")).to_json()
        except (PolicyEngineError, ValueError) as error:
            raise HttpError(400, str(error)) from None
        raise HttpError(404, f"no such action: {path}")


def _field(body: Any, name: str) -> Any:
    if not isinstance(body, dict) or name not in body:
        raise HttpError(400, f"the request body needs `{name}`")
    return body[name]


async def _read_body(receive: Receive) -> Any:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise HttpError(413, f"the request is larger than {MAX_BODY // (1024 * 1024)} MB")
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    try:
        return json.loads(b"".join(chunks) or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise HttpError(400, f"the request body is not JSON ({error})") from None


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()
