"""Lessons: short exercises in KMS access, each checked by the evaluator, kept as data files.

A lesson is a YAML file in ``playground/lessons/`` (so people can add their own, or point
``--lessons DIR`` at a folder of theirs): a title, the idea in a few sentences, a starting
workspace, an exercise, and the checks that decide whether the exercise is done:

- ``checks``: requests (overrides of the workspace's request) with the decision expected;
- ``unchanged``: editors whose policy must stay as it started (compared as JSON data);
- ``empty``: editors that must stay empty;
- ``forbid``: action patterns no Allow statement of an editor may list (``kms:*`` ...);
- ``no_findings``: lint rules that must not fire on the key policy.

``solution`` holds a reference answer (policies that replace the starting ones). The tests hold
every lesson to two facts: its reference solution passes, and its starting state does not.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from policyengine.errors import PolicyEngineError
from policyengine.explain.render import HEADLINES
from policyengine.playground.answer import answer
from policyengine.playground.workspace import Workspace, WorkspaceError

LESSONS_DIR = Path(__file__).resolve().parent / "lessons"
_FIELDS = {
    "id",
    "title",
    "order",
    "idea",
    "exercise",
    "workspace",
    "checks",
    "unchanged",
    "empty",
    "forbid",
    "no_findings",
    "solution",
}


class LessonError(PolicyEngineError):
    """A lesson file is malformed: the message names the file and the field."""


@dataclass(frozen=True)
class Check:
    """One request the exercise must get right."""

    request: Mapping[str, Any]
    expect: str  # "allow" | "deny"
    why: str


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    order: int
    idea: str
    exercise: str
    workspace: Mapping[str, Any]
    checks: tuple[Check, ...]
    unchanged: tuple[str, ...]
    empty: tuple[str, ...]
    forbid: Mapping[str, tuple[str, ...]]
    no_findings: tuple[str, ...]
    solution: Mapping[str, Any]
    source: str

    def start(self) -> Workspace:
        return Workspace.from_json(self.workspace)

    def solved(self) -> Workspace:
        """The starting workspace with the reference solution's policies put in."""
        data = json.loads(json.dumps(self.workspace))
        data.setdefault("policies", {}).update(self.solution.get("policies", {}))
        return Workspace.from_json(data)

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "order": self.order}

    def to_json(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "idea": self.idea,
            "exercise": self.exercise,
            "workspace": Workspace.from_json(self.workspace).to_json(),
            "checks": [{"request": dict(c.request), "expect": c.expect, "why": c.why} for c in self.checks],
        }


def _load(path: Path) -> Lesson:
    where = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise LessonError(f"{where}: cannot read the lesson ({error})") from None
    if not isinstance(data, dict):
        raise LessonError(f"{where}: a lesson is a mapping of fields")
    unknown = set(data) - _FIELDS
    if unknown:
        raise LessonError(f"{where}: unknown field `{sorted(unknown)[0]}` (expected one of {', '.join(sorted(_FIELDS))})")
    for name in ("id", "title", "idea", "exercise", "workspace", "checks", "solution"):
        if name not in data:
            raise LessonError(f"{where}: missing `{name}`")
    checks = []
    for i, item in enumerate(data["checks"]):
        if not isinstance(item, dict) or item.get("expect") not in ("allow", "deny"):
            raise LessonError(f"{where}: checks[{i}] needs `expect: allow` or `expect: deny`")
        checks.append(Check(dict(item.get("request", {})), item["expect"], str(item.get("why", ""))))
    try:
        Workspace.from_json(data["workspace"])
    except WorkspaceError as error:
        raise LessonError(f"{where}: {error}") from None
    forbid = {str(k): tuple(v) for k, v in (data.get("forbid") or {}).items()}
    return Lesson(
        id=str(data["id"]),
        title=str(data["title"]),
        order=int(data.get("order", 0)),
        idea=str(data["idea"]).strip(),
        exercise=str(data["exercise"]).strip(),
        workspace=data["workspace"],
        checks=tuple(checks),
        unchanged=tuple(data.get("unchanged", ())),
        empty=tuple(data.get("empty", ())),
        forbid=forbid,
        no_findings=tuple(data.get("no_findings", ())),
        solution=data["solution"],
        source=where,
    )


def load_lessons(directory: Path | None = None) -> list[Lesson]:
    """Every lesson in ``directory`` (default: the shipped ones), in order."""
    folder = directory or LESSONS_DIR
    lessons = [_load(path) for path in sorted(folder.glob("*.yaml"))]
    ids = [lesson.id for lesson in lessons]
    duplicated = {i for i in ids if ids.count(i) > 1}
    if duplicated:
        raise LessonError(f"{folder}: lesson id `{sorted(duplicated)[0]}` is used twice")
    return sorted(lessons, key=lambda lesson: (lesson.order, lesson.id))


def _editor_text(workspace: Workspace, editor: str) -> str:
    data = workspace.to_json()["policies"]
    name, _, index = editor.partition(".")
    value = data.get(name, "")
    if index:
        items = value if isinstance(value, list) else []
        return str(items[int(index)]["policy"]) if int(index) < len(items) else ""
    if isinstance(value, list):
        return "".join(str(item["policy"]) for item in value)
    return str(value)


def _same_json(a: str, b: str) -> bool:
    try:
        return bool(json.loads(a) == json.loads(b)) if a.strip() and b.strip() else a.strip() == b.strip()
    except json.JSONDecodeError:
        return a.strip() == b.strip()


def _allow_actions(text: str) -> list[str]:
    """Every action pattern that an Allow statement of a policy text lists (NotAction counts as all)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return []
    statements = data.get("Statement", []) if isinstance(data, dict) else []
    statements = statements if isinstance(statements, list) else [statements]
    found: list[str] = []
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement:
            found.append("*")
        actions = statement.get("Action", [])
        found.extend(actions if isinstance(actions, list) else [actions])
    return [str(a) for a in found]


def check_lesson(lesson: Lesson, workspace: Workspace) -> dict[str, Any]:
    """Is the exercise done? Every check's answer, and in words what is still wrong."""
    problems: list[str] = []
    start = lesson.start()
    for editor in lesson.unchanged:
        if not _same_json(_editor_text(workspace, editor), _editor_text(start, editor)):
            problems.append(f"the exercise asks you to leave the {editor.replace('_', ' ')} as it was")
    for editor in lesson.empty:
        if _editor_text(workspace, editor).strip():
            problems.append(f"the exercise asks you to solve it without the {editor.replace('_', ' ')}")
    for editor, patterns in lesson.forbid.items():
        listed = _allow_actions(_editor_text(workspace, editor))
        for pattern in patterns:
            hits = [a for a in listed if a.lower() == pattern.lower() or a == "*"]
            if hits:
                problems.append(f"the {editor.replace('_', ' ')} still allows `{hits[0]}`: the exercise forbids `{pattern}`")
    results = []
    for check in lesson.checks:
        result = answer(workspace.with_request(**check.request))
        decision = result["decision"]
        if decision is None:
            first = result["issues"][0] if result["issues"] else {"editor": "request", "message": "the request is incomplete"}
            got, ok = "error", False
            text = f"{first['editor']}: {first['message']}"
        else:
            got = "allow" if decision["allowed"] else "deny"
            ok = got == check.expect
            text = f"{HEADLINES[decision['decision']]}: {decision['reason_text']}"
        results.append(
            {"request": dict(check.request), "expect": check.expect, "got": got, "ok": ok, "why": check.why, "explanation": text}
        )
        if not ok:
            what = ", ".join(f"{k}={v}" for k, v in check.request.items()) or "the request"
            problems.append(f"{what}: expected {check.expect}, got {text}")
    if lesson.no_findings:
        findings = answer(workspace)["findings"]
        for finding in findings:
            if finding["rule"] in lesson.no_findings and finding["editor"] == "key_policy":
                problems.append(f"the key policy still has lint finding {finding['rule']}: {finding['message']}")
    return {"lesson": lesson.id, "passed": not problems, "problems": problems, "results": results}
