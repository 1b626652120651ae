"""``policyengine validate``: is each file a well-formed policy, and if not, where and why."""

from __future__ import annotations

from typing import Any

import click

import policyengine as pe
from policyengine.cli.output import escape, issue_to_json, out, print_json, render_input_error


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def validate(files: tuple[str, ...], fmt: str) -> None:
    """Check that each FILE is a valid policy (a document or `aws kms get-key-policy` output; `-` is stdin).

    Exit code 0 when every file is valid, 1 otherwise.
    """
    results: list[dict[str, Any]] = []
    failed = False
    for path in files:
        try:
            document = pe.load_policy(path)
        except pe.PolicyInputError as error:
            failed = True
            if fmt == "json":
                results.append({"file": error.source, "valid": False, "issues": [issue_to_json(error, i) for i in error.issues]})
            else:
                render_input_error(error, out)
            continue
        warnings = [
            {
                "key": d.key,
                "pointer": d.pointer or "/",
                "line": d.spans[-1].line if d.spans[-1] else None,
                "column": d.spans[-1].column if d.spans[-1] else None,
            }
            for d in document.duplicate_keys
        ]
        if fmt == "json":
            results.append(
                {"file": document.source, "valid": True, "statements": len(document.statements), "duplicate_keys": warnings}
            )
        else:
            count = len(document.statements)
            out.print(f"[bold]{escape(document.source)}[/]: [green]valid[/] ({count} statement{'s' if count != 1 else ''})")
            for w in warnings:
                out.print(
                    f"[bold]{escape(document.source)}:{w['line']}:{w['column']}[/]: [yellow]warning[/]: duplicate key "
                    f"`{escape(str(w['key']))}` in `{escape(str(w['pointer']))}`; AWS uses the last occurrence"
                )
    if fmt == "json":
        print_json(results)
    if failed:
        raise SystemExit(1)
