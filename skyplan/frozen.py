"""Building frozen dataclasses in hot loops.

A frozen dataclass's generated ``__init__`` sets each field through
``object.__setattr__``, which is most of the cost of building the values a
large run makes by the hundred thousand (offers read from the compiled
catalog, placements and table rows of a solution)."""

from __future__ import annotations

from dataclasses import fields


def maker(cls):
    """A constructor of the frozen dataclass ``cls`` that takes every field's value,
    in order, and sets them at once: gives what ``cls(*values)`` gives."""
    names = tuple(f.name for f in fields(cls))
    new, put = object.__new__, object.__setattr__

    def make(*values):
        if len(values) != len(names):
            raise TypeError(f"{cls.__name__} takes {len(names)} values, got {len(values)}")
        obj = new(cls)
        put(obj, "__dict__", dict(zip(names, values)))
        return obj
    return make
