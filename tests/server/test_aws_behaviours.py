"""The table of AWS behaviours (tests/kms/aws_behaviours.yaml), each entry through LocalKms and through
boto3 against the server: the same error code, exact message (or none, where AWS sends none), HTTP
status, or exactly the response fields AWS returns. The table says where each answer was observed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError

from policyengine.kms import snake_case
from tests.server.dual import LocalClient

TABLE = Path(__file__).parent.parent / "kms" / "aws_behaviours.yaml"
BEHAVIOURS: list[dict[str, Any]] = yaml.safe_load(TABLE.read_text(encoding="utf-8"))


def _given(client: Any, name: str) -> str:
    """Make the key an entry is about; its ARN."""
    specs: dict[str, dict[str, str]] = {
        "symmetric": {},
        "rsa_encrypt": {"KeySpec": "RSA_2048", "KeyUsage": "ENCRYPT_DECRYPT"},
        "ecc_sign": {"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"},
        "disabled_ecc_sign": {"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"},
        "hmac_224": {"KeySpec": "HMAC_224", "KeyUsage": "GENERATE_VERIFY_MAC"},
        "hmac_256": {"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"},
        "external": {"Origin": "EXTERNAL"},
    }
    arn = str(client.create_key(**specs[name])["KeyMetadata"]["Arn"])
    if name.startswith("disabled_"):
        client.disable_key(KeyId=arn)
    return arn


def _value(value: Any, names: dict[str, str]) -> Any:
    """Table values to call values: ``{bytes: n}``, ``{tags: n}`` and ``${key}`` placeholders."""
    if isinstance(value, dict) and set(value) == {"bytes"}:
        return b"\x01" * int(value["bytes"])
    if isinstance(value, dict) and set(value) == {"tags"}:
        return [{"TagKey": f"k{i}", "TagValue": "v"} for i in range(int(value["tags"]))]
    if isinstance(value, dict):
        return {k: _value(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_value(v, names) for v in value]
    if isinstance(value, str):
        for name, replacement in names.items():
            value = value.replace("${" + name + "}", replacement)
    return value


def test_the_table_is_well_formed() -> None:
    """Every entry names its source and expects either an error or fields."""
    assert len(BEHAVIOURS) >= 25
    for entry in BEHAVIOURS:
        assert entry["source"] and entry["operation"] and ("code" in entry["expect"]) != ("fields" in entry["expect"])


@pytest.mark.parametrize("entry", BEHAVIOURS, ids=[b["name"] for b in BEHAVIOURS])
def test_aws_behaviour(client: Any, entry: dict[str, Any]) -> None:
    if entry.get("server_only") and isinstance(client, LocalClient):
        pytest.skip("a wire-protocol behaviour")
    names: dict[str, str] = {}
    if "given" in entry:
        names["key"] = _given(client, entry["given"])
        names["key_id"] = names["key"].rsplit("/", 1)[1]
    call = getattr(client, snake_case(entry["operation"]))
    params = _value(entry.get("params") or {}, names)
    expect = entry["expect"]
    if "fields" in expect:
        response = call(**params)
        for member, fields in expect["fields"].items():
            assert sorted(response[member]) == sorted(fields), entry["source"]
        return
    with pytest.raises(ClientError) as error:
        call(**params)
    answer = error.value.response
    assert answer["Error"]["Code"] == expect["code"], entry["source"]
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == expect["status"]
    if expect["message"] is None:
        assert answer["Error"]["Message"] == "" and "message" not in answer, entry["source"]
    else:
        assert answer["Error"]["Message"] == _value(expect["message"], names), entry["source"]
