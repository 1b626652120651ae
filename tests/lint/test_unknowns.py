"""Unknown values (``policyengine.model.unknown``) and how principals holding them are classified."""

from __future__ import annotations

from policyengine.errors import RequestError
from policyengine.model import unknown
from policyengine.parsing.request import classify_caller
from policyengine.parsing.strings import classify_principal

ACCOUNT = unknown.marker("account", "${AWS::AccountId}")
PARTITION = unknown.marker("partition", "${AWS::Partition}")
REGION = unknown.marker("region", "${AWS::Region}")
IMPORTED = unknown.marker("value", "!ImportValue AdminRole")


def test_markers_round_trip_and_display() -> None:
    text = f"arn:{PARTITION}:iam::{ACCOUNT}:root"
    assert unknown.contains(text) and not unknown.contains("arn:aws:iam::111122223333:root")
    assert unknown.display(text) == "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
    assert [u.kind for u in unknown.unknowns(text)] == ["partition", "account"]
    assert unknown.whole(ACCOUNT) == unknown.Unknown("account", "${AWS::AccountId}")
    assert unknown.whole(text) is None
    # ARN splitting never sees a colon inside a marker, wildcard matching never sees * or ?
    assert len(text.split(":")) == 6 and "*" not in text and "?" not in text


def test_example_pattern_and_strip() -> None:
    via = f"ec2.{REGION}.amazonaws.com"
    assert unknown.example(via) == "ec2.us-east-1.amazonaws.com"
    assert unknown.example(f"{IMPORTED}.{REGION}.amazonaws.com") is None  # a value kind has no example
    assert unknown.as_pattern(f"arn:aws:s3:::{IMPORTED}/*") == "arn:aws:s3:::*/*"
    assert unknown.strip(f"Key{IMPORTED}Admins") == "KeyAdmins"
    assert unknown.stand_in(f"arn:aws:iam::{ACCOUNT}:root") == "arn:aws:iam::111122223333:root"


def test_own_account_root_in_any_spelling_is_the_same_account() -> None:
    """``!Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:root`` and ``!Ref AWS::AccountId`` name one account."""
    root = classify_principal("AWS", f"arn:{PARTITION}:iam::{ACCOUNT}:root")
    bare = classify_principal("AWS", unknown.marker("account", "AWS::AccountId"))
    terraform = classify_principal(
        "AWS", f"arn:aws:iam::{unknown.marker('account', 'data.aws_caller_identity.current.account_id')}:root"
    )
    assert root.kind == bare.kind == terraform.kind == "account"
    assert root.account == bare.account == terraform.account == unknown.OWN_ACCOUNT
    assert root.partition == "aws"


def test_role_of_the_deploying_account_with_unknown_name() -> None:
    name = unknown.marker("value", "${AppRole}")
    ref = classify_principal("AWS", f"arn:{PARTITION}:iam::{ACCOUNT}:role/service/{name}")
    assert (ref.kind, ref.account, ref.name, ref.path) == ("role", unknown.OWN_ACCOUNT, name, "/service/")


def test_unknown_principal_and_unknown_account() -> None:
    """An imported value is an unknown principal (never public); an unknown account field is not the deploying one."""
    assert classify_principal("AWS", IMPORTED).kind == "unknown"
    other = classify_principal("AWS", f"arn:aws:iam::{unknown.marker('value', '${Partner}')}:root")
    assert other.kind == "account" and other.account not in (None, unknown.OWN_ACCOUNT)
    assert classify_principal("AWS", REGION).kind == "invalid"
    assert classify_principal("AWS", f"arn:aws:iam::{ACCOUNT}:bucket/x").kind == "invalid"


def test_service_principal_with_url_suffix() -> None:
    suffix = unknown.marker("url_suffix", "${AWS::URLSuffix}")
    assert classify_principal("Service", f"logs.{REGION}.{suffix}").kind == "service"
    assert classify_principal("Service", f"logs {suffix}").kind == "invalid"
    assert classify_principal("Service", IMPORTED).kind == "unknown"


def test_an_unknown_is_never_a_caller() -> None:
    try:
        classify_caller(IMPORTED)
    except RequestError:
        return
    raise AssertionError("an unknown principal must not be usable as a request's caller")
