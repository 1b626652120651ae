"""Lessons are data: each reference solution passes, each starting state does not, and problems are explained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policyengine.playground.lessons import LessonError, check_lesson, load_lessons
from policyengine.playground.workspace import Workspace

LESSONS = load_lessons()


def test_there_are_at_least_twelve_lessons_in_order() -> None:
    assert len(LESSONS) >= 12
    assert [lesson.order for lesson in LESSONS] == sorted(lesson.order for lesson in LESSONS)
    assert len({lesson.id for lesson in LESSONS}) == len(LESSONS)


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.id for lesson in LESSONS])
def test_reference_solution_passes(lesson: object) -> None:
    result = check_lesson(lesson, lesson.solved())  # type: ignore[attr-defined]
    assert result["passed"], result["problems"]


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.id for lesson in LESSONS])
def test_starting_state_does_not_pass_and_says_why(lesson: object) -> None:
    result = check_lesson(lesson, lesson.start())  # type: ignore[attr-defined]
    assert not result["passed"]
    assert result["problems"] and all(isinstance(p, str) and p for p in result["problems"])


def test_a_shortcut_that_breaks_a_rule_of_the_exercise_is_refused() -> None:
    """Lesson 1 forbids editing the key policy: naming AppRole there allows, but the exercise is not done."""
    lesson = next(lesson for lesson in LESSONS if lesson.id == "default-key-policy")
    data = lesson.start().to_json()
    policy = json.loads(data["policies"]["key_policy"])
    policy["Statement"].append(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:role/AppRole"},
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
    )
    data["policies"]["key_policy"] = json.dumps(policy)
    result = check_lesson(lesson, Workspace.from_json(data))
    assert not result["passed"]
    assert result["problems"] == ["the exercise asks you to leave the key policy as it was"]
    assert all(r["ok"] for r in result["results"])


def test_forbidden_notaction_is_named() -> None:
    lesson = next(lesson for lesson in LESSONS if lesson.id == "not-traps")
    problems = check_lesson(lesson, lesson.start())["problems"]
    assert any("forbids `kms:*`" in p for p in problems)
    assert any("kms:PutKeyPolicy" in p and "expected deny" in p for p in problems)


def test_own_lessons_folder_and_malformed_files(tmp_path: Path) -> None:
    source = next(iter(sorted((Path(__file__).resolve().parents[2] / "policyengine" / "playground" / "lessons").glob("*.yaml"))))
    (tmp_path / "mine.yaml").write_text(
        source.read_text(encoding="utf-8").replace("id: default-key-policy", "id: mine"), encoding="utf-8"
    )
    assert [lesson.id for lesson in load_lessons(tmp_path)] == ["mine"]
    (tmp_path / "broken.yaml").write_text(
        "id: x\ntitle: t\nidea: i\nexercise: e\nworkspace: {}\nchecks: [{expect: maybe}]\nsolution: {}\n", encoding="utf-8"
    )
    with pytest.raises(LessonError, match=r"broken.yaml: checks\[0\] needs `expect: allow` or `expect: deny`"):
        load_lessons(tmp_path)
    (tmp_path / "broken.yaml").write_text("id: x\nsurprise: 1\n", encoding="utf-8")
    with pytest.raises(LessonError, match="unknown field `surprise`"):
        load_lessons(tmp_path)
