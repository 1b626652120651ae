"""Leave the objects that exist now out of the garbage collector's passes while a question runs.

A question over every caller allocates enough to set off full collections, and a full pass over
a 20,000-principal world (the compiled world, the role graph, the indexes) costs more than the
question itself (~1.5 s CPU had landed inside query loops); in forked matrix workers it would also
copy every page they share with their parent.
"""

from __future__ import annotations

import gc
from types import TracebackType

#: How many ``FrozenHeap`` blocks are open in this process (a question asked while another runs nests one).
_open = 0
#: Whether something else froze this process's heap (a pre-forking server does, so that its workers share pages).
_frozen_outside = False


class FrozenHeap:
    """``with FrozenHeap():`` freezes the heap for the block and gives the objects back to the collector after.

    Inside a block that already froze the heap (a question asked while another runs) it does nothing:
    unfreezing there would undo the outer freeze; nesting is counted here, not read from the
    collector. In a process whose heap something else froze it does nothing either, and leaves that
    freeze alone. That is asked of the collector once: ``gc.get_freeze_count()`` walks every frozen
    object, which in such a process cost each question a walk over the whole heap. (Should that code
    unfreeze later, questions just run unfrozen: slower collections, same answers.) A small class, not a
    ``contextlib`` generator: ``can`` enters one per evaluated question, and a generator-based context
    manager cost 2.8 us of a 22 us question, this 0.5 us.
    """

    __slots__ = ("_froze",)

    def __enter__(self) -> None:
        global _open, _frozen_outside
        self._froze = False
        if _open == 0 and not _frozen_outside:
            if gc.get_freeze_count():
                _frozen_outside = True
            else:
                gc.freeze()
                self._froze = True
        _open += 1

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        global _open
        _open -= 1
        if self._froze:
            gc.unfreeze()
