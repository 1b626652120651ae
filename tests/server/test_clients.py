"""Unmodified AWS clients against the server: the AWS CLI and the AWS Encryption SDK."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import ACCOUNT, IDENTITIES, Server


@pytest.fixture
def aws_env(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment pointing SDKs at the server as the admin identity, isolated from any local AWS config."""
    values = {
        "AWS_ENDPOINT_URL_KMS": server.endpoint_url,
        "AWS_ACCESS_KEY_ID": "AKIAADMIN0000EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": IDENTITIES["AKIAADMIN0000EXAMPLE"]["secret_access_key"],
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return {**os.environ, **values}


def _aws_cli() -> list[str]:
    """The AWS CLI installed with the test extra: beside this interpreter first, then on PATH."""
    beside = Path(sys.executable).parent / "aws"
    if beside.is_file():
        return [sys.executable, str(beside)]
    found = shutil.which("aws")
    assert found is not None, "the AWS CLI (awscli, in the test extra) is not installed"
    return [found]


def _aws(env: dict[str, str], endpoint: str, *args: str) -> Any:
    result = subprocess.run(
        [*_aws_cli(), "--endpoint-url", endpoint, "--output", "json", "kms", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


def test_aws_cli_create_encrypt_decrypt(server: Server, aws_env: dict[str, str], tmp_path: Path) -> None:
    """`aws kms create-key`, `encrypt --plaintext fileb://` and `decrypt --ciphertext-blob fileb://` round-trip."""
    key = _aws(aws_env, server.endpoint_url, "create-key", "--description", "from the cli")["KeyMetadata"]
    assert key["Arn"].startswith(f"arn:aws:kms:us-east-1:{ACCOUNT}:key/")
    (tmp_path / "plain.bin").write_bytes(b"\x00cli secret\xff")
    encrypted = _aws(
        aws_env,
        server.endpoint_url,
        "encrypt",
        "--key-id",
        key["KeyId"],
        "--plaintext",
        f"fileb://{tmp_path / 'plain.bin'}",
        "--encryption-context",
        "app=cli",
    )
    assert encrypted["KeyId"] == key["Arn"]
    (tmp_path / "cipher.bin").write_bytes(base64.b64decode(encrypted["CiphertextBlob"]))
    decrypted = _aws(
        aws_env,
        server.endpoint_url,
        "decrypt",
        "--ciphertext-blob",
        f"fileb://{tmp_path / 'cipher.bin'}",
        "--encryption-context",
        "app=cli",
    )
    assert base64.b64decode(decrypted["Plaintext"]) == b"\x00cli secret\xff" and decrypted["KeyId"] == key["Arn"]


def test_encryption_sdk_round_trip_and_disabled_key(server: Server, admin: Any, aws_env: dict[str, str]) -> None:
    """The Encryption SDK (via AWS_ENDPOINT_URL_KMS) round-trips with a context and fails once the key is disabled."""
    esdk = pytest.importorskip("aws_encryption_sdk")
    import botocore.session

    key = admin.create_key()["KeyMetadata"]["Arn"]
    client = esdk.EncryptionSDKClient(commitment_policy=esdk.CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
    provider = esdk.StrictAwsKmsMasterKeyProvider(key_ids=[key], botocore_session=botocore.session.Session())
    ciphertext, _ = client.encrypt(source=b"envelope me", key_provider=provider, encryption_context={"tenant": "acme"})
    plaintext, header = client.decrypt(source=ciphertext, key_provider=provider)
    assert plaintext == b"envelope me" and header.encryption_context["tenant"] == "acme"
    admin.disable_key(KeyId=key)
    fresh = esdk.StrictAwsKmsMasterKeyProvider(key_ids=[key], botocore_session=botocore.session.Session())
    with pytest.raises(esdk.exceptions.DecryptKeyError):
        client.decrypt(source=ciphertext, key_provider=fresh)


def test_encryption_sdk_mrk_aware_provider_decrypts_with_a_replica(server: Server, admin: Any, aws_env: dict[str, str]) -> None:
    """ESDK's MRK-aware provider, given only the replica's ARN in another region, decrypts what the
    primary encrypted: the message names the primary, the replica shares its id and material."""
    esdk = pytest.importorskip("aws_encryption_sdk")
    import botocore.session
    from aws_encryption_sdk.key_providers.kms import MRKAwareStrictAwsKmsMasterKeyProvider

    key_id = admin.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    primary = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{key_id}"
    replica = admin.replicate_key(KeyId=key_id, ReplicaRegion="us-west-2")["ReplicaKeyMetadata"]["Arn"]
    client = esdk.EncryptionSDKClient(commitment_policy=esdk.CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
    writer = MRKAwareStrictAwsKmsMasterKeyProvider(key_ids=[primary], botocore_session=botocore.session.Session())
    ciphertext, _ = client.encrypt(source=b"written in the east", key_provider=writer, encryption_context={"app": "mrk"})
    reader = MRKAwareStrictAwsKmsMasterKeyProvider(key_ids=[replica], botocore_session=botocore.session.Session())
    plaintext, header = client.decrypt(source=ciphertext, key_provider=reader)
    assert plaintext == b"written in the east" and header.encryption_context["app"] == "mrk"
    unrelated = admin.create_key(MultiRegion=True)["KeyMetadata"]["Arn"]
    stranger = MRKAwareStrictAwsKmsMasterKeyProvider(key_ids=[unrelated], botocore_session=botocore.session.Session())
    with pytest.raises(esdk.exceptions.DecryptKeyError):
        client.decrypt(source=ciphertext, key_provider=stranger)


def test_aws_cli_multi_region_key(server: Server, aws_env: dict[str, str]) -> None:
    """`aws kms create-key --multi-region`, `replicate-key` and `describe-key --region` on the replica."""
    key = _aws(aws_env, server.endpoint_url, "create-key", "--multi-region")["KeyMetadata"]
    assert key["KeyId"].startswith("mrk-") and key["MultiRegion"] is True
    _aws(aws_env, server.endpoint_url, "replicate-key", "--key-id", key["KeyId"], "--replica-region", "eu-west-1")
    described = _aws(aws_env, server.endpoint_url, "describe-key", "--key-id", key["KeyId"], "--region", "eu-west-1")
    assert described["KeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
