"""Fuzzing the LocalKms facade directly: any parameters to any operation give a response or a KMSError, audited once.

The Python API takes any Python objects, so this reaches what the wire cannot send (bytes where
text belongs, ``datetime`` objects, huge integers) as well as what it can. Parameters follow
botocore's model of each operation's input, with wrong types and hostile values mixed in.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from hypothesis import given

from policyengine.kms import OPERATIONS, KMSError, LocalKms, root_caller, snake_case
from policyengine.store.memory import MemoryKeyStore
from policyengine.store.sqlite import SqliteKeyStore
from tests.reliability.conftest import count, fuzz_settings
from tests.reliability.strategies import random_text, seeds

MODEL = botocore.session.get_session().get_service_model("kms")
ACCOUNT = "111122223333"
ROOT = root_caller(ACCOUNT)
SLOW_SPECS = ("RSA_3072", "RSA_4096")


@pytest.fixture(scope="module", params=["memory", "sqlite"])
def facade(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalKms, list[str]]]:
    """A LocalKms on each store with a symmetric key, an HMAC key and an alias to aim at."""
    store = MemoryKeyStore() if request.param == "memory" else SqliteKeyStore(tmp_path_factory.mktemp("facade") / "kms.sqlite3")
    kms = LocalKms(store, os.urandom(32))
    refs: list[str] = []
    for spec, usage in (("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"), ("HMAC_256", "GENERATE_VERIFY_MAC")):
        meta = kms.create_key(ROOT, KeySpec=spec, KeyUsage=usage)["KeyMetadata"]
        refs += [meta["KeyId"], meta["Arn"]]
    kms.create_alias(ROOT, AliasName="alias/fuzz", TargetKeyId=refs[0])
    refs += ["alias/fuzz", f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/fuzz"]
    yield kms, refs
    store.close()


def _audit_count(kms: LocalKms) -> int:
    """Committed audit records (a change's record is written in the change's own transaction, so
    counting the store's appends would miss it)."""
    return sum(1 for _ in kms.store.audit_records())


def _value(rng: random.Random, shape: Any, name: str, refs: list[str], depth: int = 0) -> Any:
    """A Python value for ``shape``: usually of the right type, sometimes of any other."""
    if rng.random() < 0.08:
        return rng.choice(
            [None, True, 0, -1, 2**80, 1.5, "", b"\x00", bytearray(b"ab"), [], {}, ("t",), object(), dt.datetime(1970, 1, 1)]
        )
    kind = shape.type_name
    if kind == "structure" and depth < 4:
        out = {
            m: _value(rng, s, m, refs, depth + 1)
            for m, s in shape.members.items()
            if m in shape.required_members or rng.random() < 0.5
        }
        if rng.random() < 0.1:
            out[random_text(rng, 6) or "Unknown"] = random_text(rng)
        return out
    if kind == "list" and depth < 4:
        return [_value(rng, shape.member, name, refs, depth + 1) for _ in range(rng.choice([0, 1, 2, 3, 60]))]
    if kind == "map":
        return {random_text(rng, 6): random_text(rng) for _ in range(rng.choice([0, 1, 2, 9]))}
    if kind == "string":
        if shape.enum:
            return rng.choice([v for v in shape.enum if v not in SLOW_SPECS]) if rng.random() < 0.85 else random_text(rng)
        if "KeyId" in name or name in ("TargetKeyId", "DestinationKeyId", "SourceKeyId"):
            return rng.choice(refs) if rng.random() < 0.8 else random_text(rng, 40)
        if name in ("GranteePrincipal", "RetiringPrincipal"):
            return rng.choice([f"arn:aws:iam::{ACCOUNT}:user/u", f"arn:aws:iam::{ACCOUNT}:root", random_text(rng)])
        if name == "AliasName":
            return rng.choice(["alias/fuzz", "alias/aws/x", f"alias/{random_text(rng, 6)}", random_text(rng)])
        return random_text(rng, rng.choice([4, 16, 300]))
    if kind in ("integer", "long"):
        return rng.choice([0, 1, 7, 30, 1024, 1025, -5, 2**31, 2**63, rng.randint(-(10**6), 10**6)])
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "blob":
        return bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 16, 64, 5000])))
    if kind == "timestamp":
        return rng.choice([dt.datetime.now(dt.UTC) + dt.timedelta(days=rng.randint(-5, 500)), 1.7e9, "2030-01-01"])
    return None


@fuzz_settings(300)
@given(rng=seeds)
def test_fuzz_facade_raises_only_kms_errors_and_audits_each_call(facade: tuple[LocalKms, list[str]], rng: random.Random) -> None:
    """Any operation with any parameters returns a response or raises a KMSError, and leaves exactly one audit record."""
    kms, refs = facade
    operation = rng.choice(OPERATIONS)
    params = _value(rng, MODEL.operation_model(operation).input_shape, operation, refs)
    if not isinstance(params, dict):
        params = {}
    params.pop("DryRun", None)
    before = _audit_count(kms)
    count("fuzz.facade_calls")
    try:
        response = getattr(kms, snake_case(operation))(ROOT, **params)
        assert isinstance(response, dict)
    except KMSError as error:
        # AWS sends no message for a few answers (InvalidCiphertextException, KMSInvalidSignatureException...)
        assert error.code and isinstance(error.message, str) and error.status in (400, 500)
    assert _audit_count(kms) == before + 1, f"{operation} did not leave exactly one audit record"


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("generate_data_key", {"KeyId": "$KEY", "KeySpec": {}}),
        ("re_encrypt", {"CiphertextBlob": b"\x00" * 40, "SourceKeyId": 1.5, "DestinationKeyId": "$KEY"}),
        ("create_key", {"Description": "not unicode \udc80"}),
        ("encrypt", {"KeyId": "$KEY", "Plaintext": b"x", "EncryptionContext": {"k": "\ud800"}}),
    ],
    ids=["enum-of-the-wrong-type", "source-key-of-the-wrong-type", "unpaired-surrogate", "unpaired-surrogate-in-context"],
)
def test_inputs_found_by_fuzzing_are_validation_errors(
    facade: tuple[LocalKms, list[str]], operation: str, params: dict[str, Any]
) -> None:
    """Parameters fuzzing found escaping as TypeError, AttributeError or UnicodeEncodeError are ValidationExceptions."""
    kms, refs = facade
    params = {name: refs[0] if value == "$KEY" else value for name, value in params.items()}
    before = _audit_count(kms)
    with pytest.raises(KMSError) as error:
        getattr(kms, operation)(ROOT, **params)
    assert error.value.code == "ValidationException"
    assert _audit_count(kms) == before + 1
