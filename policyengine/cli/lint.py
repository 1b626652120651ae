"""``policyengine lint``: KMS-aware lint of key policies and IAM policies, for people and for CI."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, cast

import click

from policyengine.cli.output import err, escape, out, wants_color
from policyengine.lint import (
    POLICY_TYPES,
    SEVERITIES,
    Bindings,
    LintRun,
    PolicyType,
    Severity,
    all_rules,
    fail_on_or_default,
    load_config,
    make_bindings,
    run_lint,
)

_RED, _BOLD, _RESET = "\x1b[31m", "\x1b[1m", "\x1b[0m"


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True)
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    default=None,
    help="exit 3 when a finding is at or above this severity; the order is security > error > warning > suggestion"
    " [default: the config's fail-on, else warning]",
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
@click.option(
    "--skip-non-policy",
    is_flag=True,
    default=False,
    help="read named files as a directory walk would: skip quietly those that are not policies, templates, plans"
    " or exports, and apply the config's include/exclude (the pre-commit hook passes this)",
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
    skip_non_policy: bool,
    explain_rule: str | None,
) -> None:
    """Lint PATHS (files or directories; `-` is stdin): policies, get-key-policy output, IAM
    authorization-details exports, Terraform plan JSON and CloudFormation templates.

    Values a template leaves to the deployment (AWS::AccountId, parameters, Terraform variables)
    are unknowns of their kind unless --account, --region or --parameter give them.

    Exit codes: 0 nothing at or above --fail-on; 3 findings at or above it; 1 input or usage error.
    The last lines say how many findings of each severity were found and why the run exits as it does.
    Configuration: [tool.policyengine.lint] in pyproject.toml or .policyengine.toml (docs/lint-config.md).
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
    run = _run(
        paths, config, cast("PolicyType | None", policy_type), baseline, write_baseline, stdin_text, bindings, skip_non_policy
    )
    color_err = wants_color(err)
    for path, message in run.input_errors:
        location = _paint(_BOLD, f"{path}:", color_err)
        sys.stderr.write(f"{location} {_paint(_RED, 'error', color_err)}: {message}\n")
    # Each report's module is imported when chosen: the text report needs neither JSON's nor SARIF's.
    if fmt == "json":
        from policyengine.lint import render_json

        print(render_json(run.findings, all_rules(), not_read=run.not_read, input_errors=run.input_errors))
    elif fmt == "sarif":
        from policyengine import __version__
        from policyengine.lint import render_sarif_json

        rules = all_rules()
        print(render_sarif_json(run.findings, rules, texts=run.texts, tool_version=__version__, input_errors=run.input_errors))
    else:
        from policyengine.lint import render_text

        report = render_text(run.findings, texts=run.texts, color=wants_color(out), not_read=run.not_read, summary=False)
        sys.stdout.write(report + ("\n\n" if report else ""))
    outcome = run.outcome(fail_on_or_default(config.fail_on))
    # The text report ends with the summary; JSON and SARIF keep stdout a document, so it goes to stderr.
    status = sys.stdout if fmt == "text" else sys.stderr
    sys.stdout.flush()
    status.write(f"{run.summary_line()}\n{outcome.line()}\n")
    if outcome.exit_code:
        raise SystemExit(outcome.exit_code)


def _paint(style: str, text: str, color: bool) -> str:
    return f"{style}{text}{_RESET}" if color else text


def _run(
    paths: tuple[str, ...],
    config: Any,
    policy_type: PolicyType | None,
    baseline: Path | None,
    write_baseline: Path | None,
    stdin_text: str | None,
    bindings: Bindings,
    skip_non_policy: bool,
) -> LintRun:
    options: dict[str, Any] = {
        "policy_type": policy_type,
        "baseline": baseline,
        "write_baseline_to": write_baseline,
        "stdin_text": stdin_text,
        "bindings": bindings,
        "skip_non_policy": skip_non_policy,
    }
    show = err.is_terminal and not (len(paths) == 1 and Path(paths[0]).is_file())
    if not show:
        return run_lint(paths, config, **options)
    from rich.progress import Progress

    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("linting", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return run_lint(paths, config, progress=advance, **options)


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
