"""知识检索: rjieba tokens, synonym expansion, DB candidate retrieval, BM25 ranking in Python.

* Tokens: `rjieba.cut_for_search` on a private Jieba instance (the dispatch classifier's global one is
  untouched) whose user dictionary holds taxonomy names, article keywords and synonym terms; words of
  four characters or more also yield the dictionary words inside them (城镇职工社会保险 → 社会保险).
* Index: `ArticleIndex` keeps the token lists per field; `Term` keeps document frequencies and the
  totals. The database only retrieves candidates (FTS5 MATCH on SQLite, `tsv @@ tsquery` with the
  `simple` configuration on PostgreSQL) using the rarest query tokens, an exact set that does not
  depend on the database's own ranking. The final score is BM25F computed here (title ×3, questions
  and keywords ×2, answer ×1), ties broken by id — identical on both databases.
"""
from __future__ import annotations

import math
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import rjieba
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from tongban.core import clock

from .models import Article, ArticleIndex, Status, Synonym, Term

TOKEN_RE = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]+")
STOPWORDS = frozenset(
    "的 了 吗 呢 吧 啊 呀 么 我 你 他 她 我们 想 要 需要 请问 请 问 一下 怎么 怎么办 怎样 怎么样 如何 什么 哪里 哪儿 哪些 "
    "哪个 在 是 有 没有 可以 能 能不能 可不可以 会 和 与 及 或 还 就 都 也 把 被 给 让 去 到 办 搞 弄 个 这 那 这个 那个 "
    "一个 多少 多久 几 啥 咋 咋办 应该 为什么 如果 已经 现在 知道 告诉 咨询 问问 麻烦 谢谢 您好 你好 情况 时候 后 吗".split()
)
FIELD_WEIGHTS = (3.0, 2.0, 1.0)  # title, questions+keywords, answer
K1, B = 1.2, 0.6
EXACT_POOL = 1500  # up to this many postings, every matching article is scored (identical on both databases)
CANDIDATES = 100  # beyond it, the database's own ranking (bm25 / ts_rank) picks this many candidates
RETRIEVE_POOL = 1200  # ... from the postings of the rarest query tokens, up to about this many
DOCS, LENGTH = "#docs", "#len"

_lock = threading.Lock()
_jieba = None
_synonyms: dict[str, frozenset[str]] | None = None


# ---------------------------------------------------------------- tokenizer

def _add_words(j, words) -> None:
    for w in words:
        w = w.strip().lower()
        if len(w) >= 2 and TOKEN_RE.fullmatch(w) and not j.has_word(w):
            j.add_word(w, 20000, None)


def _tokenizer():
    global _jieba
    if _jieba is None:
        with _lock:
            if _jieba is None:
                from tongban.cases.models import Category

                j = rjieba.Jieba()
                _add_words(j, Category.objects.values_list("name", flat=True))
                for s in Synonym.objects.filter(active=True):
                    _add_words(j, s.term_list)
                for kw in Article.objects.exclude(keywords="").values_list("keywords", flat=True).iterator():
                    _add_words(j, re.split(r"[,，、;；\s]+", kw))
                _jieba = j
    return _jieba


def add_words(words) -> None:
    """Teach the tokenizer new words (article keywords, synonym terms)."""
    with _lock:
        if _jieba is not None:
            _add_words(_jieba, words)


def reset() -> None:
    """Forget the tokenizer and synonym cache (tests, after bulk synonym edits)."""
    global _jieba, _synonyms
    with _lock:
        _jieba = None
        _synonyms = None


def tokenize(text: str) -> list[str]:
    """rjieba search-mode tokens, plus every dictionary word rjieba's full mode finds that search mode
    split across tokens (路灯不亮 → 路 / 灯不亮 in search mode; full mode adds 路灯, 不亮)."""
    j = _tokenizer()
    text = (text or "").lower()
    out = [t for t in j.cut_for_search(text) if TOKEN_RE.fullmatch(t) and t not in STOPWORDS and len(t) <= 64]
    have = Counter(out)
    full = Counter(w for w in j.cut_all(text) if len(w) >= 2 and w not in STOPWORDS and len(w) <= 64 and TOKEN_RE.fullmatch(w))
    for w, c in full.items():
        if c > have[w]:
            out.extend([w] * (c - have[w]))
    return out


def synonyms() -> dict[str, frozenset[str]]:
    global _synonyms
    if _synonyms is None:
        groups: dict[str, set[str]] = {}
        for s in Synonym.objects.filter(active=True).order_by("id"):
            terms = set(s.term_list)
            for t in list(terms):
                terms |= groups.get(t, set())
            for t in terms:
                groups[t] = terms
        _synonyms = {t: frozenset(g) for t, g in groups.items()}
    return _synonyms


def invalidate_synonyms(words=()) -> None:
    global _synonyms
    _synonyms = None
    add_words(words)


# ---------------------------------------------------------------- index maintenance

def _fields(article: Article) -> tuple[list[str], list[str], list[str]]:
    cat = article.category.name if article.category_id and article.category else ""
    return (tokenize(article.title), tokenize(" ".join([article.questions, article.keywords, cat])),
            tokenize(article.answer))


def _row(article: Article) -> ArticleIndex:
    t, q, b = _fields(article)
    return ArticleIndex(article_id=article.pk, status=article.status, valid_from=article.valid_from, valid_to=article.valid_to,
                        title_tokens=" ".join(t), question_tokens=" ".join(q), body_tokens=" ".join(b),
                        tokens=" ".join([*t, *t, *q, *b]), length=len(t) + len(q) + len(b))


def _bump(counts: dict[str, int]) -> None:
    for delta in set(counts.values()):
        tokens = [t for t, d in counts.items() if d == delta]
        for i in range(0, len(tokens), 500):
            chunk = tokens[i:i + 500]
            existing = set(Term.objects.filter(token__in=chunk).values_list("token", flat=True))
            Term.objects.filter(token__in=existing).update(df=F("df") + delta)
            Term.objects.bulk_create([Term(token=t, df=delta) for t in chunk if t not in existing], ignore_conflicts=True)


def index_article(article: Article) -> None:
    """Bring the index row and the term statistics in step with `article` (call after each save)."""
    add_words(article.keyword_list)
    row = _row(article)
    with transaction.atomic():
        old = ArticleIndex.objects.filter(pk=article.pk).first()
        old_set = set(old.tokens.split()) if old else set()
        new_set = set(row.tokens.split())
        counts = {t: 1 for t in new_set - old_set}
        counts.update({t: -1 for t in old_set - new_set})
        counts[LENGTH] = row.length - (old.length if old else 0)
        if not old:
            counts[DOCS] = 1
        row.save()
        _bump({t: d for t, d in counts.items() if d})


def unindex_article(article_id: int) -> None:
    with transaction.atomic():
        old = ArticleIndex.objects.filter(pk=article_id).first()
        if old:
            counts = {t: -1 for t in set(old.tokens.split())}
            counts[DOCS], counts[LENGTH] = -1, -old.length
            old.delete()
            _bump({t: d for t, d in counts.items() if d})


def reindex_containing(terms) -> int:
    """Re-tokenise the articles that mention any of `terms` (after they became dictionary words)."""
    from django.db.models import Q

    cond = Q()
    for t in terms:
        cond |= Q(title__icontains=t) | Q(questions__icontains=t) | Q(answer__icontains=t) | Q(keywords__icontains=t)
    n = 0
    if cond:
        for a in Article.objects.filter(cond).select_related("category"):
            index_article(a)
            n += 1
    return n


def rebuild_index(batch: int = 2000) -> int:
    """Recompute the whole index (bulk loads, benchmark, after changing the tokenizer)."""
    reset()
    df: Counter = Counter()
    total = n = 0
    with transaction.atomic():
        ArticleIndex.objects.all().delete()
        Term.objects.all().delete()
        rows = []
        for a in Article.objects.select_related("category").order_by("pk").iterator(chunk_size=batch):
            row = _row(a)
            df.update(row.tokens.split())
            total += row.length
            n += 1
            rows.append(row)
            if len(rows) >= batch:
                ArticleIndex.objects.bulk_create(rows)
                rows = []
        ArticleIndex.objects.bulk_create(rows)
        df[DOCS], df[LENGTH] = n, total
        Term.objects.bulk_create([Term(token=t, df=c) for t, c in df.items()], batch_size=2000)
    return n


# ---------------------------------------------------------------- search

@dataclass
class Hit:
    article: Article
    score: float
    snippet: str = ""
    title_html: str = ""
    terms: list[str] = field(default_factory=list)


def query_concepts(q: str) -> list[frozenset[str]]:
    """Query tokens, each widened to its synonym group; duplicates merged, order kept."""
    syn = synonyms()
    seen, out = set(), []
    for t in tokenize(q):
        group = syn.get(t, frozenset([t]))
        if group not in seen:
            seen.add(group)
            out.append(group)
    return out


def _candidates(tokens: list[str], public: bool, statuses, today: date, limit: int | None) -> list[tuple]:
    params: list = []
    where = []
    if public:
        where.append("i.status = %s AND (i.valid_from IS NULL OR i.valid_from <= %s) AND (i.valid_to IS NULL OR i.valid_to >= %s)")
        params += [Status.PUBLISHED, today, today]
    elif statuses:
        where.append("i.status IN (%s)" % ", ".join(["%s"] * len(statuses)))
        params += list(statuses)
    extra = (" AND " + " AND ".join(where)) if where else ""
    cols = "i.article_id, i.title_tokens, i.question_tokens, i.body_tokens, i.length"
    if connection.vendor == "postgresql":
        match = " | ".join(f"'{t}'" for t in tokens)
        if limit:
            sql = (f"SELECT {cols} FROM knowledge_articleindex i, to_tsquery('simple', %s) q WHERE i.tsv @@ q{extra} "
                   f"ORDER BY ts_rank(i.tsv, q) DESC, i.article_id LIMIT {int(limit)}")
        else:
            sql = f"SELECT {cols} FROM knowledge_articleindex i WHERE i.tsv @@ to_tsquery('simple', %s){extra}"
    else:
        match = " OR ".join(f'"{t}"' for t in tokens)
        sql = (f"SELECT {cols} FROM knowledge_fts f JOIN knowledge_articleindex i ON i.article_id = f.rowid "
               f"WHERE knowledge_fts MATCH %s{extra}")
        if limit:
            sql += f" ORDER BY bm25(knowledge_fts), f.rowid LIMIT {int(limit)}"
    with connection.cursor() as cur:
        cur.execute(sql, [match, *params])
        return cur.fetchall()


def rank(q: str, *, public: bool = True, statuses=None, limit: int = 10) -> list[tuple[int, float, list[str]]]:
    """[(article id, score, matched tokens)] best first. public: published and valid today only;
    otherwise `statuses` (None = every status).

    When the query's tokens occur in at most EXACT_POOL index rows, every matching article is scored
    here, so both databases return exactly the same list. Beyond that (large knowledge bases, common
    words) the database's own ranking picks the CANDIDATES best to re-score; the order among them is
    still ours, but the candidate set may differ slightly between SQLite and PostgreSQL."""
    concepts = query_concepts(q)
    if not concepts:
        return []
    all_tokens = sorted({t for c in concepts for t in c})
    stats = dict(Term.objects.filter(token__in=[*all_tokens, DOCS, LENGTH]).values_list("token", "df"))
    n, total = stats.get(DOCS, 0), stats.get(LENGTH, 0)
    present = [t for t in all_tokens if stats.get(t, 0) > 0]
    if not n or not present:
        return []
    pool = sum(stats[t] for t in present)
    if pool > EXACT_POOL:  # ask the database only about the rarest tokens (common ones still count below)
        retrieval, acc = [], 0
        for t in sorted(present, key=lambda t: (stats[t], t)):
            if retrieval and acc + stats[t] > RETRIEVE_POOL:
                break
            retrieval.append(t)
            acc += stats[t]
        present = retrieval
    today = timezone.localtime(clock.now()).date()
    rows = _candidates(present, public, statuses, today, None if pool <= EXACT_POOL else max(CANDIDATES, limit))
    avg = total / n
    weights = []
    for c in concepts:
        df = max(stats.get(t, 0) for t in c)
        weights.append(math.log(1 + (n - df + 0.5) / (df + 0.5)) if df else 0.0)
    scored = []
    for aid, tt, qt, bt, length in rows:
        fields = [Counter(tt.split()), Counter(qt.split()), Counter(bt.split())]
        norm = K1 * (1 - B + B * (length or 1) / avg)
        score, matched = 0.0, []
        for c, idf in zip(concepts, weights):
            if not idf:
                continue
            tf = 0.0
            for w, counts in zip(FIELD_WEIGHTS, fields):
                for t in c:
                    if t in counts:
                        tf += w * counts[t]
                        matched.append(t)
            if tf:
                score += idf * tf * (K1 + 1) / (tf + norm)
        if score > 0:
            scored.append((aid, round(score, 9), sorted(set(matched))))
    scored.sort(key=lambda x: (-x[1], x[0]))
    return scored[:limit]


def search(q: str, *, public: bool = True, statuses=None, limit: int = 10, region=None) -> list[Hit]:
    """Best articles for `q`. With `region`, articles written for another place are left out
    (those for the region itself, a place above it, or no particular place remain)."""
    ranked = rank(q, public=public, statuses=statuses, limit=limit if region is None else limit * 4)
    arts = Article.objects.select_related("category", "owner").in_bulk([r[0] for r in ranked])
    places = None if region is None else _self_and_above(region)
    hits = []
    for aid, score, matched in ranked:
        a = arts.get(aid)
        if a is None or (places is not None and a.region_id is not None and a.region_id not in places):
            continue
        if len(hits) == limit:
            break
        terms = sorted({*matched}, key=len, reverse=True)
        hits.append(Hit(a, score, snippet(a.answer, terms) or snippet(a.questions, terms), highlight(a.title, terms), terms))
    return hits


def _self_and_above(region) -> set[int]:
    ids, node = set(), region
    while node is not None:
        ids.add(node.pk)
        node = node.parent
    return ids


# ---------------------------------------------------------------- snippets

def _pattern(terms):
    terms = sorted({t for t in terms if t}, key=len, reverse=True)
    return re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE) if terms else None


def highlight(text: str, terms) -> str:
    """`text` HTML-escaped, with <mark> around every occurrence of `terms`."""
    pat = _pattern(terms)
    if pat is None:
        return mark_safe(escape(text))
    spans: list[list[int]] = []
    for m in pat.finditer(text):
        if spans and m.start() <= spans[-1][1]:  # adjacent matches form one mark: <mark>路灯</mark>
            spans[-1][1] = max(spans[-1][1], m.end())
        else:
            spans.append([m.start(), m.end()])
    out, pos = [], 0
    for start, end in spans:
        out.append(escape(text[pos:start]))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        pos = end
    out.append(escape(text[pos:]))
    return mark_safe("".join(out))


def snippet(text: str, terms, width: int = 110) -> str:
    """About `width` characters of `text` around the first matched term, highlighted."""
    text = re.sub(r"\s+", " ", text or "").strip()
    if not text:
        return ""
    pat = _pattern(terms)
    m = pat.search(text) if pat else None
    if m is None:
        return "" if terms else mark_safe(escape(text[:width]) + ("…" if len(text) > width else ""))
    start = max(0, m.start() - 25)
    end = min(len(text), start + width)
    body = highlight(text[start:end], terms)
    return mark_safe(("…" if start else "") + body + ("…" if end < len(text) else ""))
