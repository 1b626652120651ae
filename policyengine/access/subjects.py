"""Who can ask: the callers a question over a snapshot considers.

The snapshot's users and roles (a role asks as a session of itself), the root user of each
account, and every caller the policies name that the snapshot does not hold: a specific
session of a role, a user or role of another account, another account as a whole, a service
principal, a grantee, and "anyone" when a policy names ``*``. For callers outside the snapshot
their own IAM policies are unknown; answers for them carry an atom saying so instead of
assuming either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Literal

from policyengine.access.atoms import OutsideAtom
from policyengine.access.facts import Facts
from policyengine.access.world import Principal, World
from policyengine.evaluator.compiled import CompiledPolicy
from policyengine.model.principal import PrincipalRef
from policyengine.model.request import ContextValue
from policyengine.parsing.request import classify_caller

SubjectKind = Literal["user", "role", "session", "root", "external_account", "external_principal", "service", "anyone"]
PrincipalKnown = Literal["all", "identity", "account", "none"]
_ORDER = {
    k: i for i, k in enumerate(("user", "role", "session", "root", "external_principal", "external_account", "service", "anyone"))
}
ANYONE_ACCOUNT = "000000000000"


@dataclass(frozen=True, eq=False)
class Subject:
    """A caller: how it is shown, the ARN its requests carry, and what the snapshot knows of it."""

    id: str
    kind: SubjectKind
    label: str
    caller: str
    account: str | None
    principal: Principal | None = None
    identity_arn: str | None = None
    known: PrincipalKnown = "all"

    @property
    def outside(self) -> bool:
        """True when the caller's own IAM policies are not in the snapshot."""
        return self.kind in ("external_account", "external_principal", "anyone")

    @property
    def arn(self) -> str:
        """The full ARN (with the IAM path) of a user or role; the caller's ARN for anyone else."""
        if self.principal is not None:
            return self.principal.arn
        if self.kind == "external_account" and self.account is not None:
            return f"arn:aws:iam::{self.account}:root"
        return self.identity_arn or self.caller

    def outside_atom(self) -> OutsideAtom | None:
        """The unknown "its own IAM policies allow it" for callers outside the snapshot."""
        if not self.outside:
            return None
        return OutsideAtom(f"the IAM policies and SCPs of {self.label} (outside the snapshot) allow the call")

    @cached_property
    def caller_ref(self) -> PrincipalRef:
        """The caller's ARN classified (once per subject: classifying parses the ARN)."""
        return classify_caller(self.caller)

    def sort_key(self) -> tuple[int, str]:
        return (_ORDER[self.kind], self.label)


def principal_subject(principal: Principal) -> Subject:
    """A user, or any session of a role."""
    return Subject(
        principal.arn,
        principal.kind,
        principal.label,
        principal.caller,
        principal.account,
        principal,
        principal.arn,
    )


def facts_for(world: World, subject: Subject, extra: dict[str, ContextValue]) -> dict[str, ContextValue]:
    """The decided context of ``subject``'s requests: its tags and organization, plus ``extra``."""
    ctx = dict(extra)
    if subject.principal is not None:
        ctx.update(world.principal_context(subject.principal))
    elif subject.kind == "root":
        account = world.account(subject.account)
        if account is not None and account.org_id is not None:
            ctx["aws:principalorgid"] = account.org_id
            paths = account.org_paths
            if paths is not None:
                ctx["aws:principalorgpaths"] = (paths,)
    return ctx


def open_principal_keys(subject: Subject) -> frozenset[str]:
    """Principal keys that stay open for a caller the snapshot knows only in part."""
    if subject.known == "all":
        return frozenset()
    unknown = {"aws:principalorgid", "aws:principalorgpaths", "aws:userid", "aws:principaltag/"}
    if subject.known in ("account", "none"):
        unknown |= {"aws:principalarn", "aws:principaltype", "aws:username"}
    if subject.known == "none":
        unknown |= {"aws:principalaccount", "kms:calleraccount"}
    return frozenset(unknown)


def subject_facts(subject: Subject, base: Facts) -> Facts:
    """``base`` with the caller's unknown keys opened."""
    opened = open_principal_keys(subject)
    if not opened:
        return base
    return replace(base, opened=base.opened | opened)


class SubjectIndex:
    """Every subject of a world, found once: snapshot principals, roots, and callers policies name."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.by_id: dict[str, Subject] = {}
        #: the snapshot's principals by (kind, account, name), to recognise the ones policies name
        self._principals: dict[tuple[str, str | None, str | None], Principal] = {
            (p.kind, p.account, p.name): p for p in world.principals.values()
        }
        self._sorted: list[Subject] | None = None
        for principal in world.principals.values():
            self._add(principal_subject(principal))
        for account in world.accounts:
            self._add(Subject(f"root:{account}", "root", f"root/{account}", f"arn:aws:iam::{account}:root", account))
        policies: list[CompiledPolicy] = [k.policy for k in world.keys.values()]
        policies.extend(p.trust for p in world.principals.values() if p.trust is not None)
        for policy in policies:
            for ref in _named(policy):
                self._named(ref)
        for key in world.keys.values():
            for grant in key.grants:
                self._named(grant.grantee)

    def _add(self, subject: Subject) -> None:
        self.by_id.setdefault(subject.id, subject)

    def _known_role(self, ref: PrincipalRef) -> Principal | None:
        return self._principals.get(("role", ref.account, ref.name))

    def _known(self, ref: PrincipalRef) -> bool:
        return (ref.kind, ref.account, ref.name) in self._principals

    def _named(self, ref: PrincipalRef) -> None:
        kind = ref.kind
        if kind == "any":
            self._add(
                Subject(
                    "anyone",
                    "anyone",
                    "anyone (any AWS principal outside the snapshot)",
                    f"arn:aws:sts::{ANYONE_ACCOUNT}:assumed-role/any-principal/{ANYONE_ACCOUNT}",
                    None,
                    known="none",
                )
            )
        elif kind == "account" and ref.account and ref.account not in self.world.accounts:
            self._add(
                Subject(
                    f"account:{ref.account}",
                    "external_account",
                    f"account/{ref.account}",
                    f"arn:aws:sts::{ref.account}:assumed-role/any-principal/session",
                    ref.account,
                    known="account",
                )
            )
        elif kind in ("user", "role") and not self._known(ref):
            caller = ref.arn if kind == "user" else f"arn:aws:sts::{ref.account}:assumed-role/{ref.name}/session"
            self._add(
                Subject(
                    ref.arn,
                    "external_principal",
                    f"{ref.account}:{kind}/{ref.name}",
                    caller,
                    ref.account,
                    None,
                    ref.arn,
                    "identity",
                )
            )
        elif kind == "assumed_role":
            role = self._known_role(ref)
            label = f"session {ref.name}/{ref.session}"
            if role is not None:
                self._add(Subject(ref.arn, "session", label, ref.arn, ref.account, role, role.arn))
            else:
                self._add(
                    Subject(ref.arn, "external_principal", f"{ref.account}:{label}", ref.arn, ref.account, known="identity")
                )
        elif kind == "federated_user":
            self._add(
                Subject(
                    ref.arn,
                    "external_principal",
                    f"{ref.account}:federated-user/{ref.name}",
                    ref.arn,
                    ref.account,
                    known="identity",
                )
            )
        elif kind == "service":
            self._add(Subject(f"service:{ref.text}", "service", f"service/{ref.text}", ref.text, None))

    def all(self) -> list[Subject]:
        if self._sorted is None or len(self._sorted) != len(self.by_id):
            self._sorted = sorted(self.by_id.values(), key=Subject.sort_key)
        return list(self._sorted)

    def principals(self) -> list[Subject]:
        """Only the snapshot's users and roles (the rows of the access matrix by default)."""
        return [s for s in self.all() if s.kind in ("user", "role")]


def _named(policy: CompiledPolicy) -> Iterable[PrincipalRef]:
    for cs in policy.statements:
        block = cs.statement.principal
        if cs.deny or block is None:
            continue
        if block.wildcard:
            yield PrincipalRef.model_construct(kind="any", text="*", arn="*")
            continue
        for entry in block.entries:
            yield entry.ref
