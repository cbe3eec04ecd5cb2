"""Pausing Python's cycle collector while a stage builds many acyclic values.

Loading a large configuration, reading the catalog and solving create millions
of small containers that hold no reference cycles; every allocation burst
starts a collection that rescans the growing heap, which costs as much as the
work itself. Reference counting frees them all the same; a cycle left behind
is collected at the next collection after the stage.
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
        if enabled:
            gc.enable()
