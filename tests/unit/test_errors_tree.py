"""errors.py's docstring tree lists every error class the package defines (issue 15: one hierarchy, written down)."""

from __future__ import annotations

import importlib
import pkgutil
import re

import policyengine
from policyengine import errors
from policyengine.errors import PolicyEngineError


def _all_subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _all_subclasses(sub)
    return found


def test_every_error_class_is_in_the_tree() -> None:
    for module in pkgutil.walk_packages(policyengine.__path__, "policyengine."):
        if module.name.endswith("__main__") or ".playground.static" in module.name:
            continue
        importlib.import_module(module.name)
    classes = {c.__name__ for c in _all_subclasses(PolicyEngineError) if c.__module__.startswith("policyengine.")}
    listed = set(re.findall(r"(?:├──|└──) (\w+)", errors.__doc__ or ""))
    assert classes, "no error classes found"
    assert classes - listed == set(), "missing from errors.py's tree"
    assert listed - classes - {"PolicyEngineError"} == set(), "listed in errors.py's tree but not defined"
