"""The Lark transformer that builds ``JNode`` trees while the policy_json grammar parses.

Kept apart from ``json_tree`` so that reading a policy imports Lark only when the scanner defers
to the grammar (text that may not be plain JSON): the grammar is the definition and explains
every syntax error, the scanner is the hot path.
"""

from __future__ import annotations

import json
from typing import Any

from lark import Token, Transformer

from policyengine.model.span import Span
from policyengine.parsing.json_tree import JNode, text_value


def _token_span(token: Token) -> Span:
    return Span(
        line=token.line or 0,
        column=token.column or 0,
        end_line=token.end_line or 0,
        end_column=token.end_column or 0,
        offset=token.start_pos or 0,
        end_offset=token.end_pos or 0,
    )


def _between(first: Token, last: Token) -> Span:
    return Span(
        line=first.line or 0,
        column=first.column or 0,
        end_line=last.end_line or 0,
        end_column=last.end_column or 0,
        offset=first.start_pos or 0,
        end_offset=last.end_pos or 0,
    )


class JsonTreeBuilder(Transformer[Token, JNode]):
    """Turns the policy_json grammar's rules into ``JNode``s while the LALR parser runs."""

    def string(self, children: list[Token]) -> JNode:
        token = children[0]
        span = _token_span(token)
        return JNode("string", text_value(json.loads(token), span), span)

    def number(self, children: list[Token]) -> JNode:
        token = children[0]
        return JNode("number", str(token), _token_span(token))

    def true(self, children: list[Token]) -> JNode:
        return JNode("boolean", True, _token_span(children[0]))

    def false(self, children: list[Token]) -> JNode:
        return JNode("boolean", False, _token_span(children[0]))

    def null(self, children: list[Token]) -> JNode:
        return JNode("null", None, _token_span(children[0]))

    def pair(self, children: list[Any]) -> tuple[JNode, JNode]:
        key_token, value = children
        span = _token_span(key_token)
        return (JNode("string", text_value(json.loads(key_token), span), span), value)

    def object(self, children: list[Any]) -> JNode:
        return JNode("object", children[1:-1], _between(children[0], children[-1]))

    def array(self, children: list[Any]) -> JNode:
        return JNode("array", children[1:-1], _between(children[0], children[-1]))
