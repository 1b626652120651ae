"""Which key specs KMS offers, which usages each allows, and the algorithms each supports."""

from __future__ import annotations

from policyengine.kms import _crypto

SYMMETRIC = "SYMMETRIC_DEFAULT"
RSA_SPECS = ("RSA_2048", "RSA_3072", "RSA_4096")
ECC_SPECS = ("ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1")
HMAC_SPECS = ("HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512")
KEY_SPECS = (SYMMETRIC, *RSA_SPECS, *ECC_SPECS, *HMAC_SPECS)
KEY_USAGES = ("ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT")

#: The usages each spec may be created with (KMS DG, "Key spec reference").
USAGES: dict[str, tuple[str, ...]] = {SYMMETRIC: ("ENCRYPT_DECRYPT",)}
USAGES.update({spec: ("ENCRYPT_DECRYPT", "SIGN_VERIFY") for spec in RSA_SPECS})
USAGES.update({spec: ("SIGN_VERIFY", "KEY_AGREEMENT") for spec in ECC_SPECS})
USAGES.update({spec: ("GENERATE_VERIFY_MAC",) for spec in HMAC_SPECS})


def algorithms_metadata(key_spec: str, key_usage: str) -> dict[str, list[str]]:
    """The ``EncryptionAlgorithms``/``SigningAlgorithms``/``MacAlgorithms`` fields of KeyMetadata."""
    if key_usage == "ENCRYPT_DECRYPT":
        return {"EncryptionAlgorithms": list(_crypto.encryption_algorithms(key_spec))}
    if key_usage == "SIGN_VERIFY":
        return {"SigningAlgorithms": list(_crypto.signing_algorithms(key_spec))}
    if key_usage == "GENERATE_VERIFY_MAC":
        return {"MacAlgorithms": list(_crypto.mac_algorithms(key_spec))}
    return {}


def new_material(key_spec: str) -> bytes:
    """Fresh key material for a key of ``key_spec`` created with origin AWS_KMS."""
    if key_spec == SYMMETRIC:
        return _crypto.generate_symmetric_key()
    if key_spec in HMAC_SPECS:
        return _crypto.generate_hmac_key(key_spec)
    return _crypto.generate_private_key(key_spec)
