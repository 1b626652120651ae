"""AWS's combining rule, written once, over any algebra of truth values.

The rule says how the pieces of a decision combine (SEMANTICS §1-4; IAM UG "Policy evaluation
logic"; KMS DG "Determining access"): a Deny anywhere wins; a KMS operation that cannot cross
accounts is refused across accounts; every SCP level must allow (RCPs only deny: RCPFullAWSAccess
is attached at every level); then the allow paths, which differ by whether the resource policy is
a gate that must admit the caller (a KMS key policy, a role trust policy) and whether caller and
resource share an account; the permissions boundary and session policy cap what is not granted
directly; grants add allows on keys.

Three interpretations read this one rule:

* booleans (``BOOLS``), for ``authorize``; the fast path runs ``allow_bool``, a Python function
  compiled from the rule itself by interpreting it over Python source text (``_CODE``), so the
  concrete path pays no algebra dispatch;
* residual formulas, for partial evaluation ("allow only if ...") in ``access.partial``;
* solver terms, for the offline checks in ``analysis.encode``.

``reason`` gives the reason code of a refusal from the same pieces (booleans, or ``None`` for a
piece that is still open), so every interpretation names the same cause.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")


class Algebra(Protocol[T]):
    """Truth values with the three connectives the rule needs."""

    @property
    def true(self) -> T: ...

    @property
    def false(self) -> T: ...

    def and_(self, items: Sequence[T]) -> T: ...

    def or_(self, items: Sequence[T]) -> T: ...

    def not_(self, item: T) -> T: ...


@dataclass(frozen=True, slots=True)
class Pieces(Generic[T]):
    """What the rule combines, each a truth value of the algebra.

    ``deny``: some Deny statement of any applicable policy applies. ``blocked``: a KMS operation
    that cannot cross accounts, asked of a key in another account. ``scps``: every SCP level
    allows (TRUE when SCPs do not apply). ``endpoint``: the VPC endpoint policy allows (TRUE when
    the request does not come through one). ``gated``: the resource policy must admit the caller
    (key policy, trust policy). ``cross``: caller and resource are in different accounts.
    ``direct``/``capped``/``account``: an Allow of the resource policy names the caller itself /
    names its role (boundary and session policy still cap) / names its account (IAM policies must
    allow too). ``identity``: an identity policy allows (TRUE for the account's root).
    ``boundary``/``session``: the permissions boundary / session policy allows (TRUE when there
    is none). ``grants``: a grant allows.
    """

    deny: T
    blocked: T
    scps: T
    endpoint: T
    gated: T
    cross: T
    direct: T
    capped: T
    account: T
    identity: T
    boundary: T
    session: T
    grants: T


def allowed(alg: Algebra[T], p: Pieces[T]) -> T:
    """The rule: the request is allowed exactly when this holds."""
    and_, or_, not_ = alg.and_, alg.or_, alg.not_
    caps = and_([p.boundary, p.session])
    named = or_([p.direct, p.capped, p.account])
    gated_same = or_([p.direct, and_([or_([p.capped, and_([p.account, p.identity])]), caps]), p.grants])
    gated_cross = or_([and_([named, p.identity, caps]), p.grants])
    open_same = or_([p.direct, and_([or_([p.capped, p.identity]), caps])])
    open_cross = and_([named, p.identity, caps])
    same, cross = not_(p.cross), p.cross
    gated, ungated = p.gated, not_(p.gated)
    allow = or_(
        [
            and_([gated, same, gated_same]),
            and_([gated, cross, gated_cross]),
            and_([ungated, same, open_same]),
            and_([ungated, cross, open_cross]),
        ]
    )
    return and_([not_(p.deny), not_(p.blocked), p.scps, p.endpoint, allow])


class _Bools:
    """Python booleans."""

    true = True
    false = False

    @staticmethod
    def and_(items: Sequence[bool]) -> bool:
        return all(items)

    @staticmethod
    def or_(items: Sequence[bool]) -> bool:
        return any(items)

    @staticmethod
    def not_(item: bool) -> bool:
        return not item


BOOLS: Algebra[bool] = _Bools()


class _Text:
    """Python expression text over the piece names; constants fold, so the compiled function is small.
    ``join`` writes an AND or OR of the items left (``"and"``/``"or"`` and the items), ``negate`` a NOT."""

    true = "True"
    false = "False"

    def __init__(self, join: Callable[[str, list[str]], str], negate: Callable[[str], str]) -> None:
        self._join = join
        self._negate = negate

    def and_(self, items: Sequence[str]) -> str:
        if "False" in items:
            return "False"
        kept = [i for i in items if i != "True"]
        return "True" if not kept else kept[0] if len(kept) == 1 else self._join("and", kept)

    def or_(self, items: Sequence[str]) -> str:
        if "True" in items:
            return "True"
        kept = [i for i in items if i != "False"]
        return "False" if not kept else kept[0] if len(kept) == 1 else self._join("or", kept)

    def not_(self, item: str) -> str:
        return {"True": "False", "False": "True"}.get(item) or self._negate(item)


PIECE_NAMES = tuple(f.name for f in fields(Pieces))


def compile_rule(**constants: bool) -> Callable[..., bool]:
    """``allowed`` as a plain Python function of the pieces not fixed by ``constants``.

    The rule is interpreted over Python source text, with the given pieces folded in, and the
    text compiled once: the same rule, specialised, with short-circuit ``and``/``or``.
    """
    return _specialise(_CODE, constants)


def _specialise(text: Algebra[str], constants: dict[str, bool], *, open_alg: bool = False) -> Callable[..., Any]:
    """``allowed`` interpreted over ``text`` with ``constants`` folded in, compiled to ``rule(*open)``
    (``rule(alg, *open)`` with ``open_alg``, its connectives bound once per call)."""
    names = [n for n in PIECE_NAMES if n not in constants]
    values = {n: ("True" if constants[n] else "False") if n in constants else n for n in PIECE_NAMES}
    body = allowed(text, Pieces(**values))
    prelude = ""
    if open_alg:
        body = {"True": "alg.true", "False": "alg.false"}.get(body, body)
        names.insert(0, "alg")
        prelude = "    and_, or_, not_ = alg.and_, alg.or_, alg.not_\n"
    source = f"def rule({', '.join(names)}):\n{prelude}    return {body}\n"
    namespace: dict[str, object] = {}
    exec(source, namespace)
    function = namespace["rule"]
    assert callable(function)
    return function


#: Python's own ``and``/``or``/``not`` (short-circuit), for booleans.
_CODE: Algebra[str] = _Text(lambda word, kept: "(" + f" {word} ".join(kept) + ")", lambda item: f"(not {item})")
#: Calls of an algebra's ``and_``/``or_``/``not_`` on what is not constant, for any algebra whose connectives
#: drop their unit, stop at their zero and keep a lone item as it is (as the folding here does).
_CALLS: Algebra[str] = _Text(lambda word, kept: f"{word}_((" + ", ".join(kept) + ",))", lambda item: f"not_({item})")


def compile_open_rule(**constants: bool) -> Callable[..., Any]:
    """``allowed`` over any algebra, specialised to the pieces ``constants`` fixes.

    The result is ``rule(alg, *open)``: the open pieces in ``PIECE_NAMES`` order, combined with
    ``alg``'s connectives. The constant pieces are folded while the rule is interpreted over
    text (``_CALLS``), which is what ``alg.and_``/``alg.or_`` would do with them at run time for
    an algebra whose connectives drop their unit, return their zero and keep a lone item as it
    is (booleans, residual formulas): the same rule, with the work on known pieces done once.
    """
    return _specialise(_CALLS, constants, open_alg=True)


#: The rule for booleans, compiled: ``allow_bool(deny, blocked, scps, gated, cross, direct, ...)``.
allow_bool = compile_rule()
#: Specialised by gate and account relation (what a decision plan knows before the conditions run),
#: with ``deny``, ``blocked``, ``scps`` and ``endpoint`` settled by the caller first.
ALLOW_PATHS: dict[tuple[bool, bool], Callable[..., bool]] = {
    (gated, cross): compile_rule(deny=False, blocked=False, scps=True, endpoint=True, gated=gated, cross=cross)
    for gated in (False, True)
    for cross in (False, True)
}


class _Kleene:
    """Three-valued truth (``None`` = still open), for causes of answers that are partly open."""

    true = True
    false = False

    @staticmethod
    def and_(items: Sequence[bool | None]) -> bool | None:
        if any(i is False for i in items):
            return False
        return True if all(i is True for i in items) else None

    @staticmethod
    def or_(items: Sequence[bool | None]) -> bool | None:
        if any(i is True for i in items):
            return True
        return False if all(i is False for i in items) else None

    @staticmethod
    def not_(item: bool | None) -> bool | None:
        return None if item is None else not item


KLEENE: Algebra[bool | None] = _Kleene()

Three = bool | None  # a piece's truth value, or None while it is still open

# The causes of a refusal, in the order they are named. Each is a counterfactual of the rule:
# "the request would be allowed if these pieces held" names the pieces that failed.
_CAPS = {"boundary": True, "session": True}
_WITH_IDENTITY = {"identity": True, **_CAPS}
_WITH_ACCOUNT = {"account": True, **_CAPS}


def _resource_cause(gate: str, cross: Three) -> str:
    if gate == "kms":
        return "key_policy_does_not_trust_account"
    if gate == "trust":
        return "resource_policy_excludes_caller"
    return "cross_account_needs_resource_allow" if cross else "no_allow"


def reason(p: Pieces[Three], *, gate: str = "kms") -> str:
    """The reason code of the rule's answer on ``p``: ``allowed``, ``conditional``, or the cause
    of the refusal, found by asking the same rule what would have allowed the request.

    ``gate`` names the gating resource policy (``kms`` key policy, ``trust`` policy, ``iam``
    for none); it only words the cause.
    """
    if p.deny is True:
        return "explicit_deny"
    if p.blocked is True:
        return "operation_not_cross_account"
    if p.scps is False:
        return "no_scp_allow"
    if p.endpoint is False:
        return "no_endpoint_allow"
    verdict = allowed(KLEENE, p)
    if verdict is not False:
        return "allowed" if verdict else "conditional"
    # The refusal comes from the allow paths: ask them alone, the guards set aside.
    pieces = {**{f: getattr(p, f) for f in PIECE_NAMES}, "deny": False, "blocked": False, "scps": True, "endpoint": True}
    if allowed(KLEENE, Pieces(**{**pieces, **_CAPS})) is True:
        return "boundary_cap" if p.boundary is False else "session_policy_cap"
    if allowed(KLEENE, Pieces(**{**pieces, **_WITH_IDENTITY})) is True:
        return "cross_account_needs_identity_allow" if p.cross else "no_allow"
    if allowed(KLEENE, Pieces(**{**pieces, **_WITH_ACCOUNT})) is True:
        return _resource_cause(gate, p.cross)
    if gate == "trust" and p.direct is False and p.capped is False and p.account is False:
        return "resource_policy_excludes_caller"
    return "no_allow"


def _compile_reason() -> Callable[..., str]:
    """``reason`` for booleans, compiled from the same counterfactuals of the rule (fast refusals)."""

    def text(**overrides: bool) -> str:
        values = {n: ("True" if overrides[n] else "False") if n in overrides else n for n in PIECE_NAMES}
        return allowed(_CODE, Pieces(**values))

    source = f"""def reason({", ".join(PIECE_NAMES)}, gate):
    if deny:
        return "explicit_deny"
    if blocked:
        return "operation_not_cross_account"
    if not scps:
        return "no_scp_allow"
    if not endpoint:
        return "no_endpoint_allow"
    if {text()}:
        return "allowed"
    if {text(**_CAPS)}:
        return "session_policy_cap" if boundary else "boundary_cap"
    if {text(**_WITH_IDENTITY)}:
        return "cross_account_needs_identity_allow" if cross else "no_allow"
    if {text(**_WITH_ACCOUNT)}:
        return resource_cause(gate, cross)
    if gate == "trust" and not (direct or capped or account):
        return "resource_policy_excludes_caller"
    return "no_allow"
"""
    namespace: dict[str, object] = {"resource_cause": _resource_cause}
    exec(source, namespace)
    function = namespace["reason"]
    assert callable(function)
    return function


#: ``reason`` for plain booleans: ``reason_bool(deny, blocked, ..., grants, gate)``.
reason_bool = _compile_reason()
