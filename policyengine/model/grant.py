"""KMS grants: extra allows attached to one key for one grantee (KMS DG, "Grants in AWS KMS")."""

from __future__ import annotations

from policyengine.model._frozen import FrozenModel, frozen_model
from policyengine.model.principal import PrincipalRef


@frozen_model
class GrantConstraints(FrozenModel):
    """``EncryptionContextEquals`` or ``EncryptionContextSubset`` (keys case-insensitive)."""

    encryption_context_equals: dict[str, str] | None = None
    encryption_context_subset: dict[str, str] | None = None


@frozen_model
class Grant(FrozenModel):
    """One grant on one key. ``pending`` grants are not yet consistent: only their token works."""

    grant_id: str
    key_arn: str
    grantee_principal: str
    grantee: PrincipalRef
    operations: tuple[str, ...]
    constraints: GrantConstraints | None = None
    retiring_principal: str | None = None
    name: str | None = None
    grant_token: str | None = None
    pending: bool = False
    issuing_account: str | None = None
