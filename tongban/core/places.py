"""Address → jurisdiction (属地): find the org tree's place names in free text.

`locate("东湖街道湖滨社区12栋漏水")` returns the 湖滨社区 region; `responsible_unit(region)` the unit
that answers for it (the grid's, else the village/community's, else the town's). Names are matched
in full ("柳泉镇") and without their administrative suffix ("柳泉"); a short name shared by
several places only counts when a place above it is named too.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.db.models.signals import post_delete, post_save

from .models import Region, Unit, UnitKind

SUFFIXES = ("街道办事处", "街道", "镇", "乡", "社区", "村", "居委会", "村委会")


@dataclass(frozen=True)
class Place:
    region_id: int
    level: int
    parent_id: int | None
    alias: str
    full: bool  # matched the full name, not a short form


def aliases(name: str) -> list[tuple[str, bool]]:
    found = [(name, True)]
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            found.append((name[: -len(suffix)], False))
            break
    return found


@lru_cache(maxsize=1)
def _gazetteer() -> tuple[dict[str, list[Place]], dict[int, int | None], dict[int, Region]]:
    by_alias: dict[str, list[Place]] = {}
    parents: dict[int, int | None] = {}
    regions: dict[int, Region] = {}
    for region in Region.objects.all():
        pk, name, level, parent_id = region.pk, region.name, region.level, region.parent_id
        parents[pk] = parent_id
        regions[pk] = region
        for alias, full in aliases(name):
            by_alias.setdefault(alias, []).append(Place(pk, level, parent_id, alias, full))
    return by_alias, parents, regions


def regions() -> dict[int, Region]:
    """Every region by id, from the same cached read (treat them as read-only)."""
    return _gazetteer()[2]


def clear_cache(**_) -> None:
    _gazetteer.cache_clear()


post_save.connect(clear_cache, sender=Region, dispatch_uid="places-region-saved")
post_delete.connect(clear_cache, sender=Region, dispatch_uid="places-region-deleted")


def _ancestors(region_id: int, parents: dict[int, int | None]) -> set[int]:
    seen: set[int] = set()
    node = parents.get(region_id)
    while node is not None and node not in seen:
        seen.add(node)
        node = parents.get(node)
    return seen


def locate(text: str) -> Region | None:
    """The most specific region named in `text`, or None."""
    pk = locate_id(text)
    return None if pk is None else Region.objects.get(pk=pk)


def locate_id(text: str) -> int | None:
    """The id of the region `locate` finds, without a query (the names are cached)."""
    if not text:
        return None
    by_alias, parents, _ = _gazetteer()
    hits = [place for alias, places in by_alias.items() if alias in text for place in places]
    if not hits:
        return None
    named: dict[int, set[str]] = {}  # region → the names of it found in the text
    for p in hits:
        named.setdefault(p.region_id, set()).add(p.alias)
    # a longer name that contains a shorter one ("东湖社区" ⊃ "东湖") makes the shorter hit moot
    longest = {}
    for p in hits:
        longest[p.region_id] = max(longest.get(p.region_id, 0), len(p.alias))

    def score(p: Place) -> tuple:
        # places above it named by other words (one shared short name cannot vouch for itself)
        backed = sum(1 for a in _ancestors(p.region_id, parents) if named.get(a, set()) - {p.alias})
        ambiguous = len(by_alias[p.alias]) > 1
        usable = p.full or not ambiguous or backed > 0
        return (usable, backed + (1 if p.full else 0), p.level, longest[p.region_id])

    best = max(hits, key=score)
    if not score(best)[0]:
        return None
    return best.region_id


def responsible_unit(region: Region | None) -> Unit | None:
    """The active unit that answers for `region`: its own, else the nearest one above it."""
    node = region
    while node is not None:
        unit = Unit.objects.filter(region=node, active=True).exclude(kind__in=[UnitKind.DEPARTMENT, UnitKind.CENTRE, UnitKind.ENTERPRISE]).order_by("path").first()
        if unit:
            return unit
        node = node.parent
    return None
