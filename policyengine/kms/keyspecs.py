"""Which key specs KMS offers, which usages each allows, and the algorithms each supports.

Kept as data (KMS Developer Guide, "Key spec reference"; CreateKey's KeyUsage parameter) so the
tables can move, as they are, to the module of AWS facts the facade and the server read.
"""

from __future__ import annotations

from policyengine.kms import _crypto

SYMMETRIC = "SYMMETRIC_DEFAULT"
RSA_SPECS = ("RSA_2048", "RSA_3072", "RSA_4096")
NIST_ECC_SPECS = ("ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521")
ECC_SPECS = (*NIST_ECC_SPECS, "ECC_SECG_P256K1")
ED25519 = "ECC_NIST_EDWARDS25519"
ML_DSA_SPECS = ("ML_DSA_44", "ML_DSA_65", "ML_DSA_87")
ML_KEM_SPECS = ("ML_KEM_512", "ML_KEM_768", "ML_KEM_1024")
HMAC_SPECS = ("HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512")
#: SM2 is AWS's too, but only in China Regions; a local KMS names no China Region.
SM2 = "SM2"
KEY_SPECS = (SYMMETRIC, *RSA_SPECS, *ECC_SPECS, ED25519, *ML_DSA_SPECS, *ML_KEM_SPECS, *HMAC_SPECS, SM2)
KEY_USAGES = ("ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT", "ENCAPSULATE_DECAPSULATE")
#: The specs the deprecated CustomerMasterKeySpec field can name (botocore's model); newer specs leave it out.
LEGACY_SPECS = (SYMMETRIC, *RSA_SPECS, *ECC_SPECS, *HMAC_SPECS, SM2)
ASYMMETRIC_SPECS = (*RSA_SPECS, *ECC_SPECS, ED25519, *ML_DSA_SPECS, *ML_KEM_SPECS)

#: Specs whose key material may be imported (Origin EXTERNAL): KMS DG, "Importing key material".
IMPORTABLE_SPECS = (SYMMETRIC, *RSA_SPECS, *ECC_SPECS, *HMAC_SPECS)
#: Specs AWS offers that this KMS cannot back with real cryptography, and why (CreateKey refuses them).
UNAVAILABLE_SPECS = {
    "ML_KEM_512": "policyengine cannot create ML_KEM_512 keys: the installed cryptography package "
    "implements ML-KEM-768 and ML-KEM-1024 only",
}

#: The usages each spec may be created with (CreateKey, KeyUsage).
USAGES: dict[str, tuple[str, ...]] = {SYMMETRIC: ("ENCRYPT_DECRYPT",)}
USAGES.update({spec: ("ENCRYPT_DECRYPT", "SIGN_VERIFY") for spec in RSA_SPECS})
USAGES.update({spec: ("SIGN_VERIFY", "KEY_AGREEMENT") for spec in NIST_ECC_SPECS})
USAGES["ECC_SECG_P256K1"] = ("SIGN_VERIFY",)
USAGES[ED25519] = ("SIGN_VERIFY",)
USAGES.update({spec: ("SIGN_VERIFY",) for spec in ML_DSA_SPECS})
USAGES.update({spec: ("ENCAPSULATE_DECAPSULATE",) for spec in ML_KEM_SPECS})
USAGES.update({spec: ("GENERATE_VERIFY_MAC",) for spec in HMAC_SPECS})
USAGES[SM2] = ("ENCRYPT_DECRYPT", "SIGN_VERIFY", "KEY_AGREEMENT")


def algorithms_metadata(key_spec: str, key_usage: str) -> dict[str, list[str]]:
    """The algorithm-list fields of KeyMetadata and GetPublicKey for a key of this spec and usage."""
    if key_usage == "ENCRYPT_DECRYPT":
        return {"EncryptionAlgorithms": list(_crypto.encryption_algorithms(key_spec))}
    if key_usage == "SIGN_VERIFY":
        return {"SigningAlgorithms": list(_crypto.signing_algorithms(key_spec))}
    if key_usage == "GENERATE_VERIFY_MAC":
        return {"MacAlgorithms": list(_crypto.mac_algorithms(key_spec))}
    if key_usage == "KEY_AGREEMENT":
        return {"KeyAgreementAlgorithms": list(_crypto.key_agreement_algorithms(key_spec))}
    if key_usage == "ENCAPSULATE_DECAPSULATE":
        return {"EncapsulationAlgorithms": list(_crypto.encapsulation_algorithms(key_spec))}
    return {}


def new_material(key_spec: str) -> bytes:
    """Fresh key material for a key of ``key_spec`` created with origin AWS_KMS
    (``_crypto.UnsupportedSpec`` for a spec the installed cryptography lacks)."""
    if key_spec == SYMMETRIC:
        return _crypto.generate_symmetric_key()
    if key_spec in HMAC_SPECS:
        return _crypto.generate_hmac_key(key_spec)
    return _crypto.generate_private_key(key_spec)
