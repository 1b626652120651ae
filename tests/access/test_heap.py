"""``FrozenHeap``: the heap is left out of collections inside the block, given back after, and nesting keeps the outer freeze."""

from __future__ import annotations

import gc

import pytest

from policyengine.access.heap import FrozenHeap


def test_the_heap_is_frozen_in_the_block_and_given_back_after_even_on_error() -> None:
    assert gc.get_freeze_count() == 0
    with FrozenHeap():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
    with pytest.raises(KeyError), FrozenHeap():
        raise KeyError("x")
    assert gc.get_freeze_count() == 0


def test_an_inner_block_leaves_the_outer_freeze_alone() -> None:
    with FrozenHeap():
        with FrozenHeap():
            pass
        assert gc.get_freeze_count() > 0, "the inner block undid the outer freeze"
    assert gc.get_freeze_count() == 0


def test_a_freeze_made_outside_is_left_alone_and_asked_about_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process that froze its own heap (a pre-forking server) keeps its freeze, and questions do not pay
    ``gc.get_freeze_count()``'s walk over every frozen object each time: it is asked once."""
    from policyengine.access import heap

    monkeypatch.setattr(heap, "_frozen_outside", False, raising=False)
    asked = []
    real = gc.get_freeze_count

    def counting() -> int:
        asked.append(1)
        return real()

    monkeypatch.setattr(gc, "get_freeze_count", counting)
    gc.freeze()
    try:
        # Frozen objects may still be freed (the count can fall), but an unfreeze would empty the frozen set.
        for _ in range(5):
            with FrozenHeap(), FrozenHeap():
                assert real() > 0
            assert real() > 0, "a question undid the outside freeze"
        assert len(asked) == 1
    finally:
        gc.unfreeze()
