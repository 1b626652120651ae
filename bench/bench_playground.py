"""Playground keystroke latency: one full answer (parse + validate + lint + decide + trace + suggestions) per edit.

usage (from the repository root):  python bench/bench_playground.py [--edits N] [--json OUT.json]

The workspace is the worst case the playground's target names: a ~32 KB key policy (AWS's key-policy
size limit), an identity policy, a permissions boundary, a session policy, two SCP levels, a grant and a
request context. Each "keystroke" changes one character of one Sid in the key policy (so no cache of
the previous text can answer) and alternates the request between an allow and a deny (a deny also runs
the evaluator-verified suggestions). Reported: median, 95th percentile and worst per answer (wall clock and
CPU time, since this machine is often shared), and where the time goes: the edited policy's parse and
lint measured on their own. The other editors' unchanged texts are answered from the playground's
per-editor cache, as they are while a person types. No peer has a KMS playground to
run beside it; the target is absolute: p95 < 50 ms on this machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from policyengine import parse_policy  # noqa: E402
from policyengine.lint import LintTarget  # noqa: E402
from policyengine.lint.engine import lint_target  # noqa: E402
from policyengine.playground import Workspace, answer  # noqa: E402

ACCOUNT = "111122223333"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/AppRole"


def key_policy(target_bytes: int = 32_000) -> str:
    statements: list[dict[str, Any]] = [
        {
            "Sid": "Root",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    i = 0
    while len(json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)) < target_bytes:
        statements.append(
            {
                "Sid": f"Team{i:04d}",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/team-{i}"},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"kms:EncryptionContext:team": f"team-{i}", "kms:ViaService": "s3.us-east-1.amazonaws.com"}
                },
            }
        )
        i += 1
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)


def workspace(text: str, action: str) -> Workspace:
    allow_kms = json.dumps({"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]})
    return Workspace.from_json(
        {
            "policies": {
                "key_policy": text,
                "identity_policies": [
                    {
                        "principal": ROLE,
                        "policy": json.dumps({"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY}]}),
                    }
                ],
                "permissions_boundary": allow_kms,
                "session_policy": allow_kms,
                "scps": [{"level": 0, "policy": allow_kms}, {"level": 1, "policy": allow_kms}],
                "grants": json.dumps([{"key_arn": KEY, "grantee_principal": ROLE, "operations": ["Encrypt"]}]),
            },
            "request": {
                "principal": f"arn:aws:sts::{ACCOUNT}:assumed-role/AppRole/s",
                "action": action,
                "resource": KEY,
                "context": json.dumps({"aws:SecureTransport": "true", "kms:ViaService": "s3.us-east-1.amazonaws.com"}),
                "encryption_context": json.dumps({"team": "team-7"}),
            },
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    base = key_policy()
    cut = base.index("Team0000")
    samples: list[float] = []
    cpu: list[float] = []
    stages: dict[str, list[float]] = {"parse + validate the edited 32 KB key policy": [], "lint it": []}
    answer(workspace(base, "kms:Decrypt"))  # warm-up: grammars, catalog, the other editors' parses
    for n in range(args.edits):
        # A keystroke: the Sid of the first team statement gets a new value never seen before.
        text = base[:cut] + f"T{n:07d}" + base[cut + 8 :]
        ws = workspace(text, "kms:Decrypt" if n % 2 == 0 else "kms:ScheduleKeyDeletion")
        started, started_cpu = time.perf_counter(), time.process_time()
        result = answer(ws)
        samples.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        assert result["decision"] is not None
        # The stages on their own, on another unseen text (so no cache answers them).
        other = base[:cut] + f"U{n:07d}" + base[cut + 8 :]
        started = time.perf_counter()
        document = parse_policy(other, "key_policy")
        stages["parse + validate the edited 32 KB key policy"].append(time.perf_counter() - started)
        started = time.perf_counter()
        lint_target(LintTarget("key_policy", "key", document, other))
        stages["lint it"].append(time.perf_counter() - started)
    samples.sort()
    p95 = samples[int(len(samples) * 0.95) - 1]
    cpu_sorted = sorted(cpu)
    stages["answer, CPU time"] = cpu
    report = {
        "key_policy_bytes": len(base),
        "edits": args.edits,
        "median_ms": statistics.median(samples) * 1000,
        "p95_ms": p95 * 1000,
        "max_ms": samples[-1] * 1000,
        "cpu_p95_ms": cpu_sorted[int(len(cpu_sorted) * 0.95) - 1] * 1000,
        "stages_median_ms": {k: statistics.median(v) * 1000 for k, v in stages.items()},
    }
    print(f"key policy {len(base)} bytes, {args.edits} edits (allow and deny alternating)")
    print(
        f"answer per keystroke: median {report['median_ms']:.1f} ms, p95 {report['p95_ms']:.1f} ms, max {report['max_ms']:.1f} ms"
    )
    print(f"answer CPU time per keystroke: p95 {report['cpu_p95_ms']:.1f} ms (what load on a shared machine cannot inflate)")
    for name, value in report["stages_median_ms"].items():
        print(f"  {name}: median {value:.1f} ms")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
