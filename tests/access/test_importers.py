"""Importers on hand-written sample exports: what they read, what they list as unused, how they fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policyengine.access import Access, SnapshotError, World
from policyengine.access.importers import (
    Imported,
    build_snapshot,
    import_authdetails,
    import_kms_dir,
    import_organization,
    import_terraform_plan,
)

from .conftest import FIXTURES

EXPORTS = FIXTURES / "exports"


def _reasons(imported: Imported) -> dict[str, str]:
    return {item["item"]: item["reason"] for item in imported.unused}


def test_authdetails_reads_users_groups_roles_and_default_versions() -> None:
    """Users, groups, roles and managed policies come through; only a policy's default version counts."""
    imported = import_authdetails(EXPORTS / "authdetails.json")
    account = imported.accounts["555555555555"]
    assert [u["name"] for u in account["users"]] == ["alice", "bob"]
    assert account["users"][0]["groups"] == ["readers"]
    assert account["users"][1]["path"] == "/ops/"
    assert account["users"][1]["inline_policies"][0]["document"]["Statement"][0]["Action"] == "kms:Encrypt"
    (policy,) = account["managed_policies"]
    assert policy["document"]["Statement"][0]["Action"] == ["kms:Describe*", "kms:List*"]
    world = World.build(build_snapshot(imported))
    assert world.principal("user/alice").tags == {"team": "payments"}


def test_authdetails_lists_what_it_could_not_use() -> None:
    """A missing group, an unexported managed policy, a missing boundary and a broken inline policy are listed, never dropped."""
    reasons = _reasons(import_authdetails(EXPORTS / "authdetails.json"))
    assert "not in the export" in reasons["user/alice group ghosts"]
    assert "not counted" in reasons["user/alice attachment arn:aws:iam::aws:policy/AdministratorAccess"]
    assert "allow more" in reasons["user/bob permissions boundary arn:aws:iam::555555555555:policy/Missing"]
    assert "not JSON" in reasons["role/deployer inline policy broken"]


def test_kms_dir_reads_keys_grants_tags_and_aliases() -> None:
    """Each key folder becomes a key with its policy, aliases, tags, state and grants."""
    imported = import_kms_dir(EXPORTS / "kms")
    keys = {k["id"]: k for k in imported.accounts["555555555555"]["keys"]}
    orders = keys["5555eeee-eeee-eeee-eeee-eeeeeeeeeeee"]
    assert orders["aliases"] == ["alias/orders"] and orders["tags"] == {"env": "prod"} and orders["region"] == "eu-west-1"
    assert [g["grant_id"] for g in orders["grants"]] == ["0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60"]
    assert orders["grants"][0]["constraints"] == {"encryption_context_subset": {"app": "orders"}}
    signing = keys["5555ffff-ffff-ffff-ffff-ffffffffffff"]
    assert (signing["state"], signing["usage"], signing["grants_known"]) == ("Disabled", "SIGN_VERIFY", False)


def test_kms_dir_lists_missing_and_bad_parts() -> None:
    """A listed key without a folder, a grant with an unknown operation and a missing grant list are all reported."""
    reasons = _reasons(import_kms_dir(EXPORTS / "kms"))
    assert "the key is not in the snapshot" in reasons["key 55550000-0000-0000-0000-000000000000"]
    assert "not a grant operation" in reasons["grant bad-grant"]
    assert "not counted" in reasons["grants of key 5555ffff-ffff-ffff-ffff-ffffffffffff"]


def test_kms_dir_bad_export_names_file_and_field() -> None:
    """A describe-key output without an ARN is an error naming the file and the field."""
    with pytest.raises(SnapshotError) as caught:
        import_kms_dir(EXPORTS / "kms-partial")
    assert "describe-key.json" in str(caught.value) and "KeyMetadata.Arn" in str(caught.value)


def test_combined_exports_answer_questions() -> None:
    """IAM and KMS exports of one account merge into a snapshot that answers can, with grants and boundaries as exported."""
    imported = import_authdetails(EXPORTS / "authdetails.json")
    imported.merge(import_kms_dir(EXPORTS / "kms"))
    access = Access.of(World.build(build_snapshot(imported)))
    assert access.can("user/alice", "kms:Decrypt", "alias/orders").status == "allow"
    assert access.can("user/alice", "kms:Sign", "5555ffff-ffff-ffff-ffff-ffffffffffff").status == "allow"
    deployer = access.can("role/deployer", "kms:Decrypt", "alias/orders")
    assert deployer.status == "conditional"
    assert "kms:EncryptionContext:app = orders" in deployer.direct.to_json()["residual"]


def test_terraform_plan_resolves_references() -> None:
    """A plan's key, key policy, alias, role and role policy are joined through the configuration's references."""
    imported = import_terraform_plan(EXPORTS / "plan.json", account="666666666666")
    account = imported.accounts["666666666666"]
    (key,) = account["keys"]
    assert key["region"] == "eu-central-1" and key["aliases"] == ["alias/orders"]
    assert key["policy"]["Statement"][1]["Sid"] == "App"
    (role,) = account["roles"]
    assert role["inline_policies"][0]["name"] == "kms"
    reasons = _reasons(imported)
    assert "not known at plan time" in reasons["aws_iam_role_policy.later"]
    assert "aws_s3_bucket (1)" in reasons["other resources"]
    access = Access.of(World.build(build_snapshot(imported)))
    assert access.can("role/app", "kms:Decrypt", "alias/orders").status == "allow"  # root statement + its IAM policy
    assert access.can("role/app", "kms:Encrypt", "alias/orders").status == "deny"


def test_terraform_plan_without_account_is_an_error() -> None:
    """A plan that never shows its account id asks for one instead of guessing."""
    with pytest.raises(SnapshotError, match="which account"):
        import_terraform_plan(EXPORTS / "plan.json")


def test_not_an_export(tmp_path: Path) -> None:
    """Files of the wrong kind fail with the file named."""
    bogus = tmp_path / "bogus.json"
    bogus.write_text(json.dumps({"hello": 1}))
    with pytest.raises(SnapshotError, match=r"bogus\.json"):
        import_authdetails(bogus)
    with pytest.raises(SnapshotError, match="format_version"):
        import_terraform_plan(bogus)
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    with pytest.raises(SnapshotError, match="not JSON"):
        import_authdetails(broken)


# --- Organizations exports --------------------------------------------------------------------------------------
# Output shapes: AWS Organizations API Reference (DescribeOrganization, ListRoots, ListAccounts, ListParents,
# ListOrganizationalUnitsForParent, ListPoliciesForTarget, DescribePolicy). RCPFullAWSAccess: Organizations UG,
# "Resource control policies (RCPs)": "attached to every root, OU and account ... cannot be detached".

ORG_DIR = EXPORTS / "org"


def _levels(account: dict[str, object], which: str) -> list[tuple[str, list[str]]]:
    levels = account[which]
    assert isinstance(levels, list)
    return [(level["target"], [p["name"] for p in level["policies"]]) for level in levels]


def test_organization_places_accounts_and_reads_scp_and_rcp_levels() -> None:
    """OU paths come from list-parents and list-organizational-units-for-parent (flat files and <id>/ folders)."""
    imported = import_organization(ORG_DIR)
    assert imported.organization == {"id": "o-fixture1234", "management_account": "444444444444"}
    payments = imported.accounts["555555555555"]
    assert payments["name"] == "payments" and payments["org_id"] == "o-fixture1234"
    assert payments["ou_path"] == ["r-ab12", "ou-ab12-11111111", "ou-ab12-22222222"]
    assert _levels(payments, "scps") == [
        ("r-ab12", ["FullAWSAccess"]),
        ("ou-ab12-11111111", ["FullAWSAccess"]),
        ("ou-ab12-22222222", ["FullAWSAccess", "DenyEncrypt"]),
        ("555555555555", ["FullAWSAccess"]),
    ]


def test_organization_implies_rcp_full_access_at_every_level() -> None:
    """RCPFullAWSAccess is at every RCP level whether the export lists it or not; a level not exported is noted."""
    imported = import_organization(ORG_DIR)
    assert _levels(imported.accounts["555555555555"], "rcps") == [
        ("r-ab12", ["RCPFullAWSAccess", "KmsPerimeter"]),
        ("ou-ab12-11111111", ["RCPFullAWSAccess"]),
        ("ou-ab12-22222222", ["RCPFullAWSAccess"]),
        ("555555555555", ["RCPFullAWSAccess"]),
    ]
    reasons = _reasons(imported)
    assert "taken as allowing everything" in reasons["RCPs of ou-ab12-22222222"]
    assert "OU path is unknown" in reasons["account 666666666666"]
    assert "scps" not in imported.accounts["666666666666"]


def test_organization_exports_change_answers() -> None:
    """With the organization imported, the prod OU's SCP denies bob's Encrypt; the management account is exempt."""
    imported = import_authdetails(EXPORTS / "authdetails.json")
    imported.merge(import_kms_dir(EXPORTS / "kms"))
    before = Access.of(World.build(build_snapshot(imported)))
    assert before.can("user/bob", "kms:Encrypt", "alias/orders").status == "allow"
    imported.merge(import_organization(ORG_DIR))
    snapshot = build_snapshot(imported)
    assert snapshot.organization is not None and snapshot.organization.management_account == "444444444444"
    after = Access.of(World.build(snapshot))
    assert after.can("user/bob", "kms:Encrypt", "alias/orders").status == "deny"
    assert after.can("user/alice", "kms:Decrypt", "alias/orders").status == "allow"


def test_organization_base_snapshot_place_is_kept_whole(tmp_path: Path) -> None:
    """A base snapshot's SCP levels are not joined with the import's (no doubled levels)."""
    imported = import_organization(ORG_DIR)
    base = build_snapshot(imported)
    again = build_snapshot(import_organization(ORG_DIR), base)
    (account,) = [a for a in again.accounts if a.id == "555555555555"]
    assert account.scps is not None and len(account.scps) == 4


def test_organization_errors_name_the_file(tmp_path: Path) -> None:
    """A folder without list-accounts, or an output of the wrong kind, is an error naming the file."""
    with pytest.raises(SnapshotError, match="list-accounts"):
        import_organization(tmp_path)
    (tmp_path / "list-accounts.json").write_text(json.dumps({"Accounts": []}))
    (tmp_path / "list-parents-555555555555.json").write_text(json.dumps({"Policies": []}))
    with pytest.raises(SnapshotError, match=r"list-parents-555555555555\.json.*Parents"):
        import_organization(tmp_path)


def test_kms_flat_layout_reads_the_same_key() -> None:
    """One file per command and key (describe-key-<id>.json, ...; a bare policy) gives the same key as a key folder."""
    folder = {k["id"]: k for k in import_kms_dir(EXPORTS / "kms").accounts["555555555555"]["keys"]}
    (flat,) = import_kms_dir(EXPORTS / "kms-flat").accounts["555555555555"]["keys"]
    same = folder[flat["id"]]
    assert flat == same


def test_kms_account_without_keys_adds_none() -> None:
    """list-keys showing no key is an account without keys, not an error; an empty folder still is one."""
    imported = import_kms_dir(EXPORTS / "kms-empty")
    assert imported.accounts == {} and imported.unused == []


def test_kms_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="no saved `aws kms` outputs"):
        import_kms_dir(tmp_path)
