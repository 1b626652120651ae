"""From a solver model to a concrete request, and back through the real evaluator.

Nothing the solver says is reported until ``authorize`` agrees: the request is rebuilt with
``make_request`` (which derives ``aws:PrincipalArn``, ``kms:CallerAccount``, ... itself) and
decided against the policies as given. A caller whose IAM policies are unknown to the check is
given the smallest identity policy that allows the request, and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from policyengine.analysis.surroundings import Holder, Surroundings
from policyengine.analysis.symbolic import EC_PREFIX, KeyVars, SymbolicRequest
from policyengine.analysis.universe import CallerClass
from policyengine.analysis.values import render
from policyengine.evaluator.authorizer import PolicySet, authorize
from policyengine.evaluator.compiled import CompiledPolicy, compile_policy
from policyengine.explain.decision import Decision
from policyengine.model.request import Request
from policyengine.parsing.document import parse_policy_fast
from policyengine.parsing.request import classify_caller, make_request


@dataclass(frozen=True, slots=True)
class Witness:
    """A request read off a model, with the caller's class and whether IAM may be assumed."""

    cls: CallerClass
    principal: str
    action: str
    resource: str
    context: dict[str, str | list[str]]
    bypass: bool
    iam_allows: bool
    encryption_context: dict[str, str] | None = None
    grant_tokens: tuple[str, ...] = ()
    grant_id: str | None = None
    caps_allow: bool = True


@cache
def _kms_names() -> dict[str, str]:
    from policyengine._catalog import actions

    return {f"kms:{name}".lower(): f"kms:{name}" for name in actions("kms")}


def canonical_action(action: str) -> str:
    """The catalog's spelling of a KMS action (actions match case-insensitively)."""
    return _kms_names().get(action.lower(), action)


def _principal(sym: SymbolicRequest, cls: CallerClass) -> str:
    b = sym.b
    placeholder = classify_caller(cls.placeholder)
    if cls.kind == "service":
        if cls.name is not None:
            return cls.name
        return b.value_str(sym.name_vars[cls.index]) if cls.index in sym.name_vars else cls.placeholder
    part = (
        cls.partition
        if cls.partition is not None
        else b.value_str(sym.partition_var)
        if sym.partition_var is not None
        else placeholder.partition
    )
    account = cls.account if cls.account is not None else b.value_str(sym.account_vars[cls.partition])
    name = (
        cls.name
        if cls.name is not None
        else (b.value_str(sym.name_vars[cls.index]) if cls.index in sym.name_vars else placeholder.name)
    )
    path = cls.path if cls.path is not None else (b.value_str(sym.path_vars[cls.index]) if cls.index in sym.path_vars else "")
    if cls.kind == "account":
        return f"arn:{part}:iam::{account}:root"
    if cls.kind in ("user", "role"):
        return f"arn:{part}:iam::{account}:{cls.kind}/{path}{name}"
    if cls.kind == "assumed_role":
        return f"arn:{part}:sts::{account}:assumed-role/{name}/{cls.session}"
    return f"arn:{part}:sts::{account}:federated-user/{name}"


def _key_value(sym: SymbolicRequest, kv: KeyVars) -> str | list[str] | None:
    b = sym.b
    if not b.value_bool(kv.present):
        return None
    texts: list[str] = []
    for slot in kv.slots:
        if not b.value_bool(slot.used):
            continue
        if slot.text is not None:
            texts.append(b.value_str(slot.text))
        else:
            family, (readable, number) = sorted(slot.typed.items())[0]
            texts.append(render(kv.use, family, b.value_bool(readable), b.value_int(number)))
    if not texts:
        return None
    return texts if kv.use.slots > 1 else texts[0]


def read_witness(sym: SymbolicRequest) -> Witness:
    """The request the current model describes."""
    b = sym.b
    cls = sym.classes[b.value_int(sym.caller)]
    context: dict[str, str | list[str]] = {}
    for key, kv in sorted(sym.keyvars.items()):
        if kv.use.derived:
            continue
        value = _key_value(sym, kv)
        if value is not None:
            context[key] = value
    action = canonical_action(sym.action_text(b.value_str(sym.action)))
    encryption_context: dict[str, str] | None = None
    if sym.ec_modelled:
        # grants read the encryption context itself: send it as one, and make_request derives its keys
        encryption_context = {}
        for key in sym.ec_keys:
            value = context.pop(EC_PREFIX + key, None)
            if value is not None:
                encryption_context[key] = value if isinstance(value, str) else value[0]
        if b.value_bool(sym.ec_other):
            encryption_context[_unused_key(encryption_context)] = "x"
    return Witness(
        cls=cls,
        principal=_principal(sym, cls),
        action=action,
        resource=b.value_str(sym.resource),
        context=context,
        bypass=b.value_bool(sym.bypass),
        iam_allows=b.value_bool(sym.iam_allows),
        encryption_context=encryption_context,
        grant_tokens=tuple(t for t, term in sorted(sym.tokens.items()) if b.value_bool(term)),
        grant_id=_grant_id(sym),
        caps_allow=b.value_bool(sym.caps_allow),
    )


def _grant_id(sym: SymbolicRequest) -> str | None:
    """The grant the request names: one of the policy set's, none, or one no grant has."""
    index = sym.b.value_int(sym.grant_choice)
    if index < len(sym.grant_ids):
        return sym.grant_ids[index]
    if index == len(sym.grant_ids):
        return None
    n = 0
    while f"pe-other-grant-{n}" in sym.grant_ids:
        n += 1
    return f"pe-other-grant-{n}"


def _unused_key(taken: dict[str, str]) -> str:
    n = 0
    while f"pe-other-{n}" in taken:
        n += 1
    return f"pe-other-{n}"


def assumed_iam_policy(action: str) -> dict[str, Any]:
    """The identity policy a caller with unknown IAM policies is assumed to have."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "AssumedByCheck", "Effect": "Allow", "Action": action, "Resource": "*"}],
    }


def compile_assumed(policy: dict[str, Any]) -> CompiledPolicy:
    import json

    return compile_policy(parse_policy_fast(json.dumps(policy), "assumed identity policy"), "identity", "assumed identity policy")


def decide(
    witness: Witness,
    key_policy: CompiledPolicy | None,
    identity: tuple[CompiledPolicy, ...],
    around: Surroundings | None = None,
) -> Decision:
    """The evaluator's decision on the witness request, against the key policy, the caller's
    identity policies and (when given) the rest of the policy set: the caller's boundary and
    session policy, the SCP levels of its account, the RCP levels of the key's account, the
    endpoint policy of the ``aws:SourceVpce`` it comes through, and the key's grants."""
    request = make_request(
        witness.principal,
        witness.action,
        witness.resource,
        dict(witness.context),
        bypass_policy_lockout_safety_check=witness.bypass,
        encryption_context=witness.encryption_context,
        grant_tokens=witness.grant_tokens,
        grant_id=witness.grant_id,
    )
    around = around or Surroundings()
    restricted = not witness.caps_allow and around.caps_unknown(witness.cls.kind, witness.cls.group)
    return authorize(request, policy_set(request, key_policy, identity, around, restricted=restricted))


@cache
def _ALLOWS_NOTHING() -> CompiledPolicy:
    """The session policy of a counterexample whose caller's boundary or session policy must refuse it."""
    import json

    text = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Sid": "AllowsNothing", "Effect": "Allow", "NotAction": "*", "Resource": "*"}]}
    )
    return compile_policy(parse_policy_fast(text, "restrictive session policy"), "session_policy", "restrictive session policy")


def policy_set(
    request: Request,
    key_policy: CompiledPolicy | None,
    identity: tuple[CompiledPolicy, ...],
    around: Surroundings,
    *,
    restricted: bool = False,
) -> PolicySet:
    """The ``PolicySet`` that decides ``request`` in ``around`` (the inverse of ``surroundings.from_policy_set``);
    ``restricted``: the caller's unknown caps refuse the request (a session policy that allows nothing)."""
    holder = None
    if request.caller.kind != "service":
        group = Holder(request.identity_arn or request.principal).group
        holder = next((h for h in around.holders if h.group == group), None)
    vpce = request.context.get("aws:sourcevpce")
    endpoint = next((p for e, p in around.endpoints if e is None or e == vpce), None) if vpce is not None else None
    return PolicySet(
        key_policy=key_policy,
        identity=identity,
        boundary=holder.boundary if holder is not None else None,
        session_policy=_ALLOWS_NOTHING() if restricted else holder.session_policy if holder is not None else None,
        scp_levels=around.scp_levels.get(request.principal_account or ""),
        rcp_levels=around.rcp_levels.get(request.resource_account or ""),
        grants=around.grants,
        management_account=around.management_account,
        endpoint_policy=endpoint,
    )


def decide_identity_only(witness: Witness, identity: tuple[CompiledPolicy, ...]) -> Decision:
    """An identity policy on its own, as if the resource side let the caller in: its statements only."""
    request = make_request(witness.principal, witness.action, witness.resource, dict(witness.context))
    matches = [c for policy in identity for c in policy.matching(request, False)]
    denies = tuple(c[0].ref for c in matches if c[0].deny)
    if denies:
        return Decision("explicit_deny", denies, "explicit_deny")
    allows = tuple(c[0].ref for c in matches)
    return Decision("allow", allows, "allowed") if allows else Decision("implicit_deny", (), "no_allow")
