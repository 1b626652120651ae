"""Write a synthetic organization snapshot of any size (deterministic from a seed).

The organization is ``policyengine.access.synthetic.generate``: users and roles spread over the
accounts (shared managed policies, boundaries, SCPs per OU, trust policies with MFA, role
chains, services and other accounts), keys with admins, users in this and other accounts,
``kms:ViaService`` and encryption-context conditions, TLS denies and grants. The issue's scale
target is the default: 20,000 principals, 2,000 keys, 50 accounts.

    python bench/gen_org.py --out /tmp/org.json                       # 20,000 x 2,000 x 50
    python bench/gen_org.py --principals 1000 --keys 100 --accounts 5 --out small.yaml
    policyengine who-can kms:Decrypt alias/key-7 -s /tmp/org.json
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policyengine.access.loader import dump_snapshot  # noqa: E402
from policyengine.access.synthetic import generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--principals", type=int, default=20_000)
    parser.add_argument("--keys", type=int, default=2_000)
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True, help="snapshot file to write (.json or .yaml)")
    args = parser.parse_args()
    started = time.perf_counter()
    snapshot = generate(args.principals, args.keys, accounts=args.accounts, seed=args.seed)
    dump_snapshot(snapshot, args.out)
    principals = sum(len(a.users) + len(a.roles) for a in snapshot.accounts)
    keys = sum(len(a.keys) for a in snapshot.accounts)
    print(
        f"{args.out}: {principals:,} users and roles, {keys:,} keys, {len(snapshot.accounts)} accounts "
        f"({args.out.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - started:.1f} s)"
    )


if __name__ == "__main__":
    main()
