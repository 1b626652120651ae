"""Shared terminal output for the CLI: one rich console each for stdout and stderr.

The consoles are made on first use: importing rich costs more than a whole small lint run, and
``policyengine lint`` writes its report without it (plain ANSI, see ``lint.reporters.text``).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from typing import TYPE_CHECKING, Any, TextIO, cast

import policyengine as pe

if TYPE_CHECKING:
    from rich.console import Console


def stream_is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal, honouring the variables rich honours (TTY_COMPATIBLE, FORCE_COLOR)."""
    compatible = os.environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    force = os.environ.get("FORCE_COLOR")
    if force is not None:
        return force != ""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class LazyConsole:
    """A rich ``Console`` on stdout or stderr, created (and rich imported) on the first call that needs it."""

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr

    @functools.cached_property
    def console(self) -> Console:
        from rich.console import Console

        return Console(stderr=self._stderr, highlight=False, soft_wrap=True)

    @property
    def is_terminal(self) -> bool:
        """As ``Console.is_terminal``, without creating the console when it does not exist yet."""
        if "console" in self.__dict__:
            return self.console.is_terminal
        return stream_is_terminal(sys.stderr if self._stderr else sys.stdout)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console, name)


# Typed as the Console they stand for: every call goes through to one.
out = cast("Console", LazyConsole(stderr=False))
err = cast("Console", LazyConsole(stderr=True))


def escape(text: str) -> str:
    """``rich.markup.escape``, imported when first needed."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


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
