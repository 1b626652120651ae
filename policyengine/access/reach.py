"""Role reachability: who can assume which role, and by which chain.

An edge ``S -> R`` exists when ``S`` may call ``sts:AssumeRole`` on ``R``, decided by the same
partial evaluator as key questions: ``R``'s trust policy (the gate: it must name ``S`` or ``S``'s
account), ``S``'s identity policies, boundary and SCPs, and ``R``'s account's RCPs. Conditions
on the AssumeRole call (MFA, ``sts:ExternalId``, source IP) stay open and make the edge
conditional.

The graph is never built by trying every caller on every role (that grows with the square of
the principals). Roles are indexed once by what their trust policies name: a principal, an
account, or anyone. A subject's edges are found when first needed, from the roles that name it,
the roles that trust its account (only when one of its identity policies allows
``sts:AssumeRole`` on them: an account in a trust policy admits nobody without that) and the
roles that trust anyone. Callers that must get the same answer on a role (same account, kind,
identity policies and boundary, named alike: ``sameness.py``) share one evaluation. The work
grows with the edges, not with principals × roles.

Routes prefer fewer conditional hops, then fewer hops; chains are followed up to ``max_hops``
(AWS allows role chaining; a chained session lasts at most an hour, which does not change who
can reach what).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from policyengine.access.answers import Hop
from policyengine.access.partial import Partial
from policyengine.access.subjects import Subject, SubjectIndex
from policyengine.access.world import Principal
from policyengine.evaluator.compiled import CompiledStatement
from policyengine.evaluator.principals import principal_matches
from policyengine.model.principal import PrincipalRef

EdgeAsk = Callable[[Subject, Principal], Partial]
#: A memo key shared by callers that must get the same answer on a role (None: no sharing).
EdgeSame = Callable[[Subject, Principal], "tuple[object, ...] | None"]


@dataclass(frozen=True)
class Path:
    """The hops from a subject to a role."""

    hops: tuple[Hop, ...]

    @property
    def cost(self) -> tuple[int, int]:
        return (sum(1 for h in self.hops if h.result.status == "conditional"), len(self.hops))


class Reachability:
    """The AssumeRole graph of a world, built lazily per subject, and the best path from each subject to each role."""

    def __init__(self, subjects: SubjectIndex, ask: EdgeAsk, *, max_hops: int = 4, same: EdgeSame | None = None) -> None:
        self.subjects = subjects
        self.max_hops = max_hops
        self._ask = ask
        self._same = same
        self._memo: dict[tuple[object, ...], Partial] = {}
        self._out: dict[str, list[Hop]] = {}
        self._assumers: dict[str, list[CompiledStatement]] = {}
        self._paths: dict[str, dict[str, Path]] = {}
        self.evaluations = 0
        # Roles by what their trust policies name, in the world's order (so routes are stable).
        self._order: dict[str, int] = {}
        self._by_name: dict[str, list[Principal]] = {}
        self._by_account: dict[str, list[Principal]] = {}
        self._anyone: list[Principal] = []
        for role in subjects.world.principals.values():
            if role.trust is None:
                continue
            self._order[role.arn] = len(self._order)
            accounts, named = _trusted(role)
            if accounts is None:
                self._anyone.append(role)
                continue
            for account in accounts:
                self._by_account.setdefault(account, []).append(role)
            for name in named:
                self._by_name.setdefault(name, []).append(role)

    @property
    def edges(self) -> dict[str, list[Hop]]:
        """The whole graph: every subject's outgoing edges (computed for every subject on first use)."""
        for subject in self.subjects.all():
            self.edges_from(subject)
        return {k: v for k, v in self._out.items() if v}

    def edges_from(self, source: Subject) -> list[Hop]:
        """The roles ``source`` may assume (allowed or conditionally), as hops."""
        found = self._out.get(source.id)
        if found is not None:
            return found
        roles: dict[str, Principal] = {r.arn: r for r in self._anyone}
        for name in _names(source):
            roles.update((r.arn, r) for r in self._by_name.get(name, ()))
        assumers = self._assume_allows(source)
        if source.account is not None and (source.principal is None or source.kind == "root" or assumers):
            roles.update((r.arn, r) for r in self._by_account.get(source.account, ()))
        caller = source.caller_ref if source.principal is not None and source.kind != "root" else None
        found = []
        for arn in sorted(roles, key=self._order.__getitem__):
            role = roles[arn]
            if source.principal is role and source.kind == "role":
                continue
            if caller is not None and self._surely_denied(caller, assumers, role):
                continue
            result = self._edge(source, role)
            if result.status != "deny":
                found.append(Hop(source, role, result))
        self._out[source.id] = found
        return found

    def _edge(self, source: Subject, role: Principal) -> Partial:
        key = self._same(source, role) if self._same is not None else None
        if key is not None:
            known = self._memo.get(key)
            if known is not None:
                return known
        self.evaluations += 1
        result = self._ask(source, role)
        if key is not None:
            self._memo[key] = result
        return result

    def _assume_allows(self, subject: Subject) -> list[CompiledStatement]:
        found = self._assumers.get(subject.id)
        if found is None:
            principal = subject.principal
            found = [
                cs
                for policy in (principal.identity if principal is not None else ())
                for cs in policy.statements
                if not cs.deny and cs.action_test("sts:assumerole")
            ]
            self._assumers[subject.id] = found
        return found

    @staticmethod
    def _surely_denied(caller: PrincipalRef, assumers: list[CompiledStatement], role: Principal) -> bool:
        """True when no evaluation is needed: the trust policy admits the caller only through its account
        (or not at all) and none of its identity policies allows sts:AssumeRole on the role."""
        assert role.trust is not None
        via_account = False
        for cs in role.trust.statements:
            if cs.deny:
                continue
            block = cs.statement.principal
            if block is None or cs.statement.not_principal is not None:
                return False
            via = principal_matches(block, caller)
            if via in ("direct", "direct_capped"):
                return False
            via_account = via_account or via == "account"
        if not via_account:
            return True
        return not any(cs.resource_static is None or cs.resource_static(role.arn) for cs in assumers)

    def paths_from(self, subject: Subject) -> dict[str, Path]:
        """Best path to every role reachable from ``subject``, by role ARN."""
        found = self._paths.get(subject.id)
        if found is not None:
            return found
        best: dict[str, Path] = {}
        frontier: list[tuple[Subject, Path]] = [(subject, Path(()))]
        for _ in range(self.max_hops):
            nxt: list[tuple[Subject, Path]] = []
            for node, path in frontier:
                for hop in self.edges_from(node):
                    target = hop.role.arn
                    if target == (subject.principal.arn if subject.principal is not None else None):
                        continue
                    candidate = Path((*path.hops, hop))
                    known = best.get(target)
                    if known is None or candidate.cost < known.cost:
                        best[target] = candidate
                        nxt.append((self.subjects.by_id[target], candidate))
            frontier = nxt
            if not frontier:
                break
        self._paths[subject.id] = best
        return best

    def edge_count(self) -> int:
        return sum(len(v) for v in self.edges.values())


def _trusted(role: Principal) -> tuple[set[str] | None, set[str]]:
    """The accounts and the names (as ``_names`` spells them) the trust policy of ``role`` admits;
    accounts None when it may admit anyone (``*``, NotPrincipal, no Principal)."""
    assert role.trust is not None
    accounts: set[str] = set()
    named: set[str] = set()
    for cs in role.trust.statements:
        block = cs.statement.principal
        if cs.deny:
            continue
        if block is None or block.wildcard:
            return None, named
        for entry in block.entries:
            ref = entry.ref
            if ref.kind == "any":
                return None, named
            if ref.kind == "account" and ref.account:
                accounts.add(ref.account)
            elif ref.kind == "service":
                named.add(f"service:{ref.text}")
            elif ref.account and ref.name:
                named.add(f"{ref.account}:{ref.kind}:{ref.name}" + (f":{ref.session}" if ref.session else ""))
    return accounts, named


def _names(subject: Subject) -> set[str]:
    """The keys a trust policy entry would use for ``subject`` (a session also answers to its role)."""
    if subject.kind == "service":
        return {f"service:{subject.caller}"}
    arn = subject.caller
    parts = arn.split(":", 5)
    if len(parts) != 6:
        return set()
    account, resource = parts[4], parts[5]
    kind, _, rest = resource.partition("/")
    if kind == "user":
        return {f"{account}:user:{rest.rsplit('/', 1)[-1]}"}
    if kind == "assumed-role":
        role, _, session = rest.partition("/")
        names = {f"{account}:role:{role}"}
        if subject.kind in ("session", "external_principal"):
            names.add(f"{account}:assumed_role:{role}:{session}")
        return names
    if kind == "federated-user":
        return {f"{account}:federated_user:{rest}"}
    return set()
