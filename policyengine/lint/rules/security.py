"""Security rules: who outside the account, or outside AWS's control, can get in.

"Public" follows IAM Access Analyzer's no-public-access check: a wildcard principal is public
unless a condition pins it to specific accounts, organizations, source ARNs or network
endpoints; ``kms:ViaService`` alone does not (it names a service, not a caller).
"""

from __future__ import annotations

from collections.abc import Iterator

from policyengine.evaluator.operators import BadValue, Operator, find_operator
from policyengine.evaluator.patterns import action_matcher, resource_matcher
from policyengine.evaluator.restricting import RESTRICTING_KEYS, restricts
from policyengine.lint.finding import Finding, LintTarget
from policyengine.lint.registry import rule
from policyengine.lint.rules._util import account_guess, finding, is_public, is_unknown_account, statements
from policyengine.model.policy import Condition, Statement


def restricted(statement: Statement) -> bool:
    return any(restricts(c) for c in statement.conditions)


def _valid(operator: Operator, text: str) -> bool:
    try:
        operator.prepare(text)
    except BadValue:
        return False
    return True


def _fences(condition: Condition) -> bool:
    """A negated test of a restricting key against specific, valid values: in a Deny, it turns away everyone else.

    A value its operator cannot read (``NotIpAddress`` of ``10.0.0.0/33``) fences nobody: AWS's policy
    validation calls it an error ("Invalid condition data type"), and the evaluator never matches it, so a
    caller with any source address is not denied by it.
    """
    operator = find_operator(condition.base)
    if operator is None or not operator.negated or condition.qualifier is not None:
        return False
    return condition.key.lower() in RESTRICTING_KEYS and all(
        v.value not in ("*", "") and _valid(operator, v.value) for v in condition.values
    )


def fenced(allow: Statement, others: list[Statement]) -> bool:
    """A Deny to everyone covers the Allow's actions and resources and denies whoever a restricting key excludes.

    The data perimeter pattern (an Allow to ``*`` for some role names in any account, then "Deny unless
    aws:PrincipalOrgID is ours"): the Deny, not the Allow, limits who the caller is.
    """
    if allow.action is None or allow.resource is None:
        return False
    for deny in others:
        if deny.effect != "Deny" or not is_public(deny) or deny.action is None or deny.resource is None:
            continue
        if not deny.conditions or not all(_fences(c) for c in deny.conditions):
            continue
        actions = [action_matcher(a.value) for a in deny.action]
        resources = [resource_matcher(r.value) for r in deny.resource]
        if all(any(m(a.value.lower()) for m in actions) for a in allow.action) and all(
            any(m(r.value) for m in resources) for r in allow.resource
        ):
            return True
    return False


@rule(
    "PE401",
    "public-access",
    "security",
    "A wildcard principal with no condition that limits it to known accounts, organizations or networks: anyone "
    "with AWS credentials can use the key.",
    bad='{"Version": "2012-10-17", "Statement": [{"Sid": "Everyone", "Effect": "Allow", "Principal": "*", '
    '"Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}]}',
    good='{"Version": "2012-10-17", "Statement": [{"Sid": "OurOrg", "Effect": "Allow", "Principal": "*", '
    '"Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123def4"}}}]}',
    family="security",
    policy_types=("key", "resource", "trust"),
    security_severity=9.0,
    help_uri="https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html",
)
def public_access(target: LintTarget) -> Iterator[Finding]:
    if target.callers_checked_by is not None:
        return  # e.g. OpenSearch fine-grained access control: AWS recommends the open policy with it
    everything = list(statements(target))
    for statement in everything:
        if (
            statement.effect == "Allow"
            and is_public(statement)
            and not restricted(statement)
            and not fenced(statement, everything)
        ):
            block = statement.principal or statement.not_principal
            yield finding(
                target,
                "PE401",
                "security",
                f"statement {statement.label} allows any AWS principal: nothing in its conditions limits who the caller is",
                block.span if block else None,
                statement,
                suggestion="add a condition on aws:PrincipalOrgID, aws:PrincipalAccount or kms:CallerAccount",
            )


@rule(
    "PE402",
    "cross-account-access",
    "warning",
    "Principals from other accounts can use this key or resource; each account is listed so it can be reviewed.",
    bad='{"Version": "2012-10-17", "Statement": [{"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": '
    '"arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}, {"Sid": "Partner", "Effect": "Allow", '
    '"Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "kms:Decrypt", "Resource": "*"}]}',
    good='{"Version": "2012-10-17", "Statement": [{"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": '
    '"arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]}',
    family="security",
    policy_types=("key", "resource"),
    security_severity=5.0,
    help_uri="https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html",
)
def cross_account(target: LintTarget) -> Iterator[Finding]:
    mine, said = account_guess(target)
    if mine is None or is_unknown_account(mine):
        return
    for statement in statements(target):
        if statement.effect != "Allow" or statement.principal is None:
            continue
        for entry in statement.principal.entries:
            account = entry.ref.account
            if entry.kind == "AWS" and account and account != mine and not is_unknown_account(account):
                yield finding(
                    target,
                    "PE402",
                    "warning",
                    f"account {account} (not {mine}) is let in by `{entry.value}`"
                    if said
                    else f"account {account} is let in by `{entry.value}` (the policy names several accounts "
                    "equally often; at most one of them owns it)",
                    entry.span,
                    statement,
                )


@rule(
    "PE403",
    "service-principal-without-source",
    "security",
    "A service principal allowed without aws:SourceArn or aws:SourceAccount can be used by that service on behalf of "
    "any customer (the confused deputy).",
    bad='{"Version": "2012-10-17", "Statement": [{"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": '
    '"logs.us-east-1.amazonaws.com"}, "Action": "kms:GenerateDataKey", "Resource": "*"}]}',
    good='{"Version": "2012-10-17", "Statement": [{"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": '
    '"logs.us-east-1.amazonaws.com"}, "Action": "kms:GenerateDataKey", "Resource": "*", '
    '"Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}}]}',
    family="security",
    policy_types=("key", "resource"),
    security_severity=6.0,
    help_uri="https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html",
)
def service_without_source(target: LintTarget) -> Iterator[Finding]:
    keys = {"aws:sourcearn", "aws:sourceaccount", "aws:sourceorgid", "aws:sourceorgpaths", "kms:encryptioncontext:aws:logs:arn"}
    for statement in statements(target):
        if statement.effect != "Allow" or statement.principal is None:
            continue
        services = [e for e in statement.principal.entries if e.kind == "Service"]
        if services and not any(c.key.lower() in keys for c in statement.conditions):
            yield finding(
                target,
                "PE403",
                "security",
                f"service principal `{services[0].value}` is allowed without aws:SourceArn or aws:SourceAccount",
                services[0].span,
                statement,
                suggestion='add "Condition": {"StringEquals": {"aws:SourceAccount": "<your account>"}}',
            )


@rule(
    "PE404",
    "full-admin",
    "security",
    "`Allow` of every action on every resource in an identity policy.",
    bad='{"Version": "2012-10-17", "Statement": [{"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"}]}',
    good='{"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "kms:Describe*", '
    '"Resource": "*"}]}',
    family="security",
    policy_types=("identity", "boundary"),
    security_severity=8.0,
    help_uri="https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html",
)
def full_admin(target: LintTarget) -> Iterator[Finding]:
    for statement in statements(target):
        actions = [a.value for a in statement.action or ()]
        resources = [r.value for r in statement.resource or ()]
        if statement.effect == "Allow" and "*" in actions and "*" in resources and not statement.conditions:
            yield finding(
                target,
                "PE404",
                "security",
                f"statement {statement.label} allows every action on every resource",
                statement.span,
                statement,
            )


@rule(
    "PE405",
    "passrole-to-any-role",
    "security",
    "`iam:PassRole` on `*` lets the holder hand any role, however powerful, to a service it controls.",
    bad='{"Version": "2012-10-17", "Statement": [{"Sid": "Pass", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]}',
    good='{"Version": "2012-10-17", "Statement": [{"Sid": "Pass", "Effect": "Allow", "Action": "iam:PassRole", '
    '"Resource": "arn:aws:iam::111122223333:role/app-task-*", "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}}]}',
    family="security",
    policy_types=("identity", "boundary"),
    security_severity=8.0,
    help_uri="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html",
)
def passrole_to_any(target: LintTarget) -> Iterator[Finding]:
    from policyengine.evaluator.patterns import action_matcher

    for statement in statements(target):
        if statement.effect != "Allow" or statement.action is None or statement.conditions:
            continue
        if not any(action_matcher(a.value)("iam:passrole") for a in statement.action):
            continue
        if any(r.value == "*" for r in statement.resource or ()):
            item = next(a for a in statement.action if action_matcher(a.value)("iam:passrole"))
            yield finding(
                target,
                "PE405",
                "security",
                f"statement {statement.label} allows iam:PassRole on every role",
                item.span,
                statement,
                suggestion="name the roles in Resource and add iam:PassedToService",
            )


@rule(
    "PE406",
    "service-wide-wildcard",
    "warning",
    "`service:*` on every resource grants the whole service, including actions added later.",
    bad='{"Version": "2012-10-17", "Statement": [{"Sid": "S3", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}',
    good='{"Version": "2012-10-17", "Statement": [{"Sid": "S3", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], '
    '"Resource": "arn:aws:s3:::app-bucket/*"}]}',
    family="security",
    policy_types=("identity", "boundary"),
    help_uri="https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege",
)
def service_wide_wildcard(target: LintTarget) -> Iterator[Finding]:
    for statement in statements(target):
        if statement.effect != "Allow" or statement.action is None or statement.conditions:
            continue
        if not any(r.value == "*" for r in statement.resource or ()):
            continue
        for item in statement.action:
            service, _, name = item.value.partition(":")
            if name == "*" and service != "*":
                yield finding(
                    target,
                    "PE406",
                    "warning",
                    f"`{item.value}` on every resource grants all of `{service}`",
                    item.span,
                    statement,
                    suggestion="list the actions and resources the principal needs",
                )
