"""Ed25519ph (RFC 8032, section 5.1, HashEdDSA with SHA-512 and an empty context), in plain integers.

Why it exists: AWS KMS signs ``ED25519_PH_SHA_512`` with Ed25519ph, and the ``cryptography``
package offers only pure Ed25519. Only ``_crypto`` calls this module, with the 32-byte seed of a
key ``cryptography`` generated and the 32-byte public key it derived; the public key is checked
against the seed here, so a mismatched pair cannot produce a signature.

Not constant-time: the local KMS is a test double, and the seed never leaves its store. The
arithmetic follows RFC 8032's reference formulas (extended twisted-Edwards coordinates), and
the tests pin it to RFC 8032's section 7.3 vector.
"""

from __future__ import annotations

import hashlib

__all__ = ["prehash", "sign_prehashed", "verify_prehashed"]

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
#: dom2(phflag=1, context=""): what makes Ed25519ph signatures differ from pure Ed25519 ones.
_DOM2 = b"SigEd25519 no Ed25519 collisions" + bytes((1, 0))

_Point = tuple[int, int, int, int]


def _add(p: _Point, q: _Point) -> _Point:
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _multiply(scalar: int, point: _Point) -> _Point:
    result: _Point = (0, 1, 1, 0)
    while scalar > 0:
        if scalar & 1:
            result = _add(result, point)
        point = _add(point, point)
        scalar >>= 1
    return result


def _equal(p: _Point, q: _Point) -> bool:
    return (p[0] * q[2] - q[0] * p[2]) % _P == 0 and (p[1] * q[2] - q[1] * p[2]) % _P == 0


def _recover_x(y: int, sign: int) -> int | None:
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P != 0:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


_GY = 4 * pow(5, _P - 2, _P) % _P
_GX = _recover_x(_GY, 0) or 0
_G: _Point = (_GX, _GY, 1, _GX * _GY % _P)


def _compress(p: _Point) -> bytes:
    z_inverse = pow(p[2], _P - 2, _P)
    x, y = p[0] * z_inverse % _P, p[1] * z_inverse % _P
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")


def _decompress(raw: bytes) -> _Point | None:
    if len(raw) != 32:
        return None
    y = int.from_bytes(raw, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % _P)


def _hash_int(*parts: bytes) -> int:
    return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little")


def _expand(seed: bytes) -> tuple[int, bytes]:
    digest = hashlib.sha512(seed).digest()
    scalar = int.from_bytes(digest[:32], "little")
    scalar &= (1 << 254) - 8
    scalar |= 1 << 254
    return scalar, digest[32:]


def prehash(message: bytes) -> bytes:
    """PH(M) of Ed25519ph: SHA-512 of the message (what a DIGEST message must already be)."""
    return hashlib.sha512(message).digest()


def sign_prehashed(seed: bytes, public_key: bytes, digest: bytes) -> bytes:
    """The 64-byte Ed25519ph signature of the SHA-512 ``digest`` under the key with this seed."""
    if len(seed) != 32 or len(digest) != 64:
        raise ValueError("Ed25519ph needs a 32-byte seed and a 64-byte SHA-512 digest")
    scalar, prefix = _expand(seed)
    if _compress(_multiply(scalar, _G)) != public_key:
        raise ValueError("the Ed25519 public key does not belong to the seed")
    r = _hash_int(_DOM2, prefix, digest) % _L
    encoded_r = _compress(_multiply(r, _G))
    k = _hash_int(_DOM2, encoded_r, public_key, digest) % _L
    s = (r + k * scalar) % _L
    return encoded_r + int.to_bytes(s, 32, "little")


def verify_prehashed(public_key: bytes, digest: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is a valid Ed25519ph signature of ``digest`` (cofactorless check)."""
    sizes = (len(signature), len(digest))  # lengths are public
    if sizes != (64, 64):
        return False
    point_a = _decompress(public_key)
    point_r = _decompress(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if point_a is None or point_r is None or s >= _L:
        return False
    k = _hash_int(_DOM2, signature[:32], public_key, digest) % _L
    return _equal(_multiply(s, _G), _add(point_r, _multiply(k, point_a)))
