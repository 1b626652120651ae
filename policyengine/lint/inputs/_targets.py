"""How one policy found inside a file becomes a ``LintTarget``: shared by every input format.

A policy reaches the reader in one of three shapes, and each keeps as much position
information as is honest:

* an inline JSON/YAML object (a policy file, a CloudFormation ``KeyPolicy``, an authorization
  details ``PolicyDocument``): the ``JNode`` tree already carries spans into the file, so it is
  read as it is;
* a JSON *string* inside a JSON file (``get-key-policy`` output, Terraform plans): the string
  is parsed on its own and every position is mapped back through its escapes into the file,
  with the mapper of ``policyengine.parsing.document``;
* text with no faithful mapping (a URL-encoded document, a policy string inside YAML): it is
  parsed without spans, since a wrong position is worse than none.

Problems with the policy itself never stop the file: they become the target's ``read_issues``.
Problems with the container (a required field of a recognised format is missing or has the
wrong type) are recorded on the ``FileContext`` and reported as input errors.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from policyengine.errors import Issue, PolicyInputError
from policyengine.lint.finding import LintTarget, NotRead, PolicyType
from policyengine.lint.inputs.bindings import Bindings
from policyengine.model import unknown
from policyengine.model.span import Span, line_starts
from policyengine.parsing.document import JsonSyntaxError, OffsetMapper, parse_nodes, remap_issue, remap_node
from policyengine.parsing.json_locate import SpanLocator
from policyengine.parsing.json_tree import JNode
from policyengine.parsing.reader import read_document_best_effort

Syntax = Literal["json", "yaml", "hcl"]


#: OpenSearch DG, "Fine-grained access control": with it enabled, AWS recommends a domain access policy
#: that lets everyone in and leaves authentication to the domain's users and roles
#: (``LintTarget.callers_checked_by``).
FINE_GRAINED_ACCESS_CONTROL = "OpenSearch fine-grained access control"

#: The smallest size limit that excludes whitespace (a role trust policy's 2,048 characters): a policy no
#: longer than this as written is no longer compacted either, so it is not measured twice.
_SMALLEST_COMPACT_LIMIT = 2048


@dataclass
class FileContext:
    """One input file being read: its name, text, syntax, the ``--policy-type`` and its input errors."""

    source: str
    text: str
    syntax: Syntax
    policy_type: PolicyType | None = None
    bindings: Bindings = field(default_factory=Bindings)
    errors: list[str] = field(default_factory=list)
    not_read: list[NotRead] = field(default_factory=list)
    #: For a file read without positions (a plain policy document, the hot path): finds spans on demand.
    locator: SpanLocator | None = None
    _line_starts: list[int] | None = None

    def error(self, message: str, node: JNode | None = None) -> None:
        """Record an input error, prefixed with ``line:col`` when the node has a position."""
        if node is not None and node.span is not None:
            message = f"{node.span.line}:{node.span.column}: {message}"
        self.errors.append(message)

    def skip(self, where: str, reason: str, at: JNode | Span | None = None) -> None:
        """Record a policy found here (``at`` a node or span) that is not linted: the report lists it as not read."""
        span = at.span if isinstance(at, JNode) else at
        self.not_read.append(NotRead(self.source, where, reason, span))

    @property
    def line_starts(self) -> list[int]:
        """Offsets where each line of the file starts (computed once per file)."""
        if self._line_starts is None:
            self._line_starts = line_starts(self.text)
        return self._line_starts

    def target(
        self,
        policy_type: PolicyType,
        document_root: JNode | Any = None,
        *,
        owner: str | None,
        size: int | None = None,
        issues: tuple[Issue, ...] = (),
    ) -> LintTarget:
        """Read ``document_root`` into a target; validation problems become its ``read_issues``.

        ``document_root`` is a tree with positions, or, with ``locator``, the decoded value of the whole text.
        """
        if document_root is None:
            return LintTarget(self.source, policy_type, None, self.text, owner, issues)
        if size is not None and size <= _SMALLEST_COMPACT_LIMIT:
            compact = size
        elif self.locator is not None and document_root is self.locator.root:  # the whole text is the policy, no intrinsics
            compact = len(unknown.stand_in(json.dumps(json.loads(self.text), separators=(",", ":"), ensure_ascii=False)))
        else:
            compact = compact_size(document_root)
        document, problems = read_document_best_effort(
            document_root, self.source, size if size is not None else compact, self.locator
        )
        return LintTarget(self.source, policy_type, document, self.text, owner, problems, compact_size=compact)


# --- small JNode helpers -------------------------------------------------------------------


def members(node: JNode) -> dict[str, JNode]:
    """An object's members by key (the last duplicate wins, as AWS reads JSON); {} for non-objects."""
    if node.kind != "object":
        return {}
    return {key.value: value for key, value in node.value}


def items(node: JNode) -> list[JNode]:
    """An array's items; [] for anything else."""
    return list(node.value) if node.kind == "array" else []


def text_of(node: JNode | None) -> str | None:
    """The value of a string node, or None."""
    if node is not None and node.kind == "string":
        value: str = node.value
        return value
    return None


def walk(node: JNode) -> Iterator[JNode]:
    """Every node of a tree, depth first."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if current.kind == "object":
            for key, value in reversed(current.value):
                stack.append(value)
                stack.append(key)
        elif current.kind == "array":
            stack.extend(reversed(current.value))


def strip_spans(node: JNode) -> JNode:
    """Forget every position of a tree parsed from text whose offsets are not the file's."""
    for current in walk(node):
        current.span = None
    return node


def compact_size(node: JNode) -> int:
    """The length of the policy as compact JSON: what a service receives from an inline object.

    Used for documents written as objects inside a larger file (their indentation belongs to
    the file, not to the policy); a policy file on its own is measured as written. Unknown values
    count as the shortest they could be (``unknown.stand_in``), so the size is a lower bound.
    """
    return len(unknown.stand_in(json.dumps(node.to_python(), separators=(",", ":"), ensure_ascii=False)))


# --- policies written as JSON strings ---------------------------------------------------------


class _ShiftedMapper(OffsetMapper):
    """The document module's mapper run on the string token alone, then moved into place.

    ``OffsetMapper`` indexes every line of the text it is given; ``terraform show -json``
    writes megabytes on one line with hundreds of policy strings, so each string is mapped
    within its own token and the result is shifted by the token's offset, line and column.
    """

    def __init__(self, outer: str, token: Span, line_starts: list[int]) -> None:
        line_index = bisect_right(line_starts, token.offset) - 1
        self.base_offset = token.offset
        self.base_line = line_index
        self.base_column = token.offset - line_starts[line_index]
        super().__init__(outer[token.offset : token.end_offset], 0)

    def span(self, span: Span) -> Span:
        local = super().span(span)
        return Span(
            line=local.line + self.base_line,
            column=local.column + (self.base_column if local.line == 1 else 0),
            end_line=local.end_line + self.base_line,
            end_column=local.end_column + (self.base_column if local.end_line == 1 else 0),
            offset=local.offset + self.base_offset,
            end_offset=local.end_offset + self.base_offset,
        )


def parse_string_policy(ctx: FileContext, node: JNode) -> tuple[JNode | None, tuple[Issue, ...], int]:
    """Parse the JSON policy held in string ``node``: (root, parse issues, policy size).

    Positions are mapped into the file when the string was read from JSON text with a span;
    otherwise (YAML, or a tree without spans) the policy is read without positions.
    """
    inner: str = node.value
    if ctx.syntax != "json" or node.span is None:
        root, issues = parse_detached(inner, "policy string")
        if node.span is not None:  # positions inside the string are not the file's: point at the string
            for inner_node in walk(root) if root is not None else ():
                inner_node.span = node.span
            issues = tuple(replace(i, span=i.span or node.span) for i in issues)
        return root, issues, len(inner)
    mapper = _ShiftedMapper(ctx.text, node.span, ctx.line_starts)
    try:
        root = parse_nodes(inner)
    except JsonSyntaxError as exc:
        return None, (remap_issue(exc.issue, mapper),), len(inner)
    remap_node(root, mapper)
    return root, (), len(inner)


def parse_detached(text: str, what: str) -> tuple[JNode | None, tuple[Issue, ...]]:
    """Parse policy text whose offsets are not the file's: no spans; a syntax error says where in ``what``."""
    try:
        root = parse_nodes(text)
    except JsonSyntaxError as exc:
        issue = exc.issue
        where = f" (line {issue.span.line}, column {issue.span.column} of the {what})" if issue.span else ""
        return None, (Issue(message=issue.message + where, pointer=issue.pointer, hint=issue.hint, code=issue.code),)
    return strip_spans(root), ()


def string_target(ctx: FileContext, node: JNode, policy_type: PolicyType, owner: str | None) -> LintTarget:
    """A target for a policy written as a JSON string (Terraform attributes, ``get-key-policy``)."""
    root, issues, size = parse_string_policy(ctx, node)
    if root is None:
        return ctx.target(policy_type, owner=owner, issues=issues)
    return ctx.target(policy_type, root, owner=owner, size=size)


def input_error_text(exc: PolicyInputError) -> str:
    """The one-line message of a reading error, without the file name (the caller pairs it)."""
    first = exc.issues[0]
    where = f"{first.span.line}:{first.span.column}: " if first.span else ""
    return where + first.message
