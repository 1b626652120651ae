"""Policy documents on their own, and ``aws kms get-key-policy`` output.

Recognised by content: a JSON object with a ``Statement`` member is a policy document (even a
broken one: the reader reports what is wrong with it); an object whose members are ``Policy``
(a JSON string) and optionally ``PolicyName`` is the CLI's wrapper around a policy, read with
positions mapped back into the file. Either is one target.

A standalone document does not say what kind of policy it is, so unless ``--policy-type``
(or a ``policy-type`` glob of the configuration) says, the type is inferred from its shape:

* no principal anywhere: an identity policy;
* ``Principal: "*"`` in every statement and only ``Deny`` statements that cover all resources
  or several services: a resource control policy (RCPs are Deny-only and must name ``*``);
* ``Principal: "*"`` in every statement, some ``Allow``, and ``Action: "*"`` or actions of
  several services: a VPC endpoint policy (a resource policy acts on one service's resources);
* a principal with only ``sts:`` actions and no resources: a role trust policy;
* a principal, ``Resource: "*"`` everywhere and KMS actions: a key policy;
* any other principal: a resource policy.

The file's path (its name and the two folders above it) can settle what the shape leaves open,
as repositories name their folders: ``service_control_policies/``, ``SCPs/`` and ``scp-*.json``
hold SCPs, ``resource-control-policies/`` RCPs, ``vpc-endpoint-policies/`` endpoint policies,
``boundary`` in a name permissions boundaries; a path hint is taken only where the shape allows
it (an SCP or boundary has no principal, an RCP names ``*``, an endpoint policy names principals).

A document whose values hold CloudFormation intrinsics (``{"Fn::Sub": ...}``, ``{"Ref": ...}``) is a
fragment a template includes: they are evaluated as in a template with no parameters of its own
(``policyengine.lint.inputs.intrinsics``), so the deploying account's root is that account.

Such a fragment, and a key policy file whose only principals are services (or ``*``), are
statements merged into a policy elsewhere (``LintTarget.fragment``): rules about the whole
document (Version, the account statement, lockout) do not judge them unless ``--policy-type``
says the file is a whole policy. Every statement is still checked.

The wrapper with a ``PolicyName`` comes from KMS (``get-key-policy``), so it is a key policy;
without one (``aws s3api get-bucket-policy`` writes the same shape) the type is inferred. A key
policy whose ``Id`` is ``auto-...`` is the policy of an AWS managed key (``auto-ebs-2``): AWS
wrote it and customers cannot change it (``authored_by_aws``).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from policyengine.lint.finding import LintTarget, PolicyType
from policyengine.lint.inputs._targets import FileContext, members, parse_string_policy
from policyengine.lint.inputs.intrinsics import TemplateResolver, holds_intrinsic
from policyengine.parsing.document import is_wrapper_keys
from policyengine.parsing.json_tree import JNode, PairList, from_python, load_plain


def is_wrapper(root: JNode) -> bool:
    """``{"Policy": ..., "PolicyName": ...}``: the output of ``get-key-policy``."""
    return is_wrapper_keys(set(members(root)))


def detect(root: JNode) -> bool:
    """A policy document (any object with ``Statement``) or the ``get-key-policy`` wrapper."""
    return root.kind == "object" and ("Statement" in members(root) or is_wrapper(root))


def plain_document(text: str) -> Any:
    """The decoded value of a file that is a policy document on its own, else None (the linter's hot path).

    Such a file is read with the C decoder (``load_plain``: no positions, no Python object per value),
    and its spans are found on demand for the values a finding points at (``json_locate``). Everything
    else is read with every position, as before: text that is not JSON (its syntax error is the
    grammar's), the ``get-key-policy`` wrapper (its positions are mapped through a string), values
    computed from CloudFormation intrinsics (they keep the function's span), and the other formats.
    """
    if '"Statement"' not in text:  # not a policy document, or one that spells the key with escapes
        return None
    try:
        root = load_plain(text)
    except (ValueError, RecursionError):
        return None
    if type(root) is not PairList:
        return None
    keys = {key for key, _ in root}
    if "Statement" not in keys or is_wrapper_keys(keys):
        return None
    if _maybe_intrinsic(text) and holds_intrinsic(from_python(root)):
        return None
    return root


def _maybe_intrinsic(text: str) -> bool:
    """Whether the text may hold an intrinsic: `{"Ref": ...}`, `{"Fn::...": ...}`, `{"Condition": "name"}`, or a key
    spelt with escapes. Substring tests first (each a fast scan in C); the pattern only where a Condition is written.
    """
    if '"Ref"' in text or '"Fn::' in text or "\\u" in text:
        return True
    return '"Condition"' in text and _CONDITION_NAME.search(text) is not None


_CONDITION_NAME = re.compile(r'"Condition"\s*:\s*"')  # a literal first: the search skips to each `"Condition"`


def extract_plain(ctx: FileContext, root: Any) -> list[LintTarget]:
    """The one target of a policy file read on the hot path (``plain_document``; ``ctx.locator`` finds its spans)."""
    return [_document_target(ctx, root, root, len(ctx.text), from_template=False)]


def extract(ctx: FileContext, root: JNode) -> list[LintTarget]:
    """The one target of a policy file or wrapper."""
    if not is_wrapper(root):
        size = len(ctx.text) if ctx.syntax == "json" else None
        from_template = holds_intrinsic(root)
        if from_template:
            # Statements a template includes (``{"Fn::Sub": ...}``, ``{"Ref": ...}`` as values): the
            # intrinsics are values of a template we do not have, so its parameters are unknowns.
            root = TemplateResolver(JNode("object", [], None), ctx.bindings).resolve(root) or root
            size = None
        return [_document_target(ctx, root, root.to_plain(), size, from_template=from_template)]
    found = members(root)
    policy = found["Policy"]
    from_kms = "PolicyName" in found
    if policy.kind == "object":
        plain = policy.to_plain()
        policy_type = ctx.policy_type or ("key" if from_kms else infer_policy_type(plain, ctx.source))
        return [_aws_managed(ctx.target(policy_type, policy, owner=None), plain)]
    if policy.kind != "string":
        ctx.error("`Policy` must be the policy as a JSON string", policy)
        return []
    inner, issues, size = parse_string_policy(ctx, policy)
    fallback: PolicyType = "key" if from_kms else guess_type_from_text(policy.value)
    if inner is None:
        return [ctx.target(ctx.policy_type or fallback, owner=None, issues=issues)]
    plain = inner.to_plain()
    policy_type = ctx.policy_type or ("key" if from_kms else infer_policy_type(plain, ctx.source))
    return [_aws_managed(ctx.target(policy_type, inner, owner=None, size=size), plain)]


def _document_target(ctx: FileContext, root: JNode | Any, plain: Any, size: int | None, *, from_template: bool) -> LintTarget:
    """The target of a policy document on its own: ``root`` as read, ``plain`` its decoded value (for its type)."""
    policy_type = ctx.policy_type or infer_policy_type(plain, ctx.source)
    target = _aws_managed(ctx.target(policy_type, root, owner=None, size=size), plain)
    if ctx.policy_type is None and (from_template or (policy_type == "key" and _services_only(plain))):
        target = dataclasses.replace(target, fragment=True)
    return target


def _aws_managed(target: LintTarget, root: Any) -> LintTarget:
    """Mark the policy of an AWS managed key (``"Id": "auto-..."``, KMS DG "AWS managed keys"); ``root`` decoded."""
    identifier = _fields(root).get("Id")
    if target.policy_type == "key" and type(identifier) is str and _AWS_MANAGED_KEY.match(identifier):
        return dataclasses.replace(target, authored_by_aws=True)
    return target


_AWS_MANAGED_KEY = re.compile(r"^auto-[a-z0-9-]+$")

# The type inference below reads decoded values (``load_plain``'s form; a tree with positions gives its
# own with ``JNode.to_plain``): it looks at many values of every statement, and needs no position.


def _fields(value: Any) -> dict[str, Any]:
    """An object's members by name (the last duplicate wins, as AWS reads JSON); {} for anything else."""
    return dict(value) if type(value) is PairList else {}


def _services_only(root: Any) -> bool:
    """Every principal is a service or ``*``: statements to merge into a key policy, not a whole one.

    A whole key policy names someone who can manage the key (KMS refuses one that does not, unless
    its lockout check is bypassed), so a file that only lets services in is one installers and
    template macros append to their own policy.
    """
    statements = _statements(root)
    if not statements:
        return False
    for statement in statements:
        principal = statement.get("Principal")
        if principal is None or _wildcard_principal(statement):
            continue
        if set(_fields(principal)) != {"Service"}:
            return False
    return any("Principal" in s for s in statements)


def _statements(root: Any) -> list[dict[str, Any]]:
    statement = _fields(root).get("Statement")
    if statement is None:
        return []
    values = [statement] if type(statement) is PairList else statement if type(statement) is list else []
    return [_fields(value) for value in values if type(value) is PairList]


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    values = value if type(value) is list else [value]
    return [item for item in values if type(item) is str]


def infer_policy_type(root: Any, source: str | None = None) -> PolicyType:
    """What kind of policy a decoded document looks like, helped by its path (see the module docstring)."""
    statements = _statements(root)
    shape = _shape_type(statements)
    hint = path_hint(source) if source else None
    if hint in ("scp", "boundary") and shape == "identity":
        return hint
    if hint == "rcp" and statements and all(_wildcard_principal(s) for s in statements):
        return "rcp"
    if hint == "endpoint" and statements and all("Principal" in s for s in statements):
        return "endpoint"
    return shape


def _shape_type(statements: list[dict[str, Any]]) -> PolicyType:
    if not any("Principal" in s or "NotPrincipal" in s for s in statements):
        return "identity"
    actions = [a.lower() for s in statements for a in _strings(s.get("Action")) + _strings(s.get("NotAction"))]
    services = {a.partition(":")[0] for a in actions if ":" in a}
    everywhere = all(_wildcard_principal(s) for s in statements)
    all_resources = all(_strings(s.get("Resource")) == ["*"] for s in statements)
    effects = {effect if type(effect := s.get("Effect")) is str else None for s in statements}
    if everywhere and effects == {"Deny"} and (all_resources or len(services) > 1):
        return "rcp"
    if everywhere and "Allow" in effects and ("*" in actions or len(services) > 1):
        return "endpoint"
    has_resources = any("Resource" in s or "NotResource" in s for s in statements)
    if actions and not has_resources and all(a.startswith("sts:") for a in actions):
        return "trust"
    only_star = all("NotResource" not in s and all(r == "*" for r in _strings(s.get("Resource"))) for s in statements)
    if only_star and any(a.startswith("kms:") for a in actions):
        return "key"
    return "resource"


def _wildcard_principal(statement: dict[str, Any]) -> bool:
    """``"Principal": "*"`` or ``{"AWS": "*"}`` (and nothing else)."""
    principal = statement.get("Principal")
    if principal is None:
        return False
    if type(principal) is str and principal == "*":
        return True
    found = _fields(principal)
    return set(found) == {"AWS"} and _strings(found["AWS"]) == ["*"]


_HINTS: tuple[tuple[re.Pattern[str], PolicyType], ...] = (
    (re.compile(r"(^|[^a-z])(scps?|service[^a-z]?control[^a-z]?polic(y|ies))([^a-z]|$)"), "scp"),
    (re.compile(r"(^|[^a-z])(rcps?|resource[^a-z]?control[^a-z]?polic(y|ies))([^a-z]|$)"), "rcp"),
    (re.compile(r"(^|[^a-z])(vpc[^a-z]?)?endpoint[^a-z]?polic(y|ies)([^a-z]|$)"), "endpoint"),
    (re.compile(r"(^|[^a-z])(permissions?[^a-z]?)?boundar(y|ies)([^a-z]|$)"), "boundary"),
)


def path_hint(source: str) -> PolicyType | None:
    """The policy type a file's path names (``service_control_policies/deny.json`` -> scp), if any.

    Only the file name and the two folders above it count: where the repository keeps the file,
    not where someone checked the repository out.
    """
    lowered = "/".join(source.replace("\\", "/").lower().split("/")[-3:])
    for pattern, policy_type in _HINTS:
        if pattern.search(lowered):
            return policy_type
    return None


_PRINCIPAL = re.compile(r'"(?:Not)?Principal"')


def guess_type_from_text(text: str) -> PolicyType:
    """The type of a policy that is not even JSON, from its words: key, resource or identity."""
    if not _PRINCIPAL.search(text):
        return "identity"
    return "key" if '"kms:' in text.lower() else "resource"
