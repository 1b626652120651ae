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

#: One ``TypeAdapter`` per class, built on first use (building one imports pydantic and makes its validator).
_ADAPTERS: dict[type[FrozenModel], TypeAdapter[Any]] = {}


class FrozenModel:
    """pydantic's model API (``model_validate``, ``model_dump``, ...) over a frozen dataclass made by ``frozen_model``."""

    __slots__ = ()

    #: pydantic reads a dataclass's configuration here: unknown fields are an error, as they were on the models.
    __pydantic_config__: ClassVar[Mapping[str, Any]] = {"extra": "forbid"}
    #: The dataclass's own ``__init__``: fills the fields as given, without validation.
    _construct: ClassVar[Callable[..., None]]
    #: The field names, in field order.
    _field_names: ClassVar[tuple[str, ...]] = ()
    #: The field values as a tuple, in field order (``operator.attrgetter``: one C call).
    _values: ClassVar[Callable[[Any], tuple[Any, ...]]]

    # Equality, hash and repr are shared here rather than generated per class by ``dataclass``: each generated
    # method is source text compiled when the class is defined, a millisecond per class at every start-up.
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

    @classmethod
    def model_construct(cls, **values: Any) -> Self:
        """An instance from values already checked (the parser's), without validation.

        An unknown or missing field is a ``TypeError``: without validation, a misspelt keyword would
        otherwise lose a value unnoticed.
        """
        instance = object.__new__(cls)
        cls._construct(instance, **values)
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


def _validating_init(self: FrozenModel, **values: Any) -> None:
    """A construction by hand validates (pydantic's ``__init__``): the validated instance's fields are taken over."""
    validated = _adapter(type(self)).validate_python(values)
    for name in self._field_names:
        object.__setattr__(self, name, getattr(validated, name))


def _adapter(cls: type[FrozenModel]) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        from pydantic import TypeAdapter

        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    return adapter


@dataclass_transform(frozen_default=True, kw_only_default=True)
def frozen_model(cls: _Model) -> _Model:
    """``cls`` (a ``FrozenModel``) as a frozen, slotted, keyword-only dataclass whose ``__init__`` validates."""
    if not issubclass(cls, FrozenModel):
        raise TypeError(f"{cls.__name__}: frozen_model makes FrozenModel subclasses only")
    # eq=False, repr=False: FrozenModel's own (the dataclass keeps its frozen __setattr__ and its __init__)
    made: Any = dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)(cls)  # a new class
    fields = dataclasses.fields(made)
    if any(f.default_factory is not dataclasses.MISSING or not f.init for f in fields):
        raise TypeError(f"{cls.__name__}: frozen_model fields are plain (no default_factory, all in __init__)")
    made._construct = made.__init__
    made._field_names = names = tuple(f.name for f in fields)
    getter = attrgetter(*names)
    made._values = staticmethod(getter if len(names) > 1 else lambda model: (getter(model),))
    type.__setattr__(made, "__init__", _validating_init)
    result: _Model = made
    return result
