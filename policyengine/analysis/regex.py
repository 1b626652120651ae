"""Policy wildcard patterns as solver regular expressions, in the evaluator's exact dialects.

* globs (``StringLike``, action names): ``*`` any run, ``?`` any one character, the rest
  literal, matched against the whole string;
* resource ARN patterns: the regex the evaluator builds (``patterns.resource_regex``) is
  translated token by token, so the segment rules (``*`` and ``?`` stay inside a colon-
  separated segment except in the resource part, a trailing ``*`` may run past colons) are
  the evaluator's own rather than a second copy that could drift;
* ``ArnLike``/``ArnEquals`` values: six parts, each globbed on its own;
* case-insensitive equality: each character of the lowered constant becomes the class of
  every character whose ``str.lower()`` is that character (the Kelvin sign lowers to ``k``,
  ``İ`` lowers to two characters), read from the running Python's own Unicode tables.
"""

from __future__ import annotations

from functools import cache

from policyengine.analysis.backend import FALSE, TRUE, Backend, Regex, Term
from policyengine.evaluator.patterns import resource_regex

#: Solver strings hold code points below this (SMT-LIB string theory).
MAX_CHAR = 0x30000


def representable(text: str) -> bool:
    """True when every character of ``text`` fits the solver's alphabet."""
    return all(ord(c) < MAX_CHAR for c in text)


def _glob_parts(backend: Backend, pattern: str) -> list[Regex]:
    parts: list[Regex] = []
    literal: list[str] = []
    for char in pattern:
        if char in "*?":
            if literal:
                parts.append(backend.re_lit("".join(literal)))
                literal = []
            parts.append(backend.re_all() if char == "*" else backend.re_char())
        else:
            literal.append(char)
    if literal:
        parts.append(backend.re_lit("".join(literal)))
    return parts


def glob_regex(backend: Backend, pattern: str) -> Regex:
    """Whole-string glob: ``*`` any run, ``?`` any one character."""
    return backend.re_concat(_glob_parts(backend, pattern))


def glob_test(backend: Backend, value: Term, pattern: str) -> Term:
    """``value`` matches the glob ``pattern`` (equality when it has no wildcard)."""
    if pattern == "*":
        return TRUE
    if "*" not in pattern and "?" not in pattern:
        return backend.eq(value, backend.str_const(pattern))
    return backend.in_re(value, glob_regex(backend, pattern))


def _translate_python_regex(backend: Backend, body: str) -> Regex:
    """The regexes ``resource_regex`` emits use only ``.*``, ``[^:]*``, ``.``, ``[^:]`` and escapes."""
    not_colon = backend.re_not_char(":")
    parts: list[Regex] = []
    literal: list[str] = []

    def flush() -> None:
        if literal:
            parts.append(backend.re_lit("".join(literal)))
            literal.clear()

    i = 0
    while i < len(body):
        if body.startswith(".*", i):
            flush()
            parts.append(backend.re_all())
            i += 2
        elif body.startswith("[^:]*", i):
            flush()
            parts.append(backend.re_star(not_colon))
            i += 5
        elif body.startswith("[^:]", i):
            flush()
            parts.append(not_colon)
            i += 4
        elif body[i] == ".":
            flush()
            parts.append(backend.re_char())
            i += 1
        elif body[i] == "\\":
            literal.append(body[i + 1])
            i += 2
        else:
            literal.append(body[i])
            i += 1
    flush()
    return backend.re_concat(parts)


def resource_test(backend: Backend, value: Term, pattern: str) -> Term:
    """``value`` matches the Resource pattern, with the evaluator's segment rules."""
    if pattern == "*":
        return TRUE
    if "*" not in pattern and "?" not in pattern:
        return backend.eq(value, backend.str_const(pattern))
    return backend.in_re(value, _translate_python_regex(backend, resource_regex(pattern)))


def arn_condition_test(backend: Backend, value: Term, pattern: str) -> Term:
    """``ArnLike``/``ArnEquals``: six colon-separated parts globbed one by one."""
    if pattern == "*":
        return TRUE
    parts = pattern.split(":", 5)
    if len(parts) != 6:
        return glob_test(backend, value, pattern)
    no_colon = backend.re_star(backend.re_not_char(":"))
    pieces: list[Regex] = []
    for index, part in enumerate(parts):
        if index:
            pieces.append(backend.re_lit(":"))
        glob = glob_regex(backend, part) if part else backend.re_lit("")
        pieces.append(glob if index == 5 else backend.re_inter((glob, no_colon)))
    return backend.in_re(value, backend.re_concat(pieces))


@cache
def _upper_forms() -> dict[str, tuple[str, ...]]:
    """For each lowercase character, the other characters (below ``MAX_CHAR``) that lower to it."""
    table: dict[str, list[str]] = {}
    for code in range(MAX_CHAR):
        char = chr(code)
        lowered = char.lower()
        if lowered != char and len(lowered) == 1:
            table.setdefault(lowered, []).append(char)
    return {k: tuple(v) for k, v in table.items()}


def _two_char_lowerings() -> dict[str, str]:
    """Characters whose lowercase is two characters (only ``İ`` in current Unicode)."""
    return {chr(c): chr(c).lower() for c in (0x130,) if len(chr(c).lower()) == 2}


def ignore_case_test(backend: Backend, value: Term, lowered: str) -> Term:
    """``value.lower() == lowered``: every string that lowers to the constant."""
    uppers = _upper_forms()
    specials = _two_char_lowerings()
    memo: dict[int, Regex] = {}

    def from_position(i: int) -> Regex:
        if i == len(lowered):
            return backend.re_lit("")
        if i in memo:
            return memo[i]
        char = lowered[i]
        options = [backend.re_lit(c) for c in (char, *uppers.get(char, ()))]
        branches: list[Regex] = [backend.re_concat((backend.re_union(options), from_position(i + 1)))]
        for special, lowering in specials.items():
            if lowered.startswith(lowering, i):
                branches.append(backend.re_concat((backend.re_lit(special), from_position(i + len(lowering)))))
        memo[i] = backend.re_union(branches)
        return memo[i]

    if lowered != lowered.lower():
        return FALSE  # no string lowers to a constant that is not itself lowercase
    return backend.in_re(value, from_position(0))
