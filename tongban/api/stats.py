"""统计: unit scores (三率) over a date range, within the caller's scope."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone
from ninja import Query, Router

from tongban.analytics import metrics
from tongban.cases import access
from tongban.core import clock

from .errors import FieldErrors
from .schemas import ErrorOut, StatsOut, StatsQuery

router = Router(tags=["统计"])
MAX_DAYS = 3 * 366
FIELDS = ("unit_id", "unit_name", "received", "signed", "signed_on_time", "finished", "finished_on_time", "callbacks",
          "solved", "satisfied", "basic", "unsatisfied", "returned", "response_rate", "solve_rate", "satisfaction_rate",
          "on_time_rate", "score", "avg_hours")


def _row(s: metrics.UnitScore) -> dict:
    return {f: getattr(s, f) for f in FIELDS}


def _start_of(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@router.get(
    "/stats/units", response={200: StatsOut, 400: ErrorOut, 401: ErrorOut}, summary="单位考核（三率）",
    description=(
        "按单位统计日期范围内（含起止两天）的接收、签收、办结、回访和响应率、解决率、满意率、按时办结率、综合得分。"
        "热线中心人员看到全部单位；其他人员只看到本单位（及可见的下级单位）。不传日期时统计最近 30 天。"
    ),
)
def unit_stats(request, p: Query[StatsQuery]):
    user = request.auth
    end = p.end or timezone.localdate(clock.now())
    start = p.start or end - timedelta(days=29)
    if start > end:
        raise FieldErrors({"start": "起始日期不能晚于截止日期。"})
    if (end - start).days >= MAX_DAYS:
        raise FieldErrors({"start": f"统计范围不能超过 {MAX_DAYS} 天。"})
    unit_ids = None if access.is_centre_staff(user) else access.scope_unit_ids(user)
    scores = metrics.unit_scores(_start_of(start), _start_of(end + timedelta(days=1)), unit_ids=unit_ids)
    total = metrics.totals(scores)
    return {"start": start, "end": end, "items": [_row(s) for s in scores], "total": _row(total)}
