"""Read paths shared by pages, the API and the benchmarks: inbox, queues and filtered lists.

Every list starts from the data scope (`visible_cases`) and pages by key (keyset pagination:
"after this row"), never by OFFSET, so page 1,000 costs what page 1 costs.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import Q, QuerySet
from django.utils import timezone

from tongban.cases.access import scope_unit_ids, visible_cases
from tongban.cases.models import Case, Category
from tongban.core import clock

OPEN_STATES = ("pending_dispatch", "pending_sign", "disputed", "handling", "suspended", "pending_callback")
LIST_FIELDS = ("case_type", "unit", "category")


@dataclass
class Page:
    items: list[Case]
    next_cursor: str | None


def _page(qs: QuerySet, order: tuple[str, str], cursor: str | None, size: int, *, key) -> Page:
    """Keyset page over `qs` ordered by (order[0], order[1]); cursor is "value|id"."""
    field, tiebreak = order
    desc = field.startswith("-")
    name = field.lstrip("-")
    if cursor:
        raw, _, pk = cursor.rpartition("|")
        value = _parse_cursor_value(raw)
        op = "lt" if desc else "gt"
        if value is None:
            qs = qs.filter(**{f"{name}__isnull": True, f"id__{op}": int(pk)})
        else:
            # "f <= v AND (f < v OR id < pk)" selects the same rows as "f < v OR (f = v AND id < pk)",
            # but its first term is a plain range, so both databases seek the (f, id) index.
            qs = qs.filter(Q(**{f"{name}__{op}e": value}), Q(**{f"{name}__{op}": value}) | Q(**{f"id__{op}": int(pk)}))
    rows = list(qs.order_by(field, tiebreak).select_related(*LIST_FIELDS)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    nxt = f"{key(rows[-1])}|{rows[-1].pk}" if more and rows else None
    return Page(rows, nxt)


def _parse_cursor_value(raw: str):
    if raw in ("", "None"):
        return None
    return datetime.fromisoformat(raw)


def inbox(user, *, cursor: str | None = None, size: int = 50, states=("pending_sign", "handling", "disputed", "suspended")) -> Page:
    """单位待办: cases the person's unit (and sub-units where configured) holds, nearest deadline first."""
    qs = Case.objects.filter(unit_id__in=scope_unit_ids(user), state__in=states, due_at__isnull=False)
    return _page(qs, ("due_at", "id"), cursor, size, key=lambda c: c.due_at.isoformat())


def dispatch_queue(user, *, cursor: str | None = None, size: int = 50) -> Page:
    """派单员待派: new requests and disputed returns, oldest first."""
    qs = visible_cases(user).filter(state="pending_dispatch")
    return _page(qs, ("created_at", "id"), cursor, size, key=lambda c: c.created_at.isoformat())


def disputed(user):
    return visible_cases(user).filter(state="disputed").select_related(*LIST_FIELDS).order_by("updated_at")


def callback_queue(user, *, cursor: str | None = None, size: int = 50) -> Page:
    qs = visible_cases(user).filter(state="pending_callback")
    return _page(qs, ("finished_at", "id"), cursor, size, key=lambda c: c.finished_at.isoformat() if c.finished_at else "None")


@dataclass
class CaseFilter:
    q: str = ""
    state: str = ""
    case_type: str = ""
    unit: int | None = None
    category: int | None = None
    channel: str = ""
    light: str = ""  # red / yellow
    supervised: bool = False
    created_from: date | None = None
    created_to: date | None = None


def _day_start(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, time.min))


def filtered_cases(user, f: CaseFilter) -> QuerySet[Case]:
    qs = visible_cases(user)
    if f.state == "open":
        qs = qs.filter(state__in=OPEN_STATES)
    elif f.state:
        qs = qs.filter(state=f.state)
    if f.case_type:
        qs = qs.filter(case_type__code=f.case_type)
    if f.unit:
        qs = qs.filter(unit_id=f.unit)
    if f.category:
        qs = qs.filter(Q(category_id=f.category) | Q(category__parent_id=f.category) | Q(category__parent__parent_id=f.category))
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.supervised:
        qs = qs.filter(supervised=True)
    now = clock.now()
    running = ("pending_sign", "disputed", "handling")
    if f.light == "red":
        qs = qs.filter(state__in=running, due_at__lt=now)
    elif f.light == "yellow":
        qs = qs.filter(state__in=running, due_at__gte=now, warn_at__lte=now)
    if f.created_from:
        qs = qs.filter(created_at__gte=_day_start(f.created_from))
    if f.created_to:
        qs = qs.filter(created_at__lt=_day_start(f.created_to) + timezone.timedelta(days=1))
    if f.q:
        q = f.q.strip()
        qs = qs.filter(Q(number=q) | Q(title__contains=q) | Q(requester_phone=q) | Q(address__contains=q))
    return qs


def case_list(user, f: CaseFilter, *, cursor: str | None = None, size: int = 50) -> Page:
    return _page(filtered_cases(user, f), ("-created_at", "-id"), cursor, size, key=lambda c: c.created_at.isoformat())


def overdue(user, *, cursor: str | None = None, size: int = 50) -> Page:
    """督办: overdue open cases, most overdue first."""
    qs = visible_cases(user).filter(state__in=("pending_sign", "disputed", "handling"), due_at__lt=clock.now())
    return _page(qs, ("due_at", "id"), cursor, size, key=lambda c: c.due_at.isoformat())


def default_units() -> dict[int, int]:
    """category id → the unit that handles it by default, inherited from the nearest ancestor
    that names one (one query over the whole taxonomy)."""
    rows = {pk: (parent, unit) for pk, parent, unit in Category.objects.values_list("pk", "parent_id", "default_unit_id")}
    resolved: dict[int, int] = {}
    for pk in rows:
        parent, unit = rows[pk]
        while unit is None and parent is not None:
            parent, unit = rows[parent]
        if unit:
            resolved[pk] = unit
    return resolved
