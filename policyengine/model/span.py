"""Source positions carried by every model node, so findings can point at ``file:line:col``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Span:
    """Where a node sits in its source text.

    Lines and columns are 1-based; ``end_column`` is one past the last character, as editors
    and SARIF regions count. Offsets are 0-based character offsets into the original text.
    A slotted dataclass rather than a pydantic model: a policy has one per value, and they are
    made only by the parser.
    """

    line: int
    column: int
    end_line: int
    end_column: int
    offset: int
    end_offset: int

    def __str__(self) -> str:
        return f"{self.line}:{self.column}"
