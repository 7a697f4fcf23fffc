"""Time the window's write path: accepting a 一件事 (one parent case + one sub-case per item) and a
department's decision that completes the package, plus the checklist preview (电子证照 lookup).

Never the development database: DATABASE_URL points at a scratch SQLite file or PostgreSQL database
(recreated each run) before django.setup(). The demo county and catalog are built first.

    .venv/bin/python benchmarks/hall_accept.py                  # SQLite, 60 packages
    .venv/bin/python benchmarks/hall_accept.py --db postgres
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

from scratch_db import fresh_database

PG_DB = "tongban_hall_bench"


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"))
    p.add_argument("--packages", type=int, default=60)
    return p.parse_args(argv)


def configure(args):
    fresh_database(args.db, sqlite_name="bench-hall.sqlite3", pg_name=PG_DB, pg_url=args.pg_url)


def ms(values):
    values = sorted(values)
    return f"p50 {statistics.median(values) * 1000:.1f} ms, p95 {values[int(0.95 * (len(values) - 1))] * 1000:.1f} ms"


def main(argv=None):
    args = parse(argv)
    configure(args)
    from io import StringIO
    from random import Random

    from django.core.management import call_command

    from tongban.catalog.models import Package
    from tongban.core.models import User
    from tongban.hall import services as hall
    from tongban.hall.demo import _Hall
    from tongban.hall.models import Part

    call_command("migrate", verbosity=0)
    call_command("demo", requests=50, days=5, stdout=StringIO())
    package = Package.objects.get(code="YJS-001")
    clerk = User.objects.get(username="clerk1")

    class Org:  # what the demo helper needs: the clerks and each unit's handlers
        clerks = [clerk]
        handlers = {u.unit_id: [u] for u in User.objects.filter(roles__contains="handler").exclude(unit=None)}

    h = _Hall(Org, Random(1), end=None)
    previews, accepts, decisions = [], [], []
    from tongban.core import clock

    for _ in range(args.packages):
        person = h.people.person()
        at = clock.now()
        sub = h.submission(package, person, at)
        t = time.perf_counter()
        hall.preview(sub)
        previews.append(time.perf_counter() - t)
        t = time.perf_counter()
        app = hall.submit(sub, by=clerk)
        accepts.append(time.perf_counter() - t)
        parts = list(Part.objects.filter(application=app).select_related("case", "item__unit"))
        for part in parts[:-1]:
            hall.decide(part.case, True, by=h.handler(part.item.unit))
        t = time.perf_counter()
        hall.decide(parts[-1].case, True, by=h.handler(parts[-1].item.unit))  # the one that completes the package
        decisions.append(time.perf_counter() - t)
    n = len(package.ordered_items())
    print(f"{args.db}: 企业开办 ({n} items), {args.packages} packages")
    print(f"  checklist preview (e-licence lookup): {ms(previews)}")
    print(f"  accept (1 parent + {n} sub-cases):      {ms(accepts)}")
    print(f"  last decision + package completion:   {ms(decisions)}")


if __name__ == "__main__":
    main()
