"""pytest plugin: a ``local_kms`` fixture, so an application's tests can check its KMS calls.

The fixture is a real KMS server (``policyengine serve --test-mode``) on a free loopback port,
shared by the test session and wiped before every test. Give it the identities your code runs
as and the key policies you ship, and assert that the calls your code makes are allowed — and
that the ones it must not make are denied — exactly as AWS would decide::

    def test_worker_cannot_decrypt(local_kms):
        admin = local_kms.client()                                  # root of 123456789012
        key = admin.create_key(Policy=json.dumps(MY_KEY_POLICY))["KeyMetadata"]["Arn"]
        local_kms.add_identity("AKIAWORKER", "secret", "arn:aws:iam::123456789012:role/worker",
                               identity_policies=[WORKER_POLICY])
        worker = local_kms.client(access_key="AKIAWORKER")
        with pytest.raises(botocore.exceptions.ClientError) as denied:
            worker.decrypt(CiphertextBlob=admin.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"])
        assert denied.value.response["Error"]["Code"] == "AccessDeniedException"

Code that builds its own clients can be pointed at the server with ``local_kms.environ()``
(``AWS_ENDPOINT_URL_KMS`` and credentials), e.g. through ``monkeypatch.setenv``.

The plugin imports nothing heavy until a test asks for the fixture, so installing policyengine
does not slow down unrelated test suites.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pathlib import Path

    from policyengine.server import BackgroundServer
    from policyengine.server.denials import Denial
    from policyengine.server.seed import Seed

__all__ = ["LocalKmsFixture", "local_kms", "local_kms_server"]

#: The secret used for access keys the fixture was not told about (test mode does not check it).
ANY_SECRET = "policyengine-test-secret"


class LocalKmsFixture:
    """A running test-mode KMS server: its endpoint, boto3 clients for identities, and set-up helpers."""

    def __init__(self, server: BackgroundServer, region: str = "us-east-1") -> None:
        self._server = server
        self.endpoint_url = server.endpoint_url
        self.region = region
        self.default_account: str = server.app.authenticator.default_account
        self._secrets: dict[str, tuple[str, str | None]] = {}
        self._seeds: list[Seed] = []

    def load(self, snapshot: str | Path | Mapping[str, Any] | Any) -> Seed:
        """Start this test from an account snapshot (a file, its data, or a ``Snapshot``; the format of
        ``policyengine snapshot import`` and ``can -s``): its keys with their own key ids and ARNs, key
        policies, grants, aliases and tags, and its users and roles, who sign with their IAM policies,
        boundaries and the organization's SCPs (RCPs guard the keys). Sign as one with
        ``client(principal="arn:aws:iam::...:role/app")``. Key material is new: production ciphertexts
        do not decrypt. A bad snapshot raises ``SnapshotError`` naming the field."""
        from policyengine.server.seed import load_seed

        seed = load_seed(snapshot)
        seed.apply(self._server.app)
        for principal in seed.principals:
            self._secrets[principal.access_key] = (ANY_SECRET, None)
        self._seeds.append(seed)
        return seed

    def access_key(self, principal: str) -> str:
        """The access key a principal of a loaded snapshot signs with (by ARN, role session ARN or ``role/name``)."""
        if not self._seeds:
            raise LookupError("no snapshot is loaded: call local_kms.load(snapshot) first")
        failure: Exception | None = None
        for seed in reversed(self._seeds):
            try:
                return seed.access_key(principal)
            except Exception as error:  # SnapshotError: not in this snapshot
                failure = error
        assert failure is not None
        raise failure

    def client(
        self,
        access_key: str = "AKIAPOLICYENGINETEST",
        *,
        principal: str | None = None,
        region: str | None = None,
        secret_key: str | None = None,
        session_token: str | None = None,
    ) -> Any:
        """A boto3 KMS client signing as ``access_key`` (or as a loaded snapshot's ``principal``);
        unknown access keys act as the default account's root."""
        import boto3
        from botocore.config import Config

        if principal is not None:
            access_key = self.access_key(principal)
        known_secret, known_token = self._secrets.get(access_key, (ANY_SECRET, None))
        session = boto3.session.Session(
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key if secret_key is not None else known_secret,
            aws_session_token=session_token if session_token is not None else known_token,
            region_name=region or self.region,
        )
        return session.client(
            "kms", endpoint_url=self.endpoint_url, config=Config(retries={"max_attempts": 1, "mode": "standard"})
        )

    def add_identity(
        self,
        access_key: str,
        secret: str,
        principal: str,
        account: str | None = None,
        identity_policies: Sequence[Mapping[str, Any] | str] = (),
        **facts: Any,
    ) -> None:
        """Let ``access_key``/``secret`` sign as ``principal`` holding ``identity_policies`` (dicts or paths).

        ``facts`` are the other fields of an identities-file entry: ``permissions_boundary``,
        ``session_policy``, ``scp_levels``, ``tags``, ``mfa``, ``source_ip``, ``secure_transport``,
        ``session_token``, ``identity_arn``. The identity lasts until the end of the test.
        """
        from policyengine.server import identity_from_entry

        entry: dict[str, Any] = {
            "secret_access_key": secret,
            "principal": principal,
            "identity_policies": [dict(p) if isinstance(p, Mapping) else p for p in identity_policies],
            **facts,
        }
        if account is not None:
            entry["account"] = account
        identity = identity_from_entry(access_key, entry, source="local_kms.add_identity")
        self._server.app.registry.add(identity)
        self._secrets[access_key] = (secret, identity.session_token)

    def environ(
        self, access_key: str = "AKIAPOLICYENGINETEST", *, principal: str | None = None, region: str | None = None
    ) -> dict[str, str]:
        """Environment variables that point SDKs at this server as ``access_key`` (or a loaded snapshot's ``principal``)."""
        if principal is not None:
            access_key = self.access_key(principal)
        secret, token = self._secrets.get(access_key, (ANY_SECRET, None))
        env = {
            "AWS_ENDPOINT_URL_KMS": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_DEFAULT_REGION": region or self.region,
            "AWS_REGION": region or self.region,
        }
        if token is not None:
            env["AWS_SESSION_TOKEN"] = token
        return env

    def advance_clock(self, *, days: float = 0, seconds: float = 0) -> None:
        """Move the server's clock forward: deletion windows, rotation periods and import expiry that
        come due are carried out by the next call, as AWS would have by then. Time is not moved back
        at the end of the test (scheduled times are absolute; later tests create their own keys)."""
        self._server.app.move_clock(days=days, seconds=seconds)

    def last_denial(self) -> Denial | None:
        """The newest call the server refused in this test, or None: ``.explanation`` is the decision, its
        reason and the deciding statements as ``policyengine simulate --explain`` prints them, ``.decision``
        the Decision itself, ``.message`` AWS's AccessDeniedException message (what the client saw)."""
        denials = self._server.app.denials.all()
        return denials[-1] if denials else None

    def denials(self) -> list[Denial]:
        """Every call refused in this test, oldest first (the newest 64)."""
        return self._server.app.denials.all()

    def reset(self) -> None:
        """Wipe every key, alias and grant, forget identities added with ``add_identity``, loaded snapshots and
        past denials."""
        self._server.app.reset()
        self._secrets.clear()
        self._seeds.clear()


@pytest.fixture(scope="session")
def local_kms_server() -> Iterator[BackgroundServer]:
    """One test-mode KMS server for the session, in memory, on a free loopback port."""
    from policyengine.server import BackgroundServer, ServerConfig

    config = ServerConfig(host="127.0.0.1", port=0, test_mode=True, log_requests=False)
    with BackgroundServer(config) as server:
        yield server


@pytest.fixture
def local_kms(request: pytest.FixtureRequest, local_kms_server: BackgroundServer) -> Iterator[LocalKmsFixture]:
    """The session's KMS server, wiped clean for this test (keys, aliases, grants and added identities)."""
    fixture = LocalKmsFixture(local_kms_server)
    fixture.reset()
    request.node.stash[_DENIALS] = fixture.denials
    yield fixture
    fixture.reset()


_DENIALS = pytest.StashKey[Any]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed test that used ``local_kms`` gets a report section explaining each call the server refused."""
    report = yield
    denials = item.stash.get(_DENIALS, None)
    if denials is not None and report.when == "call" and report.failed:
        refused = denials()
        if refused:
            text = "\n\n".join(str(denial) for denial in refused)
            report.sections.append(("policyengine: why the local KMS denied", text))
    return report
