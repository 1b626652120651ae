"""Time per check of ``policyengine check`` (no-new-access, access-not-granted, no-public-access).

usage (from the repository root):  python bench/bench_check.py [--quick] [--solvers cvc5,z3] [--timeout MS] [--json OUT]

Workloads:
  pairs     every old/new pair in tests/analysis/pairs/ (no-new-access, as the tests run them);
  N stmts   generated key policies of 5, 20, 50 and 100 statements (deterministic, seeded): the
            default statement, key administrators, and per-application statements with the usual
            conditions (kms:ViaService, encryption context, principal tags, source IP, MFA, org id,
            caller account, Deny guards). Per size: no-new-access of the policy against itself,
            against a copy with one statement widened (fail) and with one narrowed (pass);
            access-not-granted for kms:PutKeyPolicy/kms:ScheduleKeyDeletion; no-public-access.

Method: time.perf_counter around one whole check (translation, solving, replay), after one
warm-up check (the first check of a process loads the action catalog). Each check runs REPEATS
times (--quick: 1) and its median is its time; the table shows the median and the maximum of
those per workload and solver. A check that hits the solver time limit counts at the limit and
is listed under "timeouts". Targets (issue 9): median under 50 ms, every check under 2 s.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the checkout's package, even when not installed

import policyengine as pe  # noqa: E402
from policyengine.analysis import CheckResult, access_not_granted, no_new_access, no_public_access  # noqa: E402

KEY, PARTNER = "111122223333", "444455556666"
SIZES = (5, 20, 50, 100)
SERVICES = ("s3", "ec2", "rds", "dynamodb", "lambda", "sqs", "sns", "secretsmanager")
CRYPTO = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]


def _doc(data: dict[str, Any], name: str) -> pe.PolicyDocument:
    return pe.parse_policy(json.dumps(data, indent=2), name)


def _app_statement(rng: random.Random, i: int) -> dict[str, Any]:
    role = f"arn:aws:iam::{rng.choice([KEY, KEY, PARTNER])}:role/app-{i}"
    statement: dict[str, Any] = {
        "Sid": f"App{i}",
        "Effect": "Allow",
        "Principal": {"AWS": role},
        "Action": rng.sample(CRYPTO, rng.randint(1, len(CRYPTO))),
        "Resource": "*",
    }
    condition: dict[str, dict[str, Any]] = {}
    kind = rng.randrange(7)
    if kind == 0:
        condition["StringEquals"] = {"kms:ViaService": f"{rng.choice(SERVICES)}.us-east-1.amazonaws.com"}
    elif kind == 1:
        condition["StringEquals"] = {f"kms:EncryptionContext:app{i % 5}": f"value-{i}"}
    elif kind == 2:
        condition["StringLike"] = {"aws:PrincipalTag/team": f"team-{i % 4}*"}
    elif kind == 3:
        condition["IpAddress"] = {"aws:SourceIp": f"10.{i % 200}.0.0/16"}
    elif kind == 4:
        condition["Bool"] = {"aws:MultiFactorAuthPresent": "true"}
    elif kind == 5:
        condition["ForAllValues:StringEquals"] = {"kms:EncryptionContextKeys": ["app", f"tenant{i % 3}"]}
        condition["Null"] = {"kms:EncryptionContextKeys": "false"}
    if condition:
        statement["Condition"] = condition
    return statement


def generated_policy(size: int, seed: int = 7) -> dict[str, Any]:
    """A key policy of ``size`` statements, the same every run."""
    rng = random.Random(seed * 1000 + size)
    statements: list[dict[str, Any]] = [
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{KEY}:root"}, "Action": "kms:*", "Resource": "*"},
        {
            "Sid": "Admins",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{KEY}:role/KeyAdmin"},
            "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*"],
            "Resource": "*",
        },
        {
            "Sid": "ProtectDeletion",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["kms:ScheduleKeyDeletion", "kms:DisableKey"],
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{KEY}:role/KeyAdmin"}},
        },
        {
            "Sid": "Org",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5", "kms:CallerAccount": KEY}},
        },
    ]
    i = 0
    while len(statements) < size:
        statements.append(_app_statement(rng, i))
        i += 1
    return {"Version": "2012-10-17", "Statement": statements[:size]}


def widened(policy: dict[str, Any]) -> dict[str, Any]:
    """The last application statement loses its condition and gains every action (new access)."""
    copy = json.loads(json.dumps(policy))
    last = copy["Statement"][-1]
    last.pop("Condition", None)
    last["Action"] = "kms:*"
    return copy


def narrowed(policy: dict[str, Any]) -> dict[str, Any]:
    """The last application statement keeps only kms:Decrypt (no new access)."""
    copy = json.loads(json.dumps(policy))
    copy["Statement"][-1]["Action"] = "kms:Decrypt"
    return copy


Check = Callable[[str, int], CheckResult]


def pair_checks() -> list[tuple[str, Check]]:
    checks: list[tuple[str, Check]] = []
    for path in sorted((REPO / "tests" / "analysis" / "pairs").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        old, new = _doc(data["old"], "old.json"), _doc(data["new"], "new.json")
        ido = [_doc(p, "identity-old.json") for p in data.get("identity_old", [])]
        idn = [_doc(p, "identity-new.json") for p in data.get("identity_new", [])]

        def run(backend: str, timeout: int, old=old, new=new, ido=ido, idn=idn, data=data) -> CheckResult:  # type: ignore[no-untyped-def]
            return no_new_access(
                old,
                new,
                identity_old=ido,
                identity_new=idn,
                principal=data.get("principal"),
                key_account=data.get("key_account"),
                backend=backend,
                timeout_ms=timeout,
            )

        checks.append((path.stem, run))
    return checks


def size_checks(size: int) -> list[tuple[str, Check]]:
    base = generated_policy(size)
    policy = _doc(base, f"p{size}.json")
    wide, narrow = _doc(widened(base), "wide.json"), _doc(narrowed(base), "narrow.json")
    return [
        ("no-new-access itself", lambda b, t: no_new_access(policy, policy, backend=b, timeout_ms=t)),
        ("no-new-access widened", lambda b, t: no_new_access(policy, wide, backend=b, timeout_ms=t)),
        ("no-new-access narrowed", lambda b, t: no_new_access(policy, narrow, backend=b, timeout_ms=t)),
        (
            "access-not-granted",
            lambda b, t: access_not_granted(policy, ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"], backend=b, timeout_ms=t),
        ),
        ("no-public-access", lambda b, t: no_public_access(policy, backend=b, timeout_ms=t)),
    ]


def measure(checks: list[tuple[str, Check]], backend: str, timeout: int, repeats: int) -> dict[str, Any]:
    times: list[float] = []
    verdicts: dict[str, str] = {}
    timeouts: list[str] = []
    for name, check in checks:
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            result = check(backend, timeout)
            samples.append(time.perf_counter() - started)
        verdicts[name] = result.label
        if result.verdict == "unconfirmed" and "no answer" in result.message:
            timeouts.append(name)
        times.append(statistics.median(samples))
    return {
        "checks": len(checks),
        "median_ms": statistics.median(times) * 1000,
        "max_ms": max(times) * 1000,
        "over_2s": sum(t > 2 for t in times),
        "timeouts": timeouts,
        "verdicts": verdicts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one repetition per check")
    parser.add_argument("--solvers", default="cvc5", help="comma-separated: cvc5,z3")
    parser.add_argument("--timeout", type=int, default=10_000, help="solver time limit per check (ms)")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    workloads = [("pairs", pair_checks())] + [(f"{n} statements", size_checks(n)) for n in SIZES]
    rows: list[dict[str, Any]] = []
    for backend in args.solvers.split(","):
        pair_checks()[0][1](backend, args.timeout)  # warm-up: catalog, grammars, solver library
        for workload, checks in workloads:
            row = {"solver": backend, "workload": workload, **measure(checks, backend, args.timeout, repeats)}
            rows.append(row)
            print(
                f"  {backend:5s} {workload:14s} median {row['median_ms']:8.1f} ms  max {row['max_ms']:8.1f} ms", file=sys.stderr
            )
    print("| solver | workload | checks | median (ms) | max (ms) | > 2 s | timeouts |")
    print("|---|---|---:|---:|---:|---:|---|")
    for row in rows:
        timeouts = ", ".join(row["timeouts"]) or "-"
        print(
            f"| {row['solver']} | {row['workload']} | {row['checks']} | {row['median_ms']:.1f} | {row['max_ms']:.1f} | "
            f"{row['over_2s']} | {timeouts} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
