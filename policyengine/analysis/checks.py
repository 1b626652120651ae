"""The three checks: no new access, access not granted, no public access.

Each check builds one formula over the symbolic request (``symbolic.py``) from the policies'
compiled form (``encode.py``) and asks the solver whether a request satisfies it (first, for a
readable counterexample, one in the key's own account that needs no assumed IAM policy; then any
request). A request the solver finds is replayed through ``authorize`` before it is reported
(``replay.py``). A pass is a proof for every request in the check's scope; a time-out is never
a pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from fnmatch import fnmatchcase

from policyengine.analysis.backend import DEFAULT_BACKEND, DEFAULT_TIMEOUT_MS, Term
from policyengine.analysis.classes import Readable, enumerate_classes, kms_actions, readable
from policyengine.analysis.encode import Side
from policyengine.analysis.replay import (
    Witness,
    assumed_iam_policy,
    compile_assumed,
    decide,
    decide_identity_only,
)
from policyengine.analysis.result import CheckName, CheckResult, Counterexample
from policyengine.analysis.setup import Setup, build_setup
from policyengine.analysis.surroundings import Surroundings
from policyengine.analysis.symbolic import Scope, SymbolicRequest
from policyengine.errors import RequestError
from policyengine.evaluator.compiled import CompiledPolicy, compile_policy
from policyengine.explain.decision import Decision
from policyengine.model.policy import PolicyDocument

KEY_SCOPE = "KMS actions on a KMS key, by any principal (with any IAM policies unless given), in any request context"

# (confirmed counterexample or None, the counterexample shown when the replay disagreed)
Confirmation = tuple[Counterexample | None, Counterexample]


def _scope_terms(setup: Setup, scope: Scope) -> list[Term]:
    from policyengine.analysis.regex import glob_test

    b, sym = setup.backend, setup.sym
    terms: list[Term] = []
    if scope.actions:
        terms.append(b.or_(glob_test(b, sym.action, a.lower()) for a in scope.actions))
    if scope.resources:
        terms.append(b.or_(sym.resource_matches(r) for r in scope.resources))
    return terms


def _account(account: str | None) -> str | None:
    if account is not None and not (len(account) == 12 and account.isdigit()):
        raise RequestError(f"key account `{account}` is not a 12-digit account id")
    return account


def _scope_text(key_arn: str | None, around: Surroundings) -> str:
    """``KEY_SCOPE``, naming the key and the surrounding policies when the check has them."""
    return _inside(KEY_SCOPE if key_arn is None else KEY_SCOPE.replace("a KMS key", key_arn), around)


def _inside(text: str, around: Surroundings) -> str:
    """A scope text, saying so when the check judges the policy inside surrounding policies."""
    if around.policies() or around.grants:
        return text + "; inside the given SCPs, RCPs, IAM policies, boundaries, endpoint policies and grants"
    return text


def _key_scope(key_arn: str | None, key_account: str | None) -> Scope:
    """KMS actions on any key (of ``key_account`` when given), or on the key ``key_arn`` only."""
    if key_arn is None:
        return Scope(key_account=_account(key_account))
    parts = key_arn.split(":")
    if len(parts) != 6 or parts[2] != "kms" or not parts[5].startswith("key/") or "*" in key_arn or "?" in key_arn:
        raise RequestError(f"`{key_arn}` is not the ARN of a KMS key")
    if key_account is not None and key_account != parts[4]:
        raise RequestError(f"key account `{key_account}` is not the account of `{key_arn}`")
    return Scope(resources=(key_arn,), key_account=_account(parts[4]))


def _compile(document: PolicyDocument, kind: str, name: str) -> CompiledPolicy:
    return compile_policy(document, "key_policy" if kind == "key" else "identity", name)


def _run(
    check: CheckName,
    setup: Setup,
    goal: list[Term],
    confirm: Callable[[Witness], Confirmation],
    scope_text: str,
    timeout_ms: int,
    started: float,
    messages: tuple[str, str],
    hints: Readable,
    prefer_same_account: bool = True,
) -> CheckResult:
    """Solve, replay, and turn the outcome into a verdict (a confirmed request made readable with ``hints``)."""
    b, sym = setup.backend, setup.sym
    b.load([*sym.constraints, *goal])
    preferred = "unknown"
    if prefer_same_account:
        # A same-account request that needs no assumed IAM policy reads best: ask for one
        # first (an unsatisfiable question is cheap), then for any request at all.
        preferred = b.check_more([b.not_(setup.encoder.cross), b.not_(sym.iam_allows), sym.caps_allow], max(1, timeout_ms // 4))
    remaining = max(1, timeout_ms - int((time.perf_counter() - started) * 1000))
    status = "sat" if preferred == "sat" else b.check_more((), remaining)
    approximations = tuple(sorted(sym.approximations))

    def result(verdict: str, message: str, cex: Counterexample | None = None, **details: object) -> CheckResult:
        return CheckResult(
            check=check,
            verdict=verdict,  # type: ignore[arg-type]
            message=message,
            scope=scope_text,
            backend=b.name,
            seconds=time.perf_counter() - started,
            counterexample=cex,
            approximations=approximations,
            details=dict(details),
        )

    if status == "unsat":
        return result("pass", messages[0])
    if status == "unknown":
        return result("unconfirmed", f"the solver gave no answer within {timeout_ms} ms; not proved")
    witness = _witness(sym)
    confirmed, shown = confirm(witness)
    if confirmed is not None:
        tidy = confirm(readable(witness, lambda w: confirm(w)[0], hints))[0]
        return result("fail", messages[1], tidy or confirmed)
    if approximations:
        return result(
            "unconfirmed",
            "the solver's request leans on an approximation and the evaluator does not confirm it; not proved",
            unreplayed=shown.to_json(),
        )
    return result(
        "bug",
        "internal error: the solver's request does not replay through the evaluator (please report it)",
        unreplayed=shown.to_json(),
    )


def _witness(sym: SymbolicRequest) -> Witness:
    from policyengine.analysis.replay import read_witness

    return read_witness(sym)


def _identity_options(witness: Witness, side: Side) -> list[tuple[CompiledPolicy, ...]]:
    """The identity policies to replay with: a known principal's own, else none, then the assumed one."""
    cls = witness.cls
    holder = side.holder(cls.group)
    if holder is not None:
        return [holder.identity]
    if cls.kind in ("service", "account") or not witness.iam_allows:
        return [()]
    return [(), (compile_assumed(assumed_iam_policy(witness.action)),)]


def _counterexample(
    witness: Witness, identity: tuple[CompiledPolicy, ...], allow: Decision, other: Decision | None, around: Surroundings
) -> Counterexample:
    assumed = identity and identity[0].name == "assumed identity policy"
    return Counterexample(
        principal=witness.principal,
        action=witness.action,
        resource=witness.resource,
        context=witness.context,
        bypass_lockout_check=witness.bypass,
        iam_policy=assumed_iam_policy(witness.action) if assumed else None,
        statements=allow.deciding,
        other_reason=other.reason if other is not None else None,
        encryption_context=witness.encryption_context,
        grant_tokens=witness.grant_tokens,
        grant_id=witness.grant_id,
        restricted=not witness.caps_allow and around.caps_unknown(witness.cls.kind, witness.cls.group),
    )


def no_new_access(
    old: PolicyDocument,
    new: PolicyDocument,
    *,
    identity_old: Sequence[PolicyDocument] = (),
    identity_new: Sequence[PolicyDocument] = (),
    principal: str | None = None,
    key_account: str | None = None,
    backend: str = DEFAULT_BACKEND,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    list_all: bool = True,
    around: Surroundings | None = None,
    key_arn: str | None = None,
) -> CheckResult:
    """Does ``new`` allow any request that ``old`` denies? (``pass``: no, proved.)

    ``identity_old``/``identity_new`` are the identity policies of ``principal`` (required
    with them) before and after; every other caller's IAM policies are unknown (unless
    ``around`` knows them) and the same on both sides. ``around`` is the rest of the policy set,
    the same on both sides (boundaries, session policies, SCP and RCP levels, endpoint policies,
    grants: ``surroundings.py``). ``key_arn`` (or ``key_account``) is the key, or its account,
    when known (default: any key of any account).
    On a failure, ``list_all`` lists every class of new access (``classes.py``) in
    ``details["classes"]``, each replayed, within three times ``timeout_ms`` in all.
    """
    started = time.perf_counter()
    if (identity_old or identity_new) and principal is None:
        raise RequestError("identity policies belong to a principal: give --principal with them")
    around = around or Surroundings()
    before_ids = tuple(_compile(d, "identity", d.source) for d in identity_old)
    after_ids = tuple(_compile(d, "identity", d.source) for d in identity_new)
    # the principal's identity policies are the given ones (none, when none are given), unless the
    # surroundings know them and none are given
    given = bool(before_ids or after_ids) or (principal is not None and not around.holds(principal))
    old_side = Side(_compile(old, "key", old.source), around.with_identity(principal, before_ids, given))
    new_side = Side(_compile(new, "key", new.source), around.with_identity(principal, after_ids, given))
    policies = [p for p in (old_side.key_policy, new_side.key_policy, *before_ids, *after_ids) if p is not None]
    scope = _key_scope(key_arn, key_account)
    setup = build_setup(policies, scope, principal, backend, around)
    allowed_new = setup.encoder.allowed(new_side)
    allowed_old = setup.encoder.allowed(old_side)
    b = setup.backend

    def confirm(witness: Witness) -> Confirmation:
        shown: Counterexample | None = None
        for new_identity, old_identity in zip(
            _identity_options(witness, new_side),
            _identity_options(witness, old_side),
            strict=True,
        ):
            after = decide(witness, new_side.key_policy, new_identity, new_side.around)
            before = decide(witness, old_side.key_policy, old_identity, old_side.around)
            cex = _counterexample(witness, new_identity, after, before, new_side.around)
            if after.allowed and not before.allowed:
                return cex, cex
            shown = shown or cex
        assert shown is not None
        return None, shown

    result = _run(
        "no-new-access",
        setup,
        [*_scope_terms(setup, scope), allowed_new, b.not_(allowed_old)],
        confirm,
        _scope_text(key_arn, around),
        timeout_ms,
        started,
        ("the new version allows nothing the old one denies", "the new version allows a request the old one denies"),
        Readable.of([old, new, *identity_old, *identity_new]),
    )
    if result.verdict == "fail" and list_all:
        found = enumerate_classes(
            b,
            setup.sym,
            lambda witness: confirm(witness)[0],
            [old, new, *identity_old, *identity_new],
            deadline=started + timeout_ms / 1000 * 3,
        )
        result.details["classes"] = found.to_json()
        result.details["all_classes_listed"] = found.complete
        if found.stopped is not None:
            result.details["classes_stopped"] = found.stopped
    return result


def access_not_granted(
    policy: PolicyDocument,
    actions: Sequence[str],
    resources: Sequence[str] = (),
    *,
    policy_type: str = "key",
    principal: str | None = None,
    identity: Sequence[PolicyDocument] = (),
    key_account: str | None = None,
    backend: str = DEFAULT_BACKEND,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    around: Surroundings | None = None,
) -> CheckResult:
    """Can ``policy`` allow any of ``actions`` (on ``resources``, default: any KMS key)? (``pass``: never.)

    Actions and resources may hold ``*``/``?`` wildcards. A key policy is decided with the KMS
    rules inside ``around`` (the rest of the policy set; callers' IAM policies unknown unless
    ``identity`` is given for ``principal`` or ``around`` knows them); an identity policy on its
    own (``policy_type="identity"``): some statement allows, none denies.
    With ``principal`` the question is about that principal only (a role: any session of it),
    whose IAM policies are ``identity`` when given, else unknown (any).
    """
    started = time.perf_counter()
    if not actions:
        raise RequestError("give at least one action")
    if identity and principal is None:
        raise RequestError("identity policies belong to a principal: give --principal with them")
    compiled = _compile(policy, policy_type, policy.source)
    identity_compiled = tuple(_compile(d, "identity", d.source) for d in identity)
    scope = Scope(
        kms_actions_only=False,
        key_resources_only=not resources,
        actions=tuple(actions),
        resources=tuple(resources),
        key_account=_account(key_account),
    )
    if around is not None and policy_type != "key":
        raise RequestError("surrounding policies (a snapshot) judge a key policy: not an identity policy on its own")
    side = Side(compiled, (around or Surroundings()).with_identity(principal, identity_compiled, bool(identity)))
    setup = build_setup([compiled, *identity_compiled], scope, principal, backend, side.around)
    allowed = setup.encoder.allowed(side) if policy_type == "key" else setup.encoder.identity_allowed((compiled,))

    def confirm(witness: Witness) -> Confirmation:
        shown: Counterexample | None = None
        if policy_type != "key":
            decision = decide_identity_only(witness, (compiled,))
            cex = _counterexample(witness, (), decision, None, Surroundings())
            return (cex if decision.allowed else None), cex
        for ids in _identity_options(witness, side):
            decision = decide(witness, compiled, ids, side.around)
            cex = _counterexample(witness, ids, decision, None, side.around)
            if decision.allowed:
                return cex, cex
            shown = shown or cex
        assert shown is not None
        return None, shown

    where = ", ".join(resources) if resources else "any KMS key"
    terms = [*_scope_terms(setup, scope), allowed]
    if principal is not None:
        terms.append(setup.sym.caller_in([c.index for c in setup.sym.classes if c.group == setup.principal_group]))
    who = principal if principal is not None else "any principal"
    scope_text = f"actions {', '.join(actions)} on {where}, by {who}, in any request context"
    return _run(
        "access-not-granted",
        setup,
        terms,
        confirm,
        _inside(scope_text, side.around),
        timeout_ms,
        started,
        ("no request for these actions is ever allowed", "a request for one of these actions is allowed"),
        Readable.of(
            [policy, *identity],
            [a for a in kms_actions() if any(fnmatchcase(a.lower(), p.lower()) for p in actions)],
            resources=not resources,
        ),
    )


def no_public_access(
    key_policy: PolicyDocument,
    *,
    key_account: str | None = None,
    backend: str = DEFAULT_BACKEND,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    around: Surroundings | None = None,
    key_arn: str | None = None,
) -> CheckResult:
    """Can a principal of an account the policy does not name use the key? (``pass``: no.)

    "Public" is the linter's notion (``lint.rules.security``): a condition that tests one of
    ``RESTRICTING_KEYS`` positively against specific values keeps strangers out, so a stranger
    never satisfies such a condition; ``kms:ViaService`` and other keys do not restrict. The
    stranger's account differs from every account the policy names (in a Principal or in a
    condition value) and from the key's account; its IAM policies may allow anything (unless
    ``around``, the rest of the policy set, knows them).
    """
    from policyengine.analysis.public import outsider_terms

    started = time.perf_counter()
    compiled = _compile(key_policy, "key", key_policy.source)
    scope = _key_scope(key_arn, key_account)
    side = Side(compiled, around or Surroundings())
    setup = build_setup([compiled], scope, None, backend, side.around)
    allowed = setup.encoder.allowed(side)
    outsider, named_accounts = outsider_terms(setup.sym, setup.encoder, compiled)

    def confirm(witness: Witness) -> Confirmation:
        shown: Counterexample | None = None
        account = witness.principal.split(":")[4]
        for ids in _identity_options(witness, side):
            decision = decide(witness, compiled, ids, side.around)
            cex = _counterexample(witness, ids, decision, None, side.around)
            if decision.allowed and account not in named_accounts:
                return cex, cex
            shown = shown or cex
        assert shown is not None
        return None, shown

    return _run(
        "no-public-access",
        setup,
        [*_scope_terms(setup, scope), *outsider, allowed],
        confirm,
        _inside("principals of accounts the policy does not name, KMS actions on the key, any request context", side.around),
        timeout_ms,
        started,
        (
            "no principal outside the named accounts can use the key",
            "a principal of an account the policy does not name can use the key",
        ),
        Readable.of([key_policy]),
        prefer_same_account=False,  # a stranger is always in another account
    )
