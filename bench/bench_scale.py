"""Does a call cost more in a bigger account? The local KMS, in process, as one account-region grows.

usage (from the repository root):  python bench/bench_scale.py [--sizes 10,1000,10000,100000]
                                                               [--stores sqlite,memory,postgres] [--samples N]
                                                               [--postgres-url URL] [--json OUT.json]

For each store and size N: a fresh store holding N symmetric keys in one account and region, each with
one alias and one material version, every tenth with automatic rotation on (written straight into the
store in batches, as CreateKey and CreateAlias would leave them, so that growing to 100,000 keys takes
seconds, not hours). Then, as the
account's root, each operation is timed on that account:

  Encrypt      4 KiB under a key named by its key id (the gate reads the key's aliases for kms:ResourceAliases)
  Decrypt      that ciphertext
  DescribeKey  by key id
  CreateKey    a new key, then CreateAlias for it (both timed together, per new key)
  ListKeys     the first page, Limit=100; and the page after the account's middle key (its marker)
  ListAliases  the first page, Limit=100; and the page after the middle alias
  Scheduled    one pass of scheduled work with nothing due (every tenth key rotates automatically, due in a
               year): what a call pays when the scheduler looks, found through the index on due time

Method: time.perf_counter per call, a warm-up of 20 calls, then --samples calls (default 200; CreateKey
and the rest a quarter of them). Every size of a store is grown first, then --rounds rounds (default 3)
visit the sizes in turn, so background load on a shared machine hits every size alike; each cell is the
median of the rounds' medians (p99 over every sample), with its ratio to the smallest size. The keys
CreateKey made are deleted (untimed) after it, so every round and list sees exactly N keys.
The PostgreSQL store (``--stores postgres``) is a throwaway cluster started with
Debian's initdb/pg_ctl (fsync on) with a database per size, or the database --postgres-url names (emptied
and refilled for each size, whose rounds then run before the next size's). Nothing is
asserted: the figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from policyengine.key_policies import default_key_policy_json  # noqa: E402
from policyengine.kms import LocalKms, root_caller  # noqa: E402
from policyengine.kms.core import key_arn, new_key_id  # noqa: E402
from policyengine.kms.keyspecs import new_material  # noqa: E402
from policyengine.store.memory import MemoryKeyStore  # noqa: E402
from policyengine.store.records import AliasRecord, KeyRecord  # noqa: E402
from policyengine.store.sqlite import SqliteKeyStore  # noqa: E402

ACCOUNT = "111122223333"
REGION = "us-east-1"
BATCH = 2000


def grow(kms: LocalKms, count: int) -> list[str]:
    """Write ``count`` keys with one alias each; their key ids."""
    policy = json.dumps(default_key_policy_json(ACCOUNT), indent=2)
    ids: list[str] = []
    now = time.time()
    for first in range(0, count, BATCH):
        with kms.store.transaction() as tx:
            for index in range(first, min(count, first + BATCH)):
                key_id = new_key_id()
                tx.put_key(
                    KeyRecord(
                        key_id=key_id,
                        arn=key_arn(REGION, ACCOUNT, key_id),
                        account=ACCOUNT,
                        region=REGION,
                        key_spec="SYMMETRIC_DEFAULT",
                        key_usage="ENCRYPT_DECRYPT",
                        origin="AWS_KMS",
                        key_manager="CUSTOMER",
                        state="Enabled",
                        creation_date=now + index * 1e-6,
                        policy=policy,
                        rotation_enabled=index % 10 == 0,
                        rotation_period_days=365 if index % 10 == 0 else None,
                        next_rotation_date=now + 365 * 86400 if index % 10 == 0 else None,
                    )
                )
                kms.new_material(tx, key_id, 1, new_material("SYMMETRIC_DEFAULT"), now)
                tx.put_alias(AliasRecord(ACCOUNT, REGION, f"alias/key-{index:06d}", key_id, now, now))
                ids.append(key_id)
    return ids


def measure(call: Callable[[], Any], samples: int) -> list[float]:
    """``samples`` timings of one call, in microseconds, after a warm-up of 20 calls."""
    for _ in range(20):
        call()
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1e6)
    return times


class Account:
    """One store grown to ``size`` keys, and the calls timed on it."""

    def __init__(self, kms: LocalKms, size: int) -> None:
        self.kms, self.size = kms, size
        self.root = root_caller(ACCOUNT)
        ids = grow(kms, size)
        self.key = ids[len(ids) // 2]
        self.blob = kms.encrypt(self.root, KeyId=self.key, Plaintext=b"x" * 4096)["CiphertextBlob"]
        with kms.store.transaction(write=False) as tx:
            middle = tx.get_key(self.key)
        assert middle is not None
        self.key_marker = f"pe-{middle.creation_date!r}/{middle.key_id}"  # what ListKeys returns after that key
        self.alias_marker = f"pe-alias/key-{len(ids) // 2:06d}"
        self.made: list[str] = []

    def create(self) -> None:
        new = self.kms.create_key(self.root)["KeyMetadata"]["KeyId"]
        self.made.append(new)
        self.kms.create_alias(self.root, AliasName=f"alias/new-{len(self.made):07d}", TargetKeyId=new)

    def drop_made(self) -> None:
        """Delete the keys CreateKey made (untimed), so every round and list sees ``size`` keys."""
        with self.kms.store.transaction() as tx:
            for key_id in self.made:
                tx.delete_key(key_id)
        self.made.clear()

    def scheduled_pass(self) -> None:
        self.kms.wake_scheduler()  # make the next pass look, as a key getting a due time does
        self.kms.run_scheduled_work(self.kms.clock.now())

    def round(self, samples: int) -> dict[str, list[float]]:
        kms, root, key, few = self.kms, self.root, self.key, max(20, samples // 4)
        timings = {
            "Encrypt": measure(lambda: kms.encrypt(root, KeyId=key, Plaintext=b"x" * 4096), samples),
            "Decrypt": measure(lambda: kms.decrypt(root, CiphertextBlob=self.blob), samples),
            "DescribeKey": measure(lambda: kms.describe_key(root, KeyId=key), samples),
            "CreateKey+CreateAlias": measure(self.create, few),
        }
        self.drop_made()
        timings |= {
            "ListKeys(Limit=100)": measure(lambda: kms.list_keys(root, Limit=100), few),
            "ListAliases(Limit=100)": measure(lambda: kms.list_aliases(root, Limit=100), few),
            "ListKeys(Limit=100) mid-account page": measure(lambda: kms.list_keys(root, Limit=100, Marker=self.key_marker), few),
            "ListAliases(Limit=100) mid-account page": measure(
                lambda: kms.list_aliases(root, Limit=100, Marker=self.alias_marker), few
            ),
            "Scheduled work pass (nothing due)": measure(self.scheduled_pass, few),
        }
        return timings


def summarise(rounds: list[dict[str, list[float]]]) -> dict[str, tuple[float, float]]:
    """Per operation: the median of the rounds' medians, and the 99th percentile over every sample."""
    result = {}
    for operation in rounds[0]:
        medians = [statistics.median(r[operation]) for r in rounds]
        every = sorted(t for r in rounds for t in r[operation])
        result[operation] = (statistics.median(medians), every[min(len(every) - 1, int(len(every) * 0.99))])
    return result


def open_store(kind: str, directory: Path, url: str | None) -> Any:
    if kind == "memory":
        return MemoryKeyStore()
    if kind == "sqlite":
        return SqliteKeyStore(directory / f"scale-{time.time_ns()}.sqlite3")
    assert url is not None
    from policyengine.store.postgres import PostgresKeyStore

    store = PostgresKeyStore(url)
    with store.transaction() as tx:
        for key in tx.all_keys():
            tx.delete_key(key.key_id)
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,1000,10000,100000")
    parser.add_argument("--stores", default="sqlite,memory")
    parser.add_argument("--samples", type=int, default=200, help="timed calls per operation per round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; each cell is the median of their medians")
    parser.add_argument("--postgres-url")
    parser.add_argument("--json")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    stores = args.stores.split(",")
    cluster = None
    if "postgres" in stores and not args.postgres_url:
        from tests.postgres.cluster import find_bindir, start_cluster

        bindir = find_bindir()
        if bindir is None:
            sys.exit("PostgreSQL is not installed (apt-get install postgresql), and no --postgres-url was given")
        cluster = start_cluster(bindir, durable=True)
    results: dict[str, dict[int, dict[str, tuple[float, float]]]] = {}
    per_round: dict[str, dict[int, dict[str, list[float]]]] = {}  # each round's median, for the JSON
    with tempfile.TemporaryDirectory() as tmp:
        for kind in stores:
            # Every size of one store is grown first, then the rounds visit the sizes in turn, so that
            # the machine's background load hits every size alike; PostgreSQL with a --postgres-url has
            # one database to empty and refill, so there each size runs its rounds before the next.
            together = kind != "postgres" or cluster is not None
            rounds: dict[int, list[dict[str, list[float]]]] = {size: [] for size in sizes}
            accounts: dict[int, Account] = {}
            for size in sizes:
                url = cluster.create_database() if kind == "postgres" and cluster is not None else args.postgres_url
                if kind == "postgres" and url is not None:
                    from policyengine.store.postgres import upgrade

                    upgrade(url)
                started = time.perf_counter()
                accounts[size] = Account(LocalKms(open_store(kind, Path(tmp), url), os.urandom(32), region=REGION), size)
                print(f"# {kind} {size:>7} keys grown in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
                if not together:
                    for _ in range(args.rounds):
                        rounds[size].append(accounts[size].round(args.samples))
                    accounts.pop(size).kms.store.close()
            for index in range(args.rounds if together else 0):
                for size, account in accounts.items():
                    rounds[size].append(account.round(args.samples))
                print(f"# {kind} round {index + 1} of {args.rounds} done", file=sys.stderr, flush=True)
            for account in accounts.values():
                account.kms.store.close()
            results[kind] = {size: summarise(rounds[size]) for size in sizes}
            per_round[kind] = {
                size: {op: [statistics.median(r[op]) for r in rounds[size]] for op in rounds[size][0]} for size in sizes
            }
    if cluster is not None:
        cluster.stop()
    for kind, by_size in results.items():
        print(
            f"\n{kind}: median µs (p99 µs) per call, median of {args.rounds} interleaved rounds; "
            f"x = median / median at {sizes[0]} keys"
        )
        operations = list(next(iter(by_size.values())))
        print("| operation | " + " | ".join(f"{size:,} keys" for size in sizes) + " |")
        print("|---|" + "---|" * len(sizes))
        for operation in operations:
            base = by_size[sizes[0]][operation][0]
            cells = [
                f"{by_size[s][operation][0]:,.0f} ({by_size[s][operation][1]:,.0f}) x{by_size[s][operation][0] / base:.2f}"
                for s in sizes
            ]
            print(f"| {operation} | " + " | ".join(cells) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results, "round_medians": per_round}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
