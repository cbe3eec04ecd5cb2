"""Running a block of cloud SDK calls with its failures re-raised as skyplan's
provider errors (each provider brings its own ``translate``)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

from skyplan.errors import ProviderError


@contextmanager
def translating(translate: Callable[..., BaseException], **context: Any) -> Iterator[None]:
    """Re-raise what the block raises as ``translate(exc, **context)``; errors that are
    already skyplan's pass through, and an exception ``translate`` returns unchanged
    (one it does not know) is re-raised as it was."""
    try:
        yield
    except ProviderError:
        raise
    except Exception as exc:  # noqa: BLE001 - translated below, unknown ones re-raised as-is
        mapped = translate(exc, **context)
        if mapped is exc:
            raise
        raise mapped from exc
