"""Who counts as "the public" for ``no-public-access``, in the linter's own terms.

The stranger is a caller of an account that no Principal names, that no condition value
mentions, and that is not the key's account. The specific values a condition on one of the
``RESTRICTING_KEYS`` names (as ``evaluator.restricting.restricts`` judges them, like the linter: an
organization, account, source VPC or endpoint, ...) describe the trusted side, so the
stranger's request values never hit them; whether it may leave such a key out, or send another
value, is up to the condition. Everything else (including ``kms:ViaService``) the stranger may
set as it likes.
"""

from __future__ import annotations

import re

from policyengine.analysis.backend import Term
from policyengine.analysis.conditions import signature
from policyengine.analysis.encode import PolicyEncoder
from policyengine.analysis.keys import is_dynamic
from policyengine.analysis.symbolic import SymbolicRequest
from policyengine.evaluator.compiled import CompiledPolicy
from policyengine.evaluator.restricting import RESTRICTING_KEYS, restricts
from policyengine.model.policy import Condition

_ACCOUNT = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")


_POSITIVE = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NotIpAddress": "IpAddress",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
}


def _positive(condition: Condition) -> Condition:
    """The same test of the same values, positive and unqualified, for ``restricts`` to judge its values.

    A stranger is not in the organization (or endpoint, account, ...) a condition names,
    whichever way the condition uses the name: ``Allow if OrgID = o-1`` keeps it out, and so does
    ``Deny if OrgID != o-1``.
    """
    base = _POSITIVE.get(condition.base, condition.base)
    return condition.model_copy(update={"base": base, "qualifier": None, "if_exists": False})


def named_accounts(sym: SymbolicRequest, policy: CompiledPolicy) -> set[str]:
    """Accounts the policy names: in a Principal, or anywhere in a condition value."""
    found = {account for _, account in sym.named.accounts}
    for cs in policy.statements:
        for cc in cs.conditions:
            for value in cc.source.values:
                found.update(_ACCOUNT.findall(value.value))
    return found


def outsider_terms(sym: SymbolicRequest, encoder: PolicyEncoder, policy: CompiledPolicy) -> tuple[list[Term], set[str]]:
    """Constraints making the caller a stranger, and the accounts it must not belong to."""
    b = sym.b
    accounts = named_accounts(sym, policy)
    strangers = [c.index for c in sym.classes if c.kind != "service" and c.account is None]
    terms: list[Term] = [sym.caller_in(strangers), encoder.cross]
    for var in sym.account_vars.values():
        terms.extend(b.not_(b.eq(var, b.str_const(a))) for a in sorted(accounts))
    substitutes = policy.document.substitutes_variables
    for cs in policy.statements:
        for cc in cs.conditions:
            if cc.key not in RESTRICTING_KEYS or not restricts(_positive(cc.source)):
                continue
            if is_dynamic(cc, substitutes):
                terms.append(b.not_(encoder.conditions.havoc(signature(cc, substitutes), "")))
                continue
            for hit in encoder.conditions.slot_hits(cc) or ():
                terms.append(b.implies(hit.used, b.not_(hit.hit)))
    return terms, accounts
