"""Source positions carried by every model node, so findings can point at ``file:line:col``."""

from __future__ import annotations

from itertools import accumulate
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema


class Span(tuple[int, int, int, int, int, int]):
    """Where a node sits in its source text.

    Lines and columns are 1-based; ``end_column`` is one past the last character, as editors
    and SARIF regions count. Offsets are 0-based character offsets into the original text.
    An immutable tuple of six integers rather than a dataclass or a pydantic model: a policy has
    one per value, all made by the parser, and a tuple is made in C — the position scanner makes
    them with ``tuple.__new__(Span, (line, column, end_line, end_column, offset, end_offset))``,
    a tenth of what a frozen dataclass costs.
    """

    __slots__ = ()

    def __new__(cls, *, line: int, column: int, end_line: int, end_column: int, offset: int, end_offset: int) -> Span:
        return tuple.__new__(cls, (line, column, end_line, end_column, offset, end_offset))

    @property
    def line(self) -> int:
        return self[0]

    @property
    def column(self) -> int:
        return self[1]

    @property
    def end_line(self) -> int:
        return self[2]

    @property
    def end_column(self) -> int:
        return self[3]

    @property
    def offset(self) -> int:
        return self[4]

    @property
    def end_offset(self) -> int:
        return self[5]

    def __str__(self) -> str:
        return f"{self.line}:{self.column}"

    def __repr__(self) -> str:
        return (
            f"Span(line={self[0]}, column={self[1]}, end_line={self[2]}, end_column={self[3]},"
            f" offset={self[4]}, end_offset={self[5]})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle and copy by value (the keyword-only constructor cannot take the tuple's items)."""
        return (_span_from_items, (tuple(self),))

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """Models hold spans as they are (the parser made them), and dump them as the mapping a dataclass gave.

        The mapping validates back into a span, so a dumped model validates again and has a JSON Schema.
        pydantic is imported here, when a model's schema is built, not with the module: ``policyengine.errors``
        needs ``Span``, and an error must not cost pydantic's import.
        """
        from pydantic_core import core_schema

        mapping = core_schema.typed_dict_schema(
            {name: core_schema.typed_dict_field(core_schema.int_schema()) for name in _FIELDS}, extra_behavior="forbid"
        )
        from_mapping = core_schema.no_info_after_validator_function(_span_from_mapping, mapping)
        return core_schema.json_or_python_schema(
            json_schema=from_mapping,
            python_schema=core_schema.union_schema([core_schema.is_instance_schema(cls), from_mapping]),
            serialization=core_schema.plain_serializer_function_ser_schema(_span_as_dict),
        )


def line_starts(text: str) -> list[int]:
    """The offset where each line of ``text`` starts (lines end at ``\\n``), for bisecting an offset into a line.

    Made in C (split, len, accumulate), not a Python step per character; one copy for every reader that maps offsets.
    """
    return list(accumulate(map((1).__add__, map(len, text.split("\n")[:-1])), initial=0))


def _span_from_mapping(fields: dict[str, int]) -> Span:
    return Span(**fields)


def _span_from_items(items: tuple[int, int, int, int, int, int]) -> Span:
    return tuple.__new__(Span, items)


#: A span's items by name, in order: the mapping it is dumped as and validated from.
_FIELDS = ("line", "column", "end_line", "end_column", "offset", "end_offset")


def _span_as_dict(span: Span) -> dict[str, int]:
    return dict(zip(_FIELDS, span, strict=True))
