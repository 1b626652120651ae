"""Role reachability: who can assume which role, and by which chain.

An edge ``S -> R`` exists when ``S`` may call ``sts:AssumeRole`` on ``R``, decided by the same
partial evaluator as key questions: ``R``'s trust policy (the gate: it must name ``S`` or ``S``'s
account), ``S``'s identity policies, boundary and SCPs, and ``R``'s account's RCPs. Conditions
on the AssumeRole call (MFA, ``sts:ExternalId``, source IP) stay open and make the edge
conditional. Only callers a trust policy could admit are tried (the principals it names, the
accounts it names, everyone for ``*``), so the graph costs a few evaluations per role, not
principals × roles.

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
from policyengine.parsing.request import classify_caller

EdgeAsk = Callable[[Subject, Principal], Partial]


@dataclass(frozen=True)
class Path:
    """The hops from a subject to a role."""

    hops: tuple[Hop, ...]

    @property
    def cost(self) -> tuple[int, int]:
        return (sum(1 for h in self.hops if h.result.status == "conditional"), len(self.hops))


class Reachability:
    """The AssumeRole graph of a world and the best path from each subject to each role."""

    def __init__(self, subjects: SubjectIndex, ask: EdgeAsk, *, max_hops: int = 4) -> None:
        self.subjects = subjects
        self.max_hops = max_hops
        self.edges: dict[str, list[Hop]] = {}
        self._assumers: dict[str, list[CompiledStatement]] = {}
        world = subjects.world
        everyone = subjects.all()
        for role in world.principals.values():
            if role.trust is None:
                continue
            for source in _candidates(role, everyone):
                if source.principal is role and source.kind == "role":
                    continue
                if self._surely_denied(source, role):
                    continue
                result = ask(source, role)
                if result.status != "deny":
                    self.edges.setdefault(source.id, []).append(Hop(source, role, result))
        self._paths: dict[str, dict[str, Path]] = {}

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

    def _surely_denied(self, source: Subject, role: Principal) -> bool:
        """True when no evaluation is needed: the trust policy admits ``source`` only through its account
        (or not at all) and no identity policy of ``source`` allows sts:AssumeRole on the role."""
        if source.principal is None or source.kind == "root":
            return False
        assert role.trust is not None
        caller = classify_caller(source.caller)
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
        return not any(cs.resource_static is None or cs.resource_static(role.arn) for cs in self._assume_allows(source))

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
                for hop in self.edges.get(node.id, ()):
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


def _candidates(role: Principal, everyone: list[Subject]) -> list[Subject]:
    """Subjects the trust policy of ``role`` could admit (by its Principal elements)."""
    assert role.trust is not None
    accounts: set[str] = set()
    named: set[str] = set()
    for cs in role.trust.statements:
        block = cs.statement.principal
        if cs.deny:
            continue
        if block is None or block.wildcard:
            return everyone
        for entry in block.entries:
            ref = entry.ref
            if ref.kind == "any":
                return everyone
            if ref.kind == "account" and ref.account:
                accounts.add(ref.account)
            elif ref.kind == "service":
                named.add(f"service:{ref.text}")
            elif ref.account and ref.name:
                named.add(f"{ref.account}:{ref.kind}:{ref.name}" + (f":{ref.session}" if ref.session else ""))
    return [s for s in everyone if s.account in accounts or not named.isdisjoint(_names(s))]


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
