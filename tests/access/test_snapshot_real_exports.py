"""A snapshot imported from a real IAM export reads back through the fast path exactly as pydantic validates it.

The snapshot reader builds well-formed data without pydantic (``exact_instance``); the fixtures it was checked on
were written by us. Here the data comes from a public repository's export (salesforce/cloudsplaining,
``test/files/example-authz-details.json``, BSD-3-Clause; source recorded in tests/lint/corpus/SOURCES.md), with
AWS managed policies, inline and attached policies, groups, instance profiles and trust policies as AWS writes
them: imported, written to YAML as ``snapshot import`` writes it, and read back.
"""

from __future__ import annotations

from pathlib import Path

from policyengine.access.importers.authdetails import import_authdetails
from policyengine.access.importers.merge import build_snapshot
from policyengine.access.loader import _load_yaml, dump_snapshot, load_snapshot
from policyengine.access.snapshot import Snapshot
from policyengine.model import exact_instance

ROOT = Path(__file__).resolve().parents[2]
EXPORT = ROOT / "tests" / "lint" / "corpus" / "files" / "salesforce--cloudsplaining" / "example-authz-details.json"


def test_real_export_reads_back_through_the_fast_path_as_pydantic_validates_it(tmp_path: Path) -> None:
    snapshot = build_snapshot(import_authdetails(EXPORT), source=str(EXPORT))
    written = tmp_path / "snap.yaml"
    dump_snapshot(snapshot, written)
    data = _load_yaml(written.read_text(encoding="utf-8"))
    fast = exact_instance(Snapshot, data)
    assert fast is not None  # a well-formed snapshot takes the fast path ...
    assert fast == Snapshot.model_validate(data) == snapshot  # ... and is what pydantic and the importer make
    assert load_snapshot(written) == snapshot
    [account] = snapshot.accounts
    assert len(account.users) == 3 and len(account.roles) == 3
