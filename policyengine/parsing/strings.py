"""The small languages inside policy strings: operator names, variables, ARNs, principals.

Each parse is cached: a policy names the same few operators and ARNs again and again. The Lark
grammars (grammars/condition_op.lark, arn.lark, policy_string.lark) define these languages. A
well-formed operator name or ARN is split by a regular expression that accepts exactly what the
grammar accepts, with the same parts (property tests hold them equal on any text); anything
else goes to the grammar, so Lark is loaded only for policy variables or text that may be wrong.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from policyengine.model import unknown
from policyengine.model.principal import PrincipalRef, PrincipalRefKind
from policyengine.model.template import TemplatePart, TextPart, VariablePart, WildcardPart

if TYPE_CHECKING:
    from lark import Token, Tree

_IF_EXISTS = "IfExists"


class OperatorName(NamedTuple):
    """A condition operator split into qualifier, base operator and the IfExists flag."""

    qualifier: str | None
    base: str
    if_exists: bool


# What grammars/condition_op.lark accepts: an optional qualifier (case-sensitive), then one word.
_OPERATOR = re.compile(r"(?:(ForAllValues|ForAnyValue):)?([A-Za-z][A-Za-z0-9]*)")


@lru_cache(maxsize=512)
def parse_operator_name(text: str) -> OperatorName | None:
    """Split ``ForAnyValue:StringLikeIfExists``; None when the text is not of that form."""
    match = _OPERATOR.fullmatch(text)
    if match is not None:
        qualifier, base = match.group(1), match.group(2)
    else:
        parsed = _operator_by_grammar(text)
        if parsed is None:
            return None
        qualifier, base = parsed
    if_exists = base.endswith(_IF_EXISTS) and len(base) > len(_IF_EXISTS)
    if if_exists:
        base = base[: -len(_IF_EXISTS)]
    return OperatorName(qualifier, base, if_exists)


def _operator_by_grammar(text: str) -> tuple[str | None, str] | None:
    """(qualifier, base) as the condition_op grammar reads ``text``; None when it refuses it."""
    from lark import Token, Tree
    from lark.exceptions import LarkError

    from policyengine.parsing.loader import condition_operator_parser

    try:
        tree = condition_operator_parser().parse(text)
    except LarkError:
        return None
    qualifier: str | None = None
    base = ""
    for child in tree.children:
        if isinstance(child, Tree):
            qualifier = str(child.children[0]).rstrip(":")
        elif isinstance(child, Token):
            base = str(child)
    return qualifier, base


class TemplateResult(NamedTuple):
    """A parsed policy string; ``error`` says why a ``${`` could not be read as a variable."""

    parts: tuple[TemplatePart, ...] | None
    error: str | None


@lru_cache(maxsize=4096)
def parse_template(text: str) -> TemplateResult:
    """Parse a string holding ``${``; strings without it need no template (parts is None)."""
    if "${" not in text:
        return TemplateResult(None, None)
    from lark.exceptions import LarkError

    from policyengine.parsing.loader import policy_string_parser

    try:
        tree = policy_string_parser().parse(text)
    except LarkError as exc:
        column = getattr(exc, "column", None)
        where = f" at character {column}" if isinstance(column, int) and column > 0 else ""
        return TemplateResult(None, f"malformed policy variable{where} in `{text}`")
    parts: list[TemplatePart] = []
    for child in tree.children:
        parts.append(_template_part(child))
    return TemplateResult(tuple(_merge_text(parts)), None)


def _template_part(node: Tree[Token] | Token) -> TemplatePart:
    from lark import Tree

    assert isinstance(node, Tree)
    if node.data == "variable":
        key = str(node.children[0])
        default: str | None = None
        if len(node.children) > 1:
            default_tree = node.children[1]
            assert isinstance(default_tree, Tree)
            default = "".join(str(t) for t in default_tree.children)
        return VariablePart.model_construct(key=key, default=default)
    if node.data == "escape":
        return TextPart.model_construct(text=str(node.children[0])[2])
    if node.data == "star":
        return WildcardPart.model_construct(char="*")
    if node.data == "qmark":
        return WildcardPart.model_construct(char="?")
    return TextPart.model_construct(text="".join(str(t) for t in node.children))


def _merge_text(parts: list[TemplatePart]) -> list[TemplatePart]:
    merged: list[TemplatePart] = []
    for part in parts:
        if isinstance(part, TextPart) and merged and isinstance(merged[-1], TextPart):
            merged[-1] = TextPart.model_construct(text=merged[-1].text + part.text)
        else:
            merged.append(part)
    return merged


class ArnParts(NamedTuple):
    """The six parts of an ARN: partition, service, region, account and the resource part."""

    partition: str
    service: str
    region: str
    account: str
    resource: str


@lru_cache(maxsize=4096)
def parse_arn(text: str) -> ArnParts | None:
    """Split an ARN (or ARN pattern); None when the text is not ``arn:`` plus five parts.

    ``grammars/arn.lark`` is the definition (the first five colons split the fixed parts, which
    may be empty; the resource part is not empty and keeps further colons). Splitting on those
    colons gives the same parts as parsing with it, a hundred times faster, which matters when an
    organization's every caller is classified (tests/properties/test_arn_split.py holds the two equal).
    """
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[5]:
        return None
    return ArnParts(*parts[1:])


_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
_UNIQUE_ID = re.compile(r"^(AIDA|AROA|AIPA|ANPA|ANVA|ASIA|AGPA)[A-Z0-9]{12,}$")
_SERVICE = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?$|^[a-z0-9-]+\.amazon\.com$")


@lru_cache(maxsize=4096)
def classify_principal(kind: str, text: str) -> PrincipalRef:
    """What a ``Principal`` value (or a caller ARN, with kind ``AWS``) names."""
    if kind == "Service":
        if unknown.contains(text):
            return _service_with_unknowns(text)
        if _SERVICE.match(text):
            return PrincipalRef.model_construct(kind="service", text=text, arn=text)
        return PrincipalRef.model_construct(kind="invalid", text=text, problem=f"`{text}` is not a service principal")
    if kind == "Federated":
        return PrincipalRef.model_construct(kind="federated", text=text, arn=text)
    if kind == "CanonicalUser":
        return PrincipalRef.model_construct(kind="canonical_user", text=text, arn=text)
    return classify_aws_principal(text)


#: A CloudFront origin access identity as S3 bucket policies name it (CloudFront DG, "Restrict access to
#: an Amazon S3 origin", legacy OAI); S3 stores it as the identity's canonical user.
_CLOUDFRONT_OAI = re.compile(r"^arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity \S+$")


def classify_aws_principal(text: str) -> PrincipalRef:
    """Classify a value under ``AWS``: ``*``, an account id, a root/user/role/session ARN or a CloudFront OAI."""
    if text == "*":
        return PrincipalRef.model_construct(kind="any", text=text, arn="*")
    if _CLOUDFRONT_OAI.match(unknown.as_pattern(text)):
        return PrincipalRef.model_construct(kind="canonical_user", text=text, arn=text)
    if unknown.contains(text):
        return _aws_with_unknowns(text)
    return _classify_known(text)


def _classify_known(text: str) -> PrincipalRef:
    """``classify_aws_principal`` of a value whose account field is a literal (other fields may hold unknowns)."""
    if _ACCOUNT_ID.match(text):
        return PrincipalRef.model_construct(kind="account", text=text, arn=f"arn:aws:iam::{text}:root", account=text)
    if _UNIQUE_ID.match(text):
        return PrincipalRef.model_construct(kind="unique_id", text=text, arn=text)
    arn = parse_arn(text)
    if arn is None:
        return _invalid(text, "is neither `*`, a 12-digit account id nor an ARN")
    if "*" in text or "?" in text:
        return _invalid(text, "has a wildcard; principal ARNs cannot hold `*` or `?`")
    if not _ACCOUNT_ID.match(arn.account):
        return _invalid(text, "does not name a 12-digit account")
    if arn.region:
        return _invalid(text, "has a region; IAM and STS ARNs have none")
    partition, account = arn.partition, arn.account
    if arn.service == "iam":
        if arn.resource == "root":
            return PrincipalRef.model_construct(kind="account", text=text, arn=text, partition=partition, account=account)
        kind_name, _, rest = arn.resource.partition("/")
        if kind_name in ("user", "role") and rest:
            path, _, name = rest.rpartition("/")
            kind: PrincipalRefKind = "user" if kind_name == "user" else "role"
            return PrincipalRef.model_construct(
                kind=kind, name=name, path=f"/{path}/" if path else "/", text=text, arn=text, partition=partition, account=account
            )
        return _invalid(text, "is an IAM ARN but not of a user, a role or the account root")
    if arn.service == "sts":
        kind_name, _, rest = arn.resource.partition("/")
        if kind_name == "assumed-role":
            role, sep, session = rest.partition("/")
            if role and sep and session:
                return PrincipalRef.model_construct(
                    kind="assumed_role", name=role, session=session, text=text, arn=text, partition=partition, account=account
                )
        if kind_name == "federated-user" and rest:
            return PrincipalRef.model_construct(
                kind="federated_user", name=rest, text=text, arn=text, partition=partition, account=account
            )
        return _invalid(text, "is an STS ARN but not of an assumed-role session or a federated user")
    return _invalid(text, f"names the service `{arn.service}`; principals are IAM or STS ARNs")


_STAND_IN_ACCOUNT = "000000000000"


def _aws_with_unknowns(text: str) -> PrincipalRef:
    """An ``AWS`` principal holding unknowns (see ``policyengine.model.unknown``).

    One unknown alone is the deploying account (``!Ref AWS::AccountId``) or an unknown principal.
    In an ARN, an unknown partition is the deployment's (read as ``aws``: principals of one
    template share it) and an unknown account field names the deploying account or an unknown
    one; the rest of the ARN is classified as usual, with unknown names kept as written.
    """
    alone = unknown.whole(text)
    if alone is not None:
        if alone.kind == "account":
            own = unknown.OWN_ACCOUNT
            return PrincipalRef.model_construct(kind="account", text=text, arn=f"arn:aws:iam::{own}:root", account=own)
        if alone.kind == "value":
            return PrincipalRef.model_construct(kind="unknown", text=text, arn=text)
        return _invalid(text, f"is a {alone.kind.replace('_', ' ')}, not a principal")
    fields = text.split(":", 5)
    if fields[0] != "arn" or len(fields) != 6:
        return PrincipalRef.model_construct(kind="unknown", text=text, arn=text)
    partition = "aws" if unknown.whole(fields[1]) is not None else fields[1]
    account = unknown.account_of(fields[4])
    if account is None and unknown.contains(fields[4]):
        return _invalid(text, "does not name a 12-digit account")
    stand_in = ":".join([fields[0], partition, fields[2], fields[3], _STAND_IN_ACCOUNT if account else fields[4], fields[5]])
    ref = _classify_known(stand_in)
    if ref.kind == "invalid":
        return _invalid(text, (ref.problem or "").split("` ", 1)[-1])
    if account is None:
        return ref.model_copy(update={"text": text, "arn": ":".join([*fields[:1], partition, *fields[2:]])})
    arn = ":".join([fields[0], partition, fields[2], fields[3], account, fields[5]])
    return ref.model_copy(update={"text": text, "arn": arn, "account": account})


def _service_with_unknowns(text: str) -> PrincipalRef:
    """A ``Service`` principal holding unknowns: checked with them as examples of their kind."""
    shown = unknown.example(text)
    if shown is None:
        return PrincipalRef.model_construct(kind="unknown", text=text, arn=text)
    if _SERVICE.match(shown):
        return PrincipalRef.model_construct(kind="service", text=text, arn=text)
    return PrincipalRef.model_construct(
        kind="invalid", text=text, problem=f"`{unknown.display(text)}` is not a service principal"
    )


def _invalid(text: str, why: str) -> PrincipalRef:
    return PrincipalRef.model_construct(kind="invalid", text=text, problem=f"principal `{text}` {why}")
