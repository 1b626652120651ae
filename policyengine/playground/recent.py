"""Per-editor memory of the last few texts: what a person typing needs, and no more.

A keystroke changes one editor; the others' texts are unchanged and their parse, compile and lint
results can be reused. A plain ``lru_cache(maxsize=256)`` kept up to 256 parsed 32 KB policies of the
*same* editor alive (every earlier keystroke's), and the garbage collector's full passes over those
objects grew with them: every twelfth keystroke paid 50-150 ms. This cache keeps a few recent texts
per editor (undo and a lesson's reset come back to them) and a bounded number of editors.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import wraps
from threading import Lock
from typing import ParamSpec, TypeVar

__all__ = ["recent_per_editor"]

P = ParamSpec("P")
R = TypeVar("R")

TEXTS_PER_EDITOR = 4
EDITORS = 64


def recent_per_editor(function: Callable[P, R]) -> Callable[P, R]:
    """Cache ``function(editor, ...)`` on all its arguments, keeping a few entries per editor.

    The first positional argument names the editor; every argument must be hashable.
    """
    by_editor: OrderedDict[Hashable, OrderedDict[tuple[Hashable, ...], R]] = OrderedDict()
    lock = Lock()

    @wraps(function)
    def cached(*args: P.args, **kwargs: P.kwargs) -> R:
        if kwargs:
            raise TypeError(f"{function.__name__}: pass arguments by position (they are the cache key)")
        editor: Hashable = args[0]
        key: tuple[Hashable, ...] = tuple(args)
        with lock:
            entries = by_editor.get(editor)
            if entries is not None and key in entries:
                entries.move_to_end(key)
                by_editor.move_to_end(editor)
                return entries[key]
        value = function(*args, **kwargs)
        with lock:
            entries = by_editor.setdefault(editor, OrderedDict())
            by_editor.move_to_end(editor)
            entries[key] = value
            while len(entries) > TEXTS_PER_EDITOR:
                entries.popitem(last=False)
            while len(by_editor) > EDITORS:
                by_editor.popitem(last=False)
        return value

    return cached
