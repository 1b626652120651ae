"""``policyengine check``: proofs about policies, offline (no new access, access not granted, public).

Each subcommand answers with ``pass`` (proved for every request in scope), ``fail`` (with a
counterexample request the real evaluator confirmed), ``fail (unconfirmed)`` (the solver timed
out, or an approximation got in the way) or ``bug`` (a counterexample that did not replay).
Exit codes are the linter's: 0 pass, 3 anything else, 1 bad input or no solver installed. A
policy argument may be ``git:REV:PATH`` (read with ``git show``), so CI can compare a change
against the previous commit, or ``:PATH`` / ``staged:PATH`` (the staged version), so a pre-commit
hook can compare what is about to be committed with ``git:HEAD:PATH``.
"""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING, Any

import click

import policyengine as pe
from policyengine.analysis import BACKENDS, DEFAULT_BACKEND, DEFAULT_TIMEOUT_MS, SolverUnavailable
from policyengine.cli.check_snapshot import key_option, snapshot_check_option, snapshot_scope
from policyengine.cli.output import escape, out, print_json

if TYPE_CHECKING:
    from policyengine.analysis import CheckResult

EXIT_FAIL = 3
_FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True)
_SOLVER = click.option(
    "--solver", type=click.Choice(BACKENDS), default=DEFAULT_BACKEND, show_default=True, help="SMT solver backend"
)
_KEY_ACCOUNT = click.option("--key-account", help="the 12-digit account the key belongs to (default: any account)")
_TIMEOUT = click.option(
    "--timeout",
    "timeout_ms",
    type=click.IntRange(min=1),
    default=DEFAULT_TIMEOUT_MS,
    show_default=True,
    help="solver time limit (ms)",
)


class PolicySource:
    """A policy read from a file, standard input (``-``), git (``git:REV:PATH``) or the git index
    (``:PATH`` or ``staged:PATH``, the version a pre-commit hook is about to commit), with its text."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        if spec.startswith("git:"):
            rev, sep, path = spec[4:].partition(":")
            if not sep or not rev or not path:
                raise click.BadParameter(f"`{spec}`: write git sources as git:REV:PATH (e.g. git:HEAD~1:key-policy.json)")
            self.text = _git_show(rev, path, spec)
            self.source = spec
        elif spec.startswith(("staged:", ":")) and len(spec.partition(":")[2]) > 0:
            path = spec.partition(":")[2]
            self.text = _git_show("", path if path.startswith("/") else f"./{path}", spec)
            self.source = spec
        else:
            self.source, self.text = pe.read_text(spec)
        self.document = pe.parse_policy(self.text, self.source)


def _git_show(rev: str, path: str, spec: str) -> str:
    try:
        done = subprocess.run(["git", "show", f"{rev}:{path}"], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise click.ClickException(f"`{spec}`: git is not installed") from None
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "git show failed"
        if rev and _missing_revision(done.stderr, rev):
            reason += _shallow_hint(rev)
        raise click.ClickException(f"`{spec}`: {reason}")
    return done.stdout


def _missing_revision(stderr: str, rev: str) -> bool:
    """Whether git could not find the revision itself (as opposed to the path in it)."""
    text = stderr.lower()
    return any(s in text for s in ("invalid object name", "unknown revision", "bad revision", "ambiguous argument")) and (
        "does not exist in" not in text and "exists on disk, but not in" not in text
    )


def _shallow_hint(rev: str) -> str:
    shallow = subprocess.run(["git", "rev-parse", "--is-shallow-repository"], capture_output=True, text=True, check=False)
    if shallow.stdout.strip() == "true":
        return (
            f" (this is a shallow clone, as CI checkouts usually are, so `{rev}` was not fetched: fetch more history, "
            "e.g. `git fetch --deepen=1`, or check out with `fetch-depth: 0` / `fetch-depth: 2`)"
        )
    return f" (no revision `{rev}` in this repository: is it fetched? `git fetch origin {rev}` may help)"


def _split(values: tuple[str, ...]) -> list[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _emit(result: CheckResult, subject: PolicySource, fmt: str, texts: dict[str, str]) -> None:
    if fmt == "json":
        print_json(result.to_json())
    elif fmt == "sarif":
        from policyengine.cli.check_sarif import to_sarif

        print(json.dumps(to_sarif([(result, subject.source)], texts, pe.__version__), indent=2, ensure_ascii=False))
    else:
        _render_text(result)
    if not result.passed:
        raise SystemExit(EXIT_FAIL)


def _say(text: str = "") -> None:
    """One line of text output (no emoji codes: ARNs are full of ``:name:`` look-alikes)."""
    out.print(text, emoji=False)


_STYLE = {"pass": "green", "fail": "red", "unconfirmed": "yellow", "bug": "magenta"}


def _render_text(result: CheckResult) -> None:
    style = _STYLE[result.verdict]
    _say(f"[bold]{result.check}[/]: [{style}]{result.label.upper()}[/] - {escape(result.message)}")
    cex = result.counterexample
    if cex is not None:
        _say("  counterexample (replayed through the evaluator):")
        rows: list[tuple[str, Any]] = [("principal", cex.principal), ("action", cex.action), ("resource", cex.resource)]
        rows.append(("context", json.dumps(cex.context, ensure_ascii=False) if cex.context else "{}"))
        if cex.bypass_lockout_check:
            rows.append(("bypass", "BypassPolicyLockoutSafetyCheck=true"))
        if cex.encryption_context is not None:
            rows.append(("enc. ctx", json.dumps(cex.encryption_context, ensure_ascii=False)))
        if cex.grant_tokens:
            rows.append(("tokens", ", ".join(cex.grant_tokens)))
        if cex.grant_id is not None:
            rows.append(("grant id", cex.grant_id))
        if cex.restricted:
            rows.append(("caps", "the caller's permissions boundary or session policy does not allow the request"))
        if cex.iam_policy is not None:
            rows.append(("assumes", f"the caller's IAM policies allow {cex.action} (any principal's IAM policies may)"))
        if cex.other_reason is not None:
            rows.append(("old", f"denied: {pe.REASONS.get(cex.other_reason, cex.other_reason)}"))
        for label, value in rows:
            _say(f"    {label:<9} {escape(str(value))}")
        if cex.statements:
            _say("  statements responsible:")
            for ref in cex.statements:
                where = ref.location or ref.policy_name
                _say(f"    {escape(where)}  {escape(ref.label)} ({ref.effect})")
    classes = result.details.get("classes")
    if classes:
        complete = result.details.get("all_classes_listed")
        more = "" if complete else f" (not all: {result.details.get('classes_stopped', 'stopped')})"
        _say(f"  all new access, {len(classes)} classes{more}, each replayed through the evaluator:")
        for item in classes:
            _say(f"    - {escape(item['description'])}")
    unreplayed = result.details.get("unreplayed")
    if unreplayed is not None:
        _say(f"  solver's request (did not replay): {escape(json.dumps(unreplayed, ensure_ascii=False))}")
    if result.approximations:
        _say("  approximations:")
        for text in result.approximations:
            _say(f"    - {escape(text)}")
    _say(f"  scope: {escape(result.scope)}")
    _say(f"  solver: {result.backend}, {result.seconds * 1000:.0f} ms")


class _CheckGroup(click.Group):
    """Reports a missing solver as a plain one-line error (exit 1), not as rich markup."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SolverUnavailable as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_CheckGroup)
def check() -> None:
    """Prove properties of key policies offline with an SMT solver (needs `pip install "policyengine-kms[analysis]"`).

    Exit code 0 when the property is proved, 3 when it fails (or could not be proved), 1 for bad input.
    """


@check.command("no-new-access")
@click.option("--old", "old", required=True, help="the old policy: a file, `-`, git:REV:PATH, or :PATH / staged:PATH (staged)")
@click.option("--new", "new", required=True, help="the new policy: a file, `-`, git:REV:PATH, or :PATH / staged:PATH (staged)")
@click.option("--identity-old", multiple=True, help="identity policy of --principal before the change (repeatable)")
@click.option("--identity-new", multiple=True, help="identity policy of --principal after the change (repeatable)")
@click.option("--principal", help="the principal (ARN) the identity policies belong to")
@_KEY_ACCOUNT
@snapshot_check_option
@key_option
@_FORMAT
@_SOLVER
@_TIMEOUT
def no_new_access(
    old: str,
    new: str,
    identity_old: tuple[str, ...],
    identity_new: tuple[str, ...],
    principal: str | None,
    key_account: str | None,
    snapshot_path: str | None,
    key: str | None,
    fmt: str,
    solver: str,
    timeout_ms: int,
) -> None:
    """Does the NEW key policy allow any request the OLD one denies? A counterexample when it does.

    With --snapshot, both versions are judged inside the snapshot's policies around the key."""
    before, after = PolicySource(old), PolicySource(new)
    ids_old = [PolicySource(p) for p in identity_old]
    ids_new = [PolicySource(p) for p in identity_new]
    from policyengine.analysis import no_new_access as run_no_new_access

    scope = snapshot_scope(snapshot_path, key)
    result = run_no_new_access(
        before.document,
        after.document,
        identity_old=[p.document for p in ids_old],
        identity_new=[p.document for p in ids_new],
        principal=principal,
        key_account=key_account,
        backend=solver,
        timeout_ms=timeout_ms,
        around=scope.around if scope else None,
        key_arn=scope.key_arn if scope else None,
    )
    texts = {p.source: p.text for p in (before, after, *ids_old, *ids_new)}
    _emit(result, after, fmt, texts)


@check.command("access-not-granted")
@click.argument("policy")
@click.option(
    "--actions",
    multiple=True,
    required=True,
    help="actions that must never be allowed (comma-separated, repeatable; wildcards allowed)",
)
@click.option(
    "--resources",
    multiple=True,
    help="resources to ask about (comma-separated ARNs or patterns, repeatable; default: any KMS key)",
)
@click.option("--policy-type", type=click.Choice(["key", "identity"]), default="key", show_default=True)
@click.option("--principal", help="ask about this principal only (ARN; a role means any session of it)")
@click.option("--identity", multiple=True, help="identity policy of --principal (repeatable; default: unknown, any)")
@_KEY_ACCOUNT
@snapshot_check_option
@key_option
@_FORMAT
@_SOLVER
@_TIMEOUT
def access_not_granted(
    policy: str,
    actions: tuple[str, ...],
    resources: tuple[str, ...],
    policy_type: str,
    principal: str | None,
    identity: tuple[str, ...],
    key_account: str | None,
    snapshot_path: str | None,
    key: str | None,
    fmt: str,
    solver: str,
    timeout_ms: int,
) -> None:
    """Can POLICY ever allow one of the ACTIONS (to --principal, or to anyone)? A counterexample when it can.

    With --snapshot, POLICY is the key's policy, judged inside the snapshot's policies around the key."""
    subject = PolicySource(policy)
    ids = [PolicySource(p) for p in identity]
    from policyengine.analysis import access_not_granted as run_access_not_granted

    scope = snapshot_scope(snapshot_path, key)
    if scope is not None and resources:
        raise click.BadParameter("with --snapshot the resource is the snapshot's key (see --key)", param_hint="--resources")
    result = run_access_not_granted(
        subject.document,
        _split(actions),
        [scope.key_arn] if scope else _split(resources),
        policy_type=policy_type,
        principal=principal,
        identity=[p.document for p in ids],
        key_account=key_account,
        backend=solver,
        timeout_ms=timeout_ms,
        around=scope.around if scope else None,
    )
    _emit(result, subject, fmt, {p.source: p.text for p in (subject, *ids)})


@check.command("no-public-access")
@click.argument("key_policy")
@_KEY_ACCOUNT
@snapshot_check_option
@key_option
@_FORMAT
@_SOLVER
@_TIMEOUT
def no_public_access(
    key_policy: str, key_account: str | None, snapshot_path: str | None, key: str | None, fmt: str, solver: str, timeout_ms: int
) -> None:
    """Can a principal of an account KEY_POLICY does not name use the key?

    With --snapshot, KEY_POLICY is the key's policy, judged inside the snapshot's policies around the key."""
    subject = PolicySource(key_policy)
    from policyengine.analysis import no_public_access as run_no_public_access

    scope = snapshot_scope(snapshot_path, key)
    result = run_no_public_access(
        subject.document,
        key_account=key_account,
        backend=solver,
        timeout_ms=timeout_ms,
        around=scope.around if scope else None,
        key_arn=scope.key_arn if scope else None,
    )
    _emit(result, subject, fmt, {subject.source: subject.text})
