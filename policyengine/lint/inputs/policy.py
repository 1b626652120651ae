"""Policy documents on their own, and ``aws kms get-key-policy`` output.

Recognised by content: a JSON object with a ``Statement`` member is a policy document (even a
broken one: the reader reports what is wrong with it); an object whose members are ``Policy``
(a JSON string) and optionally ``PolicyName`` is the CLI's wrapper around a policy, read with
positions mapped back into the file. Either is one target.

A standalone document does not say what kind of policy it is, so unless ``--policy-type``
says, the type is inferred from the statements: a principal, ``Resource: "*"`` everywhere and
KMS actions make a key policy; a principal with only ``sts:`` actions and no resources makes a
role trust policy; any other principal a resource policy; no principal an identity policy.
The wrapper with a ``PolicyName`` comes from KMS (``get-key-policy``), so it is a key policy;
without one (``aws s3api get-bucket-policy`` writes the same shape) the type is inferred.
"""

from __future__ import annotations

import re

from policyengine.lint.finding import LintTarget, PolicyType
from policyengine.lint.inputs._targets import FileContext, items, members, parse_string_policy, text_of
from policyengine.parsing.json_tree import JNode

_WRAPPER_KEYS = {"Policy", "PolicyName"}


def is_wrapper(root: JNode) -> bool:
    """``{"Policy": ..., "PolicyName": ...}``: the output of ``get-key-policy``."""
    keys = set(members(root))
    return "Policy" in keys and keys <= _WRAPPER_KEYS


def detect(root: JNode) -> bool:
    """A policy document (any object with ``Statement``) or the ``get-key-policy`` wrapper."""
    return root.kind == "object" and ("Statement" in members(root) or is_wrapper(root))


def extract(ctx: FileContext, root: JNode) -> list[LintTarget]:
    """The one target of a policy file or wrapper."""
    if not is_wrapper(root):
        size = len(ctx.text) if ctx.syntax == "json" else None
        return [ctx.target(ctx.policy_type or infer_policy_type(root), root, owner=None, size=size)]
    found = members(root)
    policy = found["Policy"]
    from_kms = "PolicyName" in found
    if policy.kind == "object":
        return [ctx.target(ctx.policy_type or ("key" if from_kms else infer_policy_type(policy)), policy, owner=None)]
    if policy.kind != "string":
        ctx.error("`Policy` must be the policy as a JSON string", policy)
        return []
    inner, issues, size = parse_string_policy(ctx, policy)
    fallback: PolicyType = "key" if from_kms else guess_type_from_text(policy.value)
    if inner is None:
        return [ctx.target(ctx.policy_type or fallback, owner=None, issues=issues)]
    policy_type = ctx.policy_type or ("key" if from_kms else infer_policy_type(inner))
    return [ctx.target(policy_type, inner, owner=None, size=size)]


def _statements(root: JNode) -> list[dict[str, JNode]]:
    statement = members(root).get("Statement")
    if statement is None:
        return []
    nodes = [statement] if statement.kind == "object" else items(statement)
    return [members(node) for node in nodes if node.kind == "object"]


def _strings(node: JNode | None) -> list[str]:
    if node is None:
        return []
    values = [node] if node.kind != "array" else items(node)
    return [value for value in (text_of(v) for v in values) if value is not None]


def infer_policy_type(root: JNode) -> PolicyType:
    """What kind of policy a document looks like (see the module docstring)."""
    statements = _statements(root)
    if not any("Principal" in s or "NotPrincipal" in s for s in statements):
        return "identity"
    actions = [a.lower() for s in statements for a in _strings(s.get("Action")) + _strings(s.get("NotAction"))]
    has_resources = any("Resource" in s or "NotResource" in s for s in statements)
    if actions and not has_resources and all(a.startswith("sts:") for a in actions):
        return "trust"
    only_star = all("NotResource" not in s and all(r == "*" for r in _strings(s.get("Resource"))) for s in statements)
    if only_star and any(a.startswith("kms:") for a in actions):
        return "key"
    return "resource"


_PRINCIPAL = re.compile(r'"(?:Not)?Principal"')


def guess_type_from_text(text: str) -> PolicyType:
    """The type of a policy that is not even JSON, from its words: key, resource or identity."""
    if not _PRINCIPAL.search(text):
        return "identity"
    return "key" if '"kms:' in text.lower() else "resource"
