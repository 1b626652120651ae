"""Wildcard patterns compiled once into matchers, and policy-variable substitution.

Three matching dialects exist in IAM and each is compiled here, cached per pattern text:

* actions: ``*`` and ``?`` over the whole action name, case-insensitive;
* resources: case-sensitive; ``*`` and ``?`` stay inside one colon-separated ARN segment,
  except that a ``*`` ending a segment may run past the colons, and ``*`` in the resource
  part matches anything (IAM UG, "IAM JSON policy elements: Resource", wildcards);
* ``StringLike`` values: a case-sensitive glob over the whole string.

A matcher is ``Callable[[str], bool]``; literal patterns become string equality.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache

from policyengine.model.template import TemplatePart, TextPart, VariablePart, WildcardPart

Matcher = Callable[[str], bool]
Context = Mapping[str, "str | tuple[str, ...]"]


def _always(_: str) -> bool:
    return True


def glob_regex(pattern: str) -> str:
    """A regex body for a glob where ``*`` is any run and ``?`` any one character."""
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


@lru_cache(maxsize=8192)
def glob_matcher(pattern: str, ignore_case: bool = False) -> Matcher:
    """Whole-string glob matching; plain text compiles to equality."""
    if pattern == "*":
        return _always
    if "*" not in pattern and "?" not in pattern:
        if ignore_case:
            lowered = pattern.lower()
            return lambda value: value.lower() == lowered
        return pattern.__eq__
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(glob_regex(pattern) + r"\Z", flags).match  # type: ignore[return-value]


def action_matcher(pattern: str) -> Matcher:
    """Matches lowercased action names against an Action pattern (case-insensitive)."""
    return glob_matcher(pattern.lower())


def resource_regex(pattern: str) -> str:
    """Regex body for a resource ARN pattern, following the segment rules above."""
    if not pattern.startswith("arn:"):
        return glob_regex(pattern)
    pieces = pattern.split(":", 5)
    out: list[str] = []
    for index, piece in enumerate(pieces):
        in_resource_part = index == 5
        body: list[str] = []
        for pos, char in enumerate(piece):
            if char == "*":
                last_in_segment = pos == len(piece) - 1
                body.append(".*" if in_resource_part or last_in_segment else "[^:]*")
            elif char == "?":
                body.append("." if in_resource_part else "[^:]")
            else:
                body.append(re.escape(char))
        out.append("".join(body))
    return ":".join(out)


@lru_cache(maxsize=8192)
def resource_matcher(pattern: str) -> Matcher:
    """Matches resource ARNs against a Resource pattern (case-sensitive, segment-aware)."""
    if pattern == "*":
        return _always
    if "*" not in pattern and "?" not in pattern:
        return pattern.__eq__
    return re.compile(resource_regex(pattern) + r"\Z", re.DOTALL).match  # type: ignore[return-value]


def arn_condition_matcher(pattern: str) -> Matcher:
    """``ArnLike``/``ArnEquals``: each colon-delimited ARN component globbed on its own, case-sensitive.

    IAM UG, condition operators (ARN): "Each of the six colon-delimited components of the ARN
    is checked separately". Unlike the Resource element, a ``*`` never runs past a colon into the
    next component, so a pattern with fewer components than the value never matches it.
    """
    return _arn_condition_matcher(pattern)


@lru_cache(maxsize=4096)
def _arn_condition_matcher(pattern: str) -> Matcher:
    if pattern == "*":
        return _always
    parts = pattern.split(":", 5)
    matchers = [glob_matcher(p) for p in parts]
    count = len(parts)

    def match(value: str) -> bool:
        pieces = value.split(":", 5)
        if len(pieces) != count:
            return False
        return all(m(p) for m, p in zip(matchers, pieces, strict=True))

    return match


def lookup(context: Context, key: str) -> str | tuple[str, ...] | None:
    """A request value by condition key, the key's case ignored (the context is lowercased)."""
    return context.get(key.lower())


def substitute(parts: tuple[TemplatePart, ...], context: Context, *, as_pattern: bool) -> str | None:
    """Fill in policy variables; None when a variable has no value and no default.

    With ``as_pattern`` the result is a glob pattern: wildcards stay wildcards, while the
    substituted and escaped text has its own ``*`` and ``?`` made literal by the caller's
    regex (we return a regex body, see ``template_matcher``). Without it, plain text.
    """
    pieces: list[str] = []
    for part in parts:
        if isinstance(part, TextPart):
            pieces.append(re.escape(part.text) if as_pattern else part.text)
        elif isinstance(part, WildcardPart):
            pieces.append((".*" if part.char == "*" else ".") if as_pattern else part.char)
        else:
            value = _variable_value(part, context)
            if value is None:
                return None
            pieces.append(re.escape(value) if as_pattern else value)
    return "".join(pieces)


def _variable_value(part: VariablePart, context: Context) -> str | None:
    value = lookup(context, part.key)
    if isinstance(value, tuple):
        value = value[0] if len(value) == 1 else None
    if value is None:
        return part.default
    return value


def template_matcher(
    parts: tuple[TemplatePart, ...], context: Context, *, ignore_case: bool = False, resource: bool = False
) -> Matcher | None:
    """A matcher for a string holding variables, or None when a variable is missing.

    Substituted text is always literal; only the policy's own ``*`` and ``?`` are wildcards.
    For resources the wildcards follow the segment rules, so the literal pieces are spliced
    into a resource regex built from the pattern with placeholders.
    """
    if resource:
        pieces: list[str] = []
        for part in parts:
            if isinstance(part, VariablePart):
                value = _variable_value(part, context)
                if value is None:
                    return None
                pieces.append("\x00" + value + "\x01")
            elif isinstance(part, TextPart):
                pieces.append("\x00" + part.text + "\x01")
            else:
                pieces.append(part.char)
        return _spliced_resource_matcher("".join(pieces))
    body = substitute(parts, context, as_pattern=True)
    if body is None:
        return None
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(body + r"\Z", flags).match  # type: ignore[return-value]


@lru_cache(maxsize=4096)
def _spliced_resource_matcher(marked: str) -> Matcher:
    """Resource matcher for a pattern whose literal runs are wrapped in \\x00...\\x01 markers."""
    literal_chars: list[tuple[str, bool]] = []
    literal = False
    for char in marked:
        if char == "\x00":
            literal = True
        elif char == "\x01":
            literal = False
        else:
            literal_chars.append((char, literal))
    text = "".join(c for c, _ in literal_chars)
    segment_of: list[int] = []
    segment = 0
    for char, _ in literal_chars:
        segment_of.append(segment)
        if char == ":" and segment < 5:
            segment += 1
    out: list[str] = []
    for pos, (char, is_literal) in enumerate(literal_chars):
        if is_literal or char not in "*?":
            out.append(re.escape(char))
            continue
        in_resource_part = segment_of[pos] >= 5 or not text.startswith("arn:")
        if char == "*":
            ends_segment = pos == len(text) - 1 or text[pos + 1] == ":"
            out.append(".*" if in_resource_part or ends_segment else "[^:]*")
        else:
            out.append("." if in_resource_part else "[^:]")
    return re.compile("".join(out) + r"\Z", re.DOTALL).match  # type: ignore[return-value]
