"""Which conditions pin who a wildcard principal can be: the linter's public-access rules and the
offline no-public-access check judge "public" by the same test.

"Public" follows IAM Access Analyzer's no-public-access check: a wildcard principal is public
unless a condition pins it to specific accounts, organizations, source ARNs or network
endpoints; ``kms:ViaService`` alone does not (it names a service, not a caller).
"""

from __future__ import annotations

from policyengine.evaluator.operators import find_operator
from policyengine.model.policy import Condition

__all__ = ["RESTRICTING_KEYS", "restricts"]

#: Condition keys that, tested for specific values, keep a wildcard principal from being public.
RESTRICTING_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:userid",
        "kms:CallerAccount",
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:SourceOwner",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:SourceVpce",
        "aws:SourceVpc",
        "aws:SourceIp",
        "aws:ResourceOrgID",
        "aws:PrincipalServiceName",
        "kms:GranteePrincipal",
    )
)


def restricts(condition: Condition) -> bool:
    """A positive test of a restricting key against specific (wildcard-free) values."""
    operator = find_operator(condition.base)
    if operator is None or operator.negated or condition.if_exists or condition.qualifier == "ForAllValues":
        return False
    if condition.key.lower() == "aws:principalisawsservice":
        # Only AWS service principals can be true here, never an IAM user or role of another account
        # (IAM UG, global condition keys: aws:PrincipalIsAWSService); data perimeter endpoint policies use it.
        return operator.kind == "bool" and bool(condition.values) and all(v.value.lower() == "true" for v in condition.values)
    if condition.key.lower() not in RESTRICTING_KEYS or operator.kind == "null":
        return False
    return all(
        v.value not in ("*", "") and (not operator.glob or (v.value.strip("*?") and "*" not in v.value.split(":")[4:5]))
        for v in condition.values
    )
