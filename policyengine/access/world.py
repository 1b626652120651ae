"""A snapshot compiled for questions: principals, keys and accounts with their policies compiled once.

Every policy document is parsed and compiled here, once, and shared: a managed policy attached
to 300 roles is one ``CompiledPolicy``, whose per-caller caches then serve all of them. A bad
policy is a ``SnapshotError`` naming the snapshot field it sits in, so a typo in one role's
inline policy is found at load time, not halfway through an access matrix.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from policyengine.access.errors import LookupFailure, SnapshotError
from policyengine.access.facts import org_paths
from policyengine.access.snapshot import Account, InlinePolicy, Key, ManagedPolicy, PolicyJson, Snapshot, Unused
from policyengine.errors import PolicyInputError, RequestError
from policyengine.evaluator.compiled import CompiledPolicy, compile_policy
from policyengine.explain.decision import PolicyKind
from policyengine.model.grant import Grant
from policyengine.model.request import ContextValue
from policyengine.parsing.document import parse_policy_fast
from policyengine.parsing.request import make_grant

PrincipalKind = Literal["user", "role"]
SESSION_NAME = "session"


@dataclass(frozen=True, eq=False)
class AccountInfo:
    """An account's organization facts and compiled guardrails."""

    id: str
    name: str | None
    org_id: str | None
    ou_path: tuple[str, ...]
    scp_levels: tuple[tuple[CompiledPolicy, ...], ...] | None
    rcp_levels: tuple[tuple[CompiledPolicy, ...], ...] | None

    @property
    def org_paths(self) -> str | None:
        return org_paths(self.org_id, self.ou_path)


@dataclass(frozen=True, eq=False)
class Principal:
    """An IAM user or role of the snapshot, with everything that decides what it may do."""

    kind: PrincipalKind
    arn: str
    account: str
    name: str
    path: str
    tags: Mapping[str, str]
    unique_id: str | None
    identity: tuple[CompiledPolicy, ...]
    boundary: CompiledPolicy | None
    trust: CompiledPolicy | None
    label: str = ""

    @property
    def caller(self) -> str:
        """The ARN a request from this principal carries: the user, or a session of the role."""
        if self.kind == "role":
            return f"arn:aws:sts::{self.account}:assumed-role/{self.name}/{SESSION_NAME}"
        return self.arn


@dataclass(frozen=True, eq=False)
class KeyInfo:
    """A KMS key of the snapshot with its compiled key policy and grants."""

    arn: str
    id: str
    account: str
    region: str
    policy: CompiledPolicy
    grants: tuple[Grant, ...]
    grants_known: bool
    aliases: tuple[str, ...]
    state: str
    spec: str
    usage: str
    origin: str
    manager: str
    multi_region: bool
    tags: Mapping[str, str]
    description: str
    label: str = ""


@dataclass
class World:
    """The compiled snapshot; build it with ``World.build``."""

    accounts: dict[str, AccountInfo]
    principals: dict[str, Principal]
    keys: dict[str, KeyInfo]
    management_account: str | None
    unused: tuple[Unused, ...]
    source: str
    #: VPC endpoint policies by endpoint id (``aws:SourceVpce``); endpoints with the default policy are left out.
    endpoints: dict[str, CompiledPolicy] = field(default_factory=dict)
    _labels: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, snapshot: Snapshot, source: str = "snapshot") -> World:
        return _Builder(snapshot, source).build()

    # -- lookups --------------------------------------------------------------------------------

    def principal(self, text: str) -> Principal:
        """A principal by ARN (user, role, or a session of the role), label, or ``[account:]kind/name``."""
        if text in self.principals:
            return self.principals[text]
        wanted = text
        if text.startswith("arn:") and ":assumed-role/" in text:
            account = text.split(":")[4]
            wanted = f"{account}:role/{text.split('/')[1]}"
        matches = [p for p in self.principals.values() if _principal_names(p, wanted)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            known = ", ".join(sorted(p.label for p in self.principals.values())[:8])
            raise LookupFailure("principal", f"`{text}` is not a user or role of the snapshot (some there: {known})")
        raise LookupFailure("principal", f"`{text}` is ambiguous: {', '.join(sorted(p.arn for p in matches))}")

    def key(self, text: str) -> KeyInfo:
        """A key by ARN, id, ``key/<id>``, alias name or alias ARN."""
        if text in self.keys:
            return self.keys[text]
        bare = text.removeprefix("key/")
        matches: list[KeyInfo] = []
        for key in self.keys.values():
            alias_arns = {f"arn:aws:kms:{key.region}:{key.account}:{a}" for a in key.aliases}
            if bare == key.id or text in key.aliases or text in alias_arns or text == key.label:
                matches.append(key)
        if len(matches) == 1:
            return matches[0]
        if not matches:
            known = ", ".join(sorted(k.label for k in self.keys.values())[:8])
            raise LookupFailure("key", f"`{text}` is not a key of the snapshot (some there: {known})")
        raise LookupFailure("key", f"`{text}` is ambiguous: {', '.join(sorted(k.arn for k in matches))}")

    def account(self, account_id: str | None) -> AccountInfo | None:
        return self.accounts.get(account_id or "")

    # -- facts ----------------------------------------------------------------------------------

    def principal_context(self, principal: Principal) -> dict[str, ContextValue]:
        """Context keys the snapshot fixes for requests by ``principal`` (tags, organization, user id)."""
        ctx: dict[str, ContextValue] = {f"aws:principaltag/{k.lower()}": v for k, v in principal.tags.items()}
        account = self.accounts.get(principal.account)
        if account is not None and account.org_id is not None:
            ctx["aws:principalorgid"] = account.org_id
            paths = account.org_paths
            if paths is not None:
                ctx["aws:principalorgpaths"] = (paths,)
        if principal.kind == "user" and principal.unique_id:
            ctx["aws:userid"] = principal.unique_id
        return ctx

    def key_context(self, key: KeyInfo) -> dict[str, ContextValue]:
        """Context keys the snapshot fixes for requests on ``key``."""
        ctx: dict[str, ContextValue] = {f"aws:resourcetag/{k.lower()}": v for k, v in key.tags.items()}
        account = self.accounts.get(key.account)
        if account is not None and account.org_id is not None:
            ctx["aws:resourceorgid"] = account.org_id
            paths = account.org_paths
            if paths is not None:
                ctx["aws:resourceorgpaths"] = (paths,)
        ctx["aws:requestedregion"] = key.region
        ctx["kms:keyspec"] = key.spec
        ctx["kms:customermasterkeyspec"] = key.spec
        ctx["kms:keyusage"] = key.usage
        ctx["kms:customermasterkeyusage"] = key.usage
        ctx["kms:keyorigin"] = key.origin
        ctx["kms:multiregion"] = "true" if key.multi_region else "false"
        if key.aliases:
            ctx["kms:resourcealiases"] = tuple(key.aliases)
        return ctx


def _principal_names(principal: Principal, text: str) -> bool:
    short = f"{principal.kind}/{principal.name}"
    return text in (principal.label, short, f"{principal.account}:{short}", principal.caller) or (
        text.startswith("arn:")
        and text.split("/")[-1] == principal.name
        and text.split(":")[4] == principal.account
        and f":{principal.kind}/" in text
    )


def policy_text(document: PolicyJson, source: str, where: str) -> str:
    """The text of a snapshot policy field: the JSON object, its text, or the file it names (a path
    relative to the snapshot file ``source``, as scenario files allow); ``where`` names the field.

    A saved ``aws kms get-key-policy`` output (``{"Policy": "..."}``) is read as the policy it holds.
    """
    if not isinstance(document, str):
        return json.dumps(document, indent=2)
    if document.lstrip().startswith("{"):
        return document
    path = Path(document.strip())
    if not path.is_absolute():
        origin = Path(source)
        path = (origin.parent if origin.suffix else Path.cwd()) / path
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        message = f"not a JSON policy, nor a readable policy file `{document}` ({exc.strerror})"
        raise SnapshotError(source, where, message) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return text  # the parser reports the problem with its line and column
    if isinstance(data, dict) and isinstance(data.get("Policy"), str) and "Statement" not in data:
        return str(data["Policy"])
    return text


class _Builder:
    """Turns the snapshot's plain data into compiled policies, reporting the field of any problem."""

    def __init__(self, snapshot: Snapshot, source: str) -> None:
        self.snapshot = snapshot
        self.source = source
        self.compiled: dict[tuple[str, str], CompiledPolicy] = {}
        self.boundaries: dict[tuple[str, str], CompiledPolicy] = {}
        self.aws_managed = {p.arn: (p, f"aws_managed_policies[{p.arn}]") for p in snapshot.aws_managed_policies}

    def compile(self, document: PolicyJson, kind: PolicyKind, name: str, where: str) -> CompiledPolicy:
        cache_key = (kind, where)
        found = self.compiled.get(cache_key)
        if found is not None:
            return found
        text = policy_text(document, self.source, where)
        try:
            parsed = parse_policy_fast(text, name)
        except PolicyInputError as exc:
            issue = exc.issues[0]
            pointer = issue.pointer or ""
            raise SnapshotError(self.source, f"{where}{pointer}", issue.message) from None
        compiled = compile_policy(parsed, kind, name)
        self.compiled[cache_key] = compiled
        return compiled

    def levels(self, account: Account, which: Literal["scps", "rcps"]) -> tuple[tuple[CompiledPolicy, ...], ...] | None:
        levels = account.scps if which == "scps" else account.rcps
        if levels is None:
            return None
        kind: PolicyKind = "scp" if which == "scps" else "rcp"
        word = "SCP" if which == "scps" else "RCP"
        out = []
        for i, level in enumerate(levels):
            policies = []
            for policy in level.policies:
                where = f"accounts[{account.id}].{which}[{level.target or i}].policies[{policy.name}].document"
                policies.append(self.compile(policy.document, kind, f"{word} {policy.name}", where))
            out.append(tuple(policies))
        return tuple(out)

    def managed(self, account: Account, arn: str, where: str) -> CompiledPolicy:
        local = {p.arn: p for p in account.managed_policies}
        policy: ManagedPolicy | None = local.get(arn)
        place = f"accounts[{account.id}].managed_policies[{arn}].document"
        if policy is None and arn in self.aws_managed:
            policy, place = self.aws_managed[arn]
            place += ".document"
        if policy is None:
            raise SnapshotError(
                self.source,
                where,
                f"managed policy `{arn}` is not in the snapshot (add it to the account's `managed_policies`, "
                "or to `aws_managed_policies` for AWS managed policies)",
            )
        return self.compile(policy.document, "identity", policy.name or arn, place)

    def attached(
        self, account: Account, owner: str, where: str, inline: Iterable[InlinePolicy], managed: Iterable[str]
    ) -> list[CompiledPolicy]:
        out = [
            self.compile(p.document, "identity", f"{owner} inline policy {p.name}", f"{where}.inline_policies[{p.name}].document")
            for p in inline
        ]
        out.extend(self.managed(account, arn, f"{where}.managed_policies") for arn in managed)
        return out

    def principals(self, account: Account) -> list[Principal]:
        groups = {g.name: g for g in account.groups}
        group_policies: dict[str, list[CompiledPolicy]] = {}
        for group in account.groups:
            where = f"accounts[{account.id}].groups[{group.name}]"
            group_policies[group.name] = self.attached(
                account, f"group/{group.name}", where, group.inline_policies, group.managed_policies
            )
        found: list[Principal] = []
        for user in account.users:
            where = f"accounts[{account.id}].users[{user.name}]"
            identity = self.attached(account, f"user/{user.name}", where, user.inline_policies, user.managed_policies)
            for name in user.groups:
                if name not in groups:
                    raise SnapshotError(self.source, f"{where}.groups", f"group `{name}` is not in account {account.id}")
                identity.extend(group_policies[name])
            boundary = self.boundary(account, user.permissions_boundary, where)
            found.append(
                Principal(
                    "user",
                    f"arn:aws:iam::{account.id}:user{_path(user.path)}{user.name}",
                    account.id,
                    user.name,
                    user.path,
                    dict(user.tags),
                    user.id,
                    tuple(identity),
                    boundary,
                    None,
                )
            )
        for role in account.roles:
            where = f"accounts[{account.id}].roles[{role.name}]"
            identity = self.attached(account, f"role/{role.name}", where, role.inline_policies, role.managed_policies)
            trust = self.compile(role.trust_policy, "trust_policy", f"trust policy of role/{role.name}", f"{where}.trust_policy")
            boundary = self.boundary(account, role.permissions_boundary, where)
            found.append(
                Principal(
                    "role",
                    f"arn:aws:iam::{account.id}:role{_path(role.path)}{role.name}",
                    account.id,
                    role.name,
                    role.path,
                    dict(role.tags),
                    role.id,
                    tuple(identity),
                    boundary,
                    trust,
                )
            )
        return found

    def boundary(self, account: Account, arn: str | None, where: str) -> CompiledPolicy | None:
        if arn is None:
            return None
        found = self.boundaries.get((account.id, arn))
        if found is None:
            policy = self.managed(account, arn, f"{where}.permissions_boundary")
            # The same document compiled as a boundary (its statements are reported as the boundary's).
            found = compile_policy(policy.document, "boundary", f"boundary {policy.name}")
            self.boundaries[(account.id, arn)] = found
        return found

    def key(self, account: Account, key: Key) -> KeyInfo:
        where = f"accounts[{account.id}].keys[{key.id}]"
        arn = key.arn or f"arn:aws:kms:{key.region}:{account.id}:key/{key.id}"
        parts = arn.split(":")
        if len(parts) != 6 or parts[2] != "kms" or parts[4] != account.id or not parts[5].startswith("key/"):
            raise SnapshotError(self.source, f"{where}.arn", f"`{arn}` is not the ARN of a KMS key of account {account.id}")
        policy = self.compile(key.policy, "key_policy", f"key policy of key/{key.id}", f"{where}.policy")
        grants = []
        for grant in key.grants:
            try:
                grants.append(
                    make_grant(
                        grant.grant_id,
                        arn,
                        grant.grantee_principal,
                        grant.operations,
                        constraints=grant.constraints.given() if grant.constraints else None,
                        retiring_principal=grant.retiring_principal,
                        name=grant.name,
                        issuing_account=grant.issuing_account or account.id,
                    )
                )
            except RequestError as exc:
                raise SnapshotError(self.source, f"{where}.grants[{grant.grant_id}]", str(exc)) from None
        return KeyInfo(
            arn,
            key.id,
            account.id,
            key.region,
            policy,
            tuple(grants),
            key.grants_known,
            tuple(key.aliases),
            key.state,
            key.spec,
            key.usage,
            key.origin,
            key.manager,
            key.multi_region,
            dict(key.tags),
            key.description,
        )

    def build(self) -> World:
        snapshot = self.snapshot
        org_id = snapshot.organization.id if snapshot.organization else None
        accounts: dict[str, AccountInfo] = {}
        principals: list[Principal] = []
        keys: list[KeyInfo] = []
        endpoints: dict[str, CompiledPolicy] = {}
        for account in snapshot.accounts:
            if account.id in accounts:
                raise SnapshotError(self.source, f"accounts[{account.id}]", "the account appears twice")
            accounts[account.id] = AccountInfo(
                account.id,
                account.name,
                account.org_id or org_id,
                tuple(account.ou_path),
                self.levels(account, "scps"),
                self.levels(account, "rcps"),
            )
            principals.extend(self.principals(account))
            keys.extend(self.key(account, key) for key in account.keys)
            for endpoint in account.vpc_endpoints:
                if endpoint.id in endpoints:
                    raise SnapshotError(
                        self.source, f"accounts[{account.id}].vpc_endpoints[{endpoint.id}]", "the endpoint appears twice"
                    )
                if endpoint.policy is not None:
                    where = f"accounts[{account.id}].vpc_endpoints[{endpoint.id}].policy"
                    endpoints[endpoint.id] = self.compile(
                        endpoint.policy, "endpoint_policy", f"endpoint policy of {endpoint.id}", where
                    )
        world = World(
            accounts,
            _labelled_principals(principals),
            _labelled_keys(keys),
            snapshot.organization.management_account if snapshot.organization else None,
            tuple(snapshot.unused),
            self.source,
            endpoints,
        )
        return world


def _path(path: str) -> str:
    return path if path.endswith("/") else path + "/"


def _labelled_principals(principals: list[Principal]) -> dict[str, Principal]:
    """Short labels (``user/alice``), qualified with the account only where a name repeats."""
    counts = Counter((p.kind, p.name) for p in principals)
    out: dict[str, Principal] = {}
    for p in principals:
        short = f"{p.kind}/{p.name}"
        out[p.arn] = replace(p, label=short if counts[(p.kind, p.name)] == 1 else f"{p.account}:{short}")
    return out


def _labelled_keys(keys: list[KeyInfo]) -> dict[str, KeyInfo]:
    counts = Counter(k.id for k in keys)
    return {k.arn: replace(k, label=f"key/{k.id}" if counts[k.id] == 1 else f"{k.account}:key/{k.id}") for k in keys}
