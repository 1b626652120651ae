"""The playground's per-editor cache: unchanged editors are not recomputed, and old texts are let go."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from policyengine.playground.recent import EDITORS, TEXTS_PER_EDITOR, recent_per_editor


def _counting() -> tuple[list[tuple[str, str]], Callable[..., str]]:
    calls: list[tuple[str, str]] = []

    @recent_per_editor
    def work(editor: str, text: str) -> str:
        calls.append((editor, text))
        return f"{editor}:{text}"

    return calls, work


def test_an_unchanged_editor_is_answered_from_the_cache() -> None:
    calls, work = _counting()
    assert work("key_policy", "a") == "key_policy:a"
    assert work("key_policy", "a") == "key_policy:a"
    assert calls == [("key_policy", "a")]


def test_only_the_last_few_texts_of_an_editor_are_kept() -> None:
    calls, work = _counting()
    for n in range(TEXTS_PER_EDITOR + 3):
        work("key_policy", str(n))
    calls.clear()
    work("key_policy", str(TEXTS_PER_EDITOR + 2))  # newest: still there
    assert calls == []
    work("key_policy", "0")  # oldest: let go, computed again
    assert calls == [("key_policy", "0")]


def test_typing_in_one_editor_keeps_the_others() -> None:
    calls, work = _counting()
    work("identity_policies.0", "x")
    for n in range(50):
        work("key_policy", str(n))
    calls.clear()
    work("identity_policies.0", "x")
    assert calls == []


def test_the_number_of_editors_is_bounded() -> None:
    calls, work = _counting()
    for n in range(EDITORS + 1):
        work(f"scps.{n}", "p")
    calls.clear()
    work("scps.0", "p")  # least recently used editor: dropped
    assert calls == [("scps.0", "p")]


def test_keyword_arguments_are_refused() -> None:
    _, work = _counting()
    with pytest.raises(TypeError, match="by position"):
        work("key_policy", text="a")
