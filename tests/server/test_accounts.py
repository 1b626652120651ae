"""Accounts from identities, regions from the credential scope, and denials in AWS's words."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.server.conftest import ACCOUNT, OTHER_ACCOUNT, TEST_ACCOUNT, Server


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_keys_are_kept_per_account(server: Server, admin: Any, key_arn: str) -> None:
    """An identity in another account sees none of this account's keys and makes ARNs of its own."""
    carol = server.client("AKIACAROL000EXAMPLE")
    assert carol.list_keys()["Keys"] == []
    carol_key = carol.create_key()["KeyMetadata"]["Arn"]
    assert carol_key.startswith(f"arn:aws:kms:us-east-1:{OTHER_ACCOUNT}:key/")
    assert [k["KeyArn"] for k in admin.list_keys()["Keys"]] == [key_arn]
    with pytest.raises(ClientError) as error:
        carol.describe_key(KeyId=key_arn.split("/")[-1])
    assert _code(error) == "NotFoundException"


def test_keys_are_kept_per_region(server: Server, admin: Any, key_arn: str) -> None:
    """A key made in us-east-1 is not visible from eu-west-1, whose ARNs name eu-west-1."""
    europe = server.client("AKIAADMIN0000EXAMPLE", region="eu-west-1")
    assert europe.list_keys()["Keys"] == []
    with pytest.raises(ClientError) as error:
        europe.describe_key(KeyId=key_arn.split("/")[-1])
    assert _code(error) == "NotFoundException"
    assert europe.create_key()["KeyMetadata"]["Arn"].startswith(f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/")


def test_denied_call_has_aws_message_shape(server: Server, admin: Any, key_arn: str) -> None:
    """Bob may encrypt but not decrypt: AccessDeniedException names user, action, resource and reason."""
    bob = server.client("AKIABOB00000EXAMPLE")
    blob = bob.encrypt(KeyId=key_arn, Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(ClientError) as error:
        bob.decrypt(CiphertextBlob=blob)
    assert _code(error) == "AccessDeniedException"
    message = error.value.response["Error"]["Message"]
    pattern = (
        rf"^User: arn:aws:iam::{ACCOUNT}:user/bob is not authorized to perform: kms:Decrypt on resource: "
        rf"{re.escape(key_arn)} because no identity-based policy allows the kms:Decrypt action$"
    )
    assert re.match(pattern, message), message
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_explicit_deny_in_key_policy(server: Server, admin: Any) -> None:
    """A Deny statement in the key policy wins over the identity policy, and the message says so."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Root",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "NoRandomForAdmin",
                "Effect": "Deny",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/admin"},
                "Action": "kms:Decrypt",
                "Resource": "*",
            },
        ],
    }
    key = admin.create_key(Policy=json.dumps(policy), BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]["Arn"]
    blob = admin.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(ClientError) as error:
        admin.decrypt(CiphertextBlob=blob)
    assert _code(error) == "AccessDeniedException"
    assert error.value.response["Error"]["Message"].endswith("with an explicit deny in a resource-based policy")


def test_cross_account_use_needs_both_sides(server: Server, admin: Any) -> None:
    """Carol (another account) can encrypt only once the key policy trusts her account."""
    carol = server.client("AKIACAROL000EXAMPLE")
    key = admin.create_key()["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as error:
        carol.encrypt(KeyId=key, Plaintext=b"x")
    assert _code(error) == "AccessDeniedException"
    policy = json.loads(admin.get_key_policy(KeyId=key)["Policy"])
    policy["Statement"].append(
        {
            "Sid": "Partner",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
            "Action": ["kms:Encrypt", "kms:Decrypt"],
            "Resource": "*",
        }
    )
    admin.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(policy))
    blob = carol.encrypt(KeyId=key, Plaintext=b"shared")["CiphertextBlob"]
    assert admin.decrypt(CiphertextBlob=blob)["Plaintext"] == b"shared"


def test_principal_tags_reach_conditions(server: Server, admin: Any) -> None:
    """Tags from the identities file are aws:PrincipalTag values the key policy can test."""
    carol = server.client("AKIACAROL000EXAMPLE")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Root",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "NotPayments",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "kms:Encrypt",
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": "billing"}},
            },
        ],
    }
    key = carol.create_key(Policy=json.dumps(policy), BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]["Arn"]
    with pytest.raises(ClientError) as error:
        carol.encrypt(KeyId=key, Plaintext=b"x")
    assert _code(error) == "AccessDeniedException"


def test_session_credentials_act_as_the_assumed_role(server: Server, admin: Any, key_arn: str) -> None:
    """An identity with a session token signs as its assumed-role session."""
    session = server.client("ASIASESSION0EXAMPLE")
    assert session.encrypt(KeyId=key_arn, Plaintext=b"x")["KeyId"] == key_arn
    bad = server.client("ASIASESSION0EXAMPLE", token="another-token")
    with pytest.raises(ClientError) as error:
        bad.list_keys()
    assert _code(error) == "UnrecognizedClientException"


def test_test_mode_accepts_unknown_credentials_as_the_default_root(server: Server) -> None:
    """In test mode, credentials no identity claims act as the root of 123456789012, whatever the secret."""
    anyone = server.client("AKIAANYTHING", secret="whatever")
    arn = anyone.create_key()["KeyMetadata"]["Arn"]
    assert arn.startswith(f"arn:aws:kms:us-east-1:{TEST_ACCOUNT}:key/")
