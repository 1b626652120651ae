"""Cached Lark parsers built from the grammars shipped inside the package.

Each grammar is read once (from the wheel or the checkout, see ``policyengine._data``) and
compiled once into an LALR parser. Callers never build ``Lark`` objects themselves.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from lark import Lark, Transformer

from policyengine._data import data_dir


def grammar_text(name: str) -> str:
    """The text of ``grammars/<name>.lark``, from the wheel or the checkout."""
    return (data_dir("grammars") / f"{name}.lark").read_text(encoding="utf-8")


@cache
def policy_json_parser() -> Lark:
    """The JSON parser with the position-keeping transformer applied while parsing."""
    from policyengine.parsing.json_grammar import JsonTreeBuilder

    return _build("policy_json", transformer=JsonTreeBuilder())


@cache
def condition_operator_parser() -> Lark:
    """The parser of condition operator names (``ForAnyValue:StringLikeIfExists``)."""
    return _build("condition_op")


@cache
def policy_string_parser() -> Lark:
    """The parser of policy strings holding variables (``${aws:username}``)."""
    return _build("policy_string")


@cache
def arn_parser() -> Lark:
    """The parser splitting an ARN or ARN pattern into its six parts."""
    return _build("arn")


def _build(name: str, transformer: Transformer[Any, Any] | None = None) -> Lark:
    return Lark(
        grammar_text(name),
        parser="lalr",
        lexer="contextual",
        maybe_placeholders=False,
        transformer=transformer,
    )
