"""The local KMS's master key: 32 random bytes in a file only its owner can read.

The facade seals every key's material under this key before handing it to a store, so the key
file is what stands between a copied database and every key in it. Hence: the file is created
complete or not at all (written under a temporary name, synced, then linked into place, which
fails rather than replaces if another process got there first), it is never readable by group or
others, and a file that is too open or the wrong size is refused instead of trusted or replaced.
The key is never printed, logged or put in an error message.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from policyengine.store import StoreError

__all__ = ["MASTER_KEY_BYTES", "check_value", "load_or_create_master_key", "same_master_key"]

MASTER_KEY_BYTES = 32
_CHECK_LABEL = b"policyengine-master-key-check\x00"


def check_value(master_key: bytes) -> str:
    """What a store records to recognise its master key: an HMAC of a fixed label under the key.
    It tells keys apart without revealing anything about them (it is not the key, nor a hash of it)."""
    return hmac.new(master_key, _CHECK_LABEL, hashlib.sha256).hexdigest()


def same_master_key(recorded: str, master_key: bytes) -> bool:
    """Whether ``master_key`` is the key whose check value is ``recorded`` (compared in constant time)."""
    return hmac.compare_digest(recorded.encode(), check_value(master_key).encode())


def load_or_create_master_key(path: str | os.PathLike[str]) -> bytes:
    """The key in ``path``, creating the file (mode 0600) with a fresh random key if it is missing."""
    target = Path(path)
    if not target.parent.is_dir():
        raise StoreError(f"cannot use master key `{target}`: directory `{target.parent}` does not exist")
    try:
        _create(target)
    except FileExistsError:
        pass  # already there (possibly made a moment ago by another process): use it
    except OSError as exc:
        raise StoreError(f"cannot create master key `{target}`: {exc.strerror or exc}") from exc
    return _load(target)


def _create(target: Path) -> None:
    """Write a new key under a temporary name and link it to ``target``; FileExistsError if taken."""
    if target.exists():
        raise FileExistsError(target)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        try:
            os.fchmod(fd, 0o600)  # whatever the umask
            _write_all(fd, secrets.token_bytes(MASTER_KEY_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(temporary, target)  # atomic, and never replaces an existing file
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    _fsync_directory(target.parent)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _load(target: Path) -> bytes:
    """Read the key, refusing a file that is not a private regular file of exactly the right size."""
    try:
        fd = os.open(target, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise StoreError(f"cannot read master key `{target}`: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)  # of the file actually opened, so a swap after a check cannot fool us
        _check_file(target, info)
        data = os.read(fd, MASTER_KEY_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) != MASTER_KEY_BYTES:
        raise StoreError(f"master key `{target}` changed size while being read")
    return data


def _check_file(target: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise StoreError(f"master key `{target}` is not a regular file")
    if info.st_mode & 0o077:
        mode = stat.S_IMODE(info.st_mode)
        raise StoreError(f"master key `{target}` is accessible by group or others (mode {mode:04o}); run `chmod 600` on it")
    if info.st_size != MASTER_KEY_BYTES:
        raise StoreError(f"master key `{target}` is {info.st_size} bytes, not {MASTER_KEY_BYTES}")
