"""CloudFormation intrinsic functions evaluated as far as a template alone allows.

A template's policy is data computed at deployment: ``!Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:root``
is the stack's own account root, ``!GetAtt AdminRole.Arn`` a role of that account, ``!ImportValue X``
something another stack exported. ``TemplateResolver.resolve`` turns a property's node tree into the
JSON the stack would deploy, with every value the template cannot know replaced by an unknown marker
of its kind (``policyengine.model.unknown``), so the policy reader and the rules see values, never
``${...}`` text:

* pseudo parameters: ``AWS::AccountId`` is the deploying account, ``AWS::Region``,
  ``AWS::Partition`` and ``AWS::URLSuffix`` the deployment's (concrete with ``--account`` /
  ``--region``), ``AWS::StackName``, ``AWS::StackId`` and ``AWS::NotificationARNs`` unknown values,
  ``AWS::NoValue`` removes the property or list item;
* ``Ref`` to a parameter: the ``--parameter`` value, else its ``Default`` (split for list types), else
  an unknown value; ``Ref`` to a role or user: its ``RoleName``/``UserName`` or an unknown name;
* ``Fn::GetAtt`` ``Arn`` of an ``AWS::IAM::Role`` / ``AWS::IAM::User``: that principal's ARN in the
  deploying account (path and name from its properties); other attributes are unknown values;
* ``Fn::Sub`` (string or ``[string, variables]``, ``${!Literal}`` escapes), ``Fn::Join``,
  ``Fn::Select``, ``Fn::Split`` and ``Fn::FindInMap`` (from ``Mappings`` when the keys are known)
  are computed; ``Fn::If`` takes the branch its condition decides when ``Conditions`` can be
  evaluated (``Fn::Equals``/``Not``/``And``/``Or`` over known values), else both branches in a list
  and an unknown value elsewhere. A parameter's ``Default`` never decides a condition (the deployer
  may choose another value, and a template's optional statements are what a linter must see);
  ``--parameter`` does;
* anything else (``Fn::ImportValue``, ``Fn::GetAZs``, ``Fn::Base64``, macros) is an unknown value.

Computed nodes keep the span of the function that computed them, so findings point at it.
"""

from __future__ import annotations

import re

from policyengine.lint.inputs._targets import items, members, text_of
from policyengine.lint.inputs.bindings import Bindings
from policyengine.model import unknown
from policyengine.model.span import Span
from policyengine.parsing.json_tree import JNode

_SUB_NAME = re.compile(r"\$\{([^}]*)\}")
_PRINCIPAL_TYPES = {"AWS::IAM::Role": ("role", "RoleName"), "AWS::IAM::User": ("user", "UserName")}
_MAX_DEPTH = 64


class Computed(JNode):
    """A string an intrinsic function computed; its span is the function's.

    Its text is not in the file as written, so a policy held in one (``!Sub`` over JSON text) is
    read without positions of its own.
    """

    __slots__ = ()


def intrinsic(node: JNode) -> tuple[str, JNode] | None:
    """``(function name, argument)`` when ``node`` is ``{"Ref": ...}``, ``{"Fn::X": ...}`` or ``{"Condition": "Name"}``.

    ``Condition`` is also a statement element, so only its intrinsic form (a lone member naming
    a template condition, as ``!Condition Name`` writes it) counts; that is never a statement.
    """
    if node.kind != "object" or len(node.value) != 1:
        return None
    key, argument = node.value[0]
    name: str = key.value
    if name == "Ref" or name.startswith("Fn::") or (name == "Condition" and argument.kind == "string"):
        return name, argument
    return None


def holds_intrinsic(root: JNode) -> bool:
    """Whether any value under ``root`` (``root`` included) is an intrinsic function.

    ``intrinsic`` on every node, in one loop: every policy file read is asked this, so it skips
    keys and scalars without a call.
    """
    stack = [root]
    while stack:
        node = stack.pop()
        if node.kind == "object":
            if len(node.value) == 1 and intrinsic(node) is not None:
                return True
            stack.extend(value for _, value in node.value)
        elif node.kind == "array":
            stack.extend(node.value)
    return False


class TemplateResolver:
    """Evaluates intrinsics against one template's Parameters, Mappings, Conditions and Resources."""

    def __init__(self, root: JNode, bindings: Bindings | None = None) -> None:
        found = members(root)
        self.bindings = bindings or Bindings()
        self.parameters = members(found.get("Parameters") or JNode("null", None, None))
        self.mappings = found.get("Mappings")
        self.conditions = members(found.get("Conditions") or JNode("null", None, None))
        self.resources = members(found.get("Resources") or JNode("null", None, None))
        self._decided: dict[str, bool | None] = {}
        self._depth = 0
        self._deciding = 0  # > 0 while a condition is evaluated: parameter defaults do not decide it

    # --- the tree -------------------------------------------------------------------------

    def resolve(self, node: JNode) -> JNode | None:
        """``node`` as deployed; None when it is ``AWS::NoValue``. The template's tree is never modified."""
        function = intrinsic(node)
        if function is not None:
            return self._guarded(function[0], function[1], node.span)
        if node.kind == "object":
            pairs: list[tuple[JNode, JNode]] = []
            changed = False
            for key, value in node.value:
                resolved = self.resolve(value)
                changed = changed or resolved is not value
                if resolved is not None:
                    pairs.append((key, resolved))
            return JNode("object", pairs, node.span) if changed else node
        if node.kind == "array":
            values: list[JNode] = []
            changed = False
            for item in node.value:
                expanded = self._list_item(item)
                changed = changed or len(expanded) != 1 or expanded[0] is not item
                values.extend(expanded)
            return JNode("array", values, node.span) if changed else node
        return node

    def _list_item(self, item: JNode) -> list[JNode]:
        """A list item: removed by ``AWS::NoValue``, both branches of an undecided ``Fn::If``."""
        function = intrinsic(item)
        if function is not None and function[0] == "Fn::If":
            arguments = items(function[1])
            if len(arguments) == 3 and self._decide(arguments[0]) is None:
                return [n for n in (self.resolve(arguments[1]), self.resolve(arguments[2])) if n is not None]
        resolved = self.resolve(item)
        if resolved is None:
            return []
        if function is not None and resolved.kind == "array":
            return list(resolved.value)  # ``!Split`` or a list parameter inside a list: its items join it
        return [resolved]

    def _guarded(self, name: str, argument: JNode, span: Span | None) -> JNode | None:
        if self._depth > _MAX_DEPTH:  # a Ref cycle through resource names
            return self._unknown(f"{name} (circular)", span)
        self._depth += 1
        try:
            return self._function(name, argument, span)
        finally:
            self._depth -= 1

    def _function(self, name: str, argument: JNode, span: Span | None) -> JNode | None:
        if name == "Ref":
            ref = text_of(argument)
            return self._ref(ref, span) if ref is not None else self._unknown("!Ref", span)
        if name == "Fn::Sub":
            return self._sub(argument, span)
        if name == "Fn::GetAtt":
            return self._get_att(argument, span)
        if name == "Fn::Join":
            return self._join(argument, span)
        if name == "Fn::Select":
            return self._select(argument, span)
        if name == "Fn::Split":
            return self._split(argument, span)
        if name == "Fn::FindInMap":
            return self._find_in_map(argument, span)
        if name == "Fn::If":
            return self._if(argument, span)
        if name == "Fn::ImportValue":
            exported = self.string(argument)
            return self._unknown(f"!ImportValue {unknown.display(exported) if exported else '?'}", span)
        return self._unknown(f"!{name.removeprefix('Fn::')}", span)

    # --- values -------------------------------------------------------------------------

    def string(self, node: JNode) -> str | None:
        """The string ``node`` resolves to (numbers and booleans as CloudFormation writes them), or None."""
        resolved = self.resolve(node)
        if resolved is None:
            return None
        if resolved.kind == "string":
            value: str = resolved.value
            return value
        if resolved.kind == "number":
            return str(resolved.value)
        if resolved.kind == "boolean":
            return "true" if resolved.value else "false"
        return None

    def _text(self, value: str, span: Span | None) -> JNode:
        return Computed("string", value, span)

    def _unknown(self, label: str, span: Span | None, kind: unknown.UnknownKind = "value") -> JNode:
        return Computed("string", unknown.marker(kind, label), span)

    def _pseudo(self, name: str) -> str | None:
        """A pseudo parameter's value or marker; None when ``name`` is not one."""
        label = f"${{{name}}}"
        bound = self.bindings
        if name == "AWS::AccountId":
            return bound.account or unknown.marker("account", label)
        if name == "AWS::Region":
            return bound.region or unknown.marker("region", label)
        if name == "AWS::Partition":
            return bound.partition or unknown.marker("partition", label)
        if name == "AWS::URLSuffix":
            return bound.url_suffix or unknown.marker("url_suffix", label)
        if name in ("AWS::StackName", "AWS::StackId", "AWS::NotificationARNs"):
            return unknown.marker("value", label)
        return None

    def _ref(self, name: str, span: Span | None) -> JNode | None:
        if name == "AWS::NoValue":
            return None
        pseudo = self._pseudo(name)
        if pseudo is not None:
            return self._text(pseudo, span)
        if name in self.parameters:
            return self._parameter(name, span)
        resource = self.resources.get(name)
        if resource is not None:
            principal = _PRINCIPAL_TYPES.get(text_of(members(resource).get("Type")) or "")
            if principal is not None:
                return self._text(self._principal_name(name, resource, principal[1]), span)
        return self._unknown(f"${{{name}}}", span)

    def _parameter(self, name: str, span: Span | None) -> JNode:
        declared = members(self.parameters[name])
        kind = text_of(declared.get("Type")) or "String"
        value = self.bindings.parameters.get(name)
        if value is None and "Default" in declared and not self._deciding and not kind.startswith("AWS::SSM::Parameter::Value"):
            default = declared["Default"]
            value = text_of(default) if default.kind == "string" else str(default.value) if default.kind == "number" else None
        if value is None or value == "":
            return self._unknown(f"${{{name}}}", span)
        if kind.startswith("List<") or kind == "CommaDelimitedList":
            return JNode("array", [self._text(part.strip(), span) for part in value.split(",")], span)
        return self._text(value, span)

    def _principal_name(self, logical_id: str, resource: JNode, name_property: str) -> str:
        given = members(members(resource).get("Properties") or JNode("null", None, None)).get(name_property)
        name = self.string(given) if given is not None else None
        return name if name is not None else unknown.marker("value", f"${{{logical_id}}}")

    def _get_att(self, argument: JNode, span: Span | None) -> JNode:
        if argument.kind == "string":
            logical_id, _, attribute = argument.value.partition(".")
        else:
            parts = items(argument)
            logical_id = (text_of(parts[0]) if parts else None) or ""
            attribute = (self.string(parts[1]) if len(parts) > 1 else None) or ""
        label = f"${{{logical_id}.{attribute}}}"
        resource = self.resources.get(logical_id or "")
        if resource is None or attribute != "Arn":
            return self._unknown(label, span)
        principal = _PRINCIPAL_TYPES.get(text_of(members(resource).get("Type")) or "")
        if principal is None:
            return self._unknown(label, span)
        kind, name_property = principal
        properties = members(members(resource).get("Properties") or JNode("null", None, None))
        path = self.string(properties["Path"]) if "Path" in properties else "/"
        path = path if path and path.startswith("/") and path.endswith("/") else "/"
        name = self._principal_name(logical_id or "", resource, name_property)
        partition = self._pseudo("AWS::Partition")
        account = self._pseudo("AWS::AccountId")
        return self._text(f"arn:{partition}:iam::{account}:{kind}{path}{name}", span)

    def _sub(self, argument: JNode, span: Span | None) -> JNode:
        if argument.kind == "string":
            template, variables = argument.value, {}
        else:
            parts = items(argument)
            template = text_of(parts[0]) if parts else None
            variables = members(parts[1]) if len(parts) > 1 else {}
            if template is None:
                return self._unknown("!Sub", span)

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            name = name.strip()
            if name in variables:
                value = self.string(variables[name])
                return value if value is not None else unknown.marker("value", f"${{{name}}}")
            pseudo = self._pseudo(name)
            if pseudo is not None:
                return pseudo
            if "." in name:
                resolved = self._get_att(JNode("string", name, None), None)
            else:
                ref = self._ref(name, None)
                resolved = ref if ref is not None else self._text("", None)
            return resolved.value if resolved.kind == "string" else unknown.marker("value", f"${{{name}}}")

        return self._text(_SUB_NAME.sub(replace, template), span)

    def _join(self, argument: JNode, span: Span | None) -> JNode:
        parts = items(argument)
        delimiter = text_of(parts[0]) if len(parts) == 2 else None
        values = self.resolve(parts[1]) if delimiter is not None else None
        if delimiter is None or values is None or values.kind != "array":
            return self._unknown("!Join", span)
        texts: list[str] = []
        for part in items(values):
            text = self.string(part)
            texts.append(text if text is not None else unknown.marker("value", "!Join item"))
        return self._text(delimiter.join(texts), span)

    def _select(self, argument: JNode, span: Span | None) -> JNode | None:
        parts = items(argument)
        index = self.string(parts[0]) if len(parts) == 2 else None
        values = self.resolve(parts[1]) if index is not None else None
        if index is None or not index.isdigit() or values is None or values.kind != "array":
            return self._unknown("!Select", span)
        chosen = items(values)
        if int(index) >= len(chosen):
            return self._unknown("!Select", span)
        return chosen[int(index)]

    def _split(self, argument: JNode, span: Span | None) -> JNode:
        parts = items(argument)
        delimiter = text_of(parts[0]) if len(parts) == 2 else None
        source = self.string(parts[1]) if delimiter else None
        if not delimiter or source is None:
            return self._unknown("!Split", span)
        return JNode("array", [self._text(piece, span) for piece in source.split(delimiter)], span)

    def _find_in_map(self, argument: JNode, span: Span | None) -> JNode | None:
        parts = items(argument)
        keys = [self.string(p) for p in parts[:3]]
        shown = ", ".join(unknown.display(k) if k is not None else "?" for k in keys)
        label = f"!FindInMap [{shown}]"
        if len(parts) < 3 or any(k is None or unknown.contains(k) for k in keys) or self.mappings is None:
            return self._unknown(label, span)
        found: JNode | None = self.mappings
        for key in keys:
            found = members(found).get(key or "") if found is not None else None
        if found is None:
            default = members(parts[3]).get("DefaultValue") if len(parts) > 3 else None
            return self.resolve(default) if default is not None else self._unknown(label, span)
        return self.resolve(found)

    def _if(self, argument: JNode, span: Span | None) -> JNode | None:
        parts = items(argument)
        if len(parts) != 3:
            return self._unknown("!If", span)
        decided = self._decide(parts[0])
        if decided is not None:
            return self.resolve(parts[1] if decided else parts[2])
        first, second = self.resolve(parts[1]), self.resolve(parts[2])
        if first is None or second is None:
            return first if second is None else second
        if first.kind == "string" and second.kind == "string" and first.value == second.value:
            return first
        if first.kind in ("object", "array") and second.kind not in ("object", "array"):
            return first
        if second.kind in ("object", "array") and first.kind not in ("object", "array"):
            return second
        if first.kind == "object" and second.kind == "object":
            return first  # a whole document either way: the first branch is read
        condition = text_of(parts[0]) or "?"
        return self._unknown(f"!If [{condition}, ...]", span)

    # --- conditions -----------------------------------------------------------------------

    def _decide(self, node: JNode) -> bool | None:
        """The value of the condition named by ``node`` (a string), or None when it depends on unknowns."""
        name = text_of(node)
        if name is None:
            return None
        if name in self._decided:
            return self._decided[name]
        self._decided[name] = None  # a cycle decides nothing
        definition = self.conditions.get(name)
        self._deciding += 1
        try:
            self._decided[name] = self._condition(definition) if definition is not None else None
        finally:
            self._deciding -= 1
        return self._decided[name]

    def _condition(self, node: JNode) -> bool | None:
        function = intrinsic(node)
        if function is None:
            return None
        name, argument = function
        arguments = items(argument)
        if name == "Condition":
            return self._decide(argument)
        if name == "Fn::Equals" and len(arguments) == 2:
            left, right = self.string(arguments[0]), self.string(arguments[1])
            if left is None or right is None or unknown.contains(left) or unknown.contains(right):
                return None
            return left == right
        values = [self._condition(a) for a in arguments]
        if name == "Fn::Not" and len(values) == 1:
            return None if values[0] is None else not values[0]
        if name == "Fn::And" and values:
            return False if False in values else None if None in values else True
        if name == "Fn::Or" and values:
            return True if True in values else None if None in values else False
        return None
