"""Start-up cost of the CLI: CPU and wall time of one short command each, in fresh interpreters.

Each command runs ``--repeat`` times (default 9) as ``python -m policyengine ...`` and the minimum
is kept (the least disturbed run; this machine is shared). CPU is user + system time of the child
(``resource.getrusage``), which a busy machine inflates less than wall time. A reference loop
(``sum(range(10**7))``) is timed the same way, so figures from different machines or load can be
compared as multiples of it. ``--tree DIR`` measures another checkout (for example ``git archive``
of an older commit, its ``.pyc`` files compiled with ``python -m compileall``) with ``PYTHONPATH=DIR``
and DIR as the working directory, to compare before and after in the same conditions.

    python bench/bench_startup.py [--repeat 9] [--tree DIR] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def commands(tree: Path) -> dict[str, list[str]]:
    key = str(tree / "examples" / "default-key-policy.json")
    snapshot = str(tree / "tests" / "access" / "fixtures" / "org.yaml")
    return {
        "--version": ["--version"],
        "lint FILE": ["lint", key],
        "validate FILE": ["validate", key],
        "can": ["can", "user/ops", "kms:DisableKey", "alias/workload", "-s", snapshot],
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
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout to measure (default: this one)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    options = parser.parse_args()
    tree = options.tree.resolve()
    env = dict(os.environ, PYTHONPATH=str(tree))
    results: dict[str, dict[str, float]] = {}
    reference_cpu, reference_wall = measure([sys.executable, "-c", "sum(range(10**7))"], env, options.repeat, tree)
    results["reference sum(range(10**7))"] = {"cpu": reference_cpu, "wall": reference_wall}
    # The interpreter alone: the floor under every command (what no import work can go below).
    floor_cpu, floor_wall = measure([sys.executable, "-c", "pass"], env, options.repeat, tree)
    results["python -c pass"] = {"cpu": floor_cpu, "wall": floor_wall, "cpu_in_reference_units": floor_cpu / reference_cpu}
    for name, args in commands(tree).items():
        cpu, wall = measure([sys.executable, "-m", "policyengine", *args], env, options.repeat, tree)
        results[name] = {"cpu": cpu, "wall": wall, "cpu_in_reference_units": cpu / reference_cpu}
    print(f"{'command':<30} {'CPU s':>7} {'wall s':>7} {'CPU / reference':>16}")
    for name, figures in results.items():
        ratio = figures.get("cpu_in_reference_units")
        print(f"{name:<30} {figures['cpu']:7.3f} {figures['wall']:7.3f} {'' if ratio is None else f'{ratio:16.2f}'}")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if options.json is not None:
        options.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
