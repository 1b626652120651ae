"""Seeding a test-mode server from an account snapshot (``serve --test-mode --seed snap.yaml``,
``local_kms.load(snapshot)``): the snapshot's keys with their own ids and ARNs, and its users and
roles as identities that sign with their IAM policies, boundaries and the organization's SCPs and RCPs.

Why: the snapshot that answers ``policyengine can`` is then the one the application's tests run
against, so a test fails exactly where production would refuse, and a role policy that names the
production key ARN works unchanged.

Each user and role gets an access key derived from its ARN (``access_key_for``), with the secret
``SEED_SECRET``; a role signs as its session ``arn:aws:sts::<account>:assumed-role/<name>/session``
(as ``policyengine can`` asks). A key already in the store (same id) is kept as it is, so several
servers sharing one store may seed from the same snapshot and agree on the key material.

What a snapshot cannot carry: key material (new material is made; production ciphertexts do not
decrypt), rotation schedules, deletion dates (a key pending deletion gets AWS's default 30 days)
and keys in custom key stores (origin ``AWS_CLOUDHSM``/``EXTERNAL_KEY_STORE``), which are left out
and listed in the summary.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policyengine.access.errors import SnapshotError
from policyengine.access.loader import load_snapshot, snapshot_from_data
from policyengine.access.snapshot import GrantSpec, Snapshot
from policyengine.access.world import Principal, World, policy_text
from policyengine.kms import Caller
from policyengine.kms.keyspecs import KEY_SPECS, UNAVAILABLE_SPECS, USAGES
from policyengine.kms.organization import AccountOrganization
from policyengine.kms.seeding import SeedGrant, SeedKey, seed_keys
from policyengine.server.identities import Identity

if TYPE_CHECKING:
    from policyengine.server.app import KmsApp

__all__ = ["SEED_SECRET", "Seed", "access_key_for", "load_seed"]

#: The secret access key of every seeded identity (test mode only; the fixture's default secret too).
SEED_SECRET = "policyengine-test-secret"
_CUSTOM_KEY_STORE_ORIGINS = ("AWS_CLOUDHSM", "EXTERNAL_KEY_STORE")
_SEEDABLE_STATES = ("Enabled", "Disabled", "PendingDeletion", "PendingReplicaDeletion", "PendingImport")


def access_key_for(principal_arn: str) -> str:
    """The access key id a seeded principal signs with: ``AKIA`` and 16 base32 characters of its ARN's digest."""
    digest = hashlib.sha256(principal_arn.encode()).digest()
    return "AKIA" + base64.b32encode(digest).decode()[:16]


@dataclass(frozen=True)
class SeededPrincipal:
    """One user or role of the snapshot as the server knows it."""

    arn: str  # the user or role ARN
    caller: str  # what requests carry: the user, or the role's session
    label: str  # user/alice, role/app (account-qualified where a name repeats)
    access_key: str


@dataclass(frozen=True)
class Seed:
    """A checked snapshot, ready to put into a server (again after every ``/_reset``)."""

    source: str
    keys: tuple[SeedKey, ...]
    identities: tuple[Identity, ...]
    principals: tuple[SeededPrincipal, ...]
    organization: Mapping[str, AccountOrganization]
    management_account: str | None
    left_out: tuple[str, ...]  # keys not seeded, with why

    def apply(self, app: KmsApp) -> int:
        """Put the keys in the store (those not there yet), the identities in the registry and the
        organization in the facade; the number of keys added."""
        kms = app.state.view(self.keys[0].region if self.keys else "us-east-1")
        kms.organization.set(self.organization, self.management_account)
        for identity in self.identities:
            app.registry.add(identity)
        return len(seed_keys(kms, self.keys))

    def access_key(self, principal: str) -> str:
        """The access key of a seeded principal named by ARN (user, role or role session) or label."""
        for seeded in self.principals:
            if principal in (seeded.arn, seeded.caller, seeded.label):
                return seeded.access_key
        known = ", ".join(p.label for p in self.principals[:8])
        raise SnapshotError(self.source, "", f"`{principal}` is not a user or role of the snapshot (some there: {known})")

    def summary(self) -> str:
        """For the log: what was seeded, what was left out, and each principal's access key."""
        text = f"seeded from {self.source}: {len(self.keys)} keys, {len(self.principals)} principals"
        if self.left_out:
            text += f"; left out: {'; '.join(self.left_out)}"
        lines = [f"  {p.access_key} (secret {SEED_SECRET}) signs as {p.caller}" for p in self.principals]
        return "\n".join([text, *lines])


def load_seed(snapshot: str | Path | Snapshot | Mapping[str, Any], source: str | None = None) -> Seed:
    """Read and check a snapshot (a file, its data, or a ``Snapshot``); ``SnapshotError`` names the field of a problem."""
    if isinstance(snapshot, Snapshot):
        model, where = snapshot, source or "snapshot"
    elif isinstance(snapshot, Mapping):
        where = source or "snapshot"
        model = snapshot_from_data(dict(snapshot), where)
    else:
        model, where = load_snapshot(snapshot), str(snapshot)
    world = World.build(model, where)
    keys, left_out = _keys(model, where)
    principals = [_seeded(p) for p in world.principals.values()]
    identities = tuple(Identity(p.access_key, SEED_SECRET, _caller(world, world.principals[p.arn])) for p in principals)
    organization = {
        account.id: AccountOrganization(account.org_id, account.org_paths, account.rcp_levels)
        for account in world.accounts.values()
    }
    return Seed(where, tuple(keys), identities, tuple(principals), organization, world.management_account, tuple(left_out))


def _seeded(principal: Principal) -> SeededPrincipal:
    return SeededPrincipal(principal.arn, principal.caller, principal.label, access_key_for(principal.arn))


def _caller(world: World, principal: Principal) -> Caller:
    """The caller a seeded principal signs as, with its policies, boundary, its account's SCPs and tags."""
    account = world.account(principal.account)
    scps = account.scp_levels if account is not None else None
    user_id = principal.unique_id
    if principal.kind == "role" and user_id is not None:
        user_id = f"{user_id}:{principal.caller.rsplit('/', 1)[1]}"  # AROA...:session, as AWS sets aws:userid
    return Caller(
        principal=principal.caller,
        account=principal.account,
        identity_policies=tuple(policy.document for policy in principal.identity),
        permissions_boundary=principal.boundary.document if principal.boundary is not None else None,
        scp_levels=tuple(tuple(policy.document for policy in level) for level in scps) if scps is not None else None,
        tags=dict(principal.tags),
        identity_arn=principal.arn if principal.kind == "role" else None,
        user_id=user_id,
    )


def _keys(snapshot: Snapshot, source: str) -> tuple[list[SeedKey], list[str]]:
    keys: list[SeedKey] = []
    left_out: list[str] = []
    aliases: set[tuple[str, str, str]] = set()
    for account in snapshot.accounts:
        for key in account.keys:
            where = f"accounts[{account.id}].keys[{key.id}]"
            if key.origin in _CUSTOM_KEY_STORE_ORIGINS or key.state == "Unavailable":
                left_out.append(f"{key.id} (origin {key.origin}, state {key.state}: custom key stores are not emulated)")
                continue
            _check_key(source, where, key.spec, key.usage, key.origin, key.id, key.multi_region)
            for alias in key.aliases:
                place = (account.id, key.region, alias)
                if place in aliases:
                    raise SnapshotError(source, f"{where}.aliases", f"alias `{alias}` names two keys in {key.region}")
                aliases.add(place)
            keys.append(
                SeedKey(
                    key_id=key.id,
                    account=account.id,
                    region=key.region,
                    policy=policy_text(key.policy, source, f"{where}.policy"),
                    key_spec=key.spec,
                    key_usage=key.usage,
                    origin=key.origin,
                    key_manager=key.manager,
                    state=key.state if key.state in _SEEDABLE_STATES else "Enabled",  # Creating/Updating end Enabled
                    description=key.description,
                    multi_region=key.multi_region,
                    tags=dict(key.tags),
                    aliases=tuple(key.aliases),
                    grants=tuple(_grant(grant, account.id) for grant in key.grants),
                )
            )
    seen: set[tuple[str, str]] = set()
    for seed in keys:
        if (seed.arn, seed.region) in seen:
            raise SnapshotError(source, f"accounts[{seed.account}].keys[{seed.key_id}]", "the key appears twice in its region")
        seen.add((seed.arn, seed.region))
    return keys, left_out


def _check_key(source: str, where: str, spec: str, usage: str, origin: str, key_id: str, multi_region: bool) -> None:
    if spec not in KEY_SPECS or spec in UNAVAILABLE_SPECS or spec == "SM2":
        raise SnapshotError(source, f"{where}.spec", f"`{spec}` is not a key spec the local KMS offers")
    if usage not in USAGES[spec]:
        raise SnapshotError(source, f"{where}.usage", f"key usage `{usage}` is not one of {spec}'s ({', '.join(USAGES[spec])})")
    if origin not in ("AWS_KMS", "EXTERNAL"):
        raise SnapshotError(source, f"{where}.origin", f"`{origin}` is not a key origin (AWS_KMS, EXTERNAL)")
    if multi_region != key_id.startswith("mrk-"):
        raise SnapshotError(source, f"{where}.multi_region", "a multi-Region key's id starts with mrk-, and only its id")


def _grant(grant: GrantSpec, account: str) -> SeedGrant:
    constraints = grant.constraints.given() if grant.constraints else None
    return SeedGrant(
        grant_id=grant.grant_id,
        grantee_principal=grant.grantee_principal,
        operations=tuple(grant.operations),
        issuing_account=grant.issuing_account or account,
        constraints=_constraints(constraints) if constraints else None,
        retiring_principal=grant.retiring_principal,
        name=grant.name,
    )


def _constraints(data: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    names = {"encryption_context_equals": "EncryptionContextEquals", "encryption_context_subset": "EncryptionContextSubset"}
    return {names[k]: dict(v) for k, v in data.items()}
