"""Authentication: from a signed request to the ``Caller`` it acts as and the region it targets.

The region comes from the SigV4 credential scope (as in AWS, where it picks the regional
endpoint); the account comes from the identity the access key belongs to. Unknown access keys
are ``UnrecognizedClientException`` and signatures that do not verify are
``InvalidSignatureException`` — except in test mode, where credentials that no identity claims
are accepted unverified as the root of a default account, so a test suite can point any SDK at
the server without setting anything up.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import UTC, datetime

from policyengine.kms import Caller
from policyengine.server import sigv4
from policyengine.server.errors import WireError, unrecognized_client
from policyengine.server.identities import IdentityRegistry
from policyengine.server.protocol import IncomingRequest

__all__ = ["DEFAULT_ACCOUNT", "Authenticator"]

#: The account test mode gives credentials that no identity claims.
DEFAULT_ACCOUNT = "123456789012"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Authenticator:
    """Verifies a request's signature against the identity registry."""

    def __init__(
        self,
        registry: IdentityRegistry,
        *,
        test_mode: bool = False,
        default_account: str = DEFAULT_ACCOUNT,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.registry = registry
        self.test_mode = test_mode
        self.default_account = default_account
        self._now = now

    def authenticate(self, request: IncomingRequest) -> tuple[Caller, str]:
        """The caller and region of ``request``; a WireError when it cannot be authenticated."""
        header = request.header("authorization")
        if not header:
            raise WireError("MissingAuthenticationTokenException", "Missing Authentication Token")
        auth = sigv4.parse_authorization(header)
        amz_date = request.header("x-amz-date")
        signed_at = sigv4.request_time(amz_date)
        assert amz_date is not None
        sigv4.check_scope(auth, amz_date)
        identity = self.registry.get(auth.access_key)
        if identity is None:
            if self.test_mode:
                return self.registry.root_of(self.default_account, request.client_ip), auth.region
            raise unrecognized_client()
        token = request.header("x-amz-security-token")
        if (identity.session_token or token) and not (
            identity.session_token and token and hmac.compare_digest(identity.session_token.encode(), token.encode())
        ):
            raise unrecognized_client()
        sigv4.check_clock_skew(signed_at, self._now())
        sigv4.verify_signature(
            auth,
            identity.secret_access_key,
            method=request.method,
            raw_path=request.raw_path,
            query=request.query,
            headers=request.headers,
            body=request.body,
            amz_date=amz_date,
            session_token=identity.session_token,
        )
        return self.registry.caller_for(identity, request.client_ip), auth.region
