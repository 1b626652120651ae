"""``policyengine check ... -s snap.yaml``: judge a key policy inside its account's policy set.

The snapshot is the one ``can`` reads. The key (``--key``, or the snapshot's only key) fixes the
resource, its account's RCP levels and its grants; every user and role of the snapshot brings
its identity policies and permissions boundary; every account its SCP levels; the snapshot's
VPC endpoints their policies. The key policy under check replaces the key's own. Callers the
snapshot does not hold keep unknown IAM policies, as without a snapshot. The context keys ``can``
takes from a snapshot (principal tags and organization, the key's tags, organization and spec)
are fixed the same way; every other key stays free.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

from policyengine.cli.output import err, escape

if TYPE_CHECKING:
    from policyengine.analysis import Surroundings

snapshot_check_option = click.option(
    "-s",
    "--snapshot",
    "snapshot_path",
    type=click.Path(dir_okay=False),
    help="judge the key policy inside this snapshot's SCPs, RCPs, IAM policies, boundaries, endpoints and grants",
)
key_option = click.option(
    "--key", "key", help="with --snapshot: the key whose policy this is (ARN, id or alias; default: the snapshot's only key)"
)


@dataclass(frozen=True)
class SnapshotScope:
    """What a snapshot contributes to a check: the surroundings and the key's ARN."""

    around: Surroundings
    key_arn: str


def snapshot_scope(path: str | None, key: str | None) -> SnapshotScope | None:
    """The surroundings of ``key`` in the snapshot at ``path`` (None without a snapshot)."""
    if path is None:
        if key is not None:
            raise click.BadParameter("--key names a key of a snapshot: give --snapshot too", param_hint="--key")
        return None
    from policyengine.access import World, load_snapshot  # the access queries and the encoder: not for --help
    from policyengine.analysis import Holder, Surroundings

    world = World.build(load_snapshot(path), path)
    if key is not None:
        info = world.key(key)
    elif len(world.keys) == 1:
        info = next(iter(world.keys.values()))
    else:
        raise click.BadParameter(
            f"the snapshot holds {len(world.keys)} keys: name the one whose policy this is", param_hint="--key"
        )
    if world.unused:
        err.print(
            f"[yellow]warning[/]: the snapshot is incomplete: {len(world.unused)} exported items could not be used "
            f"(`policyengine snapshot check {escape(path)}` lists them)"
        )
    if not info.grants_known:
        err.print(f"[yellow]warning[/]: the grants of {escape(info.label)} were not exported: grants are not counted")
    holders = tuple(Holder(p.arn, p.identity, p.boundary, facts=world.principal_context(p)) for p in world.principals.values())
    organizations: dict[str, dict[str, str | tuple[str, ...]]] = {}
    for account in world.accounts.values():
        if account.org_id is not None:
            facts = organizations[account.id] = {"aws:principalorgid": account.org_id}
            if account.org_paths is not None:
                facts["aws:principalorgpaths"] = (account.org_paths,)
    around = Surroundings(
        holders=holders,
        scp_levels={a.id: a.scp_levels for a in world.accounts.values() if a.scp_levels},
        rcp_levels={a.id: a.rcp_levels for a in world.accounts.values() if a.rcp_levels},
        management_account=world.management_account,
        endpoints=tuple(world.endpoints.items()),
        grants=info.grants,
        account_facts=organizations,
        key=info.arn,
        key_facts=world.key_context(info),
    )
    return SnapshotScope(around, info.arn)
