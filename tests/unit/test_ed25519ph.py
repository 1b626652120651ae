"""Ed25519ph against RFC 8032's own test vector (section 7.3, "TEST abc"), and its refusals."""

from __future__ import annotations

from policyengine.kms import _ed25519ph

SEED = bytes.fromhex("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42")
PUBLIC = bytes.fromhex("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf")
SIGNATURE = bytes.fromhex(
    "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41"
    "31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406"
)


def test_rfc8032_vector() -> None:
    """The signature of "abc" is RFC 8032's, byte for byte, and it verifies."""
    digest = _ed25519ph.prehash(b"abc")
    assert _ed25519ph.sign_prehashed(SEED, PUBLIC, digest) == SIGNATURE
    assert _ed25519ph.verify_prehashed(PUBLIC, digest, SIGNATURE)


def test_tampering_is_refused() -> None:
    """Another message, a flipped signature bit, or S >= L do not verify."""
    assert not _ed25519ph.verify_prehashed(PUBLIC, _ed25519ph.prehash(b"abd"), SIGNATURE)
    flipped = bytes([SIGNATURE[0] ^ 1]) + SIGNATURE[1:]
    assert not _ed25519ph.verify_prehashed(PUBLIC, _ed25519ph.prehash(b"abc"), flipped)
    too_big = SIGNATURE[:32] + b"\xff" * 32
    assert not _ed25519ph.verify_prehashed(PUBLIC, _ed25519ph.prehash(b"abc"), too_big)
    assert not _ed25519ph.verify_prehashed(PUBLIC, _ed25519ph.prehash(b"abc"), SIGNATURE[:63])
