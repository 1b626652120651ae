"""When two callers must get the same answer on a key: a memo key for answers.

Roles and users made from the same templates are the rule in real estates: the same managed
policies, the same boundary, in the same account, admitted by the key policy the same way
(usually through the account). Such callers get identical answers unless a policy reads who
exactly is asking: a condition or policy variable on ``aws:PrincipalArn``, ``aws:username``,
``aws:userid`` or a principal tag. So the memo key is everything that can differ between them:
kind, account, the identity policies and boundary (by identity), how each key-policy statement
names the caller, which grants name it, the service-linked-role path, and the values of any
caller-identifying key the policies read. With all of that equal, ``authorize`` sees the same
facts, so reusing an answer is exact; ``None`` (no memo) whenever the caller is not a plain
snapshot user or role, or a NotPrincipal makes "how the policy names the caller" subtler.
"""

from __future__ import annotations

from policyengine.access.subjects import Subject
from policyengine.access.world import AccountInfo, KeyInfo, Principal
from policyengine.engine import referenced_keys
from policyengine.evaluator.authorizer import PolicySet
from policyengine.evaluator.compiled import CompiledPolicy
from policyengine.evaluator.principals import principal_matches

_WHO = ("aws:principalarn", "aws:username", "aws:userid")


class Sameness:
    """Memo keys for (caller, key) pairs; the per-policy facts it needs are computed once."""

    def __init__(self) -> None:
        self._refs: dict[int, tuple[CompiledPolicy, frozenset[str]]] = {}
        self._no_memo: dict[int, bool] = {}

    def _referenced(self, policy: CompiledPolicy) -> frozenset[str]:
        found = self._refs.get(id(policy))
        if found is not None and found[0] is policy:
            return found[1]
        keys = frozenset(
            k for k in referenced_keys(PolicySet(identity=(policy,))) if k in _WHO or k.startswith("aws:principaltag/")
        )
        self._refs[id(policy)] = (policy, keys)
        return keys

    def key(
        self, subject: Subject, key: KeyInfo, account: AccountInfo | None, rcps: AccountInfo | None
    ) -> tuple[object, ...] | None:
        """The memo key of ``subject``'s requests on ``key``."""
        principal = subject.principal
        if principal is None:
            return None
        grants = tuple(
            g.grant_id for g in key.grants if g.grantee.account == subject.account and g.grantee.name == principal.name
        )
        return self._key(subject, key.arn, key.policy, grants, account, rcps)

    def trust_key(
        self, subject: Subject, role: Principal, account: AccountInfo | None, rcps: AccountInfo | None
    ) -> tuple[object, ...] | None:
        """The memo key of ``subject``'s sts:AssumeRole on ``role`` (the trust policy in the key policy's place)."""
        if role.trust is None:
            return None
        return self._key(subject, role.arn, role.trust, (), account, rcps)

    def _key(
        self,
        subject: Subject,
        resource: str,
        policy: CompiledPolicy,
        grants: tuple[str, ...],
        account: AccountInfo | None,
        rcps: AccountInfo | None,
    ) -> tuple[object, ...] | None:
        principal = subject.principal
        if principal is None or subject.kind not in ("user", "role"):
            return None
        if any(cs.statement.not_principal is not None for cs in policy.statements):
            return None
        caller = subject.caller_ref
        vias = tuple(
            principal_matches(cs.statement.principal, caller) if cs.statement.principal is not None else None
            for cs in policy.statements
        )
        policies: list[CompiledPolicy] = [policy, *principal.identity]
        if principal.boundary is not None:
            policies.append(principal.boundary)
        for levels in (account.scp_levels if account else None, rcps.rcp_levels if rcps else None):
            for level in levels or ():
                policies.extend(level)
        read: set[str] = set()
        for p in policies:
            read |= self._referenced(p)
        values = tuple(sorted((k, _value(subject, k)) for k in read))
        return (
            resource,
            subject.kind,
            subject.account,
            tuple(id(p) for p in principal.identity),
            id(principal.boundary),
            vias,
            grants,
            "/aws-service-role/" in principal.arn,
            values,
        )


def _value(subject: Subject, key: str) -> str | None:
    principal = subject.principal
    assert principal is not None
    if key == "aws:principalarn":
        return principal.arn
    if key == "aws:username":
        return principal.name if principal.kind == "user" else None
    if key == "aws:userid":
        return principal.unique_id if principal.kind == "user" else subject.caller
    return principal.tags.get(key.removeprefix("aws:principaltag/"))
