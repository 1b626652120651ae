"""Shared terminal output for the CLI: one console each for stdout and stderr, rich only where it is needed.

The commands write rich markup (``[red]DENY[/]``, user text through ``escape``). Importing rich and making a
console cost about 0.06 s of CPU, a fifth of an access query's start (docs/benchmarks.md, "Start-up"),
so a line of markup in the styles below is rendered here, as plain ANSI like ``policyengine lint``'s report
(``lint.reporters.text``); tables, progress bars and anything else still go to a rich console made on first
use. ``escape`` and ``render_markup`` follow rich's markup grammar (a tag is ``[`` then a letter, ``#``,
``/`` or ``@``, up to the next ``]``; an odd number of backslashes before it makes it text), so that the same
escaped text reads the same through either; tests/unit/test_cli_markup.py compares them with rich.
"""

from __future__ import annotations

import functools
import json
import os
import re
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


def wants_color(console: Console) -> bool:
    """Whether to colour what is written to ``console``: a terminal (as rich decides), unless ``NO_COLOR`` is set
    (https://no-color.org: any non-empty value), as rich's own console decides."""
    return bool(console.is_terminal) and not os.environ.get("NO_COLOR")


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

    def print(self, *objects: Any, **options: Any) -> None:
        """One line of markup in known styles is written here (no rich import); anything else by rich.

        Emoji codes are left as they are here whatever ``emoji`` says (rich's ``emoji=False``): the text is ARNs
        and names, where ``:name:`` is not meant as an emoji.
        """
        if "console" not in self.__dict__ and len(objects) == 1 and isinstance(objects[0], str) and set(options) <= {"emoji"}:
            text = render_markup(objects[0], color=wants_color(cast("Console", self)))
            if text is not None:
                (sys.stderr if self._stderr else sys.stdout).write(text + "\n")
                return
        self.console.print(*objects, **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console, name)

    # Special methods are looked up on the type, past ``__getattr__``: rich's live displays (progress bars) enter
    # their console as a context manager, so these two are passed on explicitly.
    def __enter__(self) -> Console:
        return self.console.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self.console.__exit__(*exc)


# Typed as the Console they stand for: every call goes through to one.
out = cast("Console", LazyConsole(stderr=False))
err = cast("Console", LazyConsole(stderr=True))


#: A markup tag with the backslashes before it (rich's grammar: an odd number makes the tag text).
_TAG = re.compile(r"(\\*)\[([a-z#/@][^\[]*?)]")
#: The styles ``render_markup`` writes itself, as ANSI SGR codes (the ones the commands use).
_SGR = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35", "cyan": "36"}


def escape(text: str) -> str:
    """``text`` as markup that shows it as it is (as ``rich.markup.escape``): tag-like brackets are escaped."""
    escaped = _TAG.sub(lambda m: f"{m[1]}{m[1]}\\[{m[2]}]", text)
    # A trailing lone backslash would escape a tag written right after the text.
    return escaped + "\\" if escaped.endswith("\\") and not escaped.endswith("\\\\") else escaped


def render_markup(markup: str, *, color: bool) -> str | None:
    """``markup`` as text, its styles as ANSI escapes when ``color``; ``None`` for a tag outside ``_SGR``."""
    parts: list[str] = []
    open_styles: list[str] = []
    position = 0
    for match in _TAG.finditer(markup):
        slashes, tag = match.groups()
        parts.append(markup[position : match.start()].replace("\\[", "["))  # rich's reading of a stray `\[`
        parts.append("\\" * (len(slashes) // 2))
        position = match.end()
        if len(slashes) % 2:
            parts.append(f"[{tag}]")
            continue
        if tag.startswith("/"):
            if tag != "/" or not open_styles:
                return None
            open_styles.pop()
            style = "0" + "".join(f";{codes}" for codes in open_styles)
        else:
            words = tag.split()
            if not all(word in _SGR for word in words):
                return None
            style = ";".join(_SGR[word] for word in words)
            open_styles.append(style)
        if color:
            parts.append(f"\x1b[{style}m")
    if open_styles:
        return None
    parts.append(markup[position:].replace("\\[", "["))
    return "".join(parts)


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
