"""/audit/: the audit administrator searches and exports the trail. The system administrator has no
access, whatever its other rights (三员分立); the security administrator may read it too (login failures,
lock-outs, permission changes are its daily work) but only the audit administrator exports it."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone

from tongban.core.models import Role
from tongban.web.export import xlsx_response

from .actions import ACTIONS, label
from .models import AuditEntry
from .services import record

PAGE = 50
EXPORT_LIMIT = 100_000


def _require_reader(user, *, export=False):
    allowed = (Role.AUDITOR,) if export else (Role.AUDITOR, Role.SECADMIN)
    if not user.has_role(*allowed):  # deliberately not is_superuser / sysadmin
        raise PermissionDenied("只有审计管理员可以查阅和导出审计记录。" if export else "只有审计管理员和安全管理员可以查阅审计记录。")


def _day(value: str):
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _filtered(request):
    g = request.GET
    f = {"actor": g.get("actor", "").strip(), "action": g.get("action", ""), "target": g.get("target", "").strip(),
         "from": _day(g.get("from", "")), "to": _day(g.get("to", ""))}
    qs = AuditEntry.objects.all()
    if f["actor"]:
        qs = qs.filter(actor=f["actor"])
    if f["action"]:
        qs = qs.filter(action__startswith=f["action"]) if f["action"].endswith(".") else qs.filter(action=f["action"])
    if f["target"]:
        qs = qs.filter(target__contains=f["target"])
    tz = timezone.get_current_timezone()
    if f["from"]:
        qs = qs.filter(at__gte=datetime.combine(f["from"], time.min, tzinfo=tz))
    if f["to"]:
        qs = qs.filter(at__lt=datetime.combine(f["to"] + timedelta(days=1), time.min, tzinfo=tz))
    return f, qs.order_by("-seq")


@login_required
def audit_log(request):
    _require_reader(request.user)
    f, qs = _filtered(request)
    before = request.GET.get("before", "")
    if before.isdigit():
        qs = qs.filter(seq__lt=int(before))
    rows = list(qs[: PAGE + 1])
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    query = request.GET.copy()
    query.pop("before", None)
    return render(request, "audit/log.html", {
        "rows": [(e, label(e.action)) for e in rows], "f": f, "actions": sorted(ACTIONS.items()), "query": query.urlencode(),
        "next_before": rows[-1].seq if more else None, "may_export": request.user.has_role(Role.AUDITOR),
    })


@login_required
def audit_export(request):
    _require_reader(request.user, export=True)
    f, qs = _filtered(request)
    record("audit.export", detail={"query": request.GET.urlencode()})
    rows = ([e.seq, timezone.localtime(e.at), e.actor, e.ip, label(e.action), e.action, e.target, e.detail, e.prev_hash, e.hash]
            for e in qs[:EXPORT_LIMIT].iterator(chunk_size=2000))
    headers = ["序号", "时间", "操作人", "来源地址", "事件", "事件代码", "对象", "详情", "前一条摘要（SM3）", "本条摘要（SM3）"]
    return xlsx_response(f"审计记录-{timezone.localdate():%Y%m%d}.xlsx", "审计记录", headers, rows)
