"""DANGER: raw cryptographic primitives. Only the KMS facade may call this module, after authorizing.

(The facade is kms/core.py and its ops_* modules, which authorize every call before they get here.)

This is the one module of the package allowed to import ``cryptography.hazmat``. Everything here
is a pure function over bytes: no I/O, no clock, no logging, no state. The only side effect is
drawing randomness from the operating system (``os.urandom``, and OpenSSL's CSPRNG inside
``cryptography``) for keys, nonces, OAEP/PSS padding and ECDSA.

Rules of the fence
------------------
* Keys enter and leave as bytes: private keys as PKCS #8 DER, public keys as DER
  SubjectPublicKeyInfo, symmetric and HMAC keys as raw bytes.
* Every failure to decrypt, unwrap or parse secret input raises :class:`CryptoFailure` with one
  fixed, uninformative message and no chained cause, so the caller cannot be turned into an
  oracle (padding, tag, length and format failures all look alike).
* Signature and MAC checks answer ``False``; they never say why.
* Private keys passed in must have been made by this module or accepted by :func:`key_spec_of`,
  which fully validates imported material (RSA primality and consistency checks). The other
  functions skip that costly RSA check, so imported material must pass ``key_spec_of`` first.
* A name this module does not know (key spec, algorithm, message type) or a request AWS would
  refuse with a ValidationException (a plaintext over the RSA limit, a digest of the wrong
  length) raises ``ValueError`` with a one-line message naming it. These describe the request,
  never a secret.

Names are AWS KMS's: key specs (``RSA_2048``, ``ECC_NIST_P256``, ``HMAC_256``, ...), encryption
algorithms (``RSAES_OAEP_SHA_256``), signing algorithms (``RSASSA_PSS_SHA_256``, ``ECDSA_SHA_256``),
MAC algorithms (``HMAC_SHA_256``) and wrapping algorithms (``RSA_AES_KEY_WRAP_SHA_256``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Container

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, mlkem, padding, rsa, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap_with_padding, aes_key_wrap_with_padding

from policyengine.kms import _ed25519ph

__all__ = [
    "CryptoFailure",
    "UnsupportedSpec",
    "aes_gcm_open",
    "aes_gcm_seal",
    "aes_gcm_seal_with_nonce",
    "decapsulate",
    "derive_shared_secret",
    "encapsulate",
    "encapsulation_algorithms",
    "encryption_algorithms",
    "generate_data_key_pair",
    "generate_hmac_key",
    "generate_private_key",
    "generate_symmetric_key",
    "generate_wrapping_key",
    "hmac_generate",
    "hmac_verify",
    "key_agreement_algorithms",
    "key_spec_of",
    "mac_algorithms",
    "public_key_der",
    "random_bytes",
    "rsa_decrypt",
    "rsa_encrypt",
    "rsa_max_plaintext",
    "sign",
    "signing_algorithms",
    "unwrap_key_material",
    "verify",
    "wrap_key_material",
]

SYMMETRIC_KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16

_FAILURE_MESSAGE = "cryptographic operation failed"


class CryptoFailure(Exception):
    """Decryption, unwrapping or parsing of secret input failed; the message never says how."""

    def __init__(self) -> None:
        super().__init__(_FAILURE_MESSAGE)


class UnsupportedSpec(Exception):
    """A key spec AWS offers that the installed ``cryptography`` cannot implement (ML_KEM_512 today)."""


# --- names -----------------------------------------------------------------------------------

_HashFactory = Callable[[], hashes.HashAlgorithm]

_RSA_BITS: dict[str, int] = {"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}

_EC_CURVES: dict[str, Callable[[], ec.EllipticCurve]] = {
    "ECC_NIST_P256": ec.SECP256R1,
    "ECC_NIST_P384": ec.SECP384R1,
    "ECC_NIST_P521": ec.SECP521R1,
    "ECC_SECG_P256K1": ec.SECP256K1,
}

_HMAC_SPECS: dict[str, tuple[str, _HashFactory]] = {
    "HMAC_224": ("HMAC_SHA_224", hashes.SHA224),
    "HMAC_256": ("HMAC_SHA_256", hashes.SHA256),
    "HMAC_384": ("HMAC_SHA_384", hashes.SHA384),
    "HMAC_512": ("HMAC_SHA_512", hashes.SHA512),
}
_MAC_HASHES: dict[str, _HashFactory] = dict(_HMAC_SPECS.values())

_ED25519 = "ECC_NIST_EDWARDS25519"
_ML_DSA: dict[str, Callable[[], object]] = {
    "ML_DSA_44": mldsa.MLDSA44PrivateKey.generate,
    "ML_DSA_65": mldsa.MLDSA65PrivateKey.generate,
    "ML_DSA_87": mldsa.MLDSA87PrivateKey.generate,
}
#: ML_KEM_512 is AWS's too, but ``cryptography`` (51) ships only ML-KEM-768 and ML-KEM-1024.
_ML_KEM: dict[str, Callable[[], object] | None] = {
    "ML_KEM_512": None,
    "ML_KEM_768": mlkem.MLKEM768PrivateKey.generate,
    "ML_KEM_1024": mlkem.MLKEM1024PrivateKey.generate,
}
#: The curves DeriveSharedSecret (ECDH) works on: AWS offers KEY_AGREEMENT on the NIST curves only.
_KEY_AGREEMENT_CURVES = frozenset({"ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521"})

_SYMMETRIC_SPECS = frozenset({"SYMMETRIC_DEFAULT"})
_ALL_SPECS = (
    frozenset(_RSA_BITS)
    | frozenset(_EC_CURVES)
    | frozenset(_HMAC_SPECS)
    | _SYMMETRIC_SPECS
    | frozenset(_ML_DSA)
    | frozenset(_ML_KEM)
    | {_ED25519}
)

_OAEP_HASHES: dict[str, _HashFactory] = {"RSAES_OAEP_SHA_1": hashes.SHA1, "RSAES_OAEP_SHA_256": hashes.SHA256}

# Signing algorithm -> (family, hash). Families: PSS, PKCS1, ECDSA.
_SIGNING: dict[str, tuple[str, _HashFactory]] = {
    "RSASSA_PSS_SHA_256": ("PSS", hashes.SHA256),
    "RSASSA_PSS_SHA_384": ("PSS", hashes.SHA384),
    "RSASSA_PSS_SHA_512": ("PSS", hashes.SHA512),
    "RSASSA_PKCS1_V1_5_SHA_256": ("PKCS1", hashes.SHA256),
    "RSASSA_PKCS1_V1_5_SHA_384": ("PKCS1", hashes.SHA384),
    "RSASSA_PKCS1_V1_5_SHA_512": ("PKCS1", hashes.SHA512),
    "ECDSA_SHA_256": ("ECDSA", hashes.SHA256),
    "ECDSA_SHA_384": ("ECDSA", hashes.SHA384),
    "ECDSA_SHA_512": ("ECDSA", hashes.SHA512),
}

# What DescribeKey lists, in AWS's order.
_RSA_SIGNING_ALGORITHMS = (
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
)
_EC_SIGNING_ALGORITHMS: dict[str, tuple[str, ...]] = {
    "ECC_NIST_P256": ("ECDSA_SHA_256",),
    "ECC_NIST_P384": ("ECDSA_SHA_384",),
    "ECC_NIST_P521": ("ECDSA_SHA_512",),
    "ECC_SECG_P256K1": ("ECDSA_SHA_256",),
}
_RSA_ENCRYPTION_ALGORITHMS = ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256")

_MESSAGE_TYPES = frozenset({"RAW", "DIGEST"})
_ML_DSA_ALGORITHM = "ML_DSA_SHAKE_256"
_ED25519_ALGORITHMS = ("ED25519_SHA_512", "ED25519_PH_SHA_512")
#: Bytes of the message representative mu that an EXTERNAL_MU message must be (FIPS 204).
ML_DSA_MU_BYTES = 64
_PrivateKey = (
    rsa.RSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | mldsa.MLDSA44PrivateKey
    | mldsa.MLDSA65PrivateKey
    | mldsa.MLDSA87PrivateKey
    | mlkem.MLKEM768PrivateKey
    | mlkem.MLKEM1024PrivateKey
)
_PublicKey = (
    rsa.RSAPublicKey
    | ec.EllipticCurvePublicKey
    | ed25519.Ed25519PublicKey
    | mldsa.MLDSA44PublicKey
    | mldsa.MLDSA65PublicKey
    | mldsa.MLDSA87PublicKey
    | mlkem.MLKEM768PublicKey
    | mlkem.MLKEM1024PublicKey
)
_SPEC_OF_TYPE: tuple[tuple[type, str], ...] = (
    (ed25519.Ed25519PrivateKey, _ED25519),
    (ed25519.Ed25519PublicKey, _ED25519),
    (mldsa.MLDSA44PrivateKey, "ML_DSA_44"),
    (mldsa.MLDSA44PublicKey, "ML_DSA_44"),
    (mldsa.MLDSA65PrivateKey, "ML_DSA_65"),
    (mldsa.MLDSA65PublicKey, "ML_DSA_65"),
    (mldsa.MLDSA87PrivateKey, "ML_DSA_87"),
    (mldsa.MLDSA87PublicKey, "ML_DSA_87"),
    (mlkem.MLKEM768PrivateKey, "ML_KEM_768"),
    (mlkem.MLKEM768PublicKey, "ML_KEM_768"),
    (mlkem.MLKEM1024PrivateKey, "ML_KEM_1024"),
    (mlkem.MLKEM1024PublicKey, "ML_KEM_1024"),
)

_WRAPPING_OAEP_HASH: dict[str, _HashFactory] = {
    "RSAES_OAEP_SHA_1": hashes.SHA1,
    "RSAES_OAEP_SHA_256": hashes.SHA256,
    "RSA_AES_KEY_WRAP_SHA_1": hashes.SHA1,
    "RSA_AES_KEY_WRAP_SHA_256": hashes.SHA256,
}
_HYBRID_WRAPPING = frozenset({"RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256"})


def _known(name: str, table: Container[str], what: str) -> None:
    if not isinstance(name, str) or name not in table:
        raise ValueError(f"unknown {what}: {name!r}")


def _oaep(hash_factory: _HashFactory) -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(algorithm=hash_factory()), algorithm=hash_factory(), label=None)


def _oaep_max_plaintext(modulus_bytes: int, hash_factory: _HashFactory) -> int:
    return modulus_bytes - 2 * hash_factory().digest_size - 2


# --- randomness and symmetric keys -------------------------------------------------------------


def random_bytes(n: int) -> bytes:
    """``n`` bytes from the operating system's CSPRNG (GenerateRandom); ``n`` must be >= 0."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"invalid random byte count: {n!r}")
    return os.urandom(n)


def generate_symmetric_key() -> bytes:
    """A fresh 256-bit AES key (SYMMETRIC_DEFAULT material and data keys)."""
    return os.urandom(SYMMETRIC_KEY_BYTES)


# --- AES-256-GCM -------------------------------------------------------------------------------


def aes_gcm_seal_with_nonce(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """TEST-ONLY: :func:`aes_gcm_seal` with a caller-chosen nonce, for known-answer vectors.

    Never call this outside tests: reusing a nonce under one key destroys GCM's security.
    Returns ``nonce || ciphertext || tag``.
    """
    if len(key) != SYMMETRIC_KEY_BYTES:
        raise ValueError(f"AES-GCM key must be {SYMMETRIC_KEY_BYTES} bytes, got {len(key)}")
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"AES-GCM nonce must be {NONCE_BYTES} bytes, got {len(nonce)}")
    return bytes(nonce) + AESGCM(bytes(key)).encrypt(bytes(nonce), bytes(plaintext), bytes(aad))


def aes_gcm_seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM under ``key`` with a fresh random 96-bit nonce: ``nonce(12) || ciphertext || tag(16)``."""
    return aes_gcm_seal_with_nonce(key, os.urandom(NONCE_BYTES), plaintext, aad)


def aes_gcm_open(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    """The plaintext of an :func:`aes_gcm_seal` output; :class:`CryptoFailure` on any problem at all."""
    try:
        if len(key) != SYMMETRIC_KEY_BYTES or len(sealed) < NONCE_BYTES + TAG_BYTES:
            raise CryptoFailure()
        sealed = bytes(sealed)
        return AESGCM(bytes(key)).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], bytes(aad))
    except Exception:
        raise CryptoFailure() from None


# --- asymmetric keys ---------------------------------------------------------------------------


def _new_private_key(key_spec: str) -> _PrivateKey:
    if key_spec in _RSA_BITS:
        return rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS[key_spec])
    if key_spec in _EC_CURVES:
        return ec.generate_private_key(_EC_CURVES[key_spec]())
    if key_spec == _ED25519:
        return ed25519.Ed25519PrivateKey.generate()
    if key_spec in _ML_DSA:
        return _ML_DSA[key_spec]()  # type: ignore[return-value]  # the table holds ML-DSA generators only
    if key_spec in _ML_KEM:
        make = _ML_KEM[key_spec]
        if make is None:
            raise UnsupportedSpec(key_spec)
        return make()  # type: ignore[return-value]  # the table holds ML-KEM generators only
    raise ValueError(f"unknown asymmetric key spec: {key_spec!r}")


def _private_der(key: _PrivateKey) -> bytes:
    return key.private_bytes(
        encoding=serialization.Encoding.DER,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def _public_der(key: _PublicKey) -> bytes:
    return key.public_bytes(
        encoding=serialization.Encoding.DER,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )


def _spec_of(key: object) -> str | None:
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        for spec, bits in _RSA_BITS.items():
            if key.key_size == bits:
                return spec
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        for spec, curve in _EC_CURVES.items():
            if key.curve.name == curve().name:
                return spec
        return None
    for kind, spec in _SPEC_OF_TYPE:
        if isinstance(key, kind):
            return spec
    return None


def _load_private(private_der: bytes, *, validate: bool = False) -> _PrivateKey:
    # RSA key validation (primality of p and q) costs 25-200 ms per load; it runs once, in
    # key_spec_of, when material enters from outside. Keys made here are valid by construction.
    try:
        key = serialization.load_der_private_key(bytes(private_der), password=None, unsafe_skip_rsa_key_validation=not validate)
    except Exception:
        raise CryptoFailure() from None
    if _spec_of(key) is None:
        raise CryptoFailure()
    return key  # type: ignore[return-value]  # _spec_of names only the _PrivateKey types


def _load_public(public_der: bytes) -> _PublicKey:
    try:
        key = serialization.load_der_public_key(bytes(public_der))
    except Exception:
        raise CryptoFailure() from None
    if _spec_of(key) is None:
        raise CryptoFailure()
    return key  # type: ignore[return-value]  # _spec_of names only the _PublicKey types


def generate_private_key(key_spec: str) -> bytes:
    """A fresh private key for an asymmetric key spec (RSA_*, ECC_*, ML_DSA_*, ML_KEM_*), as PKCS #8 DER.

    :class:`UnsupportedSpec` for a spec AWS has that the installed ``cryptography`` lacks."""
    return _private_der(_new_private_key(key_spec))


def generate_hmac_key(key_spec: str) -> bytes:
    """A fresh HMAC key for HMAC_224/256/384/512: as many random bytes as the digest (28/32/48/64)."""
    _known(key_spec, _HMAC_SPECS, "HMAC key spec")
    return os.urandom(_HMAC_SPECS[key_spec][1]().digest_size)


def public_key_der(private_der: bytes) -> bytes:
    """The DER SubjectPublicKeyInfo of a PKCS #8 DER private key; :class:`CryptoFailure` if it does not parse."""
    return _public_der(_load_private(private_der).public_key())


def key_spec_of(private_der: bytes) -> str:
    """The AWS key spec (RSA_2048, ECC_NIST_P256, ...) of a PKCS #8 DER private key.

    The gate for imported asymmetric material: it fully validates the key (for RSA, primality
    and consistency of its parameters, which the other functions skip for speed) and names its
    spec, for comparison with the KMS key's. :class:`CryptoFailure` if the bytes are not a valid
    private key of a spec AWS supports.
    """
    spec = _spec_of(_load_private(private_der, validate=True))
    if spec is None:
        raise CryptoFailure()
    return spec


def generate_data_key_pair(key_pair_spec: str) -> tuple[bytes, bytes]:
    """A fresh data key pair (GenerateDataKeyPair): ``(private PKCS #8 DER, public SPKI DER)``."""
    key = _new_private_key(key_pair_spec)
    return _private_der(key), _public_der(key.public_key())


def generate_wrapping_key(wrapping_key_spec: str) -> bytes:
    """A fresh RSA wrapping key for GetParametersForImport (RSA_2048/3072/4096), as PKCS #8 DER."""
    _known(wrapping_key_spec, _RSA_BITS, "wrapping key spec")
    return generate_private_key(wrapping_key_spec)


# --- algorithm lists ---------------------------------------------------------------------------


def signing_algorithms(key_spec: str) -> tuple[str, ...]:
    """The signing algorithms AWS lists for a key spec; empty for specs that cannot sign."""
    _known(key_spec, _ALL_SPECS, "key spec")
    if key_spec in _RSA_BITS:
        return _RSA_SIGNING_ALGORITHMS
    if key_spec in _ML_DSA:
        return (_ML_DSA_ALGORITHM,)
    if key_spec == _ED25519:
        return _ED25519_ALGORITHMS
    return _EC_SIGNING_ALGORITHMS.get(key_spec, ())


def key_agreement_algorithms(key_spec: str) -> tuple[str, ...]:
    """``("ECDH",)`` for the curves DeriveSharedSecret works on; empty for other specs."""
    _known(key_spec, _ALL_SPECS, "key spec")
    return ("ECDH",) if key_spec in _KEY_AGREEMENT_CURVES else ()


def encapsulation_algorithms(key_spec: str) -> tuple[str, ...]:
    """``("ML_KEM",)`` for ML-KEM key specs; empty for other specs."""
    _known(key_spec, _ALL_SPECS, "key spec")
    return ("ML_KEM",) if key_spec in _ML_KEM else ()


def encryption_algorithms(key_spec: str) -> tuple[str, ...]:
    """The encryption algorithms AWS lists for a key spec; empty for specs that cannot encrypt."""
    _known(key_spec, _ALL_SPECS, "key spec")
    if key_spec in _SYMMETRIC_SPECS:
        return ("SYMMETRIC_DEFAULT",)
    if key_spec in _RSA_BITS:
        return _RSA_ENCRYPTION_ALGORITHMS
    return ()


def mac_algorithms(key_spec: str) -> tuple[str, ...]:
    """The MAC algorithms AWS lists for a key spec (HMAC_256 -> HMAC_SHA_256); empty for others."""
    _known(key_spec, _ALL_SPECS, "key spec")
    if key_spec in _HMAC_SPECS:
        return (_HMAC_SPECS[key_spec][0],)
    return ()


# --- RSA encryption ----------------------------------------------------------------------------


def rsa_max_plaintext(key_spec: str, algorithm: str) -> int:
    """The largest plaintext, in bytes, that Encrypt accepts for an RSA key spec and OAEP algorithm.

    RSA_2048: 214 (OAEP SHA-1) / 190 (OAEP SHA-256); RSA_3072: 342 / 318; RSA_4096: 470 / 446.
    """
    _known(key_spec, _RSA_BITS, "RSA key spec")
    _known(algorithm, _OAEP_HASHES, "RSA encryption algorithm")
    return _oaep_max_plaintext(_RSA_BITS[key_spec] // 8, _OAEP_HASHES[algorithm])


def rsa_encrypt(public_der: bytes, plaintext: bytes, algorithm: str) -> bytes:
    """RSAES-OAEP (MGF1 with the same hash, empty label) under an RSA public key (SPKI DER).

    ``ValueError`` if the plaintext is longer than the key and algorithm allow.
    """
    _known(algorithm, _OAEP_HASHES, "RSA encryption algorithm")
    key = _load_public(public_der)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("RSA encryption needs an RSA public key")
    hash_factory = _OAEP_HASHES[algorithm]
    limit = _oaep_max_plaintext((key.key_size + 7) // 8, hash_factory)
    if len(plaintext) > limit:
        raise ValueError(f"plaintext of {len(plaintext)} bytes exceeds the {limit}-byte limit of {algorithm}")
    return key.encrypt(bytes(plaintext), _oaep(hash_factory))


def rsa_decrypt(private_der: bytes, ciphertext: bytes, algorithm: str) -> bytes:
    """The plaintext of an :func:`rsa_encrypt` output; :class:`CryptoFailure` on any problem."""
    _known(algorithm, _OAEP_HASHES, "RSA encryption algorithm")
    key = _load_private(private_der)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CryptoFailure()
    try:
        return key.decrypt(bytes(ciphertext), _oaep(_OAEP_HASHES[algorithm]))
    except Exception:
        raise CryptoFailure() from None


# --- signatures --------------------------------------------------------------------------------


def _check_signing(key_spec: str, message: bytes, message_type: str, algorithm: str) -> None:
    """``ValueError`` (AWS's words where known) for a request the spec, algorithm and message type do not allow."""
    _known(key_spec, _RSA_BITS.keys() | _EC_CURVES.keys() | _ML_DSA.keys() | {_ED25519}, "signing key spec")
    _known(algorithm, _SIGNING.keys() | {_ML_DSA_ALGORITHM, *_ED25519_ALGORITHMS}, "signing algorithm")
    _known(message_type, _MESSAGE_TYPES | {"EXTERNAL_MU"}, "message type")
    if algorithm not in signing_algorithms(key_spec):
        raise ValueError(f"signing algorithm {algorithm} is not valid for key spec {key_spec}")
    if algorithm == _ML_DSA_ALGORITHM:
        if message_type == "DIGEST":
            raise ValueError(f"MessageType DIGEST is not valid for signing algorithm {algorithm}; use RAW or EXTERNAL_MU")
        if message_type == "EXTERNAL_MU" and len(message) != ML_DSA_MU_BYTES:
            raise ValueError(f"Digest is invalid length for algorithm {algorithm}.")
        return
    if message_type == "EXTERNAL_MU":
        raise ValueError(f"MessageType EXTERNAL_MU is valid only for ML-DSA keys, not for signing algorithm {algorithm}")
    if algorithm == "ED25519_SHA_512":
        if message_type != "RAW":
            raise ValueError(f"MessageType {message_type} is not valid for signing algorithm {algorithm}; use RAW")
        return
    size = 64 if algorithm == "ED25519_PH_SHA_512" else _SIGNING[algorithm][1]().digest_size
    if message_type == "DIGEST" and len(message) != size:
        raise ValueError(f"Digest is invalid length for algorithm {algorithm}.")


def _chosen_hash(message_type: str, hash_algorithm: hashes.HashAlgorithm) -> hashes.HashAlgorithm | utils.Prehashed:
    return utils.Prehashed(hash_algorithm) if message_type == "DIGEST" else hash_algorithm


def _pss(hash_algorithm: hashes.HashAlgorithm) -> padding.PSS:
    # AWS KMS uses MGF1 with the message hash and a salt as long as the digest.
    return padding.PSS(mgf=padding.MGF1(hash_algorithm), salt_length=hash_algorithm.digest_size)


def _ed25519ph_digest(message: bytes, message_type: str) -> bytes:
    return bytes(message) if message_type == "DIGEST" else _ed25519ph.prehash(bytes(message))


def sign(private_der: bytes, key_spec: str, message: bytes, message_type: str, algorithm: str) -> bytes:
    """Sign ``message`` with a PKCS #8 DER private key, as KMS's Sign does.

    RSA signatures are PKCS #1 (RFC 8017); ECDSA signatures are DER-encoded (RFC 3279); RAW
    messages are hashed here, DIGEST ones already are. Ed25519: ``ED25519_SHA_512`` is pure
    Ed25519 over the RAW message, ``ED25519_PH_SHA_512`` is Ed25519ph (RFC 8032) over SHA-512 of
    the message (or the given 64-byte DIGEST). ML-DSA (FIPS 204, empty context): RAW signs the
    message, EXTERNAL_MU signs the given 64-byte representative mu.
    ``ValueError`` for an unknown or mismatched spec/algorithm/message type or a digest of the
    wrong length; :class:`CryptoFailure` if the key does not parse or is not of ``key_spec``.
    """
    _check_signing(key_spec, message, message_type, algorithm)
    key = _load_private(private_der)
    if _spec_of(key) != key_spec:
        raise CryptoFailure()
    data = bytes(message)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        if algorithm == "ED25519_SHA_512":
            return key.sign(data)
        seed = key.private_bytes_raw()
        return _ed25519ph.sign_prehashed(seed, key.public_key().public_bytes_raw(), _ed25519ph_digest(data, message_type))
    if isinstance(key, mldsa.MLDSA44PrivateKey | mldsa.MLDSA65PrivateKey | mldsa.MLDSA87PrivateKey):
        return key.sign_mu(data) if message_type == "EXTERNAL_MU" else key.sign(data)
    hash_algorithm = _SIGNING[algorithm][1]()
    chosen = _chosen_hash(message_type, hash_algorithm)
    if isinstance(key, rsa.RSAPrivateKey):
        pad: padding.AsymmetricPadding = _pss(hash_algorithm) if _SIGNING[algorithm][0] == "PSS" else padding.PKCS1v15()
        return key.sign(data, pad, chosen)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(chosen))
    raise CryptoFailure()


def verify(public_der: bytes, key_spec: str, message: bytes, message_type: str, algorithm: str, signature: bytes) -> bool:
    """Whether ``signature`` is a valid signature of ``message`` under a DER SPKI public key.

    ``False`` for any invalid or malformed signature. ``ValueError`` as for :func:`sign`;
    :class:`CryptoFailure` if the public key does not parse or is not of ``key_spec``.
    """
    _check_signing(key_spec, message, message_type, algorithm)
    key = _load_public(public_der)
    if _spec_of(key) != key_spec:
        raise CryptoFailure()
    data, signature = bytes(message), bytes(signature)
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            if algorithm == "ED25519_PH_SHA_512":
                return _ed25519ph.verify_prehashed(key.public_bytes_raw(), _ed25519ph_digest(data, message_type), signature)
            key.verify(signature, data)
        elif isinstance(key, mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey):
            if message_type == "EXTERNAL_MU":
                key.verify_mu(signature, data)
            else:
                key.verify(signature, data)
        elif isinstance(key, rsa.RSAPublicKey):
            hash_algorithm = _SIGNING[algorithm][1]()
            pad: padding.AsymmetricPadding = _pss(hash_algorithm) if _SIGNING[algorithm][0] == "PSS" else padding.PKCS1v15()
            key.verify(signature, data, pad, _chosen_hash(message_type, hash_algorithm))
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(_chosen_hash(message_type, _SIGNING[algorithm][1]())))
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


# --- key agreement and key encapsulation -------------------------------------------------------


def derive_shared_secret(private_der: bytes, peer_public_der: bytes) -> bytes:
    """ECDH (NIST SP 800-56A, the raw x-coordinate) between a NIST-curve private key and a peer's
    DER SubjectPublicKeyInfo on the same curve. ``ValueError`` if the peer key does not parse or is
    on another curve (AWS answers ValidationException); :class:`CryptoFailure` for our own key."""
    key = _load_private(private_der)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CryptoFailure()
    try:
        peer = serialization.load_der_public_key(bytes(peer_public_der))
    except Exception:
        raise ValueError("the public key is not a DER-encoded SubjectPublicKeyInfo") from None
    if not isinstance(peer, ec.EllipticCurvePublicKey) or peer.curve.name != key.curve.name:
        raise ValueError("the public key is not on the curve of the KMS key")
    return key.exchange(ec.ECDH(), peer)


def encapsulate(private_der: bytes) -> tuple[bytes, bytes]:
    """ML-KEM encapsulation (FIPS 203) to the public half of an ML-KEM private key: ``(shared secret, ciphertext)``."""
    key = _load_private(private_der)
    if not isinstance(key, mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey):
        raise CryptoFailure()
    shared, ciphertext = key.public_key().encapsulate()
    return shared, ciphertext


def decapsulate(private_der: bytes, ciphertext: bytes) -> bytes:
    """The shared secret inside an ML-KEM ciphertext; :class:`CryptoFailure` if it is not one for this key.

    ML-KEM decapsulation rejects implicitly: a well-sized but wrong ciphertext yields an unrelated
    secret rather than an error, exactly as FIPS 203 specifies (and as KMS does)."""
    key = _load_private(private_der)
    if not isinstance(key, mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey):
        raise CryptoFailure()
    try:
        return key.decapsulate(bytes(ciphertext))
    except Exception:
        raise CryptoFailure() from None


# --- HMAC --------------------------------------------------------------------------------------


def _mac(key: bytes, algorithm: str, message: bytes) -> hmac.HMAC:
    _known(algorithm, _MAC_HASHES, "MAC algorithm")
    h = hmac.HMAC(bytes(key), _MAC_HASHES[algorithm]())
    h.update(bytes(message))
    return h


def hmac_generate(key: bytes, algorithm: str, message: bytes) -> bytes:
    """The HMAC (HMAC_SHA_224/256/384/512) of ``message`` under ``key``."""
    return _mac(key, algorithm, message).finalize()


def hmac_verify(key: bytes, algorithm: str, message: bytes, mac: bytes) -> bool:
    """Whether ``mac`` is the HMAC of ``message`` under ``key``, compared in constant time."""
    try:
        _mac(key, algorithm, message).verify(bytes(mac))
    except InvalidSignature:
        return False
    return True


# --- key import (GetParametersForImport / ImportKeyMaterial) ------------------------------------


def wrap_key_material(wrapping_public_der: bytes, material: bytes, wrapping_algorithm: str) -> bytes:
    """Wrap key material for import as a client does (for tests and the tour).

    RSAES_OAEP_SHA_1/256: RSA-OAEP of the material itself. RSA_AES_KEY_WRAP_SHA_1/256: a fresh
    AES-256 key, RSA-OAEP-encrypted (as long as the RSA modulus), followed by the material under
    RFC 5649 AES key wrap with padding. ``ValueError`` if plain OAEP cannot hold the material.
    """
    _known(wrapping_algorithm, _WRAPPING_OAEP_HASH, "wrapping algorithm")
    key = _load_public(wrapping_public_der)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the wrapping key must be an RSA public key")
    hash_factory = _WRAPPING_OAEP_HASH[wrapping_algorithm]
    if wrapping_algorithm in _HYBRID_WRAPPING:
        ephemeral = os.urandom(SYMMETRIC_KEY_BYTES)
        return key.encrypt(ephemeral, _oaep(hash_factory)) + aes_key_wrap_with_padding(ephemeral, bytes(material))
    limit = _oaep_max_plaintext((key.key_size + 7) // 8, hash_factory)
    if len(material) > limit:
        raise ValueError(f"key material of {len(material)} bytes exceeds the {limit}-byte limit of {wrapping_algorithm}")
    return key.encrypt(bytes(material), _oaep(hash_factory))


def unwrap_key_material(wrapping_private_der: bytes, wrapped: bytes, wrapping_algorithm: str) -> bytes:
    """The key material inside a :func:`wrap_key_material` output; :class:`CryptoFailure` on any problem."""
    _known(wrapping_algorithm, _WRAPPING_OAEP_HASH, "wrapping algorithm")
    key = _load_private(wrapping_private_der)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CryptoFailure()
    oaep = _oaep(_WRAPPING_OAEP_HASH[wrapping_algorithm])
    try:
        wrapped = bytes(wrapped)
        if wrapping_algorithm not in _HYBRID_WRAPPING:
            return key.decrypt(wrapped, oaep)
        split = (key.key_size + 7) // 8
        if len(wrapped) <= split:
            raise CryptoFailure()
        ephemeral = key.decrypt(wrapped[:split], oaep)
        if len(ephemeral) != SYMMETRIC_KEY_BYTES:
            raise CryptoFailure()
        return aes_key_unwrap_with_padding(ephemeral, wrapped[split:])
    except Exception:
        raise CryptoFailure() from None
