"""The snapshot: what an organization's accounts hold that bears on access to KMS keys.

A snapshot is plain data (YAML or JSON) checked against these classes (frozen dataclasses that pydantic
validates, ``policyengine/model/_frozen.py``), and ``docs/snapshot.schema.json`` is generated from them, so
the documentation cannot drift from what the loader accepts. It holds accounts (organization id, OU path, SCP and RCP levels),
their IAM users, groups and roles (policies, boundaries, tags, trust policies), their KMS keys
(key policy, aliases, grants, state, spec, usage, tags), and ``unused``: what an importer met
but could not use, so every answer can say the snapshot is incomplete instead of guessing.

Policy documents are kept as JSON (an object, or its text as AWS exports print it) or named by
the path of a policy file, so a repository's own policy files stay the single source; they are
parsed and compiled by ``world.py``, where a bad one is reported with the field it sits in.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Final, Literal

from policyengine.model import FrozenModel, frozen_model


def Field(**constraints: Any) -> Any:
    """pydantic's ``Field`` (a description, a pattern), imported when pydantic reads the annotations.

    The annotations are strings (``from __future__ import annotations``) that pydantic evaluates in this
    module when it builds a validator or the schema, so defining the classes imports no pydantic: the access
    commands read a well-formed snapshot without it (``policyengine.access.exact``, docs/benchmarks.md).
    """
    from pydantic import Field as pydantic_field

    return pydantic_field(**constraints)


def _list() -> Any:
    """An empty list default, made fresh for each instance."""
    return dataclasses.field(default_factory=list)


def _dict() -> Any:
    """An empty mapping default, made fresh for each instance."""
    return dataclasses.field(default_factory=dict)


#: A policy document: the JSON object, its text (as ``get-key-policy`` and the IAM APIs print it), or the path of
#: a policy file relative to the snapshot file (a plain policy or a saved ``get-key-policy`` output).
PolicyJson = dict[str, Any] | str

KeyState = Literal[
    "Enabled",
    "Disabled",
    "PendingDeletion",
    "PendingImport",
    "PendingReplicaDeletion",
    "Unavailable",
    "Creating",
    "Updating",
]

SNAPSHOT_FORMAT: Final = "policyengine-snapshot/1"


@frozen_model
class InlinePolicy(FrozenModel):
    """A policy embedded in one user, group or role."""

    name: str
    document: PolicyJson


@frozen_model
class ManagedPolicy(FrozenModel):
    """A managed policy (customer or AWS managed), attached by ARN."""

    arn: str
    name: str | None = None
    document: PolicyJson


@frozen_model
class NamedPolicy(FrozenModel):
    """An organization policy (SCP or RCP) at one level."""

    name: str
    document: PolicyJson


@frozen_model
class PolicyLevel(FrozenModel):
    """The SCPs or RCPs attached at one level of the organization (root, an OU, the account).

    At every level some policy must allow the request (Organizations UG, SCP evaluation).
    """

    target: Annotated[str | None, Field(description="root id, OU id or account id this level stands for")] = None
    policies: list[NamedPolicy]


@frozen_model
class User(FrozenModel):
    """An IAM user: its own policies, its groups' policies (by group name), boundary and tags."""

    name: str
    path: str = "/"
    id: Annotated[str | None, Field(description="unique id (AIDA...), the value of aws:userid")] = None
    groups: list[str] = _list()
    inline_policies: list[InlinePolicy] = _list()
    managed_policies: Annotated[list[str], Field(description="ARNs of attached managed policies")] = _list()
    permissions_boundary: Annotated[str | None, Field(description="ARN of the managed policy used as boundary")] = None
    tags: dict[str, str] = _dict()


@frozen_model
class Group(FrozenModel):
    """An IAM group: policies its members get."""

    name: str
    path: str = "/"
    inline_policies: list[InlinePolicy] = _list()
    managed_policies: list[str] = _list()


@frozen_model
class Role(FrozenModel):
    """An IAM role: who may assume it (trust policy), what its sessions may do, boundary and tags."""

    name: str
    path: str = "/"
    id: Annotated[str | None, Field(description="unique id (AROA...)")] = None
    trust_policy: PolicyJson
    inline_policies: list[InlinePolicy] = _list()
    managed_policies: list[str] = _list()
    permissions_boundary: str | None = None
    tags: dict[str, str] = _dict()


@frozen_model
class GrantConstraintsSpec(FrozenModel):
    """A grant's encryption-context constraint (keys case-insensitive, values case-sensitive)."""

    encryption_context_equals: dict[str, str] | None = None
    encryption_context_subset: dict[str, str] | None = None

    def given(self) -> dict[str, dict[str, str]]:
        """The constraints that are set, by field name (``model_dump(exclude_none=True)`` without pydantic)."""
        both = (
            ("encryption_context_equals", self.encryption_context_equals),
            ("encryption_context_subset", self.encryption_context_subset),
        )
        return {name: dict(value) for name, value in both if value is not None}


@frozen_model
class GrantSpec(FrozenModel):
    """One grant on the key, as ``list-grants`` shows it."""

    grant_id: str
    grantee_principal: str
    operations: list[str]
    constraints: GrantConstraintsSpec | None = None
    retiring_principal: str | None = None
    name: str | None = None
    issuing_account: str | None = None


@frozen_model
class Key(FrozenModel):
    """A KMS key: its policy and everything else that changes who can do what with it."""

    id: Annotated[str, Field(description="key id (a UUID, or mrk-... for multi-Region keys)")]
    region: str
    arn: Annotated[str | None, Field(description="filled from region, account and id when absent")] = None
    policy: PolicyJson
    aliases: Annotated[list[str], Field(description="alias names, e.g. alias/payments")] = _list()
    grants: list[GrantSpec] = _list()
    grants_known: Annotated[bool, Field(description="false when the grant list was not exported")] = True
    state: KeyState = "Enabled"
    spec: str = "SYMMETRIC_DEFAULT"
    usage: str = "ENCRYPT_DECRYPT"
    origin: str = "AWS_KMS"
    manager: Literal["CUSTOMER", "AWS"] = "CUSTOMER"
    multi_region: bool = False
    description: str = ""
    tags: dict[str, str] = _dict()


@frozen_model
class VpcEndpoint(FrozenModel):
    """An interface VPC endpoint: requests through it (``aws:SourceVpce`` is its id) must also be
    allowed by its policy (VPC UG, "Control access to VPC endpoints using endpoint policies";
    ``aws ec2 describe-vpc-endpoints`` shows the id and ``PolicyDocument``)."""

    id: Annotated[str, Field(pattern=r"^vpce-[0-9a-f]+$")]
    vpc_id: str | None = None
    service_name: Annotated[str | None, Field(description="e.g. com.amazonaws.us-east-1.kms")] = None
    policy: Annotated[PolicyJson | None, Field(description="null: the default policy, which allows everything")] = None


@frozen_model
class Account(FrozenModel):
    """One AWS account with its place in the organization and its IAM and KMS contents."""

    id: Annotated[str, Field(pattern=r"^\d{12}$")]
    name: str | None = None
    org_id: Annotated[str | None, Field(description="defaults to the snapshot's organization id")] = None
    ou_path: Annotated[list[str], Field(description="root id, then OU ids from the root down")] = _list()
    scps: Annotated[list[PolicyLevel] | None, Field(description="levels from the root down; null: no SCPs")] = None
    rcps: Annotated[list[PolicyLevel] | None, Field(description="levels from the root down; null: no RCPs")] = None
    managed_policies: list[ManagedPolicy] = _list()
    users: list[User] = _list()
    groups: list[Group] = _list()
    roles: list[Role] = _list()
    keys: list[Key] = _list()
    vpc_endpoints: list[VpcEndpoint] = _list()


@frozen_model
class Organization(FrozenModel):
    """The organization the accounts belong to."""

    id: str
    management_account: str | None = None


@frozen_model
class Unused(FrozenModel):
    """Something an importer met and could not use: where, what, and why."""

    source: str
    item: str
    reason: str


@frozen_model
class Snapshot(FrozenModel):
    """The whole snapshot."""

    format: Literal["policyengine-snapshot/1"] = SNAPSHOT_FORMAT
    organization: Organization | None = None
    aws_managed_policies: Annotated[
        list[ManagedPolicy], Field(description="AWS managed policies (arn:aws:iam::aws:policy/...) attached anywhere")
    ] = _list()
    accounts: list[Account] = _list()
    unused: Annotated[list[Unused], Field(description="what the importers could not use")] = _list()


def snapshot_schema() -> dict[str, Any]:
    """The JSON schema of a snapshot (what ``docs/snapshot.schema.json`` holds)."""
    schema = Snapshot.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "policyengine account snapshot"
    return schema
