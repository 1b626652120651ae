"""What a check answers: a verdict, a replayed counterexample, and the approximations used.

Verdicts:

* ``pass``: the solver proved that no request in the check's scope does what the check forbids;
* ``fail``: a concrete request does, and the real evaluator confirmed it;
* ``unconfirmed``: not proved either way: the solver gave up (time limit) or its counterexample
  leaned on an approximation and did not replay; never a pass;
* ``bug``: the solver's counterexample did not replay although nothing was approximated, which
  means the translation disagrees with the evaluator; reported, never shown as a counterexample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from policyengine.explain.decision import StatementRef

Verdict = Literal["pass", "fail", "unconfirmed", "bug"]
CheckName = Literal["no-new-access", "access-not-granted", "no-public-access"]


@dataclass(frozen=True, slots=True)
class Counterexample:
    """A concrete request, as ``make_request`` takes it, with what the evaluator said about it.

    ``iam_policy`` is the identity policy the caller was assumed to have (its IAM policies are
    unknown to the check; None when the request needs none). ``statements`` are the deciding
    statements of the allow; ``other_reason`` is why the other side (the old version) denies.
    """

    principal: str
    action: str
    resource: str
    context: dict[str, str | list[str]]
    bypass_lockout_check: bool = False
    iam_policy: dict[str, Any] | None = None
    statements: tuple[StatementRef, ...] = ()
    other_reason: str | None = None
    #: The request's encryption context and grant tokens, when grants in the policy set read them.
    encryption_context: dict[str, str] | None = None
    grant_tokens: tuple[str, ...] = ()
    #: The grant a RetireGrant request names, when the policy set has grants.
    grant_id: str | None = None
    #: The caller's permissions boundary or session policy (unknown to the check) must not allow the
    #: request: the replay gave it a session policy that allows nothing.
    restricted: bool = False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "principal": self.principal,
            "action": self.action,
            "resource": self.resource,
            "context": self.context,
        }
        if self.bypass_lockout_check:
            data["bypass_policy_lockout_safety_check"] = True
        if self.encryption_context is not None:
            data["encryption_context"] = self.encryption_context
        if self.grant_tokens:
            data["grant_tokens"] = list(self.grant_tokens)
        if self.grant_id is not None:
            data["grant_id"] = self.grant_id
        if self.restricted:
            data["caller_caps"] = "a permissions boundary or session policy that does not allow the request"
        if self.iam_policy is not None:
            data["assumed_identity_policy"] = self.iam_policy
        data["statements"] = [s.to_json() for s in self.statements]
        if self.other_reason is not None:
            data["old_decision_reason"] = self.other_reason
        return data


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The answer of one check."""

    check: CheckName
    verdict: Verdict
    message: str
    scope: str
    backend: str
    seconds: float
    counterexample: Counterexample | None = None
    approximations: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    @property
    def label(self) -> str:
        """``pass``, ``fail``, ``fail (unconfirmed)`` or ``bug``."""
        return "fail (unconfirmed)" if self.verdict == "unconfirmed" else self.verdict

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "check": self.check,
            "result": self.verdict,
            "label": self.label,
            "message": self.message,
            "scope": self.scope,
            "approximations": list(self.approximations),
            "solver": self.backend,
            "seconds": round(self.seconds, 4),
        }
        if self.counterexample is not None:
            data["counterexample"] = self.counterexample.to_json()
        if self.details:
            data["details"] = self.details
        return data
