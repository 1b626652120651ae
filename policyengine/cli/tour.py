"""``policyengine tour``: a guided walk through what policyengine does, on the shipped examples.

Each section prints what it shows and why it matters, so a newcomer learns the access
semantics by watching the engine work on real policies.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape
from rich.rule import Rule

import policyengine as pe
from policyengine.cli.output import out, render_input_error


def _section(title: str, text: str) -> None:
    out.print(Rule(f"[bold]{escape(title)}"))
    out.print(text)
    out.print()


@click.command()
def tour() -> None:
    """Walk through the examples: read, validate and explain real key policies."""
    examples = pe.data_dir("examples")
    _section(
        "1. Reading key policies",
        "Every key has exactly one key policy. policyengine reads it with source positions, so every\n"
        "finding and explanation can point at file:line:col. Here is what each example policy says:",
    )
    for path in sorted(examples.glob("*.json")):
        _explain_file(path)
    broken = sorted((examples / "broken").glob("*.json"))
    _section(
        "2. Errors you can act on",
        "A policy that is not valid JSON, or not a valid policy, gets one line naming the file, line\n"
        "and column, the offending text under a caret, and a hint. These examples are broken on purpose:",
    )
    for path in broken:
        if path.suffix != ".json":
            continue
        try:
            pe.load_policy(path)
            out.print(f"[yellow]{escape(path.name)} unexpectedly valid[/]")
        except pe.PolicyInputError as error:
            render_input_error(error, out)
        out.print()


def _explain_file(path: Path) -> None:
    document = pe.load_policy(path)
    out.print(f"[bold]{escape(path.name)}[/] ({len(document.statements)} statements)")
    for statement in document.statements:
        where = f"{statement.span.line}:{statement.span.column}" if statement.span else ""
        out.print(f"  [dim]{where:>6}[/] {escape(statement.label)}: {escape(pe.describe_statement(statement))}")
    out.print()
