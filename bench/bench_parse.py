"""Parse + validate throughput: policyengine's two parsing paths against a json.loads + pydantic floor.

usage (from the repository root):  python bench/bench_parse.py [--quick] [--json OUT.json]

Inputs: every policy in examples/*.json, plus a generated key policy of ~32 KB (the AWS key-policy
size limit), built deterministically below (no randomness: everything derives from the statement index).

Per input, the median time of one call of:
  floor      json.loads(text) + FloorPolicy.model_validate(data): a small pydantic v2 model mirroring
             Version/Id/Statement/Sid/Effect/Principal/Action/Resource/Condition (declarative only, no
             Python validators: the cheapest validation pydantic can do of the same shape);
  floor-json FloorPolicy.model_validate_json(text) (pydantic's Rust JSON parser; shown for reference only);
  fast       policyengine.parse_policy_fast(text)   (C json decoder -> reader -> frozen models, no spans);
  positions  policyengine.parse_policy(text)        (the position scanner -> reader -> frozen models).
A second table times the JSON-with-positions step alone: json.loads; the linter's reading of a policy file
(a plain document: the C decoder's value, no Python object per value, spans found on demand by
parsing/json_locate.py); the
first span a new locator finds (the document's last value); scan_json (a span on every value, for
parse_policy and the inputs that are not plain documents); and the Lark LALR parser of
grammars/policy_json.lark (only consulted to explain a syntax error), after checking that the scanner and
Lark build identical trees and spans on every input.
The get-key-policy wrapper ({"Policy": "<json text>"}) is unwrapped by the floor too (a second json.loads).

Method: time.process_time (CPU time); per (input, method) a warm-up, then a loop count calibrated so that one sample
lasts >= ~20 ms (--quick: ~5 ms), REPEATS samples, median per call. Methods are interleaved per input.
The garbage collector is off while timing (as timeit does: the main columns are stable); floor and fast are
timed a second time with it on ("GC on" columns), which is what a long-running program pays.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the checkout's package, even when not installed

import policyengine as pe  # noqa: E402
from policyengine.lint.inputs.policy import plain_document  # noqa: E402
from policyengine.parsing.json_locate import SpanLocator  # noqa: E402
from policyengine.parsing.json_scan import scan_json  # noqa: E402
from policyengine.parsing.json_tree import PairList, load_plain  # noqa: E402
from policyengine.parsing.loader import policy_json_parser  # noqa: E402

KEY_POLICY_LIMIT = 32 * 1024  # bytes (AWS KMS: key policy documents up to 32 KB)


# ---------------------------------------------------------------- the floor model (pydantic v2)
StrOrList = str | list[str]
PrincipalKey = Literal["AWS", "Service", "Federated", "CanonicalUser"]
ConditionScalar = str | bool | int | float


class FloorStatement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    Sid: str | None = None
    Effect: Literal["Allow", "Deny"]
    Principal: Literal["*"] | dict[PrincipalKey, StrOrList] | None = None
    NotPrincipal: Literal["*"] | dict[PrincipalKey, StrOrList] | None = None
    Action: StrOrList | None = None
    NotAction: StrOrList | None = None
    Resource: StrOrList | None = None
    NotResource: StrOrList | None = None
    Condition: dict[str, dict[str, ConditionScalar | list[ConditionScalar]]] | None = None


class FloorPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    Version: Literal["2012-10-17", "2008-10-17"] | None = None
    Id: str | None = None
    Statement: FloorStatement | list[FloorStatement] = Field(...)


def floor(text: str) -> FloorPolicy:
    data = json.loads(text)
    if isinstance(data, dict) and isinstance(data.get("Policy"), str) and set(data) <= {"Policy", "PolicyName"}:
        data = json.loads(data["Policy"])
    return FloorPolicy.model_validate(data)


def floor_json(text: str) -> FloorPolicy:
    return FloorPolicy.model_validate_json(text)


def _floor_json_unwrapping(text: str) -> FloorPolicy:
    return FloorPolicy.model_validate_json(json.loads(text)["Policy"])


def floor_json_for(text: str):  # chosen outside the timed loop: this column is a reference only
    data = json.loads(text)
    wrapped = isinstance(data, dict) and isinstance(data.get("Policy"), str) and set(data) <= {"Policy", "PolicyName"}
    return _floor_json_unwrapping if wrapped else floor_json


# ---------------------------------------------------------------- the generated ~32 KB key policy
ACCOUNT = "111122223333"
PARTNERS = ("444455556666", "777788889999", "123456789012")
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2")
SERVICES = ("s3", "dynamodb", "rds", "ebs", "secretsmanager", "sqs", "lambda")
TEAMS = ("payments", "ledger", "analytics", "search", "identity", "billing", "risk", "ml")
ADMIN_ACTIONS = [
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
]
USAGE_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
GRANT_ACTIONS = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]


def _role(i: int, account: str = ACCOUNT) -> str:
    team = TEAMS[i % len(TEAMS)]
    return f"arn:aws:iam::{account}:role/{team}/svc-{team}-{i:03d}"


def _statement(i: int) -> dict[str, Any]:
    """Statement i of the generated policy: one of six realistic shapes, rotating."""
    team = TEAMS[i % len(TEAMS)]
    region = REGIONS[i % len(REGIONS)]
    shape = i % 6
    if shape == 0:  # key users of one team through two services, with an encryption context
        return {
            "Sid": f"AllowUse{team.title()}{i:03d}",
            "Effect": "Allow",
            "Principal": {"AWS": [_role(i), _role(i + 8), _role(i + 16)]},
            "Action": USAGE_ACTIONS,
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "kms:EncryptionContext:team": team,
                    "kms:ViaService": [
                        f"{SERVICES[i % 7]}.{region}.amazonaws.com",
                        f"{SERVICES[(i + 1) % 7]}.{region}.amazonaws.com",
                    ],
                }
            },
        }
    if shape == 1:  # grants for AWS resources only
        return {
            "Sid": f"AllowGrants{i:03d}",
            "Effect": "Allow",
            "Principal": {"AWS": _role(i)},
            "Action": GRANT_ACTIONS,
            "Resource": "*",
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        }
    if shape == 2:  # cross-account use, narrowed by caller account and context keys
        partner = PARTNERS[i % len(PARTNERS)]
        return {
            "Sid": f"AllowPartner{partner}{i:03d}",
            "Effect": "Allow",
            "Principal": {"AWS": [f"arn:aws:iam::{partner}:root", _role(i, partner)]},
            "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"kms:CallerAccount": partner},
                "ForAnyValue:StringLike": {"kms:EncryptionContextKeys": ["aws:s3:arn", f"{team}:*"]},
            },
        }
    if shape == 3:  # deny outside the corporate network unless via a service
        return {
            "Sid": f"DenyOutsideNetwork{i:03d}",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["kms:Decrypt", "kms:ReEncryptFrom"],
            "Resource": "*",
            "Condition": {
                "NotIpAddress": {"aws:SourceIp": [f"10.{i % 256}.0.0/16", "192.0.2.0/24", "2001:db8::/32"]},
                "Bool": {"aws:ViaAWSService": "false"},
                "StringNotLikeIfExists": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/breakglass-*"},
            },
        }
    if shape == 4:  # administrators, with MFA and a time window
        return {
            "Sid": f"AllowAdmins{i:03d}",
            "Effect": "Allow",
            "Principal": {
                "AWS": [f"arn:aws:iam::{ACCOUNT}:role/KeyAdmin-{i:03d}", f"arn:aws:iam::{ACCOUNT}:user/ops/admin-{i:03d}"]
            },
            "Action": ADMIN_ACTIONS,
            "Resource": "*",
            "Condition": {
                "Bool": {"aws:MultiFactorAuthPresent": "true"},
                "NumericLessThan": {"aws:MultiFactorAuthAge": 3600},
                "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
            },
        }
    # shape 5: a service principal, scoped to the source account and ARN
    return {
        "Sid": f"AllowService{i:03d}",
        "Effect": "Allow",
        "Principal": {"Service": [f"logs.{region}.amazonaws.com", "cloudtrail.amazonaws.com"]},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": f"arn:aws:logs:{region}:{ACCOUNT}:log-group:/{team}/*"},
        },
    }


def generated_key_policy(limit: int = KEY_POLICY_LIMIT) -> str:
    """The largest policy of this statement sequence whose text (indent 2, UTF-8) fits in ``limit`` bytes."""
    root = {
        "Sid": "EnableIAMUserPermissions",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    statements = [root]
    text = ""
    i = 0
    while True:
        candidate = json.dumps(
            {"Version": "2012-10-17", "Id": "key-policy-generated-32k", "Statement": [*statements, _statement(i)]}, indent=2
        )
        if len(candidate.encode()) > limit:
            break
        statements.append(_statement(i))
        text = candidate
        i += 1
    return text


# ---------------------------------------------------------------- timing
def _lark_json(text: str) -> Any:
    return policy_json_parser().parse(text)


def _lint_read(text: str) -> Any:
    """What the linter pays to read a policy file before any position is asked for.

    A plain policy document: the C decoder's value (``plain_document``); anything else (here, the
    ``get-key-policy`` wrapper) is read with every position, by the scanner.
    """
    return plain_document(text) or scan_json(text)


def _first_location(text: str) -> Any:
    """The span of the document's last value, the first a new locator is asked for: the worst single finding."""
    root = _PLAIN.get(text)
    if root is None:
        root = _PLAIN[text] = load_plain(text)
    containers: list[Any] = []  # from the root down to the last value's container
    value = root
    while (type(value) is PairList or type(value) is list) and value:
        containers.append(value)
        value = value[-1][1] if type(value) is PairList else value[-1]
    scope = containers[2] if len(containers) > 2 else None  # the statement, where the reader tells the locator to look
    container = containers[-1] if containers else None
    return SpanLocator(text, root).span_of(container, len(container) - 1 if containers else 0, scope)


_PLAIN: dict[str, Any] = {}


def per_call(fn, arg: str, repeats: int, min_sample: float, gc_on: bool = False) -> tuple[float, int]:
    """Median seconds per call over ``repeats`` samples of a calibrated loop; returns (median, loops).

    Like ``timeit``, the cyclic garbage collector is off while timing unless ``gc_on``.
    """
    for _ in range(3):  # warm-up (grammar/parsers built, caches filled)
        fn(arg)
    gc.collect()
    if not gc_on:
        gc.disable()
    try:
        return _calibrated(fn, arg, repeats, min_sample)
    finally:
        gc.enable()


def _calibrated(fn, arg: str, repeats: int, min_sample: float) -> tuple[float, int]:
    loops = 1
    while True:
        t0 = time.process_time()
        for _ in range(loops):
            fn(arg)
        dt = time.process_time() - t0
        if dt >= min_sample:
            break
        loops = max(loops * 2, int(loops * min_sample / max(dt, 1e-9) * 1.2))
    samples = []
    for _ in range(repeats):
        t0 = time.process_time()
        for _ in range(loops):
            fn(arg)
        samples.append((time.process_time() - t0) / loops)
    return statistics.median(samples), loops


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter samples (smoke run)")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--json", help="also write the results as JSON here")
    ap.add_argument("--write-generated", help="write the generated 32 KB policy to this file and exit")
    args = ap.parse_args()

    big = generated_key_policy()
    if args.write_generated:
        Path(args.write_generated).write_text(big)
        print(f"wrote {len(big.encode())} bytes to {args.write_generated}")
        return

    inputs: list[tuple[str, str]] = [(p.name, p.read_text(encoding="utf-8")) for p in sorted((REPO / "examples").glob("*.json"))]
    inputs.append(("generated-32k-key-policy", big))

    # Sanity: every input is accepted by all four and both of our paths see the same statements.
    for name, text in inputs:
        fast, slow, fl = pe.parse_policy_fast(text, name), pe.parse_policy(text, name), floor(text)
        assert len(fast.statements) == len(slow.statements), name
        n_floor = 1 if isinstance(fl.Statement, FloorStatement) else len(fl.Statement)
        assert n_floor == len(fast.statements), name
        assert [(s.sid, s.effect, len(s.conditions)) for s in fast.statements] == [
            (s.sid, s.effect, len(s.conditions)) for s in slow.statements
        ], name
        floor_json_for(text)(text)

    scans = [
        ("json.loads", json.loads),
        ("lint-read", _lint_read),
        ("locate", _first_location),
        ("scan", scan_json),
        ("lark", _lark_json),
    ]
    for name, text in inputs:  # the scanner and the grammar build the same tree, spans included
        assert scan_json(text).outline() == _lark_json(text).outline(), name

    min_sample = 0.005 if args.quick else 0.02
    results = []
    t_start = time.perf_counter()
    for name, text in inputs:
        row: dict[str, Any] = {
            "input": name,
            "bytes": len(text.encode()),
            "statements": len(pe.parse_policy_fast(text).statements),
        }
        methods = [
            ("floor", floor),
            ("floor-json", floor_json_for(text)),
            ("fast", pe.parse_policy_fast),
            ("positions", pe.parse_policy),
        ]
        for mname, fn in methods:
            row[mname], _loops = per_call(fn, text, args.repeats, min_sample)
        for mname, fn in methods[::2]:  # floor and fast again, with the garbage collector running
            row[f"{mname}-gc"], _loops = per_call(fn, text, args.repeats, min_sample, gc_on=True)
        for mname, fn in scans:  # the JSON-with-positions step alone, against the C decoder
            row[mname], _loops = per_call(fn, text, args.repeats, min_sample)
        results.append(row)

    print(
        f"# parse + validate: CPython {platform.python_version()}, pydantic {__import__('pydantic').VERSION}, "
        f"lark {__import__('lark').__version__}, nproc {os.cpu_count()}, {args.repeats} samples/median, "
        f"{time.perf_counter() - t_start:.1f} s"
    )
    print()
    print(
        "| input | bytes | stmts | floor (us) | floor-json (us) | fast (us) | positions (us) "
        "| fast/floor | positions/floor | fast MB/s | GC on: floor / fast (us) | GC on: fast/floor |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['input']} | {r['bytes']:,} | {r['statements']} | {r['floor'] * 1e6:,.1f} | {r['floor-json'] * 1e6:,.1f} "
            f"| {r['fast'] * 1e6:,.1f} | {r['positions'] * 1e6:,.1f} | {r['fast'] / r['floor']:.2f} "
            f"| {r['positions'] / r['floor']:.1f} | {r['bytes'] / r['fast'] / 1e6:.2f} "
            f"| {r['floor-gc'] * 1e6:,.1f} / {r['fast-gc'] * 1e6:,.1f} | {r['fast-gc'] / r['floor-gc']:.2f} |"
        )
    print()
    print("JSON with positions, against `json.loads` on the same text. **lint read**: what `policyengine lint` pays to")
    print("read a policy file (a plain document: the C decoder's value, positions found on demand; the `get-key-policy`")
    print("wrapper: the scanner). **locate**: the first span asked of a new locator, the document's last value (the")
    print("costliest single position). **scan_json**: a span on every value. Lark: the grammar, only for syntax errors.")
    print()
    print(
        "| input | bytes | json.loads (us) | **lint read** (us) | locate (us) | scan_json (us) | Lark LALR (us) "
        "| **lint read/json.loads** | locate/json.loads | scan/json.loads | Lark/json.loads |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        base = r["json.loads"]
        print(
            f"| {r['input']} | {r['bytes']:,} | {base * 1e6:,.1f} | {r['lint-read'] * 1e6:,.1f} | {r['locate'] * 1e6:,.1f} "
            f"| {r['scan'] * 1e6:,.1f} | {r['lark'] * 1e6:,.1f} | **{r['lint-read'] / base:.1f}** | {r['locate'] / base:.1f} "
            f"| {r['scan'] / base:.1f} | {r['lark'] / base:.1f} |"
        )
    worst = max(results, key=lambda r: r["fast"] / r["floor"])
    met = all(r["fast"] / r["floor"] <= 2.0 for r in results)
    print()
    print(
        f"target fast/floor <= 2.0 on every input: {'MET' if met else 'NOT MET'} "
        f"(worst {worst['fast'] / worst['floor']:.2f} on {worst['input']})"
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"python": platform.python_version(), "results": results}, indent=1))


if __name__ == "__main__":
    main()
