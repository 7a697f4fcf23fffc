"""A short per-process memory of rows that are read on every request and rarely change: API tokens,
notification templates, case types.

An entry lives for the number of seconds in its setting (0 turns the memory off). Saving or deleting
a row of a watched model clears the memory in this process at once; other processes (web workers,
the Celery worker) see the change when their entries run out, within those seconds.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save

_every: list["Recent"] = []


def monotonic() -> float:  # one name for tests to move the clock
    return time.monotonic()


class Recent:
    def __init__(self, name: str, setting: str, *, default_seconds: float = 5, size: int = 1000, watch=()) -> None:
        self.name, self.setting, self.default_seconds, self.size = name, setting, default_seconds, size
        self._entries: dict[Any, tuple[float, Any]] = {}
        _every.append(self)
        for model in watch:  # a model class or "app_label.Model"
            for signal in (post_save, post_delete):
                signal.connect(self._on_change, sender=model, weak=False, dispatch_uid=f"recent-{name}-{model}")

    @property
    def seconds(self) -> float:
        return float(getattr(settings, self.setting, self.default_seconds))

    def get(self, key, default=None):
        hit = self._entries.get(key)
        if hit is None or hit[0] <= monotonic():
            return default
        return hit[1]

    def put(self, key, value) -> None:
        seconds = self.seconds
        if seconds <= 0:
            return
        if len(self._entries) >= self.size:  # a crude bound; the rows kept here are few
            self._entries.clear()
        self._entries[key] = (monotonic() + seconds, value)

    def fetch(self, key, load: Callable[[], Any]):
        """The remembered value for `key`, else `load()` (remembered unless it is None)."""
        value = self.get(key)
        if value is None:
            value = load()
            if value is not None:
                self.put(key, value)
        return value

    def forget(self, key=None) -> None:
        """Forget `key`, or everything when no key is given."""
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)

    def _on_change(self, sender, **kwargs) -> None:
        self.forget()


def forget_all() -> None:
    """Clear every memory in this process (tests, after changing rows behind the ORM's back)."""
    for recent in _every:
        recent.forget()
