"""Key policies and a CLI runner shared by the linter's command-line and CI tests."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policyengine.cli.main import main

#: The account's own statement (kms:* to the account root), as AWS's default key policy has it.
ROOT_ACCOUNT: dict[str, Any] = {
    "Sid": "Root",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
    "Action": "kms:*",
    "Resource": "*",
}
#: Anyone may decrypt: a public key (security PE401).
PUBLIC: dict[str, Any] = {"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
#: kms:* to an application role (security).
APP_STAR: dict[str, Any] = {
    "Sid": "App",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"},
    "Action": "kms:*",
    "Resource": "*",
}


def key_policy_document(*statements: dict[str, Any]) -> dict[str, Any]:
    """A key policy with the account's statement first, then ``statements``."""
    return {"Version": "2012-10-17", "Statement": [ROOT_ACCOUNT, *statements]}


def key_policy(*statements: dict[str, Any]) -> str:
    """``key_policy_document`` as indented JSON text."""
    return json.dumps(key_policy_document(*statements), indent=2)


#: The account's statement and a public one.
PUBLIC_KEY_POLICY = key_policy_document(PUBLIC)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``policyengine ARGS`` in process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as info:
        main(args)
    captured = capsys.readouterr()
    return int(info.value.code or 0), captured.out, captured.err
