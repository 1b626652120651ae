"""What if: change a policy and see which requests flip between allow and deny.

The page keeps a small table of requests. ``compare`` decides each under the workspace as it was
and as it is now, and marks the rows whose answer flipped. When the change is to the key policy
alone, the same engine as ``policyengine check no-new-access`` proves (or refutes, with a
counterexample replayed through the evaluator) that the new key policy grants nothing the old
one did not — for every request, not only the rows in the table. Without the solver (the
``analysis`` extra) the proof is reported as unavailable, never as passed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from policyengine.explain.render import HEADLINES
from policyengine.parsing.strings import parse_arn
from policyengine.playground.answer import decide
from policyengine.playground.workspace import Workspace, build

#: The table holds a handful of requests a person keeps; more is a batch job for the CLI.
MAX_ROWS = 50


def _row(workspace: Workspace, overrides: Mapping[str, Any]) -> dict[str, Any]:
    decision = decide(workspace.with_request(**overrides))
    if decision is None:
        return {"decision": "error", "headline": "does not read", "reason": None}
    return {"decision": decision.decision, "headline": HEADLINES[decision.decision], "reason": decision.reason_text}


def _key_policy_proof(before: Workspace, after: Workspace) -> dict[str, Any] | None:
    """``no-new-access`` over the key policy, when it is the only policy that changed."""
    old, new = before.to_json()["policies"], after.to_json()["policies"]
    if old["key_policy"] == new["key_policy"] or any(old[k] != new[k] for k in old if k != "key_policy"):
        return None
    old_doc = build(before).documents.get("key_policy")
    new_doc = build(after).documents.get("key_policy")
    if old_doc is None or new_doc is None:
        return None
    try:
        from policyengine.analysis import SolverUnavailable, no_new_access
    except ImportError:  # pragma: no cover - analysis ships with the package; only its solver is optional
        return {"status": "unavailable", "message": "the offline checks are not installed"}
    parts = parse_arn(str(after.request.get("resource", "")))
    account = parts.account if parts is not None and parts.account else None
    try:
        result = no_new_access(old_doc, new_doc, key_account=account)
    except SolverUnavailable as error:
        return {"status": "unavailable", "message": str(error)}
    out: dict[str, Any] = {"status": result.label, "message": result.message, "scope": result.scope}
    if result.counterexample is not None:
        out["counterexample"] = result.counterexample.to_json()
    return out


def compare(before: Workspace, after: Workspace, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Each row decided before and after the change; flipped rows marked; the proof when it applies."""
    if len(rows) > MAX_ROWS:
        raise ValueError(f"what-if: at most {MAX_ROWS} requests in the table (got {len(rows)})")
    out_rows = []
    for overrides in rows:
        was, now = _row(before, overrides), _row(after, overrides)
        flipped = (was["decision"] == "allow") != (now["decision"] == "allow")
        out_rows.append({"request": dict(overrides), "before": was, "after": now, "flipped": flipped})
    return {
        "rows": out_rows,
        "flipped": sum(1 for r in out_rows if r["flipped"]),
        "proof": _key_policy_proof(before, after),
    }
