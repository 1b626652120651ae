"""Parsed policy strings: literal text, wildcards and policy variables.

Only strings that contain ``${`` carry a template in the model; every other string is a plain
wildcard pattern and the evaluator reads its ``value`` directly.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class TextPart(BaseModel):
    """Literal text; substituted or escaped text (``${*}``) is a TextPart and never a wildcard."""

    model_config = _FROZEN
    text: str


class WildcardPart(BaseModel):
    """``*`` (any run of characters) or ``?`` (any one character)."""

    model_config = _FROZEN
    char: Literal["*", "?"]


class VariablePart(BaseModel):
    """``${key}`` or ``${key, 'default'}``: replaced by the request's value for ``key``."""

    model_config = _FROZEN
    key: str
    default: str | None = None


TemplatePart = TextPart | WildcardPart | VariablePart
