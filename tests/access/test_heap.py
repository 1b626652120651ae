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
