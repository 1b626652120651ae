"""All the new access a policy change grants, as classes: principal class × action set × condition.

One counterexample says a change is unsafe; a reviewer needs every kind of access it opens. After
the first model, each round reads the solver's request, makes it readable, generalises it, and
blocks it before asking again:

* the action becomes real: every catalog KMS action is replayed with the rest of the request, and
  the class holds all those the evaluator confirms as new access (so ``kms:ReEncrypt*`` reads as
  ``kms:ReEncryptFrom, kms:ReEncryptTo``, never as a string the solver made up);
* each context value becomes one the policies name for that key where the access survives the
  swap (``aws:SourceVpce = vpce-1a2b`` rather than ``a``);
* the caller's class (kind and account, as the solver's universe distinguishes them) together with
  the action set is blocked, and the solver is asked for a request outside every class found,
  with the action held to the catalog's KMS actions (a string that only fits a pattern such as
  ``kms:ReEncrypt*`` is not a new class).

Every class is replayed through the evaluator; the enumeration stops when the solver finds no
more (all new access is listed), at ``max_classes``, or when the time runs out (then it says so).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from policyengine._catalog import actions as catalog_actions
from policyengine.analysis.backend import Backend, Term
from policyengine.analysis.replay import Witness, read_witness
from policyengine.analysis.result import Counterexample
from policyengine.analysis.symbolic import SymbolicRequest
from policyengine.analysis.universe import CallerClass
from policyengine.explain.describe import describe_condition
from policyengine.model.policy import PolicyDocument

Replay = Callable[[Witness], Counterexample | None]


_KIND_WORDS = {
    "user": "IAM user",
    "role": "role (any session of it)",
    "assumed_role": "session of role",
    "federated_user": "federated user",
}


@dataclass(frozen=True)
class AccessClass:
    """One kind of new access: who (a caller class), which actions, under which conditions.

    ``conditions`` are the conditions of the statements that grant the example request, in words;
    ``context`` is one request context that satisfies them, with values the policies name.
    """

    caller_kind: str
    account: str | None
    name: str | None
    principal: str
    actions: tuple[str, ...]
    resource: str
    context: dict[str, str | list[str]]
    conditions: tuple[str, ...]
    example: Counterexample

    def who(self) -> str:
        if self.caller_kind == "service":
            return self.principal
        where = self.account if self.account else f"an account the policies do not name (e.g. {self.principal.split(':')[4]})"
        if self.caller_kind == "account":
            return f"the root of {where}"
        if self.name is not None:
            return f"{_KIND_WORDS.get(self.caller_kind, self.caller_kind)} {self.name} of {where}"
        return f"IAM principals (users, roles, sessions) of {where}"

    def describe(self) -> str:
        when = " and ".join(self.conditions) if self.conditions else "with no condition"
        said = " ".join(self.conditions)
        example = {k: v for k, v in sorted(self.context.items()) if not (isinstance(v, str) and f"{k} = {v}" in said)}
        if self.conditions and example:
            when += " (e.g. " + ", ".join(f"{k}={v}" for k, v in example.items()) + ")"
        if self.example.restricted:
            when += " (for a caller whose permissions boundary or session policy refuses it)"
        return f"{self.who()}: {', '.join(self.actions)} {'if ' if self.conditions else ''}{when}"

    def to_json(self) -> dict[str, Any]:
        return {
            "caller_kind": self.caller_kind,
            "account": self.account,
            "name": self.name,
            "principal": self.principal,
            "actions": list(self.actions),
            "resource": self.resource,
            "conditions": list(self.conditions),
            "context": self.context,
            "description": self.describe(),
            "example": self.example.to_json(),
        }


def granting_conditions(example: Counterexample, documents: Sequence[PolicyDocument]) -> tuple[str, ...]:
    """The conditions of the Allow statements that grant ``example``, in words, each once."""
    by_name = {d.source: d for d in documents}
    found: list[str] = []
    for ref in example.statements:
        document = by_name.get(ref.policy_name)
        if document is None or ref.effect != "Allow" or not 0 <= ref.index < len(document.statements):
            continue
        for c in document.statements[ref.index].conditions:
            text = describe_condition(c.operator, c.base, c.qualifier, c.if_exists, c.key, tuple(v.value for v in c.values))
            if text not in found:
                found.append(text)
    return tuple(found)


@dataclass(frozen=True)
class Enumeration:
    """The classes found, and whether they are all the new access there is."""

    classes: tuple[AccessClass, ...]
    complete: bool
    stopped: str | None = None

    def to_json(self) -> list[dict[str, Any]]:
        return [c.to_json() for c in self.classes]


def policy_values(documents: Iterable[PolicyDocument]) -> dict[str, list[str]]:
    """Every static value the policies compare each condition key with (keys lower-cased)."""
    found: dict[str, list[str]] = {}
    for document in documents:
        for statement in document.statements:
            for condition in statement.conditions:
                bucket = found.setdefault(condition.key.lower(), [])
                for value in condition.values:
                    if value.template is None and value.value not in bucket:
                        bucket.append(value.value)
    return found


def key_spellings(documents: Iterable[PolicyDocument]) -> dict[str, str]:
    """Condition keys as the policies spell them, by lower-cased key (the solver reads keys lower-cased)."""
    return {c.key.lower(): c.key for d in documents for s in d.statements for c in s.conditions}


def kms_actions() -> list[str]:
    """Every KMS action of the catalog, as AWS spells it."""
    return [f"kms:{name}" for name in catalog_actions("kms")]


#: AWS's documentation example key id; a region nobody has to look up.
EXAMPLE_KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
DEFAULT_REGION = "us-east-1"
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


def policy_regions(documents: Iterable[PolicyDocument]) -> list[str]:
    """Regions the policies name (in ARNs and ``aws:RequestedRegion``), then ``us-east-1``."""
    found: list[str] = []
    for document in documents:
        for statement in document.statements:
            texts = [item.value for item in statement.resource or ()]
            texts += [v.value for c in statement.conditions for v in c.values if v.template is None]
            for text in texts:
                parts = text.split(":")
                region = parts[3] if text.startswith("arn:") and len(parts) > 3 else text
                if _REGION.match(region) and region not in found:
                    found.append(region)
    return [*found, DEFAULT_REGION] if DEFAULT_REGION not in found else found


def _filled(pattern: str) -> str:
    """A concrete value a policy's wildcard pattern matches (``log-group:*`` -> ``log-group:example``)."""
    return pattern.replace("*", "example").replace("?", "x")


def _resources(resource: str, regions: Sequence[str]) -> list[str]:
    """Readable forms of a solver's key ARN: a real region and, for a made-up id, AWS's example id."""
    parts = resource.split(":", 5)
    if len(parts) != 6 or parts[2] != "kms" or not parts[5].startswith("key/"):
        return []
    key_id = parts[5][4:]
    if len(key_id) != 36 and not key_id.startswith("mrk-"):
        key_id = EXAMPLE_KEY_ID
    region = parts[3]
    out = [f"{':'.join(parts[:3])}:{r}:{parts[4]}:key/{key_id}" for r in ([region] if _REGION.match(region) else regions)]
    return [r for r in out if r != resource]


@dataclass(frozen=True)
class Readable:
    """What a witness may be rewritten with: real actions, policy values and regions, key spellings."""

    actions: Sequence[str]
    values: dict[str, list[str]]
    regions: Sequence[str]
    spellings: dict[str, str]
    #: False when the question names its resources (a rewritten key ARN could leave them)
    resources: bool = True

    @classmethod
    def of(cls, documents: Sequence[PolicyDocument], actions: Sequence[str] | None = None, resources: bool = True) -> Readable:
        """Hints from the policies; ``actions`` limits the action rewrite (default: every KMS action)."""
        return cls(
            kms_actions() if actions is None else actions,
            policy_values(documents),
            policy_regions(documents),
            key_spellings(documents),
            resources,
        )


def readable(witness: Witness, replay: Replay, hints: Readable) -> Witness:
    """The witness with a real action, region, key id and policy-named context values, wherever the access survives it.

    Each rewrite is kept only when the rewritten request still replays (``replay`` returns a
    confirmed counterexample), so the result is always as confirmed as the witness was.
    """
    if replay(witness) is None:
        return witness
    current = witness

    def first(trials: Iterable[Witness]) -> None:
        nonlocal current
        for trial in trials:
            if replay(trial) is not None:
                current = trial
                return

    if current.action.lower() not in {a.lower() for a in hints.actions}:
        first(replace(current, action=a) for a in hints.actions)
    if hints.resources:
        first(replace(current, resource=r) for r in _resources(current.resource, hints.regions))
    spelled = {hints.spellings.get(k.lower(), k): v for k, v in current.context.items()}
    if spelled != current.context:
        first([replace(current, context=spelled)])
    for key, value in sorted(current.context.items()):
        if not isinstance(value, str):
            continue
        exact = [c for c in hints.values.get(key.lower(), ()) if "*" not in c and "?" not in c]
        filled = [_filled(c) for c in hints.values.get(key.lower(), ()) if c not in exact]
        if value in exact:
            continue
        first(replace(current, context={**current.context, key: c}) for c in [*exact, *filled] if c != value)
    return current


def enumerate_classes(
    backend: Backend,
    sym: SymbolicRequest,
    replay: Replay,
    documents: Sequence[PolicyDocument],
    *,
    deadline: float,
    max_classes: int = 25,
) -> Enumeration:
    """Every class of new access, from the model the solver holds now (its last check was satisfiable)."""
    hints = Readable.of(documents)
    classes: list[AccessClass] = []
    # Only real action names from here on: a string that merely fits a policy's pattern is no new class.
    blocks: list[Term] = [_one_of(backend, sym, hints.actions)]
    while True:
        witness = readable(read_witness(sym), replay, hints)
        example = replay(witness)
        cls: CallerClass = witness.cls
        if example is None:
            return Enumeration(tuple(classes), False, "a request the solver found did not replay; listing stopped there")
        actions = tuple(a for a in hints.actions if replay(replace(witness, action=a)) is not None) or (witness.action,)
        classes.append(
            AccessClass(
                cls.kind,
                cls.account,
                cls.name,
                witness.principal,
                actions,
                witness.resource,
                witness.context,
                granting_conditions(example, documents),
                example,
            )
        )
        blocks.append(backend.not_(backend.and_((sym.is_class(cls.index), _one_of(backend, sym, actions)))))
        if len(classes) >= max_classes:
            return Enumeration(tuple(classes), False, f"stopped at {max_classes} classes")
        remaining = int((deadline - time.perf_counter()) * 1000)
        if remaining <= 0:
            return Enumeration(tuple(classes), False, "the time limit ran out before every class was found")
        status = backend.check_more(blocks, remaining)
        if status == "unsat":
            return Enumeration(tuple(classes), True)
        if status != "sat":
            return Enumeration(tuple(classes), False, "the solver gave no answer in time for further classes")


def _one_of(backend: Backend, sym: SymbolicRequest, actions: Sequence[str]) -> Term:
    return backend.or_(backend.eq(sym.action, backend.str_const(a.lower())) for a in actions)
