"""``policyengine audit``: read the local KMS's audit trail (one CloudTrail-shaped record per call)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape
from rich.table import Table

from policyengine.cli.output import out

if TYPE_CHECKING:
    from policyengine.kms import AuditRecord


def _matches(record: AuditRecord, key: str | None, principal: str | None, denied: bool) -> bool:
    if key is not None and (record.key_arn is None or not (record.key_arn == key or record.key_arn.endswith(f"/{key}"))):
        return False
    if principal is not None and record.principal != principal:
        return False
    return not (denied and record.error_code != "AccessDeniedException")


@click.command()
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="the local KMS data directory (default: the user's data directory)",
)
@click.option(
    "--store",
    "store_url",
    default=None,
    envvar="POLICYENGINE_STORE",
    show_envvar=True,
    metavar="postgresql://...",
    help="read the audit trail of a PostgreSQL store (as given to `serve --store`) instead of a data directory's",
)
@click.option("--key", default=None, help="only calls on this key (id or ARN)")
@click.option("--principal", default=None, help="only calls by this principal ARN")
@click.option("--denied", is_flag=True, help="only calls the policies refused (AccessDeniedException)")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def audit(data_dir: Path | None, store_url: str | None, key: str | None, principal: str | None, denied: bool, fmt: str) -> None:
    """Show the audit trail of the local KMS, newest last."""
    records = [r for r in _all_records(data_dir, store_url) if _matches(r, key, principal, denied)]
    if fmt == "json":
        print(json.dumps([r.event for r in records], indent=2))
        return
    table = Table(show_header=True, header_style="bold")
    for column in ("time", "operation", "principal", "key", "result"):
        table.add_column(column)
    for record in records:
        result = "[green]ok[/]" if record.error_code is None else f"[red]{escape(record.error_code)}[/]"
        table.add_row(
            record.event["eventTime"],
            record.event_name,
            escape(record.principal),
            escape(record.key_arn.rsplit("/", 1)[-1] if record.key_arn else "-"),
            result,
        )
    out.print(table)
    out.print(f"{len(records)} record{'s' if len(records) != 1 else ''}")


def _all_records(data_dir: Path | None, store_url: str | None) -> list[AuditRecord]:
    """Every audit record of the PostgreSQL store at ``store_url``, or of the SQLite store in ``data_dir``."""
    from policyengine.kms import SqliteKeyStore, default_data_dir  # the store, not the facade: not for --help

    if store_url is not None:
        if data_dir is not None:
            raise click.UsageError("give --data or --store, not both")
        if not store_url.startswith(("postgresql://", "postgres://")):
            raise click.UsageError(f"--store takes a postgresql:// URL, not `{store_url}`")
        from policyengine.kms import open_postgres_store

        shared = open_postgres_store(store_url)
        try:
            return list(shared.audit_records())
        finally:
            shared.close()
    directory = data_dir or default_data_dir()
    database = directory / "kms.sqlite3"
    if not database.is_file():
        raise click.ClickException(f"{directory}: no local KMS state here (run `policyengine serve --data {directory}`)")
    store = SqliteKeyStore(database)
    try:
        return list(store.audit_records())
    finally:
        store.close()
