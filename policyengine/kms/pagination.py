"""``Limit``/``Marker`` paging as KMS list operations do it (the marker is opaque to callers).

Lists of what an account may hold 100,000 of (keys, aliases) page by position: the marker names
the last item of the page before (``after``), and the store reads the next page from its index,
so every page costs what one page costs. Short lists (a key's grants, rotations, tags) are read
whole and paged by offset.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from policyengine.kms import validation
from policyengine.kms.errors import ValidationException

T = TypeVar("T")


def _window(limit: Any, marker: Any, *, default: int = 100, maximum: int = 1000) -> tuple[int, int]:
    """Where the requested page starts and how long it is, from ``Limit`` and ``Marker``."""
    size = default if limit is None else validation.integer(limit, "limit", minimum=1, maximum=maximum)
    start = 0
    if marker is not None:
        text = validation.string(marker, "marker", max_len=1024)
        if not text.startswith("pe-") or not text[3:].isdigit():
            raise ValidationException("Invalid marker")
        start = int(text[3:])
    return start, size


def _fetched_page(fetched: Sequence[T], start: int, size: int) -> tuple[list[T], dict[str, Any]]:
    """The page from ``size + 1`` items a store read from ``start`` (the extra one says whether more follow)."""
    if len(fetched) > size:
        return list(fetched[:size]), {"Truncated": True, "NextMarker": f"pe-{start + size}"}
    return list(fetched), {"Truncated": False}


def page(
    items: Sequence[T], limit: Any, marker: Any, *, default: int = 100, maximum: int = 1000
) -> tuple[list[T], dict[str, Any]]:
    """One page of ``items`` and the ``Truncated``/``NextMarker`` fields to add to the response."""
    start, size = _window(limit, marker, default=default, maximum=maximum)
    return _fetched_page(items[start : start + size + 1], start, size)


def after_window(limit: Any, marker: Any, *, default: int = 100, maximum: int = 1000) -> tuple[str | None, int]:
    """The position the requested page follows (None: the first page) and its length, from ``Limit``/``Marker``."""
    size = default if limit is None else validation.integer(limit, "limit", minimum=1, maximum=maximum)
    if marker is None:
        return None, size
    text = validation.string(marker, "marker", max_len=1024)
    if not text.startswith("pe-") or len(text) == 3:
        raise ValidationException("Invalid marker")
    return text[3:], size


def after_page(fetched: Sequence[T], size: int, position: Callable[[T], str]) -> tuple[list[T], dict[str, Any]]:
    """The page from ``size + 1`` items read after a position (the extra one says whether more follow);
    the next marker names the page's last item by ``position``."""
    if len(fetched) > size:
        chunk = list(fetched[:size])
        return chunk, {"Truncated": True, "NextMarker": f"pe-{position(chunk[-1])}"}
    return list(fetched), {"Truncated": False}
