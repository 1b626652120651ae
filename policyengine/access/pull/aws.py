"""Talking to AWS for ``snapshot pull``: one boto3 session, read-only calls, every page, notes instead of failures.

All clients come from the one base session (the user's credentials, ``--profile``), those of
member accounts with the credentials ``sts:AssumeRole`` returned, so hooks registered on that
session see every call. Each client retries throttling with exponential backoff and client-side
rate limiting (botocore's ``adaptive`` mode). A paginated operation is read to its last page and
saved as one output, as the AWS CLI prints it. An API the caller may not use (access denied, not
in an organization, ...) is a ``Note`` and the pull goes on; missing credentials or an endpoint
that cannot be reached stop it with one clear line.

boto3 is imported here only, and only when a pull starts, so the other commands start fast.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from policyengine.access.errors import SnapshotError

#: The only operations ``snapshot pull`` may call; everything else is refused before it is sent.
READ_ONLY_OPERATIONS: frozenset[tuple[str, str]] = frozenset(
    {
        ("sts", "GetCallerIdentity"),
        ("sts", "AssumeRole"),  # a session in a member account: changes nothing there
        ("ec2", "DescribeRegions"),
        ("iam", "GetAccountAuthorizationDetails"),
        ("kms", "ListKeys"),
        ("kms", "ListAliases"),
        ("kms", "DescribeKey"),
        ("kms", "GetKeyPolicy"),
        ("kms", "ListGrants"),
        ("kms", "ListResourceTags"),
        ("organizations", "DescribeOrganization"),
        ("organizations", "ListRoots"),
        ("organizations", "ListAccounts"),
        ("organizations", "ListOrganizationalUnitsForParent"),
        ("organizations", "ListParents"),
        ("organizations", "ListPoliciesForTarget"),
        ("organizations", "DescribePolicy"),
    }
)
_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "AWSOrganizationsNotInUseException",
}
_SESSION_NAME = "policyengine-pull"


@dataclass(frozen=True)
class Note:
    """Something the pull could not read: which API, where, and what AWS said."""

    account: str
    region: str | None
    api: str
    code: str
    message: str

    def text(self) -> str:
        where = f"{self.account}/{self.region}" if self.region else self.account
        return f"{self.api} in {where}: {self.code}: {self.message}"


@dataclass
class Calls:
    """What the pull did: the API calls it made (service, operation) and what it could not read."""

    made: list[tuple[str, str]] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    on_call: Callable[[str], None] | None = None


def json_ready(value: Any) -> Any:
    """An API response as the AWS CLI prints it: timestamps as ISO 8601 text, no ``ResponseMetadata``."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [json_ready(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


class Aws:
    """Clients for one account (base credentials, or a role assumed in it), sharing the base session."""

    def __init__(
        self, session: Any, calls: Calls, account: str, credentials: dict[str, str] | None = None, partition: str = "aws"
    ) -> None:
        self.session = session
        self.calls = calls
        self.account = account
        self.credentials = credentials
        self.partition = partition
        self._clients: dict[tuple[str, str | None], Any] = {}

    @staticmethod
    def open(session: Any, calls: Calls) -> Aws:
        """The caller's own account, found with ``sts:GetCallerIdentity``."""
        probe = Aws(session, calls, "caller")
        identity = probe.call("sts", "GetCallerIdentity", None)
        if identity is None:
            raise SnapshotError("pull", "credentials", "sts:GetCallerIdentity failed: " + calls.notes[-1].message)
        probe.account = str(identity["Account"])
        probe.partition = str(identity.get("Arn", "arn:aws:")).split(":")[1] or "aws"
        return probe

    def assume(self, account: str, role_name: str) -> Aws | None:
        """The same clients in ``account`` through ``role_name`` there; ``None`` (and a note) when AWS refuses."""
        arn = f"arn:{self.partition}:iam::{account}:role/{role_name}"
        answer = self.call("sts", "AssumeRole", None, RoleArn=arn, RoleSessionName=_SESSION_NAME)
        if answer is None:
            return None
        creds = answer["Credentials"]
        keys = {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        }
        return Aws(self.session, self.calls, account, keys, self.partition)

    def client(self, service: str, region: str | None) -> Any:
        found = self._clients.get((service, region))
        if found is None:
            from botocore.config import Config

            config = Config(retries={"max_attempts": 10, "mode": "adaptive"}, user_agent_extra="policyengine-pull")
            region_name = region or self.session.region_name or "us-east-1"
            found = self.session.client(service, region_name=region_name, config=config, **(self.credentials or {}))
            self._clients[(service, region)] = found
        return found

    def call(self, service: str, operation: str, region: str | None, **params: Any) -> dict[str, Any] | None:
        """One read-only operation, every page of it; ``None`` and a note when AWS refuses it."""
        if (service, operation) not in READ_ONLY_OPERATIONS:
            raise AssertionError(f"snapshot pull never calls {service}:{operation}")
        from botocore import xform_name
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

        method = xform_name(operation)
        if self.calls.on_call is not None:
            self.calls.on_call(f"{service}:{operation} {self.account}{'/' + region if region else ''}")
        self.calls.made.append((service, operation))
        try:
            client = self.client(service, region)
            if client.can_paginate(method):
                result = client.get_paginator(method).paginate(**params).build_full_result()
            else:
                result = getattr(client, method)(**params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "Error"))
            message = str(error.get("Message", "")) or str(exc)
            self.calls.notes.append(Note(self.account, region, f"{service}:{operation}", code, message))
            return None
        except NoCredentialsError:
            raise SnapshotError(
                "pull", "credentials", "no AWS credentials found (boto3's chain: environment, ~/.aws, --profile, instance role)"
            ) from None
        except NoRegionError:
            raise SnapshotError("pull", "region", "no region configured: give --region or set AWS_REGION") from None
        except BotoCoreError as exc:
            raise SnapshotError("pull", f"{service}:{operation}", str(exc)) from None
        return dict(json_ready(result))


def denied(note: Note) -> bool:
    """Whether a note says the caller may not use the API (as opposed to the resource having gone away)."""
    return note.code in _DENIED
