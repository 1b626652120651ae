"""The realistic old/new key-policy pairs in ``pairs/``: each check gives the recorded verdict."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyengine.analysis import no_new_access
from tests.analysis.conftest import PAIRS_DIR, decide, doc, load_pair, requires_cvc5, requires_z3, same_iam_policies

PAIRS = sorted(PAIRS_DIR.glob("*.json"))
pytestmark = requires_cvc5


def _run(path: Path, backend: str = "cvc5"):  # type: ignore[no-untyped-def]
    data = load_pair(path)
    return data, no_new_access(
        doc(data["old"], "old.json"),
        doc(data["new"], "new.json"),
        identity_old=[doc(p, "identity-old.json") for p in data.get("identity_old", [])],
        identity_new=[doc(p, "identity-new.json") for p in data.get("identity_new", [])],
        principal=data.get("principal"),
        key_account=data.get("key_account"),
        backend=backend,
    )


def test_there_are_enough_pairs_of_both_verdicts() -> None:
    """At least 30 pairs, with both verdicts well represented."""
    verdicts = [load_pair(p)["expected"] for p in PAIRS]
    assert len(verdicts) >= 30
    assert verdicts.count("pass") >= 10 and verdicts.count("fail") >= 10


@pytest.mark.parametrize("path", PAIRS, ids=[p.stem for p in PAIRS])
def test_pair_verdict(path: Path) -> None:
    """The check's verdict on the pair is the recorded one, and a fail's counterexample replays."""
    data, result = _run(path)
    assert result.verdict == data["expected"], result.to_json()
    if result.verdict == "fail":
        cex = result.counterexample
        assert cex is not None and cex.statements
        request = {"principal": cex.principal, "action": cex.action, "resource": cex.resource, "context": cex.context}
        request["bypass"] = cex.bypass_lockout_check
        in_group = data.get("principal") is not None and same_iam_policies(data["principal"], cex.principal)
        new_ids = data["identity_new"] if in_group else ([cex.iam_policy] if cex.iam_policy else [])
        old_ids = data["identity_old"] if in_group else ([cex.iam_policy] if cex.iam_policy else [])
        assert decide(doc(data["new"], "new.json"), request, new_ids, cex.restricted).allowed
        assert not decide(doc(data["old"], "old.json"), request, old_ids, cex.restricted).allowed
        assert all(ref.policy_name == "new.json" or ref.policy_kind != "key_policy" for ref in cex.statements)


def test_unmodelled_policy_variable_is_listed_as_an_approximation() -> None:
    """A condition comparing with a policy variable is reported among the approximations."""
    _, result = _run(PAIRS_DIR / "47-policy-variable-unchanged.json")
    assert result.verdict == "pass"
    assert any("policy variables" in a for a in result.approximations)


FAST_FOR_Z3 = [
    "01-identical",
    "03-case-only-actions",
    "07-wildcard-widened",
    "23-allow-notaction-shrunk",
    "30-ip-widened",
    "33-ifexists-added",
]


@requires_z3
@pytest.mark.parametrize("path", [p for p in PAIRS if any(p.stem.startswith(f) for f in FAST_FOR_Z3)], ids=lambda p: p.stem)
def test_z3_backend_agrees_on_quick_pairs(path: Path) -> None:
    """The optional z3 backend gives the same verdicts (on pairs it answers quickly)."""
    data, result = _run(path, backend="z3")
    assert result.verdict == data["expected"]
