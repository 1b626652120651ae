"""A generated organization of any size, deterministic from a seed, for benchmarks and tests.

It is shaped like real estates rather than like random noise: a few shared managed policies
(KMS users scoped by resource tag, read-only, admins, role assumers), users and roles that
attach one to three of them, some boundaries, trust policies that trust the account with MFA,
one specific role (chains), a service or another account, and key policies with a root
statement, named admins, named users in this and other accounts with ``kms:ViaService`` and
encryption-context conditions, TLS denies and grants.
"""

from __future__ import annotations

import random
from typing import Any

from policyengine.access.snapshot import Snapshot

V = "2012-10-17"


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": V, "Statement": list(statements)}


def _managed(account: str) -> list[dict[str, Any]]:
    arn = f"arn:aws:iam::{account}:policy/"
    return [
        {
            "arn": arn + "KmsUseProd",
            "name": "KmsUseProd",
            "document": _policy(
                {
                    "Effect": "Allow",
                    "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": f"arn:aws:kms:*:{account}:key/*",
                    "Condition": {"StringEquals": {"aws:ResourceTag/env": "prod"}},
                }
            ),
        },
        {
            "arn": arn + "KmsUseAny",
            "name": "KmsUseAny",
            "document": _policy(
                {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "arn:aws:kms:*:*:key/*"}
            ),
        },
        {
            "arn": arn + "KmsReadOnly",
            "name": "KmsReadOnly",
            "document": _policy({"Effect": "Allow", "Action": ["kms:Describe*", "kms:List*", "kms:Get*"], "Resource": "*"}),
        },
        {
            "arn": arn + "KmsAdmin",
            "name": "KmsAdmin",
            "document": _policy({"Effect": "Allow", "Action": "kms:*", "Resource": "*"}),
        },
        {
            "arn": arn + "AssumeDeploy",
            "name": "AssumeDeploy",
            "document": _policy(
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{account}:role/deploy-*"}
            ),
        },
        {"arn": arn + "S3Work", "name": "S3Work", "document": _policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})},
        {
            "arn": arn + "Boundary",
            "name": "Boundary",
            "document": _policy(
                {"Effect": "Allow", "Action": ["kms:Describe*", "kms:Decrypt", "sts:AssumeRole", "s3:*"], "Resource": "*"}
            ),
        },
    ]


def generate(principals: int = 1000, keys: int = 100, accounts: int = 5, seed: int = 7) -> Snapshot:
    """A snapshot with about ``principals`` users and roles and ``keys`` keys over ``accounts`` accounts."""
    rng = random.Random(seed)
    ids = [f"{100000000000 + i + 1}" for i in range(accounts)]
    data: dict[str, Any] = {"organization": {"id": "o-generated1", "management_account": "999999999999"}, "accounts": []}
    everyone: list[str] = []
    roles_of: dict[str, list[str]] = {a: [] for a in ids}
    per_account = max(1, principals // accounts)
    templates = ["KmsUseProd", "KmsUseAny", "KmsReadOnly", "KmsAdmin", "AssumeDeploy", "S3Work"]
    weights = [5, 2, 4, 1, 4, 6]
    account_docs = []
    for n, account in enumerate(ids):
        ou = "ou-gen-prod" if n % 2 == 0 else "ou-gen-dev"
        scps = [
            {
                "target": "r-gen",
                "policies": [{"name": "FullAWSAccess", "document": _policy({"Effect": "Allow", "Action": "*", "Resource": "*"})}],
            }
        ]
        if ou == "ou-gen-prod":
            scps.append(
                {
                    "target": ou,
                    "policies": [
                        {"name": "FullAWSAccess", "document": _policy({"Effect": "Allow", "Action": "*", "Resource": "*"})},
                        {
                            "name": "NoKeyDeletion",
                            "document": _policy({"Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}),
                        },
                    ],
                }
            )
        users, roles = [], []
        for i in range(per_account):
            attached = sorted(
                {f"arn:aws:iam::{account}:policy/{t}" for t in rng.choices(templates, weights, k=rng.randint(1, 3))}
            )
            boundary = f"arn:aws:iam::{account}:policy/Boundary" if rng.random() < 0.1 else None
            tags = {"team": rng.choice(["payments", "data", "platform", "web"])}
            if i % 5 < 2:
                name = f"user-{n}-{i}"
                user: dict[str, Any] = {"name": name, "managed_policies": attached, "tags": tags}
                if boundary:
                    user["permissions_boundary"] = boundary
                users.append(user)
                everyone.append(f"arn:aws:iam::{account}:user/{name}")
            else:
                name = f"deploy-{n}-{i}" if i % 7 == 0 else f"role-{n}-{i}"
                roles.append({"name": name, "managed_policies": attached, "tags": tags, "boundary": boundary})
                roles_of[account].append(name)
                everyone.append(f"arn:aws:iam::{account}:role/{name}")
        account_docs.append((account, ou, scps, users, roles))
    for account, ou, scps, users, roles in account_docs:
        for role in roles:
            role["trust_policy"] = _trust(rng, account, ids, roles_of)
            if role.pop("boundary"):
                role["permissions_boundary"] = f"arn:aws:iam::{account}:policy/Boundary"
        data["accounts"].append(
            {
                "id": account,
                "ou_path": ["r-gen", ou],
                "scps": scps,
                "managed_policies": _managed(account),
                "users": users,
                "roles": roles,
                "keys": [],
            }
        )
    for k in range(keys):
        entry = data["accounts"][k % accounts]
        entry["keys"].append(_key(rng, k, entry["id"], everyone))
    return Snapshot.model_validate(data)


def _trust(rng: random.Random, account: str, ids: list[str], roles_of: dict[str, list[str]]) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.35:
        return _policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            }
        )
    if roll < 0.65 and roles_of[account]:
        other = rng.choice(roles_of[account])
        return _policy(
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:role/{other}"}, "Action": "sts:AssumeRole"}
        )
    if roll < 0.85:
        service = rng.choice(["ec2.amazonaws.com", "lambda.amazonaws.com", "ecs-tasks.amazonaws.com"])
        return _policy({"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"})
    other_account = rng.choice(ids)
    return _policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{other_account}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": f"ext-{account}"}},
        }
    )


def _key(rng: random.Random, k: int, account: str, everyone: list[str]) -> dict[str, Any]:
    key_id = f"{k:08x}-0000-4000-8000-{k:012x}"
    statements: list[dict[str, Any]] = []
    if rng.random() < 0.9:
        statements.append(
            {
                "Sid": "EnableIAM",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        )
    admins = [p for p in rng.sample(everyone, 2)]
    statements.append(
        {
            "Sid": "KeyAdmins",
            "Effect": "Allow",
            "Principal": {"AWS": admins},
            "Action": [
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
            ],
            "Resource": "*",
        }
    )
    users = rng.sample(everyone, rng.randint(2, 6))
    use: dict[str, Any] = {
        "Sid": "KeyUsers",
        "Effect": "Allow",
        "Principal": {"AWS": users},
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
        "Resource": "*",
    }
    roll = rng.random()
    if roll < 0.4:
        use["Condition"] = {
            "StringEquals": {"kms:ViaService": rng.choice(["s3.us-east-1.amazonaws.com", "rds.us-east-1.amazonaws.com"])}
        }
    elif roll < 0.6:
        use["Condition"] = {"StringEquals": {"kms:EncryptionContext:app": f"app-{k % 10}"}}
    statements.append(use)
    if rng.random() < 0.5:
        statements.append(
            {
                "Sid": "DenyNoTLS",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "kms:*",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        )
    grants = []
    for g in range(rng.randint(0, 3)):
        grant: dict[str, Any] = {
            "grant_id": f"g-{k}-{g}",
            "grantee_principal": rng.choice(everyone),
            "operations": rng.choice([["Decrypt"], ["Encrypt", "Decrypt"], ["GenerateDataKey"], ["DescribeKey"]]),
        }
        if rng.random() < 0.5:
            grant["constraints"] = {"encryption_context_subset": {"app": f"app-{g}"}}
        grants.append(grant)
    return {
        "id": key_id,
        "region": "us-east-1",
        "aliases": [f"alias/key-{k}"],
        "tags": {"env": rng.choice(["prod", "dev"])},
        "policy": _policy(*statements),
        "grants": grants,
    }
