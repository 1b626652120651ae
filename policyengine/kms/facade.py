"""``LocalKms``: the AWS KMS API, locally, with every call authorized by the evaluator first.

Method names are boto3's KMS client method names; keyword arguments are the API's parameter
names; responses have the API's shapes (blobs as bytes, timestamps as aware datetimes).
Errors are ``policyengine.kms.errors`` classes named and coded like AWS's.

::

    kms = LocalKms(MemoryKeyStore(), master_key=os.urandom(32))
    alice = Caller("arn:aws:iam::111122223333:user/alice", "111122223333", identity_policies=(...,))
    key = kms.create_key(root_caller("111122223333"))["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(alice, KeyId=key, Plaintext=b"hi")["CiphertextBlob"]   # AccessDeniedException unless allowed
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from policyengine.aws_facts import API_OPERATIONS
from policyengine.kms.clock import Clock
from policyengine.kms.custom_key_stores import CustomKeyStoreOps
from policyengine.kms.ops_agreement import AgreementOps
from policyengine.kms.ops_aliases import AliasOps
from policyengine.kms.ops_crypto import CryptoOps
from policyengine.kms.ops_grants import GrantOps
from policyengine.kms.ops_import import ImportOps
from policyengine.kms.ops_multi_region import MultiRegionOps
from policyengine.kms.ops_rotation import RotationOps
from policyengine.kms.ops_usage import UsageOps
from policyengine.store import StoreError
from policyengine.store.masterkey import load_or_create_master_key
from policyengine.store.sqlite import SqliteKeyStore

if TYPE_CHECKING:
    from policyengine.store.postgres import PostgresKeyStore


class LocalKms(MultiRegionOps, CryptoOps, AgreementOps, AliasOps, GrantOps, RotationOps, ImportOps, CustomKeyStoreOps, UsageOps):
    """The local KMS. See the module docstring."""


def snake_case(operation: str) -> str:
    """``GenerateDataKeyPair`` -> ``generate_data_key_pair`` (boto3's method names)."""
    out = []
    for i, char in enumerate(operation):
        if char.isupper() and i and (not operation[i - 1].isupper() or (i + 1 < len(operation) and operation[i + 1].islower())):
            out.append("_")
        out.append(char.lower())
    return "".join(out)


#: Every operation LocalKms implements, by its AWS name: the KMS API operations of
#: ``policyengine.aws_facts`` that have a method here.
OPERATIONS = tuple(op for op in API_OPERATIONS if callable(getattr(LocalKms, snake_case(op), None)))


def open_local_kms(data_dir: str | Path, *, region: str = "us-east-1", clock: Clock | None = None) -> LocalKms:
    """The embedded default: SQLite state and a 0600 master key file under ``data_dir`` (made 0700).

    The store records a check value of its master key: a different key, or a missing key file
    for a store that holds sealed material, is refused with a ``StoreError`` saying what to
    restore, rather than replaced by a fresh key the old material cannot be opened with.
    """
    directory = Path(data_dir)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    store = SqliteKeyStore(directory / "kms.sqlite3")
    try:
        key_file = directory / "master.key"
        if not key_file.exists() and store.needs_its_master_key():
            raise StoreError(
                f"master key `{key_file}` is missing, and store `{store.path}` holds key material sealed under it: "
                "restore that master.key (from the backup of this data directory)"
            )
        master_key = load_or_create_master_key(key_file)
        store.check_master_key(master_key)
    except BaseException:
        store.close()
        raise
    return LocalKms(store, master_key, region=region, clock=clock)


def open_postgres_store(url: str) -> PostgresKeyStore:
    """The shared store at a ``postgresql://`` URL (needs the ``postgres`` extra, which brings psycopg).

    Imported only when asked for, so SQLite users never need psycopg. Raises ``StoreError`` (one
    line) for a bad URL, a server that is down, or a database whose schema is missing or stale.
    """
    from policyengine.store.postgres import PostgresKeyStore

    return PostgresKeyStore(url)


def upgrade_postgres_store(url: str) -> tuple[str, int, int]:
    """Create or migrate the schema of the store at ``url``: (the URL without password, version before, after)."""
    from policyengine.store.postgres import describe_url, upgrade

    before, after = upgrade(url)
    return describe_url(url), before, after
