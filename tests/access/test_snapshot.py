"""Snapshot files: loading, errors that name the file and the field, and the schema in docs/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from policyengine.access import SnapshotError, World, dump_snapshot, load_snapshot, snapshot_from_data, snapshot_schema

from .conftest import ORG

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, data: Any, name: str = "snap.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data) if name.endswith(".yaml") else json.dumps(data))
    return path


def _minimal(**account: Any) -> dict[str, Any]:
    return {"accounts": [{"id": "111111111111", **account}]}


def test_fixture_loads_and_round_trips(tmp_path: Path) -> None:
    """The fixture organization loads, and a dumped copy (YAML or JSON) loads to the same snapshot."""
    snapshot = load_snapshot(ORG)
    assert [a.id for a in snapshot.accounts] == ["111111111111", "222222222222", "333333333333"]
    for name in ("copy.yaml", "copy.json"):
        dump_snapshot(snapshot, tmp_path / name)
        assert load_snapshot(tmp_path / name) == snapshot


def test_bad_field_is_named_by_item_names(tmp_path: Path) -> None:
    """A wrong field is reported with the file and a path that names the account and user."""
    path = _write(tmp_path, _minimal(users=[{"name": "alice", "tags": {"team": ["not", "a", "string"]}}]))
    with pytest.raises(SnapshotError) as caught:
        load_snapshot(path)
    message = str(caught.value)
    assert str(path) in message and "accounts[111111111111].users[alice].tags.team" in message


def test_unknown_field_is_an_error(tmp_path: Path) -> None:
    """A typo in a field name is refused, not ignored."""
    path = _write(tmp_path, _minimal(userz=[]), "snap.json")
    with pytest.raises(SnapshotError, match=r"accounts\[111111111111\]\.userz"):
        load_snapshot(path)


def test_bad_policy_names_the_policy_field(tmp_path: Path) -> None:
    """An invalid policy inside the snapshot is reported at load time with its field and JSON pointer."""
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allw", "Action": "kms:*", "Resource": "*"}]}
    path = _write(tmp_path, _minimal(users=[{"name": "alice", "inline_policies": [{"name": "p", "document": policy}]}]))
    with pytest.raises(SnapshotError) as caught:
        World.build(load_snapshot(path), str(path))
    assert "users[alice].inline_policies[p].document/Statement/0/Effect" in str(caught.value)


def test_missing_managed_policy_and_group(tmp_path: Path) -> None:
    """Attachments and groups must resolve inside the snapshot."""
    path = _write(tmp_path, _minimal(users=[{"name": "a", "managed_policies": ["arn:aws:iam::111111111111:policy/Nope"]}]))
    with pytest.raises(SnapshotError, match="not in the snapshot"):
        World.build(load_snapshot(path), str(path))
    path = _write(tmp_path, _minimal(users=[{"name": "a", "groups": ["ghosts"]}]))
    with pytest.raises(SnapshotError, match="group `ghosts`"):
        World.build(load_snapshot(path), str(path))


def test_unreadable_files(tmp_path: Path) -> None:
    """Missing files and broken YAML or JSON are errors naming the file."""
    with pytest.raises(SnapshotError, match="cannot read"):
        load_snapshot(tmp_path / "absent.yaml")
    (tmp_path / "bad.yaml").write_text("accounts: [\n")
    with pytest.raises(SnapshotError, match=r"bad\.yaml"):
        load_snapshot(tmp_path / "bad.yaml")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(SnapshotError, match="line 1"):
        load_snapshot(tmp_path / "bad.json")


def test_schema_document_is_generated_from_the_model() -> None:
    """docs/snapshot.schema.json is exactly what the models generate (regenerate it with `policyengine snapshot schema`)."""
    assert json.loads((ROOT / "docs" / "snapshot.schema.json").read_text()) == snapshot_schema()


def test_policies_by_path_relative_to_the_snapshot(tmp_path: Path) -> None:
    """A policy may be the path of a file next to the snapshot: a plain policy, or a saved get-key-policy output."""
    from policyengine.access import Access

    policies = tmp_path / "policies"
    policies.mkdir()
    key_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}
        ],
    }
    (policies / "key.json").write_text(json.dumps({"Policy": json.dumps(key_policy), "PolicyName": "default"}))
    (policies / "app.json").write_text(
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]})
    )
    snapshot = {
        "accounts": [
            {
                "id": "111122223333",
                "users": [{"name": "app", "inline_policies": [{"name": "use", "document": "policies/app.json"}]}],
                "keys": [{"id": "1234abcd-12ab-34cd-56ef-1234567890ab", "region": "us-east-1", "policy": "policies/key.json"}],
            }
        ]
    }
    path = tmp_path / "snap.yaml"
    path.write_text(yaml.safe_dump(snapshot))
    access = Access.of(World.build(load_snapshot(path), str(path)))
    assert access.can("user/app", "kms:Decrypt", "1234abcd-12ab-34cd-56ef-1234567890ab").status == "allow"
    assert access.can("user/app", "kms:Encrypt", "1234abcd-12ab-34cd-56ef-1234567890ab").status == "deny"
    snapshot["accounts"][0]["keys"][0]["policy"] = "policies/missing.json"  # type: ignore[index]
    path.write_text(yaml.safe_dump(snapshot))
    with pytest.raises(SnapshotError, match=r"keys\[1234abcd-12ab-34cd-56ef-1234567890ab\]\.policy.*policies/missing\.json"):
        World.build(load_snapshot(path), str(path))


@pytest.mark.parametrize(
    "snapshot", ["tests/access/fixtures/org.yaml", "tests/analysis/snapshot/org.yaml", "examples/snapshot/org.yaml"]
)
def test_libyaml_reads_the_snapshots_as_the_python_loader_does(snapshot: str) -> None:
    """Snapshots are read with libyaml (start-up, docs/benchmarks.md): the same data as ``yaml.safe_load``."""
    text = (ROOT / snapshot).read_text(encoding="utf-8")
    assert hasattr(yaml, "CSafeLoader")  # PyYAML's wheels are built with libyaml
    assert yaml.load(text, Loader=yaml.CSafeLoader) == yaml.safe_load(text)
    assert load_snapshot(ROOT / snapshot) == _load_with_python_yaml(ROOT / snapshot)


def _load_with_python_yaml(path: Path) -> Any:
    return snapshot_from_data(yaml.safe_load(path.read_text(encoding="utf-8")), str(path))


def test_a_broken_yaml_snapshot_gets_the_python_loaders_message(tmp_path: Path) -> None:
    """libyaml refuses it first; the message and position are still PyYAML's own."""
    (tmp_path / "bad.yaml").write_text("accounts:\n  - id: '1'\n    name: [a, b\n", encoding="utf-8")
    try:
        yaml.safe_load((tmp_path / "bad.yaml").read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        assert exc.problem_mark is not None
        expected = f"line {exc.problem_mark.line + 1}, column {exc.problem_mark.column + 1}: {exc.problem}"
    with pytest.raises(SnapshotError) as info:
        load_snapshot(tmp_path / "bad.yaml")
    assert expected in str(info.value)


def test_problems_read_as_they_did_when_the_classes_were_pydantic_models(tmp_path: Path) -> None:
    """The snapshot's classes are dataclasses now; pydantic words two problems differently for them, mapped back."""
    cases = (
        (_minimal(userz=[]), "`accounts[111111111111].userz`: extra inputs are not permitted"),
        (_minimal(users=["alice"]), "`accounts[111111111111].users[0]`: input should be a valid dictionary or instance of User"),
        (_minimal(users=[{}]), "`accounts[111111111111].users[0].name`: field required"),
        ({"accounts": [{"id": "1111"}]}, "`accounts[1111].id`: string should match pattern"),
    )
    for data, expected in cases:
        with pytest.raises(SnapshotError) as caught:
            load_snapshot(_write(tmp_path, data, "snap.json"))
        assert expected in str(caught.value)
