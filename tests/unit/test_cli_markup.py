"""The CLI's own markup renderer and escape (policyengine/cli/output.py) read markup as rich does.

A line of markup in the commands' styles is written without importing rich (start-up); tables and progress
bars still go through rich with the same escaped text. So both must agree on every string: compared here
with rich itself on random text full of brackets and backslashes.
"""

from __future__ import annotations

import random

from rich.markup import escape as rich_escape
from rich.text import Text

from policyengine.cli.output import escape, render_markup

_ALPHABET = "[]/\\ab#@: x1"


def _random_texts(count: int) -> list[str]:
    rng = random.Random(16)
    return ["".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 14))) for _ in range(count)] + [
        "[red]",
        "\\[red]",
        "a\\",
        "\\",
        "[/]",
        "[1]",
        "[#fff]",
        "[@click]",
        "arn:aws:iam::111122223333:role/[x]",
    ]


def test_escape_is_richs() -> None:
    for text in _random_texts(5000):
        assert escape(text) == rich_escape(text), text


def test_escaped_text_in_styles_renders_as_rich_renders_it() -> None:
    """Equal to rich's text; or ``None`` (rich renders it) where rich's escape lets an odd run of backslashes
    at the end of the text swallow the closing tag after it, which leaves a style open."""
    left_to_rich = 0
    for text in _random_texts(3000):
        assert render_markup(escape(text), color=False) == Text.from_markup(escape(text), emoji=False).plain, text
        markup = f"[red]{escape(text)}[/] and [bold yellow]{escape(text)}[/]: {escape(text)}"
        rendered = render_markup(markup, color=False)
        if rendered is None:
            left_to_rich += 1
            assert text.endswith("\\\\\\"), text
        else:
            assert rendered == Text.from_markup(markup, emoji=False).plain, markup
    assert left_to_rich < 100


def test_colour_is_ansi_and_unknown_markup_is_left_to_rich() -> None:
    assert render_markup("[red]DENY[/] x", color=True) == "\x1b[31mDENY\x1b[0m x"
    assert render_markup("[bold]a [dim]b[/] c[/]", color=True) == "\x1b[1ma \x1b[2mb\x1b[0;1m c\x1b[0m"
    assert render_markup("[link=https://example.com]x[/]", color=False) is None
    assert render_markup("[red]unclosed", color=False) is None
    assert render_markup("[/bold]", color=False) is None
