"""The symmetric CiphertextBlob: a versioned byte layout around an AES-256-GCM sealed box.

Pure byte layout: no cryptography here (``_crypto`` seals and opens, this module only frames).

Layout, version 1 (all integers big-endian)::

    offset       size  field
    0            3     magic              b"PEK"
    3            1     version            1
    4            1     key_id_len         n, 1..255
    5            n     key_id             ASCII: letters, digits and "-" (the key's UUID, or mrk-...)
    5+n          4     material_version   which version of the key's material sealed it, >= 1
    9+n          ...   sealed             _crypto.aes_gcm_seal output: nonce(12) || ciphertext || tag(16)

The *header* is everything before ``sealed`` (``9 + n`` bytes). The AES-GCM additional
authenticated data is the header followed by the canonical encryption context, so the key id,
the material version, the format version and the encryption context are all authenticated: a
blob moved to another key, relabelled with another material version, or opened with another
context fails to open.

Canonical encryption context: the pairs sorted by key (code point order, which is also UTF-8
byte order), each written as ``len(key) || key || len(value) || value`` with UTF-8 text and
4-byte big-endian lengths; the empty context is ``b""``. Because the header is self-delimiting
and every pair is length-prefixed, ``aad`` is injective over (key id, material version, context).

:func:`unpack` raises :class:`EnvelopeError` with one vague message for anything malformed, so a
caller can map every failure to the same InvalidCiphertextException.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "HEADER_FIXED_BYTES",
    "MAGIC",
    "MIN_SEALED_BYTES",
    "VERSION",
    "Envelope",
    "EnvelopeError",
    "aad",
    "canonical_context",
    "header",
    "pack",
    "unpack",
]

MAGIC = b"PEK"
VERSION = 1
MAX_KEY_ID_BYTES = 255
MAX_MATERIAL_VERSION = 2**32 - 1
HEADER_FIXED_BYTES = len(MAGIC) + 1 + 1 + 4  # magic, version, key_id_len, material_version
MIN_SEALED_BYTES = 12 + 16  # AES-GCM nonce and tag around an empty ciphertext

_KEY_ID_CHARS = frozenset((string.ascii_letters + string.digits + "-").encode("ascii"))
_ERROR_MESSAGE = "malformed ciphertext blob"


class EnvelopeError(Exception):
    """The bytes are not a well-formed CiphertextBlob; the message never says what is wrong."""

    def __init__(self) -> None:
        super().__init__(_ERROR_MESSAGE)


@dataclass(frozen=True)
class Envelope:
    """A parsed CiphertextBlob: which key and material version sealed it, and the sealed box."""

    key_id: str
    material_version: int
    sealed: bytes


_KEY_ID_PATTERN = re.compile(rb"[A-Za-z0-9-]{1,%d}\Z" % MAX_KEY_ID_BYTES)


def _valid_key_id(raw: bytes) -> bool:
    return _KEY_ID_PATTERN.match(raw) is not None


def header(key_id: str, material_version: int) -> bytes:
    """The version-1 header for a key id and material version (``ValueError`` if either is invalid)."""
    if not isinstance(key_id, str) or not key_id.isascii() or not _valid_key_id(raw := key_id.encode("ascii")):
        raise ValueError(f"invalid key id for a ciphertext blob: {key_id!r}")
    if (
        not isinstance(material_version, int)
        or isinstance(material_version, bool)
        or not 1 <= material_version <= MAX_MATERIAL_VERSION
    ):
        raise ValueError(f"invalid material version for a ciphertext blob: {material_version!r}")
    return MAGIC + bytes((VERSION, len(raw))) + raw + material_version.to_bytes(4, "big")


def pack(key_id: str, material_version: int, sealed: bytes) -> bytes:
    """The CiphertextBlob: :func:`header` followed by the sealed box."""
    if len(sealed) < MIN_SEALED_BYTES:
        raise ValueError(f"a sealed box is at least {MIN_SEALED_BYTES} bytes, got {len(sealed)}")
    return header(key_id, material_version) + bytes(sealed)


def unpack(blob: bytes) -> Envelope:
    """Parse a CiphertextBlob; :class:`EnvelopeError` for anything malformed."""
    try:
        blob = bytes(blob)
    except Exception:
        raise EnvelopeError() from None
    if len(blob) < HEADER_FIXED_BYTES + 1 + MIN_SEALED_BYTES or blob[:3] != MAGIC or blob[3] != VERSION:
        raise EnvelopeError()
    n = blob[4]
    end = 5 + n
    raw_key_id = blob[5:end]
    if not _valid_key_id(raw_key_id) or len(blob) < end + 4 + MIN_SEALED_BYTES:
        raise EnvelopeError()
    material_version = int.from_bytes(blob[end : end + 4], "big")
    if material_version < 1:
        raise EnvelopeError()
    return Envelope(key_id=raw_key_id.decode("ascii"), material_version=material_version, sealed=blob[end + 4 :])


def _field(text: str) -> bytes:
    if not isinstance(text, str):
        raise TypeError(f"encryption context keys and values must be strings, got {type(text).__name__}")
    raw = text.encode("utf-8")
    return len(raw).to_bytes(4, "big") + raw


def canonical_context(context: Mapping[str, str]) -> bytes:
    """The encryption context as deterministic bytes: sorted by key, length-prefixed UTF-8 pairs."""
    return b"".join(_field(k) + _field(context[k]) for k in sorted(context))


def aad(key_id: str, material_version: int, context: Mapping[str, str]) -> bytes:
    """The AES-GCM additional authenticated data: the header, then the canonical context."""
    return header(key_id, material_version) + canonical_context(context)
