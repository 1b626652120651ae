"""Condition tests, compiled once per policy and applied per request.

The rules that are the same for every operator live here and only here (IAM UG, "Condition
operators", "...IfExists", "Condition operator to check existence of condition keys",
"Single-valued vs. multivalued context keys"):

* a missing key makes positive operators false and negated operators true;
* ``IfExists``: a missing key makes the test true; a present one is tested normally;
* ``ForAllValues:`` is true when the key is missing or empty, else every request value must
  satisfy the operator; ``ForAnyValue:`` is false when missing or empty, else one value must;
* with a negated operator, "satisfy" means "matches none of the policy values";
* several policy values are ORed; a value that cannot be read is a type mismatch, never a match.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from policyengine.evaluator.operators import BadValue, Operator, find_operator
from policyengine.evaluator.patterns import substitute, template_matcher
from policyengine.explain.decision import ConditionResult, Outcome
from policyengine.model.policy import Condition
from policyengine.model.template import TemplatePart

Context = Mapping[str, "str | tuple[str, ...]"]
_TRUE_OUTCOMES = frozenset(("match", "missing_key_true"))


@dataclass(frozen=True, slots=True)
class _DynamicValue:
    """A policy value holding variables: prepared per request, after substitution."""

    parts: tuple[TemplatePart, ...]


@dataclass(frozen=True, slots=True)
class CompiledCondition:
    """A condition with its operator resolved and its static values prepared."""

    source: Condition
    key: str  # lowercased
    operator: Operator | None
    values: tuple[Any, ...]  # prepared values or _DynamicValue
    bad_values: tuple[str, ...]
    has_dynamic: bool
    test: Callable[[Context], bool] | None = None  # a specialised ``holds`` for common operators

    def holds(self, context: Context) -> bool:
        """True when the condition is satisfied by ``context``."""
        test = self.test
        if test is not None:
            return test(context)
        return evaluate_condition(self, context)[0] in _TRUE_OUTCOMES

    def explain(self, context: Context) -> ConditionResult:
        """The condition's outcome with the values compared, for traces."""
        outcome, detail = evaluate_condition(self, context)
        raw = context.get(self.key)
        request_values = None if raw is None else (raw if isinstance(raw, tuple) else (raw,))
        return ConditionResult(
            operator=self.source.operator,
            key=self.source.key,
            request_values=request_values,
            policy_values=tuple(v.value for v in self.source.values),
            outcome=outcome,
            matched=outcome in _TRUE_OUTCOMES,
            span=self.source.span,
            detail=detail,
        )


def compile_condition(condition: Condition, substitutes_variables: bool) -> CompiledCondition:
    """Resolve the operator and prepare every value that does not depend on the request."""
    operator = find_operator(condition.base)
    prepared: list[Any] = []
    bad: list[str] = []
    has_dynamic = False
    if operator is not None:
        for value in condition.values:
            if value.template is not None and operator.variables and substitutes_variables:
                prepared.append(_DynamicValue(value.template))
                has_dynamic = True
                continue
            try:
                prepared.append(operator.prepare(value.value))
            except BadValue:
                bad.append(value.value)
    compiled = CompiledCondition(condition, condition.key.lower(), operator, tuple(prepared), tuple(bad), has_dynamic)
    test = _specialised(compiled)
    if test is None:
        return compiled
    return CompiledCondition(compiled.source, compiled.key, operator, compiled.values, compiled.bad_values, has_dynamic, test)


_BOOL_TEXTS = frozenset(("true", "false"))


def _specialised(cc: CompiledCondition) -> Callable[[Context], bool] | None:
    """A direct ``holds`` for the operators most policies use, with the generic rules of the
    module docstring folded in (missing key, IfExists, negation, several values); None for the
    rest (set qualifiers, variables, values that did not parse), which take the generic path.
    A property test holds each specialised test equal to the generic one."""
    operator = cc.operator
    if operator is None or cc.has_dynamic or cc.bad_values or cc.source.qualifier is not None or not cc.values:
        return None
    key = cc.key
    negated = operator.negated
    missing = cc.source.if_exists or negated  # what an absent key makes of the condition
    if operator.kind == "null":
        wanted = tuple(cc.values)

        def null_test(context: Context) -> bool:
            raw = context.get(key)
            present = raw is not None and (type(raw) is str or bool(raw))  # "" is a value; () is none
            return any(w != present for w in wanted)

        return null_test
    if operator.name in ("StringEquals", "StringNotEquals"):
        values = frozenset(cc.values)

        def string_test(context: Context) -> bool:
            raw = context.get(key)
            if raw is None:
                return missing
            if type(raw) is str:
                return (raw in values) != negated
            if not raw:
                return missing
            return any(v in values for v in raw) != negated

        return string_test
    if operator.name == "Bool":
        wanted_bools = frozenset(cc.values)

        def bool_test(context: Context) -> bool:
            raw = context.get(key)
            if raw is None:
                return missing
            items = (raw,) if type(raw) is str else raw
            if not items:
                return missing
            hit = False
            for item in items:
                lowered = item if item in _BOOL_TEXTS else item.strip().lower()
                if lowered == "true":
                    hit = hit or True in wanted_bools
                elif lowered == "false":
                    hit = hit or False in wanted_bools
                else:
                    return False  # a type mismatch is never a match
            return hit

        return bool_test
    if operator.glob:
        matchers = tuple(cc.values)

        def glob_test(context: Context) -> bool:
            raw = context.get(key)
            if raw is None:
                return missing
            items = (raw,) if type(raw) is str else raw
            if not items:
                return missing
            return any(m(item) for item in items for m in matchers) != negated

        return glob_test
    return None


def _policy_values(cc: CompiledCondition, operator: Operator, context: Context) -> list[Any]:
    if not cc.has_dynamic:
        return list(cc.values)
    values: list[Any] = []
    for value in cc.values:
        if not isinstance(value, _DynamicValue):
            values.append(value)
        elif operator.glob:
            matcher = template_matcher(value.parts, context)
            if matcher is not None:
                values.append(matcher)
        else:
            text = substitute(value.parts, context, as_pattern=False)
            if text is not None:
                try:
                    values.append(operator.prepare(text))
                except BadValue:
                    continue
    return values


def evaluate_condition(cc: CompiledCondition, context: Context) -> tuple[Outcome, str | None]:
    """The outcome of one condition against a request context, with a short detail text."""
    operator = cc.operator
    if operator is None:
        return "unsupported", f"`{cc.source.base}` is not a condition operator"
    raw = context.get(cc.key)
    request_values: tuple[str, ...] = () if raw is None else (raw if isinstance(raw, tuple) else (raw,))
    present = bool(request_values)
    qualifier = cc.source.qualifier

    if operator.kind == "null":
        for wanted_absent in cc.values:
            if wanted_absent != present:
                return "match", None
        return "no_match", None

    if not present:
        if qualifier == "ForAllValues" or cc.source.if_exists:
            return "missing_key_true", None
        if qualifier is None and operator.negated:
            return "missing_key_true", None
        return "missing_key_false", None

    policy_values = _policy_values(cc, operator, context)
    if not policy_values:
        if cc.bad_values:
            return "type_mismatch", f"policy value `{cc.bad_values[0]}` is not valid for {operator.name}"
        return "missing_variable", "a policy variable has no value in the request"

    test = operator.test
    try:
        hits = [any(test(operator.convert(rv), pv) for pv in policy_values) for rv in request_values]
    except BadValue as exc:
        return "type_mismatch", str(exc)

    if qualifier == "ForAllValues":
        ok = all((not h) if operator.negated else h for h in hits)
    elif qualifier == "ForAnyValue":
        ok = any((not h) if operator.negated else h for h in hits)
    else:
        positive = any(hits)
        ok = (not positive) if operator.negated else positive
    return ("match" if ok else "no_match"), None
