"""Click options several commands share, so each is spelled (and documented) once."""

from __future__ import annotations

import click

snapshot_option = click.option(
    "-s",
    "--snapshot",
    "snapshot_path",
    envvar="POLICYENGINE_SNAPSHOT",
    required=True,
    type=click.Path(dir_okay=False),
    help="the snapshot file (YAML or JSON); or set POLICYENGINE_SNAPSHOT",
)
