"""The built wheel carries the grammars and examples: a non-editable install works from anywhere."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT


def test_wheel_parses_a_policy_from_another_directory(tmp_path: Path) -> None:
    """A wheel built from the checkout, unpacked elsewhere, loads its grammars and parses a policy."""
    wheel_dir = tmp_path / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q", "-w", str(wheel_dir)],
        check=True,
        capture_output=True,
        text=True,
    )
    wheel = next(wheel_dir.glob("policyengine_kms-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "policyengine/grammars/policy_json.lark" in names
    assert "policyengine/examples/default-key-policy.json" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "p.json").write_text('{"Statement": {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}}')
    code = (
        "import policyengine as pe, pathlib;"
        f"assert pathlib.Path(pe.__file__).is_relative_to({str(site)!r});"
        "d = pe.load_policy('p.json'); print(len(d.statements), d.statements[0].span.line);"
        "print(pe.data_dir('examples').joinpath('default-key-policy.json').is_file())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=elsewhere,
        env={"PYTHONPATH": str(site), "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "1", "True"]
