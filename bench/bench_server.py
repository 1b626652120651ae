"""KMS over HTTP on loopback: Encrypt and Decrypt requests per second, ours against moto's server.

usage (from the repository root):  python bench/bench_server.py [--quick] [--duration S] [--repeats N]
                                                               [--clients 1,8,32] [--moto-python PATH] [--json OUT.json]

Servers (each a separate process, all started by this script before measuring; an idle one uses no CPU):

  ours (memory)   `python -m policyengine.cli.serve --test-mode --quiet --identities FILE`: the in-memory store.
  ours (SQLite)   the same with `--data DIR` (a temporary directory): the durable default store, every
                  call one SQLite transaction plus its audit record.
  moto            moto's server (`moto_server`), in-memory, as people run it for local KMS testing: from
                  ~/.cache/bench-peers/venv-moto when it exists, else from this interpreter when it has moto
                  and flask (the `test` extra), else --moto-python.

Both of ours run ONE process (the default `--workers 1`), and requests are authenticated for real:
the access key belongs to an identities-file entry (an assumed-role session with a session token),
so every request's SigV4 signature is recomputed and checked, and every call is authorized by the
key policy and the session's identity policy (both conditioned on the encryption context, as in
bench/bench_kms.py). moto checks neither signatures nor policies.

Requests: Encrypt of 4,096 bytes (the maximum) and Decrypt of the resulting ciphertext, both with
the encryption context {"tenant": "acme", "purpose": "bench"}. Each request is signed once by
botocore's SigV4 signer and then replayed unchanged (a signature stays valid for 15 minutes), so
the load generator does no signing or JSON work while it measures.

Load generator (the same for every server): C concurrent clients, each a thread holding one
keep-alive HTTP/1.1 connection over a raw socket, sending the fixed request and reading the whole
response before sending again (closed loop; it reconnects when a server closes the connection, as
an HTTP/1.0 server does). Clients are spread over min(C, cores) processes so the generator itself
is not limited by one interpreter lock. Each run warms up for a fraction of a second, then counts
the responses completed in the measured window; latency percentiles are over every measured
request of every client. Any non-200 answer is counted as an error and reported.

Rounds are interleaved (every server, operation and client count once per round, three rounds)
and each cell reports its median round, so background load on a shared machine hits every
server alike. Each cell also reports the server process's CPU time per measured request (user +
system, from /proc at both ends of the measured window): on a machine other work keeps busy,
requests per second move with that work, while CPU per request moves far less, and on an idle
machine the server's throughput is one core over it (ours and moto's each run one process).
The whole run takes about five minutes (--quick: about 40 s). On a 2-core
machine the load generator and the server share the two cores, as they do for moto.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

REPO = Path(__file__).resolve().parent.parent
ACCOUNT = "111122223333"
REGION = "us-east-1"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/AppRole"
SESSION_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/AppRole/bench-session"
PLAINTEXT = bytes(range(256)) * 16  # 4,096 bytes, the Encrypt maximum
CONTEXT = {"tenant": "acme", "purpose": "bench"}
PEER_MOTO_PYTHON = Path.home() / ".cache" / "bench-peers" / "venv-moto" / "bin" / "python"


def default_moto_python() -> Path:
    """The peers' moto venv when it exists, else this interpreter when it has moto's server (the `test`
    extra installs moto with flask): a clone with the test extra needs no --moto-python."""
    if PEER_MOTO_PYTHON.exists():
        return PEER_MOTO_PYTHON
    import importlib.util

    if importlib.util.find_spec("moto") is not None and importlib.util.find_spec("flask") is not None:
        return Path(sys.executable)
    return PEER_MOTO_PYTHON


ADMIN = ("AKIABENCHADMIN000000", "bench-admin-secret", None)
SESSION = ("ASIABENCHSESSION0000", "bench-session-secret", "bench-session-token")

KEY_POLICY = {
    "Version": "2012-10-17",
    "Id": "bench-key-policy",
    "Statement": [
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "AllowAppRoleUseForTenant",
            "Effect": "Allow",
            "Principal": {"AWS": ROLE_ARN},
            "Action": ["kms:Encrypt", "kms:Decrypt"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "acme"}},
        },
    ],
}
IDENTITY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "UseAccountKeysForTenant",
            "Effect": "Allow",
            "Action": ["kms:Encrypt", "kms:Decrypt"],
            "Resource": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*",
            "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "acme"}},
        }
    ],
}
IDENTITIES = {
    ADMIN[0]: {"secret_access_key": ADMIN[1], "principal": f"arn:aws:iam::{ACCOUNT}:root"},
    SESSION[0]: {
        "secret_access_key": SESSION[1],
        "session_token": SESSION[2],
        "principal": SESSION_ARN,
        "identity_arn": ROLE_ARN,
        "identity_policies": [IDENTITY_POLICY],
    },
}


# ---------------------------------------------------------------- servers


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


@dataclass
class Server:
    name: str
    command: list[str]
    port: int
    enforces: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, log: Path) -> None:
        """Start the server, its output going to ``log`` (a pipe nobody reads would fill and stall it)."""
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        with log.open("wb") as sink:
            self.process = subprocess.Popen(self.command, stdout=sink, stderr=subprocess.STDOUT, env=env)
        _wait_for_port(self.port, self.process, log)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def our_server(name: str, identities: Path, data: Path | None) -> Server:
    port = _free_port()
    command = [sys.executable, "-m", "policyengine.cli.serve", "--port", str(port), "--test-mode", "--quiet"]
    command += ["--identities", str(identities)]
    if data is not None:
        command += ["--data", str(data)]
    return Server(name, command, port, "SigV4 + key policy + IAM")


def moto_server(moto_python: Path) -> Server:
    port = _free_port()
    launcher = "from moto.server import main; import sys; sys.exit(main())"
    return Server("moto_server", [str(moto_python), "-c", launcher, "-H", "127.0.0.1", "-p", str(port)], port, "nothing")


# ---------------------------------------------------------------- requests


def _client(server: Server, who: tuple[str, str, str | None]) -> Any:
    return boto3.session.Session(
        aws_access_key_id=who[0], aws_secret_access_key=who[1], aws_session_token=who[2], region_name=REGION
    ).client("kms", endpoint_url=server.endpoint, config=Config(retries={"max_attempts": 1}))


def _presigned(server: Server, target: str, body: dict[str, Any]) -> bytes:
    """The whole HTTP/1.1 request, signed by botocore as the session identity, ready to replay."""
    data = json.dumps(body).encode()
    request = AWSRequest(
        method="POST",
        url=f"{server.endpoint}/",
        data=data,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"TrentService.{target}"},
    )
    SigV4Auth(Credentials(SESSION[0], SESSION[1], SESSION[2]), "kms", REGION).add_auth(request)
    head = ["POST / HTTP/1.1", f"Host: 127.0.0.1:{server.port}", f"Content-Length: {len(data)}", "Connection: keep-alive"]
    head += [f"{k}: {v}" for k, v in request.headers.items() if k.lower() not in ("host", "content-length")]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + data


def prepare(server: Server) -> dict[str, bytes]:
    """Make the key and a ciphertext through boto3, check the signed requests work, return them."""
    import base64

    admin = _client(server, ADMIN)
    key = admin.create_key(Policy=json.dumps(KEY_POLICY))["KeyMetadata"]["Arn"]
    session = _client(server, SESSION)
    blob = session.encrypt(KeyId=key, Plaintext=PLAINTEXT, EncryptionContext=CONTEXT)["CiphertextBlob"]
    encoded = base64.b64encode(PLAINTEXT).decode()
    requests = {
        "Encrypt": _presigned(server, "Encrypt", {"KeyId": key, "Plaintext": encoded, "EncryptionContext": CONTEXT}),
        "Decrypt": _presigned(
            server, "Decrypt", {"CiphertextBlob": base64.b64encode(blob).decode(), "EncryptionContext": CONTEXT}
        ),
    }
    for name, raw in requests.items():
        status, _ = _Connection(server.port).roundtrip(raw)
        if status != 200:
            raise RuntimeError(f"{server.name}: the pre-signed {name} request answered {status}")
    return requests


# ---------------------------------------------------------------- load generator


class _Connection:
    """One keep-alive connection that sends raw requests and reads whole responses."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None
        self.buffer = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        return sock

    def roundtrip(self, raw: bytes) -> tuple[int, bytes]:
        for attempt in (1, 2):
            if self.sock is None:
                self.sock = self._connect()
            try:
                self.sock.sendall(raw)
                return self._read()
            except (ConnectionError, _Closed):
                self.sock.close()
                self.sock = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _fill(self) -> None:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        if not chunk:
            raise _Closed()
        self.buffer += chunk

    def _read(self) -> tuple[int, bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        version, status = lines[0].split(b" ", 2)[:2]
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines[1:])}
        length = int(headers.get(b"content-length", b"0"))
        while len(rest) < length:
            self.buffer = rest
            self._fill()
            rest = self.buffer
        body, self.buffer = rest[:length], rest[length:]
        closing = headers.get(b"connection", b"").lower() == b"close" or (
            version == b"HTTP/1.0" and headers.get(b"connection", b"").lower() != b"keep-alive"
        )
        if closing and self.sock is not None:
            self.sock.close()
            self.sock = None
        return int(status), body


class _Closed(Exception):
    pass


def _client_thread(port: int, raw: bytes, start: float, measure_from: float, until: float, out: list[Any]) -> None:
    connection = _Connection(port)
    latencies: list[float] = []
    errors = 0
    while time.time() < start:
        time.sleep(0.001)
    while True:
        sent = time.perf_counter()
        wall = time.time()
        if wall >= until:
            break
        try:
            status, _ = connection.roundtrip(raw)
        except OSError:  # refused or reset: an error, and this client stops
            out.append((latencies, errors + 1))
            return
        elapsed = time.perf_counter() - sent
        if wall >= measure_from:
            latencies.append(elapsed)
            errors += status != 200
    out.append((latencies, errors))


def _generator_process(port: int, raw: bytes, threads: int, start: float, measure_from: float, until: float, queue: Any) -> None:
    import threading

    results: list[Any] = []
    workers = [
        threading.Thread(target=_client_thread, args=(port, raw, start, measure_from, until, results)) for _ in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put(results)


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU time the process ``pid`` has used so far (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except (OSError, TypeError):
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (fields 14 and 15)


def load(port: int, raw: bytes, clients: int, duration: float, warmup: float, pid: int | None = None) -> dict[str, float]:
    """Closed-loop load from ``clients`` connections; requests per second, latency percentiles (ms), and
    the server process's CPU time per measured request (ms), read from /proc at both ends of the window."""
    context = multiprocessing.get_context("spawn")
    processes_n = min(clients, os.cpu_count() or 1)
    shares = [clients // processes_n + (1 if i < clients % processes_n else 0) for i in range(processes_n)]
    queue = context.Queue()
    start = time.time() + 1.5  # time for the spawned processes to import and connect
    measure_from = start + warmup
    until = measure_from + duration
    processes = [
        context.Process(target=_generator_process, args=(port, raw, share, start, measure_from, until, queue)) for share in shares
    ]
    for process in processes:
        process.start()
    time.sleep(max(0.0, measure_from - time.time()))
    cpu_from = _cpu_seconds(pid)
    time.sleep(max(0.0, until - time.time()))
    cpu_used = _cpu_seconds(pid) - cpu_from
    gathered: list[Any] = []
    for _ in processes:
        gathered.extend(queue.get(timeout=duration + warmup + 60))
    for process in processes:
        process.join()
    latencies = sorted(x for lat, _ in gathered for x in lat)
    errors = sum(e for _, e in gathered)
    if not latencies:
        nan = float("nan")
        return {"rps": 0.0, "p50_ms": nan, "p99_ms": nan, "errors": errors, "requests": 0, "cpu_ms": nan}
    return {
        "rps": len(latencies) / duration,
        "cpu_ms": cpu_used * 1000 / len(latencies),
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "errors": errors,
        "requests": len(latencies),
    }


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test, not numbers of record)")
    parser.add_argument("--duration", type=float, default=None, help="measured seconds per run (default 3, quick 1)")
    parser.add_argument("--clients", default="1,8,32", help="comma-separated concurrent client counts")
    parser.add_argument(
        "--moto-python", type=Path, default=None, help="python of a venv with moto[server] (default: see default_moto_python)"
    )
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds; each cell reports its median (default 3)")
    parser.add_argument("--no-sqlite", action="store_true", help="skip our SQLite-backed server")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    args = parser.parse_args()
    duration = args.duration or (1.0 if args.quick else 3.0)
    warmup = 0.3 if args.quick else 0.5
    repeats = args.repeats or (1 if args.quick else 3)
    client_counts = [int(c) for c in args.clients.split(",")]

    workdir = Path(tempfile.mkdtemp(prefix="bench-server-"))
    identities = workdir / "identities.json"
    identities.write_text(json.dumps(IDENTITIES), encoding="utf-8")
    identities.chmod(0o600)
    servers = [our_server("policyengine (memory)", identities, None)]
    if not args.no_sqlite:
        servers.append(our_server("policyengine (SQLite)", identities, workdir / "data"))
    moto_python = args.moto_python or default_moto_python()
    if moto_python.exists():
        servers.append(moto_server(moto_python))
    else:
        print(f"moto: {moto_python} not found; install moto[server] there to compare", file=sys.stderr)

    results: list[dict[str, Any]] = []
    samples: dict[tuple[str, str, int], list[dict[str, float]]] = {}
    try:
        prepared = {}
        for server in servers:
            server.start(workdir / f"{server.name.split()[-1].strip('()')}.log")
            prepared[server.name] = prepare(server)
        # Interleaved: every round runs every cell on every server, so background noise on a shared
        # machine hits all servers alike; each cell reports its median round.
        for round_index in range(1, repeats + 1):
            for operation in ("Encrypt", "Decrypt"):
                for clients in client_counts:
                    for server in servers:
                        pid = server.process.pid if server.process is not None else None
                        numbers = load(server.port, prepared[server.name][operation], clients, duration, warmup, pid)
                        samples.setdefault((server.name, operation, clients), []).append(numbers)
                        print(
                            f"round {round_index}: {server.name:22} {operation:8} {clients:3} clients: "
                            f"{numbers['rps']:8.0f} req/s  p50 {numbers['p50_ms']:6.2f} ms  p99 {numbers['p99_ms']:6.2f} ms  "
                            f"CPU {numbers['cpu_ms']:5.2f} ms/req  "
                            f"errors {numbers['errors']}",
                            file=sys.stderr,
                        )
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    for (name, operation, clients), runs in samples.items():
        middle = sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]
        cpu = statistics.median(r["cpu_ms"] for r in runs)
        results.append(
            {
                "server": name,
                "operation": operation,
                "clients": clients,
                **middle,
                "cpu_ms": cpu,
                "rounds": [r["rps"] for r in runs],
                "rounds_cpu_ms": [r["cpu_ms"] for r in runs],
            }
        )

    print(_table(results, servers))
    if args.json:
        summary = {"machine": _machine(), "duration_s": duration, "repeats": repeats, "results": results}
        args.json.write_text(json.dumps(summary, indent=2))


def _machine() -> dict[str, Any]:
    try:
        import uvicorn

        http_stack = f"uvicorn {uvicorn.__version__}"
    except ImportError:  # pragma: no cover
        http_stack = "?"
    try:
        import httptools  # noqa: F401

        http_stack += " + httptools"
    except ImportError:
        pass
    try:
        import uvloop  # noqa: F401

        http_stack += " + uvloop"
    except ImportError:
        pass
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(), "http": http_stack}


def _table(results: list[dict[str, Any]], servers: list[Server]) -> str:
    machine = _machine()
    lines = [
        f"Loopback, {machine['cpus']} CPUs, CPython {machine['python']}; ours on {machine['http']}, one process; "
        "each cell is the median of the interleaved rounds.",
        "",
        "| server | checks per request | operation | clients | req/s | p50 ms | p99 ms | errors | vs moto "
        "| server CPU ms/req | moto CPU / ours |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    moto = {(r["operation"], r["clients"]): r["rps"] for r in results if r["server"] == "moto_server"}
    moto_cpu = {(r["operation"], r["clients"]): r["cpu_ms"] for r in results if r["server"] == "moto_server"}
    enforces = {s.name: s.enforces for s in servers}
    order = {s.name: i for i, s in enumerate(servers)}
    for r in sorted(results, key=lambda r: (r["operation"] != "Encrypt", r["clients"], order[r["server"]])):
        base = moto.get((r["operation"], r["clients"]))
        ratio = f"{r['rps'] / base:.1f}x" if base else "-"
        base_cpu = moto_cpu.get((r["operation"], r["clients"]))
        cpu_ratio = f"{base_cpu / r['cpu_ms']:.1f}x" if base_cpu and r["cpu_ms"] > 0 else "-"
        lines.append(
            f"| {r['server']} | {enforces[r['server']]} | {r['operation']} | {r['clients']} | {r['rps']:,.0f} | "
            f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} | {ratio} | {r['cpu_ms']:.2f} | {cpu_ratio} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
