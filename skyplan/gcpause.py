"""Pausing Python's cycle collector while a stage builds many acyclic values.

Loading a large configuration, reading the catalog and solving create millions
of small containers that hold no reference cycles; every allocation burst
starts a collection that rescans the growing heap, which costs as much as the
work itself. Reference counting frees them all the same; a cycle left behind
is collected at the next full collection after the stage. What the stage built
and kept is moved to the oldest generation when it ends (freeze, then unfreeze:
two list splices), so the young collections that follow do not scan it again.
"""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:  # leave a caller's own frozen objects alone
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()
