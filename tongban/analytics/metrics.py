"""三率 and unit scores, read from the case event log. Read-only: nothing here writes.

Formulas are written out in docs/metrics.md; keep the two in step.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q

from tongban.cases.models import CaseEvent
from tongban.core.models import Unit

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


def unit_scores(start: datetime, end: datetime, *, unit_ids: list[int] | None = None) -> list[UnitScore]:
    """Scores of every unit that received or handled cases in [start, end): ranked units best
    first, then units with too few cases for a fair ranking."""
    events = CaseEvent.objects.filter(created_at__gte=start, created_at__lt=end, unit__isnull=False)
    if unit_ids is not None:
        events = events.filter(unit_id__in=unit_ids)
    rows = (
        events.filter(action__in=(*RECEIVE_ACTIONS, "sign", "finish", "callback", "return"))
        .values("unit_id")
        .annotate(
            received=Count("id", filter=Q(action__in=RECEIVE_ACTIONS)),
            signed=Count("id", filter=Q(action="sign")),
            signed_on_time=Count("id", filter=Q(action="sign", on_time=True)),
            finished=Count("id", filter=Q(action="finish")),
            finished_on_time=Count("id", filter=Q(action="finish", on_time=True)),
            callbacks=Count("id", filter=Q(action="callback", outcome__in=REACHED)),
            solved=Count("id", filter=Q(action="callback", outcome__in=REACHED, solved=True)),
            satisfied=Count("id", filter=Q(action="callback", outcome="satisfied")),
            basic=Count("id", filter=Q(action="callback", outcome="basic")),
            unsatisfied=Count("id", filter=Q(action="callback", outcome="unsatisfied")),
            returned=Count("id", filter=Q(action="return")),
        )
    )
    durations = dict(
        events.filter(action="finish", case__dispatched_at__isnull=False)
        .values("unit_id")
        .annotate(d=Avg(ExpressionWrapper(F("created_at") - F("case__dispatched_at"), output_field=DurationField())))
        .values_list("unit_id", "d")
    )
    names = dict(Unit.objects.filter(pk__in=[r["unit_id"] for r in rows]).values_list("pk", "name"))
    scores = []
    for r in rows:
        s = UnitScore(unit_name=names.get(r["unit_id"], "?"), **r)
        d = durations.get(r["unit_id"])
        s.avg_hours = round(d.total_seconds() / 3600, 1) if d is not None else None
        scores.append(s)
    scores.sort(key=lambda s: (not s.ranked, s.score is None, -(s.score or 0), s.unit_name))
    return scores


def totals(scores: list[UnitScore]) -> UnitScore:
    total = UnitScore(unit_id=0, unit_name="合计")
    for s in scores:
        for f in ("received", "signed", "signed_on_time", "finished", "finished_on_time", "callbacks", "solved", "satisfied", "basic", "unsatisfied", "returned"):
            setattr(total, f, getattr(total, f) + getattr(s, f))
    return total
