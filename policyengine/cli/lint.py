"""``policyengine lint``: KMS-aware lint of key policies and IAM policies, for people and for CI."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, cast

import click
from rich.markup import escape
from rich.progress import Progress

from policyengine.cli.output import err, out
from policyengine.lint import (
    POLICY_TYPES,
    Bindings,
    LintRun,
    PolicyType,
    Severity,
    all_rules,
    load_config,
    make_bindings,
    render_json,
    render_sarif_json,
    render_text,
    run_lint,
)

SEVERITIES = ["error", "security", "warning", "suggestion"]


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True)
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    default=None,
    help="exit 3 when a finding is at or above this severity [default: warning, or the config's]",
)
@click.option("--select", default=None, help="comma-separated rule ids or families to run (replaces the config's)")
@click.option("--ignore", default=None, help="comma-separated rule ids or families to skip (adds to the config's)")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="a .policyengine.toml or pyproject.toml to use instead of searching upward",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="report only findings not recorded in this baseline file",
)
@click.option(
    "--write-baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="record every current finding in this file (then exit 0)",
)
@click.option(
    "--policy-type",
    type=click.Choice(POLICY_TYPES),
    default=None,
    help="treat standalone policy files as this type instead of inferring it",
)
@click.option("--account", default=None, metavar="ID", help="the deploying account, for templates' AWS::AccountId")
@click.option("--region", default=None, metavar="REGION", help="the deploying region, for AWS::Region (and the partition)")
@click.option(
    "--parameter",
    "parameters",
    multiple=True,
    metavar="NAME=VALUE",
    help="a template parameter or Terraform variable value; repeat for each one",
)
@click.option("--explain", "explain_rule", default=None, metavar="RULE", help="describe one rule with examples and exit")
def lint(
    paths: tuple[str, ...],
    fmt: str,
    fail_on: str | None,
    select: str | None,
    ignore: str | None,
    config_path: Path | None,
    baseline: Path | None,
    write_baseline: Path | None,
    policy_type: str | None,
    account: str | None,
    region: str | None,
    parameters: tuple[str, ...],
    explain_rule: str | None,
) -> None:
    """Lint PATHS (files or directories; `-` is stdin): policies, get-key-policy output, IAM
    authorization-details exports, Terraform plan JSON and CloudFormation templates.

    Values a template leaves to the deployment (AWS::AccountId, parameters, Terraform variables)
    are unknowns of their kind unless --account, --region or --parameter give them.

    Exit codes: 0 nothing at or above --fail-on; 3 findings at or above it; 1 input or usage error.
    """
    if explain_rule is not None:
        _explain(explain_rule)
        return
    if not paths:
        raise click.UsageError("give at least one file or directory to lint (or --explain RULE)")
    config = load_config(Path.cwd(), config_path).with_overrides(
        select=_names(select), ignore=_names(ignore) or None, fail_on=cast("Severity | None", fail_on)
    )
    try:
        bindings = make_bindings(account, region, parameters)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    stdin_text = sys.stdin.read() if "-" in paths else None
    run = _run(paths, config, cast("PolicyType | None", policy_type), baseline, write_baseline, stdin_text, bindings)
    for path, message in run.input_errors:
        err.print(f"[bold]{escape(path)}[/]: [red]error[/]: {escape(message)}")
    if fmt == "json":
        print(render_json(run.findings, all_rules(), not_read=run.not_read, input_errors=run.input_errors))
    elif fmt == "sarif":
        from policyengine import __version__

        print(render_sarif_json(run.findings, all_rules(), texts=run.texts, tool_version=__version__))
    else:
        unreadable = len({path for path, _ in run.input_errors})
        report = render_text(run.findings, texts=run.texts, color=out.is_terminal, not_read=run.not_read, unreadable=unreadable)
        sys.stdout.write(report + "\n")
    threshold: Severity = config.fail_on or "warning"
    if run.input_errors:
        raise SystemExit(1)
    if write_baseline is not None:
        return
    if run.fails(threshold):
        raise SystemExit(3)


def _run(
    paths: tuple[str, ...],
    config: Any,
    policy_type: PolicyType | None,
    baseline: Path | None,
    write_baseline: Path | None,
    stdin_text: str | None,
    bindings: Bindings,
) -> LintRun:
    show = err.is_terminal and not (len(paths) == 1 and Path(paths[0]).is_file())
    if not show:
        return run_lint(
            paths,
            config,
            policy_type=policy_type,
            baseline=baseline,
            write_baseline_to=write_baseline,
            stdin_text=stdin_text,
            bindings=bindings,
        )
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("linting", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return run_lint(
            paths,
            config,
            policy_type=policy_type,
            baseline=baseline,
            write_baseline_to=write_baseline,
            stdin_text=stdin_text,
            progress=advance,
            bindings=bindings,
        )


def _names(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def _explain(rule_id: str) -> None:
    rules = all_rules()
    found = next((r for r in rules.values() if rule_id.upper() in (r.id, r.name.upper())), None)
    if found is None:
        raise click.UsageError(f"no rule `{rule_id}`; rule ids look like PE501")
    out.print(f"[bold]{found.id} {found.name}[/] ({found.severity}, {found.family})")
    out.print(escape(found.summary))
    for label, example in (("bad", found.bad), ("fixed", found.good)):
        out.print(f"\n[bold]{label}:[/]")
        try:
            out.print(escape(json.dumps(json.loads(example), indent=2)))
        except ValueError:
            out.print(escape(example))
    if found.help_uri:
        out.print(f"\nsee {found.help_uri}")
