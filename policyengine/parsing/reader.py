"""From decoded JSON to the policy model, collecting every problem with its position.

The reader walks a document as the C decoder gives it (``load_plain``: no Python object made per
value) and builds the frozen models. Spans come from beside the values: a tree read with positions
(the scanner's, YAML's, a template's) is handed over as its decoded value and a table of spans
(``plain_with_spans``); a plain policy file read without positions gets spans found on demand
(``json_locate``); ``parse_policy_fast`` asks for none. So every path shares one reader. It never
stops at the first problem: it gathers ``Issue``s (what is wrong, where, and a hint such as
"did you mean `Principal`") and raises one ``PolicyValidationError`` holding all of them.
Duplicate keys are resolved as AWS does, the last occurrence wins, and are recorded on the
document so the linter can report them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

from policyengine.errors import Issue, PolicyValidationError
from policyengine.model.policy import (
    VALID_VERSIONS,
    Condition,
    ConditionValue,
    DuplicateKey,
    Effect,
    JsonType,
    PolicyDocument,
    PrincipalBlock,
    PrincipalEntry,
    PrincipalKind,
    Qualifier,
    Statement,
    StringItem,
)
from policyengine.model.principal import PrincipalRef
from policyengine.model.span import Span
from policyengine.model.template import TemplatePart
from policyengine.parsing.json_locate import LazySpan, SpanLocator
from policyengine.parsing.json_tree import JNode, PairList, RawNumber, SpanTable, plain_with_spans
from policyengine.parsing.strings import classify_principal, parse_operator_name, parse_template

_new = tuple.__new__
_object_new = object.__new__

# The leaves (a policy has hundreds) are frozen slotted dataclasses; their generated ``__init__`` parses keywords
# and sets each field through ``object.__setattr__``. The reader's values are already checked, so it fills
# the slots directly (the same instance, field for field: tests/unit/test_frozen_model.py), in a third less time.
_set_item_value, _set_item_span, _set_item_template, _set_item_error = (
    getattr(StringItem, name).__set__ for name in ("value", "span", "template", "template_error")
)
_set_cv_value, _set_cv_type, _set_cv_span, _set_cv_template, _set_cv_error = (
    getattr(ConditionValue, name).__set__ for name in ("value", "json_type", "span", "template", "template_error")
)
_set_entry_kind, _set_entry_value, _set_entry_ref, _set_entry_span = (
    getattr(PrincipalEntry, name).__set__ for name in ("kind", "value", "ref", "span")
)


def _string_item(
    value: str, span: Span | None, template: tuple[TemplatePart, ...] | None = None, error: str | None = None
) -> StringItem:
    """``StringItem(value=..., span=..., template=..., template_error=...)``, without the keyword parsing."""
    item = _object_new(StringItem)
    _set_item_value(item, value)
    _set_item_span(item, span)
    _set_item_template(item, template)
    _set_item_error(item, error)
    return item


def _condition_value(
    value: str, json_type: JsonType, span: Span | None, template: tuple[TemplatePart, ...] | None = None, error: str | None = None
) -> ConditionValue:
    """``ConditionValue(...)`` the same way as ``_string_item``."""
    item = _object_new(ConditionValue)
    _set_cv_value(item, value)
    _set_cv_type(item, json_type)
    _set_cv_span(item, span)
    _set_cv_template(item, template)
    _set_cv_error(item, error)
    return item


def _principal_entry(kind: PrincipalKind, value: str, ref: PrincipalRef, span: Span | None) -> PrincipalEntry:
    """``PrincipalEntry(...)`` the same way as ``_string_item``."""
    entry = _object_new(PrincipalEntry)
    _set_entry_kind(entry, kind)
    _set_entry_value(entry, value)
    _set_entry_ref(entry, ref)
    _set_entry_span(entry, span)
    return entry


TOP_LEVEL_KEYS = ("Version", "Id", "Statement")
STATEMENT_KEYS = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)
PRINCIPAL_KEYS = ("AWS", "Service", "Federated", "CanonicalUser")
_EXCLUSIVE_PAIRS = (("Action", "NotAction"), ("Resource", "NotResource"), ("Principal", "NotPrincipal"))


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The closest known name to a misspelt one (case-insensitive), as a hint, or None."""
    options = list(choices)
    lowered = {c.lower(): c for c in options}
    if word.lower() in lowered:
        return f"did you mean `{lowered[word.lower()]}`? names are case-sensitive"
    import difflib  # only when a name is unknown and a suggestion is looked for

    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    if close:
        return f"did you mean `{lowered[close[0]]}`?"
    return None


def _escape_pointer(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class _Reader:
    """One read of one document: holds the issues and duplicates found so far.

    It reads the decoded value (``load_plain``'s form: ``PairList`` objects, lists, strings,
    ``RawNumber`` numbers, booleans, None). A value is named by its container and position there
    (``json_locate``), and ``span`` gives its span: from the table of a tree read with positions, on
    demand from the text (``LazySpan``), or None when positions are not wanted.
    """

    def __init__(self, *, best_effort: bool = False, table: SpanTable | None = None, locator: SpanLocator | None = None) -> None:
        self.issues: list[Issue] = []
        self.duplicates: list[DuplicateKey] = []
        self.best_effort = best_effort
        self.table = table
        self.locator = locator
        self.scope: Any = None  # the statement being read: where a lazy span's container is looked for
        self.span: Callable[[Any, int], Span | None] = (
            self._lazy_span if locator is not None else self._table_span if table is not None else _no_span
        )
        #: The spans of every item of a list, in one call (lists of strings are most of a policy's values).
        self.item_spans: Callable[[list[Any]], list[Span | None]] = (
            self._lazy_item_spans if locator is not None else self._table_item_spans if table is not None else _no_item_spans
        )

    def _lazy_span(self, container: Any, position: int) -> Span:
        return _new(LazySpan, (self.locator, container, position, self.scope))  # LazySpan.of without a call: one per value

    def _table_span(self, container: Any, position: int) -> Span | None:
        return self.table.get((id(container), position)) if self.table is not None else None

    def _lazy_item_spans(self, items: list[Any]) -> list[Span | None]:
        locator, scope = self.locator, self.scope
        return [_new(LazySpan, (locator, items, index, scope)) for index in range(len(items))]

    def _table_item_spans(self, items: list[Any]) -> list[Span | None]:
        table, at = self.table or {}, id(items)
        return [table.get((at, index)) for index in range(len(items))]

    def issue(self, message: str, span: Span | None, pointer: str, hint: str | None = None, code: str = "invalid") -> None:
        self.issues.append(Issue(message=message, span=span, pointer=pointer, hint=hint, code=code))

    def members(self, node: tuple[tuple[str, Any], ...], pointer: str) -> dict[str, tuple[int, Any]]:
        """An object's members by key, with their index in it; the last duplicate wins and the rest are recorded."""
        seen = {key: (index, value) for index, (key, value) in enumerate(node)}
        if len(seen) != len(node):
            first: dict[str, int] = {}
            repeats: dict[str, list[Span | None]] = {}
            for index, (key, _value) in enumerate(node):
                if key in first:
                    repeats.setdefault(key, [self.span(node, ~first[key])]).append(self.span(node, ~index))
                first[key] = index
            for key_text, spans in repeats.items():
                self.duplicates.append(DuplicateKey.model_construct(pointer=pointer, key=key_text, spans=tuple(spans)))
        return seen

    def document(self, root: Any, source: str, size: int) -> PolicyDocument:
        span = self.span
        if type(root) is not PairList:
            self.issue(f"a policy must be a JSON object, not {_kind_name(root)}", span(None, 0), "")
            raise PolicyValidationError(source, tuple(self.issues))
        members = self.members(root, "")
        for key_text, (index, _value) in members.items():
            if key_text not in TOP_LEVEL_KEYS:
                hint = suggest(key_text, TOP_LEVEL_KEYS)
                self.issue(
                    f"unknown top-level element `{key_text}`",
                    span(root, ~index),
                    f"/{_escape_pointer(key_text)}",
                    hint,
                    "unknown-element",
                )
        version: str | None = None
        version_span: Span | None = None
        if "Version" in members:
            index, value = members["Version"]
            version_span = span(root, index)
            if type(value) is not str:
                self.issue(f"`Version` must be a string, not {_kind_name(value)}", version_span, "/Version")
            elif value not in VALID_VERSIONS:
                self.issue(
                    f"`Version` must be `2012-10-17` or `2008-10-17`, not `{value}`",
                    version_span,
                    "/Version",
                    "use `2012-10-17`, the current policy language version",
                    "invalid-version",
                )
            else:
                version = value
        policy_id: str | None = None
        if "Id" in members:
            index, value = members["Id"]
            if type(value) is not str:
                self.issue(f"`Id` must be a string, not {_kind_name(value)}", span(root, index), "/Id")
            else:
                policy_id = value
        statements: list[Statement] = []
        if "Statement" not in members:
            self.issue(
                "the policy has no `Statement` element", span(None, 0), "", 'add `"Statement": [ ... ]`', "missing-element"
            )
        else:
            index, value = members["Statement"]
            items: list[tuple[Any, Any, int, str]]  # the statement, its container and position, its pointer
            if type(value) is PairList:
                items = [(value, root, index, "/Statement")]
            elif type(value) is list:
                items = [(item, value, i, f"/Statement/{i}") for i, item in enumerate(value)]
            else:
                self.issue(
                    f"`Statement` must be an object or a list of objects, not {_kind_name(value)}",
                    span(root, index),
                    "/Statement",
                )
                items = []
            for number, (item, container, position, pointer) in enumerate(items):
                self.scope = item
                statement = self.statement(item, span(container, position), number, pointer)
                self.scope = None
                if statement is not None:
                    statements.append(statement)
        if self.issues and not self.best_effort:
            raise PolicyValidationError(source, tuple(self.issues))
        return PolicyDocument.model_construct(
            version=version,
            id=policy_id,
            statements=tuple(statements),
            source=source,
            span=span(None, 0),
            version_span=version_span,
            duplicate_keys=tuple(self.duplicates),
            size=size,
        )

    def statement(self, node: Any, where: Span | None, index: int, pointer: str) -> Statement | None:
        if type(node) is not PairList:
            self.issue(f"a statement must be a JSON object, not {_kind_name(node)}", where, pointer)
            return None
        span = self.span
        before = len(self.issues)
        members = self.members(node, pointer)
        for key_text, (position, _value) in members.items():
            if key_text not in STATEMENT_KEYS:
                hint = suggest(key_text, STATEMENT_KEYS)
                self.issue(
                    f"unknown statement element `{key_text}`",
                    span(node, ~position),
                    f"{pointer}/{_escape_pointer(key_text)}",
                    hint,
                    "unknown-element",
                )
        for first, second in _EXCLUSIVE_PAIRS:
            if first in members and second in members:
                self.issue(
                    f"a statement cannot have both `{first}` and `{second}`",
                    span(node, ~members[second][0]),
                    f"{pointer}/{second}",
                    f"keep one of `{first}` and `{second}`",
                    "exclusive-elements",
                )
        if "Action" not in members and "NotAction" not in members:
            self.issue(
                "the statement has neither `Action` nor `NotAction`", where, pointer, "add an `Action` element", "missing-element"
            )

        sid: str | None = None
        sid_span: Span | None = None
        if "Sid" in members:
            position, value = members["Sid"]
            sid_span = span(node, position)
            if type(value) is not str:
                self.issue(f"`Sid` must be a string, not {_kind_name(value)}", sid_span, f"{pointer}/Sid")
            else:
                sid = value

        effect: Effect = "Allow"
        effect_span: Span | None = None
        if "Effect" not in members:
            hint = 'add `"Effect": "Allow"` or `"Effect": "Deny"`'
            self.issue("the statement has no `Effect`", where, pointer, hint, "missing-element")
        else:
            position, value = members["Effect"]
            effect_span = span(node, position)
            if type(value) is not str or value not in ("Allow", "Deny"):
                shown = f"`{value}`" if type(value) is str else _kind_name(value)
                hint = suggest(value, ("Allow", "Deny")) if type(value) is str else None
                self.issue(
                    f"`Effect` must be `Allow` or `Deny`, not {shown}", effect_span, f"{pointer}/Effect", hint, "invalid-effect"
                )
            else:
                effect = "Allow" if value == "Allow" else "Deny"

        principal = self.principal(node, members["Principal"], f"{pointer}/Principal") if "Principal" in members else None
        not_principal = (
            self.principal(node, members["NotPrincipal"], f"{pointer}/NotPrincipal") if "NotPrincipal" in members else None
        )
        lists: dict[str, tuple[StringItem, ...] | None] = {}
        for name in ("Action", "NotAction", "Resource", "NotResource"):
            lists[name] = self.string_list(node, members[name], f"{pointer}/{name}", name) if name in members else None
        conditions = self.conditions(node, members["Condition"], f"{pointer}/Condition") if "Condition" in members else ()

        if len(self.issues) > before and not (self.best_effort and _salvageable(members, effect_span, lists)):
            return None
        return Statement.model_construct(
            index=index,
            sid=sid,
            effect=effect,
            principal=principal,
            not_principal=not_principal,
            action=lists["Action"],
            not_action=lists["NotAction"],
            resource=lists["Resource"],
            not_resource=lists["NotResource"],
            conditions=conditions,
            span=where,
            effect_span=effect_span,
            sid_span=sid_span,
        )

    def string_list(self, container: Any, member: tuple[int, Any], pointer: str, name: str) -> tuple[StringItem, ...] | None:
        """The strings of member ``member`` (its index and value) of ``container``: one string, or a list of them."""
        position, value = member
        span = self.span
        if type(value) is not list:  # one value
            if type(value) is not str:
                self.issue(f"`{name}` values must be strings, not {_kind_name(value)}", span(container, position), pointer)
                return ()
            return (_item(value, span(container, position)),)
        if not value:
            self.issue(f"`{name}` is an empty list", span(container, position), pointer, code="empty-list")
        spans = self.item_spans(value)
        result: list[StringItem] = []
        for i, item in enumerate(value):
            if type(item) is not str:  # pointers are spelt out only for the rare issue: they cost on every item
                self.issue(f"`{name}` values must be strings, not {_kind_name(item)}", spans[i], f"{pointer}/{i}")
                continue
            result.append(_string_item(item, spans[i]) if "${" not in item else _item(item, spans[i]))
        return tuple(result)

    def principal(self, container: Any, member: tuple[int, Any], pointer: str) -> PrincipalBlock | None:
        position, node = member
        if type(node) is str:
            if node == "*":
                return PrincipalBlock.model_construct(wildcard=True, span=self.span(container, position))
            self.issue(
                f"a principal given as a string must be `*`, not `{node}`",
                self.span(container, position),
                pointer,
                'write `{"AWS": "..."}` for an account, user or role',
                "invalid-principal",
            )
            return None
        if type(node) is not PairList:
            self.issue(
                f"a principal must be `*` or an object, not {_kind_name(node)}",
                self.span(container, position),
                pointer,
                code="invalid-principal",
            )
            return None
        entries: list[PrincipalEntry] = []
        members = self.members(node, pointer)
        for key_text, entry_member in members.items():
            entry_pointer = f"{pointer}/{_escape_pointer(key_text)}"
            if key_text not in PRINCIPAL_KEYS:
                self.issue(
                    f"unknown principal type `{key_text}`",
                    self.span(node, ~entry_member[0]),
                    entry_pointer,
                    suggest(key_text, PRINCIPAL_KEYS),
                    "invalid-principal",
                )
                continue
            for item in self.string_list(node, entry_member, entry_pointer, f"Principal.{key_text}") or ():
                ref = classify_principal(key_text, item.value)
                entries.append(_principal_entry(cast(PrincipalKind, key_text), item.value, ref, item.span))
        if not members:
            self.issue(
                "a principal object must name at least one principal",
                self.span(container, position),
                pointer,
                code="invalid-principal",
            )
        return PrincipalBlock.model_construct(wildcard=False, entries=tuple(entries), span=self.span(container, position))

    def conditions(self, container: Any, member: tuple[int, Any], pointer: str) -> tuple[Condition, ...]:
        position, node = member
        span = self.span
        if type(node) is not PairList:
            self.issue(f"`Condition` must be an object, not {_kind_name(node)}", span(container, position), pointer)
            return ()
        result: list[Condition] = []
        for op_text, (op_index, block) in self.members(node, pointer).items():
            op_pointer = f"{pointer}/{_escape_pointer(op_text)}"
            name = parse_operator_name(op_text)
            if name is None:
                self.issue(
                    f"`{op_text}` is not a condition operator name",
                    span(node, ~op_index),
                    op_pointer,
                    "write `[ForAllValues:|ForAnyValue:]Operator[IfExists]`",
                    "invalid-operator",
                )
                continue
            if type(block) is not PairList:
                self.issue(
                    f"the `{op_text}` block must be an object of condition keys, not {_kind_name(block)}",
                    span(node, op_index),
                    op_pointer,
                )
                continue
            for key_text, (key_index, values) in self.members(block, op_pointer).items():
                key_pointer = f"{op_pointer}/{_escape_pointer(key_text)}"
                result.append(
                    Condition.model_construct(
                        operator=op_text,
                        qualifier=cast("Qualifier | None", name.qualifier),  # the grammar admits these two only
                        base=name.base,
                        if_exists=name.if_exists,
                        key=key_text,
                        values=self.condition_values(block, key_index, values, key_pointer),
                        operator_span=span(node, ~op_index),
                        span=span(block, ~key_index),
                    )
                )
        return tuple(result)

    def condition_values(self, container: Any, position: int, value: Any, pointer: str) -> tuple[ConditionValue, ...]:
        """The values of one condition key: member ``position`` of ``container``, a value or a list of them."""
        if type(value) is list:
            items: list[Any] = value
            spans = self.item_spans(value)
        else:
            items = [value]
            spans = [self.span(container, position)]
        result: list[ConditionValue] = []
        for i, item in enumerate(items):
            kind = type(item)
            if kind is str:
                if "${" in item:
                    template = parse_template(item)
                    result.append(_condition_value(item, "string", spans[i], template.parts, template.error))
                else:
                    result.append(_condition_value(item, "string", spans[i]))
            elif kind is RawNumber:
                result.append(_condition_value(str(item), "number", spans[i]))
            elif kind is bool:
                result.append(_condition_value("true" if item else "false", "boolean", spans[i]))
            else:
                self.issue(
                    f"condition values must be strings, numbers or booleans, not {_kind_name(item)}",
                    spans[i],
                    f"{pointer}/{i}" if items is value else pointer,
                )
        return tuple(result)


def _no_span(container: Any, position: int) -> None:
    """The span of a value read without positions."""
    return None


def _no_item_spans(items: list[Any]) -> list[Span | None]:
    """The spans of a list's items read without positions."""
    return [None] * len(items)


def _item(value: str, span: Span | None) -> StringItem:
    """One string of an Action/Resource list (or of a principal type), its policy variables parsed when it has any."""
    if "${" in value:
        template = parse_template(value)
        return _string_item(value, span, template.parts, template.error)
    return _string_item(value, span)


def _salvageable(
    members: dict[str, tuple[int, Any]], effect_span: Span | None, lists: dict[str, tuple[StringItem, ...] | None]
) -> bool:
    """Whether a statement with problems still says what it does: its effect, and which actions it is about.

    A best-effort read keeps such a statement with its broken parts left out, so the rest of it is
    still checked; one with no readable effect or actions could only be guessed at, so it is dropped.
    """
    effect = members.get("Effect")
    if effect is None or type(effect[1]) is not str or effect[1] not in ("Allow", "Deny") or effect_span is None:
        return False
    if sum(name in members for name in ("Action", "NotAction")) != 1 or not (lists["Action"] or lists["NotAction"]):
        return False
    return all(not (a in members and b in members) for a, b in _EXCLUSIVE_PAIRS)


_KIND_NAMES = {
    PairList: "an object",
    list: "a list",
    str: "a string",
    RawNumber: "a number",
    bool: "a boolean",
    type(None): "null",
}


def _kind_name(value: Any) -> str:
    return _KIND_NAMES[type(value)]


def read_document(root: JNode | Any, source: str, size: int) -> PolicyDocument:
    """A ``PolicyDocument`` from JSON nodes (spans kept) or a decoded value (no spans); raises ``PolicyValidationError``."""
    if isinstance(root, JNode):
        value, table = plain_with_spans(root)
        return _Reader(table=table).document(value, source, size)
    return _Reader().document(root, source, size)


def read_document_best_effort(
    root: JNode | Any, source: str, size: int, locator: SpanLocator | None = None
) -> tuple[PolicyDocument | None, tuple[Issue, ...]]:
    """Every problem of a document, and the document as far as it can be read despite them.

    Statements whose effect and actions are readable are kept with their broken parts left out
    (a misspelt ``Principle`` must not hide an unknown action two lines down); the others are
    dropped. The document is None only when the root is not an object.

    ``root`` is a tree with positions (its spans are kept), or a decoded value (``load_plain``); for the
    latter ``locator`` gives every span as a ``LazySpan`` that finds its place in the text only if it is
    read (the linter's hot path).
    """
    if isinstance(root, JNode):
        value, table = plain_with_spans(root)
        reader = _Reader(best_effort=True, table=table)
    else:
        value, reader = root, _Reader(best_effort=True, locator=locator)
    try:
        document = reader.document(value, source, size)
    except PolicyValidationError as exc:
        return None, exc.issues
    return document, tuple(reader.issues)
