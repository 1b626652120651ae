"""Start-up cost of the CLI: CPU and wall time of every command, in fresh interpreters.

Each command runs ``--repeat`` times (default 9) as ``python -m policyengine ...`` and the minimum
is kept (the least disturbed run; this machine is shared). CPU is user + system time of the child
(``resource.getrusage``), which a busy machine inflates less than wall time. A reference loop
(``sum(range(10**7))``) is timed the same way, so figures from different machines or load can be
compared as multiples of it. ``--tree DIR`` measures another checkout (for example ``git archive``
of an older commit, its ``.pyc`` files compiled with ``python -m compileall``) with ``PYTHONPATH=DIR``
and DIR as the working directory, to compare before and after in the same conditions; ``--tree A --tree B``
measures both, command by command in turn, so that a change in load hits both alike.

Every command runs on the repository's own examples and fixtures (the access commands on the fixture
organization of tests/access); `audit` reads an empty data directory (it opens the store's module and
reports that there is no state), and `check no-public-access` runs the solver for real.

    python bench/bench_startup.py [--repeat 9] [--tree DIR ...] [--only NAME ...] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def commands(tree: Path, empty_dir: Path) -> dict[str, list[str]]:
    """Every command of the CLI with arguments that make it do its ordinary work (``--help`` for the servers)."""
    key = str(tree / "examples" / "default-key-policy.json")
    scenario = str(tree / "examples" / "scenarios" / "app-decrypt-allowed.json")
    snapshot = str(tree / "tests" / "access" / "fixtures" / "org.yaml")
    return {
        "--version": ["--version"],
        "--help": ["--help"],
        "lint FILE": ["lint", key],
        "validate FILE": ["validate", key],
        "simulate SCENARIO": ["simulate", scenario],
        "can": ["can", "user/ops", "kms:DisableKey", "alias/workload", "-s", snapshot],
        "who-can": ["who-can", "kms:Decrypt", "alias/workload", "-s", snapshot],
        "what-can": ["what-can", "user/ops", "-s", snapshot],
        "principal-can": ["principal-can", "user/ops", "-s", snapshot],
        "findings": ["findings", "-s", snapshot],
        "access-matrix": ["access-matrix", "-s", snapshot],
        "snapshot check": ["snapshot", "check", snapshot],
        "check --help": ["check", "--help"],
        "check no-public-access FILE": ["check", "no-public-access", key],
        "serve --help": ["serve", "--help"],
        "playground --help": ["playground", "--help"],
        "db --help": ["db", "--help"],
        "tour --help": ["tour", "--help"],
        "audit (empty data directory)": ["audit", "--data", str(empty_dir)],
    }


def measure(argv: list[str], env: dict[str, str], repeat: int, cwd: Path) -> tuple[float, float]:
    """(min CPU seconds, min wall seconds) of ``argv`` run in ``cwd`` over ``repeat`` runs.

    ``python -m`` puts the working directory first on ``sys.path``, ahead of ``PYTHONPATH``: the
    commands run in the measured tree, so that it is the one imported.
    """
    cpu, wall = float("inf"), float("inf")
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        wall = min(wall, time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = min(cpu, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument(
        "--tree", type=Path, action="append", default=None, help="a checkout to measure (repeatable; default: this one)"
    )
    parser.add_argument("--only", action="append", default=None, help="measure only this command (repeatable)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    options = parser.parse_args()
    trees = [tree.resolve() for tree in options.tree or [ROOT]]
    for tree in trees:  # bytecode compiled in every tree alike (PYTHONDONTWRITEBYTECODE would recompile on each run)
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(tree / "policyengine")], stdout=subprocess.DEVNULL, check=True
        )
    results: dict[str, dict[str, dict[str, float]]] = {str(tree): {} for tree in trees}
    with tempfile.TemporaryDirectory() as empty:
        rows = [
            ("reference sum(range(10**7))", ["-c", "sum(range(10**7))"]),
            # The interpreter alone: the floor under every command (what no import work can go below).
            ("python -c pass", ["-c", "pass"]),
        ]
        for name, args in commands(ROOT, Path(empty)).items():
            if options.only is None or name in options.only:
                rows.append((name, ["-m", "policyengine", *_args_in(args, ROOT, None)]))
        for name, args in rows:
            for tree in trees:
                env = dict(os.environ, PYTHONPATH=str(tree))
                cpu, wall = measure([sys.executable, *_args_in(args, ROOT, tree)], env, options.repeat, tree)
                results[str(tree)][name] = {"cpu": cpu, "wall": wall}
    for tree in trees:
        figures = results[str(tree)]
        reference = figures["reference sum(range(10**7))"]["cpu"]
        print(f"\n{tree}")
        print(f"{'command':<32} {'CPU s':>7} {'wall s':>7} {'CPU / reference':>16}")
        for name, row in figures.items():
            row["cpu_in_reference_units"] = row["cpu"] / reference
            print(f"{name:<32} {row['cpu']:7.3f} {row['wall']:7.3f} {row['cpu_in_reference_units']:16.2f}")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if options.json is not None:
        options.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def _args_in(args: list[str], root: Path, tree: Path | None) -> list[str]:
    """``args`` with paths into this checkout moved into ``tree`` (each tree reads its own copy of the files)."""
    if tree is None:
        return args
    return [str(tree / Path(a).relative_to(root)) if a.startswith(str(root) + os.sep) else a for a in args]


if __name__ == "__main__":
    main()
