"""The facts module against AWS's own service model (botocore's KMS model, as the AWS SDKs ship it)."""

from __future__ import annotations

import botocore.session

from policyengine.aws_facts import API_OPERATIONS, CRYPTOGRAPHIC_API_OPERATIONS, GRANT_OPERATIONS, kms_group

_MODEL = botocore.session.get_session().get_service_model("kms")


def test_cryptographic_operations_are_the_usage_tracked_ones() -> None:
    """GetKeyLastUsage tracks exactly the cryptographic API operations (KeyLastUsageTrackingOperation)."""
    assert set(_MODEL.shape_for("KeyLastUsageTrackingOperation").enum) == CRYPTOGRAPHIC_API_OPERATIONS


def test_grant_operations_are_the_create_grant_enum() -> None:
    """A grant may allow exactly the operations of CreateGrant's GrantOperation enum (Encapsulate and Decapsulate included)."""
    assert set(_MODEL.shape_for("GrantOperation").enum) == GRANT_OPERATIONS


def test_every_api_operation_is_in_the_model() -> None:
    assert set(API_OPERATIONS) <= set(_MODEL.operation_names)


def test_kms_groups() -> None:
    assert (kms_group("Decrypt"), kms_group("createGRANT"), kms_group("PutKeyPolicy"), kms_group("DescribeKey")) == (
        "crypto",
        "grant",
        "administer",
        "read",
    )


def test_request_building_derives_only_the_listed_keys() -> None:
    """Every context key make_request fills in is one of aws_facts.DERIVED_KEYS, and every listed key is derived
    for some caller (so the list and the request builder cannot drift apart)."""
    import policyengine as pe
    from policyengine.aws_facts import DERIVED_KEY_NAMES

    key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    callers = [
        "arn:aws:iam::111122223333:user/Alice",
        "arn:aws:sts::111122223333:assumed-role/App/s1",
        "arn:aws:iam::111122223333:role/App",
        "arn:aws:iam::111122223333:root",
        "arn:aws:sts::111122223333:federated-user/Bob",
        "rds.us-east-1.amazonaws.com",
        "anonymous",
    ]
    seen: set[str] = set()
    for caller in callers:
        for action in ("kms:Decrypt", "kms:PutKeyPolicy", "s3:GetObject"):
            derived = set(pe.make_request(caller, action, key).context)
            assert derived <= DERIVED_KEY_NAMES, (caller, action, derived - DERIVED_KEY_NAMES)
            seen |= derived
    assert seen == DERIVED_KEY_NAMES
