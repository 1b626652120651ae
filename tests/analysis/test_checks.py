"""no-public-access and access-not-granted on both outcomes, and corners of the translation.

The corner tests pin behaviours where a careless encoding would differ from the evaluator:
case folding beyond ASCII, type mismatches under negated operators, empty sets under
ForAllValues, the resource segment rule, IP versions, IAM paths and the cross-account rules.
"""

from __future__ import annotations

from typing import Any

import pytest

from policyengine.analysis import access_not_granted, no_new_access, no_public_access
from tests.analysis.conftest import decide, doc, requires_cvc5

pytestmark = requires_cvc5
K, P = "111122223333", "444455556666"
ROOT = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{K}:root"}, "Action": "kms:*", "Resource": "*"}


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def anyone(condition: dict[str, Any] | None = None, action: str = "kms:Decrypt") -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": action, "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    return statement


def confirmed(data: dict[str, Any], result: Any) -> bool:
    """The counterexample of ``result`` is allowed by the evaluator under ``data``."""
    cex = result.counterexample
    request = {"principal": cex.principal, "action": cex.action, "resource": cex.resource, "context": cex.context}
    return decide(doc(data), request, [cex.iam_policy] if cex.iam_policy else []).allowed


PUBLIC = {
    "star": policy(ROOT, anyone()),
    "aws-star": policy(ROOT, {**anyone(), "Principal": {"AWS": "*"}}),
    "via-service-only": policy(ROOT, anyone({"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}})),
    "negated-org": policy(ROOT, anyone({"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123def4"}})),
    "org-if-exists": policy(ROOT, anyone({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123def4"}})),
    "org-wildcard": policy(ROOT, anyone({"StringLike": {"aws:PrincipalOrgID": "*"}})),
    "tag-only": policy(ROOT, anyone({"StringEquals": {"aws:PrincipalTag/team": "payments"}})),
}
PRIVATE = {
    "default": policy(ROOT),
    "named-partner": policy(ROOT, {**anyone(), "Principal": {"AWS": f"arn:aws:iam::{P}:root"}}),
    "org": policy(ROOT, anyone({"StringEquals": {"aws:PrincipalOrgID": "o-abc123def4"}})),
    "caller-account": policy(ROOT, anyone({"StringEquals": {"kms:CallerAccount": K}})),
    "source-vpce": policy(ROOT, anyone({"StringEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}})),
    "org-and-via-service": policy(
        ROOT, anyone({"StringEquals": {"aws:PrincipalOrgID": "o-abc123def4", "kms:ViaService": "s3.us-east-1.amazonaws.com"}})
    ),
    "denied-outside-org": policy(
        ROOT,
        anyone(),
        {
            "Sid": "OrgOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "kms:*",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123def4"}},
        },
    ),
    "service-principal": policy(ROOT, {**anyone(), "Principal": {"Service": "logs.us-east-1.amazonaws.com"}}),
}


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_policies_fail_with_a_stranger(name: str) -> None:
    """A policy anyone (or anyone restricted only by a non-restricting key) can use fails, with a replayed stranger."""
    result = no_public_access(doc(PUBLIC[name]))
    assert result.verdict == "fail", result.to_json()
    account = result.counterexample.principal.split(":")[4]
    assert account not in (K, P) and confirmed(PUBLIC[name], result)


@pytest.mark.parametrize("name", sorted(PRIVATE))
def test_non_public_policies_pass(name: str) -> None:
    """Policies limited to named accounts, the organization, a VPC endpoint or a service pass."""
    assert no_public_access(doc(PRIVATE[name])).verdict == "pass"


def test_access_not_granted_fails_for_the_account_statement() -> None:
    """The default key policy lets the account's IAM policies grant PutKeyPolicy: fail, replayed."""
    data = policy(ROOT)
    result = access_not_granted(doc(data), ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"])
    assert result.verdict == "fail" and confirmed(data, result)
    assert result.counterexample.action in ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion")


def test_access_not_granted_passes_when_only_crypto_is_granted() -> None:
    """A role granted only Decrypt/Encrypt can never be allowed PutKeyPolicy."""
    data = policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{K}:role/App"},
            "Action": ["kms:Decrypt", "kms:Encrypt"],
            "Resource": "*",
        }
    )
    assert access_not_granted(doc(data), ["kms:PutKeyPolicy", "kms:Put*"]).verdict == "pass"


def test_access_not_granted_passes_under_a_blanket_deny() -> None:
    """A Deny of kms:Put* for every principal wins over the account statement."""
    deny = {"Effect": "Deny", "Principal": "*", "Action": "kms:Put*", "Resource": "*"}
    assert access_not_granted(doc(policy(ROOT, deny)), ["kms:PutKeyPolicy"]).verdict == "pass"


def test_access_not_granted_on_identity_policies() -> None:
    """An identity policy on its own: kms:* grants ScheduleKeyDeletion, a Deny takes it back."""
    allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
    denied = {
        "Version": "2012-10-17",
        "Statement": [*allow["Statement"], {"Effect": "Deny", "Action": "kms:Schedule*", "Resource": "*"}],
    }
    assert access_not_granted(doc(allow), ["kms:ScheduleKeyDeletion"], policy_type="identity").verdict == "fail"
    assert access_not_granted(doc(denied), ["kms:ScheduleKeyDeletion"], policy_type="identity").verdict == "pass"


def test_access_not_granted_restricted_to_resources() -> None:
    """A statement on one key says nothing about another key named in --resources."""
    one_key = f"arn:aws:kms:us-east-1:{K}:key/1111"
    data = policy({**ROOT, "Resource": one_key})
    assert access_not_granted(doc(data), ["kms:Decrypt"], [f"arn:aws:kms:us-east-1:{K}:key/2222"]).verdict == "pass"
    assert access_not_granted(doc(data), ["kms:Decrypt"], [one_key]).verdict == "fail"


def test_ignore_case_reaches_beyond_ascii() -> None:
    """StringEqualsIgnoreCase "k" is also met by the Kelvin sign, which lowers to "k"; the check finds it."""
    key = "kms:EncryptionContext:tier"
    data = policy(
        anyone({"StringEqualsIgnoreCase": {key: "k"}}),
        {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {key: ["k", "K"]}}},
    )
    result = access_not_granted(doc(data), ["kms:Decrypt"])
    assert result.verdict == "fail" and confirmed(data, result)
    assert result.counterexample.context[key] == "\u212a"


def test_type_mismatch_defeats_negated_operators() -> None:
    """NumericNotEquals is false for a non-number, so with every number denied only an absent key gets in."""
    data = policy(
        anyone({"NumericNotEquals": {"custom:n": "5"}}),
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "*",
            "Resource": "*",
            "Condition": {"NumericGreaterThan": {"custom:n": "-1e9"}},
        },
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "*",
            "Resource": "*",
            "Condition": {"NumericLessThanEquals": {"custom:n": "-1e9"}},
        },
    )
    result = access_not_granted(doc(data), ["kms:Decrypt"])
    assert result.verdict == "fail" and confirmed(data, result)
    assert "custom:n" not in result.counterexample.context


def test_forallvalues_is_true_for_a_missing_key() -> None:
    """ForAllValues with values nobody sends still lets a request without the key in."""
    data = policy(anyone({"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["never"]}}))
    deny_never = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "*",
        "Resource": "*",
        "Condition": {"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "never"}},
    }
    data["Statement"].append(deny_never)
    result = access_not_granted(doc(data), ["kms:Decrypt"])
    assert result.verdict == "fail" and confirmed(data, result)
    assert not result.counterexample.context.get("kms:encryptioncontextkeys")


def test_trailing_star_in_a_segment_crosses_colons() -> None:
    """Resource "arn:aws:kms:us-*" covers keys of every account in us- regions (the segment rule)."""
    data = policy({**ROOT, "Principal": "*", "Resource": "arn:aws:kms:us-*"})
    result = access_not_granted(doc(data), ["kms:Decrypt"])
    assert result.verdict == "fail" and confirmed(data, result)
    assert result.counterexample.resource.split(":")[3].startswith("us-")
    narrow = policy({**ROOT, "Principal": "*", "Resource": f"arn:aws:kms:*:{K}:key/*"})
    assert access_not_granted(doc(narrow), ["kms:Decrypt"], key_account=P).verdict == "pass"


def test_ipv4_never_matches_an_ipv6_range() -> None:
    """IpAddress on ::/0 admits only IPv6 callers; a Deny of every IPv6 address leaves nothing."""
    data = policy(
        anyone({"IpAddress": {"aws:SourceIp": "::/0"}}),
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "*",
            "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "::/1"}},
        },
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "*",
            "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "8000::/1"}},
        },
    )
    assert access_not_granted(doc(data), ["kms:Decrypt"]).verdict == "pass"


def test_principal_entries_ignore_iam_paths() -> None:
    """Principal user/alice also names user/dev/alice, whose aws:PrincipalArn differs: the check finds it."""
    alice = f"arn:aws:iam::{K}:user/alice"
    data = policy(
        {"Effect": "Allow", "Principal": {"AWS": alice}, "Action": "kms:Decrypt", "Resource": "*"},
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalArn": alice}},
        },
    )
    result = access_not_granted(doc(data), ["kms:Decrypt"])
    assert result.verdict == "fail" and confirmed(data, result)
    assert result.counterexample.principal != alice and result.counterexample.principal.endswith("/alice")


def test_non_cross_account_operations_stay_home() -> None:
    """With the key's account given, another account named for PutKeyPolicy can never use it."""
    data = policy(ROOT, {"Effect": "Allow", "Principal": {"AWS": P}, "Action": "kms:PutKeyPolicy", "Resource": "*"})
    result = access_not_granted(doc(data), ["kms:PutKeyPolicy"], key_account=K)
    assert result.verdict == "fail"  # the key account's own root still can
    assert result.counterexample.principal.split(":")[4] == K


def test_timeout_is_never_a_pass() -> None:
    """With a 1 ms budget on a satisfiable query the answer is fail or fail (unconfirmed), never pass."""
    old = doc(policy(ROOT))
    new = doc(policy(ROOT, anyone({"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*-admin-?"}})))
    result = no_new_access(old, new, timeout_ms=1)
    assert result.verdict in ("fail", "unconfirmed")
