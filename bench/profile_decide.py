"""Where the per-decision time of the peer benchmark goes, for policyengine only (not a benchmark of record).

usage (from the repository root):  python bench/profile_decide.py [--top 15] [--no-profile]

For each workload of bench/peers/workload (kms, big), on a fresh adapter instance each time:
  * make_request only (building the Request: caller classification, context normalisation);
  * authorize only, on pre-built requests, first pass (per-instance caches cold) and second pass (warm);
  * the adapter's decide (make_request + authorize), cold, as bench/peers/runner.py times it;
then cProfile of one cold decide pass per workload, top functions by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import json
import pstats
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PEERS = REPO / "bench" / "peers"
WL = PEERS / "workload"
sys.path.insert(0, str(REPO))

import policyengine as pe  # noqa: E402


def load_adapter():
    spec = importlib.util.spec_from_file_location("policyengine_adapter", PEERS / "adapters" / "policyengine_adapter.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rate(fn, items) -> float:
    t0 = time.perf_counter()
    for item in items:
        fn(item)
    return len(items) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--no-profile", action="store_true")
    args = ap.parse_args()
    adapter = load_adapter()
    bundles = json.loads((WL / "bundles.json").read_text())
    with (WL / "requests.jsonl").open() as f:
        requests = [json.loads(line) for line in f]
    for name, bundle in bundles.items():
        names = [bundle["resource_policy"]] if bundle["resource_policy"] else []
        for attached in bundle["identity"].values():
            names += [n for n in attached if n not in names]
        texts = {n: (WL / f"{n}.json").read_text() for n in names}
        mine = [r for r in requests if r["bundle"] == name]
        account = bundle["resource_account"]

        def build(r, account=account):
            return pe.make_request(r["principal"], r["action"], r["resource"], r["context"], resource_account=account)

        # PolicySets as the adapter builds them (key_policy kind for KMS keys).
        def policy_sets(bundle=bundle, texts=texts, name=name):
            docs = {n: pe.parse_policy_fast(t, source=n) for n, t in texts.items()}
            rp = bundle["resource_policy"]
            cp = pe.compile_policy(docs[rp], "key_policy" if name == "kms" else "resource_policy", rp) if rp else None
            ident = {n: pe.compile_policy(d, "identity", n) for n, d in docs.items() if n != rp}
            return {p: pe.PolicySet(key_policy=cp, identity=tuple(ident[n] for n in ns)) for p, ns in bundle["identity"].items()}

        adapter.prepare(bundle, texts)(mine[0])  # module-level warm-up
        for r in mine[:200]:
            build(r)
        built = [build(r) for r in mine]
        sets = policy_sets()
        pairs = list(zip(built, [sets[r["principal"]] for r in mine], strict=True))
        mk = rate(build, mine)
        auth_cold = rate(lambda p: pe.authorize(*p), pairs)
        auth_warm = rate(lambda p: pe.authorize(*p), pairs)
        full_cold = rate(adapter.prepare(bundle, texts), mine)
        print(f"## {name} ({len(mine)} requests)")
        print(f"   make_request only            {mk:>10,.0f}/s  {1e6 / mk:6.2f} us")
        print(f"   authorize only, cold caches  {auth_cold:>10,.0f}/s  {1e6 / auth_cold:6.2f} us")
        print(f"   authorize only, warm caches  {auth_warm:>10,.0f}/s  {1e6 / auth_warm:6.2f} us")
        print(f"   decide (both), cold          {full_cold:>10,.0f}/s  {1e6 / full_cold:6.2f} us")
        if not args.no_profile:
            decide = adapter.prepare(bundle, texts)
            profiler = cProfile.Profile()
            profiler.enable()
            for r in mine:
                decide(r)
            profiler.disable()
            stats = pstats.Stats(profiler)
            stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
