"""docs/lint-config.md documents every configuration key with an example that the linter accepts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policyengine.lint import all_rules, load_config
from policyengine.lint.config import _KEYS, ConfigError
from policyengine.lint.inputs import DEFAULT_INCLUDE
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "lint-config.md").read_text(encoding="utf-8")
TOML_BLOCKS = re.findall(r"```toml\n(.*?)```", DOC, flags=re.DOTALL)


def test_every_key_has_a_section_and_an_example() -> None:
    sections = re.findall(r"^### `([a-z-]+)`$", DOC, flags=re.MULTILINE)
    assert sorted(sections) == sorted(_KEYS) and len(sections) == len(_KEYS)
    for key in _KEYS:
        pattern = re.compile(rf"^(?:{re.escape(key)} =|\[(?:tool\.policyengine\.)?lint\.{re.escape(key)}\])", re.MULTILINE)
        assert any(pattern.search(block) for block in TOML_BLOCKS), key


def test_default_include_is_the_documented_one() -> None:
    for glob in DEFAULT_INCLUDE:
        assert f"`{glob}`" in DOC.split("### `include`")[1].split("###")[0], glob


@pytest.mark.parametrize("block", TOML_BLOCKS, ids=[f"block{i}" for i in range(len(TOML_BLOCKS))])
def test_every_example_loads(tmp_path: Path, block: str) -> None:
    """Each example is a valid configuration (as pyproject.toml or .policyengine.toml) naming real rules."""
    name = "pyproject.toml" if "tool.policyengine" in block else ".policyengine.toml"
    if block.lstrip().startswith("[tool.policyengine.lint.") and "[tool.policyengine.lint]" not in block:
        block = "[tool.policyengine.lint]\n" + block
    path = tmp_path / name
    path.write_text(block, encoding="utf-8")
    config = load_config(tmp_path, path)
    config.check_names(all_rules())
    assert config.path == path


def test_unknown_key_lists_the_valid_ones(tmp_path: Path) -> None:
    """The message the doc shows is the message the linter gives."""
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.policyengine.lint]\nignroe = ["PE306"]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, path)
    message = str(caught.value)
    assert message == (
        f"{path}: unknown key `ignroe` in [tool.policyengine.lint] (did you mean `ignore`?); "
        "valid keys: select, ignore, per-path-ignores, fail-on, include, exclude, policy-type"
    )
    assert message.replace(f"{path}", "pyproject.toml") in DOC


def test_readme_points_to_the_configuration_and_ci_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/lint-config.md" in readme and "docs/ci.md" in readme
