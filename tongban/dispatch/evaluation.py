"""Offline evaluation of the category model: train/test split and stratified K-fold CV.

Used by `tongban dispatch evaluate` and benchmarks/dispatch_eval.py. Every model is trained on
training data only; hyper-parameters are the fixed defaults of classifier.Settings.
"""
from __future__ import annotations

import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

from .classifier import CategoryModel, Settings
from .dataset import DatasetError, LabelledMessage

CV_SEED = 20200101  # fixed, so a CV run is reproducible


@dataclass
class EvalResult:
    ids: list[str] = field(default_factory=list)
    truth: list[str] = field(default_factory=list)
    predicted: list[str] = field(default_factory=list)
    confidence: list[float] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)  # wall clock per message, title+detail → Prediction
    cpu_ms: list[float] = field(default_factory=list)  # CPU time per message (steadier on a busy machine)
    train_seconds: list[float] = field(default_factory=list)  # one per trained model
    fold_f1: list[float] = field(default_factory=list)  # CV only

    @property
    def accuracy(self) -> float:
        return float(accuracy_score(self.truth, self.predicted))

    @property
    def macro_f1(self) -> float:
        return float(f1_score(self.truth, self.predicted, average="macro", zero_division=0))

    def percentile_ms(self, q: float, cpu: bool = False) -> float:
        return float(np.percentile(self.cpu_ms if cpu else self.latencies_ms, q))

    def per_class(self) -> list[tuple[str, float, float, float, int]]:
        labels = sorted(set(self.truth) | set(self.predicted))
        p, r, f, s = precision_recall_fscore_support(
            self.truth, self.predicted, labels=labels, zero_division=0
        )
        return [(c, float(p[i]), float(r[i]), float(f[i]), int(s[i])) for i, c in enumerate(labels)]


def _train(train: Sequence[LabelledMessage], settings: Settings) -> tuple[CategoryModel, float]:
    start = time.perf_counter()
    model = CategoryModel(settings).fit(train, [m.category for m in train])
    return model, time.perf_counter() - start


def _predict_timed(model: CategoryModel, test: Sequence[LabelledMessage], result: EvalResult) -> None:
    """Predict one message at a time, as the dispatch desk would, timing each call."""
    for m in test:
        start, cpu_start = time.perf_counter(), time.process_time()
        p = model.predict(m.title, m.detail)
        result.cpu_ms.append((time.process_time() - cpu_start) * 1000)
        result.latencies_ms.append((time.perf_counter() - start) * 1000)
        result.ids.append(m.id)
        result.truth.append(m.category)
        result.predicted.append(p.label)
        result.confidence.append(p.confidence)


def check_training_set(train: Sequence[LabelledMessage], name: str = "训练集") -> None:
    classes = Counter(m.category for m in train)
    if len(classes) < 2:
        only = f"（只有“{next(iter(classes))}”）" if classes else ""
        raise DatasetError(f"{name}至少需要两个类别才能训练{only}")


def evaluate_split(
    train: Sequence[LabelledMessage], test: Sequence[LabelledMessage], settings: Settings = Settings()
) -> EvalResult:
    check_training_set(train)
    if not test:
        raise DatasetError("测试集没有数据行")
    result = EvalResult()
    model, seconds = _train(train, settings)
    result.train_seconds.append(seconds)
    _predict_timed(model, test, result)
    return result


def cross_validate(records: Sequence[LabelledMessage], k: int = 5, settings: Settings = Settings()) -> EvalResult:
    """Stratified K-fold CV with a fixed seed; out-of-fold predictions are pooled."""
    check_training_set(records, "数据集")
    if k < 2:
        raise DatasetError(f"交叉验证的折数至少为 2（现为 {k}）")
    smallest, n = min(((c, n) for c, n in Counter(m.category for m in records).items()), key=lambda cn: cn[1])
    if n < k:
        raise DatasetError(f"类别“{smallest}”只有 {n} 条，少于折数 {k}：请减小 --cv 或补充数据")
    labels = [m.category for m in records]
    result = EvalResult()
    for train_idx, test_idx in StratifiedKFold(k, shuffle=True, random_state=CV_SEED).split(records, labels):
        model, seconds = _train([records[i] for i in train_idx], settings)
        result.train_seconds.append(seconds)
        fold = EvalResult()
        _predict_timed(model, [records[i] for i in test_idx], fold)
        result.fold_f1.append(fold.macro_f1)
        for name in ("ids", "truth", "predicted", "confidence", "latencies_ms", "cpu_ms"):
            getattr(result, name).extend(getattr(fold, name))
    return result


# --- report -------------------------------------------------------------------------------------


def _width(text: str) -> int:
    """Columns a string takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _rjust(text: str, width: int = 9) -> str:
    return " " * max(0, width - _width(text)) + text


def class_table(result: EvalResult) -> list[str]:
    """Per-class precision / recall / F1 / support, columns aligned for Chinese names."""
    rows = result.per_class()
    name_width = max([_width("类别")] + [_width(c) for c, *_ in rows]) + 2
    lines = [_pad("类别", name_width) + "".join(_rjust(h) for h in ("精确率", "召回率", "F1", "样本数"))]
    for c, p, r, f, s in rows:
        lines.append(_pad(c, name_width) + "".join(_rjust(v) for v in (f"{p:.3f}", f"{r:.3f}", f"{f:.3f}", str(s))))
    return lines


def summary_lines(result: EvalResult) -> list[str]:
    lines = [
        f"准确率 accuracy={result.accuracy:.3f}",
        f"宏平均 F1 macro-F1={result.macro_f1:.3f}",
        f"单条预测耗时 p50={result.percentile_ms(50):.2f} ms，p95={result.percentile_ms(95):.2f} ms"
        f"（CPU 时间 p50={result.percentile_ms(50, cpu=True):.2f} ms，p95={result.percentile_ms(95, cpu=True):.2f} ms；"
        f"{len(result.latencies_ms)} 条，逐条调用）",
        f"训练耗时 {np.mean(result.train_seconds):.2f} s/模型",
    ]
    return lines
