"""The local KMS over AWS's wire protocol, so unmodified SDKs (boto3, the AWS CLI, the Encryption SDK) use it.

``policyengine serve`` runs it; ``BackgroundServer`` runs it on a thread for tests. A request
flows through one module per step::

    app.py         ASGI: read the body (size-limited), hand the work to a thread, answer, log a line
    auth.py        SigV4 credential scope -> region; access key -> identity -> Caller
    sigv4.py       the signature, recomputed with botocore's signer and compared in constant time
    identities.py  the identities file: access keys, secrets, principals, policies, session facts
    protocol.py    AWS JSON 1.1 framing: X-Amz-Target, JSON bodies, {"__type", "message"} errors
    dispatch.py    operation name -> LocalKms method; DryRun; unsupported operations
    shapes.py      botocore's service model: base64 blobs, epoch timestamps, AWS's validation messages
    state.py       one store, a LocalKms view per region, reset for test mode
    config.py      ServerConfig and the default data directory
    runner.py      uvicorn in the foreground (signals, workers) or on a background thread

Names are imported on first use (``policyengine._lazy``): `policyengine serve --help` reads only
``config`` (the ``--store`` environment variable), not the app, uvicorn or the KMS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from policyengine._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "KmsApp": "policyengine.server.app",
    "build_app": "policyengine.server.app",
    "DEFAULT_ACCOUNT": "policyengine.server.auth",
    "STORE_ENV_VAR": "policyengine.server.config",
    "ServerConfig": "policyengine.server.config",
    "default_data_dir": "policyengine.server.config",
    "is_store_url": "policyengine.server.config",
    "WireError": "policyengine.server.errors",
    "IdentitiesError": "policyengine.server.identities",
    "Identity": "policyengine.server.identities",
    "IdentityRegistry": "policyengine.server.identities",
    "identity_from_entry": "policyengine.server.identities",
    "load_identities": "policyengine.server.identities",
    "BackgroundServer": "policyengine.server.runner",
    "serve": "policyengine.server.runner",
}

__all__ = [
    "DEFAULT_ACCOUNT",
    "STORE_ENV_VAR",
    "BackgroundServer",
    "IdentitiesError",
    "Identity",
    "IdentityRegistry",
    "KmsApp",
    "ServerConfig",
    "WireError",
    "build_app",
    "default_data_dir",
    "identity_from_entry",
    "is_store_url",
    "load_identities",
    "serve",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from policyengine.server.app import KmsApp, build_app
    from policyengine.server.auth import DEFAULT_ACCOUNT
    from policyengine.server.config import STORE_ENV_VAR, ServerConfig, default_data_dir, is_store_url
    from policyengine.server.errors import WireError
    from policyengine.server.identities import IdentitiesError, Identity, IdentityRegistry, identity_from_entry, load_identities
    from policyengine.server.runner import BackgroundServer, serve
