"""Shared helpers for the analysis tests: policy loading, replay, and the solver requirement."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import policyengine as pe

PAIRS_DIR = Path(__file__).parent / "pairs"

requires_cvc5 = pytest.mark.skipif(
    __import__("importlib").util.find_spec("cvc5") is None, reason="cvc5 is not installed: policyengine-kms[analysis]"
)
requires_z3 = pytest.mark.skipif(__import__("importlib").util.find_spec("z3") is None, reason="z3-solver is not installed")


def doc(data: dict[str, Any], name: str = "policy.json") -> pe.PolicyDocument:
    """A policy document from a dict, with positions (as the CLI reads files)."""
    return pe.parse_policy(json.dumps(data, indent=2), name)


def load_pair(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def decide(
    key_policy: pe.PolicyDocument,
    request: dict[str, Any],
    identity: list[dict[str, Any]] | None = None,
    restricted: bool = False,
) -> pe.Decision:
    """The evaluator's decision for a plain request dict against a key policy and identity policies;
    ``restricted``: the caller has a session policy that allows nothing (a counterexample's
    ``restricted`` caller, whose unknown boundary or session policy refuses the request)."""
    ids = tuple(pe.compile_policy(doc(p, f"identity{i}.json"), "identity") for i, p in enumerate(identity or []))
    made = pe.make_request(
        request["principal"],
        request["action"],
        request["resource"],
        request.get("context") or {},
        bypass_policy_lockout_safety_check=request.get("bypass", False),
    )
    nothing = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": "*", "Resource": "*"}]}
    session = pe.compile_policy(doc(nothing, "session.json"), "session_policy") if restricted else None
    return pe.authorize(
        made, pe.PolicySet(key_policy=pe.compile_policy(key_policy, "key_policy"), identity=ids, session_policy=session)
    )


def same_iam_policies(principal: str, caller: str) -> bool:
    """Whether ``caller`` has ``principal``'s identity policies (the same user, or the same role's sessions)."""
    a, b = pe.make_request(principal, "kms:Decrypt", "*").caller, pe.make_request(caller, "kms:Decrypt", "*").caller
    family = {"assumed_role": "role"}
    return (family.get(a.kind, a.kind), a.partition, a.account, a.name) == (
        family.get(b.kind, b.kind),
        b.partition,
        b.account,
        b.name,
    )
