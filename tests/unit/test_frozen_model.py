"""The policy model's ``model_construct`` (policyengine/model/_frozen.py) makes what pydantic's makes.

The parser builds every model with it, unvalidated, so that no pydantic validator is built at start-up;
these tests pin that the shortcut gives the instance a validated construction and pydantic's own
``model_construct`` give: same values in field order, same fields set, equal, same hash, same dump.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from pydantic import BaseModel

import policyengine as pe
from policyengine.model._frozen import FrozenModel
from policyengine.model.grant import Grant, GrantConstraints
from policyengine.model.policy import Condition, ConditionValue, DuplicateKey, PolicyDocument, PrincipalBlock, Statement
from policyengine.model.principal import PrincipalRef
from policyengine.model.span import Span
from policyengine.model.template import TextPart, VariablePart, WildcardPart

SPAN = Span(line=1, column=2, end_line=1, end_column=9, offset=1, end_offset=8)
REF = PrincipalRef(kind="role", text="arn:aws:iam::111122223333:role/ops", account="111122223333", name="ops")

CASES: list[tuple[type[FrozenModel], dict[str, Any]]] = [
    (TextPart, {"text": "a"}),
    (WildcardPart, {"char": "?"}),
    (VariablePart, {"key": "aws:username", "default": "x"}),
    (PrincipalRef, {"kind": "account", "text": "111122223333", "account": "111122223333"}),
    (PrincipalBlock, {"wildcard": True, "span": SPAN}),
    (Condition, {"operator": "StringEquals", "base": "StringEquals", "key": "k", "values": (ConditionValue(value="v"),)}),
    (Statement, {"sid": "S", "index": 3, "effect": "Deny", "span": SPAN}),  # keywords out of field order
    (DuplicateKey, {"pointer": "/Sid", "key": "Sid", "spans": (SPAN, None)}),
    (PolicyDocument, {"statements": (), "version": "2012-10-17"}),
    (GrantConstraints, {"encryption_context_subset": {"a": "b"}}),
    (Grant, {"grant_id": "g", "key_arn": "k", "grantee_principal": "p", "grantee": REF, "operations": ("Decrypt",)}),
]


@pytest.mark.parametrize(("cls", "values"), CASES, ids=[cls.__name__ for cls, _ in CASES])
def test_model_construct_gives_the_validated_instance(cls: type[FrozenModel], values: dict[str, Any]) -> None:
    fast = cls.model_construct(**values)
    validated = cls(**values)
    pydantics = BaseModel.model_construct.__func__(cls, **values)  # type: ignore[attr-defined]
    for other in (validated, pydantics):
        assert list(fast.__dict__.items()) == list(other.__dict__.items())
        assert fast.model_fields_set == other.model_fields_set == set(values)
        assert fast.__pydantic_extra__ is other.__pydantic_extra__ is None
        assert fast == other and repr(fast) == repr(other)
        assert _hash(fast) == _hash(other)  # GrantConstraints holds dicts: unhashable either way
        assert fast.model_dump() == other.model_dump()


def _hash(model: FrozenModel) -> int | str:
    try:
        return hash(model)
    except TypeError as error:
        return str(error)


def test_an_unknown_field_is_an_error_not_a_silent_drop() -> None:
    with pytest.raises(TypeError, match=r"unknown fields \['sidd'\]"):
        Statement.model_construct(index=0, effect="Allow", sidd="x")  # type: ignore[call-arg]


def test_a_field_shape_the_shortcut_cannot_fill_is_refused_when_the_class_is_defined() -> None:
    from pydantic import Field

    with pytest.raises(TypeError, match="plain fields only"):

        class _Aliased(FrozenModel):
            name: str = Field(alias="Name")


def test_models_still_validate_when_constructed_by_hand() -> None:
    """``defer_build`` moves the validator's construction to first use; it still refuses bad values."""
    with pytest.raises(ValueError, match="effect"):
        Statement(index=0, effect="Maybe")  # type: ignore[arg-type]


def _models(value: object) -> list[FrozenModel]:
    """Every model inside ``value`` (fields, tuples and the dataclass leaves that hold models)."""
    if isinstance(value, FrozenModel):
        return [value, *(m for field in value.__dict__.values() for m in _models(field))]
    if isinstance(value, tuple | list):
        return [m for item in value for m in _models(item)]
    if hasattr(value, "__dataclass_fields__"):
        return [m for name in value.__dataclass_fields__ for m in _models(getattr(value, name))]
    return []


def test_every_node_the_parser_makes_would_pass_validation() -> None:
    """The parser skips validation: each model it builds must be one pydantic accepts, unchanged."""
    document = pe.parse_policy(_POLICY)
    models = _models(document)
    made = {type(m).__name__ for m in models}
    assert made == {c.__name__ for c, _ in CASES} - {"Grant", "GrantConstraints"}  # every kind the parser makes
    for model in models:
        again = type(model)(**model.__dict__)
        assert list(again.__dict__.items()) == list(model.__dict__.items())
        assert again.model_fields_set <= set(model.__dict__)


def _leaves(value: object) -> list[object]:
    """Every dataclass leaf (``StringItem``, ``ConditionValue``, ``PrincipalEntry``) inside ``value``."""
    if isinstance(value, FrozenModel):
        return [leaf for field in value.__dict__.values() for leaf in _leaves(field)]
    if isinstance(value, tuple | list):
        return [leaf for item in value for leaf in _leaves(item)]
    if dataclasses.is_dataclass(value):
        return [value]
    return []


@pytest.mark.parametrize("read", [pe.parse_policy, pe.parse_policy_fast])
def test_every_leaf_the_reader_fills_is_the_keyword_constructed_instance(read: Any) -> None:
    """The reader fills the leaves' slots without their ``__init__``: each must equal the one ``__init__`` makes."""
    leaves = _leaves(read(_POLICY))
    assert {type(leaf).__name__ for leaf in leaves} == {"StringItem", "ConditionValue", "PrincipalEntry"}
    assert any(getattr(leaf, "template", None) for leaf in leaves)  # the templated form too
    for leaf in leaves:
        values = {f.name: getattr(leaf, f.name) for f in dataclasses.fields(leaf)}  # every slot is set
        again = type(leaf)(**values)
        assert again == leaf and repr(again) == repr(leaf) and hash(again) == hash(leaf)


_POLICY = (
    '{"Version": "2012-10-17", "Id": "k", "Statement": [{"Sid": "A", "Effect": "Allow", "Principal": {"AWS": '
    '["arn:aws:iam::111122223333:role/a/ops", "111122223333", "arn:aws:sts::111122223333:assumed-role/r/s", "*"], '
    '"Service": "kms.amazonaws.com"}, "NotAction": "kms:Decrypt", "Resource": ["*", "${aws:username}?*", "a${*}b"], '
    '"Condition": {"ForAnyValue:StringLikeIfExists": {"kms:EncryptionContext:app": ["${aws:username, \'x\'}-*", 1, true]}}}, '
    '{"Sid": "B", "Effect": "Deny", "Effect": "Deny", "Principal": "*", "Action": "kms:*", '
    '"NotResource": "arn:aws:kms:*:*:key/*"}]}'
)
