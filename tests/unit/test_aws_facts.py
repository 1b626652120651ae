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
