"""Time the 重复件 lookup at intake and the hotspot clustering on a big database.

    # first: a database with N cases from bench_cases.py (kept), then
    .venv/bin/python benchmarks/bench_cases.py --cases 200000 --generate-only --keep
    .venv/bin/python benchmarks/duplicates_bench.py --db-url sqlite:///var/bench-200000.sqlite3

The clock is frozen at the database's generation time (`bench:now`). Queries are the title and
text of recent cases with their region (what an operator would type about the same issue), asked as
a centre operator (sees every case), in two groups: cases placed in a town (the town-subtree
lookup) and cases placed only at county level (no town: the newest-cases path). For each: `duplicates.candidates` end to end, cold (first call
in the process) and then p50/p95 over `--runs` rounds. The clustering job (`load_docs` +
`cluster_docs` of the last 2 × 7 days; nothing is written) is timed once.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db-url", required=True, help="the benchmark database (never the development one)")
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    os.environ["DATABASE_URL"] = args.db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    import django

    django.setup()
    from django.db import connection

    from tongban.cases.models import Case
    from tongban.core import clock
    from tongban.core.models import Sequence, Unit, UnitKind, User
    from tongban.hotspots import clusters, duplicates, text

    marks = dict(Sequence.objects.filter(key__in=("bench:cases", "bench:now")).values_list("key", "value"))
    if "bench:now" not in marks:
        sys.exit("not a benchmark database (no bench:now mark): generate one with benchmarks/bench_cases.py")
    now = datetime.fromtimestamp(marks["bench:now"], UTC)
    operator = User(username="bench-operator", roles="operator", unit=Unit.objects.filter(kind=UnitKind.CENTRE).first())
    print(f"{connection.vendor}: {Case.objects.count():,} cases, now = {now:%Y-%m-%d %H:%M} UTC")

    with clock.at(now):
        from tongban.hotspots import geo

        tree = geo.tree()
        recent = list(Case.objects.filter(state__in=("pending_sign", "handling"), region__isnull=False)
                      .select_related("region").order_by("-created_at")[: 20 * args.queries])
        groups = {"place known (town index)": [q for q in recent if tree.town(q.region_id)][: args.queries],
                  "place unknown (created_at index)": [q for q in recent if not tree.town(q.region_id)][: args.queries]}
        for label, queries in groups.items():
            if not queries:
                continue
            duplicates._encoded.clear()
            timings, sizes, first = [], [], None
            for round_ in range(args.runs + 1):
                for q in queries:
                    t0 = time.perf_counter()
                    found = duplicates.candidates(operator, title=q.title[:10], content=q.content, region=q.region)
                    ms = (time.perf_counter() - t0) * 1000
                    if first is None:
                        first = ms
                    elif round_ > 0:
                        timings.append(ms)
                        sizes.append(len(found))
            timings.sort()
            p95 = timings[max(0, int(round(0.95 * len(timings))) - 1)]
            print(f"duplicates.candidates, {label}: cold {first:.0f} ms; warm p50 {statistics.median(timings):.1f} ms, "
                  f"p95 {p95:.1f} ms over {len(timings)} calls; {statistics.mean(sizes):.1f} candidates shown on average")

        t0 = time.perf_counter()
        params = clusters.Params()
        docs = clusters.load_docs(now, params)
        t1 = time.perf_counter()
        found = clusters.cluster_docs(docs, as_of=now, params=params, places=text.place_pattern(text.place_names()))
        t2 = time.perf_counter()
        print(f"hotspot clustering: {len(docs):,} requests in 2 × 7 days, load {t1 - t0:.1f} s, cluster {t2 - t1:.1f} s, "
              f"{len(found)} clusters, {sum(c.alert for c in found)} alerts")


if __name__ == "__main__":
    main()
