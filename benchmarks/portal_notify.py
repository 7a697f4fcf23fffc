"""Figures for the portal, door plates and the notification outbox (docs/benchmarks.md).

Runs on its own SQLite database under a temporary directory (never the development database):

    .venv/bin/python benchmarks/portal_notify.py [--messages 2000] [--requests 200] [--plates 240]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["TONGBAN_VAR_DIR"] = tempfile.mkdtemp(prefix="tb-bench-portal-")
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from tongban.cases.models import CaseType  # noqa: E402
from tongban.core.models import Level, Region, Unit, UnitKind  # noqa: E402
from tongban.notify import services as notify  # noqa: E402
from tongban.notify.models import Outbox  # noqa: E402
from tongban.portal import doorplates, services as portal  # noqa: E402
from tongban.portal.models import DoorPlate  # noqa: E402


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--plates", type=int, default=240)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    county = Region.objects.create(code="990100", name="青溪县", level=Level.COUNTY)
    town = Region.objects.create(code="990101", name="柳泉镇", level=Level.TOWN, parent=county)
    village = Region.objects.create(code="990101001", name="桃园村", level=Level.VILLAGE, parent=town)
    town_unit = Unit.objects.create(name="柳泉镇人民政府", kind=UnitKind.TOWN, region=town)
    Unit.objects.create(name="桃园村村民委员会", kind=UnitKind.VILLAGE, region=village, parent=town_unit)

    # 1a. outbox: queue N messages in one transaction (delivery held back), then flush them (file backend)
    schedule, notify.schedule = notify.schedule, lambda ids: None
    started = time.perf_counter()
    with transaction.atomic():
        for i in range(args.messages):
            notify.notify("verify_code", phone=f"139{i:08d}", context={"code": "123456", "minutes": 10}, dedupe_key=f"bench:{i}")
    queued = time.perf_counter() - started
    notify.schedule = schedule
    started = time.perf_counter()
    notify.flush(limit=args.messages)
    delivered = time.perf_counter() - started
    assert Outbox.objects.filter(status="sent").count() == args.messages
    print(f"outbox, {args.messages} SMS: queue {ms(queued / args.messages)}/条; flush (file backend) {ms(delivered / args.messages)}/条 = "
          f"{args.messages / delivered:.0f} 条/秒")
    # 1b. embedded mode as used: one transaction per message, delivered in-process after commit
    n = min(args.messages, 200)
    times = []
    for i in range(n):
        started = time.perf_counter()
        with transaction.atomic():
            notify.notify("verify_code", phone=f"138{i:08d}", context={"code": "123456", "minutes": 10})
        times.append(time.perf_counter() - started)
    times.sort()
    print(f"outbox, {n} SMS one by one (queue + commit + deliver): p50 {ms(statistics.median(times))}, "
          f"p95 {ms(times[int(n * 0.95) - 1])}")

    # 2. portal submissions through the service (intake + 受理回执 queued and sent after commit)
    complaint = CaseType.objects.get(code="complaint")
    times = []
    for i in range(args.requests):
        started = time.perf_counter()
        with transaction.atomic():
            portal.submit(portal.Submission(case_type=complaint, content="柳泉镇桃园村三组路灯坏了两周，晚上看不见路。",
                                            requester_phone=f"137{i:08d}", address="柳泉镇桃园村三组"), key=f"bench-{i}")
        times.append(time.perf_counter() - started)
    times.sort()
    print(f"portal submit, {args.requests} requests: p50 {ms(statistics.median(times))}, p95 {ms(times[int(len(times) * 0.95) - 1])}")

    # 3. door plates: generate and print
    started = time.perf_counter()
    doorplates.create_plates(village, doorplates.numbered(village, args.plates, street="幸福路"))
    generated = time.perf_counter() - started
    plates = DoorPlate.objects.select_related("unit").order_by("id")
    started = time.perf_counter()
    pdf = doorplates.plates_pdf(plates)
    printed = time.perf_counter() - started
    pages = -(-args.plates // (doorplates.COLUMNS * doorplates.ROWS))
    print(f"door plates, {args.plates}: generate {generated:.2f} s; PDF {printed:.2f} s ({ms(printed / args.plates)}/块), "
          f"{pages} pages, {len(pdf) / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
