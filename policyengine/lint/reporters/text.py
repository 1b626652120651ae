"""The text report: one block per finding, compiler style, and a summary line.

::

    key.json:4:17: security PE301 the key is open to anyone: Principal `*` with no condition
        "Principal": "*",
                     ^^^
      owner: aws_kms_key.main
      hint: name the account, or add a condition on aws:PrincipalAccount

    1 finding: 0 errors, 1 security, 0 warnings, 0 suggestions in 1 file

Colour is plain ANSI escapes (so the string can be written as it is, with ``print`` or
``click.echo``; do not pass it through rich markup), used only when ``color`` is true.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from policyengine.lint.finding import Finding, NotRead, Severity
from policyengine.lint.reporters._common import ordered, source_line, summarize

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_CYAN = "\x1b[36m"
_SEVERITY_STYLE: dict[Severity, str] = {
    "error": "\x1b[1;31m",
    "security": "\x1b[1;35m",
    "warning": "\x1b[1;33m",
    "suggestion": "\x1b[1;34m",
}
_INDENT = "    "


def render_text(
    findings: Iterable[Finding],
    *,
    texts: Mapping[str, str],
    color: bool,
    not_read: Sequence[NotRead] = (),
    unreadable: int = 0,
    summary: bool = True,
) -> str:
    """Every finding as ``file:line:col: severity rule-id message`` with a caret snippet, then a summary line.

    ``texts`` maps a finding's ``source`` to the whole text of that file (for the snippet); a
    finding whose text or span is unknown is shown without one. ``not_read`` lists policies found
    but not linted, and ``unreadable`` counts files that could not be read (their errors are
    printed elsewhere): the summary never says "no findings" as if they had been checked.
    Without ``summary`` the summary line is left out (the CLI writes the run's own, which also
    counts files, suppressions and the baseline), and nothing to report gives an empty string.
    No trailing newline.
    """
    chosen = ordered(findings)

    def paint(style: str, text: str) -> str:
        return f"{style}{text}{_RESET}" if color else text

    blocks: list[str] = []
    for finding in chosen:
        style = _SEVERITY_STYLE[finding.severity]
        location = finding.source if finding.span is None else f"{finding.source}:{finding.line}:{finding.column}"
        lines = [
            f"{paint(_BOLD, location + ':')} {paint(style, finding.severity)} {paint(_DIM, finding.rule_id)} {finding.message}"
        ]
        snippet = caret_snippet(finding, texts.get(finding.source))
        if snippet is not None:
            line, caret = snippet
            lead = caret.rstrip("^")
            lines.append(_INDENT + line)
            lines.append(_INDENT + lead + paint(style, caret[len(lead) :]))
        if finding.owner:
            lines.append(f"  {paint(_CYAN, 'owner')}: {finding.owner}")
        if finding.suggestion:
            lines.append(f"  {paint(_CYAN, 'hint')}: {finding.suggestion}")
        blocks.append("\n".join(lines))
    if not_read:
        listed = [f"{paint(_BOLD, 'not read')} ({len(not_read)}): policies found but not linted"]
        for item in sorted(not_read, key=lambda n: (n.source, n.line)):
            where = item.source if item.span is None else f"{item.source}:{item.line}"
            listed.append(f"  {where}: {item.where}: {item.reason}")
        blocks.append("\n".join(listed))
    if summary:
        line = summarize(chosen).line()
        if unreadable:
            files = "1 file" if unreadable == 1 else f"{unreadable} files"
            line = ("nothing found in what could be read" if not chosen else line) + f"; {files} could not be read"
        blocks.append(line)
    return "\n\n".join(blocks)


def caret_snippet(finding: Finding, text: str | None) -> tuple[str, str] | None:
    """The finding's first source line and a caret line under its span, or None when either is unknown.

    The caret line keeps the source line's own tabs before the column, so the carets sit under the
    span whatever the terminal's tab width. A span that runs past its first line is underlined to
    the end of that line.
    """
    span = finding.span
    if span is None:
        return None
    line = source_line(text, span.line)
    if line is None:
        return None
    column = min(max(span.column, 1), len(line) + 1)
    width = span.end_column - span.column if span.end_line == span.line else len(line) - column + 1
    width = max(1, min(width, len(line) - column + 1))
    if len(line) > LONG_LINE:
        line, column, width = excerpt(line, column, width)
    lead = "".join(c if c == "\t" else " " for c in line[: column - 1])
    return line.rstrip(), lead + "^" * width


#: Lines longer than this are shown as an excerpt: a policy held as one JSON string (a Terraform
#: plan, ``get-key-policy`` output, a minified file) is one line of thousands of characters.
LONG_LINE = 160
_CONTEXT = 60


def excerpt(line: str, column: int, width: int) -> tuple[str, int, int]:
    """The part of a long line a reader needs: the statement around the span (column is 1-based).

    The statement is the innermost object around the span that is an element of a list (a
    policy's only lists of objects are its statements); when it is itself too long, or there is
    none, the excerpt is the span with some context either side. Cuts are marked with ``…``.
    A policy inside a JSON string is shown as JSON (``\\"`` as ``"``, escaped line breaks and
    indentation as one space). Returns the excerpt and the span's column and width within it.
    """
    start = column - 1
    end = min(len(line), start + width)
    opening = _statement_start(line, start)
    closing = _matching_close(line, opening) if opening is not None else None
    if opening is not None and closing is not None and closing + 1 - opening <= 3 * LONG_LINE:
        left, right = opening, closing + 1
    else:
        left, right = max(0, start - _CONTEXT), min(len(line), end + _CONTEXT)
    if end - start > right - left:
        right = end
    end = min(end, right)
    prefix = "…" if left > 0 else ""
    suffix = "…" if right < len(line) else ""
    readable = _unescaped if '\\"' in line[left:right] else (lambda part: part)
    before, inside, after = readable(line[left:start]), readable(line[start:end]), readable(line[end:right])
    return prefix + before + inside + after + suffix, len(prefix) + len(before) + 1, max(1, len(inside))


_ESCAPED_SPACE = re.compile(r"(?:\\[nrt]|\s)+")
_TRAILING_SPACE = re.compile(r"(?:\\[nrt]|\s)+\Z")


def _unescaped(part: str) -> str:
    return _ESCAPED_SPACE.sub(" ", part).replace('\\"', '"')


def _statement_start(line: str, position: int) -> int | None:
    """The ``{`` of the innermost list element object enclosing ``position``, or None."""
    depth = 0
    for index in range(min(position, len(line) - 1), -1, -1):
        char = line[index]
        if char == "}" and index != position:
            depth += 1
        elif char == "{":
            if depth:
                depth -= 1
                continue
            before = _TRAILING_SPACE.sub("", line[max(0, index - 80) : index])
            if before.endswith(("[", ",")):
                return index
    return None


def _matching_close(line: str, opening: int) -> int | None:
    depth = 0
    for index in range(opening, len(line)):
        if line[index] == "{":
            depth += 1
        elif line[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return None
