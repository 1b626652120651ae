"""``policyengine tour``: a guided walk through what policyengine does, on the shipped examples.

Each section prints what it shows and why it matters, so a newcomer learns the access
semantics by watching the engine work on real policies.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape
from rich.rule import Rule

import policyengine as pe
from policyengine.cli.output import out, render_input_error


def _section(title: str, text: str) -> None:
    out.print(Rule(f"[bold]{escape(title)}"))
    out.print(text)
    out.print()


@click.command()
def tour() -> None:
    """Walk through the examples: read, validate and explain real key policies."""
    # The KMS, the server and the linter the tour shows: loaded when it runs, not for `--help`.
    from policyengine.cli.tour_kms import run_kms_tour
    from policyengine.cli.tour_more import run_access_tour, run_lint_tour, run_server_tour

    examples = pe.data_dir("examples")
    _section(
        "1. Reading key policies",
        "Every key has exactly one key policy. policyengine reads it with source positions, so every\n"
        "finding and explanation can point at file:line:col. Here is what each example policy says:",
    )
    for path in sorted(examples.glob("*.json")):
        _explain_file(path)
    broken = sorted((examples / "broken").glob("*.json"))
    _section(
        "2. Errors you can act on",
        "A policy that is not valid JSON, or not a valid policy, gets one line naming the file, line\n"
        "and column, the offending text under a caret, and a hint. These examples are broken on purpose:",
    )
    for path in broken:
        if path.suffix != ".json":
            continue
        try:
            pe.load_policy(path)
            out.print(f"[yellow]{escape(path.name)} unexpectedly valid[/]")
        except pe.PolicyInputError as error:
            render_input_error(error, out)
        out.print()
    _section(
        "3. Asking AWS's question: can this principal use this key?",
        "Each scenario holds the policies and one request; policyengine decides as AWS does and says why.\n"
        "Watch for the rules: an explicit deny beats every allow; IAM policies count only when the key policy\n"
        "lets the account in; across accounts both sides must allow; grants add access but never beat a deny.",
    )
    for name, lesson in _QUESTIONS:
        scenario = pe.load_scenario(examples / "scenarios" / name)
        decision = pe.simulate(scenario)
        request = scenario.request
        out.print(f"[bold]{escape(lesson)}[/]")
        title = f"  {request.principal} {request.action}"
        out.print(escape(pe.render_text(decision, title=title)))
        out.print()
    _section(
        "4. A local KMS gated by the evaluator",
        "The seed's key lifecycle on the embedded SQLite store: real AES-256-GCM and ECDSA, every call\n"
        "authorized by the same evaluator first, and an audit record for each. A manual clock moves time.",
    )
    run_kms_tour()
    _section(
        "5. Linting key policies in CI",
        "Rules that know KMS: lockout (checked offline as KMS's own safety check does), kms:* to a role,\n"
        "CreateGrant without kms:GrantIsForAWSResource, cross-account exposure, malformed kms:ViaService...",
    )
    run_lint_tour(examples)
    _section(
        "6. The same KMS over AWS's own protocol",
        "`policyengine serve` speaks AWS JSON 1.1 with SigV4, so boto3, the AWS CLI and the Encryption SDK\n"
        "work unchanged against it, and every call is still gated by the evaluator.",
    )
    run_server_tour()
    _section(
        "7. Who can use a key, across accounts",
        "Over a snapshot of real accounts (IAM exports, KMS outputs, Terraform plans): role chains, SCPs, RCPs,\n"
        "boundaries and grants, and answers that say honestly when they depend on the request context.",
    )
    run_access_tour(examples / "snapshot" / "org.yaml")
    _section(
        "8. Now change things yourself: the playground",
        "`policyengine playground --open` starts a local web page (127.0.0.1, no network) where you edit the\n"
        "key policy, IAM policies, boundaries, SCPs and grants and watch the decision change as you type: the\n"
        "deciding statements highlighted, the why-tree, what would allow a deny (each change checked by the\n"
        f"evaluator), and {_lesson_count()} lessons with exercises the evaluator checks, from the default key policy to\n"
        "NotAction traps. Share a question as a link, or save it as a scenario for `policyengine simulate`.",
    )


def _lesson_count() -> int:
    from policyengine.playground import load_lessons

    return len(load_lessons())


_QUESTIONS = (
    ("default-policy-no-iam.json", "The default key policy only opens the door: with no IAM policy, alice is denied."),
    ("default-policy-with-iam.json", "Add an IAM policy for alice, and the same key policy lets her decrypt."),
    ("iam-without-account-statement.json", "Without the account statement, IAM policies do not count for the key."),
    ("app-decrypt-allowed.json", "Naming a role in the key policy admits its sessions directly."),
    ("no-tls-denied.json", "An explicit deny beats the allow: no decryption without TLS."),
    ("cross-account-both-sides.json", "Cross-account: the key policy trusts the account, and its IAM policy allows."),
    ("cross-account-missing-iam.json", "Cross-account without the caller's own IAM allow: denied."),
    ("cross-account-admin-operation.json", "Key management never works across accounts, whatever the policies say."),
    ("grant-allows.json", "A grant gives a role's sessions Decrypt when the encryption context fits."),
    ("aws-managed-key-via-s3.yaml", "An AWS managed key is usable only through its service (kms:ViaService)."),
)


def _explain_file(path: Path) -> None:
    document = pe.load_policy(path)
    out.print(f"[bold]{escape(path.name)}[/] ({len(document.statements)} statements)")
    for statement in document.statements:
        where = f"{statement.span.line}:{statement.span.column}" if statement.span else ""
        out.print(f"  [dim]{where:>6}[/] {escape(statement.label)}: {escape(pe.describe_statement(statement))}")
    out.print()
