"""热点 pages (supervisors, dispatchers) and the 重复件 panel of the operator console."""
from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tongban.cases import access
from tongban.cases.models import Category
from tongban.core.models import Level, Region, Role
from tongban.hotline import services as hotline
from tongban.web.export import xlsx_response

from . import clusters, duplicates
from .models import Hotspot, HotspotCase, Run

VIEW_ROLES = (Role.SUPERVISOR, Role.DISPATCHER, Role.SYSADMIN)
SORTS = {"count": ("-count", "-growth", "id"), "growth": ("-growth", "-count", "id"), "recent": ("-last_seen", "id")}


def _require(user, *roles):
    if not user.has_role(*roles):
        raise PermissionDenied("您没有访问热点分析的权限。")


def _int(value) -> int | None:
    return int(value) if value and str(value).isdigit() else None


# ---------------------------------------------------------------- 重复件 panel (operator console)

@login_required
def duplicate_panel(request):
    """htmx: open cases probably about the same issue as the request being typed."""
    if not hotline.may_take_requests(request.user, "grid"):
        raise PermissionDenied("受理人员才能查看疑似重复件。")
    g = request.GET
    title, content, address = g.get("title", "")[:200], g.get("content", "")[:2000], g.get("address", "")[:200]
    region = Region.objects.filter(pk=_int(g.get("region"))).first() if _int(g.get("region")) else None
    category = Category.objects.filter(pk=_int(g.get("category"))).first() if _int(g.get("category")) else None
    found = duplicates.candidates(request.user, title=title, content=content, address=address, region=region, category=category)
    return render(request, "hotspots/_duplicates.html", {
        "candidates": found, "typed": len(f"{title}{content}".strip()) >= duplicates.MIN_QUERY_CHARS,
        "days": duplicates.option("days"), "now": timezone.now(), "marked": g.get("duplicate_of", ""),
    })


# ---------------------------------------------------------------- hotspot list, export, detail

def _latest_run() -> Run | None:
    return Run.objects.order_by("-as_of", "-id").first()


def _scoped(user, qs):
    """Centre staff see every hotspot; others only those with at least one case in their data scope."""
    if access.is_centre_staff(user):
        return qs
    visible = access.visible_cases(user)
    return qs.filter(Exists(HotspotCase.objects.filter(hotspot=OuterRef("pk"), case__in=visible)))


def _filtered(request, run):
    g = request.GET
    qs = _scoped(request.user, Hotspot.objects.filter(run=run)).select_related("region", "category", "top_category")
    town, category = _int(g.get("town")), _int(g.get("category"))
    if town:
        qs = qs.filter(town_id=town)
    if category:
        qs = qs.filter(top_category_id=category)
    if g.get("alert") == "1":
        qs = qs.filter(alert=True)
    sort = g.get("sort") if g.get("sort") in SORTS else "count"
    return qs.order_by(*SORTS[sort]), sort


@login_required
def hotspot_list(request):
    _require(request.user, *VIEW_ROLES)
    run = _latest_run()
    hotspots, sort = _filtered(request, run) if run else (Hotspot.objects.none(), "count")
    hotspots = list(hotspots[:200])
    alerts = [h for h in hotspots if h.alert]
    query = request.GET.copy()
    query.pop("sort", None)
    return render(request, "hotspots/list.html", {
        "run": run, "hotspots": hotspots, "alerts": alerts, "sort": sort, "query": query.urlencode(),
        "towns": Region.objects.filter(level=Level.TOWN).order_by("code"), "categories": Category.objects.filter(level=1),
        "town": _int(request.GET.get("town")), "category": _int(request.GET.get("category")),
        "alert_only": request.GET.get("alert") == "1", "params": run.params if run else clusters.Params.from_settings().__dict__,
        "may_run": request.user.has_role(Role.SUPERVISOR, Role.SYSADMIN),
    })


@login_required
def hotspot_export(request):
    _require(request.user, *VIEW_ROLES)
    run = _latest_run()
    hotspots = _filtered(request, run)[0] if run else Hotspot.objects.none()
    rows = ([h.label, h.place, h.category.full_name if h.category else "", h.count, h.prev_count,
             "新出现" if h.is_new else f"{h.growth_percent}%", "是" if h.alert else "", timezone.localtime(h.first_seen),
             timezone.localtime(h.last_seen)] for h in hotspots)
    headers = ["主题", "地点", "主要分类", "本期件数", "上期件数", "增长", "快速增长预警", "首次出现", "最近出现"]
    stamp = timezone.localtime(run.as_of).strftime("%Y%m%d") if run else timezone.localdate().strftime("%Y%m%d")
    return xlsx_response(f"热点清单-{stamp}.xlsx", "热点", headers, rows)


@login_required
def hotspot_detail(request, pk):
    _require(request.user, *VIEW_ROLES)
    hotspot = _scoped(request.user, Hotspot.objects.filter(pk=pk)).select_related("run", "region", "category").first()
    if hotspot is None:
        raise Http404("热点不存在，或不在您的数据权限范围内。")
    visible = access.visible_cases(request.user)
    members = (HotspotCase.objects.filter(hotspot=hotspot, case__in=visible)
               .select_related("case", "case__case_type", "case__unit", "case__region").order_by("-case__created_at", "-case_id"))
    return render(request, "hotspots/detail.html", {
        "h": hotspot, "members": members, "hidden": hotspot.members.count() - members.count(),
        "trend": _trend(hotspot),
    })


def _trend(hotspot) -> dict:
    """Daily counts for the chart; `split` = the days that belong (at least partly) to the current window."""
    start = timezone.localtime(hotspot.run.as_of - timedelta(days=hotspot.run.window_days)).date().isoformat()
    days = [d for d, _ in hotspot.daily]
    return {"days": days, "counts": [n for _, n in hotspot.daily], "split": sum(1 for d in days if d >= start)}


@login_required
@require_POST
def hotspot_run(request):
    """Run the clustering now (the daily job does it anyway); for supervisors."""
    _require(request.user, Role.SUPERVISOR, Role.SYSADMIN)
    run = clusters.detect()
    messages.success(request, f"热点分析完成：诉求 {run.case_count} 件，热点 {run.cluster_count} 个，快速增长预警 {run.alert_count} 个。")
    return redirect("hotspot_list")
