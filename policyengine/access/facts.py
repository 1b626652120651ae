"""Which request-context keys a question fixes, and their values.

A question over a snapshot fixes the caller, the action and the key, and with them a set of
context keys whose values (or absence) follow from the snapshot: the caller's ARN, account,
type and tags, its organization, the key's account, tags, spec, aliases and region. Those are
*decided*: a condition on them is evaluated. Every other key (``kms:ViaService``, the
encryption context, ``aws:SourceIp``, MFA, time...) is *open*: a condition on it becomes an
atom of the residual, unless the user gave its value.

When the caller is a stand-in for "some principal of an account outside the snapshot", the
caller's own keys are open too: the snapshot does not know which principal it will be.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from policyengine.model.request import ContextValue

#: Keys fixed by who the caller is.
PRINCIPAL_KEYS = frozenset(
    {
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principaltype",
        "aws:principalisawsservice",
        "aws:principalservicename",
        "aws:principalservicenameslist",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:username",
        "aws:userid",
        "kms:calleraccount",
    }
)
PRINCIPAL_PREFIXES = ("aws:principaltag/",)
#: Keys fixed by which key is asked about (and the action).
RESOURCE_KEYS = frozenset(
    {
        "aws:resourceaccount",
        "aws:resourceorgid",
        "aws:resourceorgpaths",
        "aws:requestedregion",
        "kms:keyspec",
        "kms:keyusage",
        "kms:keyorigin",
        "kms:multiregion",
        "kms:resourcealiases",
        "kms:customermasterkeyspec",
        "kms:customermasterkeyusage",
    }
)
RESOURCE_PREFIXES = ("aws:resourcetag/",)
ENCRYPTION_CONTEXT_KEYS = ("kms:encryptioncontext:", "kms:encryptioncontextkeys")


@dataclass(frozen=True)
class Facts:
    """The decided part of a request: fixed context values and which keys count as decided.

    ``context`` holds the values AWS would send for decided keys (a decided key missing from
    it is decided to be absent). ``given`` are keys the user fixed; ``encryption_context``,
    when not None, is the exact encryption context (then every encryption-context key is
    decided). ``opened`` are caller keys left open because the snapshot knows the caller only
    in part (``aws:principaltag/`` opens every tag). ``closed`` decides every key: absent
    unless given, i.e. a concrete request. ``unknown`` keys are open whatever else is said
    ("allow only if": a concrete request with these keys left open).
    """

    context: Mapping[str, ContextValue] = field(default_factory=dict)
    given: frozenset[str] = frozenset()
    encryption_context: Mapping[str, str] | None = None
    opened: frozenset[str] = frozenset()
    closed: bool = False
    unknown: frozenset[str] = frozenset()

    def decided(self, key: str) -> bool:
        """Whether the (lowercased) key's value or absence is fixed for this question."""
        if key in self.unknown:
            return False
        if self.closed or key in self.given:
            return True
        if key in self.opened or (key.startswith(PRINCIPAL_PREFIXES) and PRINCIPAL_PREFIXES[0] in self.opened):
            return False
        if key == "aws:userid":
            return key in self.context  # known for users with an id; a session's id holds its open name
        if key.startswith(ENCRYPTION_CONTEXT_KEYS):
            return self.encryption_context is not None
        if key in RESOURCE_KEYS or key.startswith(RESOURCE_PREFIXES):
            return True
        return key in PRINCIPAL_KEYS or key.startswith(PRINCIPAL_PREFIXES)


def org_paths(org_id: str | None, ou_path: tuple[str, ...]) -> str | None:
    """``aws:PrincipalOrgPaths`` form: ``o-abc/r-ab12/ou-ab12-1111/`` (None outside an organization)."""
    if org_id is None:
        return None
    return "/".join((org_id, *ou_path)) + "/"
