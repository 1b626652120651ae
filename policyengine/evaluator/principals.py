"""Does a Principal or NotPrincipal element name the caller, and how?

How the key policy names the caller changes what else must allow (SEMANTICS §2): naming the
account only opens the door to IAM policies; naming a user, session or federated user grants
directly; naming a role grants directly to its sessions but keeps the boundary and session
policy as caps. ``Via`` carries that distinction out of this module.
"""

from __future__ import annotations

from typing import Literal

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
        return "direct_capped" if caller.kind == "assumed_role" else "direct"
    if caller.kind == "service":
        return "direct" if kind == "service" and ref.text == caller.text else None
    if kind == "account":
        return "account" if _same(ref, caller) else None
    if kind == "user":
        return "direct" if caller.kind == "user" and _same(ref, caller) and ref.name == caller.name else None
    if kind == "role":
        if caller.kind == "assumed_role" and _same(ref, caller) and ref.name == caller.name:
            return "direct_capped"
        if caller.kind == "role" and _same(ref, caller) and ref.name == caller.name:
            return "direct"
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
        return "direct_capped" if caller.kind == "assumed_role" else "direct"
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
    return {
        "user": ("user", "account"),
        "assumed_role": ("session", "role", "account"),
        "role": ("role", "account"),
        "federated_user": ("federated_user", "account"),
        "account": ("account",),
        "service": ("service",),
    }.get(caller.kind, ("account",))


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

    The caller escapes only when every level of its identity is listed (IAM UG, NotPrincipal:
    for a role session list the session, the role and the account). A Deny with NotPrincipal
    in a resource policy always applies to a caller that has a permissions boundary.
    """
    if block.wildcard:
        return False
    if deny and has_boundary:
        return True
    return not all(_level_listed(level, block, caller) for level in _levels(caller))
