"""三率 and unit scores, read from the case event log (and its daily rollup, a read model of it).

Formulas are written out in docs/metrics.md; keep the two in step.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from tongban.cases.models import CaseEvent
from tongban.core import clock
from tongban.core.models import Unit

from .models import RollupMark, UnitDayStats

RECEIVE_ACTIONS = ("dispatch", "relay", "reassign")
REACHED = ("satisfied", "basic", "unsatisfied")
DEFAULT_WEIGHTS = {"response": 0.2, "solve": 0.4, "satisfy": 0.4}
DEFAULT_MIN_RANKED = 10  # units that received fewer cases in the period are listed, not ranked


def min_ranked() -> int:
    return getattr(settings, "TONGBAN_RANK_MIN_CASES", DEFAULT_MIN_RANKED)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class UnitScore:
    unit_id: int
    unit_name: str
    received: int = 0
    signed: int = 0
    signed_on_time: int = 0
    finished: int = 0
    finished_on_time: int = 0
    callbacks: int = 0
    solved: int = 0
    satisfied: int = 0
    basic: int = 0
    unsatisfied: int = 0
    returned: int = 0
    avg_hours: float | None = None
    rates: dict = field(default_factory=dict)

    @property
    def response_rate(self):  # 响应率
        return _rate(min(self.signed_on_time, self.received), self.received)

    @property
    def solve_rate(self):  # 解决率
        return _rate(self.solved, self.callbacks)

    @property
    def satisfaction_rate(self):  # 满意率
        return _rate(self.satisfied + self.basic, self.callbacks)

    @property
    def on_time_rate(self):  # 按时办结率
        return _rate(self.finished_on_time, self.finished)

    @property
    def ranked(self) -> bool:
        """Enough cases in the period for a fair comparison (样本足够，参与排名)."""
        return self.received >= min_ranked() and self.score is not None

    @property
    def score(self) -> float | None:
        w = getattr(settings, "TONGBAN_SCORE_WEIGHTS", DEFAULT_WEIGHTS)
        parts = [(self.response_rate, w["response"]), (self.solve_rate, w["solve"]), (self.satisfaction_rate, w["satisfy"])]
        known = [(v, wt) for v, wt in parts if v is not None]
        if not known:
            return None
        return round(100 * sum(v * wt for v, wt in known) / sum(wt for _, wt in known), 2)


COUNTERS = {
    "received": Q(action__in=RECEIVE_ACTIONS),
    "signed": Q(action="sign"),
    "signed_on_time": Q(action="sign", on_time=True),
    "finished": Q(action="finish"),
    "finished_on_time": Q(action="finish", on_time=True),
    "callbacks": Q(action="callback", outcome__in=REACHED),
    "solved": Q(action="callback", outcome__in=REACHED, solved=True),
    "satisfied": Q(action="callback", outcome="satisfied"),
    "basic": Q(action="callback", outcome="basic"),
    "unsatisfied": Q(action="callback", outcome="unsatisfied"),
    "returned": Q(action="return"),
}
SUMS = (*COUNTERS, "finish_seconds", "finish_timed")
COUNTED_ACTIONS = (*RECEIVE_ACTIONS, "sign", "finish", "callback", "return")
MARK = "unit_day_stats"


def _aggregate(events, by: tuple[str, ...]) -> list[dict]:
    """The counters and Σ/n of handling durations of `events`, grouped by `by`."""
    rows = list(events.filter(action__in=COUNTED_ACTIONS).values(*by).annotate(**{k: Count("id", filter=q) for k, q in COUNTERS.items()}))
    durations = {
        tuple(r[b] for b in by): r
        for r in events.filter(action="finish", case__dispatched_at__isnull=False).values(*by).annotate(
            s=Sum(ExpressionWrapper(F("created_at") - F("case__dispatched_at"), output_field=DurationField())), n=Count("id"))
    }
    for r in rows:
        d = durations.get(tuple(r[b] for b in by))
        r["finish_seconds"] = d["s"].total_seconds() if d and d["s"] is not None else 0.0
        r["finish_timed"] = d["n"] if d else 0
    return rows


def _midnight(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, time.min))


def _events(start: datetime, end: datetime, unit_ids):
    events = CaseEvent.objects.filter(created_at__gte=start, created_at__lt=end, unit__isnull=False)
    return events if unit_ids is None else events.filter(unit_id__in=unit_ids)


def refresh_day_stats(until: date | None = None, *, since: date | None = None) -> int:
    """Rebuild the daily rollup for local days from `since` up to, not including, `until`
    (default: today). Idempotent. Without `since` it continues from the watermark (one day back,
    so an event committed across midnight is caught) or starts at the first event. The watermark
    only moves when the rebuilt range joins the covered one, so a gap is never skipped."""
    until = until or timezone.localdate(clock.now())
    mark = RollupMark.objects.filter(name=MARK).values_list("until", flat=True).first()
    first = CaseEvent.objects.order_by("created_at").values_list("created_at", flat=True).first()
    covered_from = mark or (timezone.localdate(first) if first else until)
    if since is None:
        since = mark - timedelta(days=1) if mark else covered_from
    since = min(since, until)
    rows = _aggregate(_events(_midnight(since), _midnight(until), None).annotate(day=TruncDate("created_at")), ("day", "unit_id"))
    with transaction.atomic():
        UnitDayStats.objects.filter(day__gte=since, day__lt=until).delete()
        UnitDayStats.objects.bulk_create([UnitDayStats(**r) for r in rows], batch_size=2000)
        if since <= covered_from and (mark is None or until > mark):
            RollupMark.objects.update_or_create(name=MARK, defaults={"until": until})
    return len(rows)


def unit_scores(start: datetime, end: datetime, *, unit_ids: list[int] | None = None) -> list[UnitScore]:
    """Scores of every unit that received or handled cases in [start, end): ranked units best
    first, then units with too few cases for a fair ranking.

    Whole local days that the rollup job has covered are read from UnitDayStats; the rest (today,
    partial days at either end) is aggregated live from the events. Both give the same numbers.
    """
    totals_by_unit: dict[int, dict] = {}

    def add(row):
        acc = totals_by_unit.setdefault(row["unit_id"], dict.fromkeys(SUMS, 0))
        for k in SUMS:
            acc[k] += row[k] or 0

    live = [(start, end)]
    mark = RollupMark.objects.filter(name=MARK).values_list("until", flat=True).first()
    first_day = timezone.localdate(start) + timedelta(days=0 if _midnight(timezone.localdate(start)) == start else 1)
    last_day = min(timezone.localdate(end), mark) if mark else None
    if last_day and first_day < last_day:
        stats = UnitDayStats.objects.filter(day__gte=first_day, day__lt=last_day)
        if unit_ids is not None:
            stats = stats.filter(unit_id__in=unit_ids)
        for r in stats.values("unit_id").annotate(**{f"sum_{k}": Sum(k) for k in SUMS}):
            add({"unit_id": r["unit_id"], **{k: r[f"sum_{k}"] for k in SUMS}})
        live = [(start, _midnight(first_day)), (_midnight(last_day), end)]
    for a, b in live:
        if b > a:
            for r in _aggregate(_events(a, b, unit_ids), ("unit_id",)):
                add(r)
    names = dict(Unit.objects.filter(pk__in=list(totals_by_unit)).values_list("pk", "name"))
    scores = []
    for unit_id, acc in totals_by_unit.items():
        seconds, timed = acc.pop("finish_seconds"), acc.pop("finish_timed")
        if not any(acc.values()):
            continue
        s = UnitScore(unit_id=unit_id, unit_name=names.get(unit_id, "?"), **acc)
        s.avg_hours = round(seconds / timed / 3600, 1) if timed else None
        scores.append(s)
    scores.sort(key=lambda s: (not s.ranked, s.score is None, -(s.score or 0), s.unit_name))
    return scores


def totals(scores: list[UnitScore]) -> UnitScore:
    total = UnitScore(unit_id=0, unit_name="合计")
    for s in scores:
        for f in ("received", "signed", "signed_on_time", "finished", "finished_on_time", "callbacks", "solved", "satisfied", "basic", "unsatisfied", "returned"):
            setattr(total, f, getattr(total, f) + getattr(s, f))
    return total
