"""`policyengine lint` as a CI job sees it: the severity order, the summary and exit lines, input errors,
non-policy files named by pre-commit, baselines from any working directory, and the config's include/exclude."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from policyengine.lint import DEFAULT_FAIL_ON, SEVERITIES, SEVERITY_ORDER
from tests.lint.samples import APP_STAR, PUBLIC, key_policy, run


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository root (with `.git`) as the working directory."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_severity_order_and_default_are_one_for_every_consumer() -> None:
    """security > error > warning > suggestion, and the default threshold is warning."""
    assert SEVERITIES == ("security", "error", "warning", "suggestion")
    assert [SEVERITY_ORDER[s] for s in SEVERITIES] == sorted(SEVERITY_ORDER.values(), reverse=True)
    assert DEFAULT_FAIL_ON == "warning"


@pytest.mark.parametrize("statement", [PUBLIC, APP_STAR], ids=["public-key", "kms-star-to-application-role"])
def test_security_findings_fail_ci_by_default_and_at_error(
    repo: Path, capsys: pytest.CaptureFixture[str], statement: dict[str, object]
) -> None:
    """A public key policy and `kms:*` to an application role fail with no options, with --fail-on error
    (the pre-commit hook's old default) and with fail-on = "error" in the config."""
    Path("key.json").write_text(key_policy(statement))
    assert run(["lint", "key.json"], capsys)[0] == 3
    assert run(["lint", "key.json", "--fail-on", "error"], capsys)[0] == 3
    Path("pyproject.toml").write_text('[tool.policyengine.lint]\nfail-on = "error"\n')
    code, out, _ = run(["lint", "key.json"], capsys)
    assert code == 3 and "exit 3: 1 finding at or above `error` (--fail-on)" in out


def test_summary_and_exit_lines(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Text output ends with the counts per severity and the exit reason; JSON keeps stdout a document
    and writes those two lines to stderr."""
    Path("key.json").write_text(key_policy(PUBLIC))
    code, out, err = run(["lint", "key.json"], capsys)
    *_, summary, reason = out.rstrip("\n").split("\n")
    assert summary == "1 finding (1 security, 0 errors, 0 warnings, 0 suggestions) in 1 file (1 policy)"
    assert reason == "exit 3: 1 finding at or above `warning` (--fail-on)" and code == 3 and err == ""
    code, out, err = run(["lint", "key.json", "--format", "json", "--fail-on", "security"], capsys)
    assert json.loads(out)["summary"]["by_severity"]["security"] == 1
    assert err.splitlines() == [summary, "exit 3: 1 finding at or above `security` (--fail-on)"]


def test_unreadable_file_is_an_error_never_beside_no_findings(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that cannot be read prints its one-line error, is counted, and the run exits 1 saying why;
    the report never says "no findings"."""
    Path("good.json").write_text(key_policy())
    Path("broken.yaml").write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources: [\n")
    code, out, err = run(["lint", "good.json", "missing.json", "broken.yaml"], capsys)
    assert code == 1
    assert "no findings" not in out + err
    error_lines = [line for line in err.splitlines() if ": error: " in line]
    assert [line.split(":")[0] for line in error_lines] == ["missing.json", "broken.yaml"]
    assert out.endswith(
        "0 findings (0 security, 0 errors, 0 warnings, 0 suggestions) in 1 file (1 policy); 2 files could not be read\n"
        "exit 1: 2 files could not be read\n"
    )
    code, out, _ = run(["lint", "missing.json", "--format", "json"], capsys)
    assert code == 1 and json.loads(out)["input_errors"] == [{"file": "missing.json", "message": "no such file"}]


def test_input_error_with_failing_findings_says_both(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Path("key.json").write_text(key_policy(PUBLIC))
    code, out, _ = run(["lint", "key.json", "missing.json"], capsys)
    assert code == 1 and out.endswith("exit 1: 1 file could not be read (and 1 finding at or above `warning`)\n")


def test_skip_non_policy_reads_named_files_as_walking_does(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Named by pre-commit, package.json, JSONC, workflow YAML and compose files are errors without the flag
    and skipped quietly with it; a policy among them is still linted; the config's exclude applies."""
    others = {
        "package.json": '{"name": "app", "version": "1.0.0"}',
        "tsconfig.json": '{\n  // JSONC\n  "compilerOptions": {}\n}\n',
        ".github/workflows/ci.yml": "on: [push]\njobs: {}\n",
        ".pre-commit-config.yaml": "repos: []\n",
    }
    for name, text in others.items():
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        Path(name).write_text(text)
    Path("key.json").write_text(key_policy(PUBLIC))
    Path("vendor").mkdir()
    Path("vendor/key.json").write_text(key_policy(PUBLIC))
    named = [*others, "key.json", "vendor/key.json"]
    code, out, err = run(["lint", *named], capsys)
    assert code == 1 and {line.split(":")[0] for line in err.splitlines()} == set(others) - {"tsconfig.json"}
    assert "tsconfig.json:2:3: error PE001" in out  # broken JSON named explicitly is a finding
    Path(".policyengine.toml").write_text('[lint]\nexclude = ["vendor"]\n')
    code, out, err = run(["lint", "--skip-non-policy", *named], capsys)
    assert code == 3 and err == ""
    assert "key.json:" in out and "vendor/key.json" not in out
    assert "in 1 file (1 policy)" in out


def test_include_and_exclude_use_the_documented_globs_when_walking(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Globs are relative to the config's directory: `**/*.draft.json` excludes a draft at the top level
    too, and `/build/` only the top-level build directory, from any working directory."""
    for name in ("a.draft.json", "keys/b.draft.json", "build/c.json", "keys/build/d.json", "keys/e.json"):
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        Path(name).write_text(key_policy(PUBLIC))
    Path("pyproject.toml").write_text('[tool.policyengine.lint]\nexclude = ["**/*.draft.json", "/build/"]\n')
    code, out, _ = run(["lint", ".", "--format", "json"], capsys)
    assert code == 3
    assert sorted({Path(f["file"]).as_posix() for f in json.loads(out)["findings"]}) == ["keys/build/d.json", "keys/e.json"]
    os.chdir("keys")
    _, out, _ = run(["lint", ".", "--format", "json"], capsys)
    assert sorted({Path(f["file"]).as_posix() for f in json.loads(out)["findings"]}) == ["build/d.json", "e.json"]


def test_baseline_is_keyed_to_the_repository_root(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A baseline written from the repository root suppresses the same findings when the linter runs from
    a subdirectory; --write-baseline says what it wrote and a run with --baseline how many it suppressed."""
    Path("keys").mkdir()
    Path("keys/app.json").write_text(key_policy(PUBLIC, APP_STAR))
    code, out, _ = run(["lint", "keys", "--write-baseline", "ci/baseline.json"], capsys)
    assert code == 0, out
    assert out.endswith(f"exit 0: wrote 3 findings to the baseline ci/baseline.json (paths relative to {repo})\n")
    entries = json.loads(Path("ci/baseline.json").read_text())["entries"]
    assert {entry["file"] for entry in entries} == {"keys/app.json"}
    os.chdir("keys")
    code, out, _ = run(["lint", "app.json", "--baseline", "../ci/baseline.json"], capsys)
    assert code == 0, out
    assert "; 3 suppressed by the baseline ../ci/baseline.json\n" in out
    assert out.endswith("exit 0: no findings at or above `warning` (--fail-on)\n")


def test_baseline_outside_a_repository_is_relative_to_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    (project / "keys").mkdir(parents=True)
    (project / "keys" / "app.json").write_text(key_policy(PUBLIC))
    monkeypatch.chdir(project)
    assert run(["lint", "keys", "--write-baseline", "baseline.json"], capsys)[0] == 0
    assert json.loads(Path("baseline.json").read_text())["entries"][0]["file"] == "keys/app.json"
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["lint", "project/keys", "--baseline", "project/baseline.json"], capsys)
    assert code == 0 and "1 suppressed by the baseline" in out
