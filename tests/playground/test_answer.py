"""One keystroke's answer: spans into the editors, the why-tree, residuals, lint marks, verified suggestions."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policyengine.playground.answer import answer, decide
from policyengine.playground.examples import example_names, load_example
from policyengine.playground.suggest import Change, apply_change
from policyengine.playground.workspace import Workspace

KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROOT = {
    "Sid": "Root",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
    "Action": "kms:*",
    "Resource": "*",
}
VIA_S3 = {
    "Sid": "ViaS3",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111122223333:role/AppRole"},
    "Action": "kms:Decrypt",
    "Resource": "*",
    "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
}
DENY_NO_TLS = {
    "Sid": "NoPlainHttp",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "kms:*",
    "Resource": "*",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
REQUEST = {"principal": "arn:aws:sts::111122223333:assumed-role/AppRole/s", "action": "kms:Decrypt", "resource": KEY}


def ws(statements: list[dict[str, object]], **request: object) -> Workspace:
    text = json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)
    return Workspace.from_json({"policies": {"key_policy": text}, "request": {**REQUEST, **request}})


def test_deciding_statement_span_is_the_statement_in_the_editor_text() -> None:
    """The span the page highlights is exactly the deciding statement's text in the key-policy editor."""
    workspace = ws([ROOT, VIA_S3], context='{"kms:ViaService": "s3.us-east-1.amazonaws.com"}')
    result = answer(workspace)
    assert result["decision"]["headline"] == "ALLOW"
    (ref,) = [d for d in result["decision"]["deciding"] if d["label"] == "ViaS3"]
    assert ref["editor"] == "key_policy"
    assert json.loads(workspace.key_policy[ref["offset"] : ref["end_offset"]]) == VIA_S3


def test_explicit_deny_is_highlighted_as_deny_and_the_tree_shows_the_condition() -> None:
    result = answer(ws([ROOT, DENY_NO_TLS], context='{"aws:SecureTransport": "false"}'))
    decision = result["decision"]
    assert decision["decision"] == "explicit_deny"
    assert [(d["label"], d["effect"]) for d in decision["deciding"]] == [("NoPlainHttp", "Deny")]
    (group,) = result["trace"]
    deny = next(s for s in group["statements"] if s["label"] == "NoPlainHttp")
    (condition,) = deny["conditions"]
    assert (condition["key"].lower(), condition["request_values"], condition["matched"]) == (
        "aws:securetransport",
        ["false"],
        True,
    )
    assert [e["element"] for e in deny["elements"]] == ["Principal", "Action", "Resource"]


def test_unknown_keys_give_allow_only_if() -> None:
    """Leaving kms:ViaService unknown answers `allow only if kms:ViaService = ...` (the `can` answer)."""
    result = answer(ws([ROOT, VIA_S3], unknown=["kms:ViaService"]))
    residual = result["residual"]
    assert residual["status"] == "conditional"
    assert "kms:ViaService" in residual["text"] and "s3.us-east-1.amazonaws.com" in residual["text"]


@settings(max_examples=40, deadline=None)
@given(
    via=st.sampled_from(["s3.us-east-1.amazonaws.com", "ec2.us-east-1.amazonaws.com", None]),
    tls=st.sampled_from(["true", "false", None]),
)
def test_residual_agrees_with_concrete_decisions(via: str | None, tls: str | None) -> None:
    """With every key left unknown, the residual is true exactly when the concrete request is allowed."""
    open_answer = answer(ws([ROOT, VIA_S3, DENY_NO_TLS], unknown=["*"]))["residual"]
    context = {k: v for k, v in (("kms:ViaService", via), ("aws:SecureTransport", tls)) if v is not None}
    concrete = decide(ws([ROOT, VIA_S3, DENY_NO_TLS], context=json.dumps(context)))
    assert concrete is not None

    def holds(node: object) -> bool:
        if isinstance(node, bool):
            return node
        assert isinstance(node, dict)
        if "and" in node:
            return all(holds(n) for n in node["and"])
        if "or" in node:
            return any(holds(n) for n in node["or"])
        if "not" in node:
            return not holds(node["not"])
        return _atom(node, context)

    assert holds(open_answer["json"]) == concrete.allowed


def _atom(atom: dict[str, object], context: dict[str, str]) -> bool:
    key = str(atom["key"]).lower()
    values = {k.lower(): v for k, v in context.items()}
    operator = str(atom["operator"])
    wanted = [str(v) for v in atom["values"]]  # type: ignore[attr-defined]
    if key not in values:
        return operator.endswith("IfExists")
    got = values[key]
    if operator.startswith("Bool"):
        return got.lower() in [w.lower() for w in wanted]
    return got in wanted


def test_lint_findings_are_marked_in_their_editor() -> None:
    """A kms:* grant to a role is a lint finding on the key-policy editor, at the statement's line."""
    star = {
        "Sid": "Star",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:role/AppRole"},
        "Action": "kms:*",
        "Resource": "*",
    }
    workspace = ws([ROOT, star])
    findings = [f for f in answer(workspace)["findings"] if f["rule"] == "PE502"]
    assert findings and findings[0]["editor"] == "key_policy"
    assert workspace.key_policy.splitlines()[findings[0]["line"] - 1].strip().startswith(("{", '"'))


@pytest.mark.parametrize("name", example_names())
def test_every_suggestion_turns_the_deny_into_an_allow(name: str) -> None:
    """Suggestions are verified: applying one (as the page's Apply button does) gives an allow."""
    workspace = load_example(name)
    result = answer(workspace)
    for suggestion in result["suggestions"]:
        if not suggestion["changes"]:
            assert "no policy change can allow" in suggestion["title"]
            continue
        changed = workspace
        for change in suggestion["changes"]:
            changed = apply_change(changed, Change(**change))
        after = decide(changed)
        assert after is not None and after.allowed, (name, suggestion["title"])


def test_several_layers_are_fixed_in_order() -> None:
    """No key-policy trust, no IAM policy, and a boundary that caps: three verified steps in one suggestion."""
    data = {
        "policies": {
            "key_policy": json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::111122223333:role/Admin"},
                            "Action": "kms:*",
                            "Resource": "*",
                        }
                    ]
                }
            ),
            "identity_policies": [{"principal": "arn:aws:iam::111122223333:role/AppRole", "policy": ""}],
            "permissions_boundary": json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
        },
        "request": REQUEST,
    }
    workspace = Workspace.from_json(data)
    (suggestion,) = [s for s in answer(workspace)["suggestions"] if s["changes"]]
    assert [c["editor"] for c in suggestion["changes"]] == ["key_policy", "permissions_boundary"]
    changed = workspace
    for change in suggestion["changes"]:
        changed = apply_change(changed, Change(**change))
    decision = decide(changed)
    assert decision is not None and decision.allowed


def test_a_32kb_policy_and_an_unknown_action_still_answer() -> None:
    """Big input and odd requests get an answer or a message, never an empty result."""
    statements = [ROOT] + [
        {
            "Sid": f"S{i}",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::111122223333:role/R{i}"},
            "Action": ["kms:Encrypt", "kms:Decrypt"],
            "Resource": "*",
        }
        for i in range(170)
    ]
    workspace = ws(statements)
    assert len(workspace.key_policy) > 32_000
    result = answer(workspace)
    assert result["decision"] is not None
    # A misspelt action is refused with the closest real names, as `simulate` and `can` refuse it,
    # rather than answered with a silent implicit deny a "must be denied" check would accept.
    misspelt = answer(ws(statements, action="kms:Decypt"))
    assert misspelt["decision"] is None
    [issue] = [i for i in misspelt["issues"] if i["editor"] == "request.action"]
    assert "`kms:Decypt` is not an action of kms" in issue["message"]
    assert "`kms:Decrypt`" in issue["message"]
    # Wildcards and services the catalog does not know are not names to check.
    assert answer(ws(statements, action="kms:Decrypt*"))["decision"] is not None
