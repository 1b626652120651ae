"""Helpers every rule module shares: statement pointers, findings, principal and action sets."""

from __future__ import annotations

from policyengine.lint.finding import Finding, LintTarget, Severity
from policyengine.model import unknown
from policyengine.model.policy import Condition, PolicyDocument, Statement
from policyengine.model.span import Span
from policyengine.parsing.json_locate import LazySpan


def statements(target: LintTarget) -> tuple[Statement, ...]:
    """The target's statements (none when it could not be read): the document's own tuple, not a generator,
    as every rule walks it on every file."""
    return target.document.statements if target.document is not None else ()


def statement_pointer(document: PolicyDocument, statement: Statement) -> str:
    return "/Statement" if len(document.statements) == 1 and statement.index == 0 else f"/Statement/{statement.index}"


def finding(
    target: LintTarget,
    rule_id: str,
    severity: Severity,
    message: str,
    span: Span | None,
    statement: Statement | None = None,
    pointer: str = "",
    suggestion: str | None = None,
) -> Finding:
    """A finding for ``target``, located at ``span`` (falling back to the statement's span)."""
    where = span if span is not None else (statement.span if statement is not None else None)
    if type(where) is LazySpan:  # read without positions: find this one, the only kind of span ever looked for
        where = where.resolved()
    return Finding(
        rule_id=rule_id,
        severity=severity,
        message=message,
        source=target.source,
        span=where,
        pointer=pointer,
        owner=target.owner,
        statement=statement.label if statement is not None else None,
        suggestion=suggestion,
    )


def conditions_on(statement: Statement, key: str) -> list[Condition]:
    lowered = key.lower()
    return [c for c in statement.conditions if c.key.lower() == lowered]


def names_unknown(statement: Statement) -> bool:
    """Whether the statement's Principal names a principal only the deployment knows (``!ImportValue``, ``var.x``).

    Such a principal could be anyone, including the account itself: rules that would report what
    a principal is *not* stay silent about it.
    """
    if statement.principal is None:
        return False
    return any(e.ref.kind == "unknown" or is_unknown_account(e.ref.account) for e in statement.principal.entries)


def is_unknown_account(account: str | None) -> bool:
    """An account id only the deployment knows, other than the deploying account itself."""
    return account is not None and account != unknown.OWN_ACCOUNT and unknown.contains(account)


def is_public(statement: Statement) -> bool:
    """Principal ``*`` or ``{"AWS": "*"}`` (everyone), or an Allow with NotPrincipal."""
    if statement.principal is not None:
        if statement.principal.wildcard:
            return True
        return any(e.ref.kind == "any" for e in statement.principal.entries)
    return statement.not_principal is not None


def own_account(target: LintTarget) -> str | None:
    """The account a key policy belongs to.

    The account whose root may call PutKeyPolicy owns the key (only the owner can manage it);
    failing that, the account named most often, account statements counting most.
    """
    return account_guess(target)[0]


#: The last target's guess: several rules ask for it on each key policy, one target after another. One
#: tuple, replaced whole, so a reader in another thread sees a target with its own guess or a miss.
_LAST_GUESS: tuple[LintTarget | None, tuple[str | None, bool]] = (None, (None, False))


def account_guess(target: LintTarget) -> tuple[str | None, bool]:
    """``own_account`` and whether the policy says so: False when the most-named accounts tie."""
    global _LAST_GUESS
    last, guess = _LAST_GUESS
    if last is not target:
        guess = _guess_account(target)
        _LAST_GUESS = (target, guess)
    return guess


def _guess_account(target: LintTarget) -> tuple[str | None, bool]:
    from policyengine.evaluator.patterns import action_matcher

    owners: set[str] = set()
    counts: dict[str, int] = {}
    for statement in statements(target):
        if statement.effect != "Allow" or statement.principal is None:
            continue
        manages = any(action_matcher(a.value)("kms:putkeypolicy") for a in statement.action or ())
        for entry in statement.principal.entries:
            account = entry.ref.account
            if not account:
                continue
            if entry.ref.kind == "account":
                counts[account] = counts.get(account, 0) + 10
                if manages:
                    owners.add(account)
            else:
                counts[account] = counts.get(account, 0) + 1
    if len(owners) == 1:
        return next(iter(owners)), True
    if not counts:
        return None, False
    best = max(sorted(counts), key=lambda a: counts[a])
    return best, sum(1 for n in counts.values() if n == counts[best]) == 1
