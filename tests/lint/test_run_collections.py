"""``run_lint`` runs the garbage collector less often while it lints, and restores its thresholds after."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from policyengine.lint.config import LintConfig
from policyengine.lint.run import LINT_GC_THRESHOLD, run_lint

POLICY = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrpyt", "Resource": "*"}]}'


@pytest.fixture
def default_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("default_thresholds")
def test_the_threshold_is_raised_while_linting_and_restored_after(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text(POLICY)
    during: list[tuple[int, int, int]] = []
    run = run_lint([str(tmp_path)], LintConfig(), progress=lambda done, total: during.append(gc.get_threshold()))
    assert [f.rule_id for f in run.findings] == ["PE102"]
    assert during == [(LINT_GC_THRESHOLD, 10, 10)]
    assert gc.get_threshold() == (700, 10, 10)


@pytest.mark.usefixtures("default_thresholds")
def test_the_threshold_is_restored_when_the_run_fails(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text(POLICY)

    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_lint([str(tmp_path)], LintConfig(), progress=interrupt)
    assert gc.get_threshold() == (700, 10, 10)
