"""Terraform sources (``.tf``): policies linted before there is a plan, located in the ``.tf`` file.

Read with python-hcl2's parse tree (it keeps positions). Three ways of writing a policy are read:

* ``data "aws_iam_policy_document"`` blocks: ``statement`` blocks (and ``dynamic "statement"``
  blocks' ``content``, which may or may not be there: they are read as if present), with
  ``sid``, ``effect``, ``actions``/``not_actions``, ``resources``/``not_resources``,
  ``principals``/``not_principals`` and ``condition`` blocks, become the policy JSON the data
  source renders (``&{aws:username}`` is its spelling of a policy variable);
* ``jsonencode({...})`` in a policy argument: the object, with every position in the file;
* a heredoc or string holding JSON: parsed where it stands in the file.

The policy arguments and the type each implies are those of ``terraform.POLICY_ATTRIBUTES``. A
data source's type comes from the first argument that references it (``data.aws_iam_policy_document.x.json``
anywhere in the expression, ``coalesce(...)`` included); one referenced by none is typed by its content.

Interpolations and references are values only Terraform knows, so they become unknowns of their
kind (``policyengine.model.unknown``): ``data.aws_caller_identity.*.account_id`` is the deploying
account, ``data.aws_region.*.name`` the region, ``data.aws_partition.*.partition`` the partition and
``dns_suffix`` the URL suffix; ``local.x`` is followed to its definition; ``var.x`` is the
``--parameter x=...`` value or an unknown; anything else (resource attributes, function calls,
conditionals, ``for`` expressions) is an unknown value. A policy argument that is not written in
the file (``file(...)``, ``templatefile(...)``, a variable) is listed as not read, and so is a policy
written in an argument of any other ``aws_`` resource type.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from policyengine.errors import Issue, PolicyParseError
from policyengine.lint.finding import LintTarget, PolicyType
from policyengine.lint.inputs._targets import FINE_GRAINED_ACCESS_CONTROL, FileContext
from policyengine.lint.inputs.policy import infer_policy_type
from policyengine.lint.inputs.terraform import NOT_READ, ORGANIZATIONS_TYPES, POLICY_ATTRIBUTES
from policyengine.model import unknown
from policyengine.model.span import Span
from policyengine.parsing.document import parse_json_with_positions
from policyengine.parsing.json_tree import JNode

_DOCUMENT_REF = re.compile(r"\bdata\.aws_iam_policy_document\.([A-Za-z0-9_-]+)")
_KINDS: tuple[tuple[re.Pattern[str], unknown.UnknownKind], ...] = (
    (re.compile(r"^data\.aws_caller_identity\.[\w-]+(\[[^\]]*\])?\.account_id$"), "account"),
    (re.compile(r"^data\.aws_region\.[\w-]+(\[[^\]]*\])?\.(name|region|id)$"), "region"),
    (re.compile(r"^data\.aws_partition\.[\w-]+(\[[^\]]*\])?\.partition$"), "partition"),
    (re.compile(r"^data\.aws_partition\.[\w-]+(\[[^\]]*\])?\.dns_suffix$"), "url_suffix"),
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.S)
_MAX_DEPTH = 32
_DOCUMENT = "aws_iam_policy_document"
_MERGED = ("source_policy_documents", "override_policy_documents", "source_json", "override_json")


def read_tree(text: str) -> Tree[Token]:
    """The python-hcl2 parse tree; ``ValueError`` with ``line:col`` when the text is not HCL."""
    import hcl2

    try:
        tree: Tree[Token] = hcl2.parses_to_tree(text)
    except UnexpectedInput as exc:
        raise ValueError(f"{exc.line}:{exc.column}: invalid HCL") from None
    except (LarkError, ValueError) as exc:
        raise ValueError(f"invalid HCL: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    return tree


def _span(item: Tree[Token] | Token) -> Span | None:
    if isinstance(item, Token):
        if item.line is None or item.start_pos is None:
            return None
        return Span(
            line=item.line,
            column=item.column or 1,
            end_line=item.end_line or item.line,
            end_column=item.end_column or 1,
            offset=item.start_pos,
            end_offset=item.end_pos or item.start_pos,
        )
    meta = item.meta
    if meta.empty:
        return None
    return Span(
        line=meta.line,
        column=meta.column,
        end_line=meta.end_line,
        end_column=meta.end_column,
        offset=meta.start_pos,
        end_offset=meta.end_pos,
    )


def _trees(tree: Tree[Token], name: str) -> list[Tree[Token]]:
    return [c for c in tree.children if isinstance(c, Tree) and c.data == name]


def _name(identifier: Tree[Token]) -> str:
    return str(identifier.children[0])


@dataclass
class Block:
    """One HCL block: its type, labels, attributes (expression trees) and nested blocks."""

    kind: str
    labels: list[str]
    tree: Tree[Token]
    attributes: dict[str, tuple[Tree[Token], Tree[Token]]] = field(default_factory=dict)  # name -> (identifier, expression)
    blocks: list[Block] = field(default_factory=list)


def blocks_of(body: Tree[Token]) -> list[Block]:
    """The blocks of a body, with their attributes and nested blocks."""
    found: list[Block] = []
    for child in _trees(body, "block"):
        parts = [c for c in child.children if isinstance(c, Tree)]
        kind = _name(parts[0])
        labels = ["".join(str(t) for p in _trees(s, "string_part") for t in p.children) for s in parts[1:] if s.data == "string"]
        labels += [_name(s) for s in parts[1:] if s.data == "identifier"]
        inner = next((p for p in parts if p.data == "body"), None)
        block = Block(kind, labels, child)
        if inner is not None:
            for attribute in _trees(inner, "attribute"):
                identifier, expression = (c for c in attribute.children if isinstance(c, Tree))
                block.attributes[_name(identifier)] = (identifier, expression)
            block.blocks = blocks_of(inner)
        found.append(block)
    return found


class Expressions:
    """Turns HCL expressions into JSON nodes, with references and interpolations as unknowns of their kind."""

    def __init__(self, text: str, locals_: dict[str, Tree[Token]], variables: dict[str, str]) -> None:
        self.text = text
        self.locals = locals_
        self.variables = variables
        self._depth = 0

    def source(self, tree: Tree[Token] | Token) -> str:
        span = _span(tree)
        return self.text[span.offset : span.end_offset].strip() if span is not None else "?"

    def node(self, tree: Tree[Token], *, policy_strings: bool = False) -> JNode:
        """The JSON value of an expression; ``policy_strings`` reads ``&{...}`` as ``${...}`` (policy documents)."""
        span = _span(tree)
        if tree.data == "expr_term" and len(tree.children) == 1 and isinstance(tree.children[0], Tree):
            return self.node(tree.children[0], policy_strings=policy_strings)
        if tree.data == "expr_term" and len(tree.children) == 3:  # ( expression )
            inner = next((c for c in tree.children if isinstance(c, Tree)), None)
            if inner is not None:
                return self.node(inner, policy_strings=policy_strings)
        if tree.data == "string":
            return JNode("string", self.string(tree, policy_strings=policy_strings), span)
        if tree.data in ("int_lit", "float_lit"):
            return JNode("number", str(tree.children[0]), span)
        if tree.data == "literal_value":
            word = str(tree.children[0])
            if word in ("true", "false"):
                return JNode("boolean", word == "true", span)
            return JNode("null", None, span)
        if tree.data == "tuple":
            return JNode("array", [self.node(c, policy_strings=policy_strings) for c in _expressions(tree)], span)
        if tree.data == "object":
            pairs: list[tuple[JNode, JNode]] = []
            for element in _trees(tree, "object_elem"):
                key_tree, value_tree = (c for c in element.children if isinstance(c, Tree))
                key = self.node(key_tree.children[0]) if isinstance(key_tree.children[0], Tree) else None
                key_text = key.value if key is not None and key.kind == "string" else self.source(key_tree)
                pairs.append((JNode("string", key_text, _span(key_tree)), self.node(value_tree, policy_strings=policy_strings)))
            return JNode("object", pairs, span)
        if tree.data == "identifier":
            return JNode("string", _name(tree), span)  # a bare object key
        if tree.data in ("heredoc_template", "heredoc_template_trim"):
            return JNode("string", self.heredoc_text(tree)[0], span)
        if tree.data == "function_call":
            name = _name(tree.children[0]) if isinstance(tree.children[0], Tree) else ""
            arguments = [c for a in _trees(tree, "arguments") for c in _expressions(a)]
            if name in ("try", "coalesce") and arguments:
                return self.node(arguments[0], policy_strings=policy_strings)
        return JNode("string", self.reference(tree), span)

    def reference(self, tree: Tree[Token]) -> str:
        """A reference or any other computed expression: a value, or an unknown of its kind."""
        if tree.data == "function_call" and _name(tree.children[0]) == "try":  # type: ignore[arg-type]
            first = next((c for a in _trees(tree, "arguments") for c in _expressions(a)), None)
            if first is not None:
                return self.reference(first)
        return self.written(self.source(tree))

    def written(self, written: str) -> str:
        """The value of an expression written as ``written`` (an interpolation's text), or an unknown of its kind."""
        written = written.strip()
        label = f"${{{written}}}"
        plain = re.sub(r"\s+", "", written)
        for pattern, kind in _KINDS:
            if pattern.match(plain):
                return unknown.marker(kind, label)
        if plain.startswith("var.") and plain[4:] in self.variables:
            return self.variables[plain[4:]]
        if plain.startswith("local.") and plain[6:] in self.locals and self._depth < _MAX_DEPTH:
            self._depth += 1
            try:
                value = self.node(self.locals[plain[6:]])
            finally:
                self._depth -= 1
            if value.kind == "string":
                text: str = value.value
                return text
        return unknown.marker("value", label)

    def string(self, tree: Tree[Token], *, policy_strings: bool) -> str:
        parts: list[str] = []
        for part in _trees(tree, "string_part"):
            for child in part.children:
                if isinstance(child, Token):
                    parts.append(self.literal(str(child), policy_strings=policy_strings))
                elif child.data == "interpolation":
                    inner = next((c for c in child.children if isinstance(c, Tree)), None)
                    parts.append(self.reference(inner) if inner is not None else "")
                else:  # a %{ } template directive: its output cannot be known here
                    parts.append(unknown.marker("value", self.source(child)))
        return "".join(parts)

    @staticmethod
    def literal(text: str, *, policy_strings: bool) -> str:
        """A quoted string's literal text: escapes decoded, ``$${``/``%%{`` unescaped, ``&{`` a policy variable."""

        def escape(match: re.Match[str]) -> str:
            if match.group(1) or match.group(2):
                return chr(int(match.group(1) or match.group(2), 16))
            return _ESCAPES.get(match.group(3), "\\" + match.group(3))

        value = _ESCAPE.sub(escape, text).replace("$${", "${").replace("%%{", "%{")
        return value.replace("&{", "${") if policy_strings else value

    def heredoc_text(self, tree: Tree[Token]) -> tuple[str, int]:
        """A heredoc's body and its offset in the file."""
        token = tree.children[0]
        assert isinstance(token, Token)
        raw = str(token)
        first_newline = raw.index("\n") + 1 if "\n" in raw else len(raw)
        last_newline = raw.rstrip("\n").rfind("\n")
        body = raw[first_newline : last_newline + 1] if last_newline >= first_newline else ""
        return body, (token.start_pos or 0) + first_newline


def _expressions(tree: Tree[Token]) -> list[Tree[Token]]:
    return [c for c in tree.children if isinstance(c, Tree) and c.data not in ("new_line_or_comment",)]


# --- policies -------------------------------------------------------------------------------


def extract(ctx: FileContext, text: str) -> list[LintTarget]:
    """The policies of a ``.tf`` file (see the module docstring)."""
    try:
        tree = read_tree(text)
    except ValueError as exc:
        ctx.errors.append(str(exc))
        return []
    body = next((c for c in tree.children if isinstance(c, Tree) and c.data == "body"), None)
    top = blocks_of(body) if body is not None else []
    locals_ = {name: value for b in top if b.kind == "locals" for name, (_, value) in b.attributes.items()}
    expressions = Expressions(text, locals_, dict(ctx.bindings.parameters))
    documents = {b.labels[1]: b for b in top if b.kind == "data" and b.labels[:1] == [_DOCUMENT] and len(b.labels) == 2}
    typed: dict[str, tuple[PolicyType, str]] = {}
    targets: list[LintTarget] = []
    for block in top:
        if block.kind != "resource" or len(block.labels) != 2:
            continue
        kind, name = block.labels
        address = f"{kind}.{name}"
        _list_unread(ctx, expressions, block, address)
        for attribute, policy_type, owner in _policy_attributes(block, address):
            expression = _followed(expressions, attribute[1])
            referenced = _DOCUMENT_REF.findall(expressions.source(expression))
            if referenced:
                for document in referenced:
                    typed.setdefault(document, (policy_type, owner))
                continue
            target = _expression_target(ctx, expressions, expression, policy_type, owner)
            if target is not None and _fine_grained(expressions, block):
                target = dataclasses.replace(target, callers_checked_by=FINE_GRAINED_ACCESS_CONTROL)
            if target is not None:
                targets.append(target)
    _merged_types(expressions, documents, typed)
    for name, block in documents.items():
        user = typed.get(name)
        owner = f"data.aws_iam_policy_document.{name}" + (f" ({user[1]})" if user else "")
        root = _document_node(ctx, expressions, block, owner, documents)
        if root is None:
            continue  # nothing in it is written here: its parts are listed as not read
        chosen = ctx.policy_type or (user[0] if user else None) or infer_policy_type(root.to_plain())
        targets.append(ctx.target(chosen, root, owner=owner))
    return targets


def _followed(expressions: Expressions, expression: Tree[Token]) -> Tree[Token]:
    """``local.x`` followed to the expression it names (a policy argument is often ``local.policy``)."""
    for _ in range(_MAX_DEPTH):
        written = re.sub(r"\s+", "", expressions.source(expression))
        if not written.startswith("local.") or written[6:] not in expressions.locals:
            break
        expression = expressions.locals[written[6:]]
    return expression


def _merged_types(expressions: Expressions, documents: dict[str, Block], typed: dict[str, tuple[PolicyType, str]]) -> None:
    """A document merged into another (``source_policy_documents``) is of the type of the one it is merged into."""
    changed = True
    while changed:
        changed = False
        for name, block in documents.items():
            if name not in typed:
                continue
            for merged in _MERGED:
                if merged not in block.attributes:
                    continue
                for inner in _DOCUMENT_REF.findall(expressions.source(block.attributes[merged][1])):
                    if inner in documents and inner not in typed:
                        typed[inner] = typed[name]
                        changed = True


def _fine_grained(expressions: Expressions, block: Block) -> bool:
    """An OpenSearch domain whose ``advanced_security_options`` block says ``enabled = true``."""
    if block.labels[0] not in ("aws_opensearch_domain", "aws_elasticsearch_domain"):
        return False
    return any(
        inner.kind == "advanced_security_options"
        and "enabled" in inner.attributes
        and expressions.source(inner.attributes["enabled"][1]).strip() == "true"
        for inner in block.blocks
    )


def _list_unread(ctx: FileContext, expressions: Expressions, block: Block, address: str) -> None:
    """A policy written in an argument of a resource type not read (JSON or ``jsonencode`` with a ``Statement``): listed."""
    kind = block.labels[0]
    if not kind.startswith("aws_") or kind in POLICY_ATTRIBUTES or kind == "aws_organizations_policy":
        return
    for argument, (_, expression) in block.attributes.items():
        written = expressions.source(expression)
        if "Statement" in written and ("jsonencode" in written or '"Statement"' in written):
            reason = NOT_READ[kind][1] if kind in NOT_READ else f"policies of `{kind}` are not read"
            ctx.skip(f"{address}.{argument}", reason, _span(expression))


def _policy_attributes(block: Block, address: str) -> Iterator[tuple[tuple[Tree[Token], Tree[Token]], PolicyType, str]]:
    kind = block.labels[0]
    pairs = POLICY_ATTRIBUTES.get(kind, ())
    if kind == "aws_organizations_policy":
        type_expression = block.attributes.get("type")
        written = str(type_expression[1].children[0]) if type_expression else "SERVICE_CONTROL_POLICY"
        policy_type = next((t for k, t in ORGANIZATIONS_TYPES.items() if k in written), None)
        pairs = (("content", policy_type),) if policy_type else ()
    for attribute, policy_type in pairs:
        if attribute in block.attributes:
            owner = f"{address} trust policy" if attribute == "assume_role_policy" else address
            yield block.attributes[attribute], policy_type, owner
    if kind == "aws_iam_role":
        for inline in block.blocks:
            if inline.kind == "inline_policy" and "policy" in inline.attributes:
                yield inline.attributes["policy"], "identity", f"{address} inline policy"


def _expression_target(
    ctx: FileContext, expressions: Expressions, expression: Tree[Token], policy_type: PolicyType, owner: str
) -> LintTarget | None:
    term = expression.children[0] if expression.data == "expr_term" and len(expression.children) == 1 else expression
    if isinstance(term, Tree) and term.data == "function_call" and _name(term.children[0]) == "jsonencode":  # type: ignore[arg-type]
        argument = next((c for a in _trees(term, "arguments") for c in _expressions(a)), None)
        if argument is not None:
            return ctx.target(policy_type, expressions.node(argument), owner=owner)
    if isinstance(term, Tree) and term.data in ("heredoc_template", "heredoc_template_trim", "string"):
        if term.data == "string":
            span = _span(term)
            body = expressions.string(term, policy_strings=False)
            offset = (span.offset + 1) if span is not None else 0
            if "\\" in expressions.source(term):  # escapes change offsets: read it without positions
                return _json_target(ctx, expressions, body, None, policy_type, owner, expression)
        else:
            body, offset = expressions.heredoc_text(term)
        return _json_target(ctx, expressions, body, offset, policy_type, owner, expression)
    ctx.skip(owner, f"the policy is `{expressions.source(expression)[:80]}`, not written in this file", _span(expression))
    return None


def _json_target(
    ctx: FileContext,
    expressions: Expressions,
    body: str,
    offset: int | None,
    policy_type: PolicyType,
    owner: str,
    expression: Tree[Token],
) -> LintTarget | None:
    """A policy written as JSON text in the file: parsed in place, interpolations read as unknowns."""
    masked = "".join(c if c == "\n" else " " for c in ctx.text[:offset]) + body if offset is not None else body
    try:
        root = parse_json_with_positions(masked, ctx.source)
    except PolicyParseError as exc:
        if "${" in body or "%{" in body:
            ctx.skip(owner, "the policy text is assembled by template interpolation", _span(expression))
            return None
        return ctx.target(policy_type, owner=owner, issues=exc.issues if offset is not None else _detached(exc.issues))
    if offset is None:
        for node in _walk(root):
            node.span = _span(expression)
    _interpolate(root, expressions)
    return ctx.target(policy_type, root, owner=owner)


def _detached(issues: tuple[Issue, ...]) -> tuple[Issue, ...]:
    return tuple(Issue(message=i.message, pointer=i.pointer, hint=i.hint, code=i.code) for i in issues)


def _walk(node: JNode) -> Iterator[JNode]:
    yield node
    if node.kind == "object":
        for key, value in node.value:
            yield key
            yield from _walk(value)
    elif node.kind == "array":
        for item in node.value:
            yield from _walk(item)


_INTERPOLATION = re.compile(r"(?<!\$)\$\{([^}]*)\}")


def _interpolate(root: JNode, expressions: Expressions) -> None:
    """Interpolations in JSON written in a heredoc become values or unknowns; ``$${`` is a literal ``${`` (a policy variable)."""
    for node in _walk(root):
        if node.kind == "string" and "${" in node.value:
            replaced = _INTERPOLATION.sub(lambda m: expressions.written(m.group(1)), node.value)
            node.value = replaced.replace("$${", "${")


# --- aws_iam_policy_document ----------------------------------------------------------------


def _only_local_documents(written: str, documents: dict[str, Block]) -> bool:
    """Whether a merged-documents expression names only data sources of this file (each linted on its own)."""
    found = _DOCUMENT_REF.findall(written)
    outside = re.search(r"\b(var|module|local|each)\.|\b(file|templatefile)\(", written)
    return bool(found) and all(name in documents for name in found) and outside is None


def _document_node(
    ctx: FileContext, expressions: Expressions, block: Block, owner: str, documents: dict[str, Block]
) -> JNode | None:
    """The JSON policy an ``aws_iam_policy_document`` data source renders, located at its blocks.

    None when it has no statement written here but parts that are not read (merged documents,
    generated statements): linting what is left would report an empty policy that is not empty.
    """
    skipped = len(ctx.not_read)
    span = _span(block.tree)
    pairs: list[tuple[JNode, JNode]] = []
    version = block.attributes.get("version")
    pairs.append((_key("Version", version), expressions.node(version[1]) if version else JNode("string", "2012-10-17", span)))
    if "policy_id" in block.attributes:
        pairs.append((_key("Id", block.attributes["policy_id"]), expressions.node(block.attributes["policy_id"][1])))
    for merged in _MERGED:
        written = expressions.source(block.attributes[merged][1]) if merged in block.attributes else ""
        if written and not _only_local_documents(written, documents):
            reason = "documents merged in at plan time are not read; lint them where they are written"
            ctx.skip(f"{owner} {merged}", reason, _span(block.attributes[merged][1]))
    statements: list[JNode] = []
    for statement in block.blocks:
        content: Block | None = statement
        if statement.kind == "dynamic" and statement.labels == ["statement"]:
            content = next((b for b in statement.blocks if b.kind == "content"), None)
        elif statement.kind != "statement":
            continue
        node = _statement(expressions, content) if content is not None else None
        if node is None:
            # its effect comes from data (``effect = statement.value.effect``): which statements exist is not written here
            where = f"{owner} statement at line {statement.tree.meta.line}"
            ctx.skip(where, "the statement is generated from values only Terraform knows", _span(statement.tree))
            continue
        statements.append(node)
    if not statements and len(ctx.not_read) > skipped:
        return None
    pairs.append((JNode("string", "Statement", span), JNode("array", statements, span)))
    return JNode("object", pairs, span)


def _key(name: str, attribute: tuple[Tree[Token], Tree[Token]] | None) -> JNode:
    return JNode("string", name, _span(attribute[0]) if attribute else None)


_STATEMENT_LISTS = (
    ("actions", "Action"),
    ("not_actions", "NotAction"),
    ("resources", "Resource"),
    ("not_resources", "NotResource"),
)


def _statement(expressions: Expressions, block: Block) -> JNode | None:
    """A statement block as JSON; None when its effect is not written (it comes from data)."""
    span = _span(block.tree)
    pairs: list[tuple[JNode, JNode]] = []
    attributes = block.attributes
    if "sid" in attributes:
        sid = expressions.node(attributes["sid"][1], policy_strings=True)
        if unknown.whole(sid.value if sid.kind == "string" else "") is None:
            pairs.append((_key("Sid", attributes["sid"]), sid))
    effect = attributes.get("effect")
    effect_node = expressions.node(effect[1]) if effect else JNode("string", "Allow", span)
    if effect_node.kind != "string" or unknown.contains(effect_node.value):
        return None
    pairs.append((_key("Effect", effect), effect_node))
    for attribute, element in _STATEMENT_LISTS:
        if attribute in attributes:
            value = expressions.node(attributes[attribute][1], policy_strings=True)
            if element.startswith("Not") and value.kind == "string" and unknown.whole(value.value) is not None:
                continue  # ``not_actions = var.x``: usually null, and then the data source leaves it out
            pairs.append((_key(element, attributes[attribute]), value))
    for block_kind, element in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
        principals = list(_inner_blocks(block, block_kind))
        principal = _principals(expressions, principals) if principals else None
        if principal is not None:
            pairs.append((JNode("string", element, _span(principals[0].tree)), principal))
    conditions = list(_inner_blocks(block, "condition"))
    condition = _conditions(expressions, conditions) if conditions else None
    if condition is not None:
        pairs.append((JNode("string", "Condition", _span(conditions[0].tree)), condition))
    return JNode("object", pairs, span)


def _inner_blocks(block: Block, kind: str) -> Iterator[Block]:
    """Nested blocks of ``kind``, and the ``content`` of ``dynamic "kind"`` blocks."""
    for inner in block.blocks:
        if inner.kind == kind:
            yield inner
        elif inner.kind == "dynamic" and inner.labels == [kind]:
            yield from (b for b in inner.blocks if b.kind == "content")


def _principals(expressions: Expressions, blocks: list[Block]) -> JNode | None:
    grouped: dict[str, list[JNode]] = {}
    key_spans: dict[str, Span | None] = {}
    for block in blocks:
        kind = expressions.node(block.attributes["type"][1]) if "type" in block.attributes else None
        identifiers = block.attributes.get("identifiers")
        if kind is None or kind.kind != "string" or unknown.contains(kind.value) or identifiers is None:
            continue  # a principal block whose type comes from data names no principal we can read
        values = expressions.node(identifiers[1])
        if kind.value == "*" and values.kind == "array" and [v.value for v in values.value] == ["*"]:
            return JNode("string", "*", _span(block.tree))  # the data source renders "Principal": "*"
        grouped.setdefault(kind.value, []).extend(values.value if values.kind == "array" else [values])
        key_spans.setdefault(kind.value, kind.span)
    pairs = [(JNode("string", k, key_spans[k]), JNode("array", v, v[0].span if v else None)) for k, v in grouped.items()]
    return JNode("object", pairs, _span(blocks[0].tree)) if pairs else None


def _conditions(expressions: Expressions, blocks: list[Block]) -> JNode | None:
    operators: dict[str, list[tuple[JNode, JNode]]] = {}
    spans: dict[str, Span | None] = {}
    for block in blocks:
        attributes = block.attributes
        if not all(name in attributes for name in ("test", "variable", "values")):
            continue
        test = expressions.node(attributes["test"][1])
        variable = expressions.node(attributes["variable"][1], policy_strings=True)
        values = expressions.node(attributes["values"][1], policy_strings=True)
        if test.kind != "string" or unknown.contains(test.value) or unknown.contains(str(variable.value)):
            continue  # a condition whose operator or key comes from data
        operator = test.value
        operators.setdefault(operator, []).append((variable, values))
        spans.setdefault(operator, test.span)
    pairs = [(JNode("string", op, spans[op]), JNode("object", keys, spans[op])) for op, keys in operators.items()]
    return JNode("object", pairs, _span(blocks[0].tree)) if pairs else None
