"""Notifications: render the administrator's template for each channel, write Outbox rows in the
caller's transaction, deliver after commit (in-process when embedded, a Celery task in production),
retry with backoff until it goes out. A dedupe key makes a second call a no-op."""
from __future__ import annotations

import logging
import re
import time
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.timezone import localtime

from tongban.core import clock
from tongban.core.links import public_url
from tongban.core.pii import MOBILE_RE, normalize_phone
from tongban.core.recent import Recent

from .backends import SENDERS, DeliveryError
from .defaults import DEFAULTS
from .models import Channel, Message, Outbox, Status, Template

log = logging.getLogger(__name__)
PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")


def setting(name: str, default):
    return getattr(settings, name, default)


def render(text: str, context: dict) -> str:
    """Fill `{name}` from context; unknown names become empty (no attribute access, no format specs)."""
    return PLACEHOLDER_RE.sub(lambda m: str(context.get(m.group(1), "")), text or "")


def base_context() -> dict:
    return {"site": setting("NOTIFY_SITE_NAME", "12345政务服务便民热线")}


TRACK_PATH = "/p/track/"  # a public contract: printed in SMS and linked by other pages


def track_url(number: str) -> str:
    return public_url(f"{TRACK_PATH}?number={number}")


def case_context(case) -> dict:
    """Placeholders describing a case, in public wording."""
    reply = (case.reply or "").strip()
    return {
        "number": case.number,
        "title": case.title,
        "name": f"{case.requester_name}" if case.requester_name else "您好",
        "unit": case.unit.name if case.unit_id else "热线中心",
        "reply": reply,
        "reply_short": reply if len(reply) <= 60 else reply[:60] + "…",
        "due": f"{localtime(case.due_at):%Y年%m月%d日}" if case.due_at else "",
        "track_url": track_url(case.number),
        "rate_url": track_url(case.number) + "#rate",
    }


def _recipients(phone: str, email: str, user) -> list[tuple[str, str, object]]:
    out = []
    phone = normalize_phone(phone)
    if phone:
        if not MOBILE_RE.match(phone):  # landlines cannot receive SMS
            log.info("notify: %s is not a mobile number, no SMS", phone)
        else:
            out.append((Channel.SMS, phone, None))
    if email.strip():
        out.append((Channel.EMAIL, email.strip(), None))
    if user is not None and getattr(user, "pk", None):
        out.append((Channel.SITE, user.username, user))
    return out


# code → templates by channel; an edit clears it here at once and in other processes within seconds
_templates = Recent("notify-templates", "TONGBAN_REFERENCE_CACHE_SECONDS", watch=(Template,))


def templates_for(code: str) -> dict[str, Template]:
    """The administrator's templates for `code` by channel (read-only: shared within the process);
    a known code whose rows are missing (deleted, or a freshly flushed database) falls back to the
    wording in `defaults.py`."""
    return _templates.fetch(code, lambda: _load_templates(code))


def _load_templates(code: str) -> dict[str, Template]:
    templates = {t.channel: t for t in Template.objects.filter(code=code)}
    name, channels = DEFAULTS.get(code, ("", {}))
    for channel, (subject, body) in channels.items():
        templates.setdefault(channel, Template(code=code, name=name, channel=channel, subject=subject, body=body))
    if not templates:
        raise ValueError(f"未知的通知模板代码“{code}”。")
    return templates


def notify(template_code: str, *, phone: str = "", email: str = "", user=None, context: dict | None = None, case=None,
           dedupe_key: str = "") -> list[Outbox]:
    """Queue the `template_code` message to every recipient given, one Outbox row per channel.

    Runs in the caller's transaction: if it rolls back, nothing is sent. Delivery starts after
    commit. With a `dedupe_key`, a second call for the same channel and recipient returns the
    existing row and sends nothing. A channel whose template is disabled is skipped.
    """
    return _queue(template_code, phone=phone, email=email, user=user, context=context, case=case, dedupe_key=dedupe_key)


def _queue(template_code: str, *, phone="", email="", user=None, context=None, case=None, dedupe_key="",
           not_before=None) -> list[Outbox]:
    templates = templates_for(template_code)
    values = base_context() | (case_context(case) if case is not None else {}) | (context or {})
    now = clock.now()
    rows, fresh = [], []
    for channel, recipient, person in _recipients(phone, email, user):
        template = templates.get(channel)
        if template is None or not template.active:
            continue
        row = Outbox(channel=channel, recipient=recipient[:254], user=person, template_code=template_code,
                     subject=render(template.subject, values)[:200], body=render(template.body, values), case=case,
                     dedupe_key=dedupe_key[:120], next_attempt_at=not_before or now, created_at=now)
        if dedupe_key:
            try:  # insert first, look up only on a conflict (a repeat is the rare case)
                with transaction.atomic():
                    row.save()
            except IntegrityError:  # queued before, by this caller or concurrently by someone else
                rows.append(Outbox.objects.get(dedupe_key=row.dedupe_key, channel=channel, recipient=row.recipient))
                continue
        else:
            row.save()
        rows.append(row)
        fresh.append(row.pk)
    if fresh:
        transaction.on_commit(lambda: schedule(fresh), robust=True)
    return rows


_flush_due = 0.0  # production: when this process's pending flush task runs (monotonic clock)


def schedule(ids: list[int]) -> None:
    """Hand freshly committed rows to the sender. Embedded: this process sends them now. Production:
    one Celery flush per NOTIFY_BATCH_SECONDS and process collects every row committed meanwhile,
    so a busy hotline costs the workers a batch, not a task per message."""
    global _flush_due
    from . import tasks

    if setting("CELERY_TASK_ALWAYS_EAGER", True):
        counts = deliver_many(ids)
        # embedded mode has no beat: while the backends work, also retry a few rows that are due
        if set(counts) <= {Status.SENT, Status.CANCELLED}:
            flush(limit=setting("NOTIFY_EMBEDDED_FLUSH_LIMIT", 10))
        return
    now = time.monotonic()
    if now >= _flush_due:  # rows committed before _flush_due are due when that flush runs
        window = float(setting("NOTIFY_BATCH_SECONDS", 0.5))
        _flush_due = now + window
        tasks.flush.apply_async(countdown=window)


def backoff(attempts: int) -> timedelta:
    base = setting("NOTIFY_RETRY_BASE_SECONDS", 60)
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), setting("NOTIFY_RETRY_MAX_SECONDS", 3600)))


def _still_wanted(row: Outbox) -> bool:
    """A 回访邀请 for a case no longer awaiting 回访 (rated by phone meanwhile) is not sent."""
    if row.template_code == "callback_invite" and row.case_id:
        return row.case.state == "pending_callback"
    return True


def _claim(ids=None, limit: int = 500) -> list[Outbox]:
    """Take the due rows (of `ids`, or any) for sending: only one worker wins each row; a worker that
    died mid-send loses its claim when the lease ends. Two statements for the whole batch."""
    now = clock.now()
    lease = timedelta(seconds=setting("NOTIFY_SEND_LEASE_SECONDS", 120))
    with transaction.atomic():
        due = Outbox.objects.filter(status__in=[Status.PENDING, Status.SENDING], next_attempt_at__lte=now)
        if ids is not None:
            due = due.filter(pk__in=list(ids))
        rows = list(due.select_for_update(skip_locked=True).order_by("next_attempt_at", "id")[:limit])
        if rows:
            Outbox.objects.filter(pk__in=[r.pk for r in rows]).update(
                status=Status.SENDING, next_attempt_at=now + lease, attempts=F("attempts") + 1)
    for row in rows:
        row.status, row.attempts = Status.SENDING, row.attempts + 1
    return rows


def _send(row: Outbox) -> str:
    """Send one claimed row and record the outcome on it at once (a crash never re-sends a sent row)."""
    pk = row.pk
    if not _still_wanted(row):
        Outbox.objects.filter(pk=pk).update(status=Status.CANCELLED, last_error="工单已不在待回访状态，无需发送。")
        return Status.CANCELLED
    try:
        receipt = SENDERS[row.channel](row)
    except Exception as exc:  # noqa: BLE001  every failure is recorded and retried; nothing is lost
        error = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
        give_up = row.attempts >= setting("NOTIFY_MAX_ATTEMPTS", 10)
        Outbox.objects.filter(pk=pk).update(status=Status.FAILED if give_up else Status.PENDING, last_error=error[:500],
                                            next_attempt_at=clock.now() + backoff(row.attempts))
        log.warning("notify: outbox %s attempt %s failed: %s", pk, row.attempts, error)
        return Status.FAILED if give_up else Status.PENDING
    Outbox.objects.filter(pk=pk).update(status=Status.SENT, sent_at=clock.now(), provider_id=receipt[:100], last_error="")
    return Status.SENT


def deliver(pk: int) -> str:
    """Send one row if it is due and nobody else is sending it. Returns its status afterwards."""
    rows = _claim([pk])
    if rows:
        return _send(rows[0])
    return Outbox.objects.filter(pk=pk).values_list("status", flat=True).first() or ""


def deliver_many(ids) -> dict[str, int]:
    """Send those of `ids` that are due; counts by status afterwards (rows not taken count as they stand)."""
    ids = list(ids)
    counts: dict[str, int] = {}
    rows = _claim(ids, limit=len(ids)) if ids else []
    for row in rows:
        status = _send(row)
        counts[status] = counts.get(status, 0) + 1
    taken = {r.pk for r in rows}
    if len(taken) < len(ids):
        for status in Outbox.objects.filter(pk__in=[i for i in ids if i not in taken]).values_list("status", flat=True):
            counts[status] = counts.get(status, 0) + 1
    return counts


def due_ids(limit: int = 500) -> list[int]:
    return list(Outbox.objects.filter(status__in=[Status.PENDING, Status.SENDING], next_attempt_at__lte=clock.now())
                .order_by("next_attempt_at", "id").values_list("pk", flat=True)[:limit])


def flush(limit: int = 500) -> dict[str, int]:
    """Deliver everything that is due (the periodic job and `tongban notify flush`)."""
    ids = due_ids(limit)
    return deliver_many(ids) if ids else {}


def retry(row: Outbox) -> None:
    """An administrator sends a failed (or waiting) message again now, with a fresh retry budget."""
    if row.status not in (Status.FAILED, Status.PENDING, Status.CANCELLED):
        raise ValueError("只有待发送、发送失败或已取消的消息可以重发。")
    Outbox.objects.filter(pk=row.pk).update(status=Status.PENDING, attempts=0, next_attempt_at=clock.now())
    transaction.on_commit(lambda: schedule([row.pk]), robust=True)


def unread_count(user) -> int:
    if not (user and user.is_authenticated):
        return 0
    return Message.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(user, ids=None) -> int:
    qs = Message.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=clock.now())


SAMPLE = {
    "number": "2026112300123", "title": "桃园村三组路灯不亮", "name": "张三", "unit": "桃园村村民委员会",
    "reply": "经现场核实，路灯线路老化，已于当日更换线路并恢复照明。", "reply_short": "经现场核实，路灯线路老化，已于当日更换线路并恢复照明。",
    "due": "2026年12月01日", "code": "386512", "minutes": "10", "matter": "个体工商户设立登记",
    "materials": "经营场所使用证明（原件）", "deadline": "2026年12月05日",
    "when": "11月25日 09:30–10:00", "hall": "县政务服务中心", "group": "综合窗口", "cancel_url": "http://127.0.0.1:8000/p/book/cancel/",
}


def preview(template: Template, subject: str, body: str) -> dict[str, str]:
    """What the template looks like with sample data (the admin page shows it while editing)."""
    values = base_context() | SAMPLE | {"track_url": track_url(SAMPLE["number"]), "rate_url": track_url(SAMPLE["number"]) + "#rate"}
    return {"subject": render(subject, values), "body": render(body, values),
            "unknown": sorted(set(PLACEHOLDER_RE.findall(subject + body)) - set(values))}
