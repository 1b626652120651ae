"""Exact shortcuts to "denied, whatever the action": the cheap tests before a full evaluation.

Most (caller, key) pairs of a real organization are denied for a reason visible without trying
any action: the key policy admits neither the caller nor its account and no grant names it, or
it admits only the account and none of the caller's identity policies allows a KMS action on
this key (the key policy must let a caller in before IAM policies count, and through the
account IAM must allow: SEMANTICS §4.1). Both tests only look at Principal elements, action
patterns and static resources, never at conditions, so they can say "denied" only when every
full evaluation would; a test compares them with full evaluations on a generated organization.
"""

from __future__ import annotations

from policyengine.access.actions import key_actions
from policyengine.access.subjects import Subject
from policyengine.access.world import KeyInfo
from policyengine.aws_facts import canonical_operation
from policyengine.evaluator.compiled import CompiledStatement
from policyengine.evaluator.grants import grantee_is_caller
from policyengine.evaluator.principals import principal_matches
from policyengine.model.principal import PrincipalRef

#: Reasons the pre-checks give, added to the evaluator's own.
PRECHECK_REASONS = {
    "key_policy_excludes_caller": "the key policy names neither the caller nor its account, and no grant is for it",
    "no_identity_allow": "the key policy lets the caller's account in, which makes IAM policies count, but no IAM "
    "policy of the caller allows the action on this key",
}


class Prechecks:
    """Cheap, exact "denied" tests for a (subject, key) pair, for every action or for one."""

    def __init__(self) -> None:
        self._identity: dict[tuple[str, str | None], list[CompiledStatement]] = {}
        self._key: dict[tuple[str, str | None], list[CompiledStatement] | None] = {}
        self._actions = [a.lower() for a in key_actions()]
        self._admitted: dict[str, frozenset[str] | None] = {}

    def _allows(self, subject: Subject, lowered: str | None) -> list[CompiledStatement]:
        """The caller's identity statements that allow ``lowered`` (or any key action)."""
        found = self._identity.get((subject.id, lowered))
        if found is None:
            actions = [lowered] if lowered is not None else self._actions
            principal = subject.principal
            found = [
                cs
                for policy in (principal.identity if principal is not None else ())
                for cs in policy.statements
                if not cs.deny and any(cs.action_test(a) for a in actions)
            ]
            self._identity[(subject.id, lowered)] = found
        return found

    def _key_allows(self, key: KeyInfo, lowered: str | None) -> list[CompiledStatement] | None:
        """The key policy's Allow statements for ``lowered``; None when one has no plain Principal."""
        cache = (key.arn, lowered)
        if cache in self._key:
            return self._key[cache]
        found: list[CompiledStatement] | None = []
        for cs in key.policy.statements:
            if cs.deny or (lowered is not None and not cs.action_test(lowered)):
                continue
            if cs.statement.principal is None or cs.statement.not_principal is not None:
                found = None
                break
            assert found is not None
            found.append(cs)
        self._key[cache] = found
        return found

    def admitted_accounts(self, key: KeyInfo) -> frozenset[str] | None:
        """The accounts whose callers the key may let in when it does not name them, or None when it may let in anyone.

        A snapshot user or role that no Principal entry or grant of the key names (``KeyGroups.named``)
        and whose account is not in the set is denied every action with ``key_policy_excludes_caller``:
        ``denied`` says so for it, since no Allow statement names ``*`` or its account, none lacks a
        Principal, and no grant is for it. A grant to a user or role does not widen the set: it is for that
        grantee (``grantee_is_caller``), which ``KeyGroups.named`` holds by account and name, not for every
        caller of the grantee's account (an organization's keys grant to a role here and there, and
        counting its whole account made every caller of it look worth a full evaluation). A grant to an
        account names no one, so its account is in the set: whether it covers that account's users and
        roles is ``grantee_is_caller``'s to say, which ``denied`` asks, not this shortcut.
        """
        found = self._admitted.get(key.arn)
        if found is None and key.arn not in self._admitted:
            accounts: set[str] = {
                g.grantee.account for g in key.grants if g.grantee.name is None and g.grantee.account is not None
            }
            statements = self._key_allows(key, None)
            if statements is not None:
                for cs in statements:
                    block = cs.statement.principal
                    assert block is not None
                    if block.wildcard or any(
                        e.ref.kind == "any" or (e.ref.kind == "account" and not e.ref.account) for e in block.entries
                    ):
                        break
                    accounts.update(e.ref.account for e in block.entries if e.ref.kind == "account" and e.ref.account)
                else:
                    found = frozenset(accounts)
            self._admitted[key.arn] = found
        return found

    def denied(self, subject: Subject, key: KeyInfo, action: str | None = None) -> str | None:
        """A reason every action (or ``action``) of ``subject`` on ``key`` is denied, or None when it must be evaluated."""
        operation = canonical_operation(action) if action else None
        lowered = action.lower() if action else None
        for grant in key.grants:
            if _grant_may_name(grant.grantee, subject) and (operation is None or operation in grant.operations):
                return None
        statements = self._key_allows(key, lowered)
        if statements is None:
            return None
        caller = subject.caller_ref
        via_account = False
        for cs in statements:
            block = cs.statement.principal
            assert block is not None
            via = principal_matches(block, caller)
            if via in ("direct", "direct_capped"):
                return None
            via_account = via_account or via == "account"
        if not via_account:
            return "key_policy_excludes_caller"
        if subject.kind == "root" or subject.outside:
            return None
        arn = key.arn
        for cs in self._allows(subject, lowered):
            if cs.resource_static is None or cs.resource_static(arn):
                return None
        return "no_identity_allow"


def _grant_may_name(grantee: PrincipalRef, subject: Subject) -> bool:
    """Could a grant to ``grantee`` apply to ``subject``'s requests? Exactly the evaluator's test for a snapshot
    user or role, whose caller ARN is known (``grantee_is_caller``); for anyone else, by account alone
    (a service grantee has none), which never rules out a grant the evaluator would apply."""
    if subject.principal is not None:
        return grantee_is_caller(grantee, subject.caller_ref)
    return grantee.account is None or grantee.account == subject.account
