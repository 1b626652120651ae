"""The playground's HTTP API on a real uvicorn server: routes, answers, loopback and origin guards, bad input."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from policyengine.playground.examples import load_example
from policyengine.playground.lessons import load_lessons


def call(url: str, body: Any = None, headers: dict[str, str] | None = None, raw: bytes | None = None) -> tuple[int, Any]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = response.read()
            kind = response.headers["content-type"]
            return response.status, json.loads(payload) if kind == "application/json" else payload.decode()
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_page_and_static_files(playground_url: str) -> None:
    status, page = call(playground_url + "/")
    assert status == 200 and "policyengine playground" in page and "/static/playground.js" in page
    for name in ("playground.js", "playground.css"):
        assert call(f"{playground_url}/static/{name}")[0] == 200
    assert call(f"{playground_url}/static/..%2Fapp.py")[0] == 404
    assert call(f"{playground_url}/static/missing.js") == (404, {"error": "no such file: missing.js"})


def test_answer_endpoint_is_the_engine(playground_url: str) -> None:
    workspace = load_example("scenario/no-tls-denied").to_json()
    status, result = call(playground_url + "/api/answer", {"workspace": workspace})
    assert status == 200
    assert result["decision"]["decision"] == "explicit_deny"
    assert result["suggestions"]


def test_lessons_api(playground_url: str) -> None:
    status, listing = call(playground_url + "/api/lessons")
    assert status == 200 and len(listing["lessons"]) == len(load_lessons())
    first = listing["lessons"][0]["id"]
    status, lesson = call(f"{playground_url}/api/lessons/{first}")
    assert status == 200 and lesson["exercise"] and lesson["workspace"]["policies"]["key_policy"]
    status, verdict = call(f"{playground_url}/api/lessons/{first}/check", {"workspace": lesson["workspace"]})
    assert status == 200 and verdict["passed"] is False and verdict["problems"]
    assert call(f"{playground_url}/api/lessons/nope")[0] == 404


def test_examples_start_and_scenarios(playground_url: str) -> None:
    status, names = call(playground_url + "/api/examples")
    assert status == 200 and names["examples"][0] == "default"
    status, start = call(playground_url + "/api/start")
    assert status == 200 and start["request"]["action"] == "kms:Decrypt"
    status, scenario = call(playground_url + "/api/scenario", {"workspace": start})
    assert status == 200 and scenario["request"]["principal"] == start["request"]["principal"]
    status, back = call(playground_url + "/api/from-scenario", {"scenario": scenario})
    assert status == 200 and json.loads(back["policies"]["key_policy"]) == json.loads(start["policies"]["key_policy"])
    start["policies"]["key_policy"] = "{oops"
    status, error = call(playground_url + "/api/scenario", {"workspace": start})
    assert status == 400 and error["error"].startswith("key_policy:1:2: not valid JSON")


@pytest.mark.parametrize(
    "path, body, headers, status, message",
    [
        ("/api/answer", None, {"Host": "attacker.example:4600"}, 403, "only on a loopback address"),
        ("/api/answer", {}, {"Origin": "http://attacker.example"}, 403, "cross-origin"),
        ("/api/answer", {}, {}, 400, "needs `workspace`"),
        ("/api/answer", {"workspace": {"policies": {"key_policy": 1}}}, {}, 400, "must be the policy's text"),
        ("/api/whatif", {"before": {}, "after": {}, "rows": "x"}, {}, 400, "rows: must be a list"),
        ("/api/nothing", {}, {}, 404, "no such action"),
        ("/api/nothing", None, {}, 404, "no such page"),
    ],
)
def test_refusals_are_one_clear_line(
    playground_url: str, path: str, body: Any, headers: dict[str, str], status: int, message: str
) -> None:
    got_status, got = call(playground_url + path, body, headers)
    assert got_status == status and message in got["error"]


def test_body_that_is_not_json_or_too_large(playground_url: str) -> None:
    status, error = call(playground_url + "/api/answer", raw=b"\xff\xfe")
    assert status == 400 and error["error"].startswith("the request body is not JSON")
    status, error = call(playground_url + "/api/answer", raw=b"not json")
    assert status == 400 and error["error"].startswith("the request body is not JSON")
    status, error = call(playground_url + "/api/answer", raw=b" " * (5 * 1024 * 1024))
    assert status == 413 and "larger than 4 MB" in error["error"]
