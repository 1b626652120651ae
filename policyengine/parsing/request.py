"""Building ``Request`` and ``Grant`` models from plain values, as AWS would see the call.

The context gets the keys AWS sets for every call of this kind unless the caller gave them:
``aws:PrincipalArn``, ``aws:PrincipalAccount``, ``aws:PrincipalType``, ``aws:username`` (IAM
users), ``aws:PrincipalIsAWSService``/``aws:PrincipalServiceName`` (service principals),
``aws:ResourceAccount``, ``kms:CallerAccount`` (KMS actions), the encryption-context keys and
``kms:BypassPolicyLockoutSafetyCheck`` (IAM UG global condition keys; KMS DG condition keys).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from policyengine.aws_facts import ANONYMOUS, GRANT_OPERATIONS, PRINCIPAL_TYPES
from policyengine.errors import RequestError
from policyengine.model.policy import PolicyDocument
from policyengine.model.principal import PrincipalRef
from policyengine.model.request import ContextValue, Request
from policyengine.parsing.strings import classify_aws_principal, classify_principal, parse_arn

if TYPE_CHECKING:
    from policyengine.model.grant import Grant

#: Context key names as written -> lowercased (condition keys are case-insensitive); names repeat.
_LOWERED: dict[str, str] = {}


@lru_cache(maxsize=4096)
def classify_caller(principal: str) -> PrincipalRef:
    """The caller's kind: an IAM/STS ARN, an account, or a service principal (``x.amazonaws.com``)."""
    if principal == ANONYMOUS:
        return PrincipalRef.model_construct(kind="anonymous", text=principal)
    if principal.endswith((".amazonaws.com", ".amazonaws.com.cn", ".amazon.com")) and not principal.startswith("arn:"):
        ref = classify_principal("Service", principal)
    else:
        ref = classify_aws_principal(principal)
    if ref.kind in ("invalid", "any", "unique_id", "unknown"):
        why = ref.problem or f"`{principal}` is not a caller"
        raise RequestError(f"request principal: {why.removeprefix('principal ')}")
    return ref


def canonical_value(key: str, value: Any) -> ContextValue:
    """A context value in its canonical text form: booleans ``true``/``false``, numbers as written
    by ``str``, lists as tuples. Conditions compare these texts, so two values with one canonical
    form decide alike (``True`` and ``"true"``; not ``True`` and ``1``, although Python equates them)."""
    if type(value) is str:
        return value
    if type(value) is tuple and all(type(v) is str for v in value):
        return value  # already canonical: the form the snapshot's facts come in
    if isinstance(value, (list, tuple)):
        return tuple(_scalar(key, v) for v in value)
    return _scalar(key, value)


def _scalar(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise RequestError(f"context key `{key}`: values must be strings, numbers, booleans or lists of them")


def make_request(
    principal: str,
    action: str,
    resource: str,
    context: Mapping[str, Any] | None = None,
    *,
    identity_arn: str | None = None,
    principal_account: str | None = None,
    resource_account: str | None = None,
    encryption_context: Mapping[str, str] | None = None,
    grant_tokens: Iterable[str] = (),
    key_state: str | None = None,
    new_key_policy: PolicyDocument | None = None,
    bypass_policy_lockout_safety_check: bool = False,
    grant_id: str | None = None,
) -> Request:
    """A ``Request`` with the caller classified and the context AWS would send filled in."""
    if resource_account is None:
        parts = parse_arn(resource)
        if parts is not None and parts.account:
            resource_account = parts.account
    caller, identity_arn, principal_account, defaults = _who(
        principal, action, identity_arn, principal_account, resource_account, bypass_policy_lockout_safety_check
    )
    ctx = defaults.copy()
    if encryption_context:
        for key, value in encryption_context.items():
            ctx[f"kms:encryptioncontext:{key.lower()}"] = str(value)
        ctx["kms:encryptioncontextkeys"] = tuple(encryption_context)
    if context:
        lowered = _LOWERED
        for key, value in context.items():
            name = lowered.get(key)
            if name is None:
                name = key.lower()
                if len(lowered) < 16_384:
                    lowered[key] = name
            ctx[name] = value if type(value) is str else canonical_value(key, value)
    return Request(
        principal,
        caller,
        identity_arn,
        principal_account,
        resource_account,
        action,
        resource,
        ctx,
        dict(encryption_context) if encryption_context else {},
        tuple(grant_tokens) if grant_tokens else (),
        key_state,
        new_key_policy,
        bypass_policy_lockout_safety_check,
        grant_id,
    )


@lru_cache(maxsize=8192)
def _who(
    principal: str,
    action: str,
    identity_arn: str | None,
    principal_account: str | None,
    resource_account: str | None,
    bypass: bool,
) -> tuple[PrincipalRef, str | None, str | None, dict[str, ContextValue]]:
    """The classified caller, its identity ARN and account, and the context keys AWS derives (cached:
    callers and actions repeat across requests; keyed on plain strings, so the lookup is cheap)."""
    if ":" not in action or action.startswith(":") or action.endswith(":"):
        raise RequestError(f"request action `{action}` is not of the form `service:Action`")
    caller = classify_caller(principal)
    if identity_arn is None:
        if caller.kind == "assumed_role":
            identity_arn = caller.role_arn
        elif caller.kind in ("user", "role", "federated_user", "account"):
            identity_arn = caller.arn
    if principal_account is None:
        principal_account = caller.account
    lowered = action.lower()
    defaults = _default_context(
        caller, principal, identity_arn, principal_account, resource_account, lowered.partition(":")[0], lowered, bypass
    )
    return caller, identity_arn, principal_account, dict(defaults)


@lru_cache(maxsize=4096)
def _default_context(
    caller: PrincipalRef,
    principal: str,
    identity_arn: str | None,
    principal_account: str | None,
    resource_account: str | None,
    service: str,
    action_lower: str,
    bypass: bool,
) -> tuple[tuple[str, ContextValue], ...]:
    """The context keys AWS sets from who calls what (cached: callers and actions repeat)."""
    defaults: dict[str, ContextValue] = {}
    if caller.kind == "service":
        defaults["aws:principalisawsservice"] = "true"
        defaults["aws:principalservicename"] = caller.text
    elif caller.kind == "anonymous":
        defaults["aws:principaltype"] = PRINCIPAL_TYPES["anonymous"]
    else:
        defaults["aws:principalarn"] = identity_arn or principal
        if principal_account:
            defaults["aws:principalaccount"] = principal_account
        defaults["aws:principaltype"] = PRINCIPAL_TYPES.get(caller.kind, "AssumedRole")
        defaults["aws:principalisawsservice"] = "false"
        if caller.kind == "user" and caller.name:
            defaults["aws:username"] = caller.name
        if service == "kms" and principal_account:
            defaults["kms:calleraccount"] = principal_account
    if resource_account:
        defaults["aws:resourceaccount"] = resource_account
    if service == "kms" and action_lower in ("kms:putkeypolicy", "kms:createkey"):
        defaults["kms:bypasspolicylockoutsafetycheck"] = "true" if bypass else "false"
    return tuple(defaults.items())


def make_grant(
    grant_id: str,
    key_arn: str,
    grantee_principal: str,
    operations: Iterable[str],
    *,
    constraints: Mapping[str, Mapping[str, str]] | None = None,
    retiring_principal: str | None = None,
    name: str | None = None,
    grant_token: str | None = None,
    pending: bool = False,
    issuing_account: str | None = None,
) -> Grant:
    """A ``Grant`` with its grantee classified; unknown operations are a ``RequestError``."""
    from policyengine.model import exact_instance
    from policyengine.model.grant import Grant, GrantConstraints  # not loaded to make a request (lint's PE501)

    ops = tuple(operations)
    unknown = [op for op in ops if op not in GRANT_OPERATIONS]
    if unknown:
        raise RequestError(f"grant `{grant_id}`: `{unknown[0]}` is not a grant operation")
    if not ops:
        raise RequestError(f"grant `{grant_id}`: a grant needs at least one operation")
    grantee = classify_caller(grantee_principal)
    parsed_constraints = None
    if constraints:
        allowed = {"encryption_context_equals", "encryption_context_subset"}
        extra = set(constraints) - allowed
        if extra:
            raise RequestError(f"grant `{grant_id}`: unknown constraint `{sorted(extra)[0]}`")
        if len(constraints) > 1:
            raise RequestError(
                f"grant `{grant_id}`: give only one of `encryption_context_equals` and `encryption_context_subset`"
            )
        given = {k: dict(v) for k, v in constraints.items()}
        parsed_constraints = exact_instance(GrantConstraints, given) or GrantConstraints(**given)
    values: dict[str, Any] = {
        "grant_id": grant_id,
        "key_arn": key_arn,
        "grantee_principal": grantee_principal,
        "grantee": grantee,
        "operations": ops,
        "constraints": parsed_constraints,
        "retiring_principal": retiring_principal,
        "name": name,
        "grant_token": grant_token,
        "pending": pending,
        "issuing_account": issuing_account,
    }
    # Values already of their fields' exact types (the operations are known names, the grantee classified) make
    # the grant without building pydantic's validator: a snapshot's grants cost no pydantic import at start-up.
    texts = (grant_id, key_arn, grantee_principal)
    optional = (retiring_principal, name, grant_token, issuing_account)
    if all(type(v) is str for v in texts) and all(v is None or type(v) is str for v in optional) and type(pending) is bool:
        return Grant.model_construct(**values)
    return Grant(**values)
