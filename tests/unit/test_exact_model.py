"""``exact_instance``: plain data built into the snapshot's classes without pydantic only when pydantic would agree.

The builder is the fast path of every snapshot read (policyengine/model/_exact.py says why), so the one
property that matters is checked against pydantic itself: whatever it accepts, pydantic accepts and validates
to an equal snapshot; what it refuses goes to pydantic, which converts or names the problem.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from policyengine.access.loader import _load_yaml
from policyengine.access.snapshot import Snapshot
from policyengine.access.synthetic import generate
from policyengine.model._exact import exact_instance
from policyengine.model._frozen import FrozenModel, frozen_model

ROOT = Path(__file__).resolve().parents[2]
ORG = ROOT / "tests" / "access" / "fixtures" / "org.yaml"

#: Values a mutation puts in place of one: of every plain type, some that pydantic converts, some it refuses.
_REPLACEMENTS: tuple[Any, ...] = (
    1,
    0,
    True,
    1.5,
    None,
    "",
    "yes",
    "Enabled",
    "111111111111",
    "11111111111\n",
    "１１１１１１１１１１１１",  # full-width digits: a Unicode \d, not an ASCII one
    "vpce-0a1b",
    [],
    ["x"],
    [1],
    (),
    {},
    {"k": "v"},
    {"k": 1},
    {1: "v"},
    b"bytes",
)


def _fixture() -> dict[str, Any]:
    data: dict[str, Any] = _load_yaml(ORG.read_text(encoding="utf-8"))
    return data


def _paths(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every position in a document (keys of mappings, indexes of lists), depth first."""
    found = [at]
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*at, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_paths(value, (*at, i)))
    return found


def _pydantic(data: Any) -> Snapshot | None:
    try:
        return Snapshot.model_validate(data)
    except ValidationError:
        return None


def test_the_fixture_and_a_synthetic_organization_are_built_as_pydantic_validates_them() -> None:
    for data in (_fixture(), generate(principals=60, keys=12, accounts=3).model_dump(mode="json", exclude_defaults=True)):
        exact = exact_instance(Snapshot, data)
        assert exact is not None
        assert exact == Snapshot.model_validate(data)


def test_a_mutated_snapshot_is_built_only_when_pydantic_accepts_it_and_then_equal() -> None:
    """Replace, delete or add one value anywhere in the fixture: never wider than pydantic, and never different."""
    rng = random.Random(16)
    base = _fixture()
    paths = _paths(base)[1:]
    built = refused = refused_by_pydantic = 0
    for _ in range(1500):
        data = copy.deepcopy(base)
        path = rng.choice(paths)
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        what = rng.random()
        if what < 0.7:
            parent[path[-1]] = rng.choice(_REPLACEMENTS)
        elif what < 0.85:
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent["unknown_field"] = "x"
        else:
            parent.append(rng.choice(_REPLACEMENTS))
        exact = exact_instance(Snapshot, data)
        validated = _pydantic(data)
        if exact is not None:
            built += 1
            assert validated is not None and exact == validated, path
        else:
            refused += 1
            refused_by_pydantic += validated is None
    # Both branches were taken, and most refusals are pydantic's too (the rest it converts, e.g. a tuple).
    assert built > 100 and refused > 100 and refused_by_pydantic > refused // 2


def test_an_id_a_pattern_may_refuse_is_left_to_pydantic() -> None:
    """Python's and pydantic's regular expressions differ at the edges; those cases are pydantic's to decide."""
    data = _fixture()
    for odd in ("111111111111\n", "１１１１１１１１１１１１", "1111111111111"):
        data["accounts"][0]["id"] = odd
        assert exact_instance(Snapshot, data) is None
    # pydantic's engine takes full-width digits for \d (so the builder, ASCII only, must not decide) ...
    data["accounts"][0]["id"] = "１１１１１１１１１１１１"
    assert _pydantic(data) is not None
    # ... and refuses a trailing newline that Python's `$` lets through.
    data["accounts"][0]["id"] = "111111111111\n"
    assert _pydantic(data) is None


def test_an_annotation_it_cannot_check_is_refused_when_the_checker_is_made() -> None:
    """A new field type cannot pass unchecked: the builder refuses the class rather than guess."""

    @frozen_model
    class _Numbered(FrozenModel):
        count: int

    with pytest.raises(TypeError, match="cannot check"):
        exact_instance(_Numbered, {"count": 1})
