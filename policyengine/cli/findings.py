"""``policyengine findings``: every KMS key reachable from outside a zone of trust (account or organization).

Exit codes: 0 no active finding, 3 active findings (archived ones stay quiet), 1 bad input.
"""

from __future__ import annotations

import json

import click

from policyengine.cli.options import snapshot_option
from policyengine.cli.output import err, escape, out, print_json

EXIT_FINDINGS = 3


@click.command("findings")
@snapshot_option
@click.option(
    "--zone-of-trust",
    "zone",
    type=click.Choice(["account", "organization"]),
    default="account",
    show_default=True,
    help="who is trusted: the key's own account, or every account of its organization",
)
@click.option(
    "--archive-rules", type=click.Path(exists=True, dir_okay=False), help="YAML/JSON rules that archive intended access"
)
@click.option("--show-archived", is_flag=True, help="list archived findings too (text format)")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True)
def findings(snapshot_path: str, zone: str, archive_rules: str | None, show_archived: bool, fmt: str) -> None:
    """Every key reachable from outside the zone of trust: by which account, principal, service or
    anyone (public), with the actions allowed and the conditions the others hang on.

    \b
    Archive rules file (every criterion given must match; globs allowed):
      rules:
        - name: partner decrypts shared keys
          principal: "arn:aws:iam::444455556666:*"
          key: "alias/shared-*"
          kind: account              # account | principal | service | public
          actions: [kms:Decrypt]     # must cover every action of the finding
    """
    import policyengine as pe
    from policyengine.access import Access, World, external_access, findings_sarif, load_archive_rules, load_snapshot

    world = World.build(load_snapshot(snapshot_path), snapshot_path)
    if world.unused:
        err.print(f"[yellow]warning[/]: the snapshot is incomplete: {len(world.unused)} exported items could not be used")
    rules = load_archive_rules(archive_rules) if archive_rules else []
    result = external_access(Access.of(world), zone, rules)  # type: ignore[arg-type]
    if fmt == "json":
        print_json(result.to_json())
    elif fmt == "sarif":
        print(json.dumps(findings_sarif(result, snapshot_path, pe.__version__), indent=2, ensure_ascii=False))
    else:
        shown = [*result.active, *(result.archived if show_archived else [])]
        for finding in shown:
            key = finding.key
            name = f"{key.label} ({', '.join(key.aliases)})" if key.aliases else key.label
            mark = f" [dim](archived: {escape(finding.archived_by)})[/]" if finding.archived_by else ""
            via = f" via {escape(finding.via)}" if finding.via else ""
            who = finding.subject.arn if finding.subject.kind != "session" else finding.subject.caller
            out.print(f"{escape(name)}: {finding.kind.upper()} {escape(who)}{via}{mark}", emoji=False)
            if finding.allowed:
                out.print(f"  allowed: {escape(', '.join(finding.allowed))}", emoji=False)
            for condition in finding.conditional:
                out.print(f"  {escape(', '.join(condition.actions))} only if {escape(condition.text)}", emoji=False)
        out.print(f"{len(result.active)} findings outside the {zone} zone of trust, {len(result.archived)} archived", emoji=False)
    if result.active:
        raise SystemExit(EXIT_FINDINGS)
