"""The solver's model of ``authorize`` on one concrete request.

The offline checks quantify over requests; this asks the same encoding (``encode.py``, the
combining rule over solver terms, with every policy kind of a ``PolicySet``) about one request,
by fixing every variable of the symbolic request to that request's values: its caller's class
(and IAM path), action, resource parts, the lockout flag, every context key the policies read
(present or not, its text and typed readings), the encryption context, the grant tokens and
the grant a RetireGrant names.
The formula "allowed" is then either satisfiable (the model allows) or its negation is (the
model denies); both, or neither, means the pins do not fix the request (a defect, reported as
``None``). The differential harness compares this answer with ``authorize``'s on every case.
"""

from __future__ import annotations

from policyengine.analysis.backend import DEFAULT_BACKEND, Term
from policyengine.analysis.encode import Side
from policyengine.analysis.setup import build_setup
from policyengine.analysis.surroundings import from_policy_set
from policyengine.analysis.symbolic import Scope, SymbolicRequest
from policyengine.analysis.universe import CallerClass
from policyengine.errors import RequestError
from policyengine.evaluator.authorizer import PolicySet
from policyengine.evaluator.kms_rules import is_key_arn
from policyengine.model.principal import PrincipalRef
from policyengine.model.request import Request
from policyengine.parsing.request import classify_caller

#: Time limit of each of the two questions (a pinned request is decided by propagation).
PINNED_TIMEOUT_MS = 10_000


def solver_decision(request: Request, policies: PolicySet, *, backend: str = DEFAULT_BACKEND) -> bool | None:
    """Whether the solver's model allows ``request`` under ``policies``; ``None`` when the model
    cannot say (an unmodelled test, a time-out, or a request the pins do not fix)."""
    around = from_policy_set(request, policies)
    scope = Scope(kms_actions_only=request.service == "kms", key_resources_only=is_key_arn(request.resource))
    key = (policies.key_policy,) if policies.key_policy is not None else ()
    setup = build_setup(key, scope, None, backend, around, caller=request.principal)
    allowed = setup.encoder.allowed(Side(policies.key_policy, around))
    sym, b = setup.sym, setup.backend
    if sym.approximations:
        return None
    b.load([*sym.constraints, *_pins(sym, request)])
    allows = b.check_more([allowed], PINNED_TIMEOUT_MS)
    denies = b.check_more([b.not_(allowed)], PINNED_TIMEOUT_MS)
    if {allows, denies} != {"sat", "unsat"}:
        return None
    return allows == "sat"


def _class_of(sym: SymbolicRequest, ref: PrincipalRef) -> CallerClass:
    for cls in sym.classes:
        if cls.placeholder == ref.text:
            return cls
    raise RequestError(f"`{ref.text}` has no caller class of its own")


def _path(ref: PrincipalRef) -> str:
    """The IAM path of a user or role ARN, as the universe spells it (``""`` for ``/``)."""
    rest = ref.text.split(":", 5)[5].partition("/")[2]
    return rest.rpartition("/")[0] + "/" if "/" in rest else ""


def _pins(sym: SymbolicRequest, request: Request) -> list[Term]:
    b = sym.b
    ref = classify_caller(request.principal)
    cls = _class_of(sym, ref)
    pins = [sym.is_class(cls.index), b.eq(sym.action, b.str_const(request.action_lower))]
    if cls.has_path:
        path = _path(ref)
        if cls.path is None:
            pins.append(b.eq(sym.path_var(cls), b.str_const(path)))
        elif cls.path != path:
            raise RequestError(f"`{ref.text}`: its class has another path")
    _, partition, service, region, account, rest = request.resource.split(":", 5)
    parts = [(sym.r_partition, partition), (sym.r_region, region), (sym.r_account, account)]
    if sym.scope.key_resources_only:
        parts.append((sym.r_key_id, rest.removeprefix("key/")))
    else:
        parts.extend(((sym.r_service, service), (sym.r_rest, rest)))
    pins.extend(b.eq(var, b.str_const(value)) for var, value in parts)
    pins.append(_flag(sym, sym.bypass, request.bypass_policy_lockout_safety_check))
    for key, kv in sym.keyvars.items():
        if not kv.use.derived:
            pins.extend(sym.key_is(kv, request.context.get(key)))
    pins.append(_flag(sym, sym.ec_other, any(k.lower() not in sym.ec_keys for k in request.encryption_context)))
    pins.extend(_flag(sym, term, token in request.grant_tokens) for token, term in sym.tokens.items())
    pins.extend((b.not_(sym.iam_allows), sym.caps_allow))
    grant_id = request.grant_id
    if grant_id is None or grant_id in sym.grant_ids:
        pins.append(sym.grant_id_is(grant_id))
    else:
        pins.append(b.eq(sym.grant_choice, b.int_const(len(sym.grant_ids) + 1)))
    return pins


def _flag(sym: SymbolicRequest, term: Term, value: bool) -> Term:
    return term if value else sym.b.not_(term)
