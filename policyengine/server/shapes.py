"""Request and response bodies shaped by botocore's KMS service model.

Why the model: it is the contract every AWS SDK is generated from, so it says exactly which
members are blobs (base64 on the wire), which are timestamps (epoch seconds), which are
required, and which lengths, ranges, enums and patterns AWS enforces server-side. Reading it
here keeps the server from drifting from what boto3 sends and expects.

Each operation's input and output shapes are compiled once into small converter closures:

* ``decode`` turns a parsed JSON body into the keyword arguments the facade takes: members the
  model does not define are dropped, base64 becomes bytes, epoch numbers become aware
  datetimes. A JSON value of the wrong kind is a ``SerializationException`` (as AWS answers);
  a value that breaks a constraint is collected and reported as one ``ValidationException``
  in AWS's ``N validation errors detected: ...`` form.
* ``encode`` turns a facade response into JSON-ready data holding exactly the members the
  output shape defines: bytes become base64 and datetimes epoch seconds.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from policyengine.server.errors import WireError, serialization_error

__all__ = ["OperationCodec", "ServiceCodec"]

# A decoder takes a JSON value, the member path for messages, and a list collecting constraint
# violations; it returns the converted value or raises WireError for a wrong JSON kind.
Decoder = Callable[[Any, str, list[str]], Any]
Encoder = Callable[[Any], Any]

_INT_RANGES = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_TYPE_WORDS = {
    "string": "a String",
    "integer": "an Integer",
    "long": "a Long",
    "boolean": "a Boolean",
    "blob": "a Blob",
    "timestamp": "a Date",
    "float": "a Float",
    "double": "a Double",
}


class OperationCodec:
    """The compiled input decoder and output encoder of one operation."""

    def __init__(self, name: str, decoder: Decoder, encoder: Encoder) -> None:
        self.name = name
        self._decoder = decoder
        self._encoder = encoder

    def decode(self, body: Any) -> dict[str, Any]:
        """Facade keyword arguments from a parsed JSON body; WireError when it does not fit."""
        problems: list[str] = []
        params = self._decoder(body, "", problems)
        if problems:
            count = len(problems)
            noun = "error" if count == 1 else "errors"
            raise WireError("ValidationException", f"{count} validation {noun} detected: {'; '.join(problems)}")
        assert isinstance(params, dict)
        return params

    def encode(self, response: Mapping[str, Any]) -> dict[str, Any]:
        """JSON-ready data with exactly the output shape's members."""
        encoded = self._encoder(response)
        assert isinstance(encoded, dict)
        return encoded


class ServiceCodec:
    """Compiles and caches an ``OperationCodec`` per operation of a botocore service model."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self._operations = frozenset(model.operation_names)
        self._cache: dict[str, OperationCodec] = {}
        self._decoders: dict[str, Decoder] = {}
        self._encoders: dict[str, Encoder] = {}
        # Compiling leaves placeholders for recursive shapes in the shared tables until it finishes, so
        # two threads compiling at once (the first requests of a fresh server) could bake in the other's.
        self._compiling = threading.Lock()

    @property
    def operation_names(self) -> frozenset[str]:
        return self._operations

    def operation(self, name: str) -> OperationCodec:
        """The codec of ``name`` (which must be one of ``operation_names``)."""
        codec = self._cache.get(name)
        if codec is None:
            with self._compiling:
                codec = self._cache.get(name)
                if codec is None:
                    operation = self._model.operation_model(name)
                    decoder = self._decoder(operation.input_shape) if operation.input_shape is not None else _empty_object
                    encoder = self._encoder(operation.output_shape) if operation.output_shape is not None else _no_members
                    codec = OperationCodec(name, decoder, encoder)
                    self._cache[name] = codec
        return codec

    # ---- decoding (request bodies) ----------------------------------------------------------

    def _decoder(self, shape: Any) -> Decoder:
        cached = self._decoders.get(shape.name)
        if cached is not None:
            return cached
        kind = shape.type_name
        decoder: Decoder
        if kind == "structure":
            decoder = self._structure_decoder(shape)
        elif kind == "list":
            decoder = self._list_decoder(shape)
        elif kind == "map":
            decoder = self._map_decoder(shape)
        else:
            decoder = _scalar_decoder(kind, shape.metadata, getattr(shape, "enum", None) or ())
        self._decoders[shape.name] = decoder
        return decoder

    def _structure_decoder(self, shape: Any) -> Decoder:
        members: list[tuple[str, str, Decoder]] = []
        self._decoders[shape.name] = _unresolved  # guards against recursive shapes while compiling
        for name, member in shape.members.items():
            members.append((name, name[:1].lower() + name[1:], self._decoder(member)))
        required = tuple(shape.required_members)
        by_name = {name: (label, decoder) for name, label, decoder in members}

        def decode(value: Any, path: str, problems: list[str]) -> Any:
            if not isinstance(value, dict):
                raise _wrong_kind(value, "a Structure", path)
            out: dict[str, Any] = {}
            for name, item in value.items():
                found = by_name.get(name)
                if found is None or item is None:
                    continue  # members the model does not define are ignored, as AWS does
                label, decoder = found
                out[name] = decoder(item, f"{path}.{label}" if path else label, problems)
            for name in required:
                if name not in out:
                    label = by_name[name][0]
                    where = f"{path}.{label}" if path else label
                    problems.append(f"Value null at '{where}' failed to satisfy constraint: Member must not be null")
            return out

        return decode

    def _list_decoder(self, shape: Any) -> Decoder:
        item_decoder = self._decoder(shape.member)
        low, high = shape.metadata.get("min"), shape.metadata.get("max")

        def decode(value: Any, path: str, problems: list[str]) -> Any:
            if not isinstance(value, list):
                raise _wrong_kind(value, "a List", path)
            items = [item_decoder(item, f"{path}.{i}.member", problems) for i, item in enumerate(value, 1)]
            _check_size(len(items), low, high, "length", _shown(value), path, problems)
            return items

        return decode

    def _map_decoder(self, shape: Any) -> Decoder:
        key_decoder = self._decoder(shape.key)
        value_decoder = self._decoder(shape.value)
        low, high = shape.metadata.get("min"), shape.metadata.get("max")

        def decode(value: Any, path: str, problems: list[str]) -> Any:
            if not isinstance(value, dict):
                raise _wrong_kind(value, "a Map", path)
            out = {key_decoder(k, f"{path}.key", problems): value_decoder(v, f"{path}.value", problems) for k, v in value.items()}
            _check_size(len(out), low, high, "length", _shown(value), path, problems)
            return out

        return decode

    # ---- encoding (response bodies) ---------------------------------------------------------

    def _encoder(self, shape: Any) -> Encoder:
        cached = self._encoders.get(shape.name)
        if cached is not None:
            return cached
        kind = shape.type_name
        encoder: Encoder
        if kind == "structure":
            self._encoders[shape.name] = _unresolved_encoder
            members = tuple((name, self._encoder(member)) for name, member in shape.members.items())

            def encode_structure(value: Any) -> Any:
                out: dict[str, Any] = {}
                for name, member_encoder in members:
                    item = value.get(name)
                    if item is not None:
                        out[name] = member_encoder(item)
                return out

            encoder = encode_structure
        elif kind == "list":
            item_encoder = self._encoder(shape.member)
            encoder = lambda value: [item_encoder(item) for item in value]  # noqa: E731
        elif kind == "map":
            value_encoder = self._encoder(shape.value)
            encoder = lambda value: {str(k): value_encoder(v) for k, v in value.items()}  # noqa: E731
        elif kind == "blob":
            encoder = _encode_blob
        elif kind == "timestamp":
            encoder = _encode_timestamp
        else:
            encoder = _same
        self._encoders[shape.name] = encoder
        return encoder


# ---- scalar decoders ------------------------------------------------------------------------


def _scalar_decoder(kind: str, metadata: Mapping[str, Any], enum: tuple[str, ...] | list[str]) -> Decoder:
    low, high = metadata.get("min"), metadata.get("max")
    sensitive = bool(metadata.get("sensitive"))
    pattern = _compile(metadata.get("pattern"))
    allowed = frozenset(enum)
    enum_words = f"Member must satisfy enum value set: [{', '.join(enum)}]"

    if kind == "string":

        def decode_string(value: Any, path: str, problems: list[str]) -> Any:
            if not isinstance(value, str):
                raise _wrong_kind(value, "a String", path)
            shown = None if sensitive else value
            _check_size(len(value), low, high, "length", shown, path, problems)
            if allowed and value not in allowed:
                problems.append(_constraint(shown, path, enum_words))
            elif pattern is not None and not pattern.fullmatch(value):
                problems.append(_constraint(shown, path, f"Member must satisfy regular expression pattern: {pattern.pattern}"))
            return value

        return decode_string
    if kind in _INT_RANGES:
        lowest, highest = _INT_RANGES[kind]

        def decode_integer(value: Any, path: str, problems: list[str]) -> Any:
            if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= highest:
                raise _wrong_kind(value, _TYPE_WORDS[kind], path)
            _check_size(value, low, high, "value", str(value), path, problems)
            return value

        return decode_integer
    if kind == "boolean":

        def decode_boolean(value: Any, path: str, problems: list[str]) -> Any:
            if not isinstance(value, bool):
                raise _wrong_kind(value, "a Boolean", path)
            return value

        return decode_boolean
    if kind == "blob":

        def decode_blob(value: Any, path: str, problems: list[str]) -> Any:
            if not isinstance(value, str):
                raise _wrong_kind(value, "a Blob", path)
            try:
                data = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                problems.append(_constraint(None, path, "Member must be valid base64"))
                return b""
            _check_size(len(data), low, high, "length", None, path, problems)
            return data

        return decode_blob
    if kind == "timestamp":

        def decode_timestamp(value: Any, path: str, problems: list[str]) -> Any:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _wrong_kind(value, "a Date", path)
            try:
                return datetime.fromtimestamp(value, UTC)
            except (OverflowError, OSError, ValueError):
                raise serialization_error(f"NUMBER_VALUE {value} is out of range for a Date (at '{path}')") from None

        return decode_timestamp

    def decode_other(value: Any, path: str, problems: list[str]) -> Any:
        if isinstance(value, dict | list):
            raise _wrong_kind(value, _TYPE_WORDS.get(kind, "a scalar"), path)
        return value

    return decode_other


def _check_size(
    size: int, low: int | None, high: int | None, what: str, shown: str | None, path: str, problems: list[str]
) -> None:
    if low is not None and size < low:
        problems.append(_constraint(shown, path, f"Member must have {what} greater than or equal to {low}"))
    elif high is not None and size > high:
        problems.append(_constraint(shown, path, f"Member must have {what} less than or equal to {high}"))


def _constraint(shown: str | None, path: str, constraint: str) -> str:
    """One problem in AWS's words; the value is left out for blobs and sensitive members."""
    if shown is None:
        return f"Value at '{path}' failed to satisfy constraint: {constraint}"
    if len(shown) > 64:
        shown = shown[:61] + "..."
    return f"Value '{shown}' at '{path}' failed to satisfy constraint: {constraint}"


def _shown(value: list[Any] | dict[str, Any]) -> str:
    return "[" + ", ".join(map(str, value)) + "]" if isinstance(value, list) else "{" + ", ".join(map(str, value)) + "}"


def _wrong_kind(value: Any, wanted: str, path: str) -> WireError:
    """SerializationException for a JSON value of the wrong kind, in Coral's words."""
    where = f" (at '{path}')" if path else ""
    if isinstance(value, dict):
        return serialization_error(f"Start of structure or map found where not expected{where}")
    if isinstance(value, list):
        return serialization_error(f"Start of list found where not expected{where}")
    if isinstance(value, bool):
        kind = "BOOLEAN_VALUE"
    elif isinstance(value, int | float):
        kind = "NUMBER_VALUE"
    elif isinstance(value, str):
        kind = "STRING_VALUE"
    else:
        kind = "VALUE"
    return serialization_error(f"{kind} can not be converted to {wanted}{where}")


def _compile(pattern: Any) -> re.Pattern[str] | None:
    if not isinstance(pattern, str):
        return None
    try:
        return re.compile(pattern)
    except re.error:  # a Java-only construct: leave the check to the facade
        return None


def _unresolved(value: Any, path: str, problems: list[str]) -> Any:
    raise AssertionError("a recursive shape was decoded before its decoder was compiled")


def _unresolved_encoder(value: Any) -> Any:
    raise AssertionError("a recursive shape was encoded before its encoder was compiled")


def _empty_object(value: Any, path: str, problems: list[str]) -> Any:
    if not isinstance(value, dict):
        raise _wrong_kind(value, "a Structure", path)
    return {}


def _no_members(value: Any) -> Any:
    return {}


def _same(value: Any) -> Any:
    return value


def _encode_blob(value: Any) -> str:
    return base64.b64encode(bytes(value)).decode("ascii")


def _encode_timestamp(value: Any) -> float:
    """Epoch seconds, as AWS's JSON protocol sends timestamps (boto3 turns them back into datetimes)."""
    if isinstance(value, datetime):
        return round(value.timestamp(), 3)
    return float(value)
