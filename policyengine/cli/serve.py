"""``policyengine serve``: the local KMS over AWS's wire protocol, for SDKs, the AWS CLI and tests.

Point any AWS SDK at it (``endpoint_url=http://127.0.0.1:4599``, or ``AWS_ENDPOINT_URL_KMS``)
and every call is authenticated by its SigV4 signature and authorized by the evaluator exactly
as AWS would. Startup problems (an unreadable identities file, a store that is not ours, a port
in use) are one line on stderr and exit code 1; SIGINT and SIGTERM stop it gracefully.
"""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from types import FrameType

import click
from rich.markup import escape

import policyengine as pe
from policyengine.cli.output import err
from policyengine.server import STORE_ENV_VAR, ServerConfig, default_data_dir, is_store_url


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback unless told otherwise).")
@click.option("--port", default=4599, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free port).")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory of the SQLite store and its master key [default: the user data directory; with --test-mode: in memory].",
)
@click.option(
    "--store",
    default=None,
    envvar=STORE_ENV_VAR,
    show_envvar=True,
    metavar="postgresql://...",
    help="Keep the state in PostgreSQL, shared by every server given the same URL (schema: `policyengine db upgrade`); "
    "the master key stays in --data, and every server needs a copy of the same one.",
)
@click.option(
    "--identities",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="YAML or JSON file mapping access key ids to secret keys and principals.",
)
@click.option(
    "--test-mode",
    is_flag=True,
    help="FOR TEST SUITES ONLY: unknown credentials act, unverified, as the root of account 123456789012, "
    "and POST /_reset wipes all state.",
)
@click.option(
    "--seed",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="SNAPSHOT",
    help="With --test-mode: start with an account snapshot's keys (their own ids and ARNs, policies, grants, aliases, "
    "tags) and its users and roles as identities (access key per principal in the log; see docs/testing-with-local-kms.md). "
    "POST /_reset puts it back.",
)
@click.option(
    "--allow-remote-test-mode",
    is_flag=True,
    help="Let --test-mode listen on a non-loopback --host (anyone who can reach it is root and can wipe it).",
)
@click.option(
    "--trust-proxy",
    "trust_proxy",
    multiple=True,
    metavar="CIDR",
    help="Take the client address from X-Forwarded-For when the connection comes from this network "
    "(a reverse proxy you run; repeatable). Without it the source address is the connecting peer.",
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Server processes sharing the store.")
@click.option("--quiet", is_flag=True, help="Do not log a line per request.")
def serve(
    host: str,
    port: int,
    data_dir: Path | None,
    store: str | None,
    identities: Path | None,
    test_mode: bool,
    seed: Path | None,
    allow_remote_test_mode: bool,
    trust_proxy: tuple[str, ...],
    workers: int,
    quiet: bool,
) -> None:
    """Serve the local KMS over the AWS KMS JSON protocol (boto3, the AWS CLI and the Encryption SDK work unchanged).

    Requests are authenticated by SigV4 against --identities; the region comes from the credential
    scope and the account from the identity. Every call is authorized by the key policy, IAM
    policies and grants, as AWS would. State is kept per account and region.
    """
    if store is not None and not is_store_url(store):
        _fail(f"--store takes a postgresql:// URL, not `{store}` (a SQLite store is chosen with --data)")
    if data_dir is None and (not test_mode or store is not None):
        data_dir = default_data_dir()
    if workers > 1 and data_dir is None:
        _fail("--workers above 1 needs a shared store: give --data with --test-mode")
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    logging.getLogger("policyengine.server").setLevel(logging.INFO)
    try:
        config = ServerConfig(
            host=host,
            port=port,
            data_dir=data_dir,
            store=store,
            identities=identities,
            test_mode=test_mode,
            workers=workers,
            log_requests=not quiet,
            trust_proxy=trust_proxy,
            allow_remote_test_mode=allow_remote_test_mode,
            seed=seed,
        )
    except ValueError as error:
        _fail(str(error))
    from policyengine.server import serve as run_server  # the app, uvicorn and the KMS: not for --help

    signal.signal(signal.SIGTERM, _exit_cleanly)  # uvicorn re-raises the signal once it has shut down
    try:
        run_server(config)
    except KeyboardInterrupt:
        pass
    except pe.PolicyEngineError as error:
        _fail(str(error))


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _fail(message: str) -> None:
    err.print(f"[red]error[/]: {escape(message.splitlines()[0] if message else 'failed')}")
    sys.exit(1)


if __name__ == "__main__":
    serve()
