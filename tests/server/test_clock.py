"""Test mode moves time over the wire (POST /_clock) and through the fixture, so deletion windows,
rotation periods and import expiry are testable without waiting; outside test mode there is no clock."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from policyengine.pytest_plugin import LocalKmsFixture
from tests.server.conftest import Server


def _advance(server: Server, **body: float) -> float:
    status, answer = server.send("POST", "/_clock", {"Content-Type": "application/json"}, json.dumps(body).encode())
    assert status == 200, answer
    return float(answer["now"])


def test_deletion_window_passes_over_the_wire(server: Server, admin: Any) -> None:
    """A key scheduled for deletion in 7 days is gone once the server's clock moved 7 days and a second."""
    key = admin.create_key()["KeyMetadata"]["Arn"]
    admin.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    _advance(server, advance_days=6)
    assert admin.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    _advance(server, advance_days=1, advance_seconds=1)
    with pytest.raises(ClientError) as error:
        admin.describe_key(KeyId=key)
    assert error.value.response["Error"]["Code"] == "NotFoundException"


def test_rotation_and_import_expiry_come_due(server: Server, admin: Any) -> None:
    """Automatic rotation adds a rotation after its period; imported material expires at ValidTo."""
    key = admin.create_key()["KeyMetadata"]["Arn"]
    admin.enable_key_rotation(KeyId=key, RotationPeriodInDays=90)
    _advance(server, advance_days=91)
    assert [r["RotationType"] for r in admin.list_key_rotations(KeyId=key)["Rotations"]] == ["AUTOMATIC"]
    external = admin.create_key(Origin="EXTERNAL")["KeyMetadata"]["Arn"]
    params = admin.get_parameters_for_import(KeyId=external, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    public = serialization.load_der_public_key(params["PublicKey"])
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    wrapped = public.encrypt(os.urandom(32), oaep)  # type: ignore[union-attr]
    now = datetime.fromtimestamp(_advance(server, advance_seconds=0), UTC)
    admin.import_key_material(
        KeyId=external,
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=wrapped,
        ExpirationModel="KEY_MATERIAL_EXPIRES",
        ValidTo=now + timedelta(days=2),
    )
    assert admin.describe_key(KeyId=external)["KeyMetadata"]["KeyState"] == "Enabled"
    _advance(server, advance_days=3)
    assert admin.describe_key(KeyId=external)["KeyMetadata"]["KeyState"] == "PendingImport"


def test_the_clock_only_moves_forward(server: Server) -> None:
    """Going back, or a body that names nothing to do, is a ValidationException."""
    for body in ({"advance_days": -1}, {"now": 0}, {"later": 1}, {}):
        status, answer = server.send("POST", "/_clock", {}, json.dumps(body).encode())
        assert status == 400 and answer["__type"] == "ValidationException"


def test_fixture_advances_the_clock(local_kms: LocalKmsFixture) -> None:
    """local_kms.advance_clock(days=...) does the same for an application's tests."""
    admin = local_kms.client()
    key = admin.create_key()["KeyMetadata"]["Arn"]
    admin.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    local_kms.advance_clock(days=8)
    with pytest.raises(ClientError):
        admin.describe_key(KeyId=key)


def test_servers_sharing_a_store_share_the_moved_clock(tmp_path: Any) -> None:
    """Two test-mode servers on one SQLite data directory (as ``--workers`` processes are): time moved
    through one is the other's time at its next call, deletion comes due once for both, and a key made
    afterwards through the other is dated in the moved time (the offset lives in the store)."""
    from policyengine.server import BackgroundServer, ServerConfig
    from tests.server.conftest import write_identities

    identities = write_identities(tmp_path)
    config = ServerConfig(
        host="127.0.0.1", port=0, data_dir=tmp_path / "data", identities=identities, test_mode=True, log_requests=False
    )
    with BackgroundServer(config) as first, BackgroundServer(config) as second:
        one, two = Server(first), Server(second)
        admin_one, admin_two = one.client(), two.client()
        key = admin_one.create_key()["KeyMetadata"]["Arn"]
        admin_one.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
        moved = _advance(one, advance_days=8)
        with pytest.raises(ClientError) as gone:
            admin_two.describe_key(KeyId=key)
        assert gone.value.response["Error"]["Code"] == "NotFoundException"
        created = admin_two.create_key()["KeyMetadata"]["CreationDate"].timestamp()
        assert moved - 5 <= created <= moved + 60
        assert _advance(two, advance_seconds=0) >= moved  # the second never reads an earlier time
