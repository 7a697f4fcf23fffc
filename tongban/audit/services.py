"""Write, verify and purge the audit trail.

`record(action, actor=…, target=…, detail=…, request=…)` is the one way in. It runs inside the caller's
transaction (an operation and its audit entry commit together), locking the chain head so that concurrent
writers append one after another and never fork the chain.
"""
from __future__ import annotations

import contextvars
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone as dt_timezone

from cryptography.hazmat.primitives import hashes
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Min
from django.utils import timezone

from tongban.core import clock

from .models import GENESIS, AuditAnchor, AuditChain, AuditEntry, PurgePermit

# The request being served (set by middleware), so that model signals know who acted and from where.
current_request: contextvars.ContextVar = contextvars.ContextVar("tongban_audit_request", default=None)


def retention_days() -> int:
    return max(180, int(getattr(settings, "TONGBAN_AUDIT_RETENTION_DAYS", 180)))


def client_ip(request) -> str:
    if request is None:
        return ""
    if getattr(settings, "TONGBAN_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()[:45]  # the address our own proxy saw
    return (request.META.get("REMOTE_ADDR") or "")[:45]


def sm3(data: bytes) -> str:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize().hex()


def canonical(seq: int, at: datetime, actor_id, actor: str, ip: str, action: str, target: str, detail: str, prev_hash: str) -> bytes:
    """The bytes an entry's hash covers: fixed key order, UTC time with microseconds, no whitespace."""
    fields = [seq, at.astimezone(dt_timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), actor_id, actor, ip, action, target,
              detail, prev_hash]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()


def entry_hash(e: AuditEntry) -> str:
    return sm3(canonical(e.seq, e.at, e.actor_id, e.actor, e.ip, e.action, e.target, e.detail, e.prev_hash))


def _lock_head() -> tuple[int, str]:
    """Lock the chain head and return (last seq, last hash). Raw SQL: this runs on every audited action."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cur:
        cur.execute(f"SELECT seq, hash FROM audit_auditchain WHERE id = 1{lock}")
        row = cur.fetchone()
    if row is not None:
        return row
    # first entry ever (or after a test flush): start from the last entry present, else the anchor, else genesis
    last = AuditEntry.objects.order_by("-seq").first()
    anchor = AuditAnchor.objects.order_by("-last_seq").first()
    seq, digest = (last.seq, last.hash) if last else ((anchor.last_seq, anchor.last_hash) if anchor else (0, GENESIS))
    try:
        with transaction.atomic():
            AuditChain.objects.create(pk=1, seq=seq, hash=digest)
    except IntegrityError:  # another writer created it first
        pass
    return _lock_head()


def record(action: str, *, actor=None, target: str = "", detail: dict | None = None, request=None) -> AuditEntry:
    """Append an entry. `actor` defaults to the request's user; `request` defaults to the current request."""
    request = request if request is not None else current_request.get()
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str) if detail else ""
    with transaction.atomic(savepoint=False):  # inside the audited action's transaction: no extra savepoint round trips
        last_seq, last_hash = _lock_head()
        entry = AuditEntry(seq=last_seq + 1, at=clock.now(), actor_id=getattr(actor, "pk", None),
                           actor=(getattr(actor, "username", "") or "")[:150], ip=client_ip(request), action=action[:48],
                           target=str(target)[:200], detail=text, prev_hash=last_hash)
        entry.hash = entry_hash(entry)
        entry.save()
        with connection.cursor() as cur:
            cur.execute("UPDATE audit_auditchain SET seq = %s, hash = %s WHERE id = 1", [entry.seq, entry.hash])
    return entry


# ---------------------------------------------------------------- verification

@dataclass
class Verdict:
    ok: bool
    checked: int
    problem: str = ""
    seq: int | None = None  # the first entry found wrong (or where one is missing)
    head_hash: str = ""


def verify(batch: int = 5000) -> Verdict:
    """Walk the chain from the latest purge anchor (or genesis) to the head; stop at the first problem."""
    anchor = AuditAnchor.objects.order_by("-last_seq").first()
    expected_seq, expected_prev = (anchor.last_seq + 1, anchor.last_hash) if anchor else (1, GENESIS)
    checked, last_seen = 0, expected_seq - 1
    while True:
        rows = list(AuditEntry.objects.filter(seq__gt=last_seen).order_by("seq")[:batch])
        if not rows:
            break
        for e in rows:
            if e.seq != expected_seq:
                return Verdict(False, checked, f"第 {expected_seq} 条至第 {e.seq - 1} 条记录缺失（被删除）。", expected_seq)
            if e.prev_hash != expected_prev:
                return Verdict(False, checked, f"第 {e.seq} 条记录与前一条不衔接（前一条被修改，或本条是插入的）。", e.seq)
            if entry_hash(e) != e.hash:
                return Verdict(False, checked, f"第 {e.seq} 条记录的内容被修改（摘要不符）。", e.seq)
            expected_seq, expected_prev, checked = e.seq + 1, e.hash, checked + 1
        last_seen = rows[-1].seq
    head = AuditChain.objects.filter(pk=1).first()
    if head is not None and (head.seq != expected_seq - 1 or head.hash != expected_prev):
        if head.seq > expected_seq - 1:
            return Verdict(False, checked, f"链头记录到第 {head.seq} 条，但只找到第 {expected_seq - 1} 条：末尾记录被删除。", expected_seq)
        return Verdict(False, checked, "链头与最后一条记录不符：链头或末尾记录被改动。", expected_seq - 1)
    return Verdict(True, checked, head_hash=expected_prev)


# ---------------------------------------------------------------- retention

class PurgeRefused(Exception):
    pass


def purge(before: datetime, *, actor=None) -> int:
    """Delete entries older than `before` (which must be at least the retention period ago), leaving an
    anchor so that the remaining chain still verifies. Returns the number removed."""
    limit = clock.now() - timedelta(days=retention_days())
    if before > limit:
        raise PurgeRefused(f"审计记录至少保留 {retention_days()} 天：清理截止时间不能晚于 {timezone.localtime(limit):%Y-%m-%d %H:%M}。")
    with transaction.atomic():
        _lock_head()  # no writer appends while we cut
        verdict = verify()
        if not verdict.ok:
            raise PurgeRefused(f"审计链校验未通过，不能清理：{verdict.problem}")
        # cut a prefix of the chain, by sequence, that is entirely older than `before`: never leave holes
        first_young = AuditEntry.objects.filter(at__gte=before).aggregate(m=Min("seq"))["m"]
        cut = AuditEntry.objects.filter(seq__lt=first_young) if first_young is not None else AuditEntry.objects.all()
        last = cut.order_by("-seq").first()
        if last is None:
            return 0
        permit = PurgePermit.objects.create(before=before)
        removed = cut.delete()[0]
        permit.delete()
        AuditAnchor.objects.create(created_at=clock.now(), purged_before=before, last_seq=last.seq, last_hash=last.hash, removed=removed)
        record("audit.purge", actor=actor, detail={"before": before.isoformat(), "removed": removed, "last_seq": last.seq})
    return removed
