"""The policy model's base (policyengine/model/_frozen.py): frozen dataclasses that pydantic validates at the edges.

The parser builds every node with ``model_construct``, unvalidated, so that pydantic is not even imported
to lint a file; these tests pin that the shortcut gives the instance a validated construction gives (same
values, equal, same hash, same dump), that a construction by hand still validates as a pydantic model's
does, and that ``model_validate``, ``model_dump`` and ``model_json_schema`` keep working.
"""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import pytest
from pydantic import ValidationError

import policyengine as pe
from policyengine.model._frozen import FrozenModel, frozen_model
from policyengine.model.grant import Grant, GrantConstraints
from policyengine.model.policy import (
    Condition,
    ConditionValue,
    DuplicateKey,
    PolicyDocument,
    PrincipalBlock,
    Statement,
    StringItem,
)
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
    assert type(fast) is type(validated) is cls
    assert _fields(fast) == _fields(validated)
    assert fast == validated and repr(fast) == repr(validated)
    assert _hash(fast) == _hash(validated)  # GrantConstraints holds dicts: unhashable either way
    assert fast.model_dump() == validated.model_dump()
    assert cls.model_validate(fast.model_dump()) == fast  # a dump validates back into the same instance


def _fields(model: FrozenModel) -> list[tuple[str, object]]:
    return [(f.name, getattr(model, f.name)) for f in dataclasses.fields(model)]  # type: ignore[arg-type]


def _hash(model: FrozenModel) -> int | str:
    try:
        return hash(model)
    except TypeError as error:
        return str(error)


def test_an_unknown_field_is_an_error_not_a_silent_drop() -> None:
    with pytest.raises(TypeError, match=r"unknown fields \['sidd'\]"):
        Statement.model_construct(index=0, effect="Allow", sidd="x")
    with pytest.raises(TypeError, match="missing field 'effect'"):
        Statement.model_construct(index=0)
    with pytest.raises(ValidationError, match="sidd"):
        Statement(index=0, effect="Allow", sidd="x")  # type: ignore[call-arg]


def test_a_field_shape_the_shortcut_cannot_fill_is_refused_when_the_class_is_defined() -> None:
    with pytest.raises(TypeError, match="plain"):

        @frozen_model
        class _Hidden(FrozenModel):
            names: str = dataclasses.field(default="", init=False)


def test_a_default_factory_gives_each_unvalidated_instance_its_own_value() -> None:
    """The snapshot's classes have list and mapping defaults: ``model_construct`` makes a fresh one per instance."""

    @frozen_model
    class _Listed(FrozenModel):
        names: list[str] = dataclasses.field(default_factory=list)

    first, second = _Listed.model_construct(), _Listed.model_construct()
    assert first.names == [] and first.names is not second.names
    assert _Listed.model_construct(names=["a"]).names == ["a"]
    assert _Listed(names=("a",)).names == ["a"]  # validated: pydantic's list


def test_models_still_validate_when_constructed_by_hand() -> None:
    """A construction by hand is validated as a pydantic model's: bad values refused, lists made tuples."""
    with pytest.raises(ValueError, match="effect"):
        Statement(index=0, effect="Maybe")  # type: ignore[arg-type]
    statement = Statement(index=0, effect="Allow", action=[{"value": "kms:Decrypt"}])  # type: ignore[arg-type]
    assert statement.action == (StringItem(value="kms:Decrypt"),)
    with pytest.raises(ValidationError):
        PolicyDocument.model_validate({"statements": [{"index": "first", "effect": "Allow"}]})


def test_models_are_frozen_slotted_and_pickle() -> None:
    document = pe.parse_policy(_POLICY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        document.statements[0].sid = "changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del document.statements[0].sid
    assert dataclasses.is_dataclass(document) and [f.name for f in dataclasses.fields(document)][:2] == ["version", "id"]
    assert not hasattr(document, "__dict__")
    assert pickle.loads(pickle.dumps(document)) == document


def test_model_copy_replaces_fields_without_validating() -> None:
    statement = pe.parse_policy(_POLICY).statements[0]
    copied = statement.model_copy(update={"index": 7})
    assert copied.index == 7 and copied.sid == statement.sid and copied.conditions is statement.conditions
    assert statement.model_copy(update={"index": "seventh"}).index == "seventh"  # pydantic's model_copy: not validated
    deep = statement.model_copy(deep=True)
    assert deep == statement and statement.principal is not None and deep.principal is not statement.principal


def test_json_schema_and_json_round_trip() -> None:
    """The edges keep pydantic's JSON Schema and JSON (de)serialisation."""
    schema = PrincipalRef.model_json_schema()
    assert schema["additionalProperties"] is False and "kind" in schema["required"]
    assert PrincipalRef.model_validate_json(REF.model_dump_json()) == REF
    assert Grant.model_json_schema()["properties"]["grantee"] == {"$ref": "#/$defs/PrincipalRef"}
    document = pe.parse_policy(_POLICY)  # spans dump as mappings and validate back into spans
    assert PolicyDocument.model_validate_json(document.model_dump_json()) == document
    span_schema = PolicyDocument.model_json_schema()["properties"]["span"]["anyOf"][0]
    assert span_schema["required"] == ["line", "column", "end_line", "end_column", "offset", "end_offset"]


def _models(value: object) -> list[FrozenModel]:
    """Every model inside ``value`` (fields, tuples and the dataclass leaves that hold models)."""
    if isinstance(value, tuple | list):
        return [m for item in value for m in _models(item)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        inner = [m for f in dataclasses.fields(value) for m in _models(getattr(value, f.name))]
        return [value, *inner] if isinstance(value, FrozenModel) else inner
    return []


def test_every_node_the_parser_makes_would_pass_validation() -> None:
    """The parser skips validation: each model it builds must be one pydantic accepts, unchanged."""
    document = pe.parse_policy(_POLICY)
    models = _models(document)
    made = {type(m).__name__ for m in models}
    assert made == {c.__name__ for c, _ in CASES} - {"Grant", "GrantConstraints"}  # every kind the parser makes
    for model in models:
        again = type(model)(**dict(_fields(model)))
        assert _fields(again) == _fields(model)
    assert PolicyDocument.model_validate(document.model_dump()) == document


def _leaves(value: object) -> list[object]:
    """Every dataclass leaf (``StringItem``, ``ConditionValue``, ``PrincipalEntry``) inside ``value``."""
    if isinstance(value, FrozenModel):
        return [leaf for name in value._field_names for leaf in _leaves(getattr(value, name))]
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
