"""Who signs requests: access key ids mapped to secret keys and to the ``Caller`` they act as.

An identities file (YAML or JSON) maps each access key id to what AWS would know about the
credentials' owner::

    AKIAALICE0000000EXAMPLE:
      secret_access_key: alice-secret
      principal: arn:aws:iam::111122223333:user/alice     # the account is read from the ARN
      identity_policies:                                 # inline documents or paths (relative to this file)
        - {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "kms:*", Resource: "*"}]}
        - policies/alice-extra.json
      permissions_boundary: policies/boundary.json
      session_policy: null
      scp_levels: [[policies/root-scp.json]]             # one list per level, root first
      tags: {team: payments}
      mfa: true
      source_ip: 10.0.0.7                                # default: the connecting address
      secure_transport: true                             # default true: SDKs reach AWS over TLS
      session_token: null                                # when set, requests must carry it
      identity_arn: null                                 # e.g. the role ARN behind an assumed-role session

Why so strict: the file decides who may do what in every test that uses the server, so an
unknown field or an unreadable policy stops the server at start with one clear line instead
of being ignored. Policies are compiled once, when the file is read.
"""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

import policyengine as pe
from policyengine.kms import Caller

__all__ = ["IdentitiesError", "Identity", "IdentityRegistry", "identity_from_entry", "load_identities"]

_FIELDS = frozenset(
    {
        "secret_access_key",
        "principal",
        "account",
        "identity_policies",
        "permissions_boundary",
        "session_policy",
        "scp_levels",
        "tags",
        "mfa",
        "source_ip",
        "secure_transport",
        "session_token",
        "identity_arn",
    }
)
_CALLER_CACHE_LIMIT = 4096


class IdentitiesError(pe.PolicyEngineError):
    """The identities file cannot be used (unreadable, not YAML/JSON, or an entry is wrong)."""


@dataclass(frozen=True)
class Identity:
    """One access key: its secret, an optional session token, and the caller it signs as."""

    access_key: str
    secret_access_key: str
    caller: Caller
    session_token: str | None = None
    fixed_source_ip: bool = False  # the file set source_ip; otherwise the connecting address is used


def load_identities(path: str | Path) -> dict[str, Identity]:
    """Every identity in the file at ``path``; IdentitiesError (one line) when anything is wrong."""
    file = Path(path)
    try:
        with file.open("rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode  # of the file actually read
            text = handle.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise IdentitiesError(f"cannot read identities file `{file}`: {getattr(error, 'strerror', None) or error}") from None
    if mode & 0o077:
        raise IdentitiesError(
            f"identities file `{file}` holds secret keys and is accessible by group or others "
            f"(mode {stat.S_IMODE(mode):04o}); run `chmod 600` on it"
        )
    try:
        data = json.loads(text) if file.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else "syntax error"
        raise IdentitiesError(f"identities file `{file}` is not valid {_kind(file)}: {first}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise IdentitiesError(f"identities file `{file}` must map access key ids to identities")
    return {str(key): identity_from_entry(str(key), entry, base_dir=file.parent, source=str(file)) for key, entry in data.items()}


def identity_from_entry(access_key: str, entry: Any, *, base_dir: Path | None = None, source: str = "identities") -> Identity:
    """One identity from its mapping (as in the file); IdentitiesError naming the entry and field."""
    where = f"{source}: identity `{access_key}`"
    if not isinstance(entry, dict):
        raise IdentitiesError(f"{where} must be a mapping")
    unknown = sorted(set(map(str, entry)) - _FIELDS)
    if unknown:
        raise IdentitiesError(f"{where} has unknown field `{unknown[0]}` (known: {', '.join(sorted(_FIELDS))})")
    secret = _text(entry, "secret_access_key", where, required=True)
    principal = _text(entry, "principal", where, required=True)
    assert secret is not None and principal is not None
    account = _text(entry, "account", where) or _account_of(principal, where)
    policies = entry.get("identity_policies") or []
    if not isinstance(policies, list):
        raise IdentitiesError(f"{where}: `identity_policies` must be a list of policy documents or paths")
    levels = entry.get("scp_levels")
    if levels is not None and (not isinstance(levels, list) or not all(isinstance(level, list) for level in levels)):
        raise IdentitiesError(f"{where}: `scp_levels` must be a list of lists of policy documents or paths")
    tags = entry.get("tags") or {}
    if not isinstance(tags, dict) or not all(isinstance(v, str | int | float | bool) for v in tags.values()):
        raise IdentitiesError(f"{where}: `tags` must map tag keys to strings")
    mfa = entry.get("mfa")
    if mfa is not None and not isinstance(mfa, bool):
        raise IdentitiesError(f"{where}: `mfa` must be true or false")
    secure = entry.get("secure_transport", True)
    if not isinstance(secure, bool):
        raise IdentitiesError(f"{where}: `secure_transport` must be true or false")
    source_ip = _text(entry, "source_ip", where)
    try:
        caller = Caller(
            principal=principal,
            account=account,
            identity_policies=tuple(_policy(doc, base_dir, f"{where} identity_policies[{i}]") for i, doc in enumerate(policies)),
            permissions_boundary=_optional_policy(entry.get("permissions_boundary"), base_dir, f"{where} permissions_boundary"),
            session_policy=_optional_policy(entry.get("session_policy"), base_dir, f"{where} session_policy"),
            scp_levels=(
                tuple(
                    tuple(_policy(doc, base_dir, f"{where} scp_levels[{i}][{j}]") for j, doc in enumerate(level))
                    for i, level in enumerate(levels)
                )
                if levels is not None
                else None
            ),
            tags={str(k): _tag_text(v) for k, v in tags.items()},
            mfa=mfa,
            source_ip=source_ip or "127.0.0.1",
            secure_transport=secure,
            identity_arn=_text(entry, "identity_arn", where),
        )
    except IdentitiesError:
        raise
    except pe.PolicyEngineError as error:
        raise IdentitiesError(f"{where}: {_first_line(error)}") from None
    return Identity(access_key, secret, caller, _text(entry, "session_token", where), fixed_source_ip=source_ip is not None)


class IdentityRegistry:
    """The identities the server knows: the file's, plus ones added at run time (test fixtures).

    ``caller_for`` returns the ``Caller`` of an identity as seen from one client address; the
    result is cached because building a ``Caller`` compiles its policies.
    """

    def __init__(self, identities: Mapping[str, Identity] | None = None) -> None:
        self._from_file = dict(identities or {})
        self._current = dict(self._from_file)
        self._callers: dict[tuple[str, str, str | None], Caller] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._current)

    def get(self, access_key: str) -> Identity | None:
        return self._current.get(access_key)

    def add(self, identity: Identity) -> None:
        """Add or replace one identity (until ``reset``)."""
        with self._lock:
            self._current = {**self._current, identity.access_key: identity}
            self._callers.clear()

    def reset(self) -> None:
        """Forget identities added at run time; keep the file's."""
        with self._lock:
            self._current = dict(self._from_file)
            self._callers.clear()

    def caller_for(self, identity: Identity, client_ip: str | None) -> Caller:
        if identity.fixed_source_ip or client_ip is None or client_ip == identity.caller.source_ip:
            return identity.caller
        return self._cached(
            ("identity", identity.access_key, client_ip),
            lambda: dataclasses.replace(identity.caller, source_ip=client_ip, _compiled={}),
        )

    def root_of(self, account: str, client_ip: str | None) -> Caller:
        """The root user of ``account`` (test mode's caller for unknown credentials)."""
        return self._cached(
            ("root", account, client_ip),
            lambda: Caller(principal=f"arn:aws:iam::{account}:root", account=account, source_ip=client_ip or "127.0.0.1"),
        )

    def _cached(self, key: tuple[str, str, str | None], make: Any) -> Caller:
        caller = self._callers.get(key)
        if caller is None:
            caller = make()
            with self._lock:
                if len(self._callers) >= _CALLER_CACHE_LIMIT:
                    self._callers.clear()
                self._callers[key] = caller
        return caller


def _kind(file: Path) -> str:
    return "JSON" if file.suffix.lower() == ".json" else "YAML"


def _text(entry: Mapping[str, Any], name: str, where: str, *, required: bool = False) -> str | None:
    value = entry.get(name)
    if value is None:
        if required:
            raise IdentitiesError(f"{where} needs `{name}`")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise IdentitiesError(f"{where}: `{name}` must be a string")
    return str(value)


def _tag_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _account_of(principal: str, where: str) -> str:
    parts = principal.split(":")
    if len(parts) >= 6 and parts[0] == "arn" and parts[4].isdigit() and len(parts[4]) == 12:
        return parts[4]
    raise IdentitiesError(f"{where}: cannot read an account from principal `{principal}`; give `account`")


def _policy(document: Any, base_dir: Path | None, where: str) -> pe.PolicyDocument:
    if isinstance(document, dict):
        try:
            return pe.parse_policy(json.dumps(document), where)
        except pe.PolicyEngineError as error:
            raise IdentitiesError(_first_line(error)) from None
    if isinstance(document, str):
        path = Path(document)
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        try:
            return pe.load_policy(path)
        except pe.PolicyEngineError as error:
            raise IdentitiesError(f"{where}: {_first_line(error)}") from None
    raise IdentitiesError(f"{where} must be a policy document or a path to one")


def _optional_policy(document: Any, base_dir: Path | None, where: str) -> pe.PolicyDocument | None:
    return None if document is None else _policy(document, base_dir, where)


def _first_line(error: BaseException) -> str:
    """An error as one line (a policy input error's first line already names file, line and column)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
