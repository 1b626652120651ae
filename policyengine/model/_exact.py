"""Plain data that is already exactly a ``FrozenModel``'s shape, built into instances without pydantic.

Why: the access commands read a snapshot, which is user input and must be validated, but importing pydantic
and building the snapshot's validator cost about 0.15 s of CPU on every query, half of the 0.3 s a command
may take to start (docs/benchmarks.md, "Start-up"). Nearly every snapshot read is well formed, and for
well-formed plain data pydantic's result is the data itself with the defaults filled in. So
``exact_instance`` checks the data against the class's annotations and builds the instances when every value
is already exactly of its field's type; anything else (a wrong or coercible type, an unknown or missing field,
a string a pattern may refuse) gives ``None``, and the caller validates with pydantic, whose error messages
and coercions therefore stay the only ones.

The check is deliberately narrower than pydantic's validation, never wider: exact ``str``/``bool`` (no
coercion of ``1`` or ``"yes"``), ``list`` and ``dict`` (not tuples or other mappings), ``Literal`` values of the
same type, unions whose members take disjoint Python types, and a ``pattern`` matched with ASCII classes on a
value without line breaks (pydantic's Rust engine reads ``\\d`` as any Unicode digit and ``$`` as the very end;
ASCII and no newline make Python's verdict imply Rust's). An annotation it does not know is refused when the
checker is made, so a new field type cannot slip past unchecked. A test compares it with pydantic on the
fixtures and on mutated documents (``tests/unit/test_exact_model.py``).
"""

from __future__ import annotations

import dataclasses
import re
import sys
import types
import typing
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar, Union

from policyengine.model._frozen import FrozenModel

__all__ = ["exact_instance"]

_Model = TypeVar("_Model", bound=FrozenModel)

#: ``NOT_EXACT`` is what a checker returns for a value it will not vouch for (``None`` is a valid value).
NOT_EXACT: Any = object()

Checker = Callable[[Any], Any]

#: One checker per class, made on first use.
_CHECKERS: dict[type[FrozenModel], Checker] = {}


def exact_instance(cls: type[_Model], data: Any) -> _Model | None:
    """``data`` as a ``cls`` when it is exactly of its shape (what pydantic would return), else ``None``."""
    checker = _CHECKERS.get(cls)
    if checker is None:
        checker = _model_checker(cls, {})
    result = checker(data)
    return None if result is NOT_EXACT else typing.cast(_Model, result)


class _Constraints:
    """What ``Field(...)`` says in an annotation, recorded instead of imported from pydantic."""

    def __init__(self, **constraints: Any) -> None:
        unknown = set(constraints) - {"description", "pattern", "title", "examples"}
        if unknown:
            raise TypeError(f"exact_instance cannot check the constraints {sorted(unknown)}")
        self.pattern: str | None = constraints.get("pattern")


def _model_checker(cls: type[FrozenModel], building: dict[type[FrozenModel], Checker]) -> Checker:
    """The checker of ``cls``'s instances: a mapping with known fields, each checked, built unvalidated."""
    if cls in _CHECKERS:
        return _CHECKERS[cls]
    if cls in building:  # a recursive class: look the finished checker up when called
        return lambda value: _CHECKERS[cls](value)
    building[cls] = lambda value: NOT_EXACT
    namespace = {**vars(sys.modules[cls.__module__]), "Field": _Constraints}
    # The fields' own annotations only (``FrozenModel``'s class variables are not fields), evaluated as pydantic
    # evaluates them, in the class's module, with ``Field`` recording its constraints instead of importing pydantic.
    own = types.SimpleNamespace(__annotations__={f.name: f.type for f in dataclasses.fields(typing.cast(Any, cls))})
    hints = typing.get_type_hints(own, globalns=namespace, include_extras=True)
    fields = {name: _checker(hints[name], building) for name in cls._field_names}
    required = frozenset(cls._required)
    construct = cls.model_construct

    def check(value: Any) -> Any:
        if type(value) is not dict or not required.issubset(value):
            return NOT_EXACT
        built = {}
        for name, item in value.items():
            field = fields.get(name)
            if field is None:
                return NOT_EXACT
            item = field(item)
            if item is NOT_EXACT:
                return NOT_EXACT
            built[name] = item
        return construct(**built)

    _CHECKERS[cls] = check
    return check


def _checker(hint: Any, building: dict[type[FrozenModel], Checker]) -> Checker:
    """The checker of one annotation; a ``TypeError`` for an annotation it cannot check exactly."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Annotated:
        inner = _checker(args[0], building)
        patterns = [c.pattern for c in args[1:] if isinstance(c, _Constraints) and c.pattern is not None]
        if not patterns:
            return inner
        if len(patterns) > 1 or hint.__origin__ is not str:
            raise TypeError(f"exact_instance checks one pattern on a str field only: {hint!r}")
        return _pattern_checker(re.compile(patterns[0], re.ASCII))
    if hint is str or hint is bool:
        return _type_checker(hint)
    if hint is type(None):
        return lambda value: value if value is None else NOT_EXACT
    if hint is Any:
        return lambda value: value
    if isinstance(hint, type) and issubclass(hint, FrozenModel):
        return _model_checker(hint, building)
    if origin is Literal:
        allowed = {(type(arg), arg) for arg in args}
        return lambda value: value if (type(value), value) in allowed else NOT_EXACT
    if origin is list:
        return _list_checker(_checker(args[0], building))
    if origin is dict and args[0] is str:
        return _dict_checker(_checker(args[1], building))
    if origin in (Union, types.UnionType):
        return _union_checker([_checker(arg, building) for arg in args], args)
    raise TypeError(f"exact_instance cannot check {hint!r}")


def _type_checker(kind: type) -> Checker:
    return lambda value: value if type(value) is kind else NOT_EXACT


def _pattern_checker(pattern: re.Pattern[str]) -> Checker:
    def check(value: Any) -> Any:
        if type(value) is not str or "\n" in value or "\r" in value or pattern.search(value) is None:
            return NOT_EXACT
        return value

    return check


def _list_checker(item: Checker) -> Checker:
    def check(value: Any) -> Any:
        if type(value) is not list:
            return NOT_EXACT
        built = [item(v) for v in value]
        return NOT_EXACT if any(v is NOT_EXACT for v in built) else built

    return check


def _dict_checker(item: Checker) -> Checker:
    def check(value: Any) -> Any:
        if type(value) is not dict:
            return NOT_EXACT
        built = {}
        for key, v in value.items():
            v = item(v)
            if type(key) is not str or v is NOT_EXACT:
                return NOT_EXACT
            built[key] = v
        return built

    return check


def _union_checker(members: list[Checker], args: tuple[Any, ...]) -> Checker:
    """A union whose members take disjoint Python types (``X | None``, ``dict | str``): the one that fits."""
    kinds = [_python_type(arg) for arg in args]
    if len(set(kinds)) != len(kinds):
        raise TypeError(f"exact_instance checks unions of distinct Python types only: {args!r}")

    def check(value: Any) -> Any:
        for member in members:
            result = member(value)
            if result is not NOT_EXACT:
                return result
        return NOT_EXACT

    return check


def _python_type(hint: Any) -> type:
    """The one Python type a union member's values have (a model's plain data is a ``dict``)."""
    if typing.get_origin(hint) is Annotated:
        hint = typing.get_args(hint)[0]
    if hint is None or hint is type(None):
        return type(None)
    if isinstance(hint, type) and issubclass(hint, FrozenModel):
        return dict
    origin = typing.get_origin(hint)
    if origin in (list, dict):
        return typing.cast(type, origin)
    if hint in (str, bool):
        return typing.cast(type, hint)
    raise TypeError(f"exact_instance cannot check {hint!r} in a union")
