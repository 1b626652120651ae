"""Write ``envelope_v1.json``: known-answer vectors for the version-1 CiphertextBlob.

Every value is fixed (keys, nonces, key ids, contexts, plaintexts), so the output is the same on
every run and the file is a regression oracle for ``policyengine.kms.envelope`` and
``policyengine.kms._crypto``. Sealing uses the test-only ``aes_gcm_seal_with_nonce``; nothing
here runs in the product.

``vectors`` are blobs that must open to their plaintext. ``negative`` are blobs that must not:
``expect`` is ``envelope_error`` (the layout does not parse) or ``open_failure`` (it parses, but
AES-GCM authentication fails: wrong key, wrong context, or a relabelled or tampered blob).

Run from the repository root: ``python -m tests.crypto_vectors.tools.generate``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from policyengine.kms import _crypto, envelope

VECTORS_PATH = Path(__file__).resolve().parent.parent / "envelope_v1.json"

KEY_A = bytes(range(32))
KEY_B = bytes(range(0xA0, 0xC0))
UUID_1 = "1234abcd-12ab-34cd-56ef-1234567890ab"
UUID_2 = "0987dcba-09fe-87dc-65ba-ab0987654321"
MRK = "mrk-1234abcd12ab34cd56ef1234567890ab"


def _nonce(i: int) -> bytes:
    return bytes((i, 0xA5)) + bytes(range(10))


# name, key, nonce, key id, material version, context, plaintext
CASES: list[tuple[str, bytes, bytes, str, int, dict[str, str], bytes]] = [
    ("empty-plaintext-empty-context", KEY_A, _nonce(1), UUID_1, 1, {}, b""),
    ("short-text-one-pair", KEY_A, _nonce(2), UUID_1, 1, {"purpose": "test"}, b"Hello, KMS"),
    (
        "context-sorted-case-and-unicode",
        KEY_A,
        _nonce(3),
        UUID_1,
        1,
        {"zeta": "last", "alpha": "a", "Alpha": "A sorts before a", "ünïcödé": "välue ✓", "k": ""},
        b"context order, case and UTF-8",
    ),
    (
        "data-key-rotated-material",
        KEY_B,
        _nonce(4),
        UUID_2,
        2,
        {"aws:s3:arn": "arn:aws:s3:::example-bucket/object.txt"},
        bytes(range(0x40, 0x60)),
    ),
    ("multi-region-key-max-version-4096-bytes", KEY_B, _nonce(5), MRK, 2**32 - 1, {}, bytes(i % 251 for i in range(4096))),
    ("binary-plaintext-long-value", KEY_A, _nonce(6), UUID_2, 7, {"blob": "x" * 300, "a": "1"}, bytes(range(256))),
]


def _flip_bit(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def _vector(name: str, key: bytes, nonce: bytes, key_id: str, version: int, ctx: dict[str, str], pt: bytes) -> dict[str, Any]:
    aad = envelope.aad(key_id, version, ctx)
    blob = envelope.pack(key_id, version, _crypto.aes_gcm_seal_with_nonce(key, nonce, pt, aad))
    return {
        "name": name,
        "key": key.hex(),
        "nonce": nonce.hex(),
        "key_id": key_id,
        "material_version": version,
        "context": ctx,
        "plaintext": pt.hex(),
        "aad": aad.hex(),
        "blob": blob.hex(),
    }


def _negatives(base: dict[str, Any]) -> list[dict[str, Any]]:
    """Blobs derived from one good vector that must fail, each for one stated reason."""
    key, ctx, blob = base["key"], base["context"], bytes.fromhex(base["blob"])
    key_id = base["key_id"]
    header_len = len(envelope.header(key_id, base["material_version"]))
    relabelled_version = blob[: header_len - 4] + (base["material_version"] + 1).to_bytes(4, "big") + blob[header_len:]
    other_id = UUID_2 if key_id != UUID_2 else UUID_1
    relabelled_key = envelope.header(other_id, base["material_version"]) + blob[header_len:]

    def case(name: str, expect: str, blob_: bytes, key_: str = key, ctx_: dict[str, str] = ctx) -> dict[str, Any]:
        return {"name": name, "expect": expect, "key": key_, "context": ctx_, "blob": blob_.hex()}

    return [
        case("tag-bit-flipped", "open_failure", _flip_bit(blob, len(blob) * 8 - 1)),
        case("ciphertext-bit-flipped", "open_failure", _flip_bit(blob, (header_len + 12) * 8)),
        case("nonce-bit-flipped", "open_failure", _flip_bit(blob, header_len * 8)),
        case("wrong-context-value", "open_failure", blob, ctx_={"purpose": "prod"}),
        case("context-missing", "open_failure", blob, ctx_={}),
        case("context-extra-pair", "open_failure", blob, ctx_={**ctx, "extra": "pair"}),
        case("material-version-relabelled", "open_failure", relabelled_version),
        case("key-id-relabelled", "open_failure", relabelled_key),
        case("wrong-key", "open_failure", blob, key_=KEY_B.hex()),
        case("bad-magic", "envelope_error", b"PEX" + blob[3:]),
        case("unknown-format-version", "envelope_error", blob[:3] + b"\x02" + blob[4:]),
        case("key-id-length-zero", "envelope_error", blob[:4] + b"\x00" + blob[5:]),
        case("key-id-non-ascii", "envelope_error", blob[:5] + b"\xc3" + blob[6:]),
        case("material-version-zero", "envelope_error", blob[: header_len - 4] + bytes(4) + blob[header_len:]),
        case("sealed-box-too-short", "envelope_error", blob[: header_len + 27]),
        case("empty", "envelope_error", b""),
    ]


def build() -> dict[str, Any]:
    """The whole vectors document, deterministically."""
    vectors = [_vector(*c) for c in CASES]
    return {
        "format": "policyengine CiphertextBlob, version 1",
        "layout": (
            "b'PEK' || version(1)=1 || key_id_len(1) || key_id (ASCII [A-Za-z0-9-]) || material_version(4, big-endian, >= 1)"
            " || nonce(12) || AES-256-GCM ciphertext || tag(16)"
        ),
        "aad": (
            "header (everything before the nonce) || canonical context: pairs sorted by key,"
            " each len(key)(4, big-endian) || UTF-8 key || len(value)(4, big-endian) || UTF-8 value; {} -> empty"
        ),
        "vectors": vectors,
        "negative": _negatives(vectors[1]),
    }


def render() -> str:
    """The JSON text written to the vectors file."""
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    VECTORS_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {VECTORS_PATH}")


if __name__ == "__main__":
    main()
