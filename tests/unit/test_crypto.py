"""The hazmat fence: every primitive in ``policyengine.kms._crypto``, checked against ``cryptography`` directly."""

from __future__ import annotations

import ast
import hashlib
import hmac as std_hmac
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding
from hypothesis import given, settings
from hypothesis import strategies as st

import policyengine
from policyengine.kms import _crypto as c

RSA_SPECS = ("RSA_2048", "RSA_3072", "RSA_4096")
EC_SPECS = ("ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1")
ASYM_SPECS = RSA_SPECS + EC_SPECS
HMAC_SPECS = ("HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512")
ALL_SPECS = ("SYMMETRIC_DEFAULT", *ASYM_SPECS, *HMAC_SPECS)
OAEP = ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256")
WRAPPING = ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256")
HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA_1": hashes.SHA1,
    "SHA_224": hashes.SHA224,
    "SHA_256": hashes.SHA256,
    "SHA_384": hashes.SHA384,
    "SHA_512": hashes.SHA512,
}
CURVES = {
    "ECC_NIST_P256": "secp256r1",
    "ECC_NIST_P384": "secp384r1",
    "ECC_NIST_P521": "secp521r1",
    "ECC_SECG_P256K1": "secp256k1",
}
SIGNING_CASES = [(spec, alg) for spec in ASYM_SPECS for alg in c.signing_algorithms(spec)]
MESSAGE = b"the quick brown fox jumps over the lazy dog"


def _hash_of(algorithm: str) -> hashes.HashAlgorithm:
    return HASHES["SHA_" + algorithm.rsplit("_", 1)[1]]()


def _digest(algorithm: str, message: bytes) -> bytes:
    h = hashes.Hash(_hash_of(algorithm))
    h.update(message)
    return h.finalize()


def _third_party_sign(private_der: bytes, algorithm: str, message: bytes) -> bytes:
    """Sign with ``cryptography`` alone, as an outside client holding the private key would."""
    key = serialization.load_der_private_key(private_der, password=None, unsafe_skip_rsa_key_validation=True)
    h = _hash_of(algorithm)
    if isinstance(key, rsa.RSAPrivateKey):
        pad: padding.AsymmetricPadding = (
            padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size) if "PSS" in algorithm else padding.PKCS1v15()
        )
        return key.sign(message, pad, h)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key.sign(message, ec.ECDSA(h))


def _third_party_verify(public_der: bytes, algorithm: str, message: bytes, signature: bytes) -> None:
    """Verify with ``cryptography`` alone (raises InvalidSignature), as AWS's documentation prescribes."""
    key = serialization.load_der_public_key(public_der)
    h = _hash_of(algorithm)
    if isinstance(key, rsa.RSAPublicKey):
        pad: padding.AsymmetricPadding = (
            padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size) if "PSS" in algorithm else padding.PKCS1v15()
        )
        key.verify(signature, message, pad, h)
    else:
        assert isinstance(key, ec.EllipticCurvePublicKey)
        key.verify(signature, message, ec.ECDSA(h))


@pytest.fixture(scope="module")
def keys() -> dict[str, bytes]:
    """One private key (PKCS #8 DER) per asymmetric spec, made once for the module (RSA 4096 is slow)."""
    return {spec: c.generate_private_key(spec) for spec in ASYM_SPECS}


@pytest.fixture(scope="module")
def other_keys() -> dict[str, bytes]:
    """A second RSA_2048 and P-256 key, for wrong-key checks."""
    return {spec: c.generate_private_key(spec) for spec in ("RSA_2048", "ECC_NIST_P256")}


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


# --- the fence itself ---------------------------------------------------------------------------


def test_only_the_crypto_module_imports_hazmat() -> None:
    """No module of the package except ``kms/_crypto.py`` imports ``cryptography.hazmat``."""
    package = Path(policyengine.__file__).resolve().parent
    offenders = []
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            )
            if any(n.startswith("cryptography.hazmat") for n in names):
                offenders.append(str(path.relative_to(package)))
    assert sorted(set(offenders)) == [str(Path("kms") / "_crypto.py")]


def test_module_docstring_opens_with_the_danger_banner() -> None:
    """The module's docstring starts by warning that only the facade may call it, after authorizing."""
    assert c.__doc__ is not None
    assert c.__doc__.startswith("DANGER: raw cryptographic primitives. Only the KMS facade")


def test_crypto_failure_message_is_fixed_and_uninformative() -> None:
    """Every CryptoFailure carries the same message and hides the underlying cause."""
    failures = []
    attempts: tuple[Callable[[], object], ...] = (
        lambda: c.aes_gcm_open(bytes(32), bytes(40), b""),
        lambda: c.aes_gcm_open(bytes(5), bytes(40), b""),
        lambda: c.rsa_decrypt(b"not a key", b"x", "RSAES_OAEP_SHA_1"),
        lambda: c.public_key_der(b"garbage"),
    )
    for attempt in attempts:
        with pytest.raises(c.CryptoFailure) as info:
            attempt()
        failures.append(info.value)
    assert {str(f) for f in failures} == {"cryptographic operation failed"}
    assert all(f.__cause__ is None and f.__suppress_context__ for f in failures)


# --- randomness and symmetric keys ------------------------------------------------------------


def test_random_bytes_has_the_requested_length_and_varies() -> None:
    """random_bytes returns exactly n bytes, and two draws of 32 bytes differ."""
    assert c.random_bytes(0) == b""
    assert len(c.random_bytes(1024)) == 1024
    assert c.random_bytes(32) != c.random_bytes(32)


@pytest.mark.parametrize("bad", [-1, True, 2.5])
def test_random_bytes_rejects_bad_counts(bad: Any) -> None:
    """A negative, boolean or non-integer count is a ValueError."""
    with pytest.raises(ValueError, match="random byte count"):
        c.random_bytes(bad)


def test_generate_symmetric_key_is_32_fresh_bytes() -> None:
    """Symmetric keys are 256-bit and fresh each time."""
    a, b = c.generate_symmetric_key(), c.generate_symmetric_key()
    assert len(a) == len(b) == 32 and a != b


# --- AES-GCM --------------------------------------------------------------------------------------


def test_aes_gcm_seal_layout_and_round_trip() -> None:
    """Sealed output is nonce(12) || ciphertext || tag(16), opens to the plaintext, and decrypts with AESGCM directly."""
    key = c.generate_symmetric_key()
    sealed = c.aes_gcm_seal(key, b"secret", b"aad")
    assert len(sealed) == 12 + 6 + 16
    assert c.aes_gcm_open(key, sealed, b"aad") == b"secret"
    assert AESGCM(key).decrypt(sealed[:12], sealed[12:], b"aad") == b"secret"
    assert c.aes_gcm_seal(key, b"secret", b"aad")[:12] != sealed[:12]


def test_aes_gcm_open_accepts_ciphertext_sealed_by_aesgcm_directly() -> None:
    """A box made with cryptography's AESGCM in our layout opens here."""
    key, nonce = c.generate_symmetric_key(), c.random_bytes(12)
    sealed = nonce + AESGCM(key).encrypt(nonce, b"interop", b"ctx")
    assert c.aes_gcm_open(key, sealed, b"ctx") == b"interop"


def test_aes_gcm_seal_with_nonce_is_deterministic() -> None:
    """The test-only sealer uses the nonce given, so the same inputs give the same bytes."""
    key, nonce = bytes(range(32)), bytes(range(12))
    a = c.aes_gcm_seal_with_nonce(key, nonce, b"p", b"a")
    assert a == c.aes_gcm_seal_with_nonce(key, nonce, b"p", b"a")
    assert a == nonce + AESGCM(key).encrypt(nonce, b"p", b"a")


@pytest.mark.parametrize(("key", "nonce"), [(bytes(16), bytes(12)), (bytes(31), bytes(12)), (bytes(32), bytes(8))])
def test_aes_gcm_seal_rejects_bad_key_or_nonce_lengths(key: bytes, nonce: bytes) -> None:
    """Sealing needs a 32-byte key and a 12-byte nonce; anything else is a ValueError."""
    with pytest.raises(ValueError, match="AES-GCM"):
        c.aes_gcm_seal_with_nonce(key, nonce, b"", b"")


def test_aes_gcm_open_fails_closed() -> None:
    """Wrong key, wrong AAD, truncation, short input or a bad key length all raise CryptoFailure."""
    key = c.generate_symmetric_key()
    sealed = c.aes_gcm_seal(key, b"payload", b"aad")
    for bad_key, bad_sealed, bad_aad in (
        (c.generate_symmetric_key(), sealed, b"aad"),
        (key, sealed, b"aae"),
        (key, sealed, b""),
        (key, sealed[:-1], b"aad"),
        (key, sealed[:27], b"aad"),
        (key, b"", b"aad"),
        (key[:16], sealed, b"aad"),
        (key, sealed + b"\x00", b"aad"),
    ):
        with pytest.raises(c.CryptoFailure):
            c.aes_gcm_open(bad_key, bad_sealed, bad_aad)


@settings(max_examples=150, deadline=None)
@given(plaintext=st.binary(max_size=512), aad=st.binary(max_size=128))
def test_aes_gcm_round_trip_property(plaintext: bytes, aad: bytes) -> None:
    """open(seal(p, aad), aad) == p for any plaintext and AAD."""
    key = c.generate_symmetric_key()
    assert c.aes_gcm_open(key, c.aes_gcm_seal(key, plaintext, aad), aad) == plaintext


@settings(max_examples=200, deadline=None)
@given(plaintext=st.binary(max_size=256), aad=st.binary(max_size=64), data=st.data())
def test_aes_gcm_any_single_bit_flip_fails(plaintext: bytes, aad: bytes, data: st.DataObject) -> None:
    """Flipping any one bit of the sealed box, or of a non-empty AAD, makes opening raise CryptoFailure."""
    key = c.generate_symmetric_key()
    sealed = c.aes_gcm_seal(key, plaintext, aad)
    bit = data.draw(st.integers(0, len(sealed) * 8 - 1), label="sealed bit")
    with pytest.raises(c.CryptoFailure):
        c.aes_gcm_open(key, _flip(sealed, bit), aad)
    if aad:
        aad_bit = data.draw(st.integers(0, len(aad) * 8 - 1), label="aad bit")
        with pytest.raises(c.CryptoFailure):
            c.aes_gcm_open(key, sealed, _flip(aad, aad_bit))


# --- key generation ----------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ASYM_SPECS)
def test_generate_private_key_matches_the_spec(spec: str, keys: dict[str, bytes]) -> None:
    """Each asymmetric spec yields a PKCS #8 DER key of the right size or curve, and key_spec_of names it."""
    key = serialization.load_der_private_key(keys[spec], password=None)
    if spec.startswith("RSA_"):
        assert isinstance(key, rsa.RSAPrivateKey)
        assert key.key_size == int(spec[4:])
        assert key.public_key().public_numbers().e == 65537
    else:
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        assert key.curve.name == CURVES[spec]
    assert c.key_spec_of(keys[spec]) == spec


@pytest.mark.parametrize("spec", ["SYMMETRIC_DEFAULT", "HMAC_256", "RSA_1024", "ECC_NIST_P192", "rsa_2048", ""])
def test_generate_private_key_rejects_other_specs(spec: str) -> None:
    """A spec that is not RSA_* or ECC_* is a ValueError naming it."""
    with pytest.raises(ValueError, match=repr(spec)):
        c.generate_private_key(spec)


def test_key_spec_of_rejects_non_keys_and_unsupported_keys() -> None:
    """Garbage, a public key and a curve AWS lacks (P-224) all raise CryptoFailure."""
    p224 = ec.generate_private_key(ec.SECP224R1()).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    for bad in (b"", b"garbage", c.public_key_der(c.generate_private_key("ECC_NIST_P256")), p224):
        with pytest.raises(c.CryptoFailure):
            c.key_spec_of(bad)


def test_key_spec_of_rejects_an_inconsistent_rsa_key(keys: dict[str, bytes]) -> None:
    """An RSA key whose private exponent does not match its modulus parses but fails key_spec_of's validation."""
    good = serialization.load_der_private_key(keys["RSA_2048"], password=None)
    assert isinstance(good, rsa.RSAPrivateKey)
    n = good.private_numbers()
    bad = rsa.RSAPrivateNumbers(n.p, n.q, n.d + 2, n.dmp1, n.dmq1, n.iqmp, n.public_numbers)
    bad_der = bad.private_key(unsafe_skip_rsa_key_validation=True).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(c.CryptoFailure):
        c.key_spec_of(bad_der)


@pytest.mark.parametrize(("spec", "size"), [("HMAC_224", 28), ("HMAC_256", 32), ("HMAC_384", 48), ("HMAC_512", 64)])
def test_generate_hmac_key_lengths(spec: str, size: int) -> None:
    """HMAC keys are as long as the spec's digest, and fresh each time."""
    assert len(c.generate_hmac_key(spec)) == size
    assert c.generate_hmac_key(spec) != c.generate_hmac_key(spec)


def test_generate_hmac_key_rejects_other_specs() -> None:
    """Only HMAC_* specs make HMAC keys."""
    with pytest.raises(ValueError, match="HMAC_128"):
        c.generate_hmac_key("HMAC_128")
    with pytest.raises(ValueError, match="RSA_2048"):
        c.generate_hmac_key("RSA_2048")


@pytest.mark.parametrize("spec", ASYM_SPECS)
def test_public_key_der_is_the_spki_of_the_private_key(spec: str, keys: dict[str, bytes]) -> None:
    """public_key_der returns exactly cryptography's DER SubjectPublicKeyInfo for the key."""
    key = serialization.load_der_private_key(keys[spec], password=None, unsafe_skip_rsa_key_validation=True)
    expected = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert c.public_key_der(keys[spec]) == expected


@pytest.mark.parametrize("spec", ASYM_SPECS)
def test_generate_data_key_pair_halves_match(spec: str) -> None:
    """A data key pair's public half is the public key of its private half, of the requested spec."""
    private_der, public_der = c.generate_data_key_pair(spec)
    assert c.public_key_der(private_der) == public_der
    assert c.key_spec_of(private_der) == spec


def test_generate_data_key_pair_rejects_other_specs() -> None:
    """Symmetric and HMAC specs are not key pair specs."""
    for spec in ("SYMMETRIC_DEFAULT", "HMAC_256", "SM2"):
        with pytest.raises(ValueError, match=spec):
            c.generate_data_key_pair(spec)


@pytest.mark.parametrize("spec", ["RSA_2048", "RSA_3072"])
def test_generate_wrapping_key_sizes(spec: str) -> None:
    """Wrapping keys are RSA private keys of the requested size (RSA_4096 keygen is left to the key fixture)."""
    assert c.key_spec_of(c.generate_wrapping_key(spec)) == spec


def test_generate_wrapping_key_rejects_non_rsa_specs() -> None:
    """Elliptic-curve and unknown specs cannot be wrapping keys."""
    for spec in ("ECC_NIST_P256", "RSA_1024"):
        with pytest.raises(ValueError, match=spec):
            c.generate_wrapping_key(spec)


# --- algorithm lists ---------------------------------------------------------------------------


def test_algorithm_lists_per_spec() -> None:
    """Each spec lists what AWS lists: RSA signs six ways and encrypts two, ECC one ECDSA, HMAC one MAC."""
    rsa_signing = (
        "RSASSA_PKCS1_V1_5_SHA_256",
        "RSASSA_PKCS1_V1_5_SHA_384",
        "RSASSA_PKCS1_V1_5_SHA_512",
        "RSASSA_PSS_SHA_256",
        "RSASSA_PSS_SHA_384",
        "RSASSA_PSS_SHA_512",
    )
    expected: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
        "SYMMETRIC_DEFAULT": ((), ("SYMMETRIC_DEFAULT",), ()),
        **{spec: (rsa_signing, OAEP, ()) for spec in RSA_SPECS},
        "ECC_NIST_P256": (("ECDSA_SHA_256",), (), ()),
        "ECC_NIST_P384": (("ECDSA_SHA_384",), (), ()),
        "ECC_NIST_P521": (("ECDSA_SHA_512",), (), ()),
        "ECC_SECG_P256K1": (("ECDSA_SHA_256",), (), ()),
        **{spec: ((), (), ("HMAC_SHA_" + spec[5:],)) for spec in HMAC_SPECS},
    }
    assert set(expected) == set(ALL_SPECS)
    for spec, (signing, encryption, mac) in expected.items():
        assert c.signing_algorithms(spec) == signing, spec
        assert c.encryption_algorithms(spec) == encryption, spec
        assert c.mac_algorithms(spec) == mac, spec


def test_algorithm_lists_reject_unknown_specs() -> None:
    """An unknown key spec is a ValueError for every list."""
    for lister in (c.signing_algorithms, c.encryption_algorithms, c.mac_algorithms):
        with pytest.raises(ValueError, match="RSA_1024"):
            lister("RSA_1024")


# --- RSA encryption ----------------------------------------------------------------------------


def test_rsa_max_plaintext_matches_aws() -> None:
    """The plaintext limits are AWS's: 214/190, 342/318 and 470/446 bytes (OAEP SHA-1/SHA-256)."""
    table = {
        ("RSA_2048", "RSAES_OAEP_SHA_1"): 214,
        ("RSA_2048", "RSAES_OAEP_SHA_256"): 190,
        ("RSA_3072", "RSAES_OAEP_SHA_1"): 342,
        ("RSA_3072", "RSAES_OAEP_SHA_256"): 318,
        ("RSA_4096", "RSAES_OAEP_SHA_1"): 470,
        ("RSA_4096", "RSAES_OAEP_SHA_256"): 446,
    }
    for (spec, alg), limit in table.items():
        assert c.rsa_max_plaintext(spec, alg) == limit


def test_rsa_max_plaintext_rejects_unknown_names() -> None:
    """Non-RSA specs and non-OAEP algorithms are ValueErrors."""
    with pytest.raises(ValueError, match="ECC_NIST_P256"):
        c.rsa_max_plaintext("ECC_NIST_P256", "RSAES_OAEP_SHA_1")
    with pytest.raises(ValueError, match="SYMMETRIC_DEFAULT"):
        c.rsa_max_plaintext("RSA_2048", "SYMMETRIC_DEFAULT")


@pytest.mark.parametrize("spec", RSA_SPECS)
@pytest.mark.parametrize("algorithm", OAEP)
def test_rsa_round_trip_at_the_limit(spec: str, algorithm: str, keys: dict[str, bytes]) -> None:
    """A plaintext of exactly the limit encrypts and decrypts; one byte more is a ValueError."""
    public = c.public_key_der(keys[spec])
    limit = c.rsa_max_plaintext(spec, algorithm)
    plaintext = c.random_bytes(limit)
    ciphertext = c.rsa_encrypt(public, plaintext, algorithm)
    assert len(ciphertext) == int(spec[4:]) // 8
    assert c.rsa_decrypt(keys[spec], ciphertext, algorithm) == plaintext
    assert c.rsa_decrypt(keys[spec], c.rsa_encrypt(public, b"", algorithm), algorithm) == b""
    with pytest.raises(ValueError, match="exceeds"):
        c.rsa_encrypt(public, plaintext + b"x", algorithm)


@pytest.mark.parametrize("algorithm", OAEP)
def test_rsa_decrypt_interoperates_with_cryptography(algorithm: str, keys: dict[str, bytes]) -> None:
    """OAEP ciphertext made by cryptography (MGF1 with the same hash) decrypts here, and ours decrypts there."""
    h = hashes.SHA1 if algorithm.endswith("SHA_1") else hashes.SHA256
    oaep = padding.OAEP(mgf=padding.MGF1(h()), algorithm=h(), label=None)
    private = serialization.load_der_private_key(keys["RSA_2048"], password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    assert c.rsa_decrypt(keys["RSA_2048"], private.public_key().encrypt(b"theirs", oaep), algorithm) == b"theirs"
    ours = c.rsa_encrypt(c.public_key_der(keys["RSA_2048"]), b"ours", algorithm)
    assert private.decrypt(ours, oaep) == b"ours"


def test_rsa_decrypt_fails_closed(keys: dict[str, bytes], other_keys: dict[str, bytes]) -> None:
    """Wrong key, wrong algorithm, tampering, truncation, a non-RSA key or garbage all raise CryptoFailure."""
    ciphertext = c.rsa_encrypt(c.public_key_der(keys["RSA_2048"]), b"data", "RSAES_OAEP_SHA_256")
    for private, ct, alg in (
        (other_keys["RSA_2048"], ciphertext, "RSAES_OAEP_SHA_256"),
        (keys["RSA_2048"], ciphertext, "RSAES_OAEP_SHA_1"),
        (keys["RSA_2048"], _flip(ciphertext, 100), "RSAES_OAEP_SHA_256"),
        (keys["RSA_2048"], ciphertext[:-1], "RSAES_OAEP_SHA_256"),
        (keys["RSA_2048"], b"", "RSAES_OAEP_SHA_256"),
        (keys["ECC_NIST_P256"], ciphertext, "RSAES_OAEP_SHA_256"),
        (b"garbage", ciphertext, "RSAES_OAEP_SHA_256"),
    ):
        with pytest.raises(c.CryptoFailure):
            c.rsa_decrypt(private, ct, alg)


def test_rsa_encrypt_rejects_unknown_algorithms_and_non_rsa_keys(keys: dict[str, bytes]) -> None:
    """An unknown algorithm or an EC public key is a ValueError; an unparsable key is a CryptoFailure."""
    with pytest.raises(ValueError, match="RSAES_PKCS1_V1_5"):
        c.rsa_encrypt(c.public_key_der(keys["RSA_2048"]), b"x", "RSAES_PKCS1_V1_5")
    with pytest.raises(ValueError, match="RSA public key"):
        c.rsa_encrypt(c.public_key_der(keys["ECC_NIST_P256"]), b"x", "RSAES_OAEP_SHA_1")
    with pytest.raises(c.CryptoFailure):
        c.rsa_encrypt(b"garbage", b"x", "RSAES_OAEP_SHA_1")
    with pytest.raises(ValueError, match="SYMMETRIC_DEFAULT"):
        c.rsa_decrypt(keys["RSA_2048"], b"x", "SYMMETRIC_DEFAULT")


# --- signatures --------------------------------------------------------------------------------


@pytest.mark.parametrize(("spec", "algorithm"), SIGNING_CASES)
def test_signatures_made_here_verify_with_cryptography(spec: str, algorithm: str, keys: dict[str, bytes]) -> None:
    """A RAW-message signature made here verifies here and with cryptography directly against public_key_der."""
    public = c.public_key_der(keys[spec])
    signature = c.sign(keys[spec], spec, MESSAGE, "RAW", algorithm)
    assert c.verify(public, spec, MESSAGE, "RAW", algorithm, signature)
    _third_party_verify(public, algorithm, MESSAGE, signature)


@pytest.mark.parametrize(("spec", "algorithm"), SIGNING_CASES)
def test_signatures_made_by_cryptography_verify_here(spec: str, algorithm: str, keys: dict[str, bytes]) -> None:
    """A signature made with cryptography directly verifies here, as RAW and as DIGEST."""
    public = c.public_key_der(keys[spec])
    signature = _third_party_sign(keys[spec], algorithm, MESSAGE)
    assert c.verify(public, spec, MESSAGE, "RAW", algorithm, signature)
    assert c.verify(public, spec, _digest(algorithm, MESSAGE), "DIGEST", algorithm, signature)


@pytest.mark.parametrize(("spec", "algorithm"), SIGNING_CASES)
def test_raw_and_digest_are_equivalent(spec: str, algorithm: str, keys: dict[str, bytes]) -> None:
    """Signing the digest with DIGEST is signing the message with RAW: each verifies as the other."""
    public = c.public_key_der(keys[spec])
    digest = _digest(algorithm, MESSAGE)
    from_digest = c.sign(keys[spec], spec, digest, "DIGEST", algorithm)
    from_raw = c.sign(keys[spec], spec, MESSAGE, "RAW", algorithm)
    assert c.verify(public, spec, MESSAGE, "RAW", algorithm, from_digest)
    assert c.verify(public, spec, digest, "DIGEST", algorithm, from_raw)
    _third_party_verify(public, algorithm, MESSAGE, from_digest)
    if "PKCS1" in algorithm:  # deterministic: the bytes themselves are equal
        assert from_digest == from_raw


@pytest.mark.parametrize(("spec", "algorithm"), SIGNING_CASES)
def test_verify_rejects_tampering(spec: str, algorithm: str, keys: dict[str, bytes]) -> None:
    """A changed message, a flipped signature bit, garbage or an empty signature all verify False."""
    public = c.public_key_der(keys[spec])
    signature = c.sign(keys[spec], spec, MESSAGE, "RAW", algorithm)
    assert not c.verify(public, spec, MESSAGE + b".", "RAW", algorithm, signature)
    assert not c.verify(public, spec, MESSAGE, "RAW", algorithm, _flip(signature, 8 * len(signature) - 9))
    assert not c.verify(public, spec, MESSAGE, "RAW", algorithm, b"\x30\x00")
    assert not c.verify(public, spec, MESSAGE, "RAW", algorithm, b"")
    assert not c.verify(public, spec, _digest(algorithm, MESSAGE + b"."), "DIGEST", algorithm, signature)


def test_verify_rejects_another_keys_signature(keys: dict[str, bytes], other_keys: dict[str, bytes]) -> None:
    """A signature by one key does not verify under another key of the same spec."""
    for spec, algorithm in (("RSA_2048", "RSASSA_PSS_SHA_256"), ("ECC_NIST_P256", "ECDSA_SHA_256")):
        signature = c.sign(other_keys[spec], spec, MESSAGE, "RAW", algorithm)
        assert not c.verify(c.public_key_der(keys[spec]), spec, MESSAGE, "RAW", algorithm, signature)


def test_pss_salt_is_the_digest_length(keys: dict[str, bytes]) -> None:
    """RSASSA_PSS signatures use a salt as long as the digest (they fail a zero-salt check)."""
    public = serialization.load_der_public_key(c.public_key_der(keys["RSA_2048"]))
    assert isinstance(public, rsa.RSAPublicKey)
    signature = c.sign(keys["RSA_2048"], "RSA_2048", MESSAGE, "RAW", "RSASSA_PSS_SHA_384")
    public.verify(signature, MESSAGE, padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48), hashes.SHA384())
    with pytest.raises(InvalidSignature):
        public.verify(signature, MESSAGE, padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=0), hashes.SHA384())


@pytest.mark.parametrize(("spec", "algorithm"), SIGNING_CASES)
def test_digest_of_the_wrong_length_is_a_value_error(spec: str, algorithm: str, keys: dict[str, bytes]) -> None:
    """A DIGEST message longer or shorter than the algorithm's digest is a ValueError for sign and verify."""
    size = _hash_of(algorithm).digest_size
    public = c.public_key_der(keys[spec])
    for wrong in (bytes(size - 1), bytes(size + 1), b""):
        with pytest.raises(ValueError, match="Digest is invalid length"):
            c.sign(keys[spec], spec, wrong, "DIGEST", algorithm)
        with pytest.raises(ValueError, match="Digest is invalid length"):
            c.verify(public, spec, wrong, "DIGEST", algorithm, b"sig")


def test_sign_rejects_bad_names_and_mismatches(keys: dict[str, bytes]) -> None:
    """Unknown names, an algorithm not valid for the spec and a non-signing spec are ValueErrors."""
    k = keys["ECC_NIST_P256"]
    bad_calls: list[tuple[str, str, str]] = [
        ("ECC_NIST_P256", "RAW", "ECDSA_SHA_384"),  # P-256 signs only with ECDSA_SHA_256
        ("ECC_NIST_P256", "RAW", "RSASSA_PSS_SHA_256"),
        ("ECC_NIST_P256", "EXTERNAL_MU", "ECDSA_SHA_256"),
        ("ECC_NIST_P256", "raw", "ECDSA_SHA_256"),
        ("ECC_NIST_P256", "RAW", "SM2DSA"),
        ("SYMMETRIC_DEFAULT", "RAW", "ECDSA_SHA_256"),
        ("HMAC_256", "RAW", "ECDSA_SHA_256"),
    ]
    for spec, message_type, algorithm in bad_calls:
        with pytest.raises(ValueError):
            c.sign(k, spec, MESSAGE, message_type, algorithm)
        with pytest.raises(ValueError):
            c.verify(c.public_key_der(k), spec, MESSAGE, message_type, algorithm, b"")


def test_sign_and_verify_refuse_keys_of_another_spec(keys: dict[str, bytes]) -> None:
    """A key whose type or size differs from the stated spec, or garbage, raises CryptoFailure."""
    with pytest.raises(c.CryptoFailure):
        c.sign(keys["RSA_3072"], "RSA_2048", MESSAGE, "RAW", "RSASSA_PSS_SHA_256")
    with pytest.raises(c.CryptoFailure):
        c.sign(keys["ECC_SECG_P256K1"], "ECC_NIST_P256", MESSAGE, "RAW", "ECDSA_SHA_256")
    with pytest.raises(c.CryptoFailure):
        c.verify(c.public_key_der(keys["ECC_NIST_P256"]), "ECC_SECG_P256K1", MESSAGE, "RAW", "ECDSA_SHA_256", b"")
    with pytest.raises(c.CryptoFailure):
        c.sign(b"garbage", "RSA_2048", MESSAGE, "RAW", "RSASSA_PSS_SHA_256")
    with pytest.raises(c.CryptoFailure):
        c.verify(b"garbage", "RSA_2048", MESSAGE, "RAW", "RSASSA_PSS_SHA_256", b"")


# --- HMAC --------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", HMAC_SPECS)
def test_hmac_matches_the_standard_library(spec: str) -> None:
    """hmac_generate equals Python's hmac module for the spec's hash, and hmac_verify accepts it."""
    (algorithm,) = c.mac_algorithms(spec)
    key = c.generate_hmac_key(spec)
    mac = c.hmac_generate(key, algorithm, MESSAGE)
    assert mac == std_hmac.new(key, MESSAGE, getattr(hashlib, "sha" + spec[5:])).digest()
    assert c.hmac_verify(key, algorithm, MESSAGE, mac)


def test_hmac_known_answer_rfc4231_case_2() -> None:
    """HMAC-SHA-256 of RFC 4231 test case 2 ("Jefe") matches the published value."""
    mac = c.hmac_generate(b"Jefe", "HMAC_SHA_256", b"what do ya want for nothing?")
    assert mac.hex() == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


@pytest.mark.parametrize("spec", HMAC_SPECS)
def test_hmac_verify_rejects_wrong_inputs(spec: str) -> None:
    """A changed message, key, flipped bit, truncated or empty MAC all verify False."""
    (algorithm,) = c.mac_algorithms(spec)
    key = c.generate_hmac_key(spec)
    mac = c.hmac_generate(key, algorithm, MESSAGE)
    assert not c.hmac_verify(key, algorithm, MESSAGE + b"!", mac)
    assert not c.hmac_verify(c.generate_hmac_key(spec), algorithm, MESSAGE, mac)
    assert not c.hmac_verify(key, algorithm, MESSAGE, _flip(mac, 3))
    assert not c.hmac_verify(key, algorithm, MESSAGE, mac[:-1])
    assert not c.hmac_verify(key, algorithm, MESSAGE, b"")


def test_hmac_rejects_unknown_algorithms() -> None:
    """An unknown MAC algorithm is a ValueError for generate and verify."""
    with pytest.raises(ValueError, match="HMAC_SHA_1"):
        c.hmac_generate(b"k", "HMAC_SHA_1", b"m")
    with pytest.raises(ValueError, match="HMAC_256"):
        c.hmac_verify(b"k", "HMAC_256", b"m", b"")


# --- key import --------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", RSA_SPECS)
@pytest.mark.parametrize("algorithm", WRAPPING)
def test_wrap_unwrap_round_trip(spec: str, algorithm: str, keys: dict[str, bytes]) -> None:
    """Symmetric material wraps and unwraps with every wrapping algorithm and wrapping key size."""
    material = c.generate_symmetric_key()
    wrapped = c.wrap_key_material(c.public_key_der(keys[spec]), material, algorithm)
    modulus = int(spec[4:]) // 8
    expected_len = modulus if algorithm.startswith("RSAES") else modulus + 40  # KWP of 32 bytes: 32 + 8
    assert len(wrapped) == expected_len
    assert c.unwrap_key_material(keys[spec], wrapped, algorithm) == material


@pytest.mark.parametrize("algorithm", ["RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256"])
def test_rsa_aes_wraps_private_keys_and_odd_lengths(algorithm: str, keys: dict[str, bytes]) -> None:
    """The hybrid algorithms carry material too big for plain OAEP (an RSA_4096 private key) and odd lengths."""
    public = c.public_key_der(keys["RSA_2048"])
    for material in (keys["RSA_4096"], keys["ECC_NIST_P521"], b"\x01", bytes(range(13))):
        assert c.unwrap_key_material(keys["RSA_2048"], c.wrap_key_material(public, material, algorithm), algorithm) == material


@pytest.mark.parametrize("algorithm", ["RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256"])
def test_unwrap_accepts_a_client_built_hybrid_wrap(algorithm: str, keys: dict[str, bytes]) -> None:
    """Material wrapped by hand with cryptography (OAEP of an AES-256 key, then RFC 5649 KWP) unwraps here."""
    h = hashes.SHA1 if algorithm.endswith("SHA_1") else hashes.SHA256
    public = serialization.load_der_public_key(c.public_key_der(keys["RSA_3072"]))
    assert isinstance(public, rsa.RSAPublicKey)
    aes_key = c.random_bytes(32)
    material = keys["ECC_NIST_P384"]
    wrapped = public.encrypt(aes_key, padding.OAEP(mgf=padding.MGF1(h()), algorithm=h(), label=None)) + (
        aes_key_wrap_with_padding(aes_key, material)
    )
    assert c.unwrap_key_material(keys["RSA_3072"], wrapped, algorithm) == material


def test_plain_oaep_wrapping_refuses_material_over_the_limit(keys: dict[str, bytes]) -> None:
    """RSAES_OAEP_* cannot wrap an RSA private key, nor P-521 material under an RSA_2048 wrapping key."""
    public = c.public_key_der(keys["RSA_2048"])
    for material in (keys["RSA_2048"], keys["ECC_NIST_P521"]):
        for algorithm in ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"):
            with pytest.raises(ValueError, match="exceeds"):
                c.wrap_key_material(public, material, algorithm)


def test_unwrap_fails_closed(keys: dict[str, bytes], other_keys: dict[str, bytes]) -> None:
    """Wrong wrapping key, wrong algorithm, tampering, truncation or garbage raise CryptoFailure."""
    public = c.public_key_der(keys["RSA_2048"])
    material = c.generate_symmetric_key()
    for algorithm in WRAPPING:
        wrapped = c.wrap_key_material(public, material, algorithm)
        others = [a for a in WRAPPING if a != algorithm]
        cases: list[tuple[bytes, bytes, str]] = [
            (other_keys["RSA_2048"], wrapped, algorithm),
            (keys["RSA_2048"], _flip(wrapped, 40), algorithm),
            (keys["RSA_2048"], _flip(wrapped, 8 * len(wrapped) - 1), algorithm),
            (keys["RSA_2048"], wrapped[:-1], algorithm),
            (keys["RSA_2048"], wrapped[:255], algorithm),  # shorter than the RSA part
            (keys["RSA_2048"], wrapped + b"\x00" * 8, algorithm),
            (b"garbage", wrapped, algorithm),
            (keys["RSA_2048"], b"", algorithm),
            (keys["ECC_NIST_P256"], wrapped, algorithm),
            *[(keys["RSA_2048"], wrapped, other) for other in others],
        ]
        for private, blob, alg in cases:
            with pytest.raises(c.CryptoFailure):
                c.unwrap_key_material(private, blob, alg)


def test_unwrap_refuses_a_hybrid_wrap_whose_aes_key_is_not_256_bits(keys: dict[str, bytes]) -> None:
    """An RSA_AES wrap carrying a 128-bit AES key is refused (AWS requires an AES-256 key)."""
    public = serialization.load_der_public_key(c.public_key_der(keys["RSA_2048"]))
    assert isinstance(public, rsa.RSAPublicKey)
    aes_key = c.random_bytes(16)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    wrapped = public.encrypt(aes_key, oaep) + aes_key_wrap_with_padding(aes_key, bytes(32))
    with pytest.raises(c.CryptoFailure):
        c.unwrap_key_material(keys["RSA_2048"], wrapped, "RSA_AES_KEY_WRAP_SHA_256")


def test_wrapping_rejects_unknown_algorithms_and_non_rsa_keys(keys: dict[str, bytes]) -> None:
    """RSAES_PKCS1_V1_5 (withdrawn by AWS) and unknown names are ValueErrors; so is an EC wrapping key."""
    public = c.public_key_der(keys["RSA_2048"])
    for name in ("RSAES_PKCS1_V1_5", "SM2PKE", "RSA_AES_KEY_WRAP_SHA_384"):
        with pytest.raises(ValueError, match=name):
            c.wrap_key_material(public, b"m", name)
        with pytest.raises(ValueError, match=name):
            c.unwrap_key_material(keys["RSA_2048"], b"m", name)
    with pytest.raises(ValueError, match="RSA public key"):
        c.wrap_key_material(c.public_key_der(keys["ECC_NIST_P256"]), b"m", "RSAES_OAEP_SHA_256")


def test_digest_helper_matches_the_hashes_the_algorithms_name() -> None:
    """The test helper maps ECDSA_SHA_384 to SHA-384 and so on (guards the other tests' oracle)."""
    assert _digest("ECDSA_SHA_384", b"abc") == hashlib.sha384(b"abc").digest()
    assert _digest("RSASSA_PSS_SHA_512", b"abc") == hashlib.sha512(b"abc").digest()
