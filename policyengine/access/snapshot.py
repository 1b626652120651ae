"""The snapshot: what an organization's accounts hold that bears on access to KMS keys.

A snapshot is plain data (YAML or JSON) checked by these pydantic models, and
``docs/snapshot.schema.json`` is generated from them, so the documentation cannot drift from
what the loader accepts. It holds accounts (organization id, OU path, SCP and RCP levels),
their IAM users, groups and roles (policies, boundaries, tags, trust policies), their KMS keys
(key policy, aliases, grants, state, spec, usage, tags), and ``unused``: what an importer met
but could not use, so every answer can say the snapshot is incomplete instead of guessing.

Policy documents are kept as JSON (an object, or its text as AWS exports print it) or named by
the path of a policy file, so a repository's own policy files stay the single source; they are
parsed and compiled by ``world.py``, where a bad one is reported with the field it sits in.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

#: ``defer_build``: the validator is built once, for ``Snapshot``, when a snapshot is read, instead of one per
#: class when this module is imported (a third less CPU for the access commands' start; docs/benchmarks.md).
_STRICT = ConfigDict(extra="forbid", frozen=True, defer_build=True)

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


class InlinePolicy(BaseModel):
    """A policy embedded in one user, group or role."""

    model_config = _STRICT
    name: str
    document: PolicyJson


class ManagedPolicy(BaseModel):
    """A managed policy (customer or AWS managed), attached by ARN."""

    model_config = _STRICT
    arn: str
    name: str | None = None
    document: PolicyJson


class NamedPolicy(BaseModel):
    """An organization policy (SCP or RCP) at one level."""

    model_config = _STRICT
    name: str
    document: PolicyJson


class PolicyLevel(BaseModel):
    """The SCPs or RCPs attached at one level of the organization (root, an OU, the account).

    At every level some policy must allow the request (Organizations UG, SCP evaluation).
    """

    model_config = _STRICT
    target: str | None = Field(default=None, description="root id, OU id or account id this level stands for")
    policies: list[NamedPolicy]


class User(BaseModel):
    """An IAM user: its own policies, its groups' policies (by group name), boundary and tags."""

    model_config = _STRICT
    name: str
    path: str = "/"
    id: str | None = Field(default=None, description="unique id (AIDA...), the value of aws:userid")
    groups: list[str] = Field(default_factory=list)
    inline_policies: list[InlinePolicy] = Field(default_factory=list)
    managed_policies: list[str] = Field(default_factory=list, description="ARNs of attached managed policies")
    permissions_boundary: str | None = Field(default=None, description="ARN of the managed policy used as boundary")
    tags: dict[str, str] = Field(default_factory=dict)


class Group(BaseModel):
    """An IAM group: policies its members get."""

    model_config = _STRICT
    name: str
    path: str = "/"
    inline_policies: list[InlinePolicy] = Field(default_factory=list)
    managed_policies: list[str] = Field(default_factory=list)


class Role(BaseModel):
    """An IAM role: who may assume it (trust policy), what its sessions may do, boundary and tags."""

    model_config = _STRICT
    name: str
    path: str = "/"
    id: str | None = Field(default=None, description="unique id (AROA...)")
    trust_policy: PolicyJson
    inline_policies: list[InlinePolicy] = Field(default_factory=list)
    managed_policies: list[str] = Field(default_factory=list)
    permissions_boundary: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class GrantConstraintsSpec(BaseModel):
    """A grant's encryption-context constraint (keys case-insensitive, values case-sensitive)."""

    model_config = _STRICT
    encryption_context_equals: dict[str, str] | None = None
    encryption_context_subset: dict[str, str] | None = None


class GrantSpec(BaseModel):
    """One grant on the key, as ``list-grants`` shows it."""

    model_config = _STRICT
    grant_id: str
    grantee_principal: str
    operations: list[str]
    constraints: GrantConstraintsSpec | None = None
    retiring_principal: str | None = None
    name: str | None = None
    issuing_account: str | None = None


class Key(BaseModel):
    """A KMS key: its policy and everything else that changes who can do what with it."""

    model_config = _STRICT
    id: str = Field(description="key id (a UUID, or mrk-... for multi-Region keys)")
    region: str
    arn: str | None = Field(default=None, description="filled from region, account and id when absent")
    policy: PolicyJson
    aliases: list[str] = Field(default_factory=list, description="alias names, e.g. alias/payments")
    grants: list[GrantSpec] = Field(default_factory=list)
    grants_known: bool = Field(default=True, description="false when the grant list was not exported")
    state: KeyState = "Enabled"
    spec: str = "SYMMETRIC_DEFAULT"
    usage: str = "ENCRYPT_DECRYPT"
    origin: str = "AWS_KMS"
    manager: Literal["CUSTOMER", "AWS"] = "CUSTOMER"
    multi_region: bool = False
    description: str = ""
    tags: dict[str, str] = Field(default_factory=dict)


class VpcEndpoint(BaseModel):
    """An interface VPC endpoint: requests through it (``aws:SourceVpce`` is its id) must also be
    allowed by its policy (VPC UG, "Control access to VPC endpoints using endpoint policies";
    ``aws ec2 describe-vpc-endpoints`` shows the id and ``PolicyDocument``)."""

    model_config = _STRICT
    id: str = Field(pattern=r"^vpce-[0-9a-f]+$")
    vpc_id: str | None = None
    service_name: str | None = Field(default=None, description="e.g. com.amazonaws.us-east-1.kms")
    policy: PolicyJson | None = Field(default=None, description="null: the default policy, which allows everything")


class Account(BaseModel):
    """One AWS account with its place in the organization and its IAM and KMS contents."""

    model_config = _STRICT
    id: str = Field(pattern=r"^\d{12}$")
    name: str | None = None
    org_id: str | None = Field(default=None, description="defaults to the snapshot's organization id")
    ou_path: list[str] = Field(default_factory=list, description="root id, then OU ids from the root down")
    scps: list[PolicyLevel] | None = Field(default=None, description="levels from the root down; null: no SCPs")
    rcps: list[PolicyLevel] | None = Field(default=None, description="levels from the root down; null: no RCPs")
    managed_policies: list[ManagedPolicy] = Field(default_factory=list)
    users: list[User] = Field(default_factory=list)
    groups: list[Group] = Field(default_factory=list)
    roles: list[Role] = Field(default_factory=list)
    keys: list[Key] = Field(default_factory=list)
    vpc_endpoints: list[VpcEndpoint] = Field(default_factory=list)


class Organization(BaseModel):
    """The organization the accounts belong to."""

    model_config = _STRICT
    id: str
    management_account: str | None = None


class Unused(BaseModel):
    """Something an importer met and could not use: where, what, and why."""

    model_config = _STRICT
    source: str
    item: str
    reason: str


class Snapshot(BaseModel):
    """The whole snapshot."""

    model_config = _STRICT
    format: Literal["policyengine-snapshot/1"] = SNAPSHOT_FORMAT
    organization: Organization | None = None
    aws_managed_policies: list[ManagedPolicy] = Field(
        default_factory=list, description="AWS managed policies (arn:aws:iam::aws:policy/...) attached anywhere"
    )
    accounts: list[Account] = Field(default_factory=list)
    unused: list[Unused] = Field(default_factory=list, description="what the importers could not use")


def snapshot_schema() -> dict[str, Any]:
    """The JSON schema of a snapshot (what ``docs/snapshot.schema.json`` holds)."""
    schema = Snapshot.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "policyengine account snapshot"
    return schema
