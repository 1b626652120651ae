"""Crash safety: SIGKILL `policyengine serve` mid-write, again and again, and lose nothing it acknowledged.

One data directory lives through every cycle. In each cycle the server starts on it, four client
threads drive writes through boto3 (CreateKey, PutKeyPolicy, CreateGrant, EnableKeyRotation,
RotateKeyOnDemand, Encrypt), and once a seeded random number of writes has been acknowledged the
server is killed with SIGKILL while the other writes are still in flight. Then:

* the SQLite file itself is checked (integrity, foreign keys, material versions 1..n, rotation
  counters equal to the rotations recorded): nothing half-written;
* the server is restarted on the same directory and every write acknowledged in the cycle is
  read back through it: keys describe, policies equal what was put, grants are listed, rotations
  are counted, and every ciphertext decrypts to its plaintext. A write whose answer never came
  may or may not have happened, but if it did, it happened completely.

At the end everything acknowledged in every cycle is checked once more.
"""

from __future__ import annotations

import json
import random
import signal
import socket
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tests.reliability.conftest import TEST_ACCOUNT, count, crash_kills, kms_client
from tests.server.test_serve_command import ServeProcess

THREADS = 4
ROOT = f"arn:aws:iam::{TEST_ACCOUNT}:root"
GRANTEE = f"arn:aws:iam::{TEST_ACCOUNT}:user/grantee"


def _policy(marker: str) -> str:
    """A key policy that keeps the account in control and names ``marker`` (so each put is distinct)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Sid": marker, "Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"}],
        }
    )


@dataclass
class KeyLedger:
    """What one client did to one key, in order: acknowledged writes, and at most one write of unknown outcome."""

    key_id: str
    policies: list[str] = field(default_factory=list)  # acknowledged PutKeyPolicy texts, in order
    policy_unknown: str | None = None
    grants: dict[str, str] = field(default_factory=dict)  # acknowledged grant name -> grant id
    grant_unknown: str | None = None  # name of a CreateGrant whose answer never came
    rotations: int = 0  # acknowledged RotateKeyOnDemand
    rotation_unknown: bool = False
    rotation_enabled: bool = False
    ciphertexts: list[tuple[bytes, bytes, dict[str, str]]] = field(default_factory=list)
    cycle: int = 0  # the cycle of its last acknowledged write


@dataclass
class Ledger:
    """Everything the clients were told, across cycles."""

    keys: dict[str, KeyLedger] = field(default_factory=dict)
    unknown_creates: list[str] = field(default_factory=list)  # descriptions of CreateKeys never answered
    acknowledged: int = 0
    unknown: int = 0
    server_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client(threading.Thread):
    """One boto3 client writing to the keys it created until the server stops answering."""

    def __init__(
        self, number: int, cycle: int, kms: Any, ledger: Ledger, owned: list[KeyLedger], acked: threading.Semaphore
    ) -> None:
        super().__init__(name=f"crash-client-{number}", daemon=True)
        self.number, self.cycle, self.ledger, self.owned, self.acked = number, cycle, ledger, owned, acked
        self.kms = kms
        self.rng = random.Random(f"{cycle}-{number}")
        self.step = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while self._one():
                self.step += 1
        except BaseException as error:  # reported by the test
            self.error = error

    def _one(self) -> bool:
        """Make one write; False once the server is gone."""
        marker = f"c{self.cycle}t{self.number}s{self.step}"
        choices = (
            ["create"] if not self.owned else ["create", "policy", "grant", "rotate", "rotate", "encrypt", "encrypt", "enable"]
        )
        action = self.rng.choice(choices)
        key = self.rng.choice(self.owned) if self.owned else None
        try:
            if action == "create":
                try:
                    meta = self.kms.create_key(Description=marker)["KeyMetadata"]
                except BotoCoreError:
                    self.ledger.unknown_creates.append(marker)
                    raise
                entry = KeyLedger(meta["KeyId"], cycle=self.cycle)
                self.owned.append(entry)
                with self.ledger.lock:
                    self.ledger.keys[entry.key_id] = entry
            elif action == "policy" and key is not None:
                text = _policy(marker)
                key.policy_unknown = text
                self.kms.put_key_policy(KeyId=key.key_id, PolicyName="default", Policy=text)
                key.policies.append(text)
                key.policy_unknown = None
            elif action == "grant" and key is not None:
                key.grant_unknown = marker
                grant = self.kms.create_grant(
                    KeyId=key.key_id, GranteePrincipal=GRANTEE, Operations=["Encrypt", "Decrypt"], Name=marker
                )
                key.grants[marker] = grant["GrantId"]
                key.grant_unknown = None
            elif action == "rotate" and key is not None:
                if key.rotations >= 10:  # AWS's limit of on-demand rotations per key
                    return True
                key.rotation_unknown = True
                self.kms.rotate_key_on_demand(KeyId=key.key_id)
                key.rotations += 1
                key.rotation_unknown = False
            elif action == "enable" and key is not None:
                self.kms.enable_key_rotation(KeyId=key.key_id, RotationPeriodInDays=self.rng.randint(90, 2560))
                key.rotation_enabled = True
            elif action == "encrypt" and key is not None:
                plaintext = self.rng.randbytes(self.rng.randint(1, 512))
                context = {"writer": marker}
                blob = self.kms.encrypt(KeyId=key.key_id, Plaintext=plaintext, EncryptionContext=context)["CiphertextBlob"]
                key.ciphertexts.append((blob, plaintext, context))
            else:
                return True
        except BotoCoreError:  # no answer: the server was killed while this write was in flight
            with self.ledger.lock:
                self.ledger.unknown += 1
            return False
        except ClientError as error:
            if error.response["ResponseMetadata"]["HTTPStatusCode"] >= 500:
                self.ledger.server_errors.append(f"{action}: {error}")
            return True
        if key is not None:
            key.cycle = self.cycle
        with self.ledger.lock:
            self.ledger.acknowledged += 1
        self.acked.release()
        return True


def _check_store_file(data: Path, ledger: Ledger) -> None:
    """The SQLite file, read directly after the kill: intact, and no key half-made or half-rotated."""
    with sqlite3.connect(data / "kms.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        rows = conn.execute("SELECT key_id, on_demand_rotations, policy FROM keys").fetchall()
        for key_id, on_demand, policy in rows:
            versions = [v for (v,) in conn.execute("SELECT version FROM materials WHERE key_id = ? ORDER BY version", (key_id,))]
            assert versions == list(range(1, len(versions) + 1)) and versions, f"key {key_id} has material versions {versions}"
            recorded = conn.execute(
                "SELECT count(*) FROM materials WHERE key_id = ? AND rotation_type = 'ON_DEMAND'", (key_id,)
            ).fetchone()[0]
            assert recorded == on_demand, f"key {key_id}: counter {on_demand} but {recorded} on-demand rotations stored"
            json.loads(policy)
        known = {key_id for key_id, _, _ in rows}
    assert set(ledger.keys) <= known, f"acknowledged keys missing after the kill: {sorted(set(ledger.keys) - known)[:5]}"


def _check_through_server(kms: Any, keys: list[KeyLedger]) -> int:
    """Read back every acknowledged write of ``keys`` through the restarted server; the number of checks made."""
    checks = 0
    for key in keys:
        meta = kms.describe_key(KeyId=key.key_id)["KeyMetadata"]
        assert meta["KeyState"] == "Enabled" and meta["KeyId"] == key.key_id
        policy = kms.get_key_policy(KeyId=key.key_id, PolicyName="default")["Policy"]
        last = key.policies[-1] if key.policies else None  # None: the key policy CreateKey gave it
        current = None if '"Id": "key-default-1"' in policy else policy
        assert current in (last, key.policy_unknown), (
            f"{key.key_id}: the policy is neither the last acknowledged nor the one in flight"
        )
        listed = {g["Name"]: g["GrantId"] for g in kms.list_grants(KeyId=key.key_id, Limit=1000)["Grants"]}
        assert all(listed.get(name) == grant_id for name, grant_id in key.grants.items()), (
            f"{key.key_id}: an acknowledged grant is missing"
        )
        assert set(listed) <= set(key.grants) | ({key.grant_unknown} if key.grant_unknown else set())
        rotations = [
            r for r in kms.list_key_rotations(KeyId=key.key_id, Limit=1000)["Rotations"] if r["RotationType"] == "ON_DEMAND"
        ]
        assert key.rotations <= len(rotations) <= key.rotations + int(key.rotation_unknown), (
            f"{key.key_id}: {len(rotations)} rotations"
        )
        if key.rotation_enabled:
            assert kms.get_key_rotation_status(KeyId=key.key_id)["KeyRotationEnabled"] is True
        for blob, plaintext, context in key.ciphertexts:
            assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)["Plaintext"] == plaintext
        checks += 5 + len(key.ciphertexts) + len(key.grants)
    return checks


def _check_unknown_creates(data: Path, kms: Any, descriptions: list[str]) -> None:
    """A CreateKey that was never answered either made a complete, usable key or made nothing."""
    with sqlite3.connect(data / "kms.sqlite3") as conn:
        for description in descriptions:
            found = [k for (k,) in conn.execute("SELECT key_id FROM keys WHERE description = ?", (description,))]
            assert len(found) <= 1
            for key_id in found:
                blob = kms.encrypt(KeyId=key_id, Plaintext=b"complete")["CiphertextBlob"]
                assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"complete"


def test_sigkill_loses_no_acknowledged_write(tmp_path: Path) -> None:
    """Killed with SIGKILL at seeded random points, at least 20 times, the server keeps every write it acknowledged."""
    data = tmp_path / "data"
    ledger = Ledger()
    owned: list[list[KeyLedger]] = [[] for _ in range(THREADS)]
    rng = random.Random(20260601)
    kills = crash_kills()
    port = _free_port()  # the same port every time, so the clients (slow to make) are made once
    serve_args = ("--data", str(data), "--test-mode", "--quiet", "--port", str(port))
    server = ServeProcess(*serve_args)
    checked = 0
    try:
        endpoint = server.wait_listening()
        writers = [kms_client(endpoint) for _ in range(THREADS)]
        kms = kms_client(endpoint)
        for cycle in range(kills):
            threshold = rng.choice([0, 1, 3, 6, 12, 24, 48, 96])  # acknowledged writes before the kill
            acked = threading.Semaphore(0)
            clients = [Client(n, cycle, writers[n], ledger, owned[n], acked) for n in range(THREADS)]
            for client in clients:
                client.start()
            for _ in range(threshold):
                assert acked.acquire(timeout=60), "the clients stopped making progress"
            server.process.send_signal(signal.SIGKILL)
            server.process.wait(timeout=30)
            for client in clients:
                client.join(timeout=60)
                assert client.error is None, f"{client.name}: {client.error!r}"
            _check_store_file(data, ledger)
            server = ServeProcess(*serve_args)
            assert server.wait_listening() == endpoint
            checked += _check_through_server(kms, [k for k in ledger.keys.values() if k.cycle == cycle])
            _check_unknown_creates(data, kms, ledger.unknown_creates)
            ledger.unknown_creates.clear()
            for keys in owned:  # a write of unknown outcome has been checked; the next cycle starts from what is there
                for key in keys:
                    _settle(kms, key)
        checked += _check_through_server(kms, list(ledger.keys.values()))
    finally:
        server.kill()
    assert ledger.server_errors == []
    count("crash.kills_survived", kills)
    count("crash.acknowledged_writes", ledger.acknowledged)
    count("crash.writes_in_flight_at_a_kill", ledger.unknown)
    count("crash.read_back_checks", checked)
    assert ledger.acknowledged > kills, "too few writes were acknowledged to mean anything"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _settle(kms: Any, key: KeyLedger) -> None:
    """Fold a write of unknown outcome into the ledger as what the server now says happened."""
    if key.policy_unknown is not None:
        if kms.get_key_policy(KeyId=key.key_id, PolicyName="default")["Policy"] == key.policy_unknown:
            key.policies.append(key.policy_unknown)
        key.policy_unknown = None
    if key.grant_unknown is not None:
        for grant in kms.list_grants(KeyId=key.key_id, Limit=1000)["Grants"]:
            if grant["Name"] == key.grant_unknown:
                key.grants[key.grant_unknown] = grant["GrantId"]
        key.grant_unknown = None
    if key.rotation_unknown:
        rotations = kms.list_key_rotations(KeyId=key.key_id, Limit=1000)["Rotations"]
        key.rotations = sum(1 for r in rotations if r["RotationType"] == "ON_DEMAND")
        key.rotation_unknown = False
