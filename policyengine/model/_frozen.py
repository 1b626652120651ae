"""The base of the policy model's classes: frozen slotted dataclasses that pydantic validates at the edges.

Why not ``pydantic.BaseModel``: start-up. Importing pydantic's ``BaseModel`` and defining the model's
classes on it cost about 0.2 s of CPU, two thirds of `policyengine lint` (docs/benchmarks.md,
"Start-up"), although the parser, whose values are already checked, never validates. pydantic
validates standard dataclasses as well as its own models, so the classes are dataclasses and pydantic
is imported the first time something validates, dumps or asks for a schema: ``model_validate``,
``model_dump``, ``model_json_schema`` and a construction by hand (``Statement(index=0, effect="Allow")``
validates, converting lists to tuples and refusing unknown fields, as a pydantic model does) each build
the class's ``TypeAdapter`` on first use. ``model_construct`` (the parser's) and ``model_copy`` fill the
fields without validation, as pydantic's do.

Why ``dataclass`` generates no method here: it writes each generated method as source text and compiles
it when the class is defined, about a millisecond per class on every start-up. ``FrozenModel`` has one
``__init__`` (validating), ``__eq__``/``__hash__`` (over ``operator.attrgetter`` of the fields: one C call),
``__repr__``, the frozen ``__setattr__``/``__delattr__`` and the pickling pair for all of its classes;
``dataclass`` adds the fields' metadata and slots, which is what pydantic, ``dataclasses.fields`` and
type checkers (through ``dataclass_transform``) read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from operator import attrgetter
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self, TypeVar, dataclass_transform

if TYPE_CHECKING:
    from pydantic import TypeAdapter

__all__ = ["FrozenModel", "frozen_model"]

_Model = TypeVar("_Model", bound="type[FrozenModel]")

#: The default of a field that has none.
_REQUIRED: Any = object()
#: The default of a field whose default a factory makes (``dataclasses.field(default_factory=list)``).
_FACTORY: Any = object()

#: One ``TypeAdapter`` per class, built on first use (building one imports pydantic and makes its validator).
_ADAPTERS: dict[type[FrozenModel], TypeAdapter[Any]] = {}


class FrozenModel:
    """pydantic's model API (``model_validate``, ``model_dump``, ...) over a frozen dataclass made by ``frozen_model``."""

    __slots__ = ()

    #: pydantic reads a dataclass's configuration here: unknown fields are an error, as they were on the models.
    __pydantic_config__: ClassVar[Mapping[str, Any]] = {"extra": "forbid"}
    #: The field names, in field order.
    _field_names: ClassVar[tuple[str, ...]] = ()
    #: Each field's default (``_REQUIRED`` when it has none), in field order: what ``model_construct`` fills.
    _defaults: ClassVar[dict[str, object]] = {}
    _required: ClassVar[tuple[str, ...]] = ()
    #: The fields whose default is made by a factory (``_FACTORY`` in ``_defaults``), with it: a fresh list each time.
    _factories: ClassVar[tuple[tuple[str, Callable[[], Any]], ...]] = ()
    #: Each field's slot setter (the slot descriptor's ``__set__``), in field order.
    _setters: ClassVar[tuple[Callable[[Any, Any], None], ...]] = ()
    #: The field values as a tuple, in field order (``operator.attrgetter``: one C call).
    _values: ClassVar[Callable[[Any], tuple[Any, ...]]]

    def __init__(self, **values: Any) -> None:
        """A construction by hand validates (pydantic's ``__init__``): the validated instance's fields are taken over."""
        validated = _adapter(type(self)).validate_python(values)
        for set_slot, value in zip(self._setters, type(self)._values(validated), strict=True):
            set_slot(self, value)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        values = type(self)._values
        return bool(values(self) == values(other))

    def __hash__(self) -> int:
        return hash(type(self)._values(self))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._field_names)
        return f"{type(self).__qualname__}({shown})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    def __getstate__(self) -> tuple[Any, ...]:
        return type(self)._values(self)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for set_slot, value in zip(self._setters, state, strict=True):
            set_slot(self, value)

    @classmethod
    def model_construct(cls, **values: Any) -> Self:
        """An instance from values already checked (the parser's), without validation.

        An unknown or missing field is a ``TypeError``: without validation, a misspelt keyword would
        otherwise lose a value unnoticed.
        """
        # A copy of the defaults updated in place keeps field order (an update never moves a key), in C.
        data = cls._defaults.copy()
        data.update(values)
        if len(data) != len(cls._defaults):
            raise TypeError(f"{cls.__name__}.model_construct: unknown fields {sorted(set(values) - set(cls._defaults))}")
        for name in cls._required:
            if data[name] is _REQUIRED:
                raise TypeError(f"{cls.__name__}.model_construct: missing field {name!r}")
        for name, factory in cls._factories:
            if data[name] is _FACTORY:
                data[name] = factory()
        instance = object.__new__(cls)
        for set_slot, value in zip(cls._setters, data.values(), strict=True):
            set_slot(instance, value)
        return instance

    @classmethod
    def model_validate(cls, obj: Any, *, strict: bool | None = None) -> Self:
        """``obj`` (a mapping, or an instance) validated into an instance; ``pydantic.ValidationError`` if it is not one."""
        result: Self = _adapter(cls).validate_python(obj, strict=strict)
        return result

    @classmethod
    def model_validate_json(cls, data: str | bytes, *, strict: bool | None = None) -> Self:
        """A JSON document validated into an instance."""
        result: Self = _adapter(cls).validate_json(data, strict=strict)
        return result

    @classmethod
    def model_json_schema(cls, mode: Literal["validation", "serialization"] = "validation") -> dict[str, Any]:
        """The JSON Schema pydantic makes for this class."""
        return _adapter(cls).json_schema(mode=mode)

    def model_dump(
        self,
        *,
        mode: Literal["json", "python"] = "python",
        include: Any = None,
        exclude: Any = None,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
    ) -> dict[str, Any]:
        """The instance as plain data (nested models as dicts), as pydantic dumps it."""
        dumped: dict[str, Any] = _adapter(type(self)).dump_python(
            self, mode=mode, include=include, exclude=exclude, exclude_defaults=exclude_defaults, exclude_none=exclude_none
        )
        return dumped

    def model_dump_json(self, *, indent: int | None = None, exclude_defaults: bool = False, exclude_none: bool = False) -> str:
        """The instance as a JSON document."""
        return (
            _adapter(type(self))
            .dump_json(self, indent=indent, exclude_defaults=exclude_defaults, exclude_none=exclude_none)
            .decode()
        )

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy with ``update``'s fields replaced, without validation (pydantic's semantics)."""
        values = {name: getattr(self, name) for name in self._field_names}
        if update:
            values.update(update)
        copied = self.model_construct(**values)
        if deep:
            import copy

            return copy.deepcopy(copied)
        return copied


def _adapter(cls: type[FrozenModel]) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        from pydantic import TypeAdapter

        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    return adapter


def _default(field: dataclasses.Field[Any]) -> object:
    """What ``model_construct`` starts a field with: its default, ``_FACTORY`` or ``_REQUIRED``."""
    if field.default_factory is not dataclasses.MISSING:
        return _FACTORY
    return _REQUIRED if field.default is dataclasses.MISSING else field.default


@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(dataclasses.field,))
def frozen_model(cls: _Model) -> _Model:
    """``cls`` (a ``FrozenModel``) as a frozen, slotted, keyword-only dataclass whose ``__init__`` validates."""
    if not issubclass(cls, FrozenModel):
        raise TypeError(f"{cls.__name__}: frozen_model makes FrozenModel subclasses only")
    # Fields and slots only: the methods are FrozenModel's (the module's docstring says why).
    options = {"init": False, "repr": False, "eq": False, "frozen": False, "slots": True, "kw_only": True}
    made: Any = dataclasses.dataclass(**options)(cls)  # a new class (slots)
    fields = dataclasses.fields(made)
    if not all(f.init for f in fields):
        raise TypeError(f"{cls.__name__}: frozen_model fields are plain (all in __init__)")
    made._field_names = names = tuple(f.name for f in fields)
    made._defaults = {f.name: _default(f) for f in fields}
    made._required = tuple(f.name for f in fields if made._defaults[f.name] is _REQUIRED)
    made._factories = tuple((f.name, f.default_factory) for f in fields if made._defaults[f.name] is _FACTORY)
    made._setters = tuple(getattr(made, f.name).__set__ for f in fields)
    getter = attrgetter(*names)
    made._values = staticmethod(getter if len(names) > 1 else lambda model: (getter(model),))
    result: _Model = made
    return result
