"""Access questions over a snapshot of whole accounts: can, who-can, what-can, the access matrix.

The pieces, one job each: ``snapshot`` (the data model) and ``loader`` (files), ``importers``
(AWS CLI exports and Terraform plans to a snapshot), ``world`` (the snapshot compiled),
``subjects`` (who can ask), ``facts`` (which context keys a question fixes), ``formula`` and
``atoms`` (residual conditions), ``partial`` (partial evaluation with the evaluator's rules),
``reach`` (role assumption), ``queries`` and ``matrix`` (the questions), ``report`` (HTML),
``pull`` (reading live accounts with the user's credentials).
"""

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
from policyengine.access.pull import READ_ONLY_OPERATIONS, PullResult, pull, snapshot_from_exports
from policyengine.access.queries import Access
from policyengine.access.report import render_html
from policyengine.access.snapshot import Snapshot, Unused, snapshot_schema
from policyengine.access.world import World

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
    "pull",
    "render_html",
    "snapshot_from_data",
    "snapshot_from_exports",
    "snapshot_schema",
]
