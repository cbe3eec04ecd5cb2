"""The built-in functions of the language (a subset of Terraform's, same behaviour).

Each function takes evaluated values. Unless marked ``handles_unknown``, a call
with an unknown value anywhere in its arguments is itself unknown. ``try``,
``can``, ``file`` and ``fileexists`` need the scope and live in ``LAZY``.
"""

from __future__ import annotations

from skyplan.config.functions import containers, numbers, strings  # noqa: F401  (they register themselves)
from skyplan.config.functions.lazy import LAZY
from skyplan.config.functions.numbers import _norm_json
from skyplan.config.functions.registry import FUNCTIONS

ALL_NAMES = sorted(set(FUNCTIONS) | set(LAZY))

__all__ = ["FUNCTIONS", "LAZY", "ALL_NAMES", "_norm_json"]
