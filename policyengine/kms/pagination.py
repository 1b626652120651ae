"""``Limit``/``Marker`` paging as KMS list operations do it (the marker is opaque to callers)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from policyengine.kms import validation
from policyengine.kms.errors import ValidationException

T = TypeVar("T")


def window(limit: Any, marker: Any, *, default: int = 100, maximum: int = 1000) -> tuple[int, int]:
    """Where the requested page starts and how long it is, from ``Limit`` and ``Marker``."""
    size = default if limit is None else validation.integer(limit, "limit", minimum=1, maximum=maximum)
    start = 0
    if marker is not None:
        text = validation.string(marker, "marker", max_len=1024)
        if not text.startswith("pe-") or not text[3:].isdigit():
            raise ValidationException("Invalid marker")
        start = int(text[3:])
    return start, size


def fetched_page(fetched: Sequence[T], start: int, size: int) -> tuple[list[T], dict[str, Any]]:
    """The page from ``size + 1`` items a store read from ``start`` (the extra one says whether more follow)."""
    if len(fetched) > size:
        return list(fetched[:size]), {"Truncated": True, "NextMarker": f"pe-{start + size}"}
    return list(fetched), {"Truncated": False}


def page(
    items: Sequence[T], limit: Any, marker: Any, *, default: int = 100, maximum: int = 1000
) -> tuple[list[T], dict[str, Any]]:
    """One page of ``items`` and the ``Truncated``/``NextMarker`` fields to add to the response."""
    start, size = window(limit, marker, default=default, maximum=maximum)
    return fetched_page(items[start : start + size + 1], start, size)
