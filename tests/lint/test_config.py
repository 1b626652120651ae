"""Lint configuration, suppressions and the baseline: discovery, validation, ignores, Sid markers, pre-commit hook."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from policyengine.errors import PolicyEngineError
from policyengine.lint.baseline import load_baseline, write_baseline
from policyengine.lint.config import (
    ConfigError,
    LintConfig,
    find_config,
    glob_matches,
    load_config,
    sid_ignores,
    split_sid_suppressed,
    suppressed_by_sid,
)
from policyengine.lint.finding import Finding, LintTarget
from policyengine.lint.registry import Rule
from policyengine.model.span import Span

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reporting"
PE = ".policyengine.toml"


def span_of(text: str, needle: str) -> Span:
    """The span of the first ``needle`` in ``text``, 1-based lines and columns."""
    start = text.index(needle)
    end = start + len(needle)
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return Span(line=line, column=column, end_line=line, end_column=column + len(needle), offset=start, end_offset=end)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def no_findings(target: LintTarget) -> list[Finding]:
    return []


# ---------------------------------------------------------------------------------------------
# Discovery and precedence


def test_config_is_found_upward_from_a_nested_directory(tmp_path: Path) -> None:
    """From a nested directory the nearest pyproject.toml with the lint table is used, globs relative to it."""
    write(tmp_path / "pyproject.toml", '[tool.policyengine.lint]\nignore = ["PE020"]\nfail-on = "warning"\n')
    nested = tmp_path / "infra" / "keys"
    nested.mkdir(parents=True)
    config = load_config(nested, None)
    assert config.path == tmp_path / "pyproject.toml" and config.root == tmp_path
    assert config.ignore == ("PE020",) and config.fail_on == "warning" and config.select == ("ALL",)


def test_pyproject_without_the_table_is_skipped(tmp_path: Path) -> None:
    """A pyproject.toml with no [tool.policyengine.lint] does not stop the search; no file at all means defaults."""
    write(tmp_path / ".policyengine.toml", '[lint]\nselect = ["kms"]\n')
    write(tmp_path / "app" / "pyproject.toml", '[project]\nname = "app"\n')
    assert load_config(tmp_path / "app", None).select == ("kms",)
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    if find_config(empty) is None:  # a config file above tmp_path on this machine would be found, rightly
        assert load_config(empty, None) == LintConfig()


def test_policyengine_toml_wins_over_pyproject_in_the_same_directory(tmp_path: Path) -> None:
    """In one directory .policyengine.toml is preferred to pyproject.toml, and its [tool.policyengine.lint] form works."""
    write(tmp_path / "pyproject.toml", '[tool.policyengine.lint]\nignore = ["PE001"]\n')
    write(tmp_path / ".policyengine.toml", '[tool.policyengine.lint]\nignore = ["PE002"]\n')
    assert find_config(tmp_path) == tmp_path / ".policyengine.toml"
    assert load_config(tmp_path, None).ignore == ("PE002",)


def test_explicit_config_takes_precedence(tmp_path: Path) -> None:
    """``--config FILE`` is used instead of any discovered file; a missing one is an error naming it."""
    write(tmp_path / ".policyengine.toml", '[lint]\nignore = ["PE001"]\n')
    explicit = write(tmp_path / "ci" / "lint.toml", '[lint]\nignore = ["PE777"]\n')
    assert load_config(tmp_path, explicit).ignore == ("PE777",)
    assert load_config(tmp_path, explicit).root == tmp_path / "ci"
    with pytest.raises(ConfigError, match=r"nope\.toml: configuration file not found"):
        load_config(tmp_path, tmp_path / "nope.toml")
    bare = write(tmp_path / "other" / "pyproject.toml", "[project]\n")
    with pytest.raises(ConfigError, match=r"no \[tool\.policyengine\.lint\] table"):
        load_config(tmp_path, bare)


# ---------------------------------------------------------------------------------------------
# Validation


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "pyproject.toml",
            "[tool.policyengine.lint]\nselct = []\n",
            r"pyproject\.toml: unknown key `selct` in \[tool\.policyengine\.lint\] \(did you mean `select`\?\)",
        ),
        (PE, "[lint]\nper-file-ignores = {}\n", r"\.policyengine\.toml: unknown key `per-file-ignores` in \[lint\]"),
        (PE, "[lnt]\nselect = []\n", r"\.policyengine\.toml: unknown key `lnt` \(did you mean `lint`\?\)"),
        (PE, '[lint]\nselect = "PE001"\n', r"`lint\.select` must be a list of strings"),
        (PE, '[lint]\nfail-on = "fatal"\n', r"`lint\.fail-on` must be one of security, error, warning, suggestion"),
        (PE, '[lint.per-path-ignores]\n"a/*" = "PE001"\n', r'`lint\.per-path-ignores\."a/\*"` must be a list'),
        (PE, '[lint.policy-type]\n"a/*" = "kms"\n', r'`lint\.policy-type\."a/\*"` must be one of key, identity'),
        (PE, '[lint]\npolicy-type = ["key"]\n', r"`lint\.policy-type` must be a table"),
        (PE, "[lint]\nselect = [\n", r"\.policyengine\.toml: not valid TOML: "),
        (PE, "lint = 3\n", r"`lint` must be a table"),
    ],
)
def test_bad_config_is_a_one_line_error_naming_file_and_key(tmp_path: Path, name: str, text: str, message: str) -> None:
    """Unknown keys, wrong types, bad values and broken TOML raise ConfigError with a one-line message naming the file."""
    path = write(tmp_path / name, text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(tmp_path, path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)
    assert isinstance(caught.value, PolicyEngineError)


def test_check_names_rejects_unknown_rules_and_families(tmp_path: Path) -> None:
    """Names in select, ignore and per-path-ignores must be rule ids, family names or ALL (any case)."""
    rules = {"PE020": Rule("PE020", "kms-star", "warning", "s", "{}", "{}", no_findings, family="kms")}
    LintConfig(select=("all",), ignore=("pe020", "KMS")).check_names(rules)
    path = write(tmp_path / ".policyengine.toml", '[lint.per-path-ignores]\n"legacy/**" = ["PE02"]\n')
    with pytest.raises(ConfigError, match=r"unknown rule or family `PE02` in `per-path-ignores\.legacy/\*\*` \(did you mean"):
        load_config(tmp_path, path).check_names(rules)


# ---------------------------------------------------------------------------------------------
# What runs where


def test_select_and_ignore_by_id_family_and_all() -> None:
    """Select and ignore take ids, families and ALL; the more specific name wins and ignore wins a tie."""
    config = LintConfig(root=Path("/repo"), select=("kms", "PE104"), ignore=("PE503",))
    assert config.enabled("PE020", "kms", "/repo/a.json")
    assert not config.enabled("PE503", "kms", "/repo/a.json")  # id beats family
    assert config.enabled("PE104", "structure", "/repo/a.json")
    assert not config.enabled("PE105", "structure", "/repo/a.json")  # not selected
    assert LintConfig(select=("PE020",), ignore=("kms",)).enabled("PE020", "kms", "a.json")  # id beats family
    assert not LintConfig(ignore=("kms",)).enabled("PE020", "kms", "a.json")  # family beats ALL
    assert not LintConfig(select=("kms",), ignore=("kms",)).enabled("PE020", "kms", "a.json")  # tie: ignore
    assert not LintConfig(select=()).enabled("PE020", "kms", "a.json")


def test_per_path_ignores(tmp_path: Path) -> None:
    """Per-path ignores silence their rules (or families, or ALL) only on files their globs match."""
    path = write(
        tmp_path / "pyproject.toml",
        '[tool.policyengine.lint.per-path-ignores]\n"legacy/**" = ["PE020"]\n"*.draft.json" = ["ALL"]\n"third_party" = ["kms"]\n',
    )
    config = load_config(tmp_path, path)
    assert not config.enabled("PE020", "kms", tmp_path / "legacy" / "old" / "key.json")
    assert config.enabled("PE503", "kms", tmp_path / "legacy" / "old" / "key.json")
    assert config.enabled("PE020", "kms", tmp_path / "current" / "legacy.json")
    assert not config.enabled("PE104", "structure", tmp_path / "deep" / "x.draft.json")
    assert not config.enabled("PE503", "kms", tmp_path / "third_party" / "a" / "key.json")
    assert config.enabled("PE104", "structure", tmp_path / "third_party" / "a" / "key.json")
    cwd = os.getcwd()
    try:  # a relative path is taken from the working directory
        os.chdir(tmp_path)
        assert not config.enabled("PE020", "kms", "legacy/key.json")
    finally:
        os.chdir(cwd)


def test_include_exclude_and_policy_type_overrides(tmp_path: Path) -> None:
    """Include and exclude globs pick the files; policy-type globs give a type, the first match winning."""
    path = write(
        tmp_path / ".policyengine.toml",
        '[lint]\ninclude = ["policies/**"]\nexclude = ["vendor/", "**/*.draft.json"]\n'
        '[lint.policy-type]\n"policies/keys/**" = "key"\n"policies/**/*.json" = "identity"\n',
    )
    config = load_config(tmp_path, path)
    assert config.included(tmp_path / "policies" / "a.json")
    assert not config.included(tmp_path / "other" / "a.json")
    assert not config.included(tmp_path / "policies" / "vendor" / "a.json")
    assert not config.included(tmp_path / "policies" / "x" / "a.draft.json")
    assert config.policy_type_for(tmp_path / "policies" / "keys" / "app.json") == "key"
    assert config.policy_type_for(tmp_path / "policies" / "roles" / "app.json") == "identity"
    assert config.policy_type_for(tmp_path / "README.md") is None


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*.json", "a/b/c.json", True),
        ("a/*.json", "a/b/c.json", False),
        ("a/**/*.json", "a/b/c.json", True),
        ("a/**/*.json", "a/c.json", True),
        ("**/c.json", "c.json", True),
        ("a", "a/b/c.json", True),
        ("b", "a/b/c.json", True),
        ("b/", "a/b", False),
        ("/c.json", "a/c.json", False),
        ("a/b", "a/b/c.json", True),
        ("key?.json", "key1.json", True),
        ("key[0-9].json", "keyx.json", False),
        ("key[!0-9].json", "keyx.json", True),
        ("./a/*.json", "a/k.json", True),
    ],
)
def test_glob_semantics(pattern: str, path: str, expected: bool) -> None:
    """Globs: * within a segment, ** across, bare names match any segment, directories cover their contents."""
    assert glob_matches(pattern, path) is expected


def test_command_line_overrides() -> None:
    """--select replaces the file's select, --ignore adds to its ignore, --fail-on replaces."""
    config = LintConfig(select=("kms",), ignore=("PE001",), fail_on="error")
    merged = config.with_overrides(select=["PE104"], ignore=["PE002"], fail_on="warning")
    assert merged.select == ("PE104",) and merged.ignore == ("PE001", "PE002") and merged.fail_on == "warning"
    assert config.with_overrides() == config


# ---------------------------------------------------------------------------------------------
# Sid markers


def test_sid_ignores_parses_the_marker() -> None:
    """The marker names comma-separated rule ids (any case, spaces allowed after commas) anywhere in the Sid."""
    assert sid_ignores("Partner access policyengine:ignore=PE302,pe303") == {"PE302", "PE303"}
    assert sid_ignores("policyengine:ignore=PE302, PE303 and more") == {"PE302", "PE303"}
    assert sid_ignores("Enable IAM User Permissions") == frozenset()
    assert sid_ignores(None) == frozenset()


def test_suppressed_by_sid() -> None:
    """A finding on a statement whose Sid names its rule (or ALL) is suppressed; others and statement-less ones are not."""
    marked = Finding("PE302", "security", "m", "k.json", statement="Partner policyengine:ignore=PE302")
    other_rule = Finding("PE020", "warning", "m", "k.json", statement="Partner policyengine:ignore=PE302")
    everything = Finding("PE020", "warning", "m", "k.json", statement="Legacy policyengine:ignore=ALL")
    unnamed = Finding("PE302", "security", "m", "k.json", statement="#2")
    document_level = Finding("PE302", "security", "m", "k.json")
    assert suppressed_by_sid(marked) and suppressed_by_sid(everything)
    assert not suppressed_by_sid(other_rule) and not suppressed_by_sid(unnamed) and not suppressed_by_sid(document_level)
    # When statement labels are not the Sids, a map from label to Sid says which Sid applies.
    assert suppressed_by_sid(unnamed, {"#2": "x policyengine:ignore=PE302"})
    assert not suppressed_by_sid(unnamed, {})
    kept, suppressed = split_sid_suppressed([marked, other_rule, everything, unnamed])
    assert kept == [other_rule, unnamed] and suppressed == [marked, everything]


# ---------------------------------------------------------------------------------------------
# Baseline


def key_finding(text: str, needle: str, rule_id: str = "PE503") -> Finding:
    return Finding(
        rule_id,
        "error",
        f"{rule_id} about {needle}",
        "keys/app.json",
        span_of(text, needle),
        "/Statement/1/Action/1",
        statement="App policyengine:ignore=PE020",
    )


def test_baseline_round_trip_matches_moved_findings_and_reports_new_ones(tmp_path: Path) -> None:
    """A baselined finding stays known after lines move; a new finding is reported; the file is sorted JSON."""
    text = (FIXTURES / "key-policy.json").read_text(encoding="utf-8")
    accepted = [key_finding(text, '"kms:CreateGrant"'), key_finding(text, '"kms:*"', "PE020")]
    path = tmp_path / "baseline.json"
    write_baseline(accepted, path, {"keys/app.json": text})
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["version"] == 1 and [e["rule"] for e in data["entries"]] == ["PE020", "PE503"]
    assert data["entries"][1]["pointer"] == "/Statement[Sid=App policyengine:ignore=PE020]/Action/1"
    assert path.read_text(encoding="utf-8").endswith("}\n")

    moved_text = "\n\n\n" + text
    moved = key_finding(moved_text, '"kms:CreateGrant"')
    assert moved.line == accepted[0].line + 3
    fresh = key_finding(moved_text, '"kms:Encrypt"')
    new, known = load_baseline(path).filter([moved, fresh], {"keys/app.json": moved_text})
    assert known == [moved] and new == [fresh]


def test_baseline_entry_absorbs_one_finding_each(tmp_path: Path) -> None:
    """A fingerprint listed once accepts one finding; a second identical finding is new."""
    text = (FIXTURES / "key-policy.json").read_text(encoding="utf-8")
    finding = key_finding(text, '"kms:CreateGrant"')
    path = tmp_path / "baseline.json"
    write_baseline([finding], path, {"keys/app.json": text})
    new, known = load_baseline(path).filter([finding, finding], {"keys/app.json": text})
    assert known == [finding] and new == [finding]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "baseline file not found"),
        ("{not json", "baseline is not valid JSON"),
        ("[]", "must be a JSON object"),
        ('{"version": 2, "entries": []}', "unsupported baseline version `2`"),
        ('{"version": 1, "entries": {}}', "`entries` must be a list"),
        ('{"version": 1, "entries": [{"rule": "PE001"}]}', "entry 0 has no `fingerprint` string"),
        ('{"version": 1, "entries": [{"fingerprint": "ab", "rule": 3}]}', "entry 0: `rule` must be a string"),
    ],
)
def test_bad_baseline_file_is_a_config_error(tmp_path: Path, content: str | None, message: str) -> None:
    """A missing or malformed baseline raises ConfigError with a one-line message naming the file."""
    path = tmp_path / "baseline.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_baseline(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)
