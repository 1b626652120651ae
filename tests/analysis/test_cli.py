"""``policyengine check``: exit codes, the three formats, git sources and a missing solver."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from policyengine.cli import main as cli_main
from policyengine.cli.check import check
from tests.analysis.conftest import requires_cvc5

K, P = "111122223333", "444455556666"
ROOT = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{K}:root"}, "Action": "kms:*", "Resource": "*"}
PARTNER = {
    "Sid": "Partner",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{P}:root"},
    "Action": "kms:Decrypt",
    "Resource": "*",
}
ANYONE = {"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}


def _write(path: Path, *statements: dict[str, Any]) -> str:
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=2), encoding="utf-8")
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``policyengine check ...`` through the real entry point; returns (exit code, stdout, stderr)."""
    if "check" not in cli_main.cli.commands:
        cli_main.cli.add_command(check)
    try:
        cli_main.main(["check", *args])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    else:  # pragma: no cover - main always exits
        code = 0
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@requires_cvc5
def test_no_new_access_exit_codes_and_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Adding a partner account fails with exit 3 and a counterexample; the reverse passes with exit 0."""
    old, new = _write(tmp_path / "old.json", ROOT), _write(tmp_path / "new.json", ROOT, PARTNER)
    code, out, _ = run(capsys, "no-new-access", "--old", old, "--new", new)
    assert code == 3 and "FAIL" in out and f"arn:aws:iam::{P}:root" in out and "Partner" in out
    code, out, _ = run(capsys, "no-new-access", "--old", new, "--new", old)
    assert code == 0 and "PASS" in out


@requires_cvc5
def test_a_capped_caller_is_said_in_the_text_counterexample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A session ARN where the role ARN was: new access only for a session whose session policy refuses the request,
    which the check cannot know (tests/analysis/test_surroundings.py); the text says so on the counterexample's caps row."""
    role = {"Sid": "Role", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{K}:role/worker"}, "Action": "kms:Decrypt"}
    session = {**role, "Sid": "Session", "Principal": {"AWS": f"arn:aws:sts::{K}:assumed-role/worker/batch"}}
    old = _write(tmp_path / "old.json", {**role, "Resource": "*"})
    new = _write(tmp_path / "new.json", {**session, "Resource": "*"})
    code, out, _ = run(capsys, "no-new-access", "--old", old, "--new", new)
    assert code == 3
    assert "    caps      the caller's permissions boundary or session policy does not allow the request\n" in out
    code, out, _ = run(capsys, "no-new-access", "--old", old, "--new", _write(tmp_path / "partner.json", PARTNER))
    assert code == 3 and "caps" not in out


@requires_cvc5
def test_json_format_carries_the_counterexample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--format json prints the verdict, the replayed request and the responsible statement."""
    old, new = _write(tmp_path / "old.json", ROOT), _write(tmp_path / "new.json", ROOT, PARTNER)
    code, out, _ = run(capsys, "no-new-access", "--old", old, "--new", new, "--format", "json")
    data = json.loads(out)
    assert code == 3 and data["result"] == "fail" and data["approximations"] == []
    assert data["counterexample"]["statements"][0]["sid"] == "Partner"


@requires_cvc5
def test_sarif_format_points_at_the_statement(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--format sarif is a SARIF 2.1.0 log with one result at the new statement; a pass has no results."""
    old, new = _write(tmp_path / "old.json", ROOT), _write(tmp_path / "new.json", ROOT, PARTNER)
    code, out, _ = run(capsys, "no-new-access", "--old", old, "--new", new, "--format", "sarif")
    log = json.loads(out)
    assert code == 3 and log["version"] == "2.1.0"
    (result,) = log["runs"][0]["results"]
    assert result["ruleId"] == "PEC001"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] > 1
    code, out, _ = run(capsys, "no-new-access", "--old", new, "--new", old, "--format", "sarif")
    assert code == 0 and json.loads(out)["runs"][0]["results"] == []


@requires_cvc5
def test_old_version_from_git(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """--old git:HEAD:key.json compares the working copy with the committed version."""
    monkeypatch.chdir(tmp_path)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q"], check=True)
    _write(tmp_path / "key.json", ROOT)
    subprocess.run([*git, "add", "key.json"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "key"], check=True)
    _write(tmp_path / "key.json", ROOT, ANYONE)
    code, out, _ = run(capsys, "no-new-access", "--old", "git:HEAD:key.json", "--new", "key.json")
    assert code == 3 and "FAIL" in out
    code, _, err = run(capsys, "no-new-access", "--old", "git:NOPE:key.json", "--new", "key.json")
    assert code == 1 and "git:NOPE:key.json" in err


def _repo(tmp_path: Path, *statements: dict[str, Any]) -> list[str]:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    _write(tmp_path / "key.json", *statements)
    subprocess.run([*git, "-C", str(tmp_path), "add", "key.json"], check=True)
    subprocess.run([*git, "-C", str(tmp_path), "commit", "-q", "-m", "key"], check=True)
    return git


@requires_cvc5
def test_staged_version_for_pre_commit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`:PATH` and `staged:PATH` read the git index: what a pre-commit hook is about to commit."""
    git = _repo(tmp_path, ROOT)
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "key.json", ROOT, ANYONE)
    subprocess.run([*git, "add", "key.json"], check=True)
    _write(tmp_path / "key.json", ROOT)  # the working copy goes back; the index keeps the public statement
    code, out, _ = run(capsys, "no-new-access", "--old", "git:HEAD:key.json", "--new", ":key.json")
    assert code == 3 and "Anyone" in out
    assert run(capsys, "no-new-access", "--old", "staged:key.json", "--new", "key.json")[0] == 0
    code, _, err = run(capsys, "no-new-access", "--old", ":missing.json", "--new", "key.json")
    assert code == 1 and ":missing.json" in err


def test_missing_revision_in_a_shallow_clone_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """git:HEAD~1 in a depth-1 clone (as CI checks out) explains that history was not fetched."""
    origin = tmp_path / "origin"
    git = _repo(origin, ROOT)
    _write(origin / "key.json", ROOT, PARTNER)
    subprocess.run([*git, "-C", str(origin), "commit", "-q", "-am", "partner"], check=True)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{origin}", str(clone)], check=True)
    monkeypatch.chdir(clone)
    code, _, err = run(capsys, "no-new-access", "--old", "git:HEAD~1:key.json", "--new", "key.json")
    assert code == 1 and "shallow clone" in " ".join(err.split()) and "fetch-depth" in err


@requires_cvc5
def test_access_not_granted_for_one_principal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--principal asks about that principal only: the partner may decrypt, a role of the key's account may not."""
    policy = _write(tmp_path / "key.json", PARTNER)
    partner = f"arn:aws:iam::{P}:role/reader"
    code, out, _ = run(capsys, "access-not-granted", policy, "--actions", "kms:Decrypt", "--principal", partner)
    assert code == 3 and "FAIL" in out and P in out
    mine = f"arn:aws:iam::{K}:role/app"
    code, out, _ = run(capsys, "access-not-granted", policy, "--actions", "kms:Decrypt", "--principal", mine)
    assert code == 0 and "PASS" in out and mine in out
    assert run(capsys, "access-not-granted", policy, "--actions", "kms:Decrypt")[0] == 3


@requires_cvc5
def test_access_not_granted_and_no_public_access(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Both commands exit 3 on a violation and 0 otherwise."""
    default, public = _write(tmp_path / "default.json", ROOT), _write(tmp_path / "public.json", ROOT, ANYONE)
    assert run(capsys, "access-not-granted", default, "--actions", "kms:PutKeyPolicy")[0] == 3
    crypto = _write(tmp_path / "crypto.json", {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*"})
    assert run(capsys, "access-not-granted", crypto, "--actions", "kms:Put*", "--policy-type", "identity")[0] == 0
    assert run(capsys, "access-not-granted", crypto, "--actions", "kms:decrypt", "--policy-type", "identity")[0] == 3
    assert run(capsys, "no-public-access", default)[0] == 0
    code, out, _ = run(capsys, "no-public-access", public)
    assert code == 3 and "Anyone" in out


def test_input_errors_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing file, a broken policy, or identity policies without --principal are input errors."""
    good = _write(tmp_path / "good.json", ROOT)
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    assert run(capsys, "no-new-access", "--old", str(tmp_path / "missing.json"), "--new", good)[0] == 1
    assert run(capsys, "no-new-access", "--old", str(tmp_path / "broken.json"), "--new", good)[0] == 1
    assert run(capsys, "no-new-access", "--old", good, "--new", good, "--identity-new", good)[0] == 1


def test_missing_solver_exits_1_with_the_install_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the solver installed the command exits 1 and says to install "policyengine-kms[analysis]"."""
    from policyengine.analysis import _cvc5

    monkeypatch.setattr(_cvc5, "available", lambda: False)
    good = _write(tmp_path / "good.json", ROOT)
    code, out, err = run(capsys, "no-public-access", good)
    assert code == 1 and 'install "policyengine-kms[analysis]"' in out + err
