"""Secret hygiene: key material, data keys and plaintext never leave the places they belong.

A server on the SQLite store runs every operation that handles a secret (encrypt, data keys and
key pairs, MACs, signatures, imported material, re-encryption) plus failing calls, and the test
then looks for each secret it knows — as raw bytes, base64 and hex — in the server's log output,
the audit records, every error message and exception ``repr``, and the raw bytes of the SQLite
database and its WAL. The master key must be private; decrypt failures must all look the same.
"""

from __future__ import annotations

import ast
import base64
import logging
import os
import re
import signal
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from policyengine.kms import KMSError, LocalKms, _crypto, root_caller
from policyengine.kms.errors import InvalidCiphertextException
from policyengine.server import BackgroundServer, ServerConfig
from policyengine.store.masterkey import load_or_create_master_key
from policyengine.store.sqlite import SqliteKeyStore
from tests.reliability.conftest import REGION, TEST_ACCOUNT, background_server, count, kms_client
from tests.server.test_serve_command import ServeProcess

ROOT = root_caller(TEST_ACCOUNT)
PACKAGE = Path(__file__).resolve().parents[2] / "policyengine"


def _forms(secret: bytes) -> list[bytes]:
    """The ways a secret could show up in text or in a file: raw, base64 (with and without padding), hex."""
    encoded = base64.b64encode(secret)
    return [
        secret,
        encoded,
        encoded.rstrip(b"="),
        base64.urlsafe_b64encode(secret).rstrip(b"="),
        secret.hex().encode(),
        secret.hex().upper().encode(),
    ]


def _leaks(haystack: bytes, secrets: dict[str, bytes]) -> list[str]:
    """The names of the secrets found in ``haystack`` in any of their forms."""
    return sorted(name for name, secret in secrets.items() if any(form in haystack for form in _forms(secret)))


class _Capture(logging.Handler):
    """Every record the server's loggers emit, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class Run:
    """What the secret-handling session left: the secrets it knows and every place to look in."""

    secrets: dict[str, bytes] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # error messages and reprs the clients and the facade saw
    log: str = ""
    audit: str = ""
    files: dict[str, bytes] = field(default_factory=dict)


def _secret_session(server: BackgroundServer, data: Path, capture: _Capture) -> Run:
    """Handle every kind of secret through the server and the facade, then collect logs, audit and files."""
    run = Run()
    kms = kms_client(server.endpoint_url)
    facade: LocalKms = server.app.state.view(REGION)

    def expect_error(call: Any, **params: Any) -> None:
        try:
            call(**params)
        except ClientError as error:
            run.errors += [str(error), repr(error), repr(error.response)]
        else:
            raise AssertionError(f"{call} was expected to fail")

    key = kms.create_key(Description="secrets")["KeyMetadata"]["KeyId"]
    plaintext = b"PLAINTEXT-" + bytes(range(32, 96))
    run.secrets["plaintext"] = plaintext
    blob = kms.encrypt(KeyId=key, Plaintext=plaintext, EncryptionContext={"purpose": "hygiene"})["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"purpose": "hygiene"})["Plaintext"] == plaintext
    expect_error(kms.decrypt, CiphertextBlob=blob, EncryptionContext={"purpose": "other"})
    expect_error(kms.encrypt, KeyId=key, Plaintext=plaintext * 80)  # too long: the error must not echo it
    data_key = kms.generate_data_key(KeyId=key, KeySpec="AES_256")
    run.secrets["data_key"] = data_key["Plaintext"]
    sealed_only = kms.generate_data_key_without_plaintext(KeyId=key, NumberOfBytes=48)["CiphertextBlob"]
    run.secrets["data_key_without_plaintext"] = kms.decrypt(CiphertextBlob=sealed_only)["Plaintext"]
    moved = kms.re_encrypt(CiphertextBlob=data_key["CiphertextBlob"], DestinationKeyId=key)["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=moved)["Plaintext"] == data_key["Plaintext"]
    pair = kms.generate_data_key_pair(KeyId=key, KeyPairSpec="ECC_NIST_P256")
    run.secrets["data_key_pair_private"] = pair["PrivateKeyPlaintext"]
    kms.rotate_key_on_demand(KeyId=key)

    hmac_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    mac = kms.generate_mac(KeyId=hmac_key, Message=b"mac me", MacAlgorithm="HMAC_SHA_256")["Mac"]
    run.secrets["mac"] = mac
    expect_error(kms.verify_mac, KeyId=hmac_key, Message=b"mac me", MacAlgorithm="HMAC_SHA_256", Mac=bytes(32))

    signing = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    kms.sign(KeyId=signing, Message=b"sign me", SigningAlgorithm="ECDSA_SHA_256")

    external = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    material = bytes(reversed(range(100, 132)))
    run.secrets["imported_material"] = material
    params = kms.get_parameters_for_import(KeyId=external, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    wrapped = _crypto.wrap_key_material(params["PublicKey"], material, "RSAES_OAEP_SHA_256")
    kms.import_key_material(
        KeyId=external,
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=wrapped,
        ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
    )
    wrong = _crypto.wrap_key_material(params["PublicKey"], bytes(32), "RSAES_OAEP_SHA_256")
    expect_error(
        kms.import_key_material,
        KeyId=external,
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=wrong,
        ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
    )
    kms.encrypt(KeyId=external, Plaintext=plaintext)

    # The facade, called directly, raises errors whose str and repr must be as clean.
    for call in (
        lambda: facade.decrypt(ROOT, CiphertextBlob=blob, EncryptionContext={"purpose": "PLAINTEXT-guess"}),
        lambda: facade.encrypt(ROOT, KeyId=key, Plaintext=plaintext * 80),
        lambda: facade.verify_mac(ROOT, KeyId=hmac_key, Message=b"mac me", MacAlgorithm="HMAC_SHA_256", Mac=mac[:-1] + b"\x00"),
    ):
        try:
            call()
        except KMSError as error:
            run.errors += [str(error), repr(error), repr(vars(error))]

    # Every version of every key's material, unsealed here, is a secret the files must not hold.
    with facade.store.transaction(write=False) as tx:
        for record in tx.all_keys():
            for version in tx.materials(record.key_id):
                run.secrets[f"material {record.key_id[:8]} v{version.version}"] = facade.open_material(version)
    run.secrets["master_key"] = (data / "master.key").read_bytes()

    run.log = "\n".join(capture.lines)
    run.audit = "\n".join(repr(record) for record in facade.store.audit_records())
    for suffix in ("", "-wal", "-shm"):
        path = data / f"kms.sqlite3{suffix}"
        if path.exists():
            run.files[path.name] = path.read_bytes()
    return run


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Run, Path]]:
    """One secret-handling session on a SQLite-backed server, with the server's logs captured at DEBUG."""
    data = tmp_path_factory.mktemp("secrets") / "data"
    capture = _Capture()
    loggers = [logging.getLogger(name) for name in ("policyengine", "uvicorn")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(capture)
        logger.setLevel(logging.DEBUG)
    try:
        config = ServerConfig(host="127.0.0.1", port=0, data_dir=data, test_mode=True, log_requests=True)
        with background_server(config) as server:
            run = _secret_session(server, data, capture)
        for suffix in ("", "-wal", "-shm"):  # and once more after a clean shutdown (checkpointed)
            path = data / f"kms.sqlite3{suffix}"
            if path.exists():
                run.files[f"{path.name} (closed)"] = path.read_bytes()
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(capture)
            logger.setLevel(level)
    count("secrets.secrets_tracked", len(run.secrets))
    yield run, data


def test_secrets_are_tracked(session: tuple[Run, Path]) -> None:
    """The session produced the secrets it looks for, and logged a line per request (so the log search means something)."""
    run, _ = session
    assert {"plaintext", "data_key", "data_key_pair_private", "imported_material", "master_key"} <= set(run.secrets)
    assert sum(name.startswith("material ") for name in run.secrets) >= 5
    assert "POST Encrypt 200" in run.log and "POST Decrypt 400" in run.log


def test_no_secret_in_the_server_log(session: tuple[Run, Path]) -> None:
    """The server's log output (request lines and anything logged at DEBUG) holds no plaintext, data key or key material."""
    run, _ = session
    assert _leaks(run.log.encode("utf-8", "surrogateescape"), run.secrets) == []


def test_no_secret_in_audit_records(session: tuple[Run, Path]) -> None:
    """Audit records (every field of every record) hold no secret."""
    run, _ = session
    assert run.audit and _leaks(run.audit.encode(), run.secrets) == []


def test_no_secret_in_error_messages_or_reprs(session: tuple[Run, Path]) -> None:
    """Error messages over the wire and the facade's exceptions (str, repr, attributes) hold no secret."""
    run, _ = session
    assert len(run.errors) >= 12
    assert _leaks("\n".join(run.errors).encode(), run.secrets) == []


def test_no_secret_in_the_sqlite_files(session: tuple[Run, Path]) -> None:
    """The raw bytes of kms.sqlite3, its -wal and -shm (while running and after shutdown) hold no secret unencrypted."""
    run, _ = session
    assert any(name.startswith("kms.sqlite3") for name in run.files)
    for name, content in run.files.items():
        assert _leaks(content, run.secrets) == [], name


def test_serve_log_holds_no_secret(tmp_path: Path) -> None:
    """`policyengine serve` (logging every request) writes no plaintext or data key to its stderr, even on errors."""
    server = ServeProcess("--data", str(tmp_path / "data"), "--test-mode")
    try:
        kms = kms_client(server.wait_listening())
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        secret = b"SERVE-LOG-SECRET-" + bytes(range(48, 80))
        blob = kms.encrypt(KeyId=key, Plaintext=secret)["CiphertextBlob"]
        data_key = kms.generate_data_key(KeyId=key, KeySpec="AES_256")["Plaintext"]
        with pytest.raises(ClientError):
            kms.decrypt(CiphertextBlob=blob[:-1] + bytes([blob[-1] ^ 1]))
        with pytest.raises(ClientError):
            kms.encrypt(KeyId=key, Plaintext=secret * 200)
        code, log = server.stop(signal.SIGTERM)
    finally:
        server.kill()
    assert code == 0 and "POST Encrypt 200" in log
    assert _leaks(log.encode(), {"plaintext": secret, "data_key": data_key}) == []


# ---- the master key -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o644, 0o640], ids=["0644", "0640"])
def test_serve_refuses_a_master_key_others_can_read(tmp_path: Path, mode: int) -> None:
    """A data directory whose master.key group or others can read stops `serve` with one line, before listening."""
    data = tmp_path / "data"
    data.mkdir(mode=0o700)  # private, as serve makes it (an open one adds a warning line)
    load_or_create_master_key(data / "master.key")  # what the server makes on first start: mode 0600
    assert (data / "master.key").stat().st_mode & 0o777 == 0o600
    (data / "master.key").chmod(mode)
    server = ServeProcess("--data", str(data), "--test-mode", "--quiet")
    with pytest.raises(AssertionError, match="did not start"):
        server.wait_listening()
    _, rest = server.process.communicate(timeout=30)
    lines = ("".join(server.lines) + rest.decode()).strip().splitlines()
    assert server.process.returncode == 1
    assert len(lines) == 1 and lines[0].startswith("error: ") and "group or others" in lines[0] and "chmod 600" in lines[0]


# ---- no oracle in decrypt failures ----------------------------------------------------------------


def _relabel(blob: bytes, *, key_id: str | None = None, version: int | None = None) -> bytes:
    """The blob with its header naming another key or material version (the sealed box unchanged)."""
    length = blob[4]
    old_key, rest = blob[5 : 5 + length], blob[5 + length :]
    new_key = key_id.encode() if key_id is not None else old_key
    new_version = struct.pack(">I", version) if version is not None else rest[:4]
    return blob[:4] + bytes([len(new_key)]) + new_key + new_version + rest[4:]


def _failures(blob: bytes, other_key: str) -> dict[str, tuple[bytes, dict[str, str]]]:
    """Every way a decrypt can fail on a valid-looking request: damaged, relabelled or with another context."""
    header = 9 + blob[4]
    flip = lambda at: blob[:at] + bytes([blob[at] ^ 0x01]) + blob[at + 1 :]  # noqa: E731
    good = {"app": "oracle"}
    return {
        "magic": (flip(0), good),
        "format-version": (flip(3), good),
        "key-id-byte": (flip(6), good),
        "material-version": (flip(header - 1), good),
        "nonce": (flip(header + 2), good),
        "ciphertext": (flip(header + 14), good),
        "tag": (flip(len(blob) - 1), good),
        "truncated": (blob[:-5], good),
        "extended": (blob + b"\x00", good),
        "header-only": (blob[:header], good),
        "random": (bytes(range(7, 7 + len(blob))), good),
        "relabelled-to-another-key": (_relabel(blob, key_id=other_key), good),
        "relabelled-to-a-missing-key": (_relabel(blob, key_id="0" * 8 + "-0000-0000-0000-" + "0" * 12), good),
        "relabelled-to-another-version": (_relabel(blob, version=2), good),
        "relabelled-to-an-absent-version": (_relabel(blob, version=99), good),
        "context-missing": (blob, {}),
        "context-changed": (blob, {"app": "Oracle"}),
        "context-extra": (blob, {**good, "x": "y"}),
        "context-key-renamed": (blob, {"App": "oracle"}),
    }


def test_decrypt_failures_give_no_oracle_over_the_wire(tmp_path: Path) -> None:
    """Damaged blobs, relabelled key or material version, and wrong contexts all get one status, code and message."""
    with background_server(ServerConfig(host="127.0.0.1", port=0, test_mode=True, log_requests=False)) as server:
        kms = kms_client(server.endpoint_url)
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        other = kms.create_key()["KeyMetadata"]["KeyId"]
        blob = kms.encrypt(KeyId=key, Plaintext=b"oracle?", EncryptionContext={"app": "oracle"})["CiphertextBlob"]
        kms.rotate_key_on_demand(KeyId=key)  # version 2 exists, so relabelling to it reaches the AEAD check
        answers = set()
        for name, (damaged, context) in _failures(blob, other).items():
            with pytest.raises(ClientError) as error:
                kms.decrypt(CiphertextBlob=damaged, EncryptionContext=context)
            response = error.value.response
            answers.add((response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]))
            count("secrets.decrypt_failures_compared")
            assert response["Error"]["Code"] == "InvalidCiphertextException", name
        assert answers == {(400, "InvalidCiphertextException", "")}  # AWS sends no message at all


def test_decrypt_failures_give_no_oracle_in_the_facade(tmp_path: Path) -> None:
    """Through the Python API too, every decrypt failure is the same exception class with the same message."""
    store = SqliteKeyStore(tmp_path / "kms.sqlite3")
    kms = LocalKms(store, os.urandom(32))
    try:
        key = kms.create_key(ROOT)["KeyMetadata"]["KeyId"]
        other = kms.create_key(ROOT)["KeyMetadata"]["KeyId"]
        blob = kms.encrypt(ROOT, KeyId=key, Plaintext=b"oracle?", EncryptionContext={"app": "oracle"})["CiphertextBlob"]
        kms.rotate_key_on_demand(ROOT, KeyId=key)
        seen = set()
        for damaged, context in _failures(blob, other).values():
            with pytest.raises(KMSError) as error:
                kms.decrypt(ROOT, CiphertextBlob=damaged, EncryptionContext=context)
            seen.add((type(error.value), error.value.message))
        assert seen == {(InvalidCiphertextException, "")}
    finally:
        store.close()


# ---- constant-time comparisons ----------------------------------------------------------------------

_SECRET_NAMES = re.compile(r"(^|_)(mac|macs|token|tokens|signature|fingerprint|secret|secret_key|secret_access_key)($|_)", re.I)
#: Comparisons that name a secret-ish word but compare public values (algorithm names, header lists).
_PUBLIC_COMPARISONS = {
    "algorithm not in _crypto.mac_algorithms(key.key_spec)",
    "k not in _SECRET_RESPONSE_FIELDS",
    "'target' in inspect.signature(Multiprocess).parameters",
}


def _comparisons() -> Iterator[tuple[str, int, str]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if not {"kms", "server", "store"} & set(path.parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and any(isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn) for op in node.ops):
                names = [
                    n.id if isinstance(n, ast.Name) else n.attr
                    for part in (node.left, *node.comparators)
                    for n in ast.walk(part)
                    if isinstance(n, ast.Name | ast.Attribute)
                ]
                if any(_SECRET_NAMES.search(name) for name in names):
                    yield str(path.relative_to(PACKAGE.parent)), node.lineno, ast.unparse(node)


def test_secret_comparisons_are_constant_time() -> None:
    """No ``==``/``in`` compares a MAC, token, signature, fingerprint or secret; those go through hmac.compare_digest."""
    plain = [f"{path}:{line}: {text}" for path, line, text in _comparisons() if text not in _PUBLIC_COMPARISONS]
    assert plain == []
    sources = {
        name: (PACKAGE / name).read_text(encoding="utf-8")
        for name in ("server/sigv4.py", "server/auth.py", "kms/grant_tokens.py", "kms/ops_import.py", "store/masterkey.py")
    }
    assert all("hmac.compare_digest(" in text for text in sources.values())
    verify = ast.get_source_segment(
        (PACKAGE / "kms/_crypto.py").read_text(encoding="utf-8"), _function(PACKAGE / "kms/_crypto.py", "hmac_verify")
    )
    assert verify is not None and ("compare_digest" in verify or ".verify(" in verify)


def _function(path: Path, name: str) -> ast.FunctionDef:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    raise AssertionError(f"{name} not found in {path}")
