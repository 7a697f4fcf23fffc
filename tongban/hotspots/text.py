"""Text features shared by duplicate detection (重复件) and hotspot clustering (热点).

A request becomes a bag of features: rjieba words (two characters or more, stopwords dropped) and
character bigrams of its Chinese runs (robust to segmentation differences between paraphrases:
"停水了" / "没有水" still share little, but "水压很低" / "水压低" share a lot). Place names of the
org tree and digits are removed first: where a request is counts through its region, not through
its words, so two different problems in the same village do not look alike because both name it.

TF-IDF with sublinear tf and smooth idf (the maths of sklearn's TfidfVectorizer), rows of unit
length, so a dot product is the cosine similarity.
"""
from __future__ import annotations

import re
import threading
from collections import Counter
from functools import lru_cache
from typing import Sequence

import numpy as np
import rjieba
import scipy.sparse as sp

CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
WORD = re.compile(r"[a-z\u3400-\u4dbf\u4e00-\u9fff][0-9a-z\u3400-\u4dbf\u4e00-\u9fff]*")
DIGITS = re.compile(r"[0-9０-９]+")
STOPWORDS = frozenset(
    "我们 你们 他们 这个 那个 一个 什么 怎么 怎么办 如何 为什么 请问 希望 要求 请求 反映 相关 部门 有关 尽快 处理 "
    "解决 问题 情况 现在 目前 已经 没有 可以 能够 不能 还是 但是 而且 并且 因为 所以 如果 这样 那样 时候 之前 以后 "
    "我家 本人 居民 群众 市民 附近 一直 多次 至今 今天 昨天 每天 经常 非常 严重 影响 进行 已经 还有 一下 一些 这些 "
    "那些 这里 那里 自己 大家 谢谢 您好 你好 麻烦 帮忙 问问 咨询 政府 领导".split()
)
HEAD_CHARS = 400  # the gist is at the start; long letters would only dilute the similarity
BIGRAM_PREFIX = "\u0001"  # keeps bigram features apart from two-character words
STOP_BIGRAMS = frozenset({"尽快", "处理", "希望", "问题", "解决", "反映", "部门", "相关", "有关", "没有", "已经", "目前",
                          "现在", "我们", "居民", "附近", "一直", "多次", "严重", "影响", "请求", "要求"})

_lock = threading.Lock()
_jieba = None


def _tokenizer():
    global _jieba
    if _jieba is None:
        with _lock:
            if _jieba is None:
                _jieba = rjieba.Jieba()
    return _jieba


@lru_cache(maxsize=8)
def place_pattern(names: tuple[str, ...]) -> re.Pattern | None:
    """One regex for all place names, longest first (湖滨社区 before 湖滨)."""
    names = tuple(sorted({n for n in names if len(n) >= 2}, key=lambda n: (-len(n), n)))
    return re.compile("|".join(map(re.escape, names))) if names else None


@lru_cache(maxsize=1)
def place_names() -> tuple[str, ...]:
    """The org tree's place names in full and short form (青溪街道, 青溪), from the database."""
    from tongban.core.models import Region
    from tongban.core.places import aliases

    return tuple(sorted({alias for name in Region.objects.values_list("name", flat=True) for alias, _ in aliases(name)}))


def clean(text: str, places: re.Pattern | None = None) -> str:
    text = (text or "").lower()
    if places is not None:
        text = places.sub(" ", text)
    return DIGITS.sub(" ", text)


def words(cleaned: str) -> list[str]:
    return [w for w in _tokenizer().cut(cleaned) if len(w) >= 2 and WORD.fullmatch(w) and w not in STOPWORDS]


def features(text: str, places: re.Pattern | None = None) -> Counter:
    """Word and character-bigram counts of one request text (title + the start of the content)."""
    cleaned = clean(text[: HEAD_CHARS + 200], places)
    bag = Counter(words(cleaned))
    for run in CJK_RUN.findall(cleaned):
        for i in range(len(run) - 1):
            gram = run[i:i + 2]
            if gram not in STOP_BIGRAMS:
                bag[BIGRAM_PREFIX + gram] += 1
    return bag


def is_word(feature: str) -> bool:
    return not feature.startswith(BIGRAM_PREFIX)


class Vocabulary:
    """Feature → column. One per clustering run; one per process for the duplicate lookup (it only grows)."""

    def __init__(self):
        self.index: dict[str, int] = {}
        self.terms: list[str] = []

    def encode(self, bag: Counter) -> tuple[np.ndarray, np.ndarray]:
        """Column ids and sublinear term frequencies (1 + log count) of one bag."""
        ids = np.empty(len(bag), dtype=np.int64)
        for k, feature in enumerate(bag):
            col = self.index.get(feature)
            if col is None:
                col = self.index[feature] = len(self.terms)
                self.terms.append(feature)
            ids[k] = col
        return ids, 1.0 + np.log(np.fromiter(bag.values(), dtype=float, count=len(bag)))


class Tfidf:
    """TF-IDF rows of unit length for encoded bags, idf fitted on those same bags (vectorised: no
    Python loop over features, so a pool of a few hundred long texts takes milliseconds)."""

    def __init__(self, encoded: Sequence[tuple[np.ndarray, np.ndarray]], vocabulary: Vocabulary):
        self.vocabulary = vocabulary
        width = len(vocabulary.terms)
        lengths = np.fromiter((len(ids) for ids, _ in encoded), dtype=np.int64, count=len(encoded))
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        indices = np.concatenate([ids for ids, _ in encoded]) if encoded else np.empty(0, dtype=np.int64)
        tf = np.concatenate([t for _, t in encoded]) if encoded else np.empty(0)
        df = np.bincount(indices, minlength=width)
        self.idf = np.log((1 + len(encoded)) / (1 + df)) + 1.0
        weights = tf * self.idf[indices]
        row_of = np.repeat(np.arange(len(encoded)), lengths)
        norms = np.sqrt(np.bincount(row_of, weights=weights ** 2, minlength=len(encoded)))
        norms[norms == 0] = 1.0
        weights = weights / norms[row_of]
        self.rows = sp.csr_matrix((weights, indices, indptr), shape=(len(encoded), width))

    @property
    def terms(self) -> list[str]:
        return self.vocabulary.terms

    def idf_of(self, feature: str) -> float:
        col = self.vocabulary.index.get(feature)
        return float(self.idf[col]) if col is not None and col < len(self.idf) else 0.0
