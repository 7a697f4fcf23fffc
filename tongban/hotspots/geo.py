"""The place tree in memory: town (乡镇/街道) and village (村/社区) of any region, and a town's subtree.

Cached per process and dropped whenever a region is saved or deleted (as `core.places` does).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.db.models.signals import post_delete, post_save

from tongban.core.models import Level, Region


@dataclass(frozen=True)
class Tree:
    parent: dict[int, int | None]
    level: dict[int, int]
    children: dict[int, tuple[int, ...]]

    def ancestor_at(self, region_id: int | None, level: int) -> int | None:
        """The region itself or the one above it at `level`; None above that level or when unknown."""
        node = region_id
        seen = 0
        while node is not None and seen < 10:
            lv = self.level.get(node)
            if lv is None or lv < level:
                return None
            if lv == level:
                return node
            node, seen = self.parent.get(node), seen + 1
        return None

    def town(self, region_id: int | None) -> int | None:
        return self.ancestor_at(region_id, Level.TOWN)

    def village(self, region_id: int | None) -> int | None:
        return self.ancestor_at(region_id, Level.VILLAGE)

    def subtree(self, region_id: int) -> set[int]:
        out, todo = set(), [region_id]
        while todo:
            node = todo.pop()
            if node not in out:
                out.add(node)
                todo.extend(self.children.get(node, ()))
        return out


@lru_cache(maxsize=1)
def tree() -> Tree:
    parent, level, children = {}, {}, {}
    for pk, lv, parent_id in Region.objects.values_list("pk", "level", "parent_id"):
        parent[pk], level[pk] = parent_id, lv
        if parent_id is not None:
            children.setdefault(parent_id, []).append(pk)
    return Tree(parent, level, {k: tuple(v) for k, v in children.items()})


def clear_cache(**_) -> None:
    from .text import place_names

    tree.cache_clear()
    place_names.cache_clear()


post_save.connect(clear_cache, sender=Region, dispatch_uid="hotspots-region-saved")
post_delete.connect(clear_cache, sender=Region, dispatch_uid="hotspots-region-deleted")
