"""``policyengine simulate``: answer the question in each scenario file, with the reasons."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape

import policyengine as pe
from policyengine.cli.output import out, print_json


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
def simulate(scenarios: tuple[str, ...], view: str, fmt: str) -> None:
    """Decide each SCENARIO (JSON or YAML: policies + request) as AWS would.

    Exit code 0 when every request is allowed, 2 when any is denied, 1 for bad input.
    """
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
