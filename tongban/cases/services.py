"""Kernel service functions. Every change to a case goes through `perform`:
one transaction that locks the case row, checks the state machine and the actor,
applies the change, appends the event and saves the projection.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tongban.core import clock
from tongban.core.models import Sequence, Unit
from tongban.workdays import services as workdays

from . import access
from .models import Assignment, AssignmentRole, AssignmentStatus, Case, CaseEvent, CaseType, LimitUnit
from .workflow import TransitionError

__all__ = ["TransitionError", "open_case", "perform", "assign", "end_assignments", "deadline", "set_due", "next_number"]


def next_number(at: datetime) -> str:
    """Readable case number: date + 5-digit daily sequence, e.g. 2026112300123."""
    day = timezone.localtime(at).strftime("%Y%m%d")
    return f"{day}{Sequence.next('case:' + day):05d}"


def deadline(start: datetime, amount: int, unit: str) -> datetime:
    if unit == LimitUnit.WORKING_HOURS:
        return workdays.add_working_hours(start, amount)
    return workdays.add_working_days(start, amount)


def set_due(case: Case, due: datetime | None) -> None:
    case.due_at = due
    case.warn_at = workdays.warning_start(due) if due else None


def _append(case: Case, action: str, from_state: str, *, by, at: datetime, **fields) -> CaseEvent:
    case.last_event_seq += 1
    return _event(case, action, from_state, by=by, at=at, **fields)


def _event(case: Case, action: str, from_state: str, *, by, at: datetime, **fields) -> CaseEvent:
    """The event numbered case.last_event_seq (already counted on the projection)."""
    return CaseEvent.objects.create(
        case=case, seq=case.last_event_seq, action=action, from_state=from_state, to_state=case.state,
        actor=by, actor_unit_id=getattr(by, "unit_id", None), created_at=at, **fields,
    )


@transaction.atomic
def open_case(case_type: CaseType, *, by=None, **fields) -> Case:
    """Create a case in its workflow's initial state, numbered and logged (受理)."""
    at = clock.now()
    case = Case(case_type=case_type, created_by=by, created_at=at, updated_at=at, state=case_type.machine.initial, **fields)
    # the database enforces the keys (intake_key: the caller handles the conflict); no SELECT per key here
    case.full_clean(exclude=["number", "created_by", "unit", "region", "category", "duplicate_of", "case_type", "intake_key"])
    case.number = next_number(at)  # last before the INSERT: the day's counter row stays locked for less time
    case.last_event_seq = 1  # counts the 受理 event below, so the row is written once
    case.save()
    case.opening_event = _event(case, "create", "", by=by, at=at, payload={"channel": case.channel})
    return case


def _snapshot(case: Case) -> dict:
    return {f.attname: getattr(case, f.attname) for f in Case._meta.concrete_fields if not f.primary_key}


def perform(
    case: Case | int,
    action: str,
    *,
    by,
    to: str | None = None,
    note: str = "",
    unit: Unit | None = None,
    outcome: str = "",
    on_time: bool | None = None,
    solved: bool | None = None,
    payload: dict | None = None,
    change: Callable[[Case, datetime], dict | None] | None = None,
) -> Case:
    """Take `action` on the case as `by` (a User, or None for the system).

    `change(case, now)` applies the action's effects to the projection (assignee, deadlines…)
    inside the same transaction, on the locked row; it may return event fields it decides
    (e.g. {"on_time": …}). `to` picks the target state when a transition has several.
    """
    case_id = case.pk if isinstance(case, Case) else case
    with transaction.atomic():
        locked = Case.objects.select_for_update(of=("self",)).select_related("case_type").get(pk=case_id)
        if isinstance(case, Case):
            _lend_loaded(case, locked)
        t = locked.machine.transition(action, locked.state, to)
        access.check_action(by, locked, t)
        if to is None:
            if len(t.targets) > 1:
                raise ValueError(f"transition {action} needs an explicit target state")
            to = t.targets[0] if t.targets else locked.state
        at = clock.now()
        from_state = locked.state
        before = _snapshot(locked)
        fields = dict(note=note, unit=unit, outcome=outcome, on_time=on_time, solved=solved, payload=payload or {})
        if change:
            fields.update(change(locked, at) or {})
        locked.state = to
        locked.updated_at = at
        _append(locked, action, from_state, by=by, at=at, **fields)
        locked.save(update_fields=[name for name, value in _snapshot(locked).items() if before[name] != value])
    if isinstance(case, Case):  # keep the caller's object in step
        case.__dict__.update({k: v for k, v in locked.__dict__.items() if not k.startswith("_")})
        case._state = locked._state
    return locked


_RELATIONS = [f for f in Case._meta.concrete_fields if f.many_to_one]


def _lend_loaded(case: Case, locked: Case) -> None:
    """Give the freshly locked row the related rows (unit, category…) the caller already loaded,
    where the keys still agree: the change and the hooks then need no query to read them."""
    loaded, cache = case._state.fields_cache, locked._state.fields_cache
    for f in _RELATIONS:
        if f.name in loaded and f.name not in cache and getattr(loaded[f.name], "pk", None) == getattr(locked, f.attname):
            cache[f.name] = loaded[f.name]


def assign(case: Case, unit: Unit, role: str, *, at: datetime, sent_by: Unit | None, note: str = "") -> Assignment:
    return Assignment.objects.create(case=case, unit=unit, role=role, sent_by_unit=sent_by, assigned_at=at, note=note)


def end_assignments(case: Case, *, at: datetime, status: str, role: str | None = AssignmentRole.LEAD, unit: Unit | None = None) -> int:
    qs = case.assignments.filter(ended_at__isnull=True)
    if role:
        qs = qs.filter(role=role)
    if unit:
        qs = qs.filter(unit=unit)
    return qs.update(ended_at=at, status=status)


def sign_assignment(case: Case, *, at: datetime) -> None:
    case.assignments.filter(unit=case.unit, ended_at__isnull=True, status=AssignmentStatus.PENDING).update(
        status=AssignmentStatus.ACCEPTED, signed_at=at
    )
