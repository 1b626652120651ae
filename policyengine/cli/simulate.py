"""``policyengine simulate``: answer the question in each scenario file, with the reasons."""

from __future__ import annotations

from typing import Any

import click

import policyengine as pe
from policyengine import access
from policyengine.cli.output import escape, out, print_json


@click.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--explain",
    "view",
    type=click.Choice(["summary", "full"]),
    default="summary",
    show_default=True,
    help="summary: the answer and the deciding statements; full: every statement, element by element",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--unknown",
    "unknown",
    multiple=True,
    metavar="KEY",
    help="leave this context key open (repeatable) and answer 'allow only if ...' (like `can`)",
)
@click.option("--unknown-all", is_flag=True, help="leave open every context key the scenario does not give")
def simulate(scenarios: tuple[str, ...], view: str, fmt: str, unknown: tuple[str, ...], unknown_all: bool) -> None:
    """Decide each SCENARIO (JSON or YAML: policies + request) as AWS would.

    With --unknown/--unknown-all the named (or every unspecified) context keys stay open and the
    answer is allow, deny, or "allow only if <condition on them>".

    Exit code 0 when every request is allowed (whatever the open keys), 2 when any is denied or
    allowed only under a condition, 1 for bad input.
    """
    if unknown or unknown_all:
        _allow_only_if(scenarios, None if unknown_all else unknown, fmt)
        return
    results: list[dict[str, Any]] = []
    denied = False
    for path in scenarios:
        scenario = pe.load_scenario(path)
        decision = pe.simulate(scenario, trace=view == "full" or fmt == "text")
        denied = denied or not decision.allowed
        if fmt == "json":
            results.append({"scenario": scenario.source, **pe.decision_to_json(decision)})
        else:
            request = scenario.request
            title = f"{scenario.source}: {request.principal} {request.action} on {request.resource}"
            out.print(escape(pe.render_text(decision, view=view, title=title)))
            out.print()
    if fmt == "json":
        print_json(results if len(results) > 1 else results[0])
    if denied:
        raise SystemExit(2)


def _allow_only_if(scenarios: tuple[str, ...], unknown: tuple[str, ...] | None, fmt: str) -> None:
    results: list[dict[str, Any]] = []
    refused = False
    for path in scenarios:
        scenario = pe.load_scenario(path)
        request = scenario.request
        answer = access.allow_only_if(request, scenario.policies, unknown)
        refused = refused or answer.status != "allow"
        if fmt == "json":
            results.append({"scenario": scenario.source, **access.partial_json(answer)})
            continue
        title = f"{scenario.source}: {request.principal} {request.action} on {request.resource}"
        out.print(escape(title))
        if answer.status == "conditional":
            out.print(escape(f"  ALLOW ONLY IF {access.formula_text(answer.residual)}"))
        else:
            out.print(escape(f"  {'ALLOW' if answer.status == 'allow' else 'DENY'} whatever the open keys ({answer.reason})"))
        out.print()
    if fmt == "json":
        print_json(results if len(results) > 1 else results[0])
    if refused:
        raise SystemExit(2)
