"""Corrections as training labels: every 改派, 退回 with a reason, and a dispatcher choosing a unit
other than the top suggestion becomes a DispatchLabel.

A post_save receiver on CaseEvent schedules the work for after the commit, so a label can never
slow down or break the action itself."""
from __future__ import annotations

import logging
from functools import partial

from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

from tongban.cases.models import CaseEvent
from tongban.core.models import Unit

from .directory import directory
from .models import DispatchLabel, LabelSource

log = logging.getLogger(__name__)


def on_event(sender, instance: CaseEvent, created: bool, **_) -> None:
    if not created or instance.action not in ("dispatch", "reassign", "return"):
        return
    if instance.action == "dispatch" and instance.actor_id is None:
        return  # the system's own dispatch is not a correction
    transaction.on_commit(partial(record, instance.pk, instance.action))


post_save.connect(on_event, sender=CaseEvent, dispatch_uid="dispatch-labels")


def record(event_id: int, action: str = "") -> DispatchLabel | None:
    try:
        if action == "dispatch":
            from . import routing

            if not routing.anything_to_suggest():
                return None  # nothing was suggested, so nothing was overridden
        return _record(event_id)
    except Exception:
        log.exception("智能派单：未能记录事件 %s 的纠错样本", event_id)
        return None


def _record(event_id: int) -> DispatchLabel | None:
    event = CaseEvent.objects.select_related("case", "case__category", "unit").get(pk=event_id)
    case = event.case
    text = f"{case.title}\n{case.content}"
    label = dict(case=case, text=text, category=case.category, created_at=timezone.now(), note=event.note[:300])
    if event.action == "return":
        return DispatchLabel.objects.create(source=LabelSource.RETURN, wrong_unit=event.unit,
                                            unit=directory().unit_named_in(event.note, exclude=event.unit_id), **label)
    if event.action == "reassign":
        wrong = event.payload.get("from")
        return DispatchLabel.objects.create(source=LabelSource.REASSIGN, unit=event.unit,
                                            wrong_unit=Unit.objects.filter(pk=wrong).first() if wrong else None, **label)
    from . import routing  # dispatch by a person: compare with what the system would suggest

    best = routing.suggest(case).best
    if best is None or best.unit.pk == event.unit_id:
        return None
    label["note"] = f"系统建议“{best.unit}”（{best.score:.0%}），派单员改派“{event.unit}”"
    return DispatchLabel.objects.create(source=LabelSource.OVERRIDE, unit=event.unit, wrong_unit=best.unit, **label)
