"""Access questions over a snapshot of whole accounts: can, who-can, what-can, the access matrix.

The pieces, one job each: ``snapshot`` (the data model) and ``loader`` (files), ``importers``
(AWS CLI exports and Terraform plans to a snapshot), ``world`` (the snapshot compiled),
``subjects`` (who can ask), ``facts`` (which context keys a question fixes), ``formula`` and
``atoms`` (residual conditions), ``partial`` (partial evaluation with the evaluator's rules),
``reach`` (role assumption), ``queries`` and ``matrix`` (the questions), ``report`` (HTML),
``pull`` (reading live accounts with the user's credentials).

Names are imported on first use (``policyengine._lazy``): ``can`` must not load the importers,
the live pull (boto3) or the HTML report to answer one question.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from policyengine._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "GROUPS": "policyengine.access.actions",
    "actions_for": "policyengine.access.actions",
    "group_of": "policyengine.access.actions",
    "Answer": "policyengine.access.answers",
    "Route": "policyengine.access.answers",
    "Verdict": "policyengine.access.answers",
    "explain_lines": "policyengine.access.answers",
    "partial_json": "policyengine.access.answers",
    "Consolidated": "policyengine.access.consolidate",
    "principal_policy": "policyengine.access.consolidate",
    "LookupFailure": "policyengine.access.errors",
    "SnapshotError": "policyengine.access.errors",
    "Findings": "policyengine.access.findings",
    "external_access": "policyengine.access.findings",
    "findings_sarif": "policyengine.access.findings",
    "load_archive_rules": "policyengine.access.findings",
    "Imported": "policyengine.access.importers",
    "build_snapshot": "policyengine.access.importers",
    "import_authdetails": "policyengine.access.importers",
    "import_kms_dir": "policyengine.access.importers",
    "import_organization": "policyengine.access.importers",
    "import_terraform_plan": "policyengine.access.importers",
    "dump_snapshot": "policyengine.access.loader",
    "load_snapshot": "policyengine.access.loader",
    "snapshot_from_data": "policyengine.access.loader",
    "Cell": "policyengine.access.matrix",
    "Matrix": "policyengine.access.matrix",
    "access_matrix": "policyengine.access.matrix",
    "Partial": "policyengine.access.partial",
    "allow_only_if": "policyengine.access.partial",
    "partial_authorize": "policyengine.access.partial",
    "READ_ONLY_OPERATIONS": "policyengine.access.pull",
    "PullResult": "policyengine.access.pull",
    "snapshot_from_exports": "policyengine.access.pull",
    "Access": "policyengine.access.queries",
    "render_html": "policyengine.access.report",
    "stream_matrix": "policyengine.access.stream",
    "Snapshot": "policyengine.access.snapshot",
    "Unused": "policyengine.access.snapshot",
    "snapshot_schema": "policyengine.access.snapshot",
    "World": "policyengine.access.world",
}
#: public names that are another name in their module (``pull`` is also the subpackage's name, which
#: importing it binds in this package: the function is ``pull_accounts`` here)
_ALIASES: dict[str, tuple[str, str]] = {
    "pull_accounts": ("policyengine.access.pull", "pull"),
    "formula_json": ("policyengine.access.formula", "to_json"),
    "formula_text": ("policyengine.access.formula", "to_text"),
}


__all__ = [
    "GROUPS",
    "READ_ONLY_OPERATIONS",
    "Access",
    "Answer",
    "Cell",
    "Consolidated",
    "Findings",
    "Imported",
    "LookupFailure",
    "Matrix",
    "Partial",
    "PullResult",
    "Route",
    "Snapshot",
    "SnapshotError",
    "Unused",
    "Verdict",
    "World",
    "access_matrix",
    "actions_for",
    "allow_only_if",
    "build_snapshot",
    "dump_snapshot",
    "explain_lines",
    "external_access",
    "findings_sarif",
    "formula_json",
    "formula_text",
    "group_of",
    "import_authdetails",
    "import_kms_dir",
    "import_organization",
    "import_terraform_plan",
    "load_archive_rules",
    "load_snapshot",
    "partial_authorize",
    "partial_json",
    "principal_policy",
    "pull_accounts",
    "render_html",
    "snapshot_from_data",
    "snapshot_from_exports",
    "snapshot_schema",
    "stream_matrix",
]

_lazy_getattr, __dir__ = lazy_exports(__name__, {**_EXPORTS, **{a: m for a, (m, _) in _ALIASES.items()}})


def __getattr__(name: str) -> Any:
    alias = _ALIASES.get(name)
    if alias is None:
        return _lazy_getattr(name)
    import importlib
    import sys

    value = getattr(importlib.import_module(alias[0]), alias[1])
    setattr(sys.modules[__name__], name, value)
    return value


if TYPE_CHECKING:
    from policyengine.access.actions import GROUPS, actions_for, group_of
    from policyengine.access.answers import Answer, Route, Verdict, explain_lines, partial_json
    from policyengine.access.consolidate import Consolidated, principal_policy
    from policyengine.access.errors import LookupFailure, SnapshotError
    from policyengine.access.findings import Findings, external_access, findings_sarif, load_archive_rules
    from policyengine.access.formula import to_json as formula_json
    from policyengine.access.formula import to_text as formula_text
    from policyengine.access.importers import (
        Imported,
        build_snapshot,
        import_authdetails,
        import_kms_dir,
        import_organization,
        import_terraform_plan,
    )
    from policyengine.access.loader import dump_snapshot, load_snapshot, snapshot_from_data
    from policyengine.access.matrix import Cell, Matrix, access_matrix
    from policyengine.access.partial import Partial, allow_only_if, partial_authorize
    from policyengine.access.pull import READ_ONLY_OPERATIONS, PullResult, snapshot_from_exports
    from policyengine.access.pull import pull as pull_accounts
    from policyengine.access.queries import Access
    from policyengine.access.report import render_html
    from policyengine.access.snapshot import Snapshot, Unused, snapshot_schema
    from policyengine.access.stream import stream_matrix
    from policyengine.access.world import World
