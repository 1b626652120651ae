"""The solver, the symbolic request and the encoder of one question, built from a policy set.

Everything the question's policies can tell apart becomes part of the symbolic request: the
caller classes (``universe.py``: named principals, the known principals of the surroundings,
SCP and RCP accounts, grantees), the context keys the conditions read (plus ``aws:SourceVpce``
when an endpoint policy is given and the encryption-context pairs grants constrain), and the
action alphabet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from policyengine.analysis.backend import TRUE, Backend, load_backend
from policyengine.analysis.encode import PolicyEncoder
from policyengine.analysis.keys import KeyUse, collect_keys
from policyengine.analysis.surroundings import Surroundings
from policyengine.analysis.symbolic import EC_PREFIX, Scope, SymbolicRequest
from policyengine.analysis.universe import (
    CallerClass,
    CallerKind,
    build_classes,
    collect_named,
    group_of,
    merge_classes,
    placeholder_ref,
    policy_accounts,
)
from policyengine.errors import RequestError
from policyengine.evaluator.compiled import CompiledPolicy
from policyengine.evaluator.grants import grantee_is_caller
from policyengine.parsing.request import classify_caller


@dataclass
class Setup:
    """The solver, the symbolic request and the encoder for one check."""

    backend: Backend
    sym: SymbolicRequest
    encoder: PolicyEncoder
    #: the principal's classes (``--principal``), whether or not its identity policies are known
    principal_group: tuple[str | None, ...] | None = None


def _action_chars(policies: Sequence[CompiledPolicy]) -> set[str]:
    """Characters of the action patterns, lowered (the action alphabet is built from them)."""
    chars: set[str] = set()
    for policy in policies:
        for cs in policy.statements:
            for item in cs.statement.action or cs.statement.not_action or ():
                chars.update(item.value.lower())
    return chars


def _surrounding_keys(keys: dict[str, KeyUse], around: Surroundings) -> None:
    """Context keys the surroundings read besides conditions: ``aws:SourceVpce`` picks the endpoint
    policy, and grant constraints read encryption-context pairs (as text)."""
    needed = ["aws:sourcevpce"] if around.endpoints else []
    for grant in around.grants:
        constraints = grant.constraints
        for pairs in (constraints.encryption_context_equals, constraints.encryption_context_subset) if constraints else ():
            needed.extend(EC_PREFIX + k.lower() for k in pairs or {})
    for key in needed:
        keys.setdefault(key, KeyUse(key)).families.add("string")


def build_setup(
    policies: Sequence[CompiledPolicy],
    scope: Scope,
    principal: str | None,
    backend: str,
    around: Surroundings,
    *,
    caller: str | None = None,
) -> Setup:
    """The symbolic request over every caller class the policies (and ``around``) tell apart.

    ``principal`` is the check's principal (its classes are kept apart); ``caller`` a concrete
    caller that must be a class of its own (its placeholder is the caller itself).
    """
    solver = load_backend(backend)
    everything = [*policies, *around.policies()]
    chars = _action_chars(everything)
    for action in scope.actions:
        chars.update(action.lower())
    keys = collect_keys(everything)
    _surrounding_keys(keys, around)
    named, observed = collect_named(everything, scope.resources)
    if scope.key_account is not None:
        named.accounts.update((p, scope.key_account) for p in named.partitions)
    for account in (*around.scp_levels, *around.rcp_levels):
        named.accounts.update((p, account) for p in list(named.partitions))
    for holder in around.holders:
        named.add(classify_caller(holder.principal))
    for grant in around.grants:
        named.add(grant.grantee)
        if grant.retiring_principal is not None:
            named.add(classify_caller(grant.retiring_principal))
    if caller is not None:
        named.add(classify_caller(caller))
    group = None
    if principal is not None:
        ref = classify_caller(principal)
        if ref.kind == "service":
            raise RequestError(f"--principal `{principal}`: a service principal has no identity policies")
        named.add(ref)
        kind = cast(CallerKind, ref.kind)  # classify_caller returns only caller kinds
        group = group_of(kind, ref.partition, ref.account, ref.name)
    resource_policies = [p for p in everything if p.kind in ("key_policy", "rcp", "endpoint_policy")]
    statements = [cs for p in resource_policies for cs in p.statements]
    derived = frozenset(k for k, use in keys.items() if use.derived)
    groups = {h.group for h in around.holders} | ({group} if group is not None else set())

    def marks(cls: CallerClass) -> object:
        ref = placeholder_ref(cls)
        granted = tuple(
            (
                grantee_is_caller(g.grantee, ref),
                g.retiring_principal is not None and g.retiring_principal in (ref.text, ref.role_arn),
            )
            for g in around.grants
        )
        return granted, caller is not None and cls.placeholder == caller

    classes = merge_classes(build_classes(named, policy_accounts(everything), observed.names), statements, derived, groups, marks)
    sym = SymbolicRequest(solver, classes, named, keys, chars, scope, observed)
    sym.ec_modelled = any(g.constraints is not None for g in around.grants)
    sym.declare_grant_ids([g.grant_id for g in around.grants])
    if sym.ec_modelled and "kms:encryptioncontextkeys" in keys:
        sym.approximations.add(
            "`kms:EncryptionContextKeys` is read where grants constrain the encryption context: the two are "
            "separate variables (a counterexample may not replay)"
        )
    _facts(sym, around)
    return Setup(solver, sym, PolicyEncoder(sym), group)


def _facts(sym: SymbolicRequest, around: Surroundings) -> None:
    """The context keys the surroundings fix for their principals, accounts and key."""
    held: set[int] = set()
    for holder in around.holders:
        members = [c.index for c in sym.classes if c.group == holder.group]
        held.update(members)
        if holder.facts is not None:
            sym.facts(sym.caller_in(members), holder.facts, ("aws:principaltag/",))
    for account, facts in sorted(around.account_facts.items()):
        members = [c.index for c in sym.classes if c.kind != "service" and c.account == account and c.index not in held]
        if members:
            sym.facts(sym.caller_in(members), facts)
    if around.key_facts:
        guard = sym.resource_matches(around.key) if around.key is not None else TRUE
        sym.facts(guard, around.key_facts, ("aws:resourcetag/",))
