"""Pure work split over two processes: the tasks are shared out between the
caller and a forked child, which work from either end of the list towards
each other.

The solver's candidate generation is pure Python over data already in memory
(the catalog, its indexes, the items), and so is encoding a long JSON document
(skyplan.commands.common.compact_json), so the GIL keeps a thread pool to one
core. A forked child shares that memory copy-on-write. The parent takes tasks
from the front, the child from the back; each marks a task as taken in a page
both processes map, and each stops at the first task the other has taken. So
the two halves are contiguous runs of the list, which a caller that orders
alike tasks together keeps apart from each other's memoised look-ups, and the
split point falls wherever the two meet, balancing uneven tasks without a
guess. A task both reach at the same moment is simply run twice (the parent's
answer is used).

The child sends back what the caller's ``encode`` makes of each result
(compact, picklable: references into the shared data rather than copies of
it), and the parent rebuilds them with ``decode``. The child's answer is an
optimisation only: when it cannot fork, dies, or sends something that does not
decode, the parent runs the missing tasks itself, so the result is always the
one the serial loop gives, in task order. The child never returns into the
caller: it leaves with ``os._exit``, so no buffered output, exit handler or
open connection of the parent runs or closes twice.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import warnings
from typing import Callable, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Below this many tasks the fork, copy-on-write faults and the pickling cost more
# than half the work saves.
LEAST_TASKS = 200


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def enabled() -> bool:
    """Whether work may be split: on Linux (fork is the safe, cheap default there),
    with a second core, unless ``SKYPLAN_PARALLEL=0``."""
    if os.environ.get("SKYPLAN_PARALLEL", "").strip() in ("0", "false", "no"):
        return False
    return sys.platform.startswith("linux") and hasattr(os, "fork") and cores() > 1


def map_split(fn: Callable[[T], R], tasks: Sequence[T], encode: Callable[[R], object],
              decode: Callable[[object], R], least: int = LEAST_TASKS) -> list[R]:
    """``[fn(t) for t in tasks]``, the tail of the list run in a forked child."""
    n = len(tasks)
    if n < least or not enabled():
        return [fn(t) for t in tasks]
    import mmap

    taken = mmap.mmap(-1, n)  # anonymous and shared: 1 = the parent's task, 2 = the child's
    read, write = os.pipe()
    try:
        with warnings.catch_warnings():  # the child runs only pure Python code: no lock it could need
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        taken.close()
        return [fn(t) for t in tasks]
    if pid == 0:  # the child
        code = 1
        try:
            os.close(read)
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # the parent says Interrupted, once
            done = []
            for i in range(n - 1, -1, -1):
                if taken[i]:
                    break
                taken[i] = 2
                done.append((i, encode(fn(tasks[i]))))
            payload = pickle.dumps(done, pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write, "wb") as out:
                out.write(payload)
            code = 0
        except BaseException:  # noqa: BLE001 - any failure: the parent runs these tasks itself
            pass
        finally:
            os._exit(code)
    os.close(write)
    out: list = [_MISSING] * n
    with os.fdopen(read, "rb") as pipe:
        try:
            for i in range(n):
                if taken[i]:
                    break
                taken[i] = 1
                out[i] = fn(tasks[i])
            payload = pipe.read()
        except BaseException:
            _reap(pid, kill=True)
            raise
        finally:
            taken.close()
    if _reap(pid) == 0:
        try:
            for i, encoded in pickle.loads(payload):
                if out[i] is _MISSING:
                    out[i] = decode(encoded)
        except Exception:  # noqa: BLE001 - not decodable here: the parent runs what is missing
            pass
    return [fn(tasks[i]) if r is _MISSING else r for i, r in enumerate(out)]


_MISSING = object()


def _reap(pid: int, kill: bool = False) -> int:
    """Wait for the child; its exit code (-1 when killed or lost)."""
    if kill:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return -1
    return os.waitstatus_to_exitcode(status)


__all__ = ["map_split", "enabled", "cores", "LEAST_TASKS"]
