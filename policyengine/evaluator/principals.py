"""Does a Principal or NotPrincipal element name the caller, and how?

How the key policy names the caller changes what else must allow (SEMANTICS §2): naming the
account only opens the door to IAM policies; naming a user, session or federated user grants
directly; naming a role grants directly to its sessions (and to the role ARN given as the caller, which
stands for them) but keeps the boundary and session policy as caps; ``*`` names the caller
itself, whatever its form, so it grants directly. ``Via`` carries that distinction out of this module.
"""

from __future__ import annotations

from typing import Literal

from policyengine.aws_facts import NOT_PRINCIPAL_LEVELS, ROLE_KINDS
from policyengine.model.policy import PrincipalBlock, PrincipalEntry
from policyengine.model.principal import PrincipalRef

Via = Literal["direct", "direct_capped", "account"]
_RANK: dict[Via, int] = {"direct": 3, "direct_capped": 2, "account": 1}


def _same(entry: PrincipalRef, caller: PrincipalRef) -> bool:
    return entry.account == caller.account and entry.partition == caller.partition


def entry_matches(entry: PrincipalEntry, caller: PrincipalRef) -> Via | None:
    """How one principal entry names the caller, or None when it does not."""
    ref = entry.ref
    kind = ref.kind
    if kind == "any":
        return "direct"
    if caller.kind == "anonymous":
        return None  # only a wildcard names an unsigned caller
    if caller.kind == "service":
        return "direct" if kind == "service" and ref.text == caller.text else None
    if kind == "account":
        return "account" if _same(ref, caller) else None
    if kind == "user":
        return "direct" if caller.kind == "user" and _same(ref, caller) and ref.name == caller.name else None
    if kind == "role":
        # A role ARN covers the role's sessions and keeps their boundary and session policy as caps;
        # the role ARN given as the caller stands for its sessions, so it is capped alike.
        if caller.kind in ROLE_KINDS and _same(ref, caller) and ref.name == caller.name:
            return "direct_capped"
        return None
    if kind == "assumed_role":
        same_session = caller.kind == "assumed_role" and ref.name == caller.name and ref.session == caller.session
        return "direct" if same_session and _same(ref, caller) else None
    if kind == "federated_user":
        return "direct" if caller.kind == "federated_user" and _same(ref, caller) and ref.name == caller.name else None
    return None


def principal_matches(block: PrincipalBlock, caller: PrincipalRef) -> Via | None:
    """The strongest way a Principal element names the caller, or None."""
    if block.wildcard:
        return "direct"
    best: Via | None = None
    for entry in block.entries:
        via = entry_matches(entry, caller)
        if via is not None and (best is None or _RANK[via] > _RANK[best]):
            best = via
            if via == "direct":
                break
    return best


def _levels(caller: PrincipalRef) -> tuple[str, ...]:
    """The identities AWS checks a NotPrincipal list against, for this kind of caller."""
    return NOT_PRINCIPAL_LEVELS.get(caller.kind, ("account",))


def _level_listed(level: str, block: PrincipalBlock, caller: PrincipalRef) -> bool:
    for entry in block.entries:
        ref = entry.ref
        if level == "account" and ref.kind == "account" and _same(ref, caller) and caller.kind != "service":
            return True
        if level == "user" and ref.kind == "user" and _same(ref, caller) and ref.name == caller.name:
            return True
        if level == "role" and ref.kind == "role" and _same(ref, caller) and ref.name == caller.name:
            return True
        if level == "session" and entry_matches(entry, caller) == "direct" and ref.kind == "assumed_role":
            return True
        if level == "federated_user" and ref.kind == "federated_user" and _same(ref, caller) and ref.name == caller.name:
            return True
        if level == "service" and ref.kind == "service" and ref.text == caller.text:
            return True
    return False


def not_principal_applies(block: PrincipalBlock, caller: PrincipalRef, *, deny: bool, has_boundary: bool) -> bool:
    """True when a NotPrincipal statement applies to the caller.

    Deny: the caller escapes only when every level of its identity is listed (IAM UG,
    NotPrincipal: for a role session list the session, the role and the account), and a Deny
    with NotPrincipal in a resource policy always applies to a caller that has a permissions
    boundary. Allow (which the IAM UG calls unsupported and advises against): the statement
    grants everyone the list does not name, so a caller named at any level, as ``Principal``
    would name it, gets nothing from it.
    """
    if block.wildcard:
        return False
    if not deny:
        return all(entry_matches(entry, caller) is None for entry in block.entries)
    if has_boundary:
        return True
    return not all(_level_listed(level, block, caller) for level in _levels(caller))
