"""Concurrency: eight threads on the same keys lose no update, fail no valid decrypt, and leave one audit record per call.

The same workload runs through the facade on a SqliteKeyStore and through the server (boto3,
SQLite store). Every thread, every round: encrypt and decrypt on two shared keys, try an
on-demand rotation of one, put a policy on the other, create and retire a grant, move a shared
alias between the keys, set its own tag on a shared key, and create and delete an alias of its
own. Lost updates would show as missing tags, miscounted rotations or grants left behind; a
broken read path as a failed decrypt; a broken audit as a record count that differs from the calls.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from policyengine.kms import KMSError, LocalKms, root_caller
from policyengine.kms.ops_rotation import MAX_ON_DEMAND_ROTATIONS
from policyengine.server import ServerConfig
from policyengine.store.sqlite import SqliteKeyStore
from tests.reliability.conftest import TEST_ACCOUNT, background_server, count, kms_client

THREADS = 8
ROUNDS = 12
ROOT_ARN = f"arn:aws:iam::{TEST_ACCOUNT}:root"


class Refused(Exception):
    """A call answered with an error: its AWS error code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


Call = Callable[..., dict[str, Any]]


def _policy(marker: str) -> str:
    statement = {"Sid": marker, "Effect": "Allow", "Principal": {"AWS": ROOT_ARN}, "Action": "kms:*", "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _run_workload(make_call: Callable[[], Call], audit_count: Callable[[], int]) -> None:
    """Drive the workload with THREADS threads (each with its own ``make_call()``) and check everything after."""
    setup = make_call()
    rotated = setup("create_key", Description="rotated")["KeyMetadata"]["KeyId"]
    shared = setup("create_key", Description="shared")["KeyMetadata"]["KeyId"]
    setup("create_alias", AliasName="alias/moving", TargetKeyId=rotated)
    before = audit_count()
    calls: Counter[str] = Counter()
    rotations: Counter[str] = Counter()
    policies_put: set[str] = set()
    ciphertexts: list[tuple[str, bytes, bytes, dict[str, str]]] = []
    failures: list[str] = []
    lock = threading.Lock()

    def worker(number: int) -> None:
        call = make_call()
        mine: Counter[str] = Counter()

        def do(operation: str, **params: Any) -> dict[str, Any]:
            mine[operation] += 1
            return call(operation, **params)

        try:
            for round_ in range(ROUNDS):
                marker = f"t{number}r{round_}"
                for key in (rotated, shared):
                    plaintext = f"{marker}-{key}".encode()
                    context = {"thread": str(number), "round": str(round_)}
                    blob = do("encrypt", KeyId=key, Plaintext=plaintext, EncryptionContext=context)["CiphertextBlob"]
                    assert do("decrypt", CiphertextBlob=blob, EncryptionContext=context)["Plaintext"] == plaintext
                    with lock:
                        ciphertexts.append((key, blob, plaintext, context))
                try:
                    do("rotate_key_on_demand", KeyId=rotated)
                    outcome = "rotated"
                except Refused as refusal:
                    outcome = refusal.code
                do("put_key_policy", KeyId=shared, PolicyName="default", Policy=_policy(marker))
                grant = do(
                    "create_grant", KeyId=rotated, GranteePrincipal=ROOT_ARN, Operations=["Decrypt"], RetiringPrincipal=ROOT_ARN
                )
                do("retire_grant", GrantToken=grant["GrantToken"])
                do("update_alias", AliasName="alias/moving", TargetKeyId=(rotated, shared)[round_ % 2])
                do("tag_resource", KeyId=shared, Tags=[{"TagKey": f"thread-{number}", "TagValue": str(round_)}])
                do("create_alias", AliasName=f"alias/{marker}", TargetKeyId=shared)
                do("delete_alias", AliasName=f"alias/{marker}")
                with lock:
                    rotations[outcome] += 1
                    policies_put.add(_policy(marker))
        except BaseException as error:  # reported below, with the thread
            failures.append(f"thread {number}: {error!r}")
        finally:
            with lock:
                calls.update(mine)

    threads = [threading.Thread(target=worker, args=(n,), name=f"concurrent-{n}") for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    made = sum(calls.values())
    assert audit_count() - before == made, "audit records differ from the calls made"

    check = make_call()
    attempts = THREADS * ROUNDS
    assert rotations["rotated"] == min(attempts, MAX_ON_DEMAND_ROTATIONS)
    assert rotations["LimitExceededException"] == attempts - rotations["rotated"]
    listed = check("list_key_rotations", KeyId=rotated, Limit=1000)["Rotations"]
    assert sum(1 for r in listed if r["RotationType"] == "ON_DEMAND") == rotations["rotated"]
    tags = {t["TagKey"]: t["TagValue"] for t in check("list_resource_tags", KeyId=shared, Limit=50)["Tags"]}
    assert tags == {f"thread-{n}": str(ROUNDS - 1) for n in range(THREADS)}, "a tag update was lost"
    assert check("list_grants", KeyId=rotated, Limit=1000)["Grants"] == [], "a retired grant is still there"
    assert check("get_key_policy", KeyId=shared, PolicyName="default")["Policy"] in policies_put
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in check("list_aliases", Limit=1000)["Aliases"]}
    assert aliases["alias/moving"] in (rotated, shared)
    assert not [name for name in aliases if name.startswith("alias/t")], "an alias of a thread was left behind"
    for _, blob, plaintext, context in ciphertexts:  # every ciphertext still decrypts after all the rotations
        assert check("decrypt", CiphertextBlob=blob, EncryptionContext=context)["Plaintext"] == plaintext
    count("concurrency.operations", made)
    count("concurrency.audit_records_checked", made)
    count("concurrency.ciphertexts_redecrypted", len(ciphertexts))


def test_threads_on_the_facade_over_sqlite(tmp_path: Path) -> None:
    """Eight threads share one LocalKms on SQLite: no lost update, no failed decrypt, one audit record per call."""
    store = SqliteKeyStore(tmp_path / "kms.sqlite3")
    kms = LocalKms(store, os.urandom(32))
    root = root_caller(TEST_ACCOUNT)

    def make_call() -> Call:
        def call(operation: str, **params: Any) -> dict[str, Any]:
            try:
                return dict(getattr(kms, operation)(root, **params))
            except KMSError as error:
                raise Refused(error.code) from None

        return call

    def audit_count() -> int:
        return sum(1 for _ in store.audit_records())

    try:
        _run_workload(make_call, audit_count)
    finally:
        store.close()


@pytest.mark.parametrize("threads", [THREADS])
def test_threads_through_the_server(tmp_path: Path, threads: int) -> None:
    """Eight boto3 clients on one server (SQLite store): the same guarantees over the wire."""
    config = ServerConfig(
        host="127.0.0.1", port=0, data_dir=tmp_path / "data", test_mode=True, log_requests=False, threads=threads
    )
    with background_server(config) as server:
        store = server.app.state.view("us-east-1").store
        assert isinstance(store, SqliteKeyStore)

        def make_call() -> Call:
            kms = kms_client(server.endpoint_url)

            def call(operation: str, **params: Any) -> dict[str, Any]:
                try:
                    return dict(getattr(kms, operation)(**params))
                except ClientError as error:
                    assert error.response["ResponseMetadata"]["HTTPStatusCode"] < 500, error
                    raise Refused(error.response["Error"]["Code"]) from None

            return call

        def audit_count() -> int:
            return sum(1 for _ in store.audit_records())

        _run_workload(make_call, audit_count)
