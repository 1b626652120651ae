"""Fixtures for the CI integration tests: this checkout as a tagged git repository, as users consume it."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Fixed dates make the commit and the tag of the same files the same objects on every run.
_FIXED_DATE = "2026-01-01T00:00:00+00:00"


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` with a fixed identity and no user or system configuration; return stdout."""
    env = {
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "HOME": str(cwd),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_AUTHOR_DATE": _FIXED_DATE,
        "GIT_COMMITTER_DATE": _FIXED_DATE,
    }
    identity = ["-c", "user.name=policyengine tests", "-c", "user.email=tests@example.com", "-c", "init.defaultBranch=main"]
    done = subprocess.run(["git", *identity, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


@pytest.fixture(scope="session")
def ci_cache(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory kept between runs (pytest's cache) when there is one, else a fresh temporary one.

    pre-commit builds a virtualenv per (repository, rev) it has not seen: keeping its home and the
    hook repository here makes a second run of an unchanged checkout reuse it.
    """
    cache = getattr(request.config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("policyengine-ci"))
    return tmp_path_factory.mktemp("policyengine-ci")


@pytest.fixture(scope="session")
def hook_repository(ci_cache: Path) -> tuple[Path, str]:
    """A git repository holding this checkout's files as they are now (committed or not) and a tag naming them.

    pre-commit and GitHub consume the project as a tagged repository; CI's fresh clone has no tags
    and a developer's checkout has uncommitted work, so the test makes its own commit and annotated
    tag from the files git would commit (tracked, and untracked but not ignored). The tag's name
    carries a digest of those files, so a changed checkout is a new rev to pre-commit.
    """
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    if not (ROOT / ".git").exists():
        reason = "not a git checkout: the hook repository is made from git's file list"
        if os.environ.get("CI"):
            pytest.fail(f"CI runs on a git clone, so the pre-commit hook must be tested: {reason}")
        pytest.skip(reason)
    listed = sorted(filter(None, git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")))
    files = [name for name in listed if (ROOT / name).is_file()]
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode() + b"\0" + (ROOT / name).read_bytes() + b"\0")
    tag = f"v0.0.0-test.{digest.hexdigest()[:16]}"
    repository = ci_cache / f"hook-{digest.hexdigest()[:16]}"
    if (repository / ".git").is_dir() and tag in git(repository, "tag", "--list"):
        return repository, tag
    # A changed checkout: earlier hook repositories and pre-commit's environments for them are stale.
    for stale in [*ci_cache.glob("hook-*"), ci_cache / "pre-commit-home"]:
        shutil.rmtree(stale, ignore_errors=True)
    for name in files:
        target = repository / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    git(repository, "init", "-q")
    git(repository, "add", "-A")
    git(repository, "commit", "-q", "-m", "policyengine under test")
    git(repository, "tag", "-a", tag, "-m", "policyengine under test")
    return repository, tag
