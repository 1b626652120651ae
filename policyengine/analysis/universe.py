"""Who can call: the finite set of caller classes a check quantifies over.

A policy can only tell callers apart by what it names, so every caller is equivalent, for the
policies at hand, to one representative class:

* per partition the policies name (plus ``aws`` and one fresh partition): each named account
  and one fresh account (an account id no Principal of that partition names);
* per account: the root, each named user plus one fresh user, each named role (the role
  itself as caller, each named session and one fresh session) plus one fresh role, each named
  federated user plus one fresh one;
* each named service principal plus one fresh service.

A class fixes everything the Principal element can test (kind, partition, account and name
are either named or "none of the named ones"), so principal matching is decided here, with
the evaluator's own ``principal_via``, on a placeholder caller of the class. What conditions
can read about the caller (``aws:PrincipalArn``, ``kms:CallerAccount``, ...) stays symbolic:
a fresh account is a 12-digit string variable, a fresh name a string variable, user and role
paths are variables too, so condition patterns over ARNs are decided by the solver.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from policyengine.aws_facts import CALLER_TEXT_KEYS
from policyengine.evaluator.compiled import CompiledPolicy, CompiledStatement
from policyengine.evaluator.principals import Via
from policyengine.model.policy import PrincipalBlock
from policyengine.model.principal import PrincipalRef
from policyengine.model.request import Request
from policyengine.parsing.request import classify_caller, make_request
from policyengine.parsing.strings import classify_aws_principal

CallerKind = Literal["account", "user", "role", "assumed_role", "federated_user", "service"]
FRESH_PARTITION = "pe-fresh-partition"


@dataclass(frozen=True, slots=True)
class CallerClass:
    """One representative caller: what is named about it, and a placeholder to test principals with.

    ``account``/``name``/``partition`` are None when fresh (symbolic in the formula);
    ``session`` is always concrete (a session name only ever meets Principal entries);
    ``path`` (users and roles) is the IAM path between ``user/`` and the name (``""`` for
    ``/``), None when symbolic.
    ``group`` says whose identity policies the caller has: equal groups share IAM policies.
    """

    index: int
    kind: CallerKind
    partition: str | None
    account: str | None
    name: str | None
    session: str | None
    placeholder: str
    group: tuple[str | None, ...]
    path: str | None = ""

    @property
    def fresh_account(self) -> bool:
        return self.kind != "service" and self.account is None

    @property
    def has_path(self) -> bool:
        """Users and roles (as callers) carry an IAM path in their ARN; sessions do not."""
        return self.kind in ("user", "role")


@dataclass
class Named:
    """Everything the Principal elements of the policies name, per partition."""

    partitions: set[str] = field(default_factory=set)
    accounts: set[tuple[str, str]] = field(default_factory=set)
    users: set[tuple[str, str, str]] = field(default_factory=set)
    roles: set[tuple[str, str, str]] = field(default_factory=set)
    sessions: set[tuple[str, str, str, str]] = field(default_factory=set)
    federated: set[tuple[str, str, str]] = field(default_factory=set)
    services: set[str] = field(default_factory=set)
    usernames: set[str] = field(default_factory=set)
    paths: dict[tuple[str, str, str, str], set[str]] = field(default_factory=dict)

    def add(self, ref: PrincipalRef) -> None:
        """Record one principal reference (from a policy or the --principal option)."""
        if ref.kind == "service":
            self.services.add(ref.text)
            return
        if ref.account is None or ref.kind not in ("account", "user", "role", "assumed_role", "federated_user"):
            return
        part, account = ref.partition, ref.account
        self.partitions.add(part)
        self.accounts.add((part, account))
        if ref.kind in ("user", "role") and ref.name:
            (self.users if ref.kind == "user" else self.roles).add((part, account, ref.name))
            rest = ref.text.split(":", 5)[5].partition("/")[2]
            self.paths.setdefault((part, account, ref.kind, ref.name), set()).add(
                rest.rpartition("/")[0] + "/" if "/" in rest else ""
            )
        elif ref.kind == "assumed_role" and ref.name and ref.session:
            self.roles.add((part, account, ref.name))
            self.sessions.add((part, account, ref.name, ref.session))
        elif ref.kind == "federated_user" and ref.name:
            self.federated.add((part, account, ref.name))

    def add_block(self, block: PrincipalBlock | None) -> None:
        if block is not None:
            for entry in block.entries:
                self.add(entry.ref)


@dataclass(frozen=True, slots=True)
class Observed:
    """Whether any policy text can tell a fresh partition or account from another unnamed one.

    When nothing reads the caller's ARN or account as text and no resource pattern globs the
    partition or account segment, every unnamed partition (account) behaves the same, so one
    constant stands for all of them; otherwise they are string variables.
    """

    partition: bool
    account: bool
    names: bool = False


_ACCOUNT_TEXT = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")


def _wild(text: str) -> bool:
    return "*" in text or "?" in text


def collect_named(policies: Iterable[CompiledPolicy], resources: Iterable[str]) -> tuple[Named, Observed]:
    """The named principals of every statement, plus the accounts and partitions texts name.

    Literal accounts and partitions in resource patterns and in conditions on the caller's
    ARN or account count as named, so a constant "other" account differs from all of them;
    a wildcard over those texts (other than a whole-segment ``*``) makes them observed.
    """
    named = Named()
    patterns = list(resources)
    texts: list[str] = []
    observe = False
    for policy in policies:
        for cs in policy.statements:
            named.add_block(cs.statement.principal)
            named.add_block(cs.statement.not_principal)
            patterns.extend(i.value for i in cs.statement.resource or cs.statement.not_resource or ())
            for cc in cs.conditions:
                if cc.key not in CALLER_TEXT_KEYS or cc.operator is None or cc.operator.kind == "null":
                    continue
                textual = cc.operator.kind in ("string", "arn") and "IgnoreCase" not in cc.operator.name
                for value in cc.source.values:
                    if not textual or (cc.operator.glob and _wild(value.value)) or value.template is not None:
                        observe = True
                    texts.append(value.value)
                    _name_literal(named, cc.key, value.value)
    named.partitions.add("aws")
    observe_partition = observe_account = observe
    for pattern in patterns:
        if pattern == "*":
            continue
        if not pattern.startswith("arn:"):
            observe_partition = observe_account = observe_partition or _wild(pattern)
            continue
        pieces = pattern.split(":", 5)
        partition = pieces[1] if len(pieces) > 1 else "*"
        account = pieces[4] if len(pieces) > 4 else "*"
        if _wild(partition):
            observe_partition = observe_partition or partition != "*"
        if _wild(account):
            observe_account = observe_account or account != "*"
        texts.append(pattern)
    literal_accounts: set[str] = set()
    for text in texts:
        literal_accounts.update(_ACCOUNT_TEXT.findall(text))
        if text.startswith("arn:"):
            partition = text.split(":")[1]
            if partition and not _wild(partition):
                named.partitions.add(partition)
    for account in literal_accounts:
        for partition in list(named.partitions):
            named.accounts.add((partition, account))
    return named, Observed(observe_partition, observe_account, observe)


def _name_literal(named: Named, key: str, value: str) -> None:
    """A literal caller name in a condition is a named principal (so no constant stands for it)."""
    if key == "aws:principalarn":
        ref = classify_aws_principal(value)
        if ref.kind in ("account", "user", "role", "assumed_role", "federated_user"):
            named.add(ref)
    elif key == "aws:username":
        named.usernames.add(value)
    elif key == "aws:principalservicename":
        named.services.add(value)


def policy_accounts(policies: Iterable[CompiledPolicy]) -> set[str]:
    """Every 12-digit number in the policies' principals, resources and condition values."""
    found: set[str] = set()
    for policy in policies:
        for cs in policy.statements:
            st = cs.statement
            for block in (st.principal, st.not_principal):
                for entry in block.entries if block is not None else ():
                    found.update(_ACCOUNT_TEXT.findall(entry.value))
            for item in st.resource or st.not_resource or ():
                found.update(_ACCOUNT_TEXT.findall(item.value))
            for cc in cs.conditions:
                for value in cc.source.values:
                    found.update(_ACCOUNT_TEXT.findall(value.value))
    return found


def _unused(base: str, taken: set[str]) -> str:
    candidate, n = base, 0
    while candidate in taken:
        n += 1
        candidate = f"{base}{n}"
    return candidate


def _unused_account(taken: set[str]) -> str:
    n = 0
    while f"{n:012d}" in taken:
        n += 1
    return f"{n:012d}"


def group_of(kind: CallerKind, partition: str | None, account: str | None, name: str | None) -> tuple[str | None, ...]:
    """Whose IAM policies a caller has: a user's own, a role's for the role and all its sessions."""
    family = "role" if kind in ("role", "assumed_role") else kind
    return (family, partition, account, name if kind != "account" else None)


def build_classes(named: Named, avoid_accounts: Iterable[str] = (), symbolic_names: bool = False) -> list[CallerClass]:
    """Every caller class for the named principals (see the module docstring).

    Placeholder accounts avoid ``avoid_accounts`` (every account the policies mention), so a
    placeholder that stands in as the constant fresh account is never one the policies name.
    With ``symbolic_names`` user and role paths are left to the solver; otherwise each named
    user or role gets one class per path the policies spell plus one for every other path.
    """
    classes: list[CallerClass] = []

    def add(
        kind: CallerKind,
        part: str | None,
        account: str | None,
        name: str | None,
        session: str | None,
        ph: str,
        path: str | None = "",
    ) -> None:
        classes.append(
            CallerClass(len(classes), kind, part, account, name, session, ph, group_of(kind, part, account, name), path)
        )

    def paths(part: str | None, account: str | None, kind: str, name: str | None) -> list[str | None]:
        if symbolic_names:
            return [None]
        spelled = named.paths.get((part, account, kind, name), set()) if part and account and name else set()
        return [*sorted(spelled), "" if "" not in spelled else "pe-path/"]

    partitions: list[str | None] = [*sorted(named.partitions), None]
    for part in partitions:
        ph_part = part if part is not None else _unused(FRESH_PARTITION, named.partitions)
        in_part = sorted(a for p, a in named.accounts if p == part)
        accounts: list[str | None] = [*in_part, None]
        for account in accounts:
            ph_acct = account if account is not None else _unused_account({a for _, a in named.accounts} | set(avoid_accounts))
            prefix_iam = f"arn:{ph_part}:iam::{ph_acct}:"
            prefix_sts = f"arn:{ph_part}:sts::{ph_acct}:"
            add("account", part, account, None, None, f"{prefix_iam}root")
            users = sorted({n for p, a, n in named.users if (p, a) == (part, account)} | named.usernames)
            for user in [*users, None]:
                user_name = user or _unused("pe-fresh-user", set(users))
                for path in paths(part, account, "user", user):
                    add("user", part, account, user, None, f"{prefix_iam}user/{path or ''}{user_name}", path)
            roles = sorted(n for p, a, n in named.roles if (p, a) == (part, account))
            for role in [*roles, None]:
                role_name = role or _unused("pe-fresh-role", set(roles))
                for path in paths(part, account, "role", role):
                    add("role", part, account, role, None, f"{prefix_iam}role/{path or ''}{role_name}", path)
                sessions = sorted(s for p, a, r, s in named.sessions if (p, a, r) == (part, account, role))
                fresh_session = _unused("pe-session", set(sessions))
                for session in [*sessions, fresh_session]:
                    add("assumed_role", part, account, role, session, f"{prefix_sts}assumed-role/{role_name}/{session}")
            feds = sorted(n for p, a, n in named.federated if (p, a) == (part, account))
            for fed in [*feds, None]:
                add(
                    "federated_user",
                    part,
                    account,
                    fed,
                    None,
                    f"{prefix_sts}federated-user/{fed or _unused('pe-fresh-fed', set(feds))}",
                )
    for service in [*sorted(named.services), None]:
        placeholder = service or _unused("pe-fresh.amazonaws.com", named.services)
        add("service", None, None, service, None, placeholder)
    return classes


_PROBE_RESOURCE = "arn:aws:kms:us-east-1:000000000000:key/pe-probe"


def placeholder_ref(cls: CallerClass) -> PrincipalRef:
    """The classified placeholder caller of a class."""
    return classify_caller(cls.placeholder)


@lru_cache(maxsize=1024)
def _probe(placeholder: str) -> Request:
    return make_request(placeholder, "kms:DescribeKey", _PROBE_RESOURCE)


def principal_via(cs: CompiledStatement, cls: CallerClass) -> Via | None:
    """How a key-policy statement's Principal/NotPrincipal names the class (the evaluator's own test)."""
    return cs.principal_via(_probe(cls.placeholder), False)


class ClassIndex:
    """Finds, per statement, the classes its Principal can name, then asks the evaluator about those only.

    Every AWS principal entry names callers of its own partition and account only (a user,
    role, session or federated-user entry only callers of that name), a service entry only that
    service, ``*`` everyone; so the candidates of an entry are those classes, and every other
    class is certainly not named. NotPrincipal
    statements are tested against every class.
    """

    def __init__(self, classes: Iterable[CallerClass]) -> None:
        self.classes = list(classes)
        self._by_account: dict[tuple[str | None, str | None], list[CallerClass]] = {}
        self._by_name: dict[tuple[str | None, str | None, str | None], list[CallerClass]] = {}
        self._by_service: dict[str | None, list[CallerClass]] = {}
        for cls in self.classes:
            if cls.kind == "service":
                self._by_service.setdefault(cls.name, []).append(cls)
            else:
                self._by_account.setdefault((cls.partition, cls.account), []).append(cls)
                self._by_name.setdefault((cls.partition, cls.account, cls.name), []).append(cls)

    def _candidates(self, cs: CompiledStatement) -> list[CallerClass]:
        block = cs.statement.principal
        if block is None or block.wildcard:
            return self.classes
        found: dict[int, CallerClass] = {}
        for entry in block.entries:
            ref = entry.ref
            if ref.kind == "any":
                return self.classes
            if ref.kind == "service":
                group = self._by_service.get(ref.text, [])
            elif ref.kind == "account":
                group = self._by_account.get((ref.partition, ref.account), [])
            elif ref.account is not None and ref.name is not None:
                group = self._by_name.get((ref.partition, ref.account, ref.name), [])
            else:
                group = []
            found.update((c.index, c) for c in group)
        return list(found.values())

    def vias(self, cs: CompiledStatement) -> dict[int, Via]:
        """Class index -> how the statement names it, for the classes it names."""
        out: dict[int, Via] = {}
        for cls in self._candidates(cs):
            via = principal_via(cs, cls)
            if via is not None:
                out[cls.index] = via
        return out


def _derived_signature(cls: CallerClass, derived_keys: frozenset[str]) -> tuple[object, ...]:
    """What the derived context keys the policies read can tell about a class."""
    parts: list[object] = []
    if "aws:principalarn" in derived_keys:
        parts.append((cls.kind, cls.name, cls.session, cls.path))
    if "aws:principaltype" in derived_keys:
        parts.append(cls.kind if cls.kind != "role" else "assumed_role")
    if "aws:username" in derived_keys:
        parts.append(cls.name if cls.kind == "user" else "-")
    if "aws:principalservicename" in derived_keys:
        parts.append(cls.name if cls.kind == "service" else "-")
    return tuple(parts)


def merge_classes(
    classes: list[CallerClass],
    statements: Iterable[CompiledStatement],
    derived_keys: frozenset[str],
    groups: Collection[tuple[str | None, ...]],
    marks: Callable[[CallerClass], object] = lambda cls: None,
) -> list[CallerClass]:
    """Keep one class of each set the policies cannot tell apart (fewer cases for the solver).

    Two classes are interchangeable when every resource-policy statement names them the same
    way, they share partition and account, they are both (or neither) the root or a service,
    they belong to the same one of ``groups`` (principals with known IAM policies) or to none,
    ``marks`` (e.g. which grants name them) agree, and the derived keys the conditions read agree on them.
    """
    index = ClassIndex(classes)
    named_by: dict[int, list[tuple[int, Via]]] = {}
    for number, cs in enumerate(statements):
        for cls_index, via in index.vias(cs).items():
            named_by.setdefault(cls_index, []).append((number, via))
    kept: list[CallerClass] = []
    seen: set[tuple[object, ...]] = set()
    for cls in classes:
        vias = tuple(named_by.get(cls.index, ()))
        key = (
            cls.kind == "account",
            cls.kind == "service",
            cls.partition,
            cls.account,
            cls.group if cls.group in groups else None,
            marks(cls),
            vias,
            _derived_signature(cls, derived_keys),
        )
        if key in seen:
            continue
        seen.add(key)
        kept.append(
            CallerClass(
                len(kept), cls.kind, cls.partition, cls.account, cls.name, cls.session, cls.placeholder, cls.group, cls.path
            )
        )
    return kept
