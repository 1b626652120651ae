"""YAML text to the same ``JNode`` trees the JSON parser builds, with positions.

CloudFormation templates are often YAML. PyYAML's ``compose`` gives a node tree whose marks
hold 0-based line, column and character index; each node becomes a ``JNode`` with a 1-based
``Span`` so findings point into the template. ``compose`` never constructs Python objects, so
unknown tags cannot fail; CloudFormation's short-form intrinsics (``!Sub``, ``!Ref``,
``!GetAtt`` ...) become the long form they stand for (``{"Fn::Sub": ...}``, ``{"Ref": ...}``),
exactly what a JSON template would hold.

Scalars follow YAML 1.1 resolution as CloudFormation does, with one exception kept for
policies: an unquoted ``2012-10-17`` is a timestamp to YAML but a string to CloudFormation,
so timestamps stay strings. Numbers that JSON could not write (``0x1F``, ``.inf``) stay strings.
"""

from __future__ import annotations

import re

import yaml

from policyengine.model.span import Span
from policyengine.parsing.json_tree import JNode

# Short-form tag -> long-form key (CloudFormation template reference, intrinsic functions).
SHORT_FORMS: dict[str, str] = {
    "!Ref": "Ref",
    "!Condition": "Condition",
    **{
        f"!{name}": f"Fn::{name}"
        for name in (
            "Sub",
            "GetAtt",
            "Join",
            "If",
            "Select",
            "Split",
            "FindInMap",
            "ImportValue",
            "Base64",
            "Cidr",
            "GetAZs",
            "Equals",
            "And",
            "Or",
            "Not",
            "Transform",
            "Length",
            "ToJsonString",
        )
    },
}

_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_TRUE = {"yes", "true", "on"}
_MAX_NODES = 1_000_000  # alias expansion guard ("billion laughs")


class YamlInputError(Exception):
    """The text is not YAML we can use; ``str()`` is a one-line message starting ``line:col:``."""


def _span(node: yaml.Node) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(
        line=start.line + 1,
        column=start.column + 1,
        end_line=end.line + 1,
        end_column=end.column + 1,
        offset=start.index,
        end_offset=end.index,
    )


def parse_yaml_with_positions(text: str) -> JNode | None:
    """The ``JNode`` tree of a single-document YAML text (None when the text is empty).

    Raises ``YamlInputError`` with ``line:col`` for syntax errors, several documents in one
    file, recursive aliases and alias bombs.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{mark.line + 1}:{mark.column + 1}: " if mark is not None else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlInputError(f"{where}invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlInputError(f"invalid YAML: {str(exc).splitlines()[0]}") from None
    if root is None:
        return None
    return _Converter().convert(root)


class _Converter:
    """One conversion: counts nodes (aliases can multiply them) and notices recursive aliases."""

    def __init__(self) -> None:
        self.count = 0
        self.active: set[int] = set()

    def convert(self, node: yaml.Node) -> JNode:
        self.count += 1
        if self.count > _MAX_NODES:
            raise YamlInputError(f"{_span(node)}: the YAML expands to too many values (aliases)")
        if id(node) in self.active:
            raise YamlInputError(f"{_span(node)}: a YAML alias refers to a node that contains it")
        long_form = SHORT_FORMS.get(node.tag)
        self.active.add(id(node))
        try:
            value = self.plain(node, tagged=long_form is not None)
        finally:
            self.active.discard(id(node))
        if long_form is None:
            return value
        span = _span(node)
        return JNode("object", [(JNode("string", long_form, span), value)], span)

    def plain(self, node: yaml.Node, *, tagged: bool) -> JNode:
        span = _span(node)
        if isinstance(node, yaml.MappingNode):
            pairs = [(self.key(key), self.convert(value)) for key, value in node.value]
            return JNode("object", pairs, span)
        if isinstance(node, yaml.SequenceNode):
            return JNode("array", [self.convert(item) for item in node.value], span)
        assert isinstance(node, yaml.ScalarNode)
        text: str = node.value
        if tagged:  # a short-form intrinsic's argument is what it is written as: a string
            return JNode("string", text, span)
        tag = node.tag
        if tag == "tag:yaml.org,2002:null":
            return JNode("null", None, span)
        if tag == "tag:yaml.org,2002:bool":
            return JNode("boolean", text.lower() in _TRUE, span)
        if tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float") and _JSON_NUMBER.fullmatch(text):
            return JNode("number", text, span)
        return JNode("string", text, span)

    def key(self, node: yaml.Node) -> JNode:
        if isinstance(node, yaml.ScalarNode):
            return JNode("string", str(node.value), _span(node))
        # A complex key (a list or map used as a key) has no JSON form; name it by its text.
        kind = "list" if isinstance(node, yaml.SequenceNode) else "map"
        return JNode("string", f"<{kind} key>", _span(node))
