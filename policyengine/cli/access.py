"""``can``, ``who-can``, ``what-can``, ``access-matrix`` and ``snapshot``: access questions over a snapshot.

Exit codes: 0 allowed (or the command succeeded), 1 bad input, 2 denied, 4 allowed only under
conditions the request context decides (``can`` only: a script asking "may X do Y?" must not
read "only if..." as yes, nor as no); with ``can --expect``, 0 as expected and 3 otherwise.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from policyengine.access import (
    GROUPS,
    Access,
    SnapshotError,
    Verdict,
    World,
    dump_snapshot,
    explain_lines,
    formula_text,
    load_snapshot,
)
from policyengine.cli.findings import findings
from policyengine.cli.options import snapshot_option
from policyengine.cli.output import err, escape, out, print_json

if TYPE_CHECKING:
    from policyengine.access import Matrix

EXIT_DENIED = 2
EXIT_CONDITIONAL = 4
EXIT_UNEXPECTED = 3
_WORDS = {"allow": "[green]ALLOW[/]", "deny": "[red]DENY[/]", "conditional": "[yellow]ALLOW ONLY IF[/]"}
_SHORT = {"allow": "[green]allow[/]", "deny": "[dim]deny[/]", "conditional": "[yellow]only if[/]"}

format_option = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
context_option = click.option(
    "--context",
    "context",
    multiple=True,
    metavar="KEY=VALUE",
    help="fix a request-context key (repeatable; repeat a key for a list); "
    "kms:EncryptionContext:k=v pairs form the encryption context",
)
closed_option = click.option(
    "--closed", is_flag=True, help="treat every context key not given as absent: a concrete answer, as `simulate` gives"
)


def _parse_context(pairs: tuple[str, ...]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"`{pair}` is not KEY=VALUE", param_hint="--context")
        if key in context:
            previous = context[key]
            context[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            context[key] = value
    return context


def _open(snapshot_path: str, context: tuple[str, ...] = (), closed: bool = False) -> Access:
    world = World.build(load_snapshot(snapshot_path), snapshot_path)
    if world.unused:
        err.print(
            f"[yellow]warning[/]: the snapshot is incomplete: {len(world.unused)} exported items could not be used "
            f"(`policyengine snapshot check {escape(snapshot_path)}` lists them)"
        )
    return Access.of(world, _parse_context(context), closed=closed)


def _warnings(access: Access) -> list[dict[str, str]]:
    return [u.model_dump() for u in access.world.unused]


@contextmanager
def _progress(total: int, what: str) -> Iterator[Any]:
    """A progress bar on stderr for long runs (none when stderr is not a terminal, and rich is not imported)."""
    if not err.is_terminal:
        yield lambda done: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn(what),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    with progress:
        task = progress.add_task(what, total=total)
        yield lambda done: progress.update(task, completed=done)


def _verdict_lines(verdict: Verdict, explain: bool) -> list[str]:
    direct = verdict.direct
    lines = []
    if verdict.how == "via_role" and verdict.route is not None:
        lines.append(f"  directly: {_SHORT[direct.status]}")
        lines.append(f"  via: {escape(verdict.route.text())}")
        for hop in verdict.route.hops:
            residual = f" {escape(formula_text(hop.result.residual))}" if hop.result.status == "conditional" else ""
            lines.append(
                f"    {escape(hop.source.label)} assumes {escape(hop.role.label)}: {_SHORT[hop.result.status]}{residual}"
            )
        final = verdict.route.final
        residual = f" {escape(formula_text(final.result.residual))}" if final.status == "conditional" else ""
        lines.append(f"    {escape(final.subject.label)} {escape(final.action)}: {_SHORT[final.status]}{residual}")
        if explain:
            lines.extend(f"      {escape(line)}" for line in explain_lines(final.result))
    elif direct.status == "conditional":
        lines.append(f"  only if: {escape(formula_text(direct.result.residual))}")
    if explain or verdict.how == "direct":
        lines.extend(f"  {escape(line)}" for line in explain_lines(direct.result) if explain or line.startswith("why"))
    lines.extend(f"  note: {escape(note)}" for note in direct.notes)
    return lines


@click.command()
@click.argument("principal")
@click.argument("action")
@click.argument("key")
@snapshot_option
@context_option
@closed_option
@click.option("--explain", is_flag=True, help="show the deciding statements and every residual condition")
@click.option("--direct-only", is_flag=True, help="leave role assumption out: only what PRINCIPAL itself may do")
@click.option(
    "--expect",
    type=click.Choice(["allow", "deny", "conditional"]),
    help="for CI: exit 3 when the answer is not this one (conditional = allowed only if)",
)
@format_option
def can(
    principal: str,
    action: str,
    key: str,
    snapshot_path: str,
    context: tuple[str, ...],
    closed: bool,
    explain: bool,
    direct_only: bool,
    expect: str | None,
    fmt: str,
) -> None:
    """Can PRINCIPAL do ACTION on KEY, directly or through roles it can assume?

    PRINCIPAL: user/NAME, role/NAME (a session of it), ACCOUNT:user/NAME, an ARN, root/ACCOUNT,
    service/NAME. KEY: key id, key/ID, key ARN, alias/NAME or alias ARN. Exit code 0 allowed,
    2 denied, 4 allowed only if the request context meets the printed condition; with --expect,
    0 when the answer is the expected one and 3 when it is not.
    """
    access = _open(snapshot_path, context, closed)
    verdict = access.can(principal, action, key, explain=explain, direct_only=direct_only)
    if fmt == "json":
        print_json({**verdict.to_json(), "snapshot_warnings": _warnings(access)})
    else:
        target = verdict.direct.key
        alias = f" ({', '.join(target.aliases)})" if target.aliases else ""
        out.print(
            f"{escape(verdict.direct.subject.label)} {escape(verdict.direct.action)} on {escape(target.label)}{escape(alias)}: "
            f"{_WORDS[verdict.status]}"
        )
        for line in _verdict_lines(verdict, explain):
            out.print(line)
    if expect is not None:
        if verdict.status != expect:
            err.print(f"[red]expected {expect}[/], the answer is {verdict.status}")
            raise SystemExit(EXIT_UNEXPECTED)
        return
    if verdict.status == "deny":
        raise SystemExit(EXIT_DENIED)
    if verdict.status == "conditional":
        raise SystemExit(EXIT_CONDITIONAL)


@click.command("who-can")
@click.argument("action")
@click.argument("key")
@snapshot_option
@context_option
@closed_option
@click.option("--hide-denied", is_flag=True, help="list only principals that can, or can under conditions")
@format_option
def who_can(
    action: str, key: str, snapshot_path: str, context: tuple[str, ...], closed: bool, hide_denied: bool, fmt: str
) -> None:
    """Every principal that can, can only under conditions, or cannot do ACTION on KEY.

    Principals: users, roles (as sessions), named sessions, account roots, other accounts and
    principals the policies name, service principals and grantees.
    """
    access = _open(snapshot_path, context, closed)
    with _progress(len(access.subjects.all()), "who-can") as tick:
        verdicts = access.who_can(action, key, progress=tick)
    shown = [v for v in verdicts if not (hide_denied and v.status == "deny")]
    if fmt == "json":
        print_json(
            {
                "action": action,
                "key": access.world.key(key).arn,
                "principals": [v.to_json() for v in shown],
                "snapshot_warnings": _warnings(access),
            }
        )
        return
    from rich.table import Table

    table = Table(title=f"who can {action} on {access.world.key(key).label}", show_lines=False)
    for column in ("principal", "kind", "answer", "condition / path / reason"):
        table.add_column(column)
    for verdict in shown:
        table.add_row(
            escape(verdict.direct.subject.label), verdict.direct.subject.kind, _SHORT[verdict.status], _summary(verdict)
        )
    out.print(table)


def _summary(verdict: Verdict) -> str:
    if verdict.how == "via_role" and verdict.route is not None:
        conditions = [formula_text(h.result.residual) for h in verdict.route.hops if h.result.status == "conditional"]
        if verdict.route.final.status == "conditional":
            conditions.append(formula_text(verdict.route.final.result.residual))
        suffix = f" if {'; then '.join(conditions)}" if conditions else ""
        return escape(f"via {verdict.route.text()}{suffix}")
    if verdict.status == "conditional":
        return escape(formula_text(verdict.direct.result.residual))
    if verdict.status == "deny":
        return escape(explain_lines(verdict.direct.result)[0].removeprefix("why: "))
    return ""


@click.command("what-can")
@click.argument("principal")
@snapshot_option
@context_option
@closed_option
@format_option
def what_can(principal: str, snapshot_path: str, context: tuple[str, ...], closed: bool, fmt: str) -> None:
    """Every key and action group PRINCIPAL can reach, directly or through roles."""
    access = _open(snapshot_path, context, closed)
    subject = access.subject(principal)
    from rich.table import Table

    from policyengine.access import access_matrix

    matrix = access_matrix(access, subjects=[subject])
    if fmt == "json":
        data = matrix.to_json()
        print_json(
            {
                "principal": subject.label,
                "principal_arn": subject.arn,
                "principal_kind": subject.kind,
                "keys": data["cells"],
                "snapshot_warnings": _warnings(access),
            }
        )
        return
    table = Table(title=f"what {subject.label} can do")
    table.add_column("key")
    for group in GROUPS:
        table.add_column(group)
    for key in matrix.keys:
        cells = [matrix.cell(subject, key, g) for g in GROUPS]
        if all(c.status == "deny" for c in cells):
            continue
        label = key.aliases[0] if key.aliases else key.label
        table.add_row(escape(label), *(_cell_text(c) for c in cells))
    out.print(table)


def _cell_text(cell: Any) -> str:
    text = _SHORT[cell.status]
    if cell.route is not None:
        text += f" via {escape(cell.route.hops[-1].role.label)}"
    return text


@click.command("principal-can")
@click.argument("principal")
@snapshot_option
@context_option
@closed_option
@format_option
def principal_can(principal: str, snapshot_path: str, context: tuple[str, ...], closed: bool, fmt: str) -> None:
    """Everything PRINCIPAL can do to KMS keys, after every policy kind and role it can assume, as one
    consolidated, minimal IAM policy (keys with equal actions share a statement; residual conditions
    become Condition blocks; what IAM conditions cannot state is listed beside it)."""
    from policyengine.access import principal_policy

    access = _open(snapshot_path, context, closed)
    result = principal_policy(access, principal)
    if fmt == "json":
        print_json({**result.to_json(), "snapshot_warnings": _warnings(access)})
        return
    print_json(result.policy())
    for item in result.not_expressible:
        err.print(
            f"[yellow]not expressible as IAM conditions[/]: {escape(item['action'])} on {escape(item['key'])} "
            f"only if {escape(item['condition'])}"
        )


@click.command("access-matrix")
@snapshot_option
@context_option
@closed_option
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="write the matrix as a self-contained HTML report")
@click.option(
    "--all-principals", is_flag=True, help="rows for every caller (roots, other accounts, services), not only users and roles"
)
@format_option
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    help="worker processes for the matrix (default: one per CPU this process may use from 50,000 cells, callers x keys, up)",
)
def access_matrix_command(
    snapshot_path: str,
    context: tuple[str, ...],
    closed: bool,
    out_path: str | None,
    all_principals: bool,
    fmt: str,
    processes: int | None,
) -> None:
    """Principals × keys × action groups (administer, crypto, grant, read): allow, conditional or deny.

    Without --out the cells are written as they are computed, key by key, by as many processes
    as there are CPUs from 50,000 cells up (--processes): a line per principal and key with any access, or the JSON
    cells that are not plain denies, then the counts. --out needs every cell at once for the
    page, so it computes the matrix in memory first (fine for an account or an organization of
    a few thousand principals, not for the largest).
    """
    access = _open(snapshot_path, context, closed)
    subjects = access.subjects.all() if all_principals else access.subjects.principals()
    if out_path is None:
        _stream_matrix(access, subjects, fmt, processes)
        return
    with _progress(len(subjects), "access matrix") as tick:
        from policyengine.access import access_matrix, render_html

        matrix = access_matrix(access, subjects=subjects, progress=tick)
    if out_path is not None:
        warnings = [f"{u.item}: {u.reason}" for u in access.world.unused]
        Path(out_path).write_text(
            render_html(matrix, title=f"KMS access: {Path(snapshot_path).name}", warnings=warnings), encoding="utf-8"
        )
    if fmt == "json":
        print_json({**matrix.to_json(), "report": out_path, "snapshot_warnings": _warnings(access)})
        return
    _print_matrix(matrix)
    if out_path is not None:
        out.print(f"report: {escape(out_path)}")


def _stream_matrix(access: Access, subjects: list[Any], fmt: str, processes: int | None) -> None:
    """The matrix written as it is computed (``access.stream``); the counts come last."""
    import sys

    from policyengine.access import stream_matrix

    write = sys.stdout.write
    world = access.world
    keys = sorted(world.keys.values(), key=lambda k: k.label)
    if fmt == "json":
        head = {
            "principals": [
                {"label": s.label, "arn": s.arn, "kind": s.kind, "account": s.account, "caller": s.caller} for s in subjects
            ],
            "keys": [{"arn": k.arn, "label": k.label, "account": k.account, "aliases": list(k.aliases)} for k in keys],
            "groups": list(GROUPS),
        }
        write(json.dumps(head)[:-1] + ', "cells": [\n')
    with _progress(len(keys), "access matrix (keys)") as tick:
        summary = stream_matrix(
            access, subjects, write, fmt="json" if fmt == "json" else "text", keys=keys, processes=processes, progress=tick
        )
    counts = summary.counts
    if fmt == "json":
        tail = {"counts": counts, "cells_not_listed": "deny", "report": None, "snapshot_warnings": _warnings(access)}
        write("\n], " + json.dumps(tail)[1:] + "\n")
        return
    write(
        f"{summary.subjects} principals × {summary.keys} keys × {len(summary.groups)} groups: "
        f"{counts['allow']} allow, {counts['conditional']} conditional, {counts['deny']} deny\n"
    )


def _print_matrix(matrix: Matrix) -> None:
    counts = matrix.counts()
    out.print(
        f"{len(matrix.subjects)} principals × {len(matrix.keys)} keys × {len(matrix.groups)} groups: "
        f"{counts['allow']} allow, {counts['conditional']} conditional, {counts['deny']} deny"
    )
    for subject in matrix.subjects:
        for key in matrix.keys:
            cells = {g: matrix.cell(subject, key, g) for g in matrix.groups}
            reachable = [f"{g}={_SHORT[c.status]}" for g, c in cells.items() if c.status != "deny"]
            if reachable:
                out.print(
                    f"{escape(subject.label)}  {escape(key.aliases[0] if key.aliases else key.label)}  {' '.join(reachable)}"
                )


@click.group()
def snapshot() -> None:
    """Build, check and describe account snapshots."""


@snapshot.command("import")
@click.option(
    "--authdetails",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="aws iam get-account-authorization-details output, one file per account (repeatable)",
)
@click.option(
    "--kms-dir",
    multiple=True,
    type=click.Path(exists=True, file_okay=False),
    help="folder of saved aws kms outputs, one per account and region (repeatable; layouts below)",
)
@click.option(
    "--organization",
    "organization_dir",
    type=click.Path(exists=True, file_okay=False),
    help="folder of saved aws organizations outputs: OU paths, SCPs and RCPs (layout below)",
)
@click.option(
    "--terraform",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="terraform show -json of a plan (repeatable)",
)
@click.option(
    "--exports",
    "exports_dir",
    type=click.Path(exists=True, file_okay=False),
    help="a folder of raw exports `snapshot pull --exports` saved",
)
@click.option("--account", help="account id of the Terraform plans (when the plan does not show it)")
@click.option("--region", help="region of the Terraform plans (default: the provider's, else us-east-1)")
@click.option("--base", type=click.Path(exists=True, dir_okay=False), help="a snapshot to start from (organization, SCPs, RCPs)")
@click.option(
    "--out", "out_path", required=True, type=click.Path(dir_okay=False), help="where to write the snapshot (.yaml or .json)"
)
@format_option
def snapshot_import(
    authdetails: tuple[str, ...],
    kms_dir: tuple[str, ...],
    organization_dir: str | None,
    terraform: tuple[str, ...],
    exports_dir: str | None,
    account: str | None,
    region: str | None,
    base: str | None,
    out_path: str,
    fmt: str,
) -> None:
    """Build a snapshot from saved exports; everything that could not be used is listed.

    \b
    --kms-dir DIR: one folder per key, or one file per command and key (mixing is fine):
      DIR/list-keys.json, DIR/list-aliases.json             (optional)
      DIR/<key-id>/describe-key.json, get-key-policy.json   (required per key)
      DIR/<key-id>/list-grants.json, list-resource-tags.json, list-aliases.json
      or DIR/describe-key-<key-id>.json, DIR/get-key-policy-<key-id>.json,
         DIR/list-grants-<key-id>.json, DIR/list-resource-tags-<key-id>.json, ...
    An account with no keys (list-keys shows none) adds no keys.

    \b
    --organization DIR: aws organizations outputs, per id in the name or in a folder <ID>/:
      DIR/describe-organization.json, DIR/list-roots.json, DIR/list-accounts.json
      DIR/list-organizational-units-for-parent-<ROOT-OR-OU-ID>.json
      DIR/list-parents-<ACCOUNT-OR-OU-ID>.json
      DIR/list-policies-for-target-<ID>-scp.json   (--filter SERVICE_CONTROL_POLICY)
      DIR/list-policies-for-target-<ID>-rcp.json   (--filter RESOURCE_CONTROL_POLICY)
      DIR/describe-policy-<POLICY-ID>.json
    RCPFullAWSAccess is implied at every level, as AWS attaches it.
    """
    if not (authdetails or kms_dir or terraform or organization_dir or exports_dir):
        raise click.UsageError("give at least one of --authdetails, --kms-dir, --organization, --terraform, --exports")
    if exports_dir is not None:
        if authdetails or kms_dir or terraform or organization_dir:
            raise click.UsageError("--exports reads a whole pulled folder: give it alone (with --base if needed)")
        from policyengine.access import snapshot_from_exports

        result = snapshot_from_exports(exports_dir, base=load_snapshot(base) if base else None)
        World.build(result, out_path)
        dump_snapshot(result, out_path)
        _report_snapshot(result, out_path, fmt)
        return
    from policyengine.access import (
        Imported,
        build_snapshot,
        import_authdetails,
        import_kms_dir,
        import_organization,
        import_terraform_plan,
    )

    imported = Imported()
    if organization_dir is not None:
        imported.merge(import_organization(organization_dir))
    for path in authdetails:
        imported.merge(import_authdetails(path))
    for path in kms_dir:
        imported.merge(import_kms_dir(path))
    for path in terraform:
        imported.merge(import_terraform_plan(path, account=account, region=region))
    result = build_snapshot(imported, load_snapshot(base) if base else None, out_path)
    World.build(result, out_path)  # every policy must parse before the snapshot is written
    dump_snapshot(result, out_path)
    _report_snapshot(result, out_path, fmt)


def _report_snapshot(result: Any, path: str, fmt: str, *, calls: int | None = None, read: list[str] | None = None) -> None:
    summary: dict[str, Any] = {
        "snapshot": path,
        "accounts": len(result.accounts),
        "users": sum(len(a.users) for a in result.accounts),
        "roles": sum(len(a.roles) for a in result.accounts),
        "keys": sum(len(a.keys) for a in result.accounts),
        "unused": [u.model_dump() for u in result.unused],
    }
    if calls is not None:
        summary["api_calls"] = calls
        summary["accounts_read"] = read or []
    if fmt == "json":
        print_json(summary)
        return
    out.print(
        f"{escape(path)}: {summary['accounts']} accounts, {summary['users']} users, "
        f"{summary['roles']} roles, {summary['keys']} keys"
    )
    if calls is not None:
        out.print(f"read {len(read or [])} accounts ({escape(', '.join(read or []))}) in {calls} API calls")
    if result.unused:
        out.print(f"[yellow]{len(result.unused)} items could not be used[/]:")
        for item in result.unused:
            out.print(f"  {escape(item.source)}: {escape(item.item)}: {escape(item.reason)}")


@snapshot.command("pull")
@click.option("--profile", help="the AWS CLI profile to use (default: boto3's chain: environment, ~/.aws, instance role)")
@click.option(
    "--region", "regions", multiple=True, help="a region to read KMS keys in (repeatable; default: every enabled region)"
)
@click.option(
    "--accounts",
    multiple=True,
    help="account ids to read (comma-separated, repeatable; default: the caller's own); others need --assume-role",
)
@click.option("--all-accounts", is_flag=True, help="read every active account of the caller's organization")
@click.option(
    "--assume-role", "role", metavar="ROLE_NAME", help="role to assume in each other account, e.g. OrganizationAccountAccessRole"
)
@click.option(
    "--exports",
    "exports_dir",
    type=click.Path(file_okay=False),
    help="keep the raw outputs here (the layout `snapshot import` reads); a re-run with it skips what is saved",
)
@click.option("--base", type=click.Path(exists=True, dir_okay=False), help="a snapshot to start from")
@click.option(
    "--out", "out_path", required=True, type=click.Path(dir_okay=False), help="where to write the snapshot (.yaml or .json)"
)
@format_option
def snapshot_pull(
    profile: str | None,
    regions: tuple[str, ...],
    accounts: tuple[str, ...],
    all_accounts: bool,
    role: str | None,
    exports_dir: str | None,
    base: str | None,
    out_path: str,
    fmt: str,
) -> None:
    """Read IAM, KMS and AWS Organizations from live accounts (read-only) into a snapshot.

    \b
    Calls only: sts GetCallerIdentity, AssumeRole (with --assume-role); iam GetAccountAuthorizationDetails;
    ec2 DescribeRegions (without --region); kms ListKeys, ListAliases, DescribeKey, GetKeyPolicy, ListGrants,
    ListResourceTags; organizations DescribeOrganization, ListRoots, ListAccounts,
    ListOrganizationalUnitsForParent, ListParents, ListPoliciesForTarget, DescribePolicy.
    Every page is read; throttling is retried with backoff. An API the credentials may not use is a
    note in the summary (and in the snapshot's `unused`), not a failure.
    """
    import tempfile

    import boto3
    from botocore.exceptions import BotoCoreError

    if all_accounts and accounts:
        raise click.UsageError("give --accounts or --all-accounts, not both")
    wanted = [a.strip() for item in accounts for a in item.split(",") if a.strip()]
    try:
        session = boto3.session.Session(profile_name=profile)
    except BotoCoreError as exc:
        raise click.BadParameter(str(exc), param_hint="--profile") from None
    with contextlib.ExitStack() as stack:
        folder = exports_dir or stack.enter_context(tempfile.TemporaryDirectory(prefix="policyengine-pull-"))
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        from policyengine.access import pull_accounts

        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        )
        with progress:
            task = progress.add_task("pull", total=None)
            count = [0]

            def tick(what: str) -> None:
                count[0] += 1
                progress.update(task, description=f"{count[0]} calls: {escape(what)}")

            result = pull_accounts(
                session,
                folder,
                regions=regions,
                accounts=wanted,
                all_accounts=all_accounts,
                assume_role=role,
                base=load_snapshot(base) if base else None,
                on_call=tick,
            )
        World.build(result.snapshot, out_path)
        dump_snapshot(result.snapshot, out_path)
    _report_snapshot(result.snapshot, out_path, fmt, calls=len(result.calls.made), read=result.accounts)


@snapshot.command("check")
@click.argument("path", type=click.Path(dir_okay=False))
@format_option
def snapshot_check(path: str, fmt: str) -> None:
    """Read a snapshot, compile every policy, and list what its importers could not use."""
    result = load_snapshot(path)
    World.build(result, path)
    _report_snapshot(result, path, fmt)


@snapshot.command("schema")
def snapshot_schema_command() -> None:
    """Print the snapshot's JSON schema (docs/snapshot.schema.json)."""
    from policyengine.access import snapshot_schema

    print_json(snapshot_schema())


COMMANDS = [can, who_can, what_can, principal_can, access_matrix_command, snapshot, findings]

__all__ = ["COMMANDS", "SnapshotError", "access_matrix_command", "can", "snapshot", "what_can", "who_can"]
