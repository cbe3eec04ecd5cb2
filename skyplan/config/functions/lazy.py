"""Functions that need the scope: ``file``/``fileexists`` (relative to the module
folder) and ``try``/``can`` (which evaluate their arguments lazily)."""

from __future__ import annotations

import os
from typing import Any, Callable

from skyplan.config.evaluator import EvalError, Poisoned, evaluate
from skyplan.config.values import UNKNOWN, ConversionError, to_string


def _file_path(e, s, name):
    if len(e.args) != 1:
        raise EvalError(f"Wrong number of arguments to {name}()", e.pos, hint=f"{name}(path)")
    p = evaluate(e.args[0], s)
    if p is UNKNOWN:
        return None
    try:
        p = to_string(p)
    except ConversionError as err:
        raise EvalError(f"Invalid argument to {name}(): {err}", e.pos) from None
    return p if os.path.isabs(p) else os.path.join(s.base_dir, p)


def _file(e, s):
    path = _file_path(e, s, "file")
    if path is None:
        return UNKNOWN
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as err:
        raise EvalError(f"Cannot read file {path!r}: {getattr(err, 'strerror', None) or err}", e.pos,
                        hint="paths are relative to the configuration folder") from None


def _fileexists(e, s):
    path = _file_path(e, s, "fileexists")
    return UNKNOWN if path is None else os.path.isfile(path)


def _try(e, s):
    if not e.args:
        raise EvalError("try() needs at least one argument", e.pos)
    for a in e.args:
        try:
            return evaluate(a, s)
        except (EvalError, Poisoned):
            continue
    raise EvalError("No argument of try() could be evaluated", e.pos,
                    hint="add a last argument that always works, e.g. try(var.x.y, null)")


def _can(e, s):
    if len(e.args) != 1:
        raise EvalError("can() takes exactly one argument", e.pos)
    try:
        v = evaluate(e.args[0], s)
    except EvalError:
        return False
    return UNKNOWN if v is UNKNOWN else True


LAZY: dict[str, Callable[[Any, Any], Any]] = {
    "try": _try, "can": _can, "file": _file, "fileexists": _fileexists,
}
