"""Which grants allow a request (KMS DG, "Grants in AWS KMS"; API GrantConstraints).

Grants only ever allow. A grant applies when it is on the requested key, names the caller as
grantee (a role grantee covers the role's sessions), lists the operation, and its constraint
holds; a grant that is not yet consistent counts only for a request carrying its token.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from policyengine.aws_facts import CONTEXT_OPERATIONS
from policyengine.evaluator.kms_rules import grant_operation
from policyengine.model.principal import PrincipalRef
from policyengine.model.request import Request

if TYPE_CHECKING:
    from policyengine.model.grant import Grant  # annotations only: the evaluator runs without loading grants


def grantee_is_caller(grantee: PrincipalRef, caller: PrincipalRef) -> bool:
    """Does a grant's grantee principal name this caller? A service principal has no account:
    it is named by its service name (``list-grants`` shows ``rds.us-east-1.amazonaws.com``)."""
    if grantee.kind == "service" or caller.kind == "service":
        return grantee.kind == caller.kind and grantee.text.lower() == caller.text.lower()
    if grantee.account != caller.account or grantee.partition != caller.partition:
        return False
    if grantee.kind == "role":
        return caller.kind in ("assumed_role", "role") and grantee.name == caller.name
    if grantee.kind == "assumed_role":
        return caller.kind == "assumed_role" and grantee.name == caller.name and grantee.session == caller.session
    if grantee.kind in ("user", "federated_user"):
        return caller.kind == grantee.kind and grantee.name == caller.name
    if grantee.kind == "account":
        return caller.kind == "account"
    return False


def _lower_keys(mapping: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in mapping.items()}


def constraints_hold(grant: Grant, operation: str, context: Mapping[str, str]) -> bool:
    """Encryption-context constraints: keys case-insensitive, values case-sensitive."""
    constraints = grant.constraints
    if constraints is None or operation not in CONTEXT_OPERATIONS:
        return True
    request = _lower_keys(context)
    if constraints.encryption_context_equals is not None:
        return request == _lower_keys(constraints.encryption_context_equals)
    if constraints.encryption_context_subset is not None:
        wanted = _lower_keys(constraints.encryption_context_subset)
        return all(request.get(k) == v for k, v in wanted.items())
    return True


def retirement_grant(grants: Iterable[Grant], request: Request) -> Grant | None:
    """For RetireGrant of ``request.grant_id``: the grant, when the caller may retire it by the grant alone.

    The retiring principal may retire a grant, and so may its grantee when the grant allows
    RetireGrant (API RetireGrant; KMS DG "Retiring and revoking grants"). The account that
    created the grant retires it through its key policy and IAM policies, the normal path.
    """
    if request.grant_id is None:
        return None
    for grant in grants:
        if grant.grant_id != request.grant_id or grant.key_arn != request.resource:
            continue
        if grant.retiring_principal is not None and grant.retiring_principal in (request.principal, request.identity_arn):
            return grant
        if "RetireGrant" in grant.operations and grantee_is_caller(grant.grantee, request.caller):
            return grant
    return None


def matching_grants(grants: Iterable[Grant], request: Request) -> list[Grant]:
    """The grants that allow ``request``."""
    operation = grant_operation(request)
    if operation == "RetireGrant" and request.grant_id is not None:
        retiring = retirement_grant(grants, request)
        return [retiring] if retiring is not None else []
    found: list[Grant] = []
    for grant in grants:
        if grant.key_arn != request.resource or operation not in grant.operations:
            continue
        if not grantee_is_caller(grant.grantee, request.caller):
            continue
        if grant.pending and (grant.grant_token is None or grant.grant_token not in request.grant_tokens):
            continue
        if not constraints_hold(grant, operation, request.encryption_context):
            continue
        found.append(grant)
    return found
