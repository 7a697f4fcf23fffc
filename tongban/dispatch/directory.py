"""Per-process copy of what every suggestion reads: active units, the place tree with the unit
answering for each place, categories with their inherited default unit, and the active rules.

A suggestion then costs no query for any of these, whatever the page size. Saving any of them in
this process clears the copy; other processes reload it after RELOAD_SECONDS.
"""
from __future__ import annotations

import threading
import time

from django.db.models.signals import post_delete, post_save

from tongban.cases.models import Category
from tongban.core import places
from tongban.core.models import Level, Region, Unit, UnitKind

from .models import AutoDispatchSettings, RoutingRule

RELOAD_SECONDS = 30
NOT_LOCAL = (UnitKind.DEPARTMENT, UnitKind.CENTRE, UnitKind.ENTERPRISE)


class Directory:
    def __init__(self):
        self.units = {u.pk: u for u in Unit.objects.filter(active=True).exclude(kind=UnitKind.CENTRE)}
        self.regions = places.regions()
        self.local_unit: dict[int, Unit] = {}  # region → its own 属地 unit (first by path, as core.places)
        for u in sorted(self.units.values(), key=lambda u: u.path, reverse=True):
            if u.kind not in NOT_LOCAL:
                self.local_unit[u.region_id] = u
        rows = {pk: (parent, unit, name, active) for pk, parent, unit, name, active in
                Category.objects.values_list("pk", "parent_id", "default_unit_id", "full_name", "active")}
        self.categories = {name: pk for pk, (_, _, name, active) in rows.items() if active}  # full name → id
        self.defaults: dict[int, int] = {}  # category → default unit, inherited (as hotline.queries.default_units)
        for pk, (parent, unit, _, _) in rows.items():
            while unit is None and parent is not None:
                parent, unit = rows[parent][:2]
            if unit:
                self.defaults[pk] = unit
        self.rules = list(RoutingRule.objects.filter(active=True).select_related("unit", "category"))
        self.settings = AutoDispatchSettings.get()  # with the model version in use
        self.loaded_at = time.monotonic()

    def unit_named_in(self, text: str, *, exclude: int | None = None) -> Unit | None:
        """The unit a return reason names ("建议改派县城市管理局办理"): the longest full or short name."""
        best, length = None, 0
        for unit in self.units.values():
            for name in (unit.name, unit.short_name):
                if name and len(name) >= 2 and name in text and len(name) > length and unit.pk != exclude:
                    best, length = unit, len(name)
        return best

    def unit_groups(self) -> list[tuple[str, list[tuple[int, str]]]]:
        """The units for a unit select, grouped by kind (as web.forms.unit_choices)."""
        groups: dict[str, list] = {}
        for u in sorted(self.units.values(), key=lambda u: (u.kind, u.path)):
            groups.setdefault(UnitKind(u.kind).label, []).append((u.pk, u.name))
        return list(groups.items())

    def responsible_unit(self, region_id: int | None) -> Unit | None:
        """The region's own 属地 unit, else the nearest one above it (core.places.responsible_unit)."""
        seen = 0
        while region_id is not None and seen < 10:
            if region_id in self.local_unit:
                return self.local_unit[region_id]
            region = self.regions.get(region_id)
            region_id = region.parent_id if region else None
            seen += 1
        return None

    def territorial_unit(self, region_id: int | None, level: int) -> Unit | None:
        """The unit answering for the place at `level` (乡镇/街道, 村/社区, 网格): the place's ancestor at
        that level, then up to the nearest unit. A place known only above the level (a town when
        the rule wants the community) gives the unit of what is known."""
        region = self.regions.get(region_id) if region_id else None
        while region is not None and region.level > level:
            region = self.regions.get(region.parent_id)
        if region is None or region.level < Level.TOWN:
            return None  # nothing below the county is known: no 属地 unit
        return self.responsible_unit(region.pk)


_lock = threading.Lock()
_current: Directory | None = None


def directory() -> Directory:
    global _current
    d = _current
    if d is None or time.monotonic() - d.loaded_at > RELOAD_SECONDS:
        with _lock:
            d = _current = Directory()
    return d


def forget(**_) -> None:
    global _current
    _current = None


for _model in (Unit, Category, RoutingRule, Region, AutoDispatchSettings):
    post_save.connect(forget, sender=_model, dispatch_uid=f"dispatch-directory-save-{_model.__name__}")
    post_delete.connect(forget, sender=_model, dispatch_uid=f"dispatch-directory-delete-{_model.__name__}")
