"""Reliability figures: run ``tests/reliability`` with chosen budgets and print what it did, as a Markdown table.

Usage (from the repository root)::

    python bench/bench_reliability.py                          # the CI budgets (~35 s on 2 cores)
    python bench/bench_reliability.py --fuzz-examples 20000    # every fuzz target 20,000 inputs (~15 minutes)
    python bench/bench_reliability.py --kills 100 --json OUT.json
    python bench/bench_reliability.py -k fuzz                  # only the fuzz targets (any pytest -k expression)

The tests count what they do (inputs per fuzz target, kills survived, writes acknowledged and read
back, concurrent operations, audit records checked) into ``PE_RELIABILITY_FIGURES``; this script
sets the budgets through ``PE_FUZZ_EXAMPLES`` and ``PE_CRASH_KILLS``, runs pytest, and prints those
counts with the outcome and the wall time. The figures in ``docs/reliability.md`` come from here.
Exit status is pytest's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: How each figure reads in the table (anything else is printed under its own name).
LABELS = {
    "fuzz.policy_parser": "policy parser (both paths): texts",
    "fuzz.operator_grammar": "condition-operator grammar: names",
    "fuzz.variable_grammar": "policy-variable grammar: strings",
    "fuzz.arn_principal_grammar": "ARN and principal grammar: strings",
    "fuzz.policy_strings_in_policy": "policy strings inside a policy, evaluated",
    "fuzz.evaluator": "evaluator: policy sets x requests",
    "fuzz.linter": "linter and its three reporters: inputs",
    "fuzz.facade_calls": "LocalKms facade: calls (memory + SQLite)",
    "fuzz.server_requests": "server: fuzzed HTTP requests",
    "fuzz.server_json_bodies": "server: any-JSON bodies, signed",
    "crash.kills_survived": "SIGKILLs survived",
    "crash.acknowledged_writes": "writes and encryptions acknowledged before a kill",
    "crash.writes_in_flight_at_a_kill": "writes in flight at a kill (outcome checked all-or-nothing)",
    "crash.read_back_checks": "read-back checks after restarts",
    "concurrency.operations": "concurrent operations (8 threads; facade + server)",
    "concurrency.audit_records_checked": "audit records matched one-to-one with calls",
    "concurrency.ciphertexts_redecrypted": "ciphertexts decrypted again after all rotations",
    "secrets.secrets_tracked": "secrets searched for in logs, audit, errors and SQLite files",
    "secrets.decrypt_failures_compared": "decrypt failure kinds compared for an oracle",
    "limits.requests": "limit requests over the wire",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fuzz-examples", type=int, help="inputs per fuzz target (default: each target's CI budget)")
    parser.add_argument("--kills", type=int, help="SIGKILLs in the crash test (default 20)")
    parser.add_argument("-k", dest="keyword", help="pytest -k expression selecting the tests to run")
    parser.add_argument("--json", type=Path, help="also write the figures, outcome and time as JSON here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        figures_file = Path(scratch) / "figures.json"
        env = {**os.environ, "PE_RELIABILITY_FIGURES": str(figures_file)}
        if args.fuzz_examples is not None:
            env["PE_FUZZ_EXAMPLES"] = str(args.fuzz_examples)
        if args.kills is not None:
            env["PE_CRASH_KILLS"] = str(args.kills)
        command = [sys.executable, "-m", "pytest", "tests/reliability", "-p", "no:cacheprovider", "-n", "0"]
        if args.keyword:
            command += ["-k", args.keyword]
        started = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        figures = json.loads(figures_file.read_text(encoding="utf-8")) if figures_file.exists() else {}

    summary = [line for line in result.stdout.splitlines() if " passed" in line or " failed" in line]
    outcome = summary[-1].strip("= ") if summary else f"pytest exited {result.returncode}"
    order = list(LABELS)
    print("| figure | count |\n| --- | ---: |")
    for name in sorted(figures, key=lambda name: (order.index(name) if name in order else len(order), name)):
        print(f"| {LABELS.get(name, name)} | {figures[name]:,} |")
    print(f"\n{outcome}; {elapsed:.0f} s wall on {os.cpu_count()} CPU(s)")
    if result.returncode != 0:
        print(result.stdout[-4000:], file=sys.stderr)
    if args.json is not None:
        args.json.write_text(json.dumps({"figures": figures, "outcome": outcome, "seconds": round(elapsed, 1)}, indent=2) + "\n")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
