"""Saved ``aws kms`` outputs to snapshot keys.

Two layouts are read, and may be mixed: one folder per key, or one file per command and key
(so a loop over ``list-keys`` can write either)::

    DIR/list-keys.json                          optional: aws kms list-keys
    DIR/list-aliases.json                       optional: aws kms list-aliases (all keys)
    DIR/<key-id>/describe-key.json              required: aws kms describe-key --key-id <id>
    DIR/<key-id>/get-key-policy.json            required: aws kms get-key-policy --key-id <id> --policy-name default
    DIR/<key-id>/list-grants.json               optional: aws kms list-grants --key-id <id>
    DIR/<key-id>/list-resource-tags.json        optional: aws kms list-resource-tags --key-id <id>
    DIR/<key-id>/list-aliases.json              optional: aws kms list-aliases --key-id <id>
  or
    DIR/describe-key-<key-id>.json, DIR/get-key-policy-<key-id>.json, DIR/list-grants-<key-id>.json,
    DIR/list-resource-tags-<key-id>.json, DIR/list-aliases-<key-id>.json

``get-key-policy`` may also be saved as the bare policy (``--query Policy --output text``).
A key without ``describe-key`` or ``get-key-policy`` cannot be evaluated and is left out (and
listed); a key without ``list-grants`` is kept with ``grants_known: false``, and every answer
about it says grants were not counted. A listed key with no outputs is listed too. An account
with no keys (``list-keys`` shows none) adds no keys; a folder with no saved output at all is an
error, as it is most likely the wrong folder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from policyengine.access.errors import SnapshotError
from policyengine.access.importers._common import Imported, document, need, read_json, read_optional, tags
from policyengine.errors import RequestError
from policyengine.parsing.request import make_grant


def _truncated(out: Imported, data: Any, path: Path, what: str) -> None:
    if isinstance(data, dict) and (data.get("Truncated") or data.get("NextMarker")):
        out.skip(str(path), what, "the output is one page of several: later pages were not saved and are not counted")


_COMMANDS = ("describe-key", "get-key-policy", "list-grants", "list-resource-tags", "list-aliases")
_KEY_ID = r"(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|mrk-[0-9a-fA-F]{32})"
_FLAT = re.compile(rf"(?P<command>{'|'.join(_COMMANDS)})-(?P<id>{_KEY_ID})\.json")


def _key_files(root: Path) -> dict[str, dict[str, Path]]:
    """Each key's saved outputs, by key id and command, from key folders and from flat ``<command>-<id>.json`` files."""
    found: dict[str, dict[str, Path]] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        files = found.setdefault(folder.name, {})
        for command in _COMMANDS:
            if (folder / f"{command}.json").exists():
                files[command] = folder / f"{command}.json"
    for path in sorted(root.glob("*.json")):
        match = _FLAT.fullmatch(path.name)
        if match is not None:
            found.setdefault(match["id"], {})[match["command"]] = path
    return found


def _policy_of(data: Any) -> dict[str, Any] | None:
    """The key policy from a get-key-policy output, or from the bare policy saved with ``--query Policy``."""
    if isinstance(data, dict) and "Statement" in data:
        return data
    return document(data.get("Policy")) if isinstance(data, dict) else None


def import_kms_dir(directory: str | Path) -> Imported:
    """Read every key's saved outputs under ``directory`` (key folders, or flat per-key files)."""
    root = Path(directory)
    if not root.is_dir():
        raise SnapshotError(str(root), "", "not a folder of saved `aws kms` outputs")
    out = Imported()
    listed = read_optional(root / "list-keys.json", "list-keys output")
    _truncated(out, listed, root / "list-keys.json", "list-keys")
    aliases_all = read_optional(root / "list-aliases.json", "list-aliases output")
    _truncated(out, aliases_all, root / "list-aliases.json", "list-aliases")
    alias_map: dict[str, list[str]] = {}
    for entry in (aliases_all or {}).get("Aliases", ()):
        if entry.get("TargetKeyId") and entry.get("AliasName"):
            alias_map.setdefault(entry["TargetKeyId"], []).append(entry["AliasName"])
    keys = _key_files(root)
    for i, entry in enumerate((listed or {}).get("Keys", ())):
        key_id = need(entry, "KeyId", str(root / "list-keys.json"), f"Keys[{i}]")
        if key_id not in keys:
            out.skip(
                str(root / "list-keys.json"),
                f"key {key_id}",
                f"listed, but there is no `{key_id}/describe-key.json` nor `describe-key-{key_id}.json`: "
                "the key is not in the snapshot",
            )
    if not keys and listed is None and aliases_all is None:
        raise SnapshotError(
            str(root),
            "",
            "no saved `aws kms` outputs (expected list-keys.json, and DIR/<key-id>/describe-key.json and "
            "get-key-policy.json, or DIR/describe-key-<key-id>.json and get-key-policy-<key-id>.json)",
        )
    for key_id, files in keys.items():
        _key(out, root / key_id, key_id, files, alias_map)
    return out


def _key(out: Imported, where: Path, key_name: str, files: dict[str, Path], alias_map: dict[str, list[str]]) -> None:
    describe_path = files.get("describe-key")
    policy_path = files.get("get-key-policy")
    if describe_path is None or policy_path is None:
        missing = "describe-key" if describe_path is None else "get-key-policy"
        out.skip(str(where), f"key {key_name}", f"no {missing} output: the key cannot be evaluated and is not in the snapshot")
        return
    metadata = read_json(describe_path, "describe-key output")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("KeyMetadata"), dict):
        raise SnapshotError(str(describe_path), "KeyMetadata", "missing (is this a describe-key output?)")
    meta = metadata["KeyMetadata"]
    source = str(describe_path)
    arn = need(meta, "Arn", source, "KeyMetadata")
    key_id = need(meta, "KeyId", source, "KeyMetadata")
    parts = arn.split(":")
    if len(parts) != 6 or parts[2] != "kms":
        raise SnapshotError(source, "KeyMetadata.Arn", f"`{arn}` is not a KMS key ARN")
    policy_data = read_json(policy_path, "get-key-policy output")
    policy = _policy_of(policy_data)
    if policy is None:
        raise SnapshotError(str(policy_path), "Policy", "missing or not a JSON policy (is this a get-key-policy output?)")
    grants_path = files.get("list-grants")
    grants_data = read_optional(grants_path, "list-grants output") if grants_path is not None else None
    grants = []
    if grants_data is None or grants_path is None:
        out.skip(str(where), f"grants of key {key_id}", "no list-grants output: access through grants is not counted")
    else:
        _truncated(out, grants_data, grants_path, f"grants of key {key_id}")
        for i, grant in enumerate(grants_data.get("Grants", ())):
            parsed = _grant(out, grant, arn, str(grants_path), i)
            if parsed is not None:
                grants.append(parsed)
    tags_path = files.get("list-resource-tags")
    aliases_path = files.get("list-aliases")
    tag_data = (read_optional(tags_path, "list-resource-tags output") if tags_path else None) or {}
    alias_data = (read_optional(aliases_path, "list-aliases output") if aliases_path else None) or {}
    aliases = sorted({*alias_map.get(key_id, ()), *(a["AliasName"] for a in alias_data.get("Aliases", ()) if a.get("AliasName"))})
    entry: dict[str, Any] = {
        "id": key_id,
        "region": parts[3],
        "arn": arn,
        "policy": policy,
        "aliases": aliases,
        "grants": grants,
        "grants_known": grants_data is not None,
        "state": meta.get("KeyState") or ("Enabled" if meta.get("Enabled", True) else "Disabled"),
        "spec": meta.get("KeySpec") or meta.get("CustomerMasterKeySpec") or "SYMMETRIC_DEFAULT",
        "usage": meta.get("KeyUsage") or "ENCRYPT_DECRYPT",
        "origin": meta.get("Origin") or "AWS_KMS",
        "manager": meta.get("KeyManager") or "CUSTOMER",
        "multi_region": bool(meta.get("MultiRegion", False)),
        "description": meta.get("Description") or "",
        "tags": tags(tag_data.get("Tags"), "TagKey", "TagValue"),
    }
    out.account(parts[4]).setdefault("keys", []).append(entry)


def _grant(out: Imported, grant: dict[str, Any], key_arn: str, source: str, i: int) -> dict[str, Any] | None:
    grant_id = need(grant, "GrantId", source, f"Grants[{i}]")
    grantee = grant.get("GranteePrincipal")
    operations = grant.get("Operations") or []
    constraints = grant.get("Constraints") or {}
    shaped: dict[str, dict[str, str]] = {}
    if constraints.get("EncryptionContextEquals"):
        shaped["encryption_context_equals"] = dict(constraints["EncryptionContextEquals"])
    if constraints.get("EncryptionContextSubset"):
        shaped["encryption_context_subset"] = dict(constraints["EncryptionContextSubset"])
    try:
        make_grant(grant_id, key_arn, str(grantee), operations, constraints=shaped or None)
    except RequestError as exc:
        out.skip(source, f"grant {grant_id}", f"{exc}: the grant is not counted")
        return None
    issuing = grant.get("IssuingAccount")
    entry: dict[str, Any] = {"grant_id": grant_id, "grantee_principal": grantee, "operations": list(operations)}
    if shaped:
        entry["constraints"] = shaped
    if grant.get("RetiringPrincipal"):
        entry["retiring_principal"] = grant["RetiringPrincipal"]
    if grant.get("Name"):
        entry["name"] = grant["Name"]
    if isinstance(issuing, str) and issuing:
        entry["issuing_account"] = issuing.split(":")[4] if issuing.startswith("arn:") else issuing
    return entry
