"""Benchmark: access questions over a generated organization, side by side with principalmapper.

The snapshot is ``policyengine.access.synthetic.generate(1000, 100)``: 1,000 users and roles in
five accounts, 100 keys, shared managed policies, boundaries, SCPs, role chains, cross-account
key users, grants. We time, in one process (CPU time and wall time):

* building the world (parse and compile every policy) and the AssumeRole graph;
* ``who-can kms:Decrypt`` on 10 keys (every subject, with routes through roles);
* ``can`` for 2,000 random (principal, key) pairs (200 until the fast paths: too few to hold the
  one pair in fifty whose caller and key share an account, where the evaluations are), ours and
  principalmapper's in turn on each half of them (``interleaved_can``: the two run in separate
  processes, and this shared machine changes speed within minutes; both pinned to one CPU, since its two
  virtual CPUs differ in speed at times), with a reference loop timed around each side's slices in its own
  process;
* the full access matrix: every user and role × 100 keys × 4 action groups (~33 actions per key).

principalmapper 1.1.5 (its own venv, driven like ``bench/peers/adapters/pmapper_adapter.py``)
gets the same principals as ``Node`` objects (policies, trust policy, boundary) and answers
what it can: its AssumeRole edge generation (``sts_edges.generate_edges_locally``), who-can as
``local_check_authorization_full`` on every node with the key policy, and can as
``search_authorization_full`` (direct check, then along its edges), twice: on the graph it built
within its budget (at 20,000 principals a sample of the first nodes, so most callers have no
edges in it and its can is one check) and on the role graph we found (our edges as its ``Edge``
objects, each node's outbound edges filled in once, as its ``Node.get_outbound_edges`` caches
them). It has no partial
evaluation (conditions with keys it is not given simply fail), no grants and no RCPs, so it
does less work per answer than we do; the ratio is still per comparable query.

    python bench/bench_access.py               # ~1-2 min with principalmapper
    python bench/bench_access.py --no-peer     # ours only
    python bench/bench_access.py --json OUT    # keep the numbers
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policyengine.access import Access, World, stream_matrix  # noqa: E402
from policyengine.access.synthetic import generate  # noqa: E402

PEERS = Path(os.environ.get("BENCH_PEERS_HOME", Path.home() / ".cache" / "bench-peers"))
PMAPPER_PYTHON = PEERS / "venv-pmapper" / "bin" / "python"


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, wall seconds, CPU seconds)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


REFERENCE_LOOP = "sum(range(3_000_000))"


def reference_cpu() -> float:
    """CPU seconds of a fixed pure-Python loop (``REFERENCE_LOOP``), run next to a timed phase: this shared machine
    changes speed by up to 1.7x over minutes, so the can figures are also compared in units of this loop, measured
    the same way in principalmapper's process (same interpreter) right before and after its own phase."""
    start = time.process_time()
    sum(range(3_000_000))  # REFERENCE_LOOP; the peer's driver runs the same line
    return time.process_time() - start


def graph_series(sizes: list[int], per_account: int, seed: int) -> list[dict[str, Any]]:
    """The whole AssumeRole graph at several sizes (accounts grow with principals): it must grow less than quadratically."""
    rows = []
    for size in sizes:
        world = World.build(generate(size, max(1, size // 10), accounts=max(1, size // per_account), seed=seed))
        access = Access.of(world)
        edges, wall, cpu = timed(lambda: access.reach.edges)  # noqa: B023 - called at once
        count = sum(len(v) for v in edges.values())
        rows.append({"principals": len(world.principals), "edges": count, "graph_s": wall, "graph_cpu_s": cpu})
        print(f"  graph at {size:,} principals: {rows[-1]['edges']:,} edges, {wall:.2f} s", flush=True)
    return rows


class MemoryWatch:
    """Peak memory of this process and its children together, sampled every 0.2 s from /proc (Linux).

    RSS counts the pages forked workers share with the parent once per process (an upper bound);
    PSS splits shared pages between the processes sharing them (what the machine really holds).
    """

    def __init__(self) -> None:
        self.peak_rss_mb = 0.0
        self.peak_pss_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @staticmethod
    def _tree(pid: int) -> list[int]:
        pids = [pid]
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                pids += [c for child in (task / "children").read_text().split() for c in MemoryWatch._tree(int(child))]
            except OSError:
                continue
        return pids

    @staticmethod
    def _field(path: str, name: str) -> float:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(name):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            pids = self._tree(os.getpid())
            rss = sum(self._field(f"/proc/{p}/status", "VmRSS:") for p in pids)
            pss = sum(self._field(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids)
            self.peak_rss_mb = max(self.peak_rss_mb, rss)
            self.peak_pss_mb = max(self.peak_pss_mb, pss)


def streamed_matrix(world: World, fmt: str, processes: int | None) -> dict[str, Any]:
    """The full matrix as ``access-matrix`` computes it (stream_matrix, a process pool), written to a byte counter."""
    fresh = Access.of(world)  # the matrix builds its own graph and caches, as the command does
    written = [0]

    def sink(text: str) -> None:
        written[0] += len(text.encode())

    def tick(done: int) -> None:
        if done % 100 == 0 or done == len(world.keys):
            print(f"    matrix: {done:,} / {len(world.keys):,} keys, {time.perf_counter() - start:.0f} s", flush=True)

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with MemoryWatch() as memory:
        summary, wall, cpu = timed(
            lambda: stream_matrix(
                fresh,
                fresh.subjects.principals(),
                sink,
                fmt="json" if fmt == "json" else "text",
                processes=processes,
                progress=tick,
            )
        )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    children = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    cells = summary.subjects * summary.keys * len(summary.groups)
    return {
        "matrix_s": wall,
        "matrix_cpu_s": cpu + children,
        "matrix_parent_cpu_s": cpu,
        "matrix_processes": summary.processes,
        "matrix_cells": cells,
        "matrix_listed": summary.listed,
        "matrix_counts": summary.counts,
        "matrix_groups_evaluated": summary.evaluated,
        "matrix_groups_prechecked": summary.prechecked,
        "matrix_bytes": written[0],
        "matrix_format": fmt,
        "matrix_peak_rss_mb": memory.peak_rss_mb,
        "matrix_peak_pss_mb": memory.peak_pss_mb,
        "matrix_load_average": os.getloadavg(),
    }


def ours(principals: int, keys: int, accounts: int, seed: int) -> tuple[dict[str, Any], Access]:
    """Build, role graph, index and who-can, timed; the can pairs chosen (timed by ``interleaved_can``)."""
    snapshot, generate_wall, _ = timed(lambda: generate(principals, keys, accounts=accounts, seed=seed))
    world, build_wall, _ = timed(lambda: World.build(snapshot))
    access = Access.of(world)
    reach = access.reach
    _, reach_wall, reach_cpu = timed(lambda: reach.edges)
    # Routes from every caller, the groups of equal callers and who reaches each role: built once, reused by who-can.
    _, routes_wall, _ = timed(access.index)
    print(f"  built: {build_wall:.1f} s; role graph {reach_wall:.1f} s; routes from every caller {routes_wall:.1f} s", flush=True)
    rng = random.Random(seed)
    key_arns = sorted(world.keys)
    sample_keys = rng.sample(key_arns, 10)
    _, who_wall, who_cpu = timed(lambda: [access.who_can("kms:Decrypt", k) for k in sample_keys])
    subjects = access.subjects.principals()
    pairs = [(rng.choice(subjects).id, rng.choice(key_arns)) for _ in range(2000)]
    return {
        "generate_s": generate_wall,
        "routes_s": routes_wall,
        "graph_cpu_s": reach_cpu,
        "principals": len(world.principals),
        "subjects": len(access.subjects.all()),
        "keys": len(world.keys),
        "accounts": len(world.accounts),
        "build_s": build_wall,
        "graph_s": reach_wall,
        "graph_edges": reach.edge_count(),
        "who_can_ms": who_wall / len(sample_keys) * 1000,
        "who_can_cpu_ms": who_cpu / len(sample_keys) * 1000,
        "sample_keys": sample_keys,
        "pairs": pairs,
        # The role graph we search, for principalmapper's can over the same edges.
        "edges": [[source, hop.role.arn] for source, hops in reach.edges.items() if source in world.principals for hop in hops],
    }, access


SLICES = 2


def interleaved_can(
    access: Access, pairs: list[tuple[str, str]], peer: PeerProcess | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``can`` on the pairs, ours and principalmapper's in turn on each half of them.

    The two sides run in separate processes, and this shared machine changes speed by up to 1.8x
    within minutes; timing them slice by slice, one after the other, puts both under the same
    conditions. Halves, not finer slices: on one CPU each side's slice starts with caches the other
    side's filled, and at ten slices of 200 queries (3 ms of ours) that cost us about a tenth of our
    time; a half is long enough for it not to count. Each side's reference loop is measured before
    the first and after the last slice."""
    # Both processes on one CPU: the two virtual CPUs of this machine run at different speeds at times (the same
    # loop took 54 ms in one process and 91 ms in the other, interleaved), so they take turns on the same one.
    pinned = hasattr(os, "sched_setaffinity")
    if pinned:
        cpu = min(os.sched_getaffinity(0))
        mine_before, theirs_before = os.sched_getaffinity(0), os.sched_getaffinity(peer.pid) if peer else None
        os.sched_setaffinity(0, {cpu})
        if peer is not None:
            os.sched_setaffinity(peer.pid, {cpu})
    try:
        return _interleaved_can(access, pairs, peer)
    finally:
        if pinned:
            os.sched_setaffinity(0, mine_before)
            if peer is not None and theirs_before is not None:
                os.sched_setaffinity(peer.pid, theirs_before)


def _interleaved_can(
    access: Access, pairs: list[tuple[str, str]], peer: PeerProcess | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    mine = {"cpu": 0.0, "wall": 0.0, "count": 0, "reference": reference_cpu()}
    theirs = {"cpu": 0.0, "wall": 0.0, "count": 0, "reference": peer.ask("ref")["ref"] if peer else 0.0}
    step = -(-len(pairs) // SLICES)
    for start in range(0, len(pairs), step):
        chunk = pairs[start : start + step]
        _, wall, cpu = timed(lambda: [access.can(p, "kms:Decrypt", k) for p, k in chunk])  # noqa: B023 - called at once
        mine["cpu"] += cpu
        mine["wall"] += wall
        mine["count"] += len(chunk)
        if peer is not None:
            got = peer.ask(f"can {start} {start + len(chunk)}")
            for name in ("cpu", "wall", "count"):
                theirs[name] += got[name]
    mine["reference"] = (mine["reference"] + reference_cpu()) / 2
    if peer is not None:
        theirs["reference"] = (theirs["reference"] + peer.ask("ref")["ref"]) / 2
    return mine, theirs


def can_figures(measured: dict[str, Any]) -> dict[str, Any]:
    count = max(measured["count"], 1)
    return {
        "can_ms": measured["wall"] / count * 1000,
        "can_cpu_ms": measured["cpu"] / count * 1000,
        "can_queries": measured["count"],
        "can_reference_s": measured["reference"],
    }


def workload(
    principals: int,
    keys: int,
    accounts: int,
    seed: int,
    sample_keys: list[str],
    pairs: list[tuple[str, str]],
    edges: list[list[str]],
) -> dict[str, Any]:
    """The generated organization as plain principals and keys for the peer."""
    snapshot = generate(principals, keys, accounts=accounts, seed=seed)
    nodes = []
    key_docs = {}
    for account in snapshot.accounts:
        managed = {p.arn: p.document for p in account.managed_policies}
        for user in account.users:
            nodes.append(
                {
                    "arn": f"arn:aws:iam::{account.id}:user/{user.name}",
                    "policies": [[arn, managed[arn]] for arn in user.managed_policies],
                    "boundary": managed.get(user.permissions_boundary or ""),
                    "trust": None,
                }
            )
        for role in account.roles:
            nodes.append(
                {
                    "arn": f"arn:aws:iam::{account.id}:role/{role.name}",
                    "policies": [[arn, managed[arn]] for arn in role.managed_policies],
                    "boundary": managed.get(role.permissions_boundary or ""),
                    "trust": role.trust_policy,
                }
            )
        for key in account.keys:
            key_docs[f"arn:aws:kms:{key.region}:{account.id}:key/{key.id}"] = key.policy
    return {"nodes": nodes, "keys": key_docs, "sample_keys": sample_keys, "pairs": pairs, "edges": edges}


PEER_DRIVER = r"""
import collections, collections.abc, json, sys, time, io, logging
for _n in ("Mapping", "MutableMapping"):
    setattr(collections, _n, getattr(collections.abc, _n))
logging.disable(logging.CRITICAL)
from principalmapper.common import Edge, Node, Policy, Graph
from principalmapper.graphing.sts_edges import generate_edges_locally
from principalmapper.querying.query_interface import local_check_authorization_full, search_authorization_full

data = json.load(open(sys.argv[1]))
budget = float(sys.argv[2])
t0 = time.perf_counter()
nodes = []
for i, n in enumerate(data["nodes"]):
    pols = [Policy(arn, arn.rsplit("/", 1)[-1], doc) for arn, doc in n["policies"]]
    boundary = Policy(n["arn"] + "-boundary", "boundary", n["boundary"]) if n["boundary"] else None
    profiles = [] if ":role/" in n["arn"] else None
    nodes.append(Node(n["arn"], f"AIDAEXAMPLE{i:09d}", pols, [], n["trust"], profiles, 0, False, False, boundary, False, {}))
by_arn = {n.arn: n for n in nodes}
build = time.perf_counter() - t0
out = {"build_s": build}
# AssumeRole edges: the work is roles x nodes; grow the node sample until the budget is used,
# then extrapolate by that product (exact when every node fits).
roles_total = sum(1 for n in nodes if ":role/" in n.arn)
size = 100
while True:
    sample = nodes[:size]
    t0 = time.perf_counter()
    edges = generate_edges_locally(sample)
    graph_time = time.perf_counter() - t0
    if size >= len(nodes) or graph_time > budget / 4:
        break
    size = min(len(nodes), size * 2)
roles_sample = sum(1 for n in sample if ":role/" in n.arn)
out["graph_nodes_measured"] = len(sample)
out["graph_s_measured"] = graph_time
out["graph_s_estimated_full"] = graph_time * (roles_total * len(nodes)) / max(roles_sample * len(sample), 1)
out["graph_edges_found"] = len(edges)
metadata = {"account_id": "100000000001", "pmapper_version": "1.1.5"}
graph = Graph(nodes if len(sample) == len(nodes) else sample, edges, [], [], metadata)
# who-can: every node against each sample key.
t0 = time.perf_counter()
c0 = time.process_time()
keys_done = 0
for key in data["sample_keys"]:
    owner = key.split(":")[4]
    for node in nodes:
        local_check_authorization_full(node, "kms:Decrypt", key, {}, data["keys"][key], owner)
    keys_done += 1
    if time.perf_counter() - t0 > budget:
        break
out["who_can_ms"] = (time.perf_counter() - t0) / keys_done * 1000
out["who_can_cpu_ms"] = (time.process_time() - c0) / keys_done * 1000
out["who_can_keys"] = keys_done


def reference_cpu():
    start = time.process_time()
    sum(range(3_000_000))
    return time.process_time() - start


# search_authorization_full (direct check, then along the graph's edges) on each pair: CPU, wall, count.
def can_slice(searched, pairs):
    t0 = time.perf_counter()
    c0 = time.process_time()
    count = 0
    for principal, key in pairs:
        node = by_arn.get(principal)
        if node is None:
            continue
        search_authorization_full(searched, node, "kms:Decrypt", key, {}, data["keys"][key], key.split(":")[4])
        count += 1
    return {"cpu": time.process_time() - c0, "wall": time.perf_counter() - t0, "count": count}


# can over the pairs, a slice at a time as the bench asks (in turn with its own): one command a line.
print("ready", flush=True)
for line in sys.stdin:
    command = line.split()
    if command[0] == "ref":
        print(json.dumps({"ref": reference_cpu()}), flush=True)
    elif command[0] == "can":
        print(json.dumps(can_slice(graph, data["pairs"][int(command[1]) : int(command[2])])), flush=True)
    else:
        break
# can again, searching the role graph we found (all its edges, each node's outbound edges filled in once,
# as its own Node.get_outbound_edges caches them) instead of the graph it could build in the budget.
t0 = time.perf_counter()
full_edges = [
    Edge(by_arn[s], by_arn[d], "can assume (policyengine's role graph)", "assume")
    for s, d in data["edges"]
    if s in by_arn and d in by_arn
]
outbound = {}
for edge in full_edges:
    outbound.setdefault(edge.source.arn, []).append(edge)
for node in nodes:
    node.cache["outbound_edges"] = outbound.get(node.arn, [])
out["full_graph_edges"] = len(full_edges)
out["full_graph_index_s"] = time.perf_counter() - t0
before = reference_cpu()
full = can_slice(Graph(nodes, full_edges, [], [], metadata), data["pairs"])
out["can_full_ms"] = full["wall"] / max(full["count"], 1) * 1000
out["can_full_cpu_ms"] = full["cpu"] / max(full["count"], 1) * 1000
out["can_full_queries"] = full["count"]
out["can_full_reference_s"] = (before + reference_cpu()) / 2
# One matrix cell group (33 actions) for a sample of pairs, to extrapolate the full matrix.
actions = ["kms:Decrypt", "kms:Encrypt", "kms:DescribeKey", "kms:ScheduleKeyDeletion", "kms:CreateGrant"]
t0 = time.perf_counter()
checks = 0
for principal, key in data["pairs"][:100]:
    node = by_arn.get(principal)
    if node is None:
        continue
    for action in actions:
        local_check_authorization_full(node, action, key, {}, data["keys"][key], key.split(":")[4])
        checks += 1
out["check_us"] = (time.perf_counter() - t0) / max(checks, 1) * 1e6
print(json.dumps(out))
"""


class PeerProcess:
    """principalmapper's driver in its own venv: it builds its graph and times who-can, then answers commands
    (``ref``, ``can START END``) one line each, and on ``finish`` times the rest and prints its figures."""

    def __init__(self, work: dict[str, Any], budget: float) -> None:
        self._scratch = tempfile.TemporaryDirectory()
        data_path = Path(self._scratch.name) / "workload.json"
        data_path.write_text(json.dumps(work))
        driver = Path(self._scratch.name) / "driver.py"
        driver.write_text(PEER_DRIVER)
        self._process = subprocess.Popen(
            [str(PMAPPER_PYTHON), str(driver), str(data_path), str(budget)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        ready = self._line()
        if ready != "ready":
            raise RuntimeError(f"principalmapper's driver did not start: {ready!r}\n{self._errors()}")

    @property
    def pid(self) -> int:
        return self._process.pid

    def _line(self) -> str:
        assert self._process.stdout is not None
        return self._process.stdout.readline().strip()

    def _errors(self) -> str:
        assert self._process.stderr is not None
        self._process.wait(timeout=60)
        return self._process.stderr.read()[-2000:]

    def ask(self, command: str) -> dict[str, Any]:
        assert self._process.stdin is not None
        self._process.stdin.write(command + "\n")
        self._process.stdin.flush()
        line = self._line()
        if not line:
            raise RuntimeError(f"principalmapper's driver stopped on {command!r}:\n{self._errors()}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def finish(self) -> dict[str, Any]:
        """The driver's remaining figures (can over our role graph, per-check time), after which it exits."""
        try:
            result = self.ask("finish")
            self._process.wait(timeout=3600)
            return result
        finally:
            self._scratch.cleanup()


def start_peer(work: dict[str, Any], budget: float) -> PeerProcess | None:
    if not PMAPPER_PYTHON.exists():
        print(f"principalmapper not found at {PMAPPER_PYTHON} (run bench/peers/setup.sh); skipping the comparison")
        return None
    try:
        return PeerProcess(work, budget)
    except RuntimeError as error:
        print(f"principalmapper run failed: {error}")
        return None


def report(mine: dict[str, Any], theirs: dict[str, Any] | None, series: list[dict[str, Any]]) -> str:
    answers_total = mine["principals"] * mine["keys"] * 33
    lines = [
        f"Generated organization: {mine['principals']:,} users and roles ({mine['subjects']:,} subjects with roots, "
        f"services and outside accounts), {mine['keys']:,} keys, {mine['accounts']} accounts; "
        f"~{answers_total:,} action answers in the full matrix; peak memory {mine['max_rss_mb']:,.0f} MB.",
        "",
        "| query | policyengine | principalmapper 1.1.5 | ratio |",
        "|---|---:|---:|---:|",
    ]

    def row(name: str, ours_value: float, theirs_value: float | None, unit: str) -> None:
        if theirs_value is None:
            lines.append(f"| {name} | {ours_value:,.2f} {unit} | n/a | |")
        else:
            lines.append(
                f"| {name} | {ours_value:,.2f} {unit} | {theirs_value:,.2f} {unit} | **{theirs_value / ours_value:,.1f}x** |"
            )

    row("load: parse + compile the organization", mine["build_s"], theirs["build_s"] if theirs else None, "s")
    row(
        "AssumeRole graph (all roles)",
        mine["graph_s"],
        theirs["graph_s_estimated_full"] if theirs else None,
        "s",
    )
    row("who-can kms:Decrypt on one key (per query)", mine["who_can_ms"], theirs["who_can_ms"] if theirs else None, "ms")
    row("who-can, CPU time (per query)", mine["who_can_cpu_ms"], theirs["who_can_cpu_ms"] if theirs else None, "ms")
    row("can kms:Decrypt, with routes (per query)", mine["can_ms"], theirs["can_ms"] if theirs else None, "ms")
    row("can, CPU time (per query)", mine["can_cpu_ms"], theirs["can_cpu_ms"] if theirs else None, "ms")
    if theirs and "can_reference_s" in theirs:
        # Each side's CPU per query divided by its reference loop, measured around its own phase (x 1,000).
        row(
            "can, CPU time in reference-loop units (per 1,000 queries)",
            mine["can_cpu_ms"] / 1000 / mine["can_reference_s"] * 1000,
            theirs["can_cpu_ms"] / 1000 / theirs["can_reference_s"] * 1000,
            "loops",
        )
    if theirs and "can_full_cpu_ms" in theirs:
        row(
            f"can, CPU time, principalmapper over our role graph ({theirs['full_graph_edges']:,} edges)",
            mine["can_cpu_ms"],
            theirs["can_full_cpu_ms"],
            "ms",
        )
    if "matrix_s" in mine:
        row("full access matrix", mine["matrix_s"], theirs["check_us"] * answers_total / 1e6 if theirs else None, "s")
    lines.append("")
    lines.append(
        f"Ours in CPU time: who-can {mine['who_can_cpu_ms']:.2f} ms, can {mine['can_cpu_ms']:.3f} ms, "
        f"role graph {mine['graph_cpu_s']:.2f} s; routes from every caller (once, reused by who-can) {mine['routes_s']:.2f} s; "
        f"load average after the queries {mine['load_average']}. Reference loop ({REFERENCE_LOOP}) around the can "
        f"phase: ours {mine['can_reference_s'] * 1000:.0f} ms"
        + (f", principalmapper's {theirs['can_reference_s'] * 1000:.0f} ms." if theirs and "can_reference_s" in theirs else ".")
    )
    if "matrix_s" in mine:
        lines.append(
            f"Matrix ({mine['matrix_processes']} processes, {mine['matrix_format']} written, "
            f"{mine['matrix_bytes'] / 1e6:,.0f} MB): "
            f"{mine['matrix_s']:.1f} s wall, {mine['matrix_cpu_s']:.1f} s CPU (all processes), "
            f"peak memory of all processes {mine['matrix_peak_rss_mb']:,.0f} MB RSS / {mine['matrix_peak_pss_mb']:,.0f} MB PSS; "
            f"{mine['matrix_cells']:,} cells, {mine['matrix_listed']:,} listed, {mine['matrix_counts']}; "
            f"groups of callers evaluated {mine['matrix_groups_evaluated']:,}, settled by pre-checks "
            f"{mine['matrix_groups_prechecked']:,}; load average {mine['matrix_load_average']}."
        )
    if series:
        lines += ["", "| principals | role-graph edges | role graph (s) | s per 1,000 principals |", "|---:|---:|---:|---:|"]
        for r in series:
            lines.append(
                f"| {r['principals']:,} | {r['edges']:,} | {r['graph_s']:.2f} | {r['graph_s'] / r['principals'] * 1000:.3f} |"
            )
    if theirs:
        lines.append(
            f"principalmapper's graph: measured on {theirs['graph_nodes_measured']} nodes in "
            f"{theirs['graph_s_measured']:.1f} s, extrapolated by roles × nodes; its matrix is extrapolated from "
            f"{theirs['check_us']:.0f} µs per check × {answers_total:,} answers (it has no matrix command)."
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--principals", type=int, default=1000)
    parser.add_argument("--keys", type=int, default=100)
    parser.add_argument("--accounts", type=int, default=5)
    parser.add_argument("--no-matrix", action="store_true", help="skip the full access matrix")
    parser.add_argument("--matrix-format", choices=["text", "json"], default="text", help="what the matrix writes")
    parser.add_argument("--processes", type=int, help="matrix worker processes (default: one per CPU)")
    parser.add_argument(
        "--graph-series", default="", help="comma-separated sizes at which to time the whole role graph (e.g. 2500,5000,20000)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-peer", action="store_true", help="skip principalmapper")
    parser.add_argument("--peer-budget", type=float, default=60.0, help="seconds per principalmapper phase before extrapolating")
    parser.add_argument("--json", type=Path, help="write the raw numbers here")
    args = parser.parse_args()
    per_account = max(1, args.principals // args.accounts)
    series = graph_series([int(n) for n in args.graph_series.split(",") if n], per_account, args.seed)
    mine, access = ours(args.principals, args.keys, args.accounts, args.seed)
    theirs = None
    peer = None
    if not args.no_peer:
        work = workload(args.principals, args.keys, args.accounts, args.seed, mine["sample_keys"], mine["pairs"], mine["edges"])
        peer = start_peer(work, args.peer_budget)
    my_can, their_can = interleaved_can(access, mine["pairs"], peer)
    mine.update(can_figures(my_can))
    mine["load_average"] = os.getloadavg()
    if peer is not None:
        theirs = peer.finish() | can_figures(their_can)
    if not args.no_matrix:
        mine.update(streamed_matrix(access.world, args.matrix_format, args.processes))
    mine["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    text = report(mine, theirs, series)
    print(text)
    if args.json:
        clean = {k: v for k, v in mine.items() if k not in ("sample_keys", "pairs", "edges")}
        args.json.write_text(
            json.dumps({"policyengine": clean, "principalmapper": theirs, "graph_series": series, "table": text}, indent=2)
        )


if __name__ == "__main__":
    main()
