"""The notify app has no demo data of its own; on a demo reset its outbox and messages go with the cases."""
from __future__ import annotations

from datetime import datetime

from .models import Message, Outbox


def build(org, *, seed: int, end: datetime) -> list[str]:
    return []


def wipe() -> None:
    Message.objects.all().delete()
    Outbox.objects.all().delete()
