"""Working-day arithmetic (工作日计算) for deadlines and warnings.

Whether a date is a working day is decided, in this order, by
1. an administrator's ``CalendarOverride`` row;
2. the ``chinesecalendar`` package, for the years it has data for;
3. a fallback rule for other years: weekends off, plus the statutory holidays
   (法定节假日) in force since 2025. Make-up workdays (调休) cannot be derived for
   such years; administrators enter them as overrides.

All datetimes are interpreted in the project's TIME_ZONE (Asia/Shanghai). Aware
datetimes are expected; a naive one is taken as local time. Results are aware
datetimes in TIME_ZONE.

Caching: the answers are kept per process, dropped on every save/delete of an
override or of the office hours in this process (see ``signals.py``), and
re-validated against a cheap database marker at most every 60 seconds so that
changes made by other processes are picked up.
"""
from __future__ import annotations

import datetime as dt
import functools
import math
import threading
import time
from collections.abc import Iterable

import chinese_calendar
from django.db.models import Count, Max
from django.utils import timezone
from lunardate import LunarDate

__all__ = [
    "is_workday",
    "add_working_days",
    "add_working_hours",
    "working_seconds_between",
    "subtract_working_seconds",
    "warning_start",
    "working_days_between",
    "unknown_years",
    "years_needing_schedule",
    "schedule_warnings",
    "source_of",
    "describe",
    "rule_holidays",
    "office_periods",
    "clear_cache",
]

RECHECK_SECONDS = 60
END_OF_DAY = dt.time(23, 59, 59)
ONE_DAY = dt.timedelta(days=1)
# A calendar with ten years in a row without a single working day is a data error.
_MAX_IDLE_DAYS = 3660

SOURCE_OVERRIDE = "override"
SOURCE_CHINESECALENDAR = "chinesecalendar"
SOURCE_RULE = "rule"

_date, _datetime = dt.date, dt.datetime
# Indirection so tests can move the clock that drives the 60-second re-check.
_monotonic = time.monotonic


# --------------------------------------------------------------------------- base calendar


@functools.cache
def _chinesecalendar_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def _lunar_to_solar(year: int, month: int, day: int) -> dt.date:
    lunar = LunarDate(year, month, day)
    convert = getattr(lunar, "to_solar_date", None) or lunar.toSolarDate
    return convert()


def qingming(year: int) -> dt.date:
    """The Qingming solar term (清明), April 4 or 5, by the usual [Y*D+C]-L formula."""
    if 1900 <= year <= 2100:
        y = year % 100
        c = 5.59 if year < 2000 else 4.81
        return dt.date(year, 4, int(y * 0.2422 + c) - y // 4)
    return dt.date(year, 4, 5)


@functools.cache
def _rule_holidays(year: int) -> tuple[tuple[dt.date, str], ...]:
    days: dict[dt.date, str] = {dt.date(year, 1, 1): "元旦"}
    try:
        new_year = _lunar_to_solar(year, 1, 1)
        for i in range(-1, 3):  # 除夕 through 正月初三
            days[new_year + dt.timedelta(days=i)] = "春节"
    except ValueError:  # outside lunardate's range (1900–2099)
        pass
    days[qingming(year)] = "清明节"
    days[dt.date(year, 5, 1)] = "劳动节"
    days[dt.date(year, 5, 2)] = "劳动节"
    try:
        days[_lunar_to_solar(year, 5, 5)] = "端午节"
        days[_lunar_to_solar(year, 8, 15)] = "中秋节"
    except ValueError:
        pass
    for d in (1, 2, 3):
        days.setdefault(dt.date(year, 10, d), "国庆节")
    return tuple(sorted(days.items()))


def rule_holidays(year: int) -> dict[dt.date, str]:
    """Statutory holidays of `year` under the rule in force since 2025 (no 调休)."""
    return dict(_rule_holidays(year))


@functools.cache
def _base_year(year: int) -> dict[dt.date, bool]:
    """Working-day flags of every date in `year`, ignoring overrides."""
    first = dt.date(year, 1, 1)
    dates = [first + dt.timedelta(days=i) for i in range((dt.date(year, 12, 31) - first).days + 1)]
    if _chinesecalendar_knows(year):
        return {d: chinese_calendar.is_workday(d) for d in dates}
    holidays = rule_holidays(year)
    return {d: d.weekday() < 5 and d not in holidays for d in dates}


# --------------------------------------------------------------------------- per-process cache


class _Snapshot:
    """Overrides and office hours as read from the database at one moment."""

    __slots__ = ("overrides", "override_years", "periods", "marker", "check_at", "days")

    def __init__(self, overrides, periods, marker, check_at):
        self.overrides: dict[dt.date, bool] = overrides
        self.override_years = frozenset(d.year for d in overrides)
        self.periods: tuple[tuple[dt.time, dt.time], ...] = periods
        self.marker = marker
        self.check_at: float = check_at
        self.days: dict[dt.date, bool] = {}  # merged answers, filled a year at a time


def _stale() -> _Snapshot:
    return _Snapshot({}, (), None, -math.inf)


_snapshot = _stale()
_lock = threading.Lock()


def clear_cache() -> None:
    """Forget everything read from the database; the next call reloads it."""
    global _snapshot
    _snapshot = _stale()


def _read_marker():
    from .models import CalendarOverride, OfficeHours

    agg = CalendarOverride.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    hours = OfficeHours.objects.filter(pk=1).values_list("updated_at", flat=True).first()
    return (agg["n"], agg["last"], hours)


def _load() -> _Snapshot:
    from .models import CalendarOverride, OfficeHours

    rows = list(CalendarOverride.objects.values_list("date", "is_workday", "updated_at"))
    hours = OfficeHours.load()
    marker = (
        len(rows),
        max((r[2] for r in rows), default=None),
        hours.updated_at,
    )
    return _Snapshot(
        {d: w for d, w, _ in rows}, hours.periods(), marker, _monotonic() + RECHECK_SECONDS
    )


def _current() -> _Snapshot:
    global _snapshot
    snap = _snapshot
    if _monotonic() < snap.check_at:
        return snap
    with _lock:
        snap = _snapshot
        if _monotonic() < snap.check_at:
            return snap
        if snap.marker is not None and _read_marker() == snap.marker:
            snap.check_at = _monotonic() + RECHECK_SECONDS
        else:
            snap = _snapshot = _load()
    return snap


def _fill_year(snap: _Snapshot, year: int) -> None:
    merged = dict(_base_year(year))
    if year in snap.override_years:
        merged.update((d, w) for d, w in snap.overrides.items() if d.year == year)
    snap.days.update(merged)


# --------------------------------------------------------------------------- days


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        return _local(value).date()
    return value


def is_workday(d: dt.date) -> bool:
    """Whether `d` is a working day (工作日). A datetime is reduced to its local date."""
    if type(d) is not _date and isinstance(d, _datetime):
        d = _local(d).date()
    snap = _snapshot
    if _monotonic() >= snap.check_at:
        snap = _current()
    try:
        return snap.days[d]
    except KeyError:
        _fill_year(snap, d.year)
        return snap.days[d]


def source_of(d: dt.date) -> str:
    """Which source decides `d`: "override", "chinesecalendar" or "rule"."""
    d = _as_date(d)
    if d in _current().overrides:
        return SOURCE_OVERRIDE
    return SOURCE_CHINESECALENDAR if _chinesecalendar_knows(d.year) else SOURCE_RULE


def describe(d: dt.date) -> str:
    """A short Chinese note for `d`: the override's reason, or the holiday's name
    (with "调休上班" for make-up workdays); "" for an ordinary day."""
    d = _as_date(d)
    if d in _current().overrides:
        from .models import CalendarOverride

        reason = CalendarOverride.objects.filter(date=d).values_list("reason", flat=True).first()
        return reason or ("调整为上班" if is_workday(d) else "调整为放假")
    if _chinesecalendar_knows(d.year):
        off, name = chinese_calendar.get_holiday_detail(d)
        if not name:
            return ""
        try:
            name = chinese_calendar.Holiday(name).chinese
        except ValueError:
            pass
        return name if off else f"{name}调休上班"
    return rule_holidays(d.year).get(d, "")


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Number of working days d with start <= d < end (0 if end <= start)."""
    d, end = _as_date(start), _as_date(end)
    count = 0
    while d < end:
        count += is_workday(d)
        d += ONE_DAY
    return count


def add_working_days(start: dt.datetime, n: int) -> dt.datetime:
    """Deadline for "n 个工作日": the acceptance day is not counted and the deadline is
    23:59:59 local time of the n-th working day after it; n=0 gives the end of the
    acceptance day itself."""
    if n < 0:
        raise ValueError("工作日数不能为负数。")
    d = _local(start).date()
    idle = 0
    while n > 0:
        d += ONE_DAY
        if is_workday(d):
            n -= 1
            idle = 0
        else:
            idle = _guard(idle)
    return _aware(dt.datetime.combine(d, END_OF_DAY))


def unknown_years(years: Iterable[int]) -> list[int]:
    """Those of `years` that chinesecalendar has no data for and that have no override
    either, i.e. whose 调休 schedule still has to be entered (sorted, no duplicates)."""
    snap = _current()
    return sorted(
        {y for y in years if not _chinesecalendar_knows(y) and y not in snap.override_years}
    )


def years_needing_schedule(today: dt.date | None = None) -> list[int]:
    """Of this year and next year, those whose holiday schedule is missing."""
    if today is None:
        from tongban.core import clock

        today = _local(clock.now()).date()
    today = _as_date(today)
    return unknown_years([today.year, today.year + 1])


def schedule_warnings(today: dt.date | None = None) -> list[str]:
    """Administrator-facing warnings for `years_needing_schedule`."""
    return [
        f"{year} 年的法定节假日调休安排尚未录入，目前按“周末休息 + 法定节日”规则推算；"
        f"请在工作日历中补录该年的调休上班日和放假日。"
        for year in years_needing_schedule(today)
    ]


def _guard(idle: int) -> int:
    idle += 1
    if idle > _MAX_IDLE_DAYS:
        raise ValueError("工作日历中连续十年没有工作日，请检查日历调整数据。")
    return idle


# --------------------------------------------------------------------------- office hours


def _tz():
    return timezone.get_default_timezone()


def _local(value: dt.datetime) -> dt.datetime:
    """Naive local wall time of `value` (a naive value is taken as local already)."""
    if timezone.is_naive(value):
        return value
    return timezone.localtime(value, _tz()).replace(tzinfo=None)


def _aware(naive: dt.datetime) -> dt.datetime:
    return timezone.make_aware(naive, _tz())


def office_periods() -> tuple[tuple[dt.time, dt.time], ...]:
    """The office periods of a working day, e.g. ((09:00, 12:00), (13:30, 17:30))."""
    return _current().periods


def _periods_on(day: dt.date, periods) -> list[tuple[dt.datetime, dt.datetime]]:
    if not is_workday(day):
        return []
    return [(dt.datetime.combine(day, s), dt.datetime.combine(day, e)) for s, e in periods]


def _office_day() -> dt.timedelta:
    return sum(
        (dt.datetime.combine(dt.date.min, e) - dt.datetime.combine(dt.date.min, s)
         for s, e in office_periods()),
        dt.timedelta(0),
    )


def _duration(seconds: float, what: str) -> dt.timedelta:
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{what}必须是非负数。")
    return dt.timedelta(microseconds=round(seconds * 1_000_000))


def add_working_hours(start: dt.datetime, hours: float) -> dt.datetime:
    """The moment `hours` of office time on working days have elapsed after `start`.
    Counting starts at `start` if it is within office hours, else at the next office
    period; a budget that runs out exactly at a period's end gives that end."""
    remaining = _duration(hours * 3600, "工作小时数")
    periods = office_periods()
    cur = _local(start)
    day, idle = cur.date(), 0
    while True:
        spans = _periods_on(day, periods)
        for ps, pe in spans:
            if pe < cur:
                continue
            begin = max(ps, cur)
            available = pe - begin
            if remaining <= available:
                return _aware(begin + remaining)
            remaining -= available
        idle = 0 if spans else _guard(idle)
        day += ONE_DAY


def subtract_working_seconds(t: dt.datetime, seconds: float) -> dt.datetime:
    """Go back `seconds` of office time from `t`. If `t` is outside office hours, counting
    starts at the end of the last office period at or before `t`; a budget that runs out
    exactly at a period's start gives that start."""
    remaining = _duration(seconds, "工作秒数")
    periods = office_periods()
    cur = _local(t)
    day, idle = cur.date(), 0
    while True:
        spans = _periods_on(day, periods)
        for ps, pe in reversed(spans):
            if ps > cur:
                continue
            end = min(pe, cur)
            available = end - ps
            if remaining <= available:
                return _aware(end - remaining)
            remaining -= available
        idle = 0 if spans else _guard(idle)
        day -= ONE_DAY


def working_seconds_between(a: dt.datetime, b: dt.datetime) -> int:
    """Whole seconds of office time on working days within [a, b); 0 if b <= a."""
    a, b = _local(a), _local(b)
    if b <= a:
        return 0
    periods = office_periods()
    total = dt.timedelta(0)
    day = a.date()
    while day <= b.date():
        for ps, pe in _periods_on(day, periods):
            lo, hi = max(ps, a), min(pe, b)
            if hi > lo:
                total += hi - lo
        day += ONE_DAY
    return total // dt.timedelta(seconds=1)


def warning_start(due: dt.datetime) -> dt.datetime:
    """The moment from which at most one working day of office time is left before `due`
    (one full day of office hours counted back from `due`). For a due time of 23:59:59
    this is the start of office hours on the due day."""
    return subtract_working_seconds(due, _office_day().total_seconds())
