"""The answers queries return, as data with a text and a JSON form.

``Answer`` is one caller's one action on one key, evaluated directly. ``Route`` is a way to the
same action through roles the caller can assume (``user/alice -> role/deployer -> kms:Decrypt on
key/...``); each hop keeps its own answer, because the condition of an AssumeRole hop is about
that call's context, not the final one. ``Verdict`` puts the direct answer and the best route
together: its status is the better of the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from policyengine.access.formula import to_json, to_text
from policyengine.access.partial import Partial, Status
from policyengine.access.precheck import PRECHECK_REASONS
from policyengine.access.subjects import Subject
from policyengine.access.world import KeyInfo, Principal
from policyengine.explain.decision import ALLOW_PATHS, REASONS

RANK: dict[Status, int] = {"allow": 2, "conditional": 1, "deny": 0}
REASONS_HERE = {
    **REASONS,
    **PRECHECK_REASONS,
    "conditional": "allowed only when the residual condition holds; the request context decides",
    "resource_policy_excludes_caller": "the key policy (or the role's trust policy) names neither the caller nor its "
    "account, and no grant is for it",
}
_ROLE_WORDS = {
    "deny": "deny",
    "scp": "SCP allow",
    "rcp": "RCP allow",
    "endpoint": "VPC endpoint policy allow",
    "key_policy": "key policy allow",
    "trust_policy": "trust policy allow",
    "identity": "identity policy allow",
    "boundary": "boundary allow",
    "session_policy": "session policy allow",
    "grant": "grant",
    "outside": "outside the snapshot",
}


def best(a: Status, b: Status) -> Status:
    return a if RANK[a] >= RANK[b] else b


def worst(a: Status, b: Status) -> Status:
    return a if RANK[a] <= RANK[b] else b


def partial_json(result: Partial) -> dict[str, Any]:
    """A partial answer as JSON: status, residual (text and tree), reason, deciding statements."""
    data: dict[str, Any] = {
        "status": result.status,
        "residual": to_text(result.residual) if result.status == "conditional" else None,
        "residual_tree": to_json(result.residual),
        "reason": result.reason,
        "reason_text": REASONS_HERE.get(result.reason, result.reason),
        "path": result.decision.path if result.decision is not None else None,
        "deciding": [ref.to_json() for ref in result.deciding],
    }
    if result.status == "conditional":
        data["parts"] = [
            {
                "role": part.role,
                "statement": part.ref.to_json() if part.ref is not None else None,
                "text": part.text or None,
                "when": to_text(part.formula),
            }
            for part in result.parts
        ]
    return data


def explain_lines(result: Partial) -> list[str]:
    """The explanation as lines of text (reason, allow path, deciding statements with residuals)."""
    lines = [f"why: {REASONS_HERE.get(result.reason, result.reason)} [{result.reason}]"]
    if result.decision is not None and result.decision.path is not None:
        lines.append(f"how: {ALLOW_PATHS[result.decision.path]}")
    if result.status == "conditional":
        lines.append(f"only if: {to_text(result.residual)}")
        for part in result.parts:
            what = part.text or (part.ref.label if part.ref is not None else "")
            where = f" in {part.ref.policy_name}" if part.ref is not None and part.ref.policy_kind != "grant" else ""
            lines.append(f"  {_ROLE_WORDS[part.role]} {what}{where}: when {to_text(part.formula)}")
    else:
        for ref in result.deciding:
            where = f" in {ref.policy_name}" if ref.policy_kind != "grant" else ""
            lines.append(f"  deciding: {ref.effect} {ref.label}{where}")
    return lines


class Answer(NamedTuple):
    """One subject's one action on one key, asked directly.

    A named tuple rather than a frozen dataclass, as ``Verdict``: ``can`` makes one per question, and a
    frozen dataclass's constructor (a checked attribute write per field) was a tenth of a question's time."""

    subject: Subject
    action: str
    key: KeyInfo
    result: Partial
    notes: tuple[str, ...] = ()

    @property
    def status(self) -> Status:
        return self.result.status

    def to_json(self) -> dict[str, Any]:
        return {
            "principal": self.subject.label,
            "principal_arn": self.subject.arn,
            "principal_kind": self.subject.kind,
            "caller": self.subject.caller,
            "action": self.action,
            "key": self.key.arn,
            **partial_json(self.result),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Hop:
    """One AssumeRole call on a route."""

    source: Subject
    role: Principal
    result: Partial

    def to_json(self) -> dict[str, Any]:
        return {"from": self.source.label, "assume": self.role.label, "role_arn": self.role.arn, **partial_json(self.result)}


@dataclass(frozen=True)
class Route:
    """A chain of AssumeRole hops ending in an answer on the key."""

    hops: tuple[Hop, ...]
    final: Answer

    @property
    def status(self) -> Status:
        status: Status = self.final.status
        for hop in self.hops:
            status = worst(status, hop.result.status)
        return status

    def text(self) -> str:
        names = [self.hops[0].source.label, *(h.role.label for h in self.hops)]
        return " -> ".join(names) + f" -> {self.final.action} on {self.final.key.label}"

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "path": self.text(),
            "hops": [h.to_json() for h in self.hops],
            "final": self.final.to_json(),
        }


class Verdict(NamedTuple):
    """The direct answer and, when it is better, the best route through roles."""

    direct: Answer
    route: Route | None = None

    @property
    def status(self) -> Status:
        return best(self.direct.status, self.route.status) if self.route is not None else self.direct.status

    @property
    def how(self) -> Literal["direct", "via_role"]:
        if self.route is not None and RANK[self.route.status] > RANK[self.direct.status]:
            return "via_role"
        return "direct"

    def to_json(self) -> dict[str, Any]:
        return {
            "principal": self.direct.subject.label,
            "principal_arn": self.direct.subject.arn,
            "principal_kind": self.direct.subject.kind,
            "status": self.status,
            "how": self.how,
            "direct": self.direct.to_json(),
            "via": self.route.to_json() if self.route is not None else None,
        }
