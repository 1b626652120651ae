"""Grant tokens: what they carry, and checking the ones a request presents.

A token names its grant (so RetireGrant can take a token alone) and carries a random secret
compared in constant time, so a token cannot be forged from a grant id. AWS answers a request
carrying a token it cannot use with ``InvalidGrantTokenException`` (API Reference, the
``GrantTokens`` parameter and the errors of every operation that takes it; KMS DG "Using a
grant token"), so a malformed, forged or unknown token (one of a grant retired or revoked
since) is refused the same way, before authorization.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
from collections.abc import Iterable

from policyengine.kms.errors import InvalidGrantTokenException
from policyengine.store.base import StoreTransaction
from policyengine.store.records import GrantRecord

#: InvalidGrantTokenException's message (AWS's description of the error).
MESSAGE = "The grant token is not valid"


def make_token(grant_id: str) -> str:
    payload = json.dumps({"g": grant_id, "s": secrets.token_urlsafe(24)}).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def token_grant_id(token: str) -> str:
    """The grant id inside a token; InvalidGrantTokenException when it is not one of ours."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        grant_id = payload["g"]
        if not isinstance(grant_id, str):
            raise ValueError
        return grant_id
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidGrantTokenException(MESSAGE) from None


def grant_of_token(tx: StoreTransaction, token: str) -> GrantRecord:
    """The grant ``token`` belongs to; InvalidGrantTokenException when it is malformed, forged or unknown."""
    grant = tx.get_grant(token_grant_id(token))
    if grant is None or not hmac.compare_digest(grant.grant_token.encode(), token.encode()):
        raise InvalidGrantTokenException(MESSAGE)
    return grant


def check_tokens(tx: StoreTransaction, tokens: Iterable[str]) -> None:
    """Refuse the request when any token it presents is not the token of an existing grant."""
    for token in tokens:
        grant_of_token(tx, token)
