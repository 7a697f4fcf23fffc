#!/usr/bin/env python
"""Unit routing benchmark (智能派单) on the database's finished cases — the demo county after
`make run` / `tongban demo`.

    .venv/bin/python benchmarks/dispatch_routing.py [--limit 1500]

Takes the most recent finished, dispatched cases (as `tongban dispatch train` does), trains a
routing model on the older 80 % and scores the most recent 20 % four ways:

* 分类默认单位 — only the category's default unit (what the queue preselected before);
* 模型 — the unit model alone (属地 labels resolved through the address);
* 规则+模型+默认 — `routing.suggest`, as the dispatcher queue shows it;
* the same without the category the operator chose at intake (the model predicts it).

Also prints training time (one full `train`, evaluation included), file size, and the p50/p95
latency of one `suggest` call with the model loaded. The version `train` stores for the timing is
deleted again (it is never activated).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=1500, help="most recent finished cases to use")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    import django

    django.setup()
    from tongban.cases.models import Case
    from tongban.dispatch import learning, routing
    from tongban.dispatch.classifier import CategoryModel

    examples, n_cases, n_labels = learning.examples_from_db(args.limit)
    examples = [e for e in examples if e.unit_id]
    n_test = round(len(examples) * learning.TEST_SHARE)
    train, test = examples[:-n_test], examples[-n_test:]
    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC  {platform.processor() or platform.machine()}  nproc={os.cpu_count()}  "
          f"load={os.getloadavg()[0]:.1f}")
    print(f"办结工单 {n_cases} 件、纠错样本 {n_labels} 条 → 训练 {len(train)} 条，评估最近的 {len(test)} 条")

    start = time.perf_counter()
    cpu = time.process_time()
    analysed = CategoryModel().analyse([(e.title, e.detail) for e in train])
    model = learning.fit_routing_model(train, analysed)
    print(f"训练（{len(train)} 条，三个模型）：墙钟 {time.perf_counter() - start:.1f} s，CPU {time.process_time() - cpu:.1f} s")

    cases = {c.pk: c for c in Case.objects.filter(pk__in=[e.case_id for e in test]).select_related("category", "region")}
    active = (None, model)
    scores = {k: [0, 0] for k in ("default", "model", "suggest", "suggest_nocat")}
    latencies, cpu_ms, confident = [], [], []  # (best score, best is right) per case, for the auto-dispatch threshold
    for e in test:
        case = cases[e.case_id]
        default = routing._default_unit(case.category_id)
        scores["default"][0] += bool(default and default.pk == e.unit_id)
        p = model.unit.predict(e.title, e.detail)
        region = routing.locate_case(case)
        ids = [getattr(learning.resolve_unit(label, region=region), "pk", None) for label, _ in p.top_k]
        scores["model"][0] += ids[0] == e.unit_id
        scores["model"][1] += e.unit_id in ids
        t, c = time.perf_counter(), time.process_time()
        result = routing.suggest(case, active=active)
        latencies.append((time.perf_counter() - t) * 1000)
        cpu_ms.append((time.process_time() - c) * 1000)
        top = [s.unit.pk for s in result.items]
        confident.append((result.confidence, bool(top) and top[0] == e.unit_id))
        scores["suggest"][0] += bool(top) and top[0] == e.unit_id
        scores["suggest"][1] += e.unit_id in top
        case.category = None  # as if taken without a category
        top = [s.unit.pk for s in routing.suggest(case, active=active).items]
        scores["suggest_nocat"][0] += bool(top) and top[0] == e.unit_id
        scores["suggest_nocat"][1] += e.unit_id in top
    n = len(test)
    names = {"default": "分类默认单位", "model": "模型", "suggest": "规则+模型+默认（suggest）", "suggest_nocat": "同上，受理时未选分类"}
    print(f"{'方法':<24} {'首选准确率':>10} {'前三命中率':>10}")
    for key, (top1, top3) in scores.items():
        print(f"{names[key]:<24} {top1 / n:>10.3f} {'—' if key == 'default' else f'{top3 / n:.3f}':>10}")
    for threshold in (0.8, 0.9, 0.95):
        above = [right for score, right in confident if score >= threshold]
        print(f"自动派单阈值 {threshold:.2f}：可自动派 {len(above) / n:.1%}，其中派对 "
              f"{(sum(above) / len(above)) if above else float('nan'):.3f}（{len(above)} 件）")
    for label, values in (("墙钟", latencies), ("CPU", cpu_ms)):
        values.sort()
        print(f"suggest 单次耗时（{label}）p50 {statistics.median(values):.2f} ms，p95 {values[int(0.95 * (n - 1))]:.2f} ms（{n} 次）")

    start = time.perf_counter()
    version = learning.train(examples=examples, limit=len(examples), activate=False, trigger="manual", source="benchmark")
    print(f"完整训练 tongban dispatch train（{version.n_train} 条，含留出评估）：{time.perf_counter() - start:.1f} s，"
          f"文件 {version.file_bytes / 1e6:.1f} MB；留出评估 派单准确率 {version.unit_accuracy:.3f}、前三 {version.unit_top3:.3f}、"
          f"分类准确率 {version.category_accuracy:.3f}")
    (learning.models_dir() / version.file).unlink(missing_ok=True)
    version.delete()


if __name__ == "__main__":
    main()
