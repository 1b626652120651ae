"""Key policies KMS writes itself: the default key policy and the AWS managed key policy.

Both are built as JSON text and read by the parser, so they are ordinary ``PolicyDocument``s
with nothing special about them at evaluation time (KMS DG, "Default key policy"; "AWS managed
keys" key policy shape).
"""

from __future__ import annotations

import json
from typing import Any

from policyengine.model.policy import PolicyDocument
from policyengine.parsing.document import parse_policy


def default_key_policy_json(account: str, partition: str = "aws") -> dict[str, Any]:
    """The policy CreateKey attaches when no ``Policy`` is given: the account may use IAM."""
    return {
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


def aws_managed_key_policy_json(account: str, service: str, region: str, partition: str = "aws") -> dict[str, Any]:
    """The policy of ``alias/aws/<service>``: use only through that service, only by this account."""
    return {
        "Version": "2012-10-17",
        "Id": f"auto-{service}-1",
        "Statement": [
            {
                "Sid": f"Allow access through {service} for all principals in the account that are authorized to use it",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:CreateGrant",
                    "kms:DescribeKey",
                ],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": account,
                        "kms:ViaService": f"{service}.{region}.amazonaws.com",
                    }
                },
            },
            {
                "Sid": "Allow direct access to key metadata to the account",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*"],
                "Resource": "*",
            },
        ],
    }


def default_key_policy(account: str, partition: str = "aws") -> PolicyDocument:
    """The default key policy for ``account`` as a model."""
    return parse_policy(json.dumps(default_key_policy_json(account, partition), indent=2), "default key policy")


def aws_managed_key_policy(account: str, service: str, region: str, partition: str = "aws") -> PolicyDocument:
    """The AWS managed key policy for ``service`` in ``region`` as a model."""
    text = json.dumps(aws_managed_key_policy_json(account, service, region, partition), indent=2)
    return parse_policy(text, f"aws/{service} key policy")
