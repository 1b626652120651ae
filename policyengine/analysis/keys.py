"""Which context keys the policies read, and how: value families, multiplicity, slots, scale.

A request value is a string (or a tuple of strings); each operator family reads it its own way
(string and ARN operators as text, numeric and date operators as numbers, ``Bool`` as
true/false, ``IpAddress`` as an address, ``BinaryEquals`` as bytes). A key read by one family
is modelled exactly in that family's theory. A key read by several families gets one
independent variable per family: an over-approximation (the readings may disagree), recorded.

Multi-valued keys (the catalog's ``ArrayOf...`` keys, and any key a policy reads with
``ForAllValues:``/``ForAnyValue:``) hold a bounded list. The bound is exact: every condition
reads the list through one "some value does / does not hit" question, and every family adds one
"some value cannot be read" question, so a list with one witness per question that holds is
indistinguishable, to these policies, from any longer list. Other keys hold one value (as AWS
sends them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from policyengine.aws_facts import DERIVED_KEY_NAMES
from policyengine.evaluator.compiled import CompiledPolicy
from policyengine.evaluator.conditions import CompiledCondition
from policyengine.evaluator.operators import BadValue

#: Keys AWS (and ``make_request``) derive from the caller, the action or the resource.
DERIVED_KEYS = DERIVED_KEY_NAMES

Family = str  # "string", "numeric", "date", "bool", "ip", "binary"


def family_of(kind: str) -> Family:
    """The value family an operator kind reads (ARN operators read text)."""
    return "string" if kind == "arn" else kind


def is_dynamic(cc: CompiledCondition, substitutes: bool) -> bool:
    """True when a value holds policy variables that the evaluator substitutes per request."""
    operator = cc.operator
    if operator is None or not operator.variables or not substitutes:
        return False
    return any(v.template is not None for v in cc.source.values)


@dataclass
class KeyUse:
    """How the policies read one context key."""

    key: str
    families: set[Family] = field(default_factory=set)
    multivalued: bool = False
    questions: int = 0
    numeric_places: int = 0
    binaries: list[bytes] = field(default_factory=list)

    @property
    def derived(self) -> bool:
        return self.key in DERIVED_KEYS

    @property
    def slots(self) -> int:
        """How many values the key's list needs (1 for single-valued keys)."""
        if not self.multivalued or self.derived:
            return 1
        return max(1, self.questions + len(self.families))

    @property
    def numeric_scale(self) -> int:
        """Numbers are integers times 10^-(places+1): exact for every comparison with the constants."""
        scale: int = 10 ** (self.numeric_places + 1)
        return scale


def _decimal_places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _multivalued_in_catalog(key: str) -> bool:
    from policyengine._condition_keys import condition_key

    info = condition_key(key)
    return info is not None and info.multivalued


def collect_keys(policies: Iterable[CompiledPolicy]) -> dict[str, KeyUse]:
    """Every key the conditions of ``policies`` read, with how they read it."""
    uses: dict[str, KeyUse] = {}
    seen: set[tuple[str, str, tuple[str, ...]]] = set()
    for policy in policies:
        substitutes = policy.document.substitutes_variables
        for cs in policy.statements:
            for cc in cs.conditions:
                use = uses.setdefault(cc.key, KeyUse(cc.key))
                if cc.source.qualifier is not None:
                    use.multivalued = True
                operator = cc.operator
                if operator is None or operator.kind == "null" or is_dynamic(cc, substitutes):
                    continue
                family = family_of(operator.kind)
                use.families.add(family)
                signature = (cc.source.operator, cc.key, tuple(v.value for v in cc.source.values))
                if signature not in seen:
                    seen.add(signature)
                    use.questions += 1
                for value in cc.source.values:
                    try:
                        prepared = operator.prepare(value.value)
                    except BadValue:
                        continue
                    if family == "numeric" and isinstance(prepared, Decimal):
                        use.numeric_places = max(use.numeric_places, _decimal_places(prepared))
                    elif family == "binary" and isinstance(prepared, bytes) and prepared not in use.binaries:
                        use.binaries.append(prepared)
    for use in uses.values():
        if not use.multivalued and not use.derived:
            use.multivalued = _multivalued_in_catalog(use.key)
    return uses
