"""Saved ``aws kms`` outputs to snapshot keys.

The layout is one folder per key, named by key id, with each command's JSON output in a file
named after the command (so a loop over ``list-keys`` can write it)::

    DIR/list-keys.json                    optional: aws kms list-keys
    DIR/list-aliases.json                 optional: aws kms list-aliases (all keys)
    DIR/<key-id>/describe-key.json        required: aws kms describe-key --key-id <id>
    DIR/<key-id>/get-key-policy.json      required: aws kms get-key-policy --key-id <id> --policy-name default
    DIR/<key-id>/list-grants.json         optional: aws kms list-grants --key-id <id>
    DIR/<key-id>/list-resource-tags.json  optional: aws kms list-resource-tags --key-id <id>
    DIR/<key-id>/list-aliases.json        optional: aws kms list-aliases --key-id <id>

A key without ``describe-key`` or ``get-key-policy`` cannot be evaluated and is left out (and
listed); a key without ``list-grants`` is kept with ``grants_known: false``, and every answer
about it says grants were not counted. A listed key with no folder is listed too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from policyengine.access.errors import SnapshotError
from policyengine.access.importers._common import Imported, document, need, read_json, tags
from policyengine.errors import RequestError
from policyengine.parsing.request import make_grant


def _optional(path: Path, what: str) -> Any:
    return read_json(path, what) if path.exists() else None


def _truncated(out: Imported, data: Any, path: Path, what: str) -> None:
    if isinstance(data, dict) and (data.get("Truncated") or data.get("NextMarker")):
        out.skip(str(path), what, "the output is one page of several: later pages were not saved and are not counted")


def import_kms_dir(directory: str | Path) -> Imported:
    """Read every key folder under ``directory``."""
    root = Path(directory)
    if not root.is_dir():
        raise SnapshotError(str(root), "", "not a folder of saved `aws kms` outputs")
    out = Imported()
    listed = _optional(root / "list-keys.json", "list-keys output")
    _truncated(out, listed, root / "list-keys.json", "list-keys")
    aliases_all = _optional(root / "list-aliases.json", "list-aliases output")
    _truncated(out, aliases_all, root / "list-aliases.json", "list-aliases")
    alias_map: dict[str, list[str]] = {}
    for entry in (aliases_all or {}).get("Aliases", ()):
        if entry.get("TargetKeyId") and entry.get("AliasName"):
            alias_map.setdefault(entry["TargetKeyId"], []).append(entry["AliasName"])
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    seen = {p.name for p in folders}
    for i, entry in enumerate((listed or {}).get("Keys", ())):
        key_id = need(entry, "KeyId", str(root / "list-keys.json"), f"Keys[{i}]")
        if key_id not in seen:
            out.skip(
                str(root / "list-keys.json"),
                f"key {key_id}",
                f"listed, but there is no folder `{key_id}`: the key is not in the snapshot",
            )
    if not folders:
        raise SnapshotError(str(root), "", "no key folders (expected DIR/<key-id>/describe-key.json and get-key-policy.json)")
    for folder in folders:
        _key(out, folder, alias_map)
    return out


def _key(out: Imported, folder: Path, alias_map: dict[str, list[str]]) -> None:
    describe_path = folder / "describe-key.json"
    policy_path = folder / "get-key-policy.json"
    if not describe_path.exists() or not policy_path.exists():
        missing = "describe-key.json" if not describe_path.exists() else "get-key-policy.json"
        out.skip(str(folder), f"key {folder.name}", f"no {missing}: the key cannot be evaluated and is not in the snapshot")
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
    policy = document(policy_data.get("Policy")) if isinstance(policy_data, dict) else None
    if policy is None:
        raise SnapshotError(str(policy_path), "Policy", "missing or not a JSON policy (is this a get-key-policy output?)")
    grants_path = folder / "list-grants.json"
    grants_data = _optional(grants_path, "list-grants output")
    _truncated(out, grants_data, grants_path, f"grants of key {key_id}")
    grants = []
    if grants_data is None:
        out.skip(str(folder), f"grants of key {key_id}", "no list-grants.json: access through grants is not counted")
    else:
        for i, grant in enumerate(grants_data.get("Grants", ())):
            parsed = _grant(out, grant, arn, str(grants_path), i)
            if parsed is not None:
                grants.append(parsed)
    tag_data = _optional(folder / "list-resource-tags.json", "list-resource-tags output") or {}
    alias_data = _optional(folder / "list-aliases.json", "list-aliases output") or {}
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
