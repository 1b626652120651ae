"""The base of the policy model's pydantic classes: frozen, closed, and built only when validation is asked for.

Why a base of our own: start-up. pydantic builds a class's validator when the class is defined, and the
first validator it builds imports ``importlib.metadata`` to look for plugins; together that is several
hundredths of a second of CPU on every command (docs/benchmarks.md, "Start-up"). With ``defer_build`` the
validator is built the first time something validates (a caller constructing a model by hand,
``model_validate``, ``model_dump``), and the parser, whose values are already checked, makes its models
with ``model_construct`` and never needs one: `policyengine lint` builds no validator at all.

pydantic's own ``model_construct`` handles aliases, validation aliases and default factories, field by
field, and costs four times a validated construction; these classes have none of those (checked when
each class is defined), so ``model_construct`` here only fills the defaults, in field order, and is as
fast as a validated construction. Its result is the instance pydantic's would be: the same ``__dict__``
(same order), fields set, and no extra or private values.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict

__all__ = ["FrozenModel"]

_REQUIRED = object()


class FrozenModel(BaseModel):
    """A frozen model that forbids unknown fields and builds its validator on first use."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    #: (field name, default or ``_REQUIRED``), in field order: what ``model_construct`` fills.
    _construct_fields: ClassVar[tuple[tuple[str, object], ...]] = ()
    #: Every field, in field order, with its default or ``_REQUIRED``: copied and updated by ``model_construct``.
    _construct_template: ClassVar[dict[str, object]] = {}
    _construct_required: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        fields: list[tuple[str, object]] = []
        for name, field in cls.__pydantic_fields__.items():
            if field.alias is not None or field.validation_alias is not None or field.default_factory is not None:
                raise TypeError(f"{cls.__name__}.{name}: FrozenModel.model_construct handles plain fields only")
            fields.append((name, _REQUIRED if field.is_required() else field.default))
        if cls.__private_attributes__ or cls.__pydantic_post_init__:
            raise TypeError(f"{cls.__name__}: FrozenModel.model_construct handles no private attributes or post-init")
        cls._construct_fields = tuple(fields)
        cls._construct_template = dict(fields)
        cls._construct_required = tuple(name for name, default in fields if default is _REQUIRED)

    @classmethod
    # pydantic's mypy plugin gives every model a model_construct typed by its fields, this base's included
    def model_construct(cls, _fields_set: set[str] | None = None, **values: Any) -> Self:  # type: ignore[override]
        """An instance from values already checked (the parser's), without validation: pydantic's semantics, faster.

        An unknown field name is a ``TypeError`` (pydantic would drop it silently): without validation, a
        misspelt keyword would otherwise lose a value unnoticed.
        """
        # A copy of the template updated in place keeps field order (an update never moves a key), in C.
        data: dict[str, Any] = cls._construct_template.copy()
        data.update(values)
        if len(data) != len(cls._construct_template):
            raise TypeError(
                f"{cls.__name__}.model_construct: unknown fields {sorted(set(values) - set(cls._construct_template))}"
            )
        for name in cls._construct_required:
            if data[name] is _REQUIRED:
                del data[name]  # not given: left out, as pydantic's model_construct leaves it
        instance = cls.__new__(cls)
        object.__setattr__(instance, "__dict__", data)
        object.__setattr__(instance, "__pydantic_fields_set__", set(values) if _fields_set is None else _fields_set)
        object.__setattr__(instance, "__pydantic_extra__", None)
        object.__setattr__(instance, "__pydantic_private__", None)
        return instance
