"""What a principal string names: an account, a user, a role, a role session, a service...

Both policies (``Principal`` entries) and requests (the caller) use these references, so the
evaluator can compare them without re-parsing ARNs.
"""

from __future__ import annotations

from typing import Literal

from policyengine.model._frozen import FrozenModel, frozen_model

PrincipalRefKind = Literal[
    "any",  # "*" inside AWS: every authenticated principal
    "account",  # a 12-digit account id or arn:...:iam::ID:root: the account, which delegates to IAM
    "user",
    "role",
    "assumed_role",  # arn:...:sts::ID:assumed-role/ROLE/SESSION
    "federated_user",  # arn:...:sts::ID:federated-user/NAME
    "service",  # kms.amazonaws.com
    "federated",  # an identity provider (SAML ARN, OIDC host)
    "canonical_user",
    "unique_id",  # AIDA.../AROA...: what IAM shows after the named principal was deleted
    "unknown",  # a value only the deployment knows (policyengine.model.unknown): matches no caller
    "invalid",
    "anonymous",  # the caller of an unsigned request (``anonymous`` as the request principal)
]


@frozen_model
class PrincipalRef(FrozenModel):
    """A classified principal string.

    ``name`` is the user or role name (without path), ``session`` the session name of an
    assumed role, ``path`` the IAM path (``/`` when absent). ``arn`` is the canonical ARN used for
    comparisons (for an account written as an id, the root ARN in the ``aws`` partition).
    """

    kind: PrincipalRefKind
    text: str
    arn: str = ""
    partition: str = "aws"
    account: str | None = None
    name: str | None = None
    path: str = "/"
    session: str | None = None
    problem: str | None = None

    @property
    def role_arn(self) -> str | None:
        """For a role or a role session, the role ARN without its path (as sessions name it)."""
        if self.kind == "role" or self.kind == "assumed_role":
            return f"arn:{self.partition}:iam::{self.account}:role/{self.name}"
        return None
