"""Independent verifier for ``envelope_v1.json``.

Written from the layout description alone: it imports nothing from ``policyengine``. It reads
the blob format itself, rebuilds the canonical context itself, and seals and opens with
``cryptography``'s ``AESGCM`` directly. For each good vector it checks that

* the blob's header is exactly what the stated key id and material version produce,
* the AAD is that header followed by the canonical context, and equals the stated ``aad``,
* AESGCM with the stated key and nonce reproduces the blob byte for byte, and
* AESGCM opens the blob to the stated plaintext;

and for each negative vector that it fails in the stated way (``envelope_error``: the layout
does not parse; ``open_failure``: it parses but AES-GCM authentication fails).

Run: ``python -m tests.crypto_vectors.tools.verify [path]`` (or this file as a script).
"""

from __future__ import annotations

import json
import string
import struct
import sys
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "envelope_v1.json"

_KEY_ID_ALPHABET = set(string.ascii_letters + string.digits + "-")


class VectorMismatch(AssertionError):
    """A vector does not check out; the message names the vector and the field."""


class _Malformed(Exception):
    pass


def _parse(blob: bytes) -> tuple[bytes, str, int, bytes, bytes]:
    """(header, key id, material version, nonce, ciphertext-with-tag), or _Malformed."""
    if len(blob) < 5 or blob[0:3] != b"PEK" or blob[3] != 1:
        raise _Malformed
    id_len = blob[4]
    header_end = 5 + id_len + 4
    if id_len == 0 or len(blob) < header_end + 12 + 16:
        raise _Malformed
    raw_id = blob[5 : 5 + id_len]
    if any(chr(b) not in _KEY_ID_ALPHABET for b in raw_id):
        raise _Malformed
    (version,) = struct.unpack(">I", blob[5 + id_len : header_end])
    if version == 0:
        raise _Malformed
    return blob[:header_end], raw_id.decode("ascii"), version, blob[header_end : header_end + 12], blob[header_end + 12 :]


def _context_bytes(context: dict[str, str]) -> bytes:
    out = bytearray()
    for key in sorted(context, key=lambda k: k.encode("utf-8")):
        for text in (key, context[key]):
            raw = text.encode("utf-8")
            out += struct.pack(">I", len(raw)) + raw
    return bytes(out)


def _expect(condition: bool, name: str, what: str) -> None:
    if not condition:
        raise VectorMismatch(f"{name}: {what}")


def _check_good(v: dict[str, Any]) -> None:
    name = v["name"]
    key, nonce, plaintext = bytes.fromhex(v["key"]), bytes.fromhex(v["nonce"]), bytes.fromhex(v["plaintext"])
    blob = bytes.fromhex(v["blob"])
    key_id: str = v["key_id"]
    expected_header = b"PEK\x01" + bytes([len(key_id)]) + key_id.encode("ascii") + struct.pack(">I", v["material_version"])
    try:
        header, parsed_id, parsed_version, parsed_nonce, sealed = _parse(blob)
    except _Malformed:
        raise VectorMismatch(f"{name}: the blob does not parse") from None
    _expect(header == expected_header, name, "header differs from the one the key id and version give")
    _expect((parsed_id, parsed_version) == (key_id, v["material_version"]), name, "parsed key id or version differs")
    _expect(parsed_nonce == nonce, name, "nonce in the blob differs from the stated nonce")
    aad = header + _context_bytes(v["context"])
    _expect(aad.hex() == v["aad"], name, "AAD differs")
    _expect(header + nonce + AESGCM(key).encrypt(nonce, plaintext, aad) == blob, name, "AESGCM does not reproduce the blob")
    try:
        opened = AESGCM(key).decrypt(parsed_nonce, sealed, aad)
    except InvalidTag:
        raise VectorMismatch(f"{name}: AESGCM does not open the blob") from None
    _expect(opened == plaintext, name, "the blob opens to a different plaintext")


def _check_bad(v: dict[str, Any]) -> None:
    name, expect = v["name"], v["expect"]
    blob = bytes.fromhex(v["blob"])
    try:
        header, _, _, nonce, sealed = _parse(blob)
    except _Malformed:
        _expect(expect == "envelope_error", name, f"expected {expect}, but the blob does not parse")
        return
    _expect(expect == "open_failure", name, f"expected {expect}, but the blob parses")
    try:
        AESGCM(bytes.fromhex(v["key"])).decrypt(nonce, sealed, header + _context_bytes(v["context"]))
    except InvalidTag:
        return
    raise VectorMismatch(f"{name}: expected open_failure, but the blob opens")


def check(path: Path | str = DEFAULT_PATH) -> int:
    """Check every vector in ``path``; return how many were checked, or raise VectorMismatch."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    good, bad = document["vectors"], document["negative"]
    _expect(bool(good) and bool(bad), str(path), "no vectors")
    names = [v["name"] for v in good + bad]
    _expect(len(names) == len(set(names)), str(path), "duplicate vector names")
    for v in good:
        _check_good(v)
    for v in bad:
        _check_bad(v)
    return len(good) + len(bad)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else DEFAULT_PATH
    try:
        count = check(path)
    except VectorMismatch as mismatch:
        print(f"FAIL {mismatch}", file=sys.stderr)
        return 1
    print(f"ok: {count} vectors in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
