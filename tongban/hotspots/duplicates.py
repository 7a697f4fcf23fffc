"""重复件 at intake: while a request is typed, find open cases that are probably about the same issue.

Retrieval is bounded by indexes, never a scan of the case table:

* **place known** (the region chosen on the form, else `core.places.locate` on the address and the
  text): open cases of the last `days` days whose region lies in the same town (乡镇/街道) — the
  `region_id IN (…)` lookup on the region foreign-key index — of which the newest `pool` are scored;
* **place unknown**: the newest `pool` open cases of the window (the `created_at` index), and a
  higher bar on the text.

Only cases the person may see (`cases.access.visible_cases`) and that can still take a duplicate
(the hotline's open states before 办结: `merge` needs the original to finish later) are offered.

Ranking: `score = 0.8·text + 0.15·same village/community + 0.05·same town (+0.05 same category)`,
where `text` is the TF-IDF cosine of words + character bigrams (`hotspots.text`), idf fitted on the
candidate pool and the new text. A candidate needs `text ≥ MIN_TEXT` (`MIN_TEXT_NO_PLACE` without
a place). The words shared with the new request are shown, rarest first.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models.functions import Substr

from tongban.cases import access
from tongban.cases.models import Case, Category
from tongban.core import clock
from tongban.core.models import Region
from tongban.core.places import locate
from tongban.hotline import services as hotline
from tongban.hotline.workflow import OPEN

from . import geo, text

DEFAULTS = {"days": 30, "pool": 400, "limit": 5, "min_text": 0.12, "min_text_no_place": 0.3}
W_TEXT, W_VILLAGE, W_TOWN, W_CATEGORY = 0.8, 0.15, 0.05, 0.05
MIN_QUERY_CHARS = 4


def option(name: str):
    return getattr(settings, "HOTSPOTS_DUPLICATES", {}).get(name, DEFAULTS[name])


@dataclass
class Candidate:
    case: Case
    score: float
    text_score: float
    shared: list[str] = field(default_factory=list)
    place: str = ""  # "同村/社区", "同乡镇/街道" or ""

    @property
    def percent(self) -> int:
        return round(self.score * 100)


_lock = threading.Lock()
_vocabulary = text.Vocabulary()
_encoded: OrderedDict[tuple[int, int], tuple] = OrderedDict()
_CACHE_SIZE = 20_000
_VOCABULARY_LIMIT = 500_000


def _encode(case: "_Row", places) -> tuple:
    """Features of a case (bag, encoded), cached per process by (id, hash of its text): case texts rarely change."""
    global _vocabulary
    if len(_vocabulary.terms) > _VOCABULARY_LIMIT:  # start afresh rather than grow without end
        _vocabulary = text.Vocabulary()
        _encoded.clear()
    key = (case.pk, hash((case.title, case.head, places.pattern if places else "")))
    hit = _encoded.get(key)
    if hit is None:
        bag = text.features(f"{case.title} {case.head}", places)
        hit = _encoded[key] = (bag, _vocabulary.encode(bag))
        if len(_encoded) > _CACHE_SIZE:
            _encoded.popitem(last=False)
    else:
        _encoded.move_to_end(key)
    return hit


@dataclass(frozen=True)
class _Row:
    pk: int
    title: str
    head: str
    region_id: int | None
    category_id: int | None
    created_at: object


def resolve_place(region: Region | None, address: str, content: str) -> Region | None:
    return region or locate(address) or locate(content)


def candidates(user, *, title: str, content: str, address: str = "", region: Region | None = None,
               category: Category | None = None, days: int | None = None, limit: int | None = None) -> list[Candidate]:
    """Open cases in `user`'s scope likely about the same issue as the request being typed, best first."""
    query_text = f"{title} {content}".strip()
    if len(query_text) < MIN_QUERY_CHARS:
        return []
    days = days if days is not None else option("days")
    limit = limit if limit is not None else option("limit")
    tree = geo.tree()
    place = resolve_place(region, address, query_text)
    town = tree.town(place.pk) if place else None
    village = tree.village(place.pk) if place else None

    qs = access.visible_cases(user).filter(state__in=OPEN, created_at__gte=clock.now() - timedelta(days=days))
    if town is not None:
        qs = qs.filter(region_id__in=tree.subtree(town))
    # Scoring needs a few columns; whole cases are loaded only for the winners. With a town, no ORDER
    # BY … LIMIT in SQL: with it the planners walk the global created_at index; without it they use
    # the region index and return the town's open cases of the window (a bounded set), sorted here.
    # Without a place, the newest `pool` cases of the window straight from the created_at index.
    columns = ("pk", "title", "head", "region_id", "category_id", "created_at")
    qs = qs.annotate(head=Substr("content", 1, text.HEAD_CHARS))
    if town is not None:
        rows = qs.order_by().values_list(*columns)
    else:
        rows = qs.order_by("-created_at", "-id").values_list(*columns)[: option("pool")]
    pool = sorted((_Row(*r) for r in rows), key=lambda r: (r.created_at, r.pk), reverse=True)[: option("pool")]
    if not pool:
        return []

    places = text.place_pattern(text.place_names())
    query = text.features(query_text, places)
    with _lock:  # the process-wide vocabulary grows as cases are encoded
        encoded = [_encode(row, places) for row in pool]
        vec = text.Tfidf([e for _, e in encoded] + [_vocabulary.encode(query)], _vocabulary)
    sims = (vec.rows[:-1] @ vec.rows[-1].T).toarray().ravel()
    bar = option("min_text") if town is not None else option("min_text_no_place")

    scored = []
    for row, sim, (bag, _) in zip(pool, sims, encoded):
        if sim < bar:
            continue
        same_village = village is not None and tree.village(row.region_id) == village
        same_town = town is not None and tree.town(row.region_id) == town
        same_category = category is not None and row.category_id == category.pk
        score = W_TEXT * sim + W_VILLAGE * same_village + W_TOWN * same_town + W_CATEGORY * same_category
        scored.append((min(score, 1.0), float(sim), row, bag, "同村/社区" if same_village else ("同乡镇/街道" if same_town else "")))
    scored.sort(key=lambda s: (-s[0], -s[2].created_at.timestamp(), -s[2].pk))
    scored = scored[:limit]
    cases = Case.objects.select_related("case_type", "region").in_bulk([s[2].pk for s in scored])
    return [Candidate(cases[row.pk], score, sim, _shared_words(bag, query, vec), place)
            for score, sim, row, bag, place in scored if row.pk in cases]


def _shared_words(bag, query, vec, limit: int = 6) -> list[str]:
    """Words both texts use, rarest first, then shared bigrams not already inside one of them (流浪狗 / 流浪犬 → 流浪)."""
    common = sorted((f for f in bag if f in query), key=lambda f: (-vec.idf_of(f), f))
    words = [f for f in common if text.is_word(f)]
    for f in common:
        gram = f[len(text.BIGRAM_PREFIX):]
        if not text.is_word(f) and not any(gram in w for w in words):
            words.append(gram)
    return words[:limit]


def link_at_intake(case: Case, original_number: str, *, by) -> Case:
    """Merge a just-taken request into the open case the operator picked (hotline.link_duplicate)."""
    original = access.visible_cases(by).filter(number=original_number.strip()).first() if by is not None else \
        Case.objects.filter(number=original_number.strip()).first()
    if original is None:
        raise hotline.RuleError(f"要并入的工单 {original_number} 不存在，或不在您的数据权限范围内。")
    return hotline.link_duplicate(case, original, by=by)
