"""The pre-commit hook, run by pre-commit itself (from PyPI) against a scratch repository.

pre-commit clones the hook repository at a tag, builds a virtualenv with ``pip install .`` (packages
come from the configured package index) and runs ``.pre-commit-hooks.yaml``'s entry on the staged files
its ``files`` pattern matches, which includes files that are not policies (package.json, workflow YAML,
the pre-commit configuration itself).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.ci.conftest import git
from tests.conftest import ROOT
from tests.lint.samples import PUBLIC_KEY_POLICY

pytest.importorskip("pre_commit")

# Not policies, but matched by the hook's `files` pattern: each must be skipped quietly.
NOT_POLICIES = {
    "package.json": json.dumps({"name": "service", "version": "1.0.0", "scripts": {"test": "jest"}}, indent=2),
    "tsconfig.json": '{\n  // comments make this JSONC, not JSON\n  "compilerOptions": {"strict": true}\n}\n',
    ".github/workflows/ci.yml": (
        "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n"
    ),
    "docker-compose.yaml": "services:\n  web:\n    image: nginx\n",
    "infra/main.tf": 'resource "aws_s3_bucket" "logs" {\n  bucket = "service-logs"\n}\n',
}


def _pre_commit(repository: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # The user's HOME stays: pip's configuration and download cache are there (CI's own install filled it).
    env = dict(os.environ)
    env.update(
        PRE_COMMIT_HOME=str(home),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL="/dev/null",
        PRE_COMMIT_COLOR="never",
        NO_COLOR="1",
    )
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=repository,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_pre_commit_runs_the_hook_from_a_tag(tmp_path: Path, hook_repository: tuple[Path, str], ci_cache: Path) -> None:
    """From a tag, the hook fails on a public key policy, names the file and the rule, and passes once
    it is gone; package.json, JSONC, workflow YAML, compose files, Terraform without policies and the
    pre-commit configuration are skipped quietly."""
    hook_path, tag = hook_repository
    user = tmp_path / "service"
    (user / "keys").mkdir(parents=True)
    config = {"repos": [{"repo": str(hook_path), "rev": tag, "hooks": [{"id": "policyengine-lint"}]}]}
    (user / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    (user / "keys" / "public.json").write_text(json.dumps(PUBLIC_KEY_POLICY, indent=2), encoding="utf-8")
    (user / "keys" / "app.json").write_text(json.dumps({**PUBLIC_KEY_POLICY, "Statement": PUBLIC_KEY_POLICY["Statement"][:1]}))
    for name, text in NOT_POLICIES.items():
        (user / name).parent.mkdir(parents=True, exist_ok=True)
        (user / name).write_text(text, encoding="utf-8")
    git(user, "init", "-q")
    git(user, "add", "-A")
    home = ci_cache / "pre-commit-home"

    failed = _pre_commit(user, home, "run", "--all-files")
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output
    assert "policyengine lint" in output and "Failed" in output
    assert "keys/public.json:" in output and "security PE401" in output
    assert "exit 3: 1 finding at or above `warning`" in output
    assert " error:" not in output  # no file was an input error: the non-policies were skipped
    for name in NOT_POLICIES:
        assert name not in output

    git(user, "rm", "-q", "-f", "keys/public.json")
    passed = _pre_commit(user, home, "run", "--all-files")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "policyengine lint" in passed.stdout and "Passed" in passed.stdout


def test_hook_definition_matches_what_the_linter_reads() -> None:
    """The hook's `files` pattern covers .json, .yaml/.yml, .template and .tf, its entry skips non-policy
    files whatever `args` a user gives, and it leaves --fail-on to the configuration (default warning)."""
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    [hook] = [h for h in hooks if h["id"] == "policyengine-lint"]
    assert hook["entry"] == "policyengine lint --skip-non-policy" and hook["language"] == "python"
    assert "args" not in hook
    files = re.compile(hook["files"])
    for name in ("key.json", "stack.yaml", "stack.yml", "stack.template", "main.tf", "deep/dir/x.json"):
        assert files.search(name), name
    for name in ("main.py", "README.md", "key.json.bak", "main.tfvars", "x.yaml.orig"):
        assert not files.search(name), name
