"""docs/security.md names, for every behaviour it promises, the test that holds the code to it;
each name must be a test that exists, and every promise (a bullet of "What it protects") names one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "security.md"
_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_test_named_in_security_md_exists() -> None:
    references = _REFERENCE.findall(DOC.read_text(encoding="utf-8"))
    assert len(references) >= 40
    missing = [
        f"{file}::{name}" for file, name in references if not (ROOT / file).is_file() or name not in _tests_in(ROOT / file)
    ]
    assert missing == []


def test_every_promise_names_a_test() -> None:
    text = DOC.read_text(encoding="utf-8")
    protects = text.split("## What it protects", 1)[1].split("## What it does not protect", 1)[0]
    bullets = [b for b in re.split(r"\n\* ", protects) if b.strip() and not b.lstrip().startswith("#")]
    assert len(bullets) >= 25
    assert [b.split("\n")[0] for b in bullets if not _REFERENCE.search(b)] == []
