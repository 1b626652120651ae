"""Shared terminal output for the CLI: one rich console each for stdout and stderr."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape

import policyengine as pe

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """Machine-readable output: plain JSON on stdout, never styled."""
    print(json.dumps(data, indent=2, sort_keys=False))


def issue_to_json(error: pe.PolicyInputError, issue: pe.Issue) -> dict[str, Any]:
    """One issue as the JSON the ``validate`` and ``simulate`` commands print."""
    return {
        "file": error.source,
        "line": issue.span.line if issue.span else None,
        "column": issue.span.column if issue.span else None,
        "code": issue.code,
        "message": issue.message,
        "hint": issue.hint,
        "pointer": issue.pointer or None,
    }


def render_input_error(error: pe.PolicyInputError, console: Console = err) -> None:
    """Every issue of ``error`` as ``file:line:col: error: message``, a caret snippet and a hint."""
    for issue in error.issues:
        console.print(f"[bold]{escape(issue.location(error.source))}[/]: [red]error[/]: {escape(issue.message)}")
        snippet = error.snippet(issue)
        if snippet:
            for line in snippet.splitlines():
                console.print(f"    {escape(line)}")
        if issue.hint:
            console.print(f"    [cyan]hint[/]: {escape(issue.hint)}")
