"""The function table and the decorator that fills it."""

from __future__ import annotations

from typing import Callable

from skyplan.config.values import ConversionError, type_name

FUNCTIONS: dict[str, Callable] = {}


def fn(name: str | None = None, *, handles_unknown: bool = False):
    def deco(f):
        f.handles_unknown = handles_unknown
        FUNCTIONS[name or f.__name__.rstrip("_")] = f
        return f
    return deco


def need_list(v, what="argument") -> list:
    if not isinstance(v, list):
        raise ConversionError(f"{what} must be a list, got {type_name(v)}")
    return v


def need_map(v, what="argument") -> dict:
    if not isinstance(v, dict):
        raise ConversionError(f"{what} must be a map or object, got {type_name(v)}")
    return v
