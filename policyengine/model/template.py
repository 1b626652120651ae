"""Parsed policy strings: literal text, wildcards and policy variables.

Only strings that contain ``${`` carry a template in the model; every other string is a plain
wildcard pattern and the evaluator reads its ``value`` directly.
"""

from __future__ import annotations

from typing import Literal

from policyengine.model._frozen import FrozenModel, frozen_model


@frozen_model
class TextPart(FrozenModel):
    """Literal text; substituted or escaped text (``${*}``) is a TextPart and never a wildcard."""

    text: str


@frozen_model
class WildcardPart(FrozenModel):
    """``*`` (any run of characters) or ``?`` (any one character)."""

    char: Literal["*", "?"]


@frozen_model
class VariablePart(FrozenModel):
    """``${key}`` or ``${key, 'default'}``: replaced by the request's value for ``key``."""

    key: str
    default: str | None = None


TemplatePart = TextPart | WildcardPart | VariablePart
