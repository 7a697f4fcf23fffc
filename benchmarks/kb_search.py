#!/usr/bin/env python
"""知识库 search at scale: index build time and query latency (p50/p95) on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/kb_search.py --articles 50000                 # SQLite, var/bench-kb-50000.sqlite3
    .venv/bin/python benchmarks/kb_search.py --articles 50000 --db postgres   # PostgreSQL database tongban_kb_bench

Like bench_cases.py it never touches the development database: DATABASE_URL is pointed at a separate
SQLite file or PostgreSQL database before django.setup(), which is recreated on every run and deleted
at the end unless --keep. Articles are synthetic variants of the shipped set (tongban/knowledge/data/
articles.json: a town or department prefix, shuffled answer paragraphs and some filler words), bulk
inserted, then `search.rebuild_index()` is timed. Queries are the 163 of tests/data/kb_queries.csv,
each timed --runs times through `search.search(q, limit=5)` (what the console suggestion box calls).
The digest of all top-5 lists lets you check that both databases return the same ranking.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

from scratch_db import fresh_database, pg_admin

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_DB = "tongban_kb_bench"
PLACES = ["柳泉镇", "城关镇", "青溪街道", "湖滨社区", "滨河社区", "桃园村", "石桥镇", "东关街道", "西山乡", "南湖镇"]
FILLER = ("请携带原件 可预约办理 节假日照常受理 窗口咨询电话 以最新政策为准 材料不全的一次性告知 支持邮寄 老年人可申请上门服务 "
          "帮办代办 容缺受理 跨省通办 免费复印 自助终端 就近办理 告知承诺制").split()


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--articles", type=int, default=50000)
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"))
    p.add_argument("--runs", type=int, default=5, help="timed runs per query (after one warm-up)")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--seed", type=int, default=2026)
    return p.parse_args(argv)


def configure(args):
    return fresh_database(args.db, sqlite_name=f"bench-kb-{args.articles}.sqlite3", pg_name=PG_DB, pg_url=args.pg_url)


def generate(args) -> float:
    from django.core.management import call_command
    from django.db import connection

    from tongban.core.models import Level, Region, Unit, UnitKind
    from tongban.knowledge.models import Article, Status
    from tongban.knowledge.seed import read_articles

    call_command("migrate", verbosity=0)
    region = Region.objects.create(code="990100", name="青溪县", level=Level.COUNTY)
    centre = Unit.objects.create(name="县12345热线中心", kind=UnitKind.CENTRE, region=region)
    rng = random.Random(args.seed)
    base = read_articles()
    t = time.perf_counter()
    batch = []
    for i in range(args.articles):
        a = base[i % len(base)]
        paras = a["answer"].split("\n\n")
        if i >= len(base):  # the shipped articles stay as they are; the rest are variants
            rng.shuffle(paras)
            paras.append("、".join(rng.sample(FILLER, 3)) + "。")
            title = f"{rng.choice(PLACES)}{a['title']}（{2020 + i % 7}年版）"
        else:
            title = a["title"]
        batch.append(Article(title=title, questions="\n".join(a["questions"]), answer="\n\n".join(paras), keywords=a["keywords"],
                             owner=centre, status=Status.PUBLISHED if i % 10 else Status.DRAFT, key=a["key"] if i < len(base) else ""))
        if len(batch) == 5000:
            Article.objects.bulk_create(batch)
            batch = []
    Article.objects.bulk_create(batch)
    print(f"inserted {args.articles} articles in {time.perf_counter() - t:.1f} s")
    from tongban.knowledge import search

    t = time.perf_counter()
    search.rebuild_index()
    build = time.perf_counter() - t
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return build


def measure(args):
    from tongban.knowledge import search

    queries = [r["query"] for r in csv.DictReader((ROOT / "tests/data/kb_queries.csv").open(encoding="utf-8"))]
    times, digest = [], hashlib.sha256()
    for q in queries:
        hits = search.search(q, limit=5)  # warm-up
        digest.update((q + ":" + ",".join(str(h.article.pk) for h in hits) + "\n").encode())
        for _ in range(args.runs):
            t = time.perf_counter()
            search.search(q, limit=5)
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    p = lambda x: times[min(len(times) - 1, int(len(times) * x))]  # noqa: E731
    return {"queries": len(queries), "samples": len(times), "p50": p(0.5), "p95": p(0.95), "max": times[-1],
            "mean": statistics.mean(times), "digest": digest.hexdigest()[:16]}


def main(argv=None):
    args = parse_args(argv)
    path = configure(args)
    try:
        build = generate(args)
        r = measure(args)
        from django.db import connection

        print(f"{connection.vendor} {connection.Database.sqlite_version if connection.vendor == 'sqlite' else connection.cursor().connection.info.server_version}"
              f" · {args.articles} articles · {platform.processor() or platform.machine()} · {os.cpu_count()} CPUs · Python {platform.python_version()}")
        print(f"index build {build:.1f} s; {r['queries']} queries × {args.runs} runs: p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, "
              f"max {r['max']:.1f} ms, mean {r['mean']:.1f} ms; top-5 digest {r['digest']}")
    finally:
        from django.db import connection

        connection.close()
        if not args.keep:
            if path:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
            else:
                pg_admin(args.pg_url, f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")


if __name__ == "__main__":
    main()
