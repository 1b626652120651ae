"""Packaging: the distribution is `policyengine-kms` everywhere, and the built wheel and sdist pass `twine check`.

The name `policyengine` on PyPI belongs to an unrelated project (PolicyEngine's tax-benefit models), so
`pip install policyengine` would install the wrong thing: every install line names `policyengine-kms`,
while the import package and the `policyengine` command keep their name.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import policyengine as pe
from tests.conftest import ROOT

DISTRIBUTION = "policyengine-kms"
# `pip install policyengine` or `policyengine[extra]` not followed by `-kms`: the unrelated project.
_WRONG_INSTALL = re.compile(r"pip install\s+['\"]?policyengine(?![-\w])|\bpolicyengine\[")


def _pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_distribution_name_and_version_match_the_package() -> None:
    """pyproject names the distribution policyengine-kms at the package's own version; the command stays `policyengine`."""
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    assert project["name"] == DISTRIBUTION and project["version"] == pe.__version__
    assert project["scripts"] == {"policyengine": "policyengine.cli.main:main"}
    assert project["entry-points"]["pytest11"] == {"policyengine": "policyengine.pytest_plugin"}


def test_every_install_line_names_the_distribution() -> None:
    """README, docs, the changelog and every message in the code say `policyengine-kms`, never bare `policyengine`."""
    files = [ROOT / "README.md", ROOT / "CHANGELOG.md", ROOT / "action.yml", *sorted((ROOT / "docs").glob("*.md"))]
    files += sorted((ROOT / "policyengine").rglob("*.py"))
    wrong = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _WRONG_INSTALL.search(line) and "unrelated" not in line  # lines warning about the other project
    ]
    assert wrong == []


def test_wheel_and_sdist_build_and_pass_twine_check(tmp_path: Path) -> None:
    """hatchling builds both; `twine check --strict` accepts them; the wheel carries the grammars, the
    console script and the pytest plugin under the new name."""
    built = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-d", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    wheels = list(tmp_path.glob("policyengine_kms-*.whl"))
    sdists = list(tmp_path.glob("policyengine_kms-*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, list(tmp_path.iterdir())
    checked = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(wheels[0]), str(sdists[0])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = set(wheel.namelist())
        info = f"policyengine_kms-{pe.__version__}.dist-info"
        metadata = wheel.read(f"{info}/METADATA").decode()
        entry_points = wheel.read(f"{info}/entry_points.txt").decode()
    assert "policyengine/grammars/policy_json.lark" in names
    assert f"Name: {DISTRIBUTION}\n" in metadata and f"Version: {pe.__version__}\n" in metadata
    assert "policyengine = policyengine.cli.main:main" in entry_points
    assert "[pytest11]\npolicyengine = policyengine.pytest_plugin" in entry_points
