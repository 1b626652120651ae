"""``policyengine db``: look after the schema of a shared (PostgreSQL) key store.

A server never creates or alters tables in a shared database by itself: several servers
starting at once, or an older server meeting a newer schema, must not race to change it. The
schema is versioned instead, and moved forward by one explicit command that an operator (or a
deployment step) runs before the servers start; servers refuse a schema they do not read and
name this command.
"""

from __future__ import annotations

import click
from rich.markup import escape

from policyengine.cli.output import out


@click.group()
def db() -> None:
    """Manage the schema of a PostgreSQL key store (the one `serve --store` shares between servers)."""


@db.command()
@click.option(
    "--store",
    "store_url",
    required=True,
    envvar="POLICYENGINE_STORE",
    show_envvar=True,
    metavar="postgresql://...",
    help="the database to create or migrate the schema in",
)
def upgrade(store_url: str) -> None:
    """Create the schema, or migrate it to the version this policyengine reads (safe to run again).

    Runs in one transaction under a lock: two upgrades at once apply it once, and a failure
    changes nothing. A schema newer than this policyengine is left alone and reported.
    """
    if not store_url.startswith(("postgresql://", "postgres://")):
        raise click.UsageError(f"--store takes a postgresql:// URL, not `{store_url}`")
    from policyengine.kms import upgrade_postgres_store  # the store and psycopg: not for --help

    where, before, after = upgrade_postgres_store(store_url)
    if before == after:
        out.print(f"{escape(where)}: schema already at version {after}")
    elif before == 0:
        out.print(f"{escape(where)}: schema created at version {after}")
    else:
        out.print(f"{escape(where)}: schema upgraded from version {before} to {after}")
