"""ListKeys and ListAliases page by position (the marker names the last item of the page before),
so every page is read from the store's index as one page, whatever the account holds.

Paging must still list everything exactly once, in the order one long page gives: keys made in the
same instant (ordered by key id), AWS's predefined aliases merged among the account's own, and a
marker that is not one of ours refused as AWS refuses it (``ValidationException``).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from policyengine.kms import Caller, LocalKms, ManualClock
from policyengine.kms.errors import ValidationException
from policyengine.store.sqlite import SqliteKeyStore


def _all_pages(call: Any, limit: int, field: str) -> list[Any]:
    seen: list[Any] = []
    marker: str | None = None
    while True:
        response = call(Limit=limit, **({"Marker": marker} if marker else {}))
        assert len(response[field]) <= limit
        seen += response[field]
        if not response["Truncated"]:
            return seen
        marker = response["NextMarker"]


def test_list_keys_pages_list_every_key_once(kms: LocalKms, root: Caller, clock: ManualClock) -> None:
    for _ in range(7):
        kms.create_key(root)  # the same instant: ordered by key id
    clock.advance(seconds=1)
    for _ in range(3):
        kms.create_key(root)
    whole = kms.list_keys(root, Limit=1000)["Keys"]
    assert len(whole) == 10
    for limit in (1, 3, 7, 10):
        assert _all_pages(lambda **p: kms.list_keys(root, **p), limit, "Keys") == whole


def test_list_aliases_pages_merge_predefined_and_own_aliases(kms: LocalKms, root: Caller, key_id: str) -> None:
    for name in ("alias/aaa", "alias/aws-mine", "alias/awz", "alias/zzz"):
        kms.create_alias(root, AliasName=name, TargetKeyId=key_id)
    whole = kms.list_aliases(root, Limit=1000)["Aliases"]
    names = [a["AliasName"] for a in whole]
    assert names == sorted(names) and len(names) == len(set(names))
    assert {"alias/aaa", "alias/aws/ebs", "alias/zzz"} <= set(names)
    for limit in (1, 2, 5, len(whole)):
        assert _all_pages(lambda **p: kms.list_aliases(root, **p), limit, "Aliases") == whole


@pytest.mark.parametrize("marker", ["junk", "pe-", "pe-notanumber/key"])
def test_a_marker_that_is_not_ours_is_refused(kms: LocalKms, root: Caller, marker: str) -> None:
    with pytest.raises(ValidationException, match="Invalid marker"):
        kms.list_keys(root, Marker=marker)
    if marker != "pe-notanumber/key":  # any alias name is a position
        with pytest.raises(ValidationException, match="Invalid marker"):
            kms.list_aliases(root, Marker=marker)


def test_sqlite_reads_a_later_page_as_an_index_range(tmp_path: Path) -> None:
    """The page after a marker is a search of keys_by_place (or the alias primary key), not a scan."""
    path = tmp_path / "kms.sqlite3"
    SqliteKeyStore(path).close()
    queries = (
        "SELECT key_id FROM keys WHERE account = 'a' AND region = 'r' AND (creation_date, key_id) > (1.0, 'k')"
        " ORDER BY creation_date, key_id LIMIT 101",
        "SELECT alias_name FROM aliases WHERE account = 'a' AND region = 'r' AND alias_name > 'alias/m'"
        " ORDER BY alias_name LIMIT 101",
    )
    with sqlite3.connect(path) as conn:
        for query in queries:
            plan = " ".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {query}"))
            assert plan.startswith("SEARCH") and "TEMP B-TREE" not in plan, plan
