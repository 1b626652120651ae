"""SARIF 2.1.0, shaped for GitHub code scanning.

One run whose ``tool.driver`` lists every rule with its help (the bad and the fixed example), its
default level and, for security rules, a ``security-severity`` score (GitHub's 0-10 scale: 9.0 and
up critical, 7.0 high, 4.0 medium, below that low). Each result points at its file relative to
``%SRCROOT%`` with a region in Unicode code points, and carries ``partialFingerprints`` built from
the line-independent fingerprint (see ``_common``), so an alert keeps its identity when lines are
inserted above it. Severities map to levels: error and security to ``error``, warning to
``warning``, suggestion to ``note``.

``%SRCROOT%`` is the root of the git repository the linter runs in (the working directory outside
one), which is what code scanning resolves ``artifactLocation.uri`` against; files that could not
be read are ``toolExecutionNotifications`` of the run's invocation, which is then not successful.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from policyengine.lint.finding import Finding, Severity
from policyengine.lint.registry import Rule
from policyengine.lint.reporters._common import (
    fingerprint,
    offending_text,
    ordered,
    relative_path,
    repository_root,
    source_line,
)

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
TOOL_NAME = "policyengine"
#: The distribution (on PyPI) whose metadata may name the home page; the import package is ``policyengine``.
DISTRIBUTION = "policyengine-kms"

LEVELS: dict[Severity, str] = {"error": "error", "security": "error", "warning": "warning", "suggestion": "note"}
#: The score a security rule gets when it does not give its own.
DEFAULT_SECURITY_SEVERITY = 7.0
#: The score of other rules tagged ``security`` (by their family) without their own: GitHub reads
#: ``security-severity`` on every rule tagged ``security``, and grades one without it as it would a
#: code-quality alert. A warning of the security family (cross-account access) is a medium.
_FAMILY_SCORES: dict[Severity, float] = {"security": DEFAULT_SECURITY_SEVERITY, "error": 5.0, "warning": 4.0, "suggestion": 2.0}
#: Rule families whose checks are exact (syntax, catalog lookups, value types); the others reason about intent.
_EXACT_FAMILIES = frozenset({"structure", "catalog", "types"})
_FIRST_SENTENCE = re.compile(r"^(.+?[.!?])(?:\s|$)", re.DOTALL)


def render_sarif(
    findings: Iterable[Finding],
    rules: Mapping[str, Rule],
    *,
    texts: Mapping[str, str],
    tool_version: str,
    root: Path | None = None,
    information_uri: str | None = None,
    input_errors: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """A SARIF 2.1.0 log of ``findings`` with metadata for every rule in ``rules``.

    ``texts`` maps each finding's source to the whole file text (snippets and fingerprints);
    ``root`` is the directory ``%SRCROOT%`` stands for (default: the repository around the working
    directory, else the working directory); ``information_uri`` defaults to the package's home page
    when its metadata names one; ``input_errors`` (``(file, message)``) become notifications.
    """
    chosen = ordered(findings)
    base = Path(os.path.abspath(root if root is not None else default_root()))
    descriptors = {rule_id: rule_descriptor(rule) for rule_id, rule in sorted(rules.items())}
    for finding in chosen:
        descriptors.setdefault(finding.rule_id, {"id": finding.rule_id})
    index = {rule_id: i for i, rule_id in enumerate(descriptors)}

    occurrences: Counter[str] = Counter()
    results = []
    for finding in chosen:
        text = texts.get(finding.source)
        print_ = fingerprint(finding, text, base)
        occurrences[print_] += 1
        results.append(_result(finding, index[finding.rule_id], text, base, print_, occurrences[print_]))

    driver: dict[str, Any] = {"name": TOOL_NAME}
    uri = information_uri if information_uri is not None else _home_page()
    if uri:
        driver["informationUri"] = uri
    driver["version"] = tool_version
    driver["semanticVersion"] = tool_version
    driver["rules"] = list(descriptors.values())
    base_uri = base.as_uri()
    invocation: dict[str, Any] = {"executionSuccessful": not input_errors}
    if input_errors:
        invocation["toolExecutionNotifications"] = [
            {
                "level": "error",
                "message": {"text": f"{file}: {message}"},
                "locations": [{"physicalLocation": {"artifactLocation": _artifact_location(file, base)}}],
            }
            for file, message in input_errors
        ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": driver},
                "invocations": [invocation],
                "originalUriBaseIds": {SRCROOT: {"uri": base_uri if base_uri.endswith("/") else base_uri + "/"}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def default_root() -> Path:
    """What ``%SRCROOT%`` stands for by default: the git repository around the working directory, else the directory."""
    here = Path.cwd()
    return repository_root(here) or here


def render_sarif_json(
    findings: Iterable[Finding],
    rules: Mapping[str, Rule],
    *,
    texts: Mapping[str, str],
    tool_version: str,
    root: Path | None = None,
    information_uri: str | None = None,
    input_errors: Sequence[tuple[str, str]] = (),
) -> str:
    """``render_sarif`` as indented JSON text (no trailing newline)."""
    log = render_sarif(
        findings,
        rules,
        texts=texts,
        tool_version=tool_version,
        root=root,
        information_uri=information_uri,
        input_errors=input_errors,
    )
    return json.dumps(log, indent=2, ensure_ascii=False)


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    """A rule as a SARIF ``reportingDescriptor``: descriptions, help with examples, level, tags, scores."""
    bad, good = _pretty_example(rule.bad), _pretty_example(rule.good)
    help_text = f"{rule.summary}\n\nBad:\n{bad}\n\nFixed:\n{good}"
    help_markdown = f"{rule.summary}\n\n**Bad**\n\n```json\n{bad}\n```\n\n**Fixed**\n\n```json\n{good}\n```"
    security = rule.severity == "security" or rule.security_severity is not None or rule.family == "security"
    properties: dict[str, Any] = {
        "tags": sorted({rule.family, "security"} if security else {rule.family}),
        "precision": "very-high" if rule.family in _EXACT_FAMILIES else "high",
    }
    if security:
        score = rule.security_severity if rule.security_severity is not None else _FAMILY_SCORES[rule.severity]
        properties["security-severity"] = f"{score:.1f}"
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": _first_sentence(rule.summary)},
        "fullDescription": {"text": rule.summary},
        "help": {"text": help_text, "markdown": help_markdown},
    }
    if rule.help_uri:
        descriptor["helpUri"] = rule.help_uri
    descriptor["defaultConfiguration"] = {"level": LEVELS[rule.severity]}
    descriptor["properties"] = properties
    return descriptor


def _result(finding: Finding, rule_index: int, text: str | None, base: Path, print_: str, occurrence: int) -> dict[str, Any]:
    message = finding.message if not finding.suggestion else f"{finding.message}\nhint: {finding.suggestion}"
    physical: dict[str, Any] = {"artifactLocation": _artifact_location(finding.source, base)}
    span = finding.span
    if span is not None:
        region: dict[str, Any] = {
            "startLine": max(span.line, 1),
            "startColumn": max(span.column, 1),
            "endLine": max(span.end_line, span.line, 1),
            "endColumn": max(span.end_column, 1),
        }
        snippet = offending_text(finding, text)
        if snippet:
            region["snippet"] = {"text": snippet}
        physical["region"] = region
        context = _context_region(text, span.line, span.end_line)
        if context is not None:
            physical["contextRegion"] = context
    location: dict[str, Any] = {"physicalLocation": physical}
    if finding.owner:
        location["logicalLocations"] = [{"fullyQualifiedName": finding.owner, "kind": "resource"}]
    properties: dict[str, Any] = {"severity": finding.severity}
    if finding.pointer:
        properties["pointer"] = finding.pointer
    if finding.statement is not None:
        properties["statement"] = finding.statement
    return {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": message},
        "locations": [location],
        "partialFingerprints": {"primaryLocationLineHash": f"{print_}:{occurrence}", "policyengineFingerprint/v1": print_},
        "properties": properties,
    }


def _artifact_location(source: str, base: Path) -> dict[str, Any]:
    path = relative_path(source, base)
    if Path(path).is_absolute():
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(path, safe="/-._~!$&'()*+,;=:@"), "uriBaseId": SRCROOT}


def _context_region(text: str | None, start: int, end: int) -> dict[str, Any] | None:
    """The whole lines the finding's span covers (the first ten at most), for viewers to show around it."""
    lines = [source_line(text, n) for n in range(max(start, 1), min(max(end, start), start + 9) + 1)]
    present = [line for line in lines if line is not None]
    if not present:
        return None
    return {"startLine": max(start, 1), "endLine": max(start, 1) + len(present) - 1, "snippet": {"text": "\n".join(present)}}


def _first_sentence(text: str) -> str:
    match = _FIRST_SENTENCE.match(text.strip())
    return match.group(1) if match else text.strip() or text


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as its key/value pairs in order, duplicates kept (bad examples may have them on purpose)."""


def _pretty_example(text: str) -> str:
    """An example policy indented for reading, keys (even duplicate ones) in their order; as written if not JSON."""
    try:
        value = json.loads(text, object_pairs_hook=_Pairs)
    except ValueError:
        return text
    return _format(value, 0)


def _format(value: Any, depth: int) -> str:
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(value, _Pairs):
        if not value:
            return "{}"
        items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {_format(v, depth + 1)}" for k, v in value]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list):
        if not value:
            return "[]"
        if all(not isinstance(v, list) for v in value) and len(json.dumps(value)) <= 60:
            return "[" + ", ".join(_format(v, depth + 1) for v in value) + "]"
        return "[\n" + ",\n".join(f"{inner}{_format(v, depth + 1)}" for v in value) + f"\n{pad}]"
    return json.dumps(value, ensure_ascii=False)


def _home_page() -> str | None:
    """The package's home page from its metadata (``[project.urls]``), if it names one."""
    from importlib import metadata

    try:
        urls = metadata.metadata(DISTRIBUTION).get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    for entry in urls:
        label, _, url = str(entry).partition(",")
        if label.strip().lower() in ("homepage", "home", "repository", "source", "documentation") and url.strip():
            return url.strip()
    return None
