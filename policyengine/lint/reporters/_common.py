"""What every report shares: the order findings are shown in, the counts, file names and fingerprints.

The fingerprint is the identity of a finding across runs. It hashes the rule id, the file, where in
the document the finding is (its JSON pointer, with the statement named by its Sid when it has one)
and the offending text with its whitespace collapsed, and never the line or column: inserting lines
above a finding, re-indenting the file or reordering Sid-named statements keeps it. SARIF's
``partialFingerprints`` and the baseline file both use it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from policyengine.lint.finding import SEVERITIES, Finding, Severity

#: How much of the offending text (after collapsing whitespace) goes into a fingerprint.
FINGERPRINT_TEXT_LIMIT = 120

_WHITESPACE = re.compile(r"\s+")
_STATEMENT_INDEX = re.compile(r"^/Statement(?:/\d+)?(?=/|$)")


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    """Findings in report order: by file, line, column and rule, then message, so output is deterministic."""
    return sorted(findings, key=lambda f: (*f.sort_key(), f.message, f.pointer))


@dataclass(frozen=True, slots=True)
class Summary:
    """How many findings of each severity, in how many files."""

    total: int
    files: int
    by_severity: Mapping[Severity, int]

    def line(self) -> str:
        """``N findings: w security, x errors, y warnings, z suggestions in F files`` (or ``no findings``)."""
        if self.total == 0:
            return "no findings"
        return f"{plural(self.total, 'finding')}: {self.counts()} in {plural(self.files, 'file')}"

    def counts(self) -> str:
        """``w security, x errors, y warnings, z suggestions``: every severity, most serious first."""
        return ", ".join(
            f"{count} {severity}" if severity == "security" else plural(count, severity)
            for severity, count in self.by_severity.items()
        )


def summarize(findings: Iterable[Finding]) -> Summary:
    """The counts of ``findings`` by severity and the number of distinct files they are in."""
    counts: dict[Severity, int] = dict.fromkeys(SEVERITIES, 0)
    files: set[str] = set()
    total = 0
    for finding in findings:
        counts[finding.severity] += 1
        files.add(finding.source)
        total += 1
    return Summary(total, len(files), counts)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 finding``, ``2 findings`` (``nouns`` when the plural is not ``noun`` + s)."""
    return f"{count} {noun}" if count == 1 else f"{count} {nouns or noun + 's'}"


def relative_path(source: str, root: Path | None = None) -> str:
    """``source`` as a forward-slash path relative to ``root`` (default: the working directory) when inside it.

    A file outside ``root`` keeps the path it was given; standard input (``-``, ``<stdin>``) stays as it is.
    """
    if source in ("-", "<stdin>"):
        return source
    base = Path(os.path.abspath(root if root is not None else Path.cwd()))
    absolute = Path(os.path.abspath(source))
    if absolute.is_relative_to(base):
        return absolute.relative_to(base).as_posix()
    return Path(source).as_posix()


def repository_root(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` holding ``.git`` (a directory, or a file in worktrees and submodules)."""
    here = Path(os.path.abspath(start))
    for directory in (here, *here.parents):
        if (directory / ".git").exists():
            return directory
    return None


def offending_text(finding: Finding, text: str | None) -> str:
    """The exact source text under the finding's span, or ``""`` when the span or the text is unknown."""
    if text is None or finding.span is None:
        return ""
    start, end = finding.span.offset, finding.span.end_offset
    if not 0 <= start <= end <= len(text):
        return ""
    return text[start:end]


def normalized_text(finding: Finding, text: str | None) -> str:
    """The offending text with every run of whitespace collapsed to one space, cut to a fixed length."""
    return _WHITESPACE.sub(" ", offending_text(finding, text)).strip()[:FINGERPRINT_TEXT_LIMIT]


def stable_pointer(finding: Finding) -> str:
    """The finding's JSON pointer with the statement index replaced by its Sid, when the statement has one."""
    label = finding.statement
    if label is None or label.startswith("#"):
        return finding.pointer
    escaped = label.replace("~", "~0").replace("/", "~1")
    return _STATEMENT_INDEX.sub(lambda _: f"/Statement[Sid={escaped}]", finding.pointer, count=1)


def fingerprint(finding: Finding, text: str | None, root: Path | None = None) -> str:
    """The finding's line-independent identity: a SHA-256 of rule, file, stable pointer and normalized text."""
    parts = (finding.rule_id, relative_path(finding.source, root), stable_pointer(finding), normalized_text(finding, text))
    import hashlib  # only SARIF and baselines fingerprint: the text and JSON reports do not load it

    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def source_line(text: str | None, line: int) -> str | None:
    """Line ``line`` (1-based, lines end at ``\\n``) of ``text`` without its line break, or None if there is none."""
    if text is None:
        return None
    lines = text.split("\n")
    return lines[line - 1].removesuffix("\r") if 1 <= line <= len(lines) else None
