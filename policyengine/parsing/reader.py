"""From JSON nodes to the policy model, collecting every problem with its position.

The reader walks a ``JNode`` tree (from either JSON path) and builds the frozen models. It never
stops at the first problem: it gathers ``Issue``s (what is wrong, where, and a hint such as
"did you mean `Principal`") and raises one ``PolicyValidationError`` holding all of them.
Duplicate keys are resolved as AWS does, the last occurrence wins, and are recorded on the
document so the linter can report them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

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
from policyengine.parsing.json_tree import JNode
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
    """One read of one document: holds the issues and duplicates found so far."""

    def __init__(self, *, best_effort: bool = False, locator: SpanLocator | None = None) -> None:
        self.issues: list[Issue] = []
        self.duplicates: list[DuplicateKey] = []
        self.best_effort = best_effort
        self.locator = locator
        self.scope: JNode | None = None  # the statement being read (where a lazy span's node is looked for first)

    def span(self, node: JNode) -> Span | None:
        """Where ``node`` was written: its own span, or, for a tree read without positions, one found on demand."""
        locator = self.locator
        if locator is None:
            return node.span
        return _new(LazySpan, (locator, node, self.scope or locator.root))  # LazySpan.of, without a call: one per value

    def issue(
        self, message: str, node: JNode | Span | None, pointer: str, hint: str | None = None, code: str = "invalid"
    ) -> None:
        span = self.span(node) if isinstance(node, JNode) else node
        self.issues.append(Issue(message=message, span=span, pointer=pointer, hint=hint, code=code))

    def members(self, node: JNode, pointer: str) -> dict[str, tuple[JNode, JNode]]:
        """An object's members by key; the last duplicate wins and the rest are recorded."""
        seen: dict[str, tuple[JNode, JNode]] = {}
        repeats: dict[str, list[Span | None]] = {}
        for key, value in node.value:
            if key.value in seen:
                repeats.setdefault(key.value, [self.span(seen[key.value][0])]).append(self.span(key))
            seen[key.value] = (key, value)
        for key_text, spans in repeats.items():
            self.duplicates.append(DuplicateKey.model_construct(pointer=pointer, key=key_text, spans=tuple(spans)))
        return seen

    def document(self, root: JNode, source: str, size: int) -> PolicyDocument:
        if root.kind != "object":
            self.issue(f"a policy must be a JSON object, not {_kind_name(root)}", root, "")
            raise PolicyValidationError(source, tuple(self.issues))
        members = self.members(root, "")
        for key_text, (key, _value) in members.items():
            if key_text not in TOP_LEVEL_KEYS:
                hint = suggest(key_text, TOP_LEVEL_KEYS)
                self.issue(
                    f"unknown top-level element `{key_text}`", key, f"/{_escape_pointer(key_text)}", hint, "unknown-element"
                )
        version: str | None = None
        version_span: Span | None = None
        if "Version" in members:
            key, value = members["Version"]
            version_span = self.span(value)
            if value.kind != "string":
                self.issue(f"`Version` must be a string, not {_kind_name(value)}", value, "/Version")
            elif value.value not in VALID_VERSIONS:
                self.issue(
                    f"`Version` must be `2012-10-17` or `2008-10-17`, not `{value.value}`",
                    value,
                    "/Version",
                    "use `2012-10-17`, the current policy language version",
                    "invalid-version",
                )
            else:
                version = value.value
        policy_id: str | None = None
        if "Id" in members:
            value = members["Id"][1]
            if value.kind != "string":
                self.issue(f"`Id` must be a string, not {_kind_name(value)}", value, "/Id")
            else:
                policy_id = value.value
        statements: list[Statement] = []
        if "Statement" not in members:
            self.issue("the policy has no `Statement` element", root, "", 'add `"Statement": [ ... ]`', "missing-element")
        else:
            value = members["Statement"][1]
            if value.kind == "object":
                items = [(value, "/Statement")]
            elif value.kind == "array":
                items = [(item, f"/Statement/{i}") for i, item in enumerate(value.value)]
            else:
                self.issue(f"`Statement` must be an object or a list of objects, not {_kind_name(value)}", value, "/Statement")
                items = []
            for index, (item, pointer) in enumerate(items):
                self.scope = item
                statement = self.statement(item, index, pointer)
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
            span=self.span(root),
            version_span=version_span,
            duplicate_keys=tuple(self.duplicates),
            size=size,
        )

    def statement(self, node: JNode, index: int, pointer: str) -> Statement | None:
        if node.kind != "object":
            self.issue(f"a statement must be a JSON object, not {_kind_name(node)}", node, pointer)
            return None
        before = len(self.issues)
        members = self.members(node, pointer)
        for key_text, (key, _value) in members.items():
            if key_text not in STATEMENT_KEYS:
                hint = suggest(key_text, STATEMENT_KEYS)
                self.issue(
                    f"unknown statement element `{key_text}`",
                    key,
                    f"{pointer}/{_escape_pointer(key_text)}",
                    hint,
                    "unknown-element",
                )
        for first, second in _EXCLUSIVE_PAIRS:
            if first in members and second in members:
                self.issue(
                    f"a statement cannot have both `{first}` and `{second}`",
                    members[second][0],
                    f"{pointer}/{second}",
                    f"keep one of `{first}` and `{second}`",
                    "exclusive-elements",
                )
        if "Action" not in members and "NotAction" not in members:
            self.issue(
                "the statement has neither `Action` nor `NotAction`", node, pointer, "add an `Action` element", "missing-element"
            )

        sid: str | None = None
        sid_span: Span | None = None
        if "Sid" in members:
            value = members["Sid"][1]
            sid_span = self.span(value)
            if value.kind != "string":
                self.issue(f"`Sid` must be a string, not {_kind_name(value)}", value, f"{pointer}/Sid")
            else:
                sid = value.value

        effect: Effect = "Allow"
        effect_span: Span | None = None
        if "Effect" not in members:
            self.issue(
                "the statement has no `Effect`", node, pointer, 'add `"Effect": "Allow"` or `"Effect": "Deny"`', "missing-element"
            )
        else:
            value = members["Effect"][1]
            effect_span = self.span(value)
            if value.kind != "string" or value.value not in ("Allow", "Deny"):
                shown = f"`{value.value}`" if value.kind == "string" else _kind_name(value)
                hint = suggest(value.value, ("Allow", "Deny")) if value.kind == "string" else None
                self.issue(f"`Effect` must be `Allow` or `Deny`, not {shown}", value, f"{pointer}/Effect", hint, "invalid-effect")
            else:
                effect = "Allow" if value.value == "Allow" else "Deny"

        principal = self.principal(members["Principal"][1], f"{pointer}/Principal") if "Principal" in members else None
        not_principal = (
            self.principal(members["NotPrincipal"][1], f"{pointer}/NotPrincipal") if "NotPrincipal" in members else None
        )
        lists: dict[str, tuple[StringItem, ...] | None] = {}
        for name in ("Action", "NotAction", "Resource", "NotResource"):
            lists[name] = self.string_list(members[name][1], f"{pointer}/{name}", name) if name in members else None
        conditions = self.conditions(members["Condition"][1], f"{pointer}/Condition") if "Condition" in members else ()

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
            span=self.span(node),
            effect_span=effect_span,
            sid_span=sid_span,
        )

    def string_list(self, node: JNode, pointer: str, name: str) -> tuple[StringItem, ...] | None:
        if node.kind != "array":
            items: list[JNode] = [node]
        else:
            items = node.value
            if not items:
                self.issue(f"`{name}` is an empty list", node, pointer, code="empty-list")
        result: list[StringItem] = []
        for i, item in enumerate(items):
            if item.kind != "string":  # pointers are spelt out only for the rare issue: they cost on every item
                self.issue(f"`{name}` values must be strings, not {_kind_name(item)}", item, _item_pointer(node, pointer, i))
                continue
            value: str = item.value
            if "${" in value:
                template = parse_template(value)
                result.append(_string_item(value, self.span(item), template.parts, template.error))
            else:
                result.append(_string_item(value, self.span(item)))
        return tuple(result)

    def principal(self, node: JNode, pointer: str) -> PrincipalBlock | None:
        if node.kind == "string":
            if node.value == "*":
                return PrincipalBlock.model_construct(wildcard=True, span=self.span(node))
            self.issue(
                f"a principal given as a string must be `*`, not `{node.value}`",
                node,
                pointer,
                'write `{"AWS": "..."}` for an account, user or role',
                "invalid-principal",
            )
            return None
        if node.kind != "object":
            self.issue(f"a principal must be `*` or an object, not {_kind_name(node)}", node, pointer, code="invalid-principal")
            return None
        entries: list[PrincipalEntry] = []
        members = self.members(node, pointer)
        for key_text, (key, value) in members.items():
            entry_pointer = f"{pointer}/{_escape_pointer(key_text)}"
            if key_text not in PRINCIPAL_KEYS:
                self.issue(
                    f"unknown principal type `{key_text}`",
                    key,
                    entry_pointer,
                    suggest(key_text, PRINCIPAL_KEYS),
                    "invalid-principal",
                )
                continue
            for item in self.string_list(value, entry_pointer, f"Principal.{key_text}") or ():
                ref = classify_principal(key_text, item.value)
                entries.append(_principal_entry(cast(PrincipalKind, key_text), item.value, ref, item.span))
        if not members:
            self.issue("a principal object must name at least one principal", node, pointer, code="invalid-principal")
        return PrincipalBlock.model_construct(wildcard=False, entries=tuple(entries), span=self.span(node))

    def conditions(self, node: JNode, pointer: str) -> tuple[Condition, ...]:
        if node.kind != "object":
            self.issue(f"`Condition` must be an object, not {_kind_name(node)}", node, pointer)
            return ()
        result: list[Condition] = []
        for op_text, (op_key, block) in self.members(node, pointer).items():
            op_pointer = f"{pointer}/{_escape_pointer(op_text)}"
            name = parse_operator_name(op_text)
            if name is None:
                self.issue(
                    f"`{op_text}` is not a condition operator name",
                    op_key,
                    op_pointer,
                    "write `[ForAllValues:|ForAnyValue:]Operator[IfExists]`",
                    "invalid-operator",
                )
                continue
            if block.kind != "object":
                self.issue(
                    f"the `{op_text}` block must be an object of condition keys, not {_kind_name(block)}", block, op_pointer
                )
                continue
            for key_text, (key, values) in self.members(block, op_pointer).items():
                key_pointer = f"{op_pointer}/{_escape_pointer(key_text)}"
                result.append(
                    Condition.model_construct(
                        operator=op_text,
                        qualifier=cast("Qualifier | None", name.qualifier),  # the grammar admits these two only
                        base=name.base,
                        if_exists=name.if_exists,
                        key=key_text,
                        values=self.condition_values(values, key_pointer),
                        operator_span=self.span(op_key),
                        span=self.span(key),
                    )
                )
        return tuple(result)

    def condition_values(self, node: JNode, pointer: str) -> tuple[ConditionValue, ...]:
        items = node.value if node.kind == "array" else [node]
        result: list[ConditionValue] = []
        for i, item in enumerate(items):
            if item.kind == "string":
                if "${" in item.value:
                    template = parse_template(item.value)
                    result.append(_condition_value(item.value, "string", self.span(item), template.parts, template.error))
                else:
                    result.append(_condition_value(item.value, "string", self.span(item)))
            elif item.kind == "number":
                result.append(_condition_value(item.value, "number", self.span(item)))
            elif item.kind == "boolean":
                result.append(_condition_value("true" if item.value else "false", "boolean", self.span(item)))
            else:
                self.issue(
                    f"condition values must be strings, numbers or booleans, not {_kind_name(item)}",
                    item,
                    _item_pointer(node, pointer, i),
                )
        return tuple(result)


def _salvageable(
    members: dict[str, tuple[JNode, JNode]], effect_span: Span | None, lists: dict[str, tuple[StringItem, ...] | None]
) -> bool:
    """Whether a statement with problems still says what it does: its effect, and which actions it is about.

    A best-effort read keeps such a statement with its broken parts left out, so the rest of it is
    still checked; one with no readable effect or actions could only be guessed at, so it is dropped.
    """
    effect = members.get("Effect")
    if effect is None or effect[1].kind != "string" or effect[1].value not in ("Allow", "Deny") or effect_span is None:
        return False
    if sum(name in members for name in ("Action", "NotAction")) != 1 or not (lists["Action"] or lists["NotAction"]):
        return False
    return all(not (a in members and b in members) for a, b in _EXCLUSIVE_PAIRS)


def _item_pointer(node: JNode, pointer: str, index: int) -> str:
    """The pointer of item ``index`` of ``node``, or of ``node`` itself when it is not a list."""
    return f"{pointer}/{index}" if node.kind == "array" else pointer


def _kind_name(node: JNode) -> str:
    return {
        "object": "an object",
        "array": "a list",
        "string": "a string",
        "number": "a number",
        "boolean": "a boolean",
        "null": "null",
    }[node.kind]


def read_document(root: JNode, source: str, size: int) -> PolicyDocument:
    """Build a ``PolicyDocument`` from JSON nodes or raise ``PolicyValidationError``."""
    return _Reader().document(root, source, size)


def read_document_best_effort(
    root: JNode, source: str, size: int, locator: SpanLocator | None = None
) -> tuple[PolicyDocument | None, tuple[Issue, ...]]:
    """Every problem of a document, and the document as far as it can be read despite them.

    Statements whose effect and actions are readable are kept with their broken parts left out
    (a misspelt ``Principle`` must not hide an unknown action two lines down); the others are
    dropped. The document is None only when the root is not an object.

    ``locator``, for a tree read without positions (``load_fast``), gives every span as a ``LazySpan``
    that finds its place in the text only if it is read (the linter's hot path).
    """
    reader = _Reader(best_effort=True, locator=locator)
    try:
        document = reader.document(root, source, size)
    except PolicyValidationError as exc:
        return None, exc.issues
    return document, tuple(reader.issues)
