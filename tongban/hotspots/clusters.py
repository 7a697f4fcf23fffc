"""热点 (hotspots): cluster the recent requests by topic and place, with counts, growth and alerts.

The requests of the last two windows (e.g. 2 × 7 days up to `as_of`) are clustered together, so
an issue that was already there last week lands in one cluster with last week's requests; a
cluster's `count` is its requests in the current window, `prev_count` those of the previous one.

Method (why: deterministic, no number of clusters to guess, a threshold that reads as "how alike",
and small problems — the place blocks keep the pairwise matrices small):

1. **Block by town** (乡镇/街道, from the case's region, else `core.places.locate` on the address):
   one issue in one place is what a hotspot is; requests without a place form one block of their own.
   A block larger than `max_block` is split by level-1 category.
2. **Similarity** inside a block: `w_text·cos(TF-IDF of words + character bigrams)` +
   `w_category·(1 same category, 0.5 same level-1 category)` + `w_village·(same village/community)`.
   Place names and digits are removed from the text (`hotspots.text`), so the place counts once.
   The operator's category weighs a lot: citizens describe one issue in very different words
   (停电 / 断电 / 跳闸), so the text similarity of true paraphrases is often only 0.05–0.2.
3. **Average-linkage agglomerative clustering** (scipy's `linkage` on the distance 1 − similarity),
   cut at `1 − threshold`: two groups merge when their requests are on average at least
   `threshold` alike. Single-pass "leader" clustering would depend on arrival order; k-means needs k.
   With the default weights, requests filed under the same category in the same village belong
   together whatever their wording (0.35 + 0.25 = 0.6: the taxonomy's level-3 categories are
   narrow, and two weeks in one village is small); the same level-1 category in the same village
   needs text ≥ 0.44, the same category elsewhere in the town text ≥ 0.625, no shared category in
   the same village text ≥ 0.875; with neither category nor village in common, never.
4. A cluster is reported when it has at least `min_count` requests in the current window.
   `growth = (count − prev_count) ÷ max(prev_count, 1)` is shown and sortable. An **alert** (fast
   growth) is raised when the last `alert_days` days hold at least `alert_min_count` requests and
   that many are improbable from the cluster's own earlier daily rate:
   `P(Poisson(rate·alert_days) ≥ recent) ≤ alert_p`, the rate floored at `alert_floor_per_day`.
   Window-over-window growth alone alerts on noise (a steady issue with 1 → 5 requests); the test
   asks "is this week's burst out of line with this issue's own history".
"""
from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from . import text


@dataclass(frozen=True)
class Params:
    window_days: int = 7
    threshold: float = 0.6
    w_text: float = 0.4
    w_category: float = 0.35
    w_village: float = 0.25
    min_count: int = 3
    alert_days: int = 3
    alert_min_count: int = 5
    alert_p: float = 0.001
    alert_floor_per_day: float = 0.1
    max_block: int = 3000
    label_words: int = 3

    @classmethod
    def from_settings(cls, **overrides) -> "Params":
        configured = {k: v for k, v in getattr(settings, "HOTSPOTS", {}).items() if k in cls.__dataclass_fields__}
        return replace(cls(), **{**configured, **{k: v for k, v in overrides.items() if v is not None}})


@dataclass
class Doc:
    id: int
    text: str
    created_at: datetime
    town: int | None = None
    village: int | None = None
    category_id: int | None = None
    category_path: str = ""


@dataclass
class Cluster:
    members: list[Doc]
    current: list[Doc]
    words: list[str]
    count: int
    prev_count: int
    growth: float
    recent: int  # requests in the last `alert_days` days
    expected: float  # … expected there from the cluster's earlier daily rate
    surprise: float  # P(Poisson(expected) ≥ recent)
    alert: bool
    first_seen: datetime
    last_seen: datetime
    daily: list[tuple[str, int]]
    town: int | None
    village: int | None  # set when most (≥ 60 %) of the current requests are in this village/community
    category_id: int | None
    category_path: str

    @property
    def label(self) -> str:
        return "、".join(self.words) or "（无显著关键词）"


def _codes(keys: list) -> np.ndarray:
    """Equal keys → equal codes; a missing key (None or "") is equal to nothing."""
    seen: dict = {}
    return np.array([seen.setdefault(k, len(seen)) if k not in (None, "") else -(i + 1) for i, k in enumerate(keys)])


def _same(codes: np.ndarray) -> np.ndarray:
    return (codes[:, None] == codes[None, :]).astype(float)


def _category_similarity(paths: list[str]) -> np.ndarray:
    """1 for the same category, 0.5 for the same level-1 category, else 0."""
    return np.maximum(_same(_codes(paths)), 0.5 * _same(_codes([p.split("/")[0] for p in paths])))


def _village_similarity(villages: list[int | None]) -> np.ndarray:
    return _same(_codes(villages))


def _blocks(docs: list[Doc], max_block: int) -> list[list[int]]:
    by_town: dict = {}
    for i, d in enumerate(docs):
        by_town.setdefault(d.town, []).append(i)
    blocks = []
    for town in sorted(by_town, key=lambda t: (t is None, t or 0)):
        idx = by_town[town]
        if len(idx) <= max_block:
            blocks.append(idx)
            continue
        by_top: dict[str, list[int]] = {}
        for i in idx:
            by_top.setdefault(docs[i].category_path.split("/")[0], []).append(i)
        for top in sorted(by_top):
            part = by_top[top]
            blocks.extend(part[k:k + max_block] for k in range(0, len(part), max_block))
    return blocks


def cluster_docs(docs: list[Doc], *, as_of: datetime, params: Params = Params(), places=None) -> list[Cluster]:
    """Cluster `docs` (the requests of the current and the previous window) and describe the clusters
    that have at least `params.min_count` requests in the current window, biggest first."""
    window = timedelta(days=params.window_days)
    start_current, start_prev = as_of - window, as_of - 2 * window
    docs = [d for d in docs if start_prev < d.created_at <= as_of]
    if not docs:
        return []
    vocabulary = text.Vocabulary()
    vec = text.Tfidf([vocabulary.encode(text.features(d.text, places)) for d in docs], vocabulary)
    rows = vec.rows
    word_columns = np.array([text.is_word(t) for t in vec.terms], dtype=bool)

    clusters: list[Cluster] = []
    for block in _blocks(docs, params.max_block):
        if len(block) < params.min_count:
            continue
        x = rows[block]
        sim = params.w_text * (x @ x.T).toarray()
        sim += params.w_category * _category_similarity([docs[i].category_path for i in block])
        sim += params.w_village * _village_similarity([docs[i].village for i in block])
        dist = np.clip(1.0 - sim, 0.0, None)
        np.fill_diagonal(dist, 0.0)
        labels = fcluster(linkage(squareform(dist, checks=False), method="average"), t=1.0 - params.threshold, criterion="distance")
        groups: dict[int, list[int]] = {}
        for pos, lab in enumerate(labels):
            groups.setdefault(int(lab), []).append(block[pos])
        for members in groups.values():
            cluster = _describe(members, docs, rows, vec, word_columns, start_current, as_of, params)
            if cluster is not None:
                clusters.append(cluster)
    clusters.sort(key=lambda c: (-c.count, -c.growth, c.first_seen, c.members[0].id))
    return clusters


def _describe(members, docs, rows, vec, word_columns, start_current, as_of, params) -> Cluster | None:
    current = [docs[i] for i in members if docs[i].created_at > start_current]
    if len(current) < params.min_count:
        return None
    prev = len(members) - len(current)
    weights = np.asarray(rows[[i for i in members if docs[i].created_at > start_current]].sum(axis=0)).ravel()
    weights[~word_columns] = 0.0
    top = [vec.terms[j] for j in np.argsort(-weights, kind="stable")[: params.label_words] if weights[j] > 0]
    growth = (len(current) - prev) / max(prev, 1)
    recent_start = as_of - timedelta(days=params.alert_days)
    recent = sum(1 for i in members if docs[i].created_at > recent_start)
    earlier_days = 2 * params.window_days - params.alert_days
    rate = max((len(members) - recent) / earlier_days, params.alert_floor_per_day)
    expected = rate * params.alert_days
    surprise = poisson_tail(recent, expected)
    villages = Counter(d.village for d in current if d.village is not None)
    village = None
    if villages:
        v, n = villages.most_common(1)[0]
        village = v if n >= 0.6 * len(current) else None
    categories = Counter((d.category_id, d.category_path) for d in current if d.category_id is not None)
    (category_id, category_path), _ = categories.most_common(1)[0] if categories else ((None, ""), 0)
    towns = Counter(d.town for d in current)
    all_docs = [docs[i] for i in members]
    return Cluster(
        members=all_docs, current=current, words=top, count=len(current), prev_count=prev, growth=growth,
        recent=recent, expected=expected, surprise=surprise,
        alert=recent >= params.alert_min_count and surprise <= params.alert_p,
        first_seen=min(d.created_at for d in all_docs), last_seen=max(d.created_at for d in all_docs),
        daily=_daily(all_docs, as_of, params.window_days), town=towns.most_common(1)[0][0], village=village,
        category_id=category_id, category_path=category_path,
    )


def poisson_tail(k: int, mean: float) -> float:
    """P(X ≥ k) for X ~ Poisson(mean)."""
    if k <= 0:
        return 1.0
    term = total = math.exp(-mean)
    for i in range(1, k):
        term *= mean / i
        total += term
    return max(0.0, 1.0 - total)


def _daily(docs: list[Doc], as_of: datetime, window_days: int) -> list[tuple[str, int]]:
    last = timezone.localtime(as_of).date()
    days = [last - timedelta(days=k) for k in range(2 * window_days - 1, -1, -1)]
    counts = Counter(timezone.localtime(d.created_at).date() for d in docs)
    return [(day.isoformat(), counts.get(day, 0)) for day in days]


# ---------------------------------------------------------------- the daily job on the database

KEEP_RUNS = 60
NOT_ISSUES = ("praise",)  # 表扬 is feedback, not a problem that can grow into a hotspot


def as_of_for(day: date | None) -> datetime:
    """`--date 2026-11-20` means "up to the end of that day"; no date means now."""
    from tongban.core import clock

    if day is None:
        return clock.now()
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), datetime.min.time()))


def load_docs(as_of: datetime, params: Params) -> list[Doc]:
    from django.db.models.functions import Substr

    from tongban.cases.models import Case
    from tongban.core.places import locate

    from . import geo

    tree = geo.tree()
    located: dict[str, int | None] = {}
    docs = []
    rows = (Case.objects.filter(created_at__gt=as_of - timedelta(days=2 * params.window_days), created_at__lte=as_of)
            .exclude(case_type__code__in=NOT_ISSUES)
            .annotate(head=Substr("content", 1, text.HEAD_CHARS))
            .values_list("pk", "title", "head", "address", "region_id", "category_id", "category__full_name", "created_at")
            .order_by("created_at", "pk"))
    for pk, title, content, address, region_id, category_id, category_path, created_at in rows.iterator(chunk_size=5000):
        if region_id is None and address:
            if address not in located:
                found = locate(address)
                located[address] = found.pk if found else None
            region_id = located[address]
        docs.append(Doc(pk, f"{title} {content}", created_at, tree.town(region_id), tree.village(region_id),
                        category_id, category_path or ""))
    return docs


def detect(*, as_of: datetime | None = None, days: int | None = None) -> "Run":
    """The daily job: cluster the recent requests and store the run with its hotspots."""
    from tongban.cases.models import Category
    from tongban.core.models import Region

    from .models import Hotspot, HotspotCase, Run

    started, t0 = timezone.now(), time.monotonic()
    params = Params.from_settings(window_days=days)
    as_of = as_of or as_of_for(None)
    docs = load_docs(as_of, params)
    clusters = cluster_docs(docs, as_of=as_of, params=params, places=text.place_pattern(text.place_names()))
    regions = {r.pk: r for r in Region.objects.filter(pk__in={c.village or c.town for c in clusters} - {None}).select_related("parent")}
    tops = dict(Category.objects.filter(level=1).values_list("full_name", "pk"))
    with transaction.atomic():
        run = Run.objects.create(as_of=as_of, window_days=params.window_days, started_at=started, case_count=len(docs),
                                 cluster_count=len(clusters), alert_count=sum(c.alert for c in clusters), params=asdict(params))
        for c in clusters:
            region = regions.get(c.village or c.town)
            h = Hotspot.objects.create(
                run=run, label=c.label[:100], words=c.words, region=region, town_id=c.town,
                place=_place_name(region), category_id=c.category_id, top_category_id=tops.get(c.category_path.split("/")[0]),
                count=c.count, prev_count=c.prev_count, growth=c.growth, first_seen=c.first_seen, last_seen=c.last_seen,
                recent_count=c.recent, expected=round(c.expected, 2), alert=c.alert, daily=c.daily)
            current = {d.id for d in c.current}
            HotspotCase.objects.bulk_create([HotspotCase(hotspot=h, case_id=d.id, current=d.id in current) for d in c.members])
        run.seconds = round(time.monotonic() - t0, 3)
        run.save(update_fields=["seconds"])
        old = list(Run.objects.order_by("-as_of", "-id").values_list("pk", flat=True)[KEEP_RUNS:])
        if old:
            Run.objects.filter(pk__in=old).delete()
    return run


def _place_name(region) -> str:
    if region is None:
        return "未定位"
    from tongban.core.models import Level

    if region.level == Level.VILLAGE and region.parent is not None:
        return f"{region.parent.name}{region.name}"
    return region.name
