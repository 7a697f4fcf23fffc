"""The one place the product asks for the current time.

Demo generation and tests replay the past by setting the clock; everything else just calls now().
"""
from __future__ import annotations

import contextlib
import contextvars
from datetime import datetime

from django.utils import timezone

_frozen: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("tongban_clock", default=None)


def now() -> datetime:
    return _frozen.get() or timezone.now()


@contextlib.contextmanager
def at(moment: datetime):
    """Run the block as if it were `moment` (aware datetime)."""
    token = _frozen.set(moment)
    try:
        yield moment
    finally:
        _frozen.reset(token)
