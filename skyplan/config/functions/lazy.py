"""Functions that need the scope: ``file``/``fileexists``/``templatefile``
(relative to the module folder) and ``try``/``can`` (which evaluate their
arguments lazily)."""

from __future__ import annotations

import os
from typing import Any, Callable

from skyplan.config.evaluator import EvalError, Poisoned, evaluate
from skyplan.config.values import UNKNOWN, ConversionError, to_string


def _file_path(e, s, name, nargs: int = 1):
    if len(e.args) != nargs:
        usage = f"{name}(path)" if nargs == 1 else f"{name}(path, {{ name = value, ... }})"
        raise EvalError(f"Wrong number of arguments to {name}()", e.pos, hint=usage)
    p = evaluate(e.args[0], s)
    if p is UNKNOWN:
        return None
    try:
        p = to_string(p)
    except ConversionError as err:
        raise EvalError(f"Invalid argument to {name}(): {err}", e.pos) from None
    return p if os.path.isabs(p) else os.path.join(s.base_dir, p)


def _file(e, s, path=None):
    path = path or _file_path(e, s, "file")
    if path is None:
        return UNKNOWN
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as err:
        raise EvalError(f"Cannot read file {path!r}: {getattr(err, 'strerror', None) or err}", e.pos,
                        hint="paths are relative to the configuration folder") from None


def _templatefile(e, s):
    """templatefile(path, vars): the file rendered as a template that sees only ``vars``."""
    from skyplan.config.evaluator import Scope
    from skyplan.config.templates import TemplateProblem, assemble, scan
    from skyplan.config.syntax import SyntaxProblem

    path = _file_path(e, s, "templatefile", nargs=2)
    names = evaluate(e.args[1], s)
    if path is None or names is UNKNOWN:
        return UNKNOWN
    if not isinstance(names, dict):
        raise EvalError("The second argument of templatefile() must be an object of variables", e.args[1].pos)
    text = _file(e, s, path)
    try:
        tree = assemble(scan(text, (1, 1)), (1, 1))
    except (SyntaxProblem, TemplateProblem) as err:
        where = getattr(err, "pos", None) or (getattr(err, "line", 1), getattr(err, "col", 1))
        raise EvalError(f"In template {os.path.basename(path)} at {where[0]}:{where[1]}: {err.summary}", e.pos) from None
    try:
        return evaluate(tree, Scope(names=dict(names), base_dir=os.path.dirname(path)))
    except EvalError as err:
        raise EvalError(f"In template {os.path.basename(path)} at {err.pos[0]}:{err.pos[1]}: {err.summary}", e.pos,
                        hint=err.hint or "a template sees only the variables passed to templatefile()") from None


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
    "try": _try, "can": _can, "file": _file, "fileexists": _fileexists, "templatefile": _templatefile,
}
