"""Scaling out on PostgreSQL: Encrypt/Decrypt requests per second with 1, 2 and 3 server processes on one
PostgreSQL database, against one server process on SQLite, under the same load.

usage (from the repository root):  python bench/bench_postgres.py [--quick] [--duration S] [--repeats N]
                                                                 [--clients 8,32] [--url postgresql://...] [--json OUT]

What runs:

  SQLite, 1 process     `policyengine serve --data DIR` (the embedded default).
  PostgreSQL, N procs   N x `policyengine serve --store URL --data DIR_i` (N = 1, 2, 3) on one database, each
                        process with its own data directory holding a copy of the one master key, as
                        servers on separate machines would have.

Without --url the script starts a throwaway PostgreSQL cluster with Debian's initdb/pg_ctl (durable
settings: fsync on, PostgreSQL's defaults otherwise) and removes it afterwards; with --url it uses
that database (its schema is created or upgraded; the script adds one key and audit rows).

Requests and load generator are bench/bench_server.py's: an assumed-role session signs a 4 KB
Encrypt (and a Decrypt of its ciphertext) once with SigV4, and C closed-loop clients replay it on
keep-alive connections; the servers verify the signature and authorize every call with the key
policy and the session's identity policy. Here the C clients are spread round-robin over the N
servers (one signed request per server: the Host header is signed), and over two generator
processes whatever N is, so the load side is the same in every configuration.

Where the time goes: for each run the script reads the CPU time (/proc) of the server processes and
of PostgreSQL (postmaster and its backends), and how busy the whole machine was, and reports CPU
milliseconds per request for each. Rounds are interleaved (every configuration, operation and
client count once per round) and each cell reports its median round.
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import bench_server as base  # noqa: E402  (the request signing, identities and connection code are shared)

GENERATOR_PROCESSES = 2
TICK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- CPU accounting


def _cpu_seconds(pid: int) -> float | None:
    """utime + stime of one process, or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                    found.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                continue
    return found


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, float(sum(values))


@dataclass
class CpuSample:
    servers: dict[int, float]
    postgres: dict[int, float]
    machine: tuple[float, float]


def sample(server_pids: list[int], postmaster: int | None) -> CpuSample:
    pg_pids = [postmaster, *_children(postmaster)] if postmaster else []
    return CpuSample(
        {p: c for p in server_pids if (c := _cpu_seconds(p)) is not None},
        {p: c for p in pg_pids if (c := _cpu_seconds(p)) is not None},
        _machine_busy(),
    )


def cpu_between(before: CpuSample, after: CpuSample) -> dict[str, float]:
    def spent(a: dict[int, float], b: dict[int, float]) -> float:
        return sum(b[p] - a.get(p, 0.0) for p in b)

    busy = (after.machine[0] - before.machine[0]) / max(1.0, after.machine[1] - before.machine[1])
    return {"server_s": spent(before.servers, after.servers), "postgres_s": spent(before.postgres, after.postgres), "busy": busy}


# ---------------------------------------------------------------- load


def _client(port: int, raw: bytes, start: float, measure_from: float, until: float, out: list[Any]) -> None:
    connection = base._Connection(port)
    latencies: list[float] = []
    errors = completed = 0
    while time.time() < start:
        time.sleep(0.001)
    while True:
        sent = time.perf_counter()
        wall = time.time()
        if wall >= until:
            break
        try:
            status, _ = connection.roundtrip(raw)
        except OSError:
            errors += 1
            break
        completed += 1
        if wall >= measure_from:
            latencies.append(time.perf_counter() - sent)
            errors += status != 200
    out.append((latencies, errors, completed))


def _generator(assignments: list[tuple[int, bytes]], start: float, measure_from: float, until: float, queue: Any) -> None:
    results: list[Any] = []
    threads = [
        threading.Thread(target=_client, args=(port, raw, start, measure_from, until, results)) for port, raw in assignments
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put(results)


def run_load(
    targets: list[tuple[int, bytes]], clients: int, duration: float, warmup: float, server_pids: list[int], postmaster: int | None
) -> dict[str, float]:
    """``clients`` closed-loop clients spread round-robin over ``targets`` (port, signed request)."""
    context = multiprocessing.get_context("spawn")
    assignments: list[list[tuple[int, bytes]]] = [[] for _ in range(GENERATOR_PROCESSES)]
    for index in range(clients):
        assignments[index % GENERATOR_PROCESSES].append(targets[index % len(targets)])
    queue = context.Queue()
    start = time.time() + 1.5  # time for the spawned generators to import
    measure_from = start + warmup
    until = measure_from + duration
    processes = [context.Process(target=_generator, args=(a, start, measure_from, until, queue)) for a in assignments if a]
    for process in processes:
        process.start()
    while time.time() < start:
        time.sleep(0.005)
    before = sample(server_pids, postmaster)
    gathered: list[Any] = []
    for _ in processes:
        gathered.extend(queue.get(timeout=duration + warmup + 60))
    after = sample(server_pids, postmaster)
    for process in processes:
        process.join()
    latencies = sorted(x for lat, _, _ in gathered for x in lat)
    completed = sum(c for _, _, c in gathered)
    cpu = cpu_between(before, after)
    result = {
        "rps": len(latencies) / duration,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000 if latencies else float("nan"),
        "errors": sum(e for _, e, _ in gathered),
        "server_cpu_ms": 1000 * cpu["server_s"] / max(1, completed),
        "postgres_cpu_ms": 1000 * cpu["postgres_s"] / max(1, completed),
        "machine_busy": cpu["busy"],
    }
    return result


# ---------------------------------------------------------------- servers and requests


@dataclass
class Setup:
    name: str
    servers: list[base.Server]
    requests: dict[str, list[tuple[int, bytes]]] = field(default_factory=dict)


def _serve(name: str, identities: Path, *store_args: str) -> base.Server:
    port = base._free_port()
    command = [sys.executable, "-m", "policyengine", "serve", "--port", str(port), "--quiet", "--identities", str(identities)]
    return base.Server(name, [*command, *store_args], port, "SigV4 + key policy + IAM")


def _requests(servers: list[base.Server]) -> dict[str, list[tuple[int, bytes]]]:
    """One key and one ciphertext made through the first server; the signed requests for every server."""
    admin = base._client(servers[0], base.ADMIN)
    key = admin.create_key(Policy=json.dumps(base.KEY_POLICY))["KeyMetadata"]["Arn"]
    session = base._client(servers[0], base.SESSION)
    blob = session.encrypt(KeyId=key, Plaintext=base.PLAINTEXT, EncryptionContext=base.CONTEXT)["CiphertextBlob"]
    bodies = {
        "Encrypt": {"KeyId": key, "Plaintext": base64.b64encode(base.PLAINTEXT).decode(), "EncryptionContext": base.CONTEXT},
        "Decrypt": {"CiphertextBlob": base64.b64encode(blob).decode(), "EncryptionContext": base.CONTEXT},
    }
    signed: dict[str, list[tuple[int, bytes]]] = {}
    for operation, body in bodies.items():
        signed[operation] = []
        for server in servers:
            raw = base._presigned(server, operation, body)
            status, answer = base._Connection(server.port).roundtrip(raw)
            if status != 200:
                raise RuntimeError(f"{server.name}: the signed {operation} answered {status}: {answer[:200]!r}")
            signed[operation].append((server.port, raw))
    return signed


def _postgres(args: argparse.Namespace) -> tuple[str, Any]:
    """(database URL, the cluster we started or None)."""
    from policyengine.store.postgres import upgrade
    from tests.postgres.cluster import find_bindir, start_cluster

    if args.url:
        upgrade(args.url)
        return args.url, None
    bindir = find_bindir()
    if bindir is None:
        sys.exit("PostgreSQL is not installed (apt-get install postgresql), and no --url was given")
    cluster = start_cluster(bindir, durable=True)
    url = cluster.create_database()
    upgrade(url)
    return url, cluster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test, not numbers of record)")
    parser.add_argument("--duration", type=float, default=None, help="measured seconds per run (default 3, quick 1)")
    parser.add_argument("--clients", default="8,32", help="comma-separated total client counts")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds (default 3, quick 1)")
    parser.add_argument("--url", default=None, help="an existing PostgreSQL database to use instead of a throwaway cluster")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    args = parser.parse_args()
    duration = args.duration or (1.0 if args.quick else 3.0)
    warmup = 0.3 if args.quick else 0.5
    repeats = args.repeats or (1 if args.quick else 3)
    client_counts = [int(c) for c in args.clients.split(",")]

    from policyengine.store import load_or_create_master_key

    workdir = Path(tempfile.mkdtemp(prefix="bench-postgres-"))
    identities = workdir / "identities.json"
    identities.write_text(json.dumps(base.IDENTITIES), encoding="utf-8")
    load_or_create_master_key(workdir / "master.key")
    url, cluster = _postgres(args)
    postmaster = cluster.postmaster_pid() if cluster is not None else None

    sqlite = _serve("SQLite", identities, "--data", str(workdir / "sqlite"))
    pg_servers = []
    for index in range(3):
        data = workdir / f"pg{index}"
        data.mkdir()
        shutil.copyfile(workdir / "master.key", data / "master.key")
        (data / "master.key").chmod(0o600)
        pg_servers.append(_serve(f"PostgreSQL #{index + 1}", identities, "--store", url, "--data", str(data)))
    setups = [Setup("SQLite, 1 process", [sqlite])] + [
        Setup(f"PostgreSQL, {n} process{'es' if n > 1 else ''}", pg_servers[:n]) for n in (1, 2, 3)
    ]
    samples: dict[tuple[str, str, int], list[dict[str, float]]] = {}
    try:
        for server in [sqlite, *pg_servers]:
            server.start(workdir / f"{server.name.replace(' ', '_').replace('#', '')}.log")
        sqlite_requests = _requests([sqlite])
        pg_requests = _requests(pg_servers)
        setups[0].requests = sqlite_requests
        for setup in setups[1:]:
            setup.requests = {op: signed[: len(setup.servers)] for op, signed in pg_requests.items()}
        for round_index in range(1, repeats + 1):
            for operation in ("Encrypt", "Decrypt"):
                for clients in client_counts:
                    for setup in setups:
                        pids = [s.process.pid for s in setup.servers if s.process is not None]
                        on_postgres = postmaster if setup is not setups[0] else None
                        numbers = run_load(setup.requests[operation], clients, duration, warmup, pids, on_postgres)
                        samples.setdefault((setup.name, operation, clients), []).append(numbers)
                        print(
                            f"round {round_index}: {setup.name:24} {operation:8} {clients:3} clients: "
                            f"{numbers['rps']:7.0f} req/s  "
                            f"p50 {numbers['p50_ms']:6.2f} ms  server {numbers['server_cpu_ms']:.2f} ms  "
                            f"postgres {numbers['postgres_cpu_ms']:.2f} ms CPU/req  machine {numbers['machine_busy']:.0%}  "
                            f"errors {numbers['errors']}",
                            file=sys.stderr,
                        )
    finally:
        for server in [sqlite, *pg_servers]:
            server.stop()
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    results = []
    for (name, operation, clients), runs in samples.items():
        middle = sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]
        results.append({"setup": name, "operation": operation, "clients": clients, **middle, "rounds": [r["rps"] for r in runs]})
    print(_table(results, [s.name for s in setups]))
    if args.json:
        machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
        summary = {"machine": machine, "duration_s": duration, "repeats": repeats, "results": results}
        args.json.write_text(json.dumps(summary, indent=2))


def _table(results: list[dict[str, Any]], order: list[str]) -> str:
    lines = [
        f"{os.cpu_count()} CPUs, CPython {platform.python_version()}; each cell is the median of the interleaved rounds; "
        "CPU ms per request include the warm-up.",
        "",
        "| setup | operation | clients | req/s | vs SQLite | p50 ms | p99 ms | server CPU ms/req | PostgreSQL CPU ms/req "
        "| machine busy | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    sqlite = {(r["operation"], r["clients"]): r["rps"] for r in results if r["setup"] == order[0]}
    for r in sorted(results, key=lambda r: (r["operation"] != "Encrypt", r["clients"], order.index(r["setup"]))):
        base_rps = sqlite.get((r["operation"], r["clients"]))
        ratio = f"{r['rps'] / base_rps:.2f}x" if base_rps else "-"
        pg_cpu = f"{r['postgres_cpu_ms']:.2f}" if r["setup"] != order[0] else "-"
        lines.append(
            f"| {r['setup']} | {r['operation']} | {r['clients']} | {r['rps']:,.0f} | {ratio} | {r['p50_ms']:.2f} | "
            f"{r['p99_ms']:.2f} | {r['server_cpu_ms']:.2f} | {pg_cpu} | {r['machine_busy']:.0%} | {r['errors']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
