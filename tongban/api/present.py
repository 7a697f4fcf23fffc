"""Cases as the API shows them: personal data masked, times local, labels beside codes."""
from __future__ import annotations

import base64
import binascii
from datetime import datetime

from django.utils import timezone

from tongban.cases import access
from tongban.cases.models import AssignmentRole, AssignmentStatus, Case, Channel
from tongban.cases.workflow import Transition
from tongban.core import clock
from tongban.hotline.choices import CallbackOutcome, RefusalReason, Result, Satisfaction
from tongban.hotline.queries import Page

from .errors import FieldErrors

# Workflow action -> the last path segment of its endpoint.
ENDPOINTS = {
    "answer": "answer", "refuse": "refuse", "merge": "merge", "dispatch": "dispatch", "relay": "relay",
    "sign": "sign", "return": "return", "reassign": "reassign", "keep": "keep",
    "request_extension": "extension", "decide_extension": "extension-decision", "progress": "progress",
    "suspend": "suspend", "resume": "resume", "finish": "finish", "callback": "callback", "supervise": "supervise",
}
OUTCOME_LABELS = {
    **dict(Result.choices), **dict(Satisfaction.choices), **dict(RefusalReason.choices),
    **dict(CallbackOutcome.choices), "approved": "批准", "denied": "不批准", "refused": "不予受理",
}
ROLE_LABELS = dict(AssignmentRole.choices)
STATUS_LABELS = dict(AssignmentStatus.choices)
CHANNEL_LABELS = dict(Channel.choices)


def local(dt: datetime | None) -> datetime | None:
    return timezone.localtime(dt) if dt else None


def unit_ref(unit) -> dict | None:
    return {"id": unit.pk, "name": unit.name} if unit is not None else None


def case_summary(case: Case, now: datetime | None = None) -> dict:
    now = now or clock.now()
    return {
        "number": case.number,
        "case_type": case.case_type.code,
        "case_type_name": case.case_type.name,
        "channel": case.channel,
        "channel_label": CHANNEL_LABELS.get(case.channel, case.channel),
        "title": case.title,
        "requester_name": case.masked_name,
        "requester_phone": case.masked_phone,
        "address": case.address,
        "state": case.state,
        "state_label": case.state_label,
        "is_open": case.is_open,
        "unit": unit_ref(case.unit),
        "category": {"id": case.category.pk, "full_name": case.category.full_name} if case.category_id else None,
        "created_at": local(case.created_at),
        "dispatched_at": local(case.dispatched_at),
        "sign_due_at": local(case.sign_due_at),
        "due_at": local(case.due_at),
        "finished_at": local(case.finished_at),
        "closed_at": local(case.closed_at),
        "light": case.light(now),
        "supervised": case.supervised,
        "result": case.result,
        "satisfaction": case.satisfaction,
    }


def page(p: Page) -> dict:
    now = clock.now()
    return {"items": [case_summary(c, now) for c in p.items], "next_cursor": encode_cursor(p.next_cursor)}


def allowed_actions(user, case: Case) -> list[dict]:
    out = []
    for t in case.machine.allowed(case.state):
        if t.action not in ENDPOINTS or not _may(user, case, t):
            continue
        if t.action == "decide_extension" and not case.extension_request:
            continue
        if t.action == "request_extension" and (case.extension_request or case.extensions_used >= case.case_type.max_extensions):
            continue
        out.append({"action": t.action, "label": t.label, "method": "POST",
                    "path": f"/api/v1/cases/{case.number}/{ENDPOINTS[t.action]}"})
    return out


def _may(user, case: Case, t: Transition) -> bool:
    try:
        access.check_action(user, case, t)
    except access.AccessDenied:
        return False
    return True


def case_detail(case: Case, user, *, events=None, assignments=None) -> dict:
    """`events`/`assignments`: the rows when the caller already holds them (a case it just opened)."""
    machine = case.machine
    label = machine.state_label
    if events is None:
        events = case.events.select_related("actor", "actor_unit", "unit").order_by("seq")
    if assignments is None:
        assignments = case.assignments.select_related("unit", "sent_by_unit").order_by("assigned_at", "id")
    timeline = []
    for e in events:
        t = machine.transitions.get(e.action)
        timeline.append({
            "seq": e.seq,
            "action": e.action,
            "action_label": t.label if t else {"create": "受理"}.get(e.action, e.action),
            "from_state": e.from_state,
            "from_state_label": label(e.from_state) if e.from_state else "",
            "to_state": e.to_state,
            "to_state_label": label(e.to_state),
            "actor": str(e.actor) if e.actor_id else None,
            "actor_unit": unit_ref(e.actor_unit),
            "unit": unit_ref(e.unit),
            "created_at": local(e.created_at),
            "note": e.note,
            "outcome": e.outcome,
            "outcome_label": OUTCOME_LABELS.get(e.outcome, e.outcome),
            "on_time": e.on_time,
            "solved": e.solved,
        })
    handovers = [{
        "unit": unit_ref(a.unit),
        "role": a.role,
        "role_label": ROLE_LABELS.get(a.role, a.role),
        "status": a.status,
        "status_label": STATUS_LABELS.get(a.status, a.status),
        "sent_by_unit": unit_ref(a.sent_by_unit),
        "assigned_at": local(a.assigned_at),
        "signed_at": local(a.signed_at),
        "ended_at": local(a.ended_at),
        "note": a.note,
    } for a in assignments]
    ext = case.extension_request or None
    region = case.region
    return {
        **case_summary(case),
        "content": case.content,
        "region": {"id": region.pk, "name": region.name, "full_name": region.full_name()} if region else None,
        "latitude": float(case.latitude) if case.latitude is not None else None,
        "longitude": float(case.longitude) if case.longitude is not None else None,
        "reply": case.reply,
        "result_label": OUTCOME_LABELS.get(case.result, case.result),
        "satisfaction_label": dict(Satisfaction.choices).get(case.satisfaction, case.satisfaction),
        "paused_at": local(case.paused_at),
        "pause_reason": case.pause_reason,
        "extensions_used": case.extensions_used,
        "extension_request": {"days": ext.get("days", 0), "reason": ext.get("reason", "")} if ext else None,
        "reopen_count": case.reopen_count,
        "duplicate_of": case.duplicate_of.number if case.duplicate_of_id else None,
        "events": timeline,
        "assignments": handovers,
        "allowed_actions": allowed_actions(user, case),
    }


# ---- cursors: opaque to clients (URL-safe), "value|id" inside ------------------------------------

def encode_cursor(raw: str | None) -> str | None:
    if raw is None:
        return None
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str | None) -> str | None:
    """The queries-level cursor inside `token`; FieldErrors(400) when it was not made by us."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        value, sep, pk = raw.rpartition("|")
        if not sep or not (pk.isascii() and pk.isdigit() and len(pk) <= 18):
            raise ValueError(raw)
        if value not in ("", "None") and datetime.fromisoformat(value).tzinfo is None:
            raise ValueError(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise FieldErrors({"cursor": "分页游标无效：请使用上一页返回的 next_cursor。"}) from None
    return raw
