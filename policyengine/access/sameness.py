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
        self._profiles: dict[str, tuple[object, ...] | None] = {}

    def _referenced(self, policy: CompiledPolicy) -> frozenset[str]:
        found = self._refs.get(id(policy))
        if found is not None and found[0] is policy:
            return found[1]
        keys = frozenset(
            k for k in referenced_keys(PolicySet(identity=(policy,))) if k in _WHO or k.startswith("aws:principaltag/")
        )
        self._refs[id(policy)] = (policy, keys)
        return keys

    def profile(self, subject: Subject, account: AccountInfo | None) -> tuple[object, ...] | None:
        """What decides ``subject``'s answers apart from the resource policy (computed once per caller)."""
        found = self._profiles.get(subject.id)
        if found is None and subject.id not in self._profiles:
            principal = subject.principal
            if principal is not None and subject.kind in ("user", "role"):
                policies: list[CompiledPolicy] = list(principal.identity)
                if principal.boundary is not None:
                    policies.append(principal.boundary)
                for level in (account.scp_levels if account else None) or ():
                    policies.extend(level)
                read: set[str] = set()
                for p in policies:
                    read |= self._referenced(p)
                found = (
                    subject.kind,
                    subject.account,
                    tuple(id(p) for p in principal.identity),
                    id(principal.boundary),
                    "/aws-service-role/" in principal.arn,
                    tuple(sorted((k, _value(subject, k)) for k in read)),
                )
            self._profiles[subject.id] = found
        return found

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


class KeyGroups:
    """Callers of one key grouped by what decides their answers, for questions over every caller.

    ``Sameness.key`` recomputes, per caller and key, how each statement names the caller. For
    who-can that per-caller work dominates, so here it is split: a caller's *profile* (kind,
    account, identity policies, boundary, service-linked path, the caller-identifying values its
    own policies and SCPs read) is computed once, and per key only whether the key names the
    caller (a Principal entry or a grant for its account and name). Callers the key does not name
    are admitted by it only through their account, which the profile holds, so equal profiles
    get equal answers. A key whose policy or RCPs read who is asking, or with a NotPrincipal or a
    Principal entry of another form, is not grouped (``group`` returns None for every caller).
    """

    def __init__(self, sameness: Sameness, key: KeyInfo, rcps: AccountInfo | None) -> None:
        self.sameness = sameness
        policies = [key.policy, *(p for level in (rcps.rcp_levels if rcps else None) or () for p in level)]
        self.usable = not any(sameness._referenced(p) for p in policies) and all(
            _plain_principals(cs) for cs in key.policy.statements
        )
        self.named: set[tuple[str | None, str | None]] = {(g.grantee.account, g.grantee.name) for g in key.grants}
        for cs in key.policy.statements:
            block = cs.statement.principal
            for entry in block.entries if block is not None else ():
                if entry.ref.name is not None:
                    self.named.add((entry.ref.account, entry.ref.name))
        #: the accounts of the callers in ``named``
        self.named_accounts = frozenset(account for account, _ in self.named)

    def group(self, subject: Subject, account: AccountInfo | None) -> tuple[object, ...] | None:
        """The group of ``subject`` on this key, or None when it must be asked on its own."""
        principal = subject.principal
        if not self.usable or principal is None or (subject.account, principal.name) in self.named:
            return None
        return self.sameness.profile(subject, account)


def _plain_principals(cs: object) -> bool:
    """A statement whose Principal names only ``*``, accounts, services and named users or roles (or sessions)."""
    statement = cs.statement  # type: ignore[attr-defined]
    if statement.not_principal is not None:
        return False
    block = statement.principal
    if block is None or block.wildcard:
        return True
    return all(
        e.ref.kind in ("any", "account", "service") or (e.ref.kind in ("user", "role", "assumed_role") and e.ref.name)
        for e in block.entries
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
