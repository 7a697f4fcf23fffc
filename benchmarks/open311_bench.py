"""Open311 GeoReport v2 timings: POST requests through the whole stack (form and multipart),
GET requests at the 1000-row cap (XML and JSON), one request, and servicerequestupdates.

Runs in-process through Django's test client against its own database — SQLite
var/bench-open311.sqlite3 or PostgreSQL database tongban_open311_bench — created afresh:

    .venv/bin/python benchmarks/open311_bench.py --db sqlite
    .venv/bin/python benchmarks/open311_bench.py --db postgres --requests 1000
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from scratch_db import fresh_database, var_dir

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_DB = "tongban_open311_bench"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20_000


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"))
    p.add_argument("--requests", type=int, default=1000, help="requests to POST (default 1000, the GET cap)")
    p.add_argument("--runs", type=int, default=10, help="timed runs per GET (after one warm-up)")
    return p.parse_args(argv)


def configure(args):
    fresh_database(args.db, sqlite_name="bench-open311.sqlite3", pg_name=PG_DB, pg_url=args.pg_url)
    from django.conf import settings

    settings.MEDIA_ROOT = var_dir() / "bench-open311-media"


def ms(samples):
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return f"{statistics.median(samples) * 1000:8.1f} {p95 * 1000:8.1f}"


def main(argv=None):
    args = parse(argv)
    configure(args)
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.test import Client

    from tongban.cases.models import Case, Category
    from tongban.core.models import Level, Region, Unit, UnitKind
    from tongban.hotline import services as hotline
    from tongban.hotline.taxonomy import load_taxonomy
    from tongban.open311.models import ApiClient

    call_command("migrate", verbosity=0)
    load_taxonomy()
    county = Region.objects.create(code="990100", name="青溪县", level=Level.COUNTY)
    town = Region.objects.create(code="990101", name="柳泉镇", level=Level.TOWN, parent=county)
    Region.objects.create(code="990101001", name="桃园村", level=Level.VILLAGE, parent=town)
    unit = Unit.objects.create(name="县住房和城乡建设局", kind=UnitKind.DEPARTMENT, region=county)
    _, key = ApiClient.issue("bench")
    codes = [str(pk) for pk in Category.objects.filter(level=2).order_by("full_name").values_list("pk", flat=True)[:10]]
    client = Client()
    base = "/open311/v2/"

    posts, multipart = [], []
    for i in range(args.requests):
        data = {"api_key": key, "service_code": codes[i % len(codes)], "lat": "36.123456", "long": "117.654321",
                "address_string": "柳泉镇桃园村三组", "description": f"第{i}件：路灯不亮\n\n三组主路路灯晚上不亮。",
                "first_name": "三", "last_name": "张", "phone": "13812341234", "deviceid": "bench",
                "media_url": ["https://example.org/1.jpg", "https://example.org/2.jpg"]}
        photo = i % 10 == 0
        if photo:
            data["photo1"] = SimpleUploadedFile("a.png", PNG, content_type="image/png")
        started = time.perf_counter()
        response = client.post(base + "requests.xml", data)
        (multipart if photo else posts).append(time.perf_counter() - started)
        assert response.status_code == 200, response.content
    for case in Case.objects.order_by("id")[: args.requests // 2]:
        hotline.dispatch(case, unit, by=None)
        hotline.sign(case, by=None)

    number = Case.objects.order_by("id").values_list("number", flat=True).first()
    gets = {
        "GET requests.xml (newest 1000)": ("requests.xml", {}),
        "GET requests.json (newest 1000)": ("requests.json", {}),
        "GET requests.xml status=open, one service": ("requests.xml", {"status": "open", "service_code": codes[0]}),
        "GET requests/{id}.xml": (f"requests/{number}.xml", {}),
        "GET servicerequestupdates.xml": ("servicerequestupdates.xml", {}),
        "GET services.xml": ("services.xml", {}),
    }
    print(f"Open311 benchmark — {args.db}, {args.requests} requests posted ({len(multipart)} multipart with a photo)")
    print(f"{'':44} {'p50 ms':>8} {'p95 ms':>8}")
    print(f"{'POST requests.xml (form-encoded)':44} {ms(posts)}")
    if multipart:
        print(f"{'POST requests.xml (multipart, 1 photo)':44} {ms(multipart)}")
    for label, (path, params) in gets.items():
        client.get(base + path, params)
        samples = []
        for _ in range(args.runs):
            started = time.perf_counter()
            response = client.get(base + path, params)
            samples.append(time.perf_counter() - started)
            assert response.status_code == 200
        print(f"{label:44} {ms(samples)}   ({len(response.content) // 1024} KB)")


if __name__ == "__main__":
    main()
