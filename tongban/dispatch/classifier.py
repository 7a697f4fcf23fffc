"""First-level category classifier for citizen messages (智能派单, part 1).

A small, CPU-only linear model built for what a hotline actually has: a few hundred labelled
messages and a published category system (taxonomy.csv). Features:

* TF-IDF of rjieba words and of character 1–3-grams, once over title + detail and once over the
  title alone (the citizen's own summary, so it counts twice); each block has unit L2 norm;
* taxonomy knowledge: how often the terms of each level-1 category and level-2 node of the
  taxonomy occur in the title and in the whole text (exact level-2/level-3 names, and at a lower
  weight their rjieba sub-words: 城镇职工社会保险 → 城镇职工, 社会保险), and the character-bigram
  cosine similarity of title and text to each level-2 node. These point at taxonomy categories,
  not at our labels, so the model learns the mapping: the identity where the level-1 names are
  equal (卫生计生 → 卫生计生), something else where they are not (政法/交通管理 → 交通运输).

The classifier is a class-balanced one-vs-rest ridge classifier (sklearn's RidgeClassifier,
solved here in dual form: ~200 rows against ~100 000 features). Confidence is a softmax over its
scores with one temperature fitted on out-of-fold scores of the training data, so it never
changes the label. Reasons are the words of the message that pushed the predicted class up most.

Featurisation is hand-rolled (the maths of sklearn's TfidfVectorizer with sublinear_tf and
smooth_idf) because sklearn's per-call overhead alone is ~20 ms; a prediction here takes ~2 ms.
"""
from __future__ import annotations

import csv
import math
import pickle
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import rjieba
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from sklearn.model_selection import StratifiedKFold

DATA_DIR = Path(__file__).resolve().parent / "data"
TAXONOMY_PATH = DATA_DIR / "taxonomy.csv"
FORMAT_VERSION = 1
TOP_K = 3
N_REASONS = 5

# Sub-words too generic to point anywhere (管理, 问题 … occur under every level-1 category).
GENERIC_SUBWORDS = frozenset("管理 其他 问题 建设 工作 政策 服务 事务 发展 规划 监管 处理 保护 市场 人员 待遇".split())
STOPWORDS = frozenset("的 了 是 在 我 我们 和 也 都 就 有 不 您 你 好 请 对 被 为 与 及 这 那 一个".split())
_PLACE_CODE = re.compile(r"[A-Z]\d*(?:市|区|县)")  # anonymised place names: A市, A3区, K8县
_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Settings:
    """Hyper-parameters, fixed in code (never chosen on a test fold; see docs/dispatch.md)."""

    alpha: float = 1.0  # ridge penalty
    term_weight: float = 0.3  # exact taxonomy-term hits, relative to a unit-norm TF-IDF block
    subword_weight: float = 0.2  # hits of the rjieba sub-words of taxonomy terms
    similarity_weight: float = 1.0  # char-bigram cosine similarity to level-2 nodes
    min_df: int = 1  # tokens in fewer training messages are dropped (2 keeps routing models small)


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float  # probability of `label`, in [0, 1]
    top_k: list[tuple[str, float]]  # best first
    reasons: list[str] = field(default_factory=list)  # words of the message that drove it


def clean(text: str) -> str:
    """Normalise a message field: Excel line-break artefacts, anonymised places and numbers go."""
    text = (text or "").replace("_x000D_", " ")
    text = _PLACE_CODE.sub(" ", text)
    text = _DIGITS.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def words(text: str) -> list[str]:
    return [w for w in rjieba.cut(text) if w.strip() and w not in STOPWORDS]


def char_ngrams(text: str, lo: int = 1, hi: int = 3) -> list[str]:
    """Character n-grams that do not span a gap (the text is already cleaned)."""
    grams: list[str] = []
    for piece in text.split():
        for n in range(lo, hi + 1):
            grams += [piece[i : i + n] for i in range(len(piece) - n + 1)]
    return grams


class TfidfBlock:
    """TF-IDF over token lists with sublinear tf, smooth idf and unit L2 norm."""

    def fit(self, docs: Sequence[Counter], min_df: int = 1) -> "TfidfBlock":
        df = Counter(t for doc in docs for t in doc)
        if min_df > 1:
            df = Counter({t: n for t, n in df.items() if n >= min_df})
        self.names = sorted(df)
        self.index = {t: i for i, t in enumerate(self.names)}
        self.idf = np.array([math.log((1 + len(docs)) / (1 + df[t])) + 1 for t in self.names])
        return self

    def __len__(self) -> int:
        return len(self.names)

    def __getstate__(self):  # the index is rebuilt on load: smaller, faster files
        return {"names": self.names, "idf": self.idf}

    def __setstate__(self, state):
        self.names, self.idf = state["names"], state["idf"]
        self.index = {t: i for i, t in enumerate(self.names)}

    def transform(self, tokens: Counter) -> tuple[np.ndarray, np.ndarray]:
        get = self.index.get
        counts = [(i, n) for t, n in tokens.items() if (i := get(t)) is not None]
        if not counts:
            return np.empty(0, dtype=np.int64), np.empty(0)
        idx = np.array([i for i, _ in counts], dtype=np.int64)
        vals = (1 + np.log(np.array([n for _, n in counts], dtype=float))) * self.idf[idx]
        return idx, vals / np.linalg.norm(vals)


# --- taxonomy as prior knowledge ------------------------------------------------------------


class Taxonomy:
    """Terms of taxonomy.csv, the (level-1 category, level-2 node) each one points at, and a
    one-pass counter of their occurrences in a text."""

    def __init__(self, rows: Sequence[dict]):
        self.level1 = sorted({r["level1"] for r in rows})
        leaves: dict[tuple[str, str], list[str]] = defaultdict(list)
        for r in rows:
            if r["level2"] != "其他":  # a catch-all node carries no knowledge
                leaves[(r["level1"], r["level2"])].append(r["level3"])
        self.nodes = sorted(leaves)
        # Exact names: level-1 (pointing at its category only), level-2 and level-3 (≥ 2 characters).
        owners: dict[str, set] = defaultdict(set)
        for l1 in self.level1:
            owners[l1].add((l1, None))
        for node, l3s in leaves.items():
            for term in [node[1], *l3s]:
                if term != "其他" and len(term) >= 2:
                    owners[term].add(node)
        sub_owners: dict[str, set] = defaultdict(set)  # their rjieba sub-words
        for term, where in owners.items():
            for w in rjieba.cut(term):
                if len(w) >= 2 and w != term and w not in GENERIC_SUBWORDS:
                    sub_owners[w] |= where
        # term → its positions in a hits vector laid out as [level-1 categories | level-2 nodes]
        self.terms = {t: self._targets(owners[t]) for t in sorted(owners)}
        self.subwords = {t: self._targets(sub_owners[t]) for t in sorted(sub_owners)}
        self.width = len(self.level1) + len(self.nodes)
        self._by_prefix: dict[str, list[str]] = defaultdict(list)  # first two characters → terms
        for t in set(self.terms) | set(self.subwords):
            self._by_prefix[t[:2]].append(t)
        # One short document per level-2 node, for the similarity features.
        self.node_docs = [" ".join([l2, *(w for w in leaves[(l1, l2)] if w != "其他")]) for l1, l2 in self.nodes]

    @classmethod
    def from_csv(cls, path: Path | str = TAXONOMY_PATH) -> "Taxonomy":
        with open(path, encoding="utf-8-sig", newline="") as f:
            return cls(list(csv.DictReader(f)))

    def _targets(self, nodes) -> list[int]:
        l1 = sorted({n[0] for n in nodes})
        l2 = sorted(n for n in nodes if n[1] is not None)
        return [self.level1.index(x) for x in l1] + [len(self.level1) + self.nodes.index(n) for n in l2]

    def count(self, text: str) -> Counter:
        """Occurrences of every taxonomy term and sub-word in `text`."""
        found: Counter = Counter()
        for i in range(len(text) - 1):
            for t in self._by_prefix.get(text[i : i + 2], ()):
                if text.startswith(t, i):
                    found[t] += 1
        return found

    def hits(self, found: Counter) -> tuple[np.ndarray, np.ndarray]:
        """log(1 + occurrences) per level-1 category and level-2 node, for exact terms and for
        sub-words separately."""
        exact, sub = np.zeros(self.width), np.zeros(self.width)
        for t, n in found.items():
            if t in self.terms:
                exact[self.terms[t]] += n
            if t in self.subwords:
                sub[self.subwords[t]] += n
        return np.log1p(exact), np.log1p(sub)


# --- the model --------------------------------------------------------------------------------

BLOCKS = ("text_words", "text_chars", "title_words", "title_chars")


def _as_pair(record) -> tuple[str, str]:
    if isinstance(record, dict):
        return record.get("title") or "", record.get("detail") or ""
    if isinstance(record, (tuple, list)):
        return record[0] or "", record[1] or ""
    return getattr(record, "title", "") or "", getattr(record, "detail", "") or ""


class Analysed:
    """One message analysed once (cleaned texts, tokens, taxonomy term counts): nothing here
    depends on training, so cross-validation can analyse every message a single time."""

    def __init__(self, record, taxonomy: Taxonomy):
        title, detail = _as_pair(record)
        self.title = clean(title)
        self.text = clean(f"{title} {detail}")
        self.tokens = {  # token → count
            "text_words": Counter(words(self.text)),
            "text_chars": Counter(char_ngrams(self.text)),
            "title_words": Counter(words(self.title)),
            "title_chars": Counter(char_ngrams(self.title)),
        }
        self.title_terms = taxonomy.count(self.title)
        self.text_terms = taxonomy.count(self.text)


class CategoryModel:
    """fit(records, labels) → predict(title, detail) → Prediction.

    Records are (title, detail) pairs, dicts or objects with .title and .detail (or the output
    of `analyse`)."""

    def __init__(self, settings: Settings = Settings(), taxonomy_path: Path | str = TAXONOMY_PATH):
        self.settings = settings
        self.taxonomy = Taxonomy.from_csv(taxonomy_path)
        self.classes_: list[str] = []
        self.meta: dict = {}

    def analyse(self, records: Iterable) -> list[Analysed]:
        return [r if isinstance(r, Analysed) else Analysed(r, self.taxonomy) for r in records]

    # -- features --

    def _vector(self, m: Analysed) -> tuple[np.ndarray, np.ndarray]:
        """Sparse feature vector (indices, values) of one message."""
        s = self.settings
        idx, vals, offset = [], [], 0
        for name in BLOCKS:
            i, v = self._blocks[name].transform(m.tokens[name])
            idx.append(i + offset)
            vals.append(v)
            offset += len(self._blocks[name])
        dense = []  # taxonomy block, per view (title, text): [exact hits | sub-word hits | sims]
        for view in ("title", "text"):
            exact, sub = self.taxonomy.hits(m.title_terms if view == "title" else m.text_terms)
            i, v = self._node_bigrams.transform(m.tokens[f"{view}_chars"])  # its bigrams only
            sims = self._node_matrix[:, i] @ v if len(i) else np.zeros(len(self.taxonomy.nodes))
            dense += [s.term_weight * exact, s.subword_weight * sub, s.similarity_weight * sims]
        dense.append(np.ones(1))  # constant feature: the intercept
        dense = np.concatenate(dense)
        nz = np.flatnonzero(dense)
        idx.append(nz + offset)
        vals.append(dense[nz])
        return np.concatenate(idx), np.concatenate(vals)

    def _matrix(self, messages: Sequence[Analysed]) -> sp.csr_matrix:
        rows = [self._vector(m) for m in messages]
        indptr = np.cumsum([0] + [len(i) for i, _ in rows])
        indices = np.concatenate([i for i, _ in rows])
        data = np.concatenate([v for _, v in rows])
        return sp.csr_matrix((data, indices, indptr), shape=(len(rows), self.n_features_))

    # -- training --

    def fit(self, records: Sequence, labels: Sequence[str]) -> "CategoryModel":
        labels = [str(x) for x in labels]
        if len(records) != len(labels):
            raise ValueError("records and labels differ in length")
        if len(set(labels)) < 2:
            raise ValueError("need at least two categories to train")
        messages = self.analyse(records)
        self._blocks = {name: TfidfBlock().fit([m.tokens[name] for m in messages], self.settings.min_df) for name in BLOCKS}
        self._feature_names = [t for name in BLOCKS for t in self._blocks[name].names]
        self.n_text_features_ = len(self._feature_names)
        # Similarity space: char bigrams weighted by IDF over the taxonomy's nodes alone.
        node_docs = [Counter(char_ngrams(d, 2, 2)) for d in self.taxonomy.node_docs]
        self._node_bigrams = TfidfBlock().fit(node_docs)
        self._node_matrix = np.zeros((len(node_docs), len(self._node_bigrams)))
        for row, doc in enumerate(node_docs):
            i, v = self._node_bigrams.transform(doc)
            self._node_matrix[row, i] = v
        n_taxonomy = 2 * (2 * self.taxonomy.width + len(self.taxonomy.nodes))
        self.n_features_ = self.n_text_features_ + n_taxonomy + 1

        X = self._matrix(messages)
        self.classes_ = sorted(set(labels))
        y = np.searchsorted(self.classes_, labels)
        K = (X @ X.T).toarray()  # Gram matrix, n × n
        self._coef = np.asarray((X.T @ _ridge_dual(K, y, len(self.classes_), self.settings.alpha)).T)
        self.temperature_ = self._fit_temperature(K, y)
        self.meta = {
            "format": FORMAT_VERSION,
            "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "n_samples": len(labels),
            "classes": self.classes_,
            "settings": self.settings,
        }
        return self

    def _fit_temperature(self, K: np.ndarray, y: np.ndarray) -> float:
        """Softmax temperature minimising the log-loss of out-of-fold ridge scores."""
        folds = min(5, int(np.bincount(y).min()))
        if folds < 2:
            return 0.2  # some class has a single example: nothing to cross-validate; a sane default
        scores = np.zeros((len(y), len(self.classes_)))
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(K, y):
            dual = _ridge_dual(K[np.ix_(train, train)], y[train], len(self.classes_), self.settings.alpha)
            scores[test] = K[np.ix_(test, train)] @ dual

        def log_loss(log_t: float) -> float:
            p = _softmax(scores / math.exp(log_t))
            return -float(np.mean(np.log(p[np.arange(len(y)), y] + 1e-12)))

        return math.exp(minimize_scalar(log_loss, bounds=(-6, 3), method="bounded").x)

    # -- prediction --

    def predict(self, title: str, detail: str = "") -> Prediction:
        return self.predict_many([(title, detail)])[0]

    def predict_many(self, records: Iterable) -> list[Prediction]:
        if not self.classes_:
            raise RuntimeError("model is not trained")
        out = []
        for m in self.analyse(records):
            idx, vals = self._vector(m)
            p = _softmax((self._coef[:, idx] @ vals)[None, :] / self.temperature_)[0]
            order = np.argsort(-p, kind="stable")
            best = int(order[0])
            out.append(
                Prediction(
                    label=self.classes_[best],
                    confidence=float(p[best]),
                    top_k=[(self.classes_[j], float(p[j])) for j in order[:TOP_K]],
                    reasons=self._reasons(m, idx, vals, best),
                )
            )
        return out

    def _reasons(self, m: Analysed, idx: np.ndarray, vals: np.ndarray, cls: int) -> list[str]:
        """Words of the message with the largest positive contribution (coefficient × value) to
        the predicted class. A character n-gram credits the message's words that contain it, a
        taxonomy feature the taxonomy terms behind it, so every reason is a whole word."""
        contrib = self._coef[cls, idx] * vals
        contrib[idx == self.n_features_ - 1] = 0  # the intercept explains nothing
        top = np.argsort(-contrib)[: 8 * N_REASONS]  # enough to fill N_REASONS after merging
        message_words = [w for w in m.tokens["text_words"].keys() | m.tokens["title_words"].keys() if w.isalnum()]
        credit: dict[str, float] = defaultdict(float)
        width = self.taxonomy.width
        for j, c in zip(idx[top].tolist(), contrib[top].tolist()):
            if c <= 0:
                break
            if j < self.n_text_features_:
                name = self._feature_names[j]
                behind = [name] if name in message_words else [w for w in message_words if name in w]
            else:
                view, k = divmod(j - self.n_text_features_, 2 * width + len(self.taxonomy.nodes))
                if k >= 2 * width:
                    continue  # a similarity feature has no single word behind it
                table = self.taxonomy.terms if k < width else self.taxonomy.subwords
                found = m.title_terms if view == 0 else m.text_terms
                behind = [t for t in found if t in table and k % width in table[t]]
            for word in behind:
                credit[word] += c / len(behind)
        ranked = [w for w, _ in sorted(credit.items(), key=lambda kv: -kv[1]) if w in m.text]
        reasons: list[str] = []
        for word in [w for w in ranked if len(w) >= 2] or ranked:  # single characters only as a last resort
            if not any(word in r or r in word for r in reasons):  # 公积金 after 住房公积金 adds nothing
                reasons.append(word)
            if len(reasons) == N_REASONS:
                break
        return reasons

    # -- persistence --

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_feature_names", None)  # derived from the blocks
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if "_blocks" in state:
            self._feature_names = [t for name in BLOCKS for t in self._blocks[name].names]

    def save(self, path: Path | str) -> None:
        with open(path, "wb") as f:
            pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def load(path: Path | str) -> "CategoryModel":
        """Load a saved model. Pickle: only load files this system wrote itself."""
        with open(path, "rb") as f:
            model = pickle.load(f)
        if not isinstance(model, CategoryModel) or model.meta.get("format") != FORMAT_VERSION:
            raise ValueError(f"{path}: not a category model of format {FORMAT_VERSION}")
        return model


def _ridge_dual(K: np.ndarray, y: np.ndarray, n_classes: int, alpha: float) -> np.ndarray:
    """Class-balanced one-vs-rest ridge with ±1 targets (sklearn's RidgeClassifier with
    class_weight="balanced") in dual form, from the Gram matrix K = X·Xᵀ: returns D such that
    coef = (Xᵀ·D)ᵀ. With S the sample weights, Z = S½X and Ỹ = S½Y: W = Zᵀ(ZZᵀ + αI)⁻¹Ỹ."""
    counts = np.bincount(y, minlength=n_classes)
    root_w = np.sqrt(len(y) / (n_classes * counts[y]))
    Y = -np.ones((len(y), n_classes))
    Y[np.arange(len(y)), y] = 1
    A = np.linalg.solve(root_w[:, None] * K * root_w[None, :] + alpha * np.eye(len(y)), root_w[:, None] * Y)
    return root_w[:, None] * A


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
