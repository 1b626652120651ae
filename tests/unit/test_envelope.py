"""The version-1 CiphertextBlob layout in ``policyengine.kms.envelope``: framing, parsing and the AAD."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policyengine.kms import envelope as env

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
SEALED = bytes(range(40))  # any 28+ bytes stand in for an AES-GCM box here

key_ids = st.text(alphabet="abcdefABCDEF0123456789-mrkxyz", min_size=1, max_size=255)
versions = st.integers(1, 2**32 - 1)
sealed_boxes = st.binary(min_size=28, max_size=200)
contexts = st.dictionaries(st.text(max_size=20), st.text(max_size=20), max_size=6)


def test_envelope_imports_no_cryptography() -> None:
    """The layout module is pure bytes: it imports nothing from cryptography or the crypto module."""
    tree = ast.parse(Path(env.__file__).read_text(encoding="utf-8"))
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [n for n in names if n.startswith("cryptography") or n.endswith("_crypto")]


def test_layout_is_exactly_as_documented() -> None:
    """pack writes magic, version 1, key id length, key id, 4-byte big-endian material version, then sealed."""
    blob = env.pack(KEY_ID, 0x01020304, SEALED)
    assert blob == b"PEK" + b"\x01" + bytes([36]) + KEY_ID.encode() + b"\x01\x02\x03\x04" + SEALED
    assert env.header(KEY_ID, 0x01020304) == blob[: len(blob) - len(SEALED)]
    assert len(env.header(KEY_ID, 1)) == env.HEADER_FIXED_BYTES + 36


def test_round_trip() -> None:
    """unpack(pack(...)) gives back the key id, material version and sealed box."""
    assert env.unpack(env.pack(KEY_ID, 7, SEALED)) == env.Envelope(KEY_ID, 7, SEALED)


def test_envelope_is_frozen() -> None:
    """Envelope is an immutable value."""
    e = env.unpack(env.pack(KEY_ID, 1, SEALED))
    with pytest.raises(AttributeError):
        e.key_id = "other"  # type: ignore[misc]


def test_multi_region_and_boundary_key_ids_round_trip() -> None:
    """mrk- ids, one-character ids and 255-character ids all pack and unpack."""
    for key_id in ("mrk-1234abcd12ab34cd56ef1234567890ab", "a", "f" * 255, str(uuid.uuid4())):
        assert env.unpack(env.pack(key_id, 1, SEALED)).key_id == key_id


def test_material_version_bounds() -> None:
    """Material versions 1 and 2**32-1 round-trip; 0, negatives, 2**32 and non-integers are ValueErrors."""
    assert env.unpack(env.pack(KEY_ID, 2**32 - 1, SEALED)).material_version == 2**32 - 1
    for bad in (0, -1, 2**32, True, 1.0, "1"):
        with pytest.raises(ValueError, match="material version"):
            env.header(KEY_ID, bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["", "x" * 256, "key id", "ключ", "a/b", "a:b", "é", None, b"abc"])
def test_pack_rejects_bad_key_ids(bad: Any) -> None:
    """Empty, overlong, non-ASCII, non-string or punctuated key ids are ValueErrors."""
    with pytest.raises(ValueError, match="key id"):
        env.pack(bad, 1, SEALED)


def test_pack_rejects_a_sealed_box_too_short_to_be_one() -> None:
    """A sealed box must hold at least a nonce and a tag (28 bytes)."""
    env.pack(KEY_ID, 1, bytes(28))
    with pytest.raises(ValueError, match="28"):
        env.pack(KEY_ID, 1, bytes(27))


def test_every_truncation_is_an_error() -> None:
    """Every proper prefix of a blob whose sealed box is the minimum 28 bytes fails to unpack."""
    blob = env.pack(KEY_ID, 3, bytes(28))
    for cut in range(len(blob)):
        with pytest.raises(env.EnvelopeError):
            env.unpack(blob[:cut])


def test_every_header_bit_flip_is_an_error_or_a_different_parse() -> None:
    """Flipping any bit of the header either fails to unpack or parses to a different key id or version."""
    blob = env.pack(KEY_ID, 3, SEALED)
    original = env.unpack(blob)
    header_len = len(env.header(KEY_ID, 3))
    errors = 0
    for bit in range(header_len * 8):
        flipped = bytearray(blob)
        flipped[bit // 8] ^= 1 << (bit % 8)
        try:
            parsed = env.unpack(bytes(flipped))
        except env.EnvelopeError:
            errors += 1
            continue
        assert (parsed.key_id, parsed.material_version) != (original.key_id, original.material_version)
    # Every flip in the magic and version bytes fails, and so do most of the others.
    assert errors >= 8 * 4


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"PEK",
        b"PEK\x02" + bytes([36]) + KEY_ID.encode() + b"\x00\x00\x00\x01" + SEALED,  # version 2
        b"PEK\x00" + bytes([36]) + KEY_ID.encode() + b"\x00\x00\x00\x01" + SEALED,  # version 0
        b"KEP\x01" + bytes([36]) + KEY_ID.encode() + b"\x00\x00\x00\x01" + SEALED,  # magic
        b"PEK\x01\x00" + b"\x00\x00\x00\x01" + SEALED,  # empty key id
        b"PEK\x01" + bytes([36]) + KEY_ID.encode() + b"\x00\x00\x00\x00" + SEALED,  # material version 0
        b"PEK\x01" + bytes([36]) + KEY_ID.encode()[:-1] + b"\xff" + b"\x00\x00\x00\x01" + SEALED,  # non-ASCII
        b"PEK\x01" + bytes([36]) + KEY_ID.encode()[:-1] + b" " + b"\x00\x00\x00\x01" + SEALED,  # a space
        b"PEK\x01\xff" + KEY_ID.encode() + b"\x00\x00\x00\x01" + SEALED,  # length past the end
        b"PEK\x01" + bytes([36]) + KEY_ID.encode() + b"\x00\x00\x00\x01" + bytes(27),  # sealed too short
    ],
)
def test_malformed_blobs_are_envelope_errors(blob: bytes) -> None:
    """Bad magic, version, length, key id characters, material version 0 or a short box all raise EnvelopeError."""
    with pytest.raises(env.EnvelopeError):
        env.unpack(blob)


def test_unpack_rejects_non_bytes_with_the_same_error() -> None:
    """Something that is not bytes-like raises EnvelopeError too, not a TypeError."""
    for bad in (None, "PEK", 5):
        with pytest.raises(env.EnvelopeError):
            env.unpack(bad)  # type: ignore[arg-type]


def test_unpack_accepts_bytearray_and_memoryview() -> None:
    """Any bytes-like blob parses; the sealed box comes back as bytes."""
    blob = env.pack(KEY_ID, 2, SEALED)
    for view in (bytearray(blob), memoryview(blob)):
        parsed = env.unpack(view)  # type: ignore[arg-type]
        assert parsed == env.Envelope(KEY_ID, 2, SEALED) and type(parsed.sealed) is bytes


def test_envelope_error_message_is_fixed() -> None:
    """Every EnvelopeError has the same vague message, whatever was wrong."""
    messages = set()
    for blob in (b"", b"XXXX" + bytes(60), env.pack(KEY_ID, 1, SEALED)[:-20]):
        with pytest.raises(env.EnvelopeError) as info:
            env.unpack(blob)
        messages.add(str(info.value))
    assert messages == {"malformed ciphertext blob"}


# --- canonical encryption context ----------------------------------------------------------------


def test_canonical_context_of_nothing_is_empty() -> None:
    """The empty context canonicalizes to no bytes."""
    assert env.canonical_context({}) == b""


def test_canonical_context_layout() -> None:
    """Pairs are sorted by key and written as 4-byte big-endian lengths before UTF-8 text."""
    got = env.canonical_context({"b": "2", "a": "ü"})
    assert got == b"\x00\x00\x00\x01a\x00\x00\x00\x02\xc3\xbc" + b"\x00\x00\x00\x01b\x00\x00\x00\x012"


def test_canonical_context_is_order_independent() -> None:
    """Insertion order does not matter."""
    a = {"department": "10", "purpose": "test", "Project": "x"}
    b = {"purpose": "test", "Project": "x", "department": "10"}
    assert env.canonical_context(a) == env.canonical_context(b)


def test_canonical_context_distinguishes_ambiguous_concatenations() -> None:
    """Length prefixes keep {"ab": "c"}, {"a": "bc"} and {"a": "b", "c": ""} apart, and keys are case-sensitive."""
    forms = [{"ab": "c"}, {"a": "bc"}, {"a": "b", "c": ""}, {"A": "bc"}, {"a": "BC"}]
    assert len({env.canonical_context(f) for f in forms}) == len(forms)


def test_canonical_context_rejects_non_strings() -> None:
    """A non-string key or value is a TypeError, not a silent str()."""
    with pytest.raises(TypeError):
        env.canonical_context({"a": 1})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        env.canonical_context({1: "a"})  # type: ignore[dict-item]


def test_aad_is_header_then_context() -> None:
    """aad() is exactly the header followed by the canonical context."""
    ctx = {"k": "v"}
    assert env.aad(KEY_ID, 4, ctx) == env.header(KEY_ID, 4) + env.canonical_context(ctx)
    assert env.aad(KEY_ID, 4, {}) == env.header(KEY_ID, 4)


# --- properties ----------------------------------------------------------------------------------


@settings(max_examples=300)
@given(key_id=key_ids, version=versions, sealed=sealed_boxes)
def test_round_trip_property(key_id: str, version: int, sealed: bytes) -> None:
    """unpack inverts pack for any valid key id, material version and sealed box."""
    assert env.unpack(env.pack(key_id, version, sealed)) == env.Envelope(key_id, version, sealed)


@settings(max_examples=300)
@given(blob=st.binary(max_size=120))
def test_unpack_never_raises_anything_but_envelope_error(blob: bytes) -> None:
    """Arbitrary bytes either parse into something that re-packs to the same bytes or raise EnvelopeError."""
    try:
        parsed = env.unpack(blob)
    except env.EnvelopeError:
        return
    assert env.pack(parsed.key_id, parsed.material_version, parsed.sealed) == blob


@settings(max_examples=200)
@given(key_id=key_ids, version=versions, sealed=sealed_boxes, data=st.data())
def test_header_bit_flip_property(key_id: str, version: int, sealed: bytes, data: st.DataObject) -> None:
    """A flipped header bit never yields the same (key id, material version) parse."""
    blob = env.pack(key_id, version, sealed)
    bit = data.draw(st.integers(0, len(env.header(key_id, version)) * 8 - 1))
    flipped = bytearray(blob)
    flipped[bit // 8] ^= 1 << (bit % 8)
    try:
        parsed = env.unpack(bytes(flipped))
    except env.EnvelopeError:
        return
    assert (parsed.key_id, parsed.material_version) != (key_id, version)


@settings(max_examples=300)
@given(ctx=contexts, data=st.data())
def test_canonical_context_ignores_order_property(ctx: dict[str, str], data: st.DataObject) -> None:
    """Any permutation of the same pairs canonicalizes to the same bytes."""
    items = data.draw(st.permutations(list(ctx.items())))
    assert env.canonical_context(dict(items)) == env.canonical_context(ctx)


@settings(max_examples=300)
@given(a=contexts, b=contexts)
def test_canonical_context_is_injective_property(a: dict[str, str], b: dict[str, str]) -> None:
    """Different contexts canonicalize to different bytes (and equal ones to equal bytes)."""
    assert (env.canonical_context(a) == env.canonical_context(b)) == (a == b)


@settings(max_examples=200)
@given(k1=key_ids, v1=versions, c1=contexts, k2=key_ids, v2=versions, c2=contexts)
def test_aad_is_injective_property(k1: str, v1: int, c1: dict[str, str], k2: str, v2: int, c2: dict[str, str]) -> None:
    """Different (key id, material version, context) triples give different AAD."""
    assert (env.aad(k1, v1, c1) == env.aad(k2, v2, c2)) == ((k1, v1, c1) == (k2, v2, c2))
