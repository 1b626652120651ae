"""Known-answer vectors for the CiphertextBlob: our modules reproduce them, an independent verifier accepts them."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from policyengine.kms import _crypto, envelope
from tests.crypto_vectors.tools import generate, verify

DOCUMENT: dict[str, Any] = json.loads(generate.VECTORS_PATH.read_text(encoding="utf-8"))
GOOD = DOCUMENT["vectors"]
BAD = DOCUMENT["negative"]


def test_vectors_file_is_up_to_date() -> None:
    """The committed JSON is exactly what the generator writes today."""
    assert generate.VECTORS_PATH.read_text(encoding="utf-8") == generate.render()


@pytest.mark.parametrize("vector", GOOD, ids=[v["name"] for v in GOOD])
def test_our_modules_reproduce_each_vector(vector: dict[str, Any]) -> None:
    """envelope.aad, aes_gcm_seal_with_nonce and envelope.pack give the stated bytes; unpack and open invert them."""
    key, nonce, plaintext = (bytes.fromhex(vector[k]) for k in ("key", "nonce", "plaintext"))
    blob = bytes.fromhex(vector["blob"])
    aad = envelope.aad(vector["key_id"], vector["material_version"], vector["context"])
    assert aad.hex() == vector["aad"]
    assert (
        envelope.pack(vector["key_id"], vector["material_version"], _crypto.aes_gcm_seal_with_nonce(key, nonce, plaintext, aad))
        == blob
    )
    parsed = envelope.unpack(blob)
    assert (parsed.key_id, parsed.material_version) == (vector["key_id"], vector["material_version"])
    assert (
        _crypto.aes_gcm_open(key, parsed.sealed, envelope.aad(parsed.key_id, parsed.material_version, vector["context"]))
        == plaintext
    )


@pytest.mark.parametrize("vector", BAD, ids=[v["name"] for v in BAD])
def test_our_modules_refuse_each_negative_vector(vector: dict[str, Any]) -> None:
    """Each negative vector fails in our modules exactly as it states: EnvelopeError or CryptoFailure."""
    blob, key = bytes.fromhex(vector["blob"]), bytes.fromhex(vector["key"])
    if vector["expect"] == "envelope_error":
        with pytest.raises(envelope.EnvelopeError):
            envelope.unpack(blob)
        return
    assert vector["expect"] == "open_failure"
    parsed = envelope.unpack(blob)
    with pytest.raises(_crypto.CryptoFailure):
        _crypto.aes_gcm_open(key, parsed.sealed, envelope.aad(parsed.key_id, parsed.material_version, vector["context"]))


def test_independent_verifier_accepts_the_vectors() -> None:
    """The verifier, which uses cryptography's AESGCM and its own parser, checks every vector."""
    assert verify.check(generate.VECTORS_PATH) == len(GOOD) + len(BAD)
    assert verify.main([str(generate.VECTORS_PATH)]) == 0


@pytest.mark.parametrize(
    ("section", "index", "field", "value"),
    [
        ("vectors", 1, "plaintext", "48656c6c6f2c204b4d54"),  # one plaintext bit differs
        ("vectors", 2, "aad", "00"),
        ("vectors", 3, "material_version", 3),
        ("vectors", 0, "context", {"a": "b"}),
        ("vectors", 4, "nonce", "00" * 12),
        ("negative", 0, "expect", "envelope_error"),
        ("negative", 9, "expect", "open_failure"),
    ],
)
def test_independent_verifier_catches_a_corrupted_vector(
    section: str, index: int, field: str, value: Any, tmp_path: Path
) -> None:
    """Changing one field of one vector makes the verifier fail, so its acceptance means something."""
    document = json.loads(json.dumps(DOCUMENT))
    document[section][index][field] = value
    path = tmp_path / "corrupt.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(verify.VectorMismatch, match=document[section][index]["name"]):
        verify.check(path)
    assert verify.main([str(path)]) == 1


def test_independent_verifier_catches_a_flipped_blob_bit(tmp_path: Path) -> None:
    """Flipping the last bit of a good blob's tag makes the verifier fail."""
    document = json.loads(json.dumps(DOCUMENT))
    blob = bytearray.fromhex(document["vectors"][0]["blob"])
    blob[-1] ^= 1
    document["vectors"][0]["blob"] = blob.hex()
    path = tmp_path / "flipped.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(verify.VectorMismatch):
        verify.check(path)


def test_verifier_is_independent_of_the_package() -> None:
    """verify.py imports nothing from policyengine; it uses cryptography's AESGCM directly."""
    tree = ast.parse(Path(verify.__file__).read_text(encoding="utf-8"))
    modules = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    modules += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [m for m in modules if m.startswith("policyengine")]
    assert "cryptography.hazmat.primitives.ciphers.aead" in modules


def test_vectors_cover_every_negative_kind() -> None:
    """The negative vectors include both layout errors and authentication failures, and names are unique."""
    assert {v["expect"] for v in BAD} == {"envelope_error", "open_failure"}
    names = [v["name"] for v in GOOD + BAD]
    assert len(names) == len(set(names))


def test_aes_gcm_matches_published_gcm_test_cases_13_and_14() -> None:
    """AES-256-GCM with a zero key and zero IV matches the GCM specification's test cases 13 and 14."""
    key, nonce = bytes(32), bytes(12)
    assert _crypto.aes_gcm_seal_with_nonce(key, nonce, b"", b"")[12:].hex() == "530f8afbc74536b9a963b4f1c4cb738b"
    assert _crypto.aes_gcm_seal_with_nonce(key, nonce, bytes(16), b"")[12:].hex() == (
        "cea7403d4d606b6e074ec5d3baf39d18" + "d0d1c8a799996bf0265b98b5d48ab919"
    )
