"""The composite GitHub Action (action.yml): its inputs, and its lint step's script run as the runner runs it.

The install step needs a GitHub runner (setup-python, RUNNER_TEMP); the lint step is plain bash over
environment variables, so it runs here with `POLICYENGINE_BIN` pointing at this checkout's CLI.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT
from tests.lint.samples import PUBLIC_KEY_POLICY as PUBLIC

ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))


def step(name: str) -> dict[str, Any]:
    [found] = [s for s in ACTION["runs"]["steps"] if s.get("name") == name]
    return found


def test_action_is_composite_with_the_documented_inputs() -> None:
    assert ACTION["runs"]["using"] == "composite"
    inputs = ACTION["inputs"]
    assert set(inputs) == {"paths", "fail-on", "config", "baseline", "version", "sarif-file", "python-version"}
    assert inputs["fail-on"]["default"] == ""  # the config's fail-on, else warning: as the CLI and the hook
    assert inputs["paths"]["default"] == "."
    assert set(ACTION["outputs"]) == {"sarif-file", "exit-code"}
    for entry in ACTION["runs"]["steps"]:
        if "run" in entry:
            assert entry["shell"] == "bash"
            assert "${{" not in entry["run"]  # inputs reach scripts only through env: no script injection
    install = step("Install policyengine")["run"]
    assert '"policyengine-kms==$POLICYENGINE_VERSION"' in install and '"$POLICYENGINE_SOURCE"' in install


@pytest.fixture
def runner(tmp_path: Path) -> dict[str, str]:
    """The environment GitHub gives the lint step, with `POLICYENGINE_BIN` running this checkout."""
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    wrapper = tmp_path / "bin" / "policyengine"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" -m policyengine "$@"\n', encoding="utf-8")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    workspace = tmp_path / "workspace"
    (workspace / ".git").mkdir(parents=True)
    (workspace / "infra" / "keys").mkdir(parents=True)
    (workspace / "infra" / "keys" / "public.json").write_text(json.dumps(PUBLIC, indent=2), encoding="utf-8")
    (workspace / "policies").mkdir()
    (workspace / "policies" / "app.json").write_text(json.dumps({**PUBLIC, "Statement": PUBLIC["Statement"][:1]}))
    (workspace / "package.json").write_text('{"name": "app"}')
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(
        POLICYENGINE_BIN=str(wrapper),
        GITHUB_OUTPUT=str(tmp_path / "github-output"),
        LINT_PATHS="infra\npolicies",
        LINT_FAIL_ON="",
        LINT_CONFIG="",
        LINT_BASELINE="",
        LINT_SARIF="policyengine.sarif",
        PWD=str(workspace),
    )
    return env


def run_lint_step(env: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any]]:
    workspace = Path(env["PWD"])
    # as GitHub runs a composite step's bash: `bash --noprofile --norc -eo pipefail {0}`
    command = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step("Lint")["run"]]
    done = subprocess.run(command, cwd=workspace, env=env, capture_output=True, text=True, timeout=120)
    assert Path(env["GITHUB_OUTPUT"]).is_file(), done.stderr
    outputs = dict(line.split("=", 1) for line in Path(env["GITHUB_OUTPUT"]).read_text().splitlines())
    Path(env["GITHUB_OUTPUT"]).unlink()
    sarif = json.loads((workspace / env["LINT_SARIF"]).read_text(encoding="utf-8"))
    return done.returncode, outputs, sarif


def test_lint_step_writes_sarif_and_fails_on_a_public_key(runner: dict[str, str]) -> None:
    """Paths split on newlines; the SARIF file is written even when the step fails; outputs say where and why."""
    code, outputs, sarif = run_lint_step(runner)
    assert code == 3 and outputs == {"sarif-file": "policyengine.sarif", "exit-code": "3"}
    results = sarif["runs"][0]["results"]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results} == {"infra/keys/public.json"}
    assert "PE401" in {r["ruleId"] for r in results}


def test_lint_step_inputs_reach_the_cli(runner: dict[str, str], tmp_path: Path) -> None:
    """fail-on, config and baseline inputs become the CLI's options; a baseline of today's findings passes."""
    workspace = Path(runner["PWD"])
    (workspace / "ci").mkdir()
    (workspace / "ci" / "lint.toml").write_text('[lint]\nignore = ["PE401"]\n')
    code, outputs, _ = run_lint_step({**runner, "LINT_CONFIG": "ci/lint.toml", "LINT_FAIL_ON": "security"})
    assert code == 0 and outputs["exit-code"] == "0"
    written = subprocess.run(
        [runner["POLICYENGINE_BIN"], "lint", "infra", "policies", "--write-baseline", "ci/baseline.json"],
        cwd=workspace,
        env=runner,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert written.returncode == 0, written.stderr
    code, outputs, sarif = run_lint_step({**runner, "LINT_BASELINE": "ci/baseline.json", "LINT_PATHS": "infra policies"})
    assert code == 0 and sarif["runs"][0]["results"] == []
