"""The audit trail: one record per call, carrying the request id the client saw and never a secret.

CloudTrail's record of CreateGrant keeps the grant id (``responseElements``) and the key, never
the grant token (KMS DG "Logging AWS KMS API calls with AWS CloudTrail", CreateGrant example:
https://docs.aws.amazon.com/kms/latest/developerguide/ct-creategrant.html); its ``requestID`` is
the ``x-amzn-RequestId`` the caller was answered with.
"""

from __future__ import annotations

import json
from typing import Any

from tests.security.conftest import DEV, GRANTEE, Server, audit_events, error_code, principal_of


def test_grant_token_not_in_audit_trail(secure: Server, admin: Any, key_arn: str) -> None:
    grant = admin.create_grant(KeyId=key_arn, GranteePrincipal=principal_of(GRANTEE), Operations=["Encrypt"])
    secure.client(GRANTEE).encrypt(KeyId=key_arn, Plaintext=b"x", GrantTokens=[grant["GrantToken"]])
    admin.retire_grant(GrantToken=grant["GrantToken"])
    events = audit_events(secure)
    assert grant["GrantToken"] not in json.dumps(events)
    created = [e for e in events if e["eventName"] == "CreateGrant" and e["responseElements"] == {"GrantId": grant["GrantId"]}]
    assert len(created) == 1 and created[0]["requestParameters"]["KeyId"] == key_arn


def test_audit_request_id_is_the_client_request_id(secure: Server, admin: Any, key_arn: str) -> None:
    """Allowed, denied and failed calls: the id in each response's metadata names exactly one record."""
    ids = [admin.encrypt(KeyId=key_arn, Plaintext=b"x")["ResponseMetadata"]["RequestId"]]
    ids.append(admin.tag_resource(KeyId=key_arn, Tags=[{"TagKey": "k", "TagValue": "v"}])["ResponseMetadata"]["RequestId"])
    from botocore.exceptions import ClientError

    for call in (lambda: secure.client(DEV).schedule_key_deletion(KeyId=key_arn), lambda: admin.describe_key(KeyId="alias/none")):
        try:
            call()
        except ClientError as error:
            ids.append(error.response["ResponseMetadata"]["RequestId"])
    assert len(ids) == 4
    by_id: dict[str, list[dict[str, Any]]] = {}
    for event in audit_events(secure):
        by_id.setdefault(event["requestID"], []).append(event)
    names = [[e["eventName"] for e in by_id.get(i, [])] for i in ids]
    assert names == [["Encrypt"], ["TagResource"], ["ScheduleKeyDeletion"], ["DescribeKey"]]
    assert by_id[ids[2]][0]["errorCode"] == "AccessDeniedException"


def test_raw_request_id_header_matches_record(secure: Server, key_arn: str) -> None:
    """The same over raw HTTP: the x-amzn-RequestId header of a refused call names its record."""
    request = secure.signed("DisableKey", {"KeyId": key_arn}, access_key=DEV)
    status, body = secure.send_request(request)
    assert status == 400 and body["__type"] == "AccessDeniedException"
    request_id = secure.last_headers["x-amzn-requestid"]
    assert [e["eventName"] for e in audit_events(secure) if e["requestID"] == request_id] == ["DisableKey"]
    assert error_code(lambda: secure.client(DEV).disable_key(KeyId=key_arn)) == "AccessDeniedException"
