#!/usr/bin/env python
"""Request classifier benchmark: stratified 5-fold CV on labelled messages.

    .venv/bin/python benchmarks/dispatch_eval.py                      # ../shared/data/messages_dev.csv
    .venv/bin/python benchmarks/dispatch_eval.py tests/data/messages_dev.csv --nested

Prints macro-F1, accuracy, per-class F1, p50/p95 single-prediction latency and training time
(the same CV as `tongban dispatch evaluate --cv 5`), with the machine it ran on.

--nested adds an estimate that does not trust the fixed hyper-parameters: in every outer fold
the taxonomy weights are chosen from a small grid by an inner 5-fold CV on that fold's training
part alone, and the chosen model is scored on the outer test part. If it comes out close to the
plain CV, the fixed defaults were not tuned to these particular test folds.
"""
from __future__ import annotations

import argparse
import itertools
import os
import platform
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from tongban.dispatch.classifier import CategoryModel, Settings  # noqa: E402
from tongban.dispatch.dataset import read_labelled_csv  # noqa: E402
from tongban.dispatch.evaluation import CV_SEED, class_table, cross_validate, summary_lines  # noqa: E402

NESTED_GRID = {"term_weight": (0.2, 0.3, 0.4), "subword_weight": (0.1, 0.2, 0.3)}


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{datetime.now().astimezone():%Y-%m-%d %H:%M %z}；{cpu}，{os.cpu_count()} 核；负载 {load}；"
        f"Python {platform.python_version()}，numpy {np.__version__}，scikit-learn {sklearn.__version__}"
    )


def nested_cv(records, k: int) -> tuple[float, list[dict]]:
    labels = np.array([m.category for m in records])
    analysed = CategoryModel().analyse(records)  # training-independent, so done once
    outer = StratifiedKFold(k, shuffle=True, random_state=CV_SEED)
    predicted = np.empty(len(records), dtype=object)
    chosen = []
    for train, test in outer.split(records, labels):
        best = None
        for values in itertools.product(*NESTED_GRID.values()):
            settings = Settings(**dict(zip(NESTED_GRID, values)))
            inner_pred = np.empty(len(train), dtype=object)
            inner = StratifiedKFold(5, shuffle=True, random_state=0)
            for a, b in inner.split(train, labels[train]):
                model = CategoryModel(settings).fit([analysed[i] for i in train[a]], labels[train[a]])
                inner_pred[b] = [p.label for p in model.predict_many([analysed[i] for i in train[b]])]
            score = f1_score(labels[train], inner_pred, average="macro")
            if best is None or score > best[0]:
                best = (score, settings)
        model = CategoryModel(best[1]).fit([analysed[i] for i in train], labels[train])
        predicted[test] = [p.label for p in model.predict_many([analysed[i] for i in test])]
        chosen.append({**{name: getattr(best[1], name) for name in NESTED_GRID}, "inner_f1": round(best[0], 3)})
    return float(f1_score(labels, predicted, average="macro")), chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(ROOT.parent / "shared" / "data" / "messages_dev.csv"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--nested", action="store_true", help="also run the nested-CV estimate (slow)")
    args = parser.parse_args()

    records = read_labelled_csv(args.data)
    print(f"机器：{machine()}")
    print(f"数据：{args.data}，{len(records)} 条，{len({m.category for m in records})} 类；"
          f"分层 {args.folds} 折交叉验证，种子 {CV_SEED}")
    start = time.perf_counter()
    result = cross_validate(records, args.folds)
    print(f"（交叉验证共 {time.perf_counter() - start:.1f} s）\n")
    for line in class_table(result):
        print(line)
    print()
    for line in summary_lines(result):
        print(line)
    print("各折 macro-F1：" + " ".join(f"{f:.3f}" for f in result.fold_f1)
          + f"（均值 {np.mean(result.fold_f1):.3f}，标准差 {np.std(result.fold_f1):.3f}）")
    print(f"macro_f1={result.macro_f1:.3f}  accuracy={result.accuracy:.3f}  "
          f"p50_ms={result.percentile_ms(50):.2f}  p95_ms={result.percentile_ms(95):.2f}  "
          f"p50_cpu_ms={result.percentile_ms(50, cpu=True):.2f}  p95_cpu_ms={result.percentile_ms(95, cpu=True):.2f}  "
          f"train_s={np.mean(result.train_seconds):.2f}")
    if args.nested:
        start = time.perf_counter()
        score, chosen = nested_cv(records, args.folds)
        print(f"\n嵌套交叉验证（权重网格 {NESTED_GRID} 只在各外层折的训练部分内选）："
              f"macro_f1={score:.3f}（{time.perf_counter() - start:.0f} s）")
        for i, c in enumerate(chosen, 1):
            print(f"  外层第 {i} 折选中 {c}")


if __name__ == "__main__":
    main()
