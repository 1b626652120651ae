"""KMS rules: what matters in key policies and no general-purpose linter checks.

Lockout is checked the way KMS's own safety check does it, offline, with the evaluator: is there
still a principal who could call PutKeyPolicy? (API PutKeyPolicy, BypassPolicyLockoutSafetyCheck.)
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from functools import cache

from policyengine.evaluator.authorizer import PolicySet, authorize
from policyengine.evaluator.compiled import CompiledPolicy, compile_policy
from policyengine.evaluator.patterns import action_matcher
from policyengine.lint import catalog
from policyengine.lint.finding import Finding, LintTarget
from policyengine.lint.registry import rule
from policyengine.lint.rules._util import (
    conditions_on,
    finding,
    is_public,
    is_unknown_account,
    names_unknown,
    own_account,
    statements,
)
from policyengine.model import unknown
from policyengine.model.policy import PrincipalEntry, Statement
from policyengine.parsing.document import parse_policy_fast
from policyengine.parsing.request import make_request

_KEY_POLICIES = "https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html"
_ROOT = '{"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}'


def _key_policy(*statements_json: str) -> str:
    return '{"Version": "2012-10-17", "Statement": [' + ", ".join(statements_json) + "]}"


def _kms_actions(statement: Statement) -> set[str]:
    """Lowercased KMS action names a statement's Action element covers (NotAction: everything else)."""
    if statement.action is not None:
        return set().union(*(_kms_expansion(a.value) for a in statement.action))
    excluded = set().union(*(_kms_expansion(a.value) for a in statement.not_action or ()))
    return set(_kms_expansion("kms:*")) - excluded


@cache
def _kms_expansion(pattern: str) -> frozenset[str]:
    """The lowercased KMS action names one Action pattern matches."""
    matcher = action_matcher(pattern)
    return frozenset(n.lower() for n in catalog.actions("kms") if matcher(f"kms:{n}".lower()))


def _named_entries(statement: Statement) -> list[PrincipalEntry]:
    """The statement's AWS principals that name someone: not ``*``, not invalid, not unknown."""
    if statement.principal is None:
        return []
    return [e for e in statement.principal.entries if e.kind == "AWS" and e.ref.kind not in ("any", "invalid", "unknown")]


def _named_principals(statement: Statement) -> list[str]:
    return [e.value for e in _named_entries(statement)]


@rule(
    "PE501",
    "lockout-risk",
    "error",
    "No principal could call PutKeyPolicy under this policy: once in place, nobody could change it again "
    "(KMS's lockout safety check, run offline).",
    bad=_key_policy(
        '{"Sid": "Users", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, '
        '"Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*"}'
    ),
    good=_key_policy(_ROOT),
    family="kms",
    policy_types=("key",),
    security_severity=8.5,
    help_uri="https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-bypass-policy-lockout-safety-check",
)
def lockout_risk(target: LintTarget) -> Iterator[Finding]:
    document = target.document
    if document is None or target.authored_by_aws:
        return  # an AWS managed key's policy is AWS's to change, never the customer's (KMS DG, AWS managed keys)
    if any(s.effect == "Allow" and names_unknown(s) and "putkeypolicy" in _kms_actions(s) for s in document.statements):
        return  # a principal only the deployment knows may hold kms:PutKeyPolicy
    account = own_account(target) or "111122223333"
    key = f"arn:aws:kms:us-east-1:{account}:key/00000000-0000-0000-0000-000000000000"
    # Only statements whose Action/NotAction take in kms:PutKeyPolicy can decide a PutKeyPolicy request (the
    # evaluator tests the action before anything else), so the rest need not be compiled.
    relevant = tuple(s for s in document.statements if _may_put_key_policy(s))
    compiled = compile_policy(document.model_copy(update={"statements": relevant}), "key_policy", target.source)
    everything = _allow_all()
    root = f"arn:aws:iam::{account}:root"
    candidates = {root}
    for statement in document.statements:
        candidates.update(p for p in _named_principals(statement) if not p.isdigit())
    # The root first (the usual answer), then whoever a statement that may allow PutKeyPolicy names, then the
    # rest: the order only changes how soon an allowed principal is found, never whether one is.
    allowing = {p for s in relevant if s.effect == "Allow" for p in _named_principals(s)}
    by_index = {s.index: s for s in relevant}
    ordered = sorted(candidates, key=lambda p: (p != root, p not in allowing, p))
    policies = PolicySet(key_policy=compiled, identity=(everything,))
    if any(_someone_may_put(ordered, key, context, policies, by_index) for context in _request_contexts(relevant)):
        return
    yield finding(
        target,
        "PE501",
        "error",
        "no principal can call kms:PutKeyPolicy under this policy; it would lock "
        "everyone out of the key (AWS rejects it unless BypassPolicyLockoutSafetyCheck is set)",
        document.span,
        suggestion="keep a statement that lets the account root (or a key administrator) call kms:PutKeyPolicy",
    )


def _someone_may_put(
    ordered: list[str], key: str, context: dict[str, str], policies: PolicySet, by_index: dict[int, Statement]
) -> bool:
    """Whether one of the candidate principals may call PutKeyPolicy on the key in this request context."""
    for principal in ordered:
        try:
            request = make_request(principal, "kms:PutKeyPolicy", key, context)
        except Exception:
            continue
        decision = authorize(request, policies)
        if decision.allowed:
            return True
        if any(
            ref.policy_kind == "key_policy" and ref.effect == "Deny" and _denies_every_caller(by_index[ref.index])
            for ref in decision.deciding
            if ref.index in by_index
        ):
            return False  # a Deny that turns this caller away turns every other candidate away too
    return False


#: How many request contexts the lockout check tries at most (each is one pass over the candidates, and only
#: a policy that refuses every caller in the first context gets a second).
_MOST_CONTEXTS = 24


def _request_contexts(relevant: tuple[Statement, ...]) -> Iterator[dict[str, str]]:
    """The request contexts a PutKeyPolicy call may come with: TLS alone first, then values the policy itself names.

    KMS's safety check judges the calling request, whose source address, VPC endpoint, tags and so on the
    linter does not know. A key policy that lets administrators in only from the corporate network
    (``Deny`` with ``NotIpAddress aws:SourceIp``) locks out nobody: a call from inside that network passes.
    So a policy is a lockout only if no caller may call PutKeyPolicy in any of these contexts: one value
    the conditions name for each key in turn, then all of them together. Keys that say who the caller is
    come from the candidate principal, never from here.
    """
    base = {"aws:SecureTransport": "true"}
    yield base
    named: dict[str, list[str]] = {}
    for statement in relevant:
        for condition in statement.conditions:
            lowered = condition.key.lower()
            if lowered.startswith(_CALLER_KEYS) or lowered in base:
                continue
            for value in condition.values:
                witness = _value_that_matches(condition.base, value.value)
                if witness is not None and witness not in named.setdefault(condition.key, []):
                    named[condition.key].append(witness)
    contexts = [{**base, condition_key: value} for condition_key, values in named.items() for value in values]
    if len(named) > 1:
        contexts.append({**base, **{condition_key: values[0] for condition_key, values in named.items()}})
    yield from contexts[: _MOST_CONTEXTS - 1]


def _value_that_matches(operator: str, written: str) -> str | None:
    """A request value the condition's written value matches (or, for a Not operator, fails to match)."""
    if "${" in written:
        return None  # a policy variable: its value is the caller's, not something to choose
    if operator.lower() in ("ipaddress", "notipaddress"):
        try:
            return str(ipaddress.ip_network(written, strict=False).network_address)
        except ValueError:
            return None
    if operator.lower().endswith("like"):
        return written.replace("*", "x").replace("?", "x")
    return written


#: Request context keys the lockout check's requests get from their caller (``make_request``); a condition on
#: any other key reads the same value, or the same absence, for every candidate principal.
_CALLER_KEYS = ("aws:principal", "aws:username", "aws:userid", "kms:calleraccount", "aws:sourceidentity")


def _denies_every_caller(statement: Statement) -> bool:
    """A Deny to everyone whose resource and conditions read nothing about the caller: when it denies one
    candidate's PutKeyPolicy request it denies them all (they differ only in who calls)."""
    if statement.principal is None or not is_public(statement):
        return False
    resources = statement.resource if statement.resource is not None else statement.not_resource or ()
    if any("${" in r.value for r in resources):
        return False
    return not any(c.key.lower().startswith(_CALLER_KEYS) or any("${" in v.value for v in c.values) for c in statement.conditions)


def _may_put_key_policy(statement: Statement) -> bool:
    """Whether the statement's Action (or NotAction) element covers kms:PutKeyPolicy, as the evaluator tests it."""
    if statement.action is not None:
        return any(action_matcher(a.value)("kms:putkeypolicy") for a in statement.action)
    return not any(action_matcher(a.value)("kms:putkeypolicy") for a in statement.not_action or ())


@cache
def _allow_all() -> CompiledPolicy:
    """An identity policy allowing everything (compiled once: the evaluator never changes it)."""
    document = parse_policy_fast('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}')
    return compile_policy(document, "identity", "any IAM policy")


@rule(
    "PE502",
    "kms-star-to-principal",
    "security",
    "`kms:*` to anything but the account gives that principal full control: it can re-policy and delete the key.",
    bad=_key_policy(
        _ROOT,
        '{"Sid": "App", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, '
        '"Action": "kms:*", "Resource": "*"}',
    ),
    good=_key_policy(
        _ROOT,
        '{"Sid": "App", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, '
        '"Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*"}',
    ),
    family="kms",
    policy_types=("key",),
    security_severity=7.0,
    help_uri=_KEY_POLICIES,
)
def kms_star(target: LintTarget) -> Iterator[Finding]:
    for statement in statements(target):
        if statement.effect != "Allow" or statement.action is None:
            continue
        star = next((a for a in statement.action if a.value.lower() in ("kms:*", "*")), None)
        if star is None:
            continue
        if (
            statement.principal is not None
            and all(e.ref.kind in ("account", "unknown") for e in statement.principal.entries)
            and not statement.principal.wildcard
        ):
            continue  # the account (or a principal only the deployment knows, which may be it)
        yield finding(
            target,
            "PE502",
            "security",
            f"statement {statement.label} gives `{star.value}` to a principal that is not an account",
            star.span,
            statement,
            suggestion="grant only the actions this principal needs (key users: Encrypt, Decrypt, ...)",
        )


@rule(
    "PE503",
    "admin-can-use-key",
    "warning",
    "Separation of duties: the same principal can manage the key (policy, deletion) and use it for cryptography.",
    bad=_key_policy(
        _ROOT,
        '{"Sid": "Ops", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/Ops"}, '
        '"Action": ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:Decrypt"], "Resource": "*"}',
    ),
    good=_key_policy(
        _ROOT,
        '{"Sid": "Ops", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/Ops"}, '
        '"Action": ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"], "Resource": "*"}',
    ),
    family="kms",
    policy_types=("key",),
    help_uri="https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html",
)
def admin_can_use(target: LintTarget) -> Iterator[Finding]:
    management: dict[str, set[str]] = {}
    crypto: dict[str, set[str]] = {}
    spans: dict[str, Statement] = {}
    for statement in statements(target):
        if statement.effect != "Allow":
            continue
        actions = _kms_actions(statement)
        for entry in _named_entries(statement):
            if entry.ref.kind == "account":  # the account in any spelling (root ARN, id, !Ref AWS::AccountId)
                continue
            principal = entry.value
            management.setdefault(principal, set()).update(actions & catalog.KMS_MANAGEMENT)
            crypto.setdefault(principal, set()).update(actions & catalog.KMS_CRYPTO)
            spans.setdefault(principal, statement)
    for principal in sorted(management):
        if management[principal] and crypto.get(principal) and "kms:*" not in principal:
            statement = spans[principal]
            yield finding(
                target,
                "PE503",
                "warning",
                f"`{principal}` can both administer the key "
                f"({sorted(management[principal])[0]}, ...) and use it ({sorted(crypto[principal])[0]}, ...)",
                statement.span,
                statement,
            )


@rule(
    "PE504",
    "create-grant-unconditioned",
    "warning",
    "kms:CreateGrant without `kms:GrantIsForAWSResource` lets the principal hand its access to anyone.",
    bad=_key_policy(
        _ROOT,
        '{"Sid": "Grants", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, '
        '"Action": "kms:CreateGrant", "Resource": "*"}',
    ),
    good=_key_policy(
        _ROOT,
        '{"Sid": "Grants", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, '
        '"Action": "kms:CreateGrant", "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}',
    ),
    family="kms",
    policy_types=("key", "identity"),
    security_severity=5.5,
    help_uri="https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-grant-is-for-aws-resource",
)
def create_grant(target: LintTarget) -> Iterator[Finding]:
    guards = ("kms:grantisforawsresource", "kms:granteeprincipal", "kms:grantoperations", "kms:viaservice")
    for statement in statements(target):
        actions = _kms_actions(statement)
        if statement.effect != "Allow" or "creategrant" not in actions:
            continue
        named = _named_entries(statement)
        if (named or names_unknown(statement)) and all(e.ref.kind == "account" for e in named) and not is_public(statement):
            continue  # the account itself (or principals only the deployment knows)
        entries = statement.principal.entries if statement.principal is not None else ()
        if entries and all(e.kind == "Service" or _SERVICE_LINKED_ROLE.search(e.value) for e in entries):
            continue  # an AWS service (or its service-linked role) makes grants for its own use; PE403 covers the deputy
        if statement.action is not None and any(a.value in ("*", "kms:*") for a in statement.action):
            continue  # PE502 reports kms:* already
        if any(c.key.lower() in guards for c in statement.conditions):
            continue
        items = [a for a in statement.action or () if action_matcher(a.value)("kms:creategrant")]
        if _key_administrators(actions, [a.value for a in items]):
            yield finding(
                target,
                "PE504",
                "suggestion",
                f"`{items[0].value}` in the key administrators' statement {statement.label} also allows kms:CreateGrant",
                items[0].span,
                statement,
                suggestion=f"if the administrators need no grants, list kms:CreateAlias instead of `{items[0].value}` "
                "(a condition on kms:GrantIsForAWSResource would also restrict CreateAlias)",
            )
            continue
        item = items[0] if items else None
        yield finding(
            target,
            "PE504",
            "warning",
            f"statement {statement.label} allows kms:CreateGrant with no condition on who the grant is for",
            item.span if item else statement.span,
            statement,
            suggestion='add "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}',
        )


_SERVICE_LINKED_ROLE = re.compile(r":role/aws-service-role/")


def _key_administrators(actions: set[str], grant_patterns: list[str]) -> bool:
    """AWS's key administrators statement: management without cryptography, CreateGrant only by a wildcard.

    The console's default key policy gives administrators ``kms:Create*``, ``kms:Enable*``, ...
    (KMS DG, "Default key policy: allows key administrators to administer the KMS key"); there
    ``kms:Create*`` is what lets them call CreateAlias, and CreateGrant rides along with it.
    """
    wildcard_only = bool(grant_patterns) and all("*" in p or "?" in p for p in grant_patterns)
    return wildcard_only and bool(actions & catalog.KMS_MANAGEMENT) and not actions & catalog.KMS_CRYPTO


_VIA_SERVICE = re.compile(r"^[a-z0-9-]+\.[a-z]{2}(-[a-z]+)+-\d\.amazonaws\.com(\.cn)?$")


@rule(
    "PE505",
    "malformed-via-service",
    "error",
    "`kms:ViaService` values are `<service>.<region>.amazonaws.com`; anything else never matches.",
    bad=_key_policy(
        _ROOT,
        '{"Sid": "S3", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", '
        '"Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": "s3.amazonaws.com", '
        '"kms:CallerAccount": "111122223333"}}}',
    ),
    good=_key_policy(
        _ROOT,
        '{"Sid": "S3", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", '
        '"Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com", '
        '"kms:CallerAccount": "111122223333"}}}',
    ),
    family="kms",
    help_uri="https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service",
)
def via_service(target: LintTarget) -> Iterator[Finding]:
    for statement in statements(target):
        for condition in conditions_on(statement, "kms:ViaService"):
            glob = "Like" in condition.base
            for value in condition.values:
                sample = unknown.example(value.value)
                if sample is None:
                    continue  # a value only the deployment knows
                text = sample
                if glob and ("*" in text or "?" in text):
                    probe = text.replace("*", "x").replace("?", "x")
                    ok = _VIA_SERVICE.match(probe.replace("x.amazonaws", "us-east-1.amazonaws")) or _VIA_SERVICE.match(probe)
                else:
                    ok = _VIA_SERVICE.match(text)
                if not ok:
                    yield finding(
                        target,
                        "PE505",
                        "error",
                        f"`{text}` is not of the form <service>.<region>.amazonaws.com",
                        value.span,
                        statement,
                        suggestion="for example s3.us-east-1.amazonaws.com",
                    )


@rule(
    "PE506",
    "key-policy-resource-not-star",
    "warning",
    "In a key policy `Resource` should be `*` (this key); a statement naming other ARNs never applies to this key.",
    bad=_key_policy(
        '{"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, '
        '"Action": "kms:*", "Resource": "arn:aws:kms:us-east-1:111122223333:key/other"}'
    ),
    good=_key_policy(_ROOT),
    family="kms",
    policy_types=("key",),
    help_uri=_KEY_POLICIES,
)
def resource_not_star(target: LintTarget) -> Iterator[Finding]:
    for statement in statements(target):
        for item in (*(statement.resource or ()), *(statement.not_resource or ())):
            if item.value != "*":
                yield finding(
                    target, "PE506", "warning", f'`{item.value}`: in a key policy write `"Resource": "*"`', item.span, statement
                )


@rule(
    "PE507",
    "management-cross-account",
    "warning",
    "Key-management operations cannot be used across accounts; granting them to another account does nothing.",
    bad=_key_policy(
        _ROOT,
        '{"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, '
        '"Action": ["kms:Decrypt", "kms:ScheduleKeyDeletion"], "Resource": "*"}',
    ),
    good=_key_policy(
        _ROOT,
        '{"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, '
        '"Action": ["kms:Decrypt"], "Resource": "*"}',
    ),
    family="kms",
    policy_types=("key",),
    help_uri="https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html",
)
def management_cross_account(target: LintTarget) -> Iterator[Finding]:
    from policyengine.aws_facts import CROSS_ACCOUNT_OPERATIONS

    mine = own_account(target)
    for statement in statements(target):
        if statement.effect != "Allow" or statement.principal is None or statement.action is None:
            continue
        external = {
            e.ref.account
            for e in statement.principal.entries
            if e.ref.account and e.ref.account != mine and not is_unknown_account(e.ref.account)
        }
        if not external or mine is None or is_unknown_account(mine):
            continue
        explicit = [
            a
            for a in statement.action
            if "*" not in a.value
            and a.value.lower().startswith("kms:")
            and a.value.lower()[4:] not in CROSS_ACCOUNT_OPERATIONS
            and a.value.lower()[4:] in {n.lower() for n in catalog.actions("kms")}
        ]
        for item in explicit:
            yield finding(
                target,
                "PE507",
                "warning",
                f"`{item.value}` cannot be used from account {sorted(external)[0]}: it is not a cross-account operation",
                item.span,
                statement,
            )


@rule(
    "PE508",
    "encryption-context-non-string-operator",
    "error",
    "Encryption context values are strings; numeric, date, Boolean, IP and ARN operators never match them.",
    bad=_key_policy(
        _ROOT,
        '{"Sid": "Ctx", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, '
        '"Action": "kms:Decrypt", "Resource": "*", "Condition": {"NumericEquals": {"kms:EncryptionContext:tenant": "42"}}}',
    ),
    good=_key_policy(
        _ROOT,
        '{"Sid": "Ctx", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, '
        '"Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "42"}}}',
    ),
    family="kms",
    help_uri="https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context",
)
def context_operator(target: LintTarget) -> Iterator[Finding]:
    from policyengine.evaluator.operators import find_operator

    for statement in statements(target):
        for condition in statement.conditions:
            if not condition.key.lower().startswith("kms:encryptioncontext"):
                continue
            operator = find_operator(condition.base)
            if operator is not None and operator.kind not in ("string", "null", "arn"):
                yield finding(
                    target,
                    "PE508",
                    "error",
                    f"`{condition.operator}` on `{condition.key}`: encryption context values are strings",
                    condition.operator_span,
                    statement,
                    suggestion=f"use StringEquals (or StringLike) on {condition.key}",
                )


@rule(
    "PE509",
    "no-account-statement",
    "warning",
    "No statement lets the key's own account in, so IAM policies cannot grant access to this key and even the root user "
    "is locked out of what the policy does not name.",
    bad=_key_policy(
        '{"Sid": "Admins", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/KeyAdmin"}, '
        '"Action": "kms:*", "Resource": "*"}'
    ),
    good=_key_policy(_ROOT),
    family="kms",
    policy_types=("key",),
    help_uri="https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam",
)
def no_account_statement(target: LintTarget) -> Iterator[Finding]:
    document = target.document
    if document is None or not document.statements:
        return
    mine = own_account(target)
    for statement in document.statements:
        if statement.effect == "Allow" and names_unknown(statement):
            return  # a principal only the deployment knows may be the account
        if (
            statement.effect == "Allow"
            and statement.principal is not None
            and any(e.ref.kind == "account" and (mine is None or e.ref.account == mine) for e in statement.principal.entries)
        ):
            return
    yield finding(
        target,
        "PE509",
        "warning",
        "no statement names the key's account (arn:aws:iam::ACCOUNT:root): IAM policies cannot grant access to this key",
        document.span,
        suggestion="add the default `Enable IAM User Permissions` statement if IAM should be able to delegate",
    )
