"""The identities file: what a good entry becomes, and the one-line errors for bad ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policyengine.server import IdentitiesError, load_identities


def test_full_entry_becomes_a_caller(tmp_path: Path) -> None:
    """Every field of an entry reaches the Caller: account from the ARN, policies from paths, session facts."""
    (tmp_path / "boundary.json").write_text(
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]})
    )
    (tmp_path / "ids.yaml").write_text(
        """
ASIAEXAMPLE:
  secret_access_key: s3cret
  principal: arn:aws:sts::111122223333:assumed-role/App/session
  identity_arn: arn:aws:iam::111122223333:role/App
  identity_policies:
    - {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "kms:Encrypt", Resource: "*"}]}
  permissions_boundary: boundary.json
  session_policy: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "kms:*", Resource: "*"}]}
  scp_levels: [[boundary.json]]
  tags: {team: payments, level: 3}
  mfa: true
  source_ip: 10.1.2.3
  secure_transport: false
  session_token: tok
""",
        encoding="utf-8",
    )
    (tmp_path / "ids.yaml").chmod(0o600)
    identity = load_identities(tmp_path / "ids.yaml")["ASIAEXAMPLE"]
    caller = identity.caller
    assert caller.account == "111122223333" and identity.session_token == "tok" and identity.fixed_source_ip
    assert len(caller.identity_policies) == 1 and caller.permissions_boundary is not None and caller.session_policy is not None
    assert caller.scp_levels is not None and len(caller.scp_levels) == 1
    assert dict(caller.tags) == {"team": "payments", "level": "3"} and caller.mfa is True
    assert caller.source_ip == "10.1.2.3" and caller.secure_transport is False
    assert caller.identity_arn == "arn:aws:iam::111122223333:role/App"


def test_json_file_and_empty_file(tmp_path: Path) -> None:
    """A .json file is read as JSON; an empty YAML file holds no identities."""
    (tmp_path / "ids.json").write_text(
        json.dumps({"AKIA1": {"secret_access_key": "s", "principal": "arn:aws:iam::111122223333:root"}})
    )
    (tmp_path / "ids.json").chmod(0o600)
    assert load_identities(tmp_path / "ids.json")["AKIA1"].caller.is_root
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "empty.yaml").chmod(0o600)
    assert load_identities(tmp_path / "empty.yaml") == {}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("- just a list", "must map access key ids"),
        ("AKIA1: 5", "must be a mapping"),
        ("AKIA1: {secret_access_key: s, principal: not-an-arn}", "cannot read an account"),
        (
            "AKIA1: {secret_access_key: s, principal: 'arn:aws:iam::111122223333:user/a', mfa: maybe}",
            "`mfa` must be true or false",
        ),
        (
            "AKIA1: {secret_access_key: s, principal: 'arn:aws:iam::111122223333:user/a', identity_policies: {a: 1}}",
            "must be a list",
        ),
        (
            "AKIA1: {secret_access_key: s, principal: 'arn:aws:iam::111122223333:user/a', identity_policies: [{Statement: 5}]}",
            "identity_policies[0]",
        ),
        ("AKIA1: {secret_access_key: s, principal: 'arn:aws:iam::111122223333:user/a', tags: [a]}", "`tags` must map"),
        ("AKIA1: {secret_access_key: [s], principal: 'arn:aws:iam::111122223333:user/a'}", "must be a string"),
        ("AKIA1: {secret_access_key: s, principal: 'arn:aws:iam::111122223333:user/a', scp_levels: [x]}", "list of lists"),
    ],
)
def test_bad_entries_are_one_line_errors(tmp_path: Path, content: str, expected: str) -> None:
    """Each kind of mistake is reported on one line naming the file, the entry and the field."""
    path = tmp_path / "ids.yaml"
    path.write_text(content, encoding="utf-8")
    path.chmod(0o600)
    with pytest.raises(IdentitiesError) as error:
        load_identities(path)
    assert expected in str(error.value) and "\n" not in str(error.value)
