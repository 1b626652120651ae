"""Grants attacked: escaping a constraint through CreateGrant, widening operations, bad tokens.

AWS: a grant created with CreateGrant permission that came from a grant must have "an equally
strict or stricter encryption context constraint" (API CreateGrant, ``Constraints``:
https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateGrant.html) and only operations
of the grant it came from (KMS DG "Granting CreateGrant permission":
https://docs.aws.amazon.com/kms/latest/developerguide/create-grant-overview.html#grant-creategrant).
A grant token AWS cannot use is ``InvalidGrantTokenException`` (KMS DG "Using a grant token":
https://docs.aws.amazon.com/kms/latest/developerguide/using-grant-token.html).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.security.conftest import CAROL, GRANTEE, STRANGER, Server, error_code, open_to_account, principal_of

TENANT_A = {"tenant": "a"}
TENANT_B = {"tenant": "b"}


def _grant(
    admin: Any, key_arn: str, operations: list[str], constraints: dict[str, Any] | None = None, grantee: str = GRANTEE
) -> dict[str, Any]:
    params: dict[str, Any] = {"KeyId": key_arn, "GranteePrincipal": principal_of(grantee), "Operations": operations}
    if constraints is not None:
        params["Constraints"] = constraints
    return dict(admin.create_grant(**params))


def _tenant_b_blob(admin: Any, key_arn: str) -> bytes:
    return bytes(admin.encrypt(KeyId=key_arn, Plaintext=b"tenant b data", EncryptionContext=TENANT_B)["CiphertextBlob"])


def test_child_grant_cannot_drop_constraint(secure: Server, admin: Any, key_arn: str) -> None:
    """The issue's attack: a grantee limited to tenant a grants itself Decrypt without the constraint."""
    _grant(admin, key_arn, ["Encrypt", "Decrypt", "CreateGrant"], {"EncryptionContextEquals": TENANT_A})
    grantee = secure.client(GRANTEE)
    blob = _tenant_b_blob(admin, key_arn)
    assert error_code(lambda: grantee.decrypt(CiphertextBlob=blob, EncryptionContext=TENANT_B)) == "AccessDeniedException"
    escape = {"KeyId": key_arn, "GranteePrincipal": principal_of(GRANTEE), "Operations": ["Decrypt"]}
    assert error_code(lambda: grantee.create_grant(**escape)) == "AccessDeniedException"
    assert error_code(lambda: grantee.decrypt(CiphertextBlob=blob, EncryptionContext=TENANT_B)) == "AccessDeniedException"


def test_child_grant_cannot_loosen_constraint(secure: Server, admin: Any, key_arn: str) -> None:
    """Another tenant's context, or Subset for Equals, is not as strict; a stranger cannot be handed tenant b."""
    _grant(admin, key_arn, ["Decrypt", "CreateGrant"], {"EncryptionContextEquals": TENANT_A})
    grantee = secure.client(GRANTEE)
    base = {"KeyId": key_arn, "Operations": ["Decrypt"]}
    for grantee_arn, constraints in (
        (principal_of(GRANTEE), {"EncryptionContextEquals": TENANT_B}),
        (principal_of(GRANTEE), {"EncryptionContextSubset": TENANT_A}),
        (f"arn:aws:iam::{STRANGER}:root", {"EncryptionContextEquals": TENANT_B}),
    ):
        attempt = {**base, "GranteePrincipal": grantee_arn, "Constraints": constraints}
        assert error_code(lambda attempt=attempt: grantee.create_grant(**attempt)) == "AccessDeniedException"


def test_child_grant_may_keep_or_tighten_constraint(secure: Server, admin: Any, key_arn: str) -> None:
    """What AWS allows: the same constraint (keys compare case-insensitively), or a stricter one under Subset."""
    _grant(admin, key_arn, ["Decrypt", "CreateGrant"], {"EncryptionContextSubset": TENANT_A})
    grantee = secure.client(GRANTEE)
    base = {"KeyId": key_arn, "GranteePrincipal": principal_of(CAROL), "Operations": ["Decrypt"]}
    for constraints in (
        {"EncryptionContextSubset": {"TENANT": "a"}},
        {"EncryptionContextSubset": {"tenant": "a", "app": "billing"}},
        {"EncryptionContextEquals": {"tenant": "a", "app": "billing"}},
    ):
        assert grantee.create_grant(**base, Constraints=constraints)["GrantId"]
    assert error_code(lambda: grantee.create_grant(**base, Constraints={"EncryptionContextSubset": {"tenant": "A"}})) == (
        "AccessDeniedException"
    )


def test_child_grant_cannot_add_operations(secure: Server, admin: Any, key_arn: str) -> None:
    """CreateGrant escalation: a grantee of Encrypt+CreateGrant cannot hand out Decrypt, even to itself."""
    _grant(admin, key_arn, ["Encrypt", "CreateGrant"])
    grantee = secure.client(GRANTEE)
    widen = {"KeyId": key_arn, "GranteePrincipal": principal_of(GRANTEE), "Operations": ["Encrypt", "Decrypt"]}
    assert error_code(lambda: grantee.create_grant(**widen)) == "AccessDeniedException"
    assert grantee.create_grant(**{**widen, "Operations": ["Encrypt"]})["GrantId"]


def test_two_narrow_grants_do_not_make_a_wide_one(secure: Server, admin: Any, key_arn: str) -> None:
    """One parent grant must cover the child: Decrypt under tenant a plus Encrypt unconstrained is not
    an unconstrained Decrypt."""
    _grant(admin, key_arn, ["Decrypt", "CreateGrant"], {"EncryptionContextEquals": TENANT_A})
    _grant(admin, key_arn, ["Encrypt", "CreateGrant"])
    grantee = secure.client(GRANTEE)
    attempt = {"KeyId": key_arn, "GranteePrincipal": principal_of(GRANTEE), "Operations": ["Decrypt", "Encrypt"]}
    assert error_code(lambda: grantee.create_grant(**attempt)) == "AccessDeniedException"


def test_cross_account_grantee_cannot_drop_constraint(secure: Server, admin: Any) -> None:
    """The same rule for a grantee in another account (its grant came through the key policy's trust)."""
    key = admin.create_key(Policy=open_to_account(STRANGER))["KeyMetadata"]["Arn"]
    _grant(admin, key, ["Decrypt", "CreateGrant"], {"EncryptionContextEquals": TENANT_A}, grantee=CAROL)
    carol = secure.client(CAROL)
    attempt = {"KeyId": key, "GranteePrincipal": principal_of(CAROL), "Operations": ["Decrypt"]}
    # carol's account is trusted by the key policy for CreateGrant, so her IAM policy lets her create
    # any grant: that path is not limited by the grant (AWS: only CreateGrant permission from a grant is).
    assert carol.create_grant(**attempt)["GrantId"]


def test_forged_grant_token_is_refused(secure: Server, admin: Any, key_arn: str) -> None:
    """A token naming a real grant id with a made-up secret, garbage, and a retired grant's token."""
    grant = _grant(admin, key_arn, ["Encrypt"])
    forged = base64.urlsafe_b64encode(json.dumps({"g": grant["GrantId"], "s": "guess"}).encode()).decode().rstrip("=")
    grantee = secure.client(GRANTEE)
    for token in (forged, "not-a-token", "%%%", base64.urlsafe_b64encode(b"[1, 2]").decode()):
        call = lambda token=token: grantee.encrypt(KeyId=key_arn, Plaintext=b"x", GrantTokens=[token])  # noqa: E731
        assert error_code(call) == "InvalidGrantTokenException"
    admin.retire_grant(GrantToken=grant["GrantToken"])
    retired = grant["GrantToken"]
    assert error_code(lambda: admin.encrypt(KeyId=key_arn, Plaintext=b"x", GrantTokens=[retired])) == "InvalidGrantTokenException"


def test_unknown_grant_token_is_refused_even_when_policy_allows(secure: Server, admin: Any, key_arn: str) -> None:
    """The admin needs no grant, yet a token AWS cannot use still fails the call."""
    blob = admin.encrypt(KeyId=key_arn, Plaintext=b"x")["CiphertextBlob"]
    assert error_code(lambda: admin.decrypt(CiphertextBlob=blob, GrantTokens=["bogus"])) == "InvalidGrantTokenException"
    assert error_code(lambda: admin.describe_key(KeyId=key_arn, GrantTokens=["bogus"])) == "InvalidGrantTokenException"


def test_foreign_grant_token_gives_nothing(secure: Server, admin: Any, key_arn: str) -> None:
    """A valid token of a grant on another key, or for another grantee, does not open this key."""
    other_key = admin.create_key()["KeyMetadata"]["Arn"]
    foreign = _grant(admin, other_key, ["Encrypt", "Decrypt"])["GrantToken"]
    not_mine = _grant(admin, key_arn, ["Encrypt"], grantee=CAROL)["GrantToken"]
    grantee = secure.client(GRANTEE)
    for token in (foreign, not_mine):
        call = lambda token=token: grantee.encrypt(KeyId=key_arn, Plaintext=b"x", GrantTokens=[token])  # noqa: E731
        assert error_code(call) == "AccessDeniedException"


@pytest.mark.parametrize("operation", ["Encrypt", "Decrypt"])
def test_grant_constraint_holds_on_use(secure: Server, admin: Any, key_arn: str, operation: str) -> None:
    """Encryption-context tampering: the constrained grantee is refused with any other context."""
    _grant(admin, key_arn, ["Encrypt", "Decrypt"], {"EncryptionContextEquals": TENANT_A})
    grantee = secure.client(GRANTEE)
    if operation == "Encrypt":
        assert grantee.encrypt(KeyId=key_arn, Plaintext=b"x", EncryptionContext=TENANT_A)["CiphertextBlob"]
        call = lambda: grantee.encrypt(KeyId=key_arn, Plaintext=b"x", EncryptionContext=TENANT_B)  # noqa: E731
    else:
        blob = admin.encrypt(KeyId=key_arn, Plaintext=b"x", EncryptionContext=TENANT_A)["CiphertextBlob"]
        assert grantee.decrypt(CiphertextBlob=blob, EncryptionContext=TENANT_A)["Plaintext"] == b"x"
        call = lambda: grantee.decrypt(CiphertextBlob=blob, EncryptionContext={"tenant": "a", "x": "y"})  # noqa: E731
    assert error_code(call) == "AccessDeniedException"
