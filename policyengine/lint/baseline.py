"""The baseline: findings accepted once (``--write-baseline FILE``) and not reported again (``--baseline FILE``).

Entries are keyed by the same line-independent fingerprint as SARIF's ``partialFingerprints``
(rule, file, statement-aware JSON pointer, offending text with whitespace collapsed), so a finding
still matches after lines are inserted above it or the file is re-indented; changing the offending
text, or moving it elsewhere in the document, makes it new. A fingerprint listed twice absorbs two
findings. The file is JSON with sorted entries, so it diffs well in review::

    {
      "version": 1,
      "tool": "policyengine",
      "entries": [
        {"fingerprint": "3f2a...", "rule": "PE020", "file": "keys/app.json",
         "pointer": "/Statement[Sid=App]/Action", "message": "..."}
      ]
    }

``rule``, ``file``, ``pointer`` and ``message`` are there for the reader; only ``fingerprint`` matches.

File paths (in ``file`` and inside the fingerprint) are relative to ``baseline_root``: the root of
the git repository holding the baseline file, or the baseline file's directory outside a
repository. So a baseline written from the repository root matches the same findings when the
linter runs from a subdirectory, a CI runner's checkout or a pre-commit hook.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policyengine.lint.config import ConfigError
from policyengine.lint.finding import Finding
from policyengine.lint.reporters._common import fingerprint, ordered, relative_path, repository_root, stable_pointer

__all__ = ["BASELINE_VERSION", "Baseline", "BaselineEntry", "baseline_root", "load_baseline", "write_baseline"]

BASELINE_VERSION = 1


def baseline_root(path: Path) -> Path:
    """What the paths of the baseline at ``path`` are relative to: its git repository's root, else its directory."""
    directory = Path(os.path.abspath(path)).parent
    return repository_root(directory) or directory


@dataclass(frozen=True, slots=True)
class BaselineEntry:
    """One accepted finding: its fingerprint, and what it was, for people reading the file."""

    fingerprint: str
    rule: str
    file: str
    pointer: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {
            "fingerprint": self.fingerprint,
            "rule": self.rule,
            "file": self.file,
            "pointer": self.pointer,
            "message": self.message,
        }


@dataclass(frozen=True)
class Baseline:
    """The accepted findings; ``root`` is what file paths in fingerprints are relative to (default: working directory)."""

    entries: tuple[BaselineEntry, ...] = ()
    path: Path | None = None
    root: Path | None = None

    def filter(self, findings: Iterable[Finding], texts: Mapping[str, str]) -> tuple[list[Finding], list[Finding]]:
        """``findings`` split into (new, known), each in the given order; ``texts`` maps sources to file text."""
        remaining = Counter(entry.fingerprint for entry in self.entries)
        new: list[Finding] = []
        known: list[Finding] = []
        for finding in findings:
            key = fingerprint(finding, texts.get(finding.source), self.root)
            if remaining[key] > 0:
                remaining[key] -= 1
                known.append(finding)
            else:
                new.append(finding)
        return new, known


def baseline_of(findings: Iterable[Finding], texts: Mapping[str, str], root: Path | None = None) -> Baseline:
    """The baseline that accepts exactly ``findings``, entries sorted."""
    entries = [
        BaselineEntry(
            fingerprint(f, texts.get(f.source), root),
            f.rule_id,
            relative_path(f.source, root),
            stable_pointer(f),
            f.message,
        )
        for f in ordered(findings)
    ]
    entries.sort(key=lambda e: (e.file, e.rule, e.pointer, e.fingerprint, e.message))
    return Baseline(tuple(entries), None, root)


def write_baseline(findings: Iterable[Finding], path: Path, texts: Mapping[str, str], root: Path | None = None) -> Baseline:
    """Write the baseline accepting ``findings`` to ``path`` (JSON, sorted, trailing newline) and return it.

    Missing parent directories are made; the file is replaced whole (written beside it, then renamed), so
    an interrupted run never leaves half a baseline. ``ConfigError`` names the file when it cannot be written.
    """
    baseline = baseline_of(findings, texts, root)
    document = {"version": BASELINE_VERSION, "tool": "policyengine", "entries": [e.to_json() for e in baseline.entries]}
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(partial, target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise ConfigError(f"{path}: cannot write baseline: {error.strerror or error}") from None
    return Baseline(baseline.entries, target, root)


def load_baseline(path: Path, root: Path | None = None) -> Baseline:
    """Read a baseline file; ``ConfigError`` (naming the file) when it is missing or malformed."""
    try:
        data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: baseline file not found") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read baseline: {error.strerror or error}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: baseline is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: baseline must be a JSON object with `version` and `entries`")
    if data.get("version") != BASELINE_VERSION:
        raise ConfigError(f"{path}: unsupported baseline version `{data.get('version')}` (expected {BASELINE_VERSION})")
    raw = data.get("entries")
    if not isinstance(raw, list):
        raise ConfigError(f"{path}: baseline `entries` must be a list")
    entries: list[BaselineEntry] = []
    for number, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("fingerprint"), str) or not item["fingerprint"]:
            raise ConfigError(f"{path}: baseline entry {number} has no `fingerprint` string")
        fields = {key: item.get(key, "") for key in ("rule", "file", "pointer", "message")}
        for key, value in fields.items():
            if not isinstance(value, str):
                raise ConfigError(f"{path}: baseline entry {number}: `{key}` must be a string")
        entries.append(BaselineEntry(item["fingerprint"], fields["rule"], fields["file"], fields["pointer"], fields["message"]))
    return Baseline(tuple(entries), Path(path), root)
