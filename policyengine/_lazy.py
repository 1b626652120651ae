"""Lazy package exports (PEP 562): a package lists its public names and imports each on first use.

Why: importing a package must not import everything it offers. ``policyengine lint`` starts in a
fraction of the time when ``import policyengine`` does not load the evaluator, and
``policyengine --version`` when ``policyengine.lint`` does not load the rules. Packages keep
ordinary imports under ``TYPE_CHECKING`` so type checkers and readers see where each name lives.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module ``__getattr__`` and ``__dir__`` for ``package``, whose public names live in the modules ``exports`` maps them to.

    A name's module is imported the first time the name is read; the value is then stored in the
    package, so later reads are ordinary attribute lookups.
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *exports})

    return __getattr__, __dir__
