"""The hotline's events that the requester (and staff) hear about. Reads the append-only event log,
so the hotline services stay unaware of notifications.

Only events recorded in real time notify: a replay with a backdated clock (the demo, an import)
is history, not news.
"""
from __future__ import annotations

from datetime import timedelta

import logging

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from tongban.cases.models import CaseEvent

from . import services

log = logging.getLogger(__name__)
FINISHING = ("finish", "close_duplicate")


def _live(event: CaseEvent) -> bool:
    grace = timedelta(seconds=getattr(settings, "NOTIFY_LIVE_EVENT_SECONDS", 600))
    return abs(timezone.now() - event.created_at) <= grace


@receiver(post_save, sender=CaseEvent, dispatch_uid="notify-case-events")
def on_case_event(sender, instance: CaseEvent, created: bool, raw: bool = False, **kwargs):
    if not created or raw or not getattr(settings, "NOTIFY_CASE_EVENTS", True):
        return
    event = instance
    wanted = (event.action in ("create", *FINISHING) or event.to_state == "pending_callback"
              or (event.action == "decide_extension" and event.outcome == "approved"))
    if not wanted or not _live(event):
        return
    case = event.case  # the projection as it is being saved in this very transaction
    if case.case_type.workflow != "hotline":
        return
    try:
        with transaction.atomic():  # a savepoint: a notification problem never blocks the case action
            _notify(event, case)
    except Exception:  # noqa: BLE001
        log.exception("notify: case %s event %s: notification not queued", case.pk, event.seq)


def _notify(event: CaseEvent, case) -> None:
    # no dedupe keys: each event row is written once, so it queues its messages once
    phone = case.requester_phone
    if event.action == "create":
        services.notify("received", phone=phone, case=case)
    if event.action in FINISHING:
        services.notify("finished", phone=phone, case=case)
    if event.to_state == "pending_callback" and event.from_state != "pending_callback":
        delay = timedelta(seconds=getattr(settings, "NOTIFY_CALLBACK_INVITE_DELAY", 0))
        services._queue("callback_invite", phone=phone, case=case, not_before=event.created_at + delay)
    if event.action == "decide_extension" and event.outcome == "approved":
        asked = case.events.filter(action="request_extension").exclude(actor=None).order_by("-seq").first()
        services.notify("extended", phone=phone, user=asked.actor if asked else None, case=case)
