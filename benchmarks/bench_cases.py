#!/usr/bin/env python
"""Read-path benchmark at scale: inbox, filtered case list and the 三率 board.

    .venv/bin/python benchmarks/bench_cases.py --cases 100000                 # SQLite, var/bench-100000.sqlite3
    .venv/bin/python benchmarks/bench_cases.py --cases 1000000 --db postgres  # PostgreSQL database tongban_bench

It never touches the development database: DATABASE_URL is set before django.setup() to a
separate SQLite file (var/bench-N.sqlite3) or PostgreSQL database (tongban_bench). The
database is generated once (bulk inserts: executemany on SQLite, COPY on PostgreSQL) and
reused by later runs with the same N; --regenerate forces a new one, and without --keep it
is deleted at the end of the run.

--proposed additionally creates the indexes tested in docs/benchmarks.md in the benchmark
database (by hand, IF NOT EXISTS; PROPOSED_INDEXES below), times the query rewrites (local
copies of the product functions, swapped in for the call) and builds, checks and times the
daily rollup prototype for the 三率 board; --drop-proposed removes them again (the schema the
migrations create).
"""
from __future__ import annotations

import argparse
import bisect
import csv
import functools
import itertools
import json
import math
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone as dt_timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from scratch_db import pg_admin

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TZ = ZoneInfo("Asia/Shanghai")
UTC = dt_timezone.utc
PG_DB = "tongban_bench"
GOALS_MS = {"inbox": 100, "list": 100, "board": 1000}


# --------------------------------------------------------------------------- setup


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", type=int, required=True, help="number of cases to generate")
    p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"),
                   help="PostgreSQL server URL without database name")
    p.add_argument("--keep", action="store_true", help="keep the benchmark database after the run (reused next time)")
    p.add_argument("--regenerate", action="store_true", help="ignore an existing benchmark database with the same N")
    p.add_argument("--generate-only", action="store_true", help="generate (or check) the database, do not time")
    p.add_argument("--runs", type=int, default=20, help="warm runs per measurement (default 20)")
    p.add_argument("--only", default="", help="comma-separated substrings: time only matching measurements")
    p.add_argument("--explain", type=int, default=4, help="print the plans of the N slowest measurements")
    p.add_argument("--proposed", action="store_true", help="create the proposed indexes and time the rewrites/rollup")
    p.add_argument("--drop-proposed", action="store_true", help="drop the proposed indexes first (baseline schema)")
    p.add_argument("--no-rollup", action="store_true", help="with --proposed: skip the rollup prototype")
    p.add_argument("--no-product-rollup", action="store_true",
                   help="do not run the product's metrics.refresh_day_stats before timing (board read live)")
    p.add_argument("--json", help="write the results to this JSON file")
    p.add_argument("--seed", type=int, default=2026)
    return p.parse_args(argv)


def configure(args) -> Path | None:
    """Point Django at the benchmark database, then set it up. Returns the SQLite path."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    os.environ.setdefault("DEBUG", "1")
    var_dir = Path(os.environ.get("TONGBAN_VAR_DIR", ROOT / "var"))
    os.environ["TONGBAN_VAR_DIR"] = str(var_dir)
    path = None
    if args.db == "sqlite":
        path = var_dir / f"bench-{args.cases}.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    else:
        os.environ["DATABASE_URL"] = f"{args.pg_url.rstrip('/')}/{PG_DB}"
    import django

    django.setup()
    from django.conf import settings

    name = str(settings.DATABASES["default"]["NAME"])
    assert name == (str(path) if path else PG_DB), f"refusing to run against {name}"
    return path


def existing_cases() -> tuple[int | None, datetime | None]:
    """(N, generation time) recorded in the benchmark database, or (None, None)."""
    from django.db import connection

    from tongban.core.models import Sequence

    try:
        if "core_sequence" not in connection.introspection.table_names():
            return None, None
        rows = dict(Sequence.objects.filter(key__in=("bench:cases", "bench:now")).values_list("key", "value"))
    except Exception:
        return None, None
    if "bench:cases" not in rows:
        return None, None
    return rows["bench:cases"], datetime.fromtimestamp(rows["bench:now"], UTC)


def reset_database(args, sqlite_path: Path | None) -> None:
    from django.db import connection

    connection.close()
    if sqlite_path:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
    else:
        pg_admin(args.pg_url, f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        pg_admin(args.pg_url, f"CREATE DATABASE {PG_DB}")


def drop_database(args, sqlite_path: Path | None) -> None:
    from django.db import connection

    connection.close()
    if sqlite_path:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
    else:
        pg_admin(args.pg_url, f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")


# --------------------------------------------------------------------------- bulk writer


class Writer:
    """Append rows (dicts keyed by attname) to a model's table: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self):
        from django.db import connection

        self.conn = connection
        self.vendor = connection.vendor

    def write(self, model, rows: list[dict]) -> None:
        if not rows:
            return
        fields = [f for f in model._meta.concrete_fields if not (f.primary_key and "id" not in rows[0])]
        cols = ",".join(f.column for f in fields)
        pairs = [(f.attname, f.get_default()) for f in fields]
        table = model._meta.db_table

        def as_json(v):
            return None if v is None else ("{}" if not v else json.dumps(v, ensure_ascii=False))

        def as_text(v):  # how Django stores an aware datetime in SQLite: naive UTC text
            if v is None:
                return None
            if v.tzinfo is not UTC:
                v = v.astimezone(UTC)
            return v.isoformat(" ")[:-6]  # == str(naive UTC value), as Django writes it

        def as_int(v):
            return None if v is None else int(v)

        convert = {"JSONField": as_json}
        if self.vendor == "sqlite":
            convert.update(DateTimeField=as_text, BooleanField=as_int)
        conv = [(i, convert[f.get_internal_type()]) for i, f in enumerate(fields) if f.get_internal_type() in convert]
        with self.conn.cursor() as cur:
            if self.vendor == "postgresql":
                with cur.cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                    for r in rows:
                        values = [r.get(n, d) for n, d in pairs]
                        for i, fn in conv:
                            values[i] = fn(values[i])
                        copy.write_row(values)
            else:
                out = []
                for r in rows:
                    values = [r.get(n, d) for n, d in pairs]
                    for i, fn in conv:
                        values[i] = fn(values[i])
                    out.append(values)
                sql = f'INSERT INTO "{table}" ({cols}) VALUES ({",".join("?" * len(fields))})'
                cur.cursor.executemany(sql, out)


def fast_load_begin(tables: list[str]) -> list[str]:
    """Prepare a bulk load: drop the secondary (non-constraint) indexes of `tables` and switch off
    foreign-key checks for this connection. Returns the statements that rebuild the indexes."""
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                        "AND tablename = ANY(%s) AND indexname NOT IN (SELECT conname FROM pg_constraint)", [tables])
            rows = cur.fetchall()
            cur.execute("SET session_replication_role = replica")  # no FK triggers: the generator keeps them right
            cur.execute("SET synchronous_commit = off")
        else:
            cur.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                        f"AND tbl_name IN ({','.join('%s' for _ in tables)})", tables)
            rows = cur.fetchall()
            cur.execute("PRAGMA foreign_keys = OFF")
        for name, _ in rows:
            cur.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in rows]


def fast_load_end(rebuild: list[str]) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET maintenance_work_mem = '1GB'")
        for sql in rebuild:
            cur.execute(sql)
        if connection.vendor == "postgresql":
            cur.execute("SET session_replication_role = DEFAULT")
        else:
            cur.execute("PRAGMA foreign_keys = ON")


# --------------------------------------------------------------------------- data generation

DEPARTMENTS = [  # name, share of all cases (%)
    ("住房和城乡建设局", 11), ("城市管理综合执法局", 10), ("市场监督管理局", 7), ("人力资源和社会保障局", 6),
    ("交通运输局", 5), ("生态环境分局", 4), ("教育局", 4), ("卫生健康委员会", 3), ("公安局", 3),
    ("自然资源和规划局", 2), ("水务局", 2), ("民政局", 2), ("农业农村局", 1.5), ("医疗保障局", 1.5),
    ("供电公司", 1), ("自来水公司", 1),
]
TOWNS = ["城关镇", "柳泉镇", "石桥镇", "河西街道", "东城街道", "青山乡", "白沙镇", "龙门镇"]
TOWN_SHARE = 2.0  # % each town holds itself
TYPES = [("consult", 25), ("help", 20), ("complaint", 35), ("report", 5), ("suggestion", 10), ("praise", 5)]
FALLBACK_TITLES = ["小区路灯不亮", "噪音扰民", "道路积水", "拖欠工资", "垃圾清运不及时", "违章搭建", "占道经营",
                   "供暖不热", "停水没有通知", "学校收费", "物业服务差", "公交线路调整建议"]


def load_reference(settings):
    """Real titles/contents and the three-level taxonomy from shared/data, when present."""
    base = Path(settings.SHARED_DATA_DIR)
    titles, contents, taxonomy = [], [], []
    try:
        with open(base / "messages_dev.csv", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                titles.append(r["title"][:200])
                contents.append(r["detail"][:400])
        with open(base / "taxonomy.csv", encoding="utf-8") as fh:
            taxonomy = [(r["level1"], r["level2"], r["level3"]) for r in csv.DictReader(fh)]
    except OSError:
        pass
    if not titles:
        titles = FALLBACK_TITLES
        contents = [t + "，请有关部门尽快处理。" for t in titles]
    if not taxonomy:
        taxonomy = [(a, b, c) for a in ("城乡建设", "劳动和社会保障", "交通运输") for b in ("甲", "乙") for c in ("一", "二", "三")]
    return titles, contents, taxonomy


def build_org(rng):
    """Regions, 25 units + 100 villages/grids, staff, categories. Returns a dict of what generation needs."""
    from django.conf import settings

    from tongban.cases.models import CaseType, Category
    from tongban.core.models import Level, Region, Unit, UnitKind, User

    city = Region.objects.create(code="990000", name="示范市", level=Level.CITY)
    county = Region.objects.create(code="990100", name="青溪县", level=Level.COUNTY, parent=city)
    centre = Unit.objects.create(name="县12345热线中心", kind=UnitKind.CENTRE, region=county)
    units = []  # (unit, share %)
    for name, share in DEPARTMENTS:
        units.append((Unit.objects.create(name=f"县{name}", kind=UnitKind.DEPARTMENT, region=county), share))
    town_units, villages = [], []
    village_share = (100 - sum(s for _, s in DEPARTMENTS) - TOWN_SHARE * len(TOWNS)) / 100
    for i, tname in enumerate(TOWNS):
        town_r = Region.objects.create(code=f"9901{i + 1:02d}", name=tname, level=Level.TOWN, parent=county)
        town = Unit.objects.create(name=f"{tname}人民政府", kind=UnitKind.TOWN, region=town_r, sees_subunits=True)
        town_units.append(town)
        units.append((town, TOWN_SHARE))
        for j in range(12 if i < 4 else 13):  # 100 in all: 80 villages + 20 grids
            n = len(villages)
            vr = Region.objects.create(code=f"9901{i + 1:02d}{j + 1:03d}", name=f"{tname}第{j + 1}村", level=Level.VILLAGE, parent=town_r)
            if n % 5 == 4:
                gr = Region.objects.create(code=f"{vr.code}G1", name=f"{vr.name}网格", level=Level.GRID, parent=vr)
                v = Unit.objects.create(name=f"{vr.name}一网格", kind=UnitKind.GRID, region=gr, parent=town)
            else:
                v = Unit.objects.create(name=f"{vr.name}村民委员会", kind=UnitKind.VILLAGE, region=vr, parent=town)
            villages.append(v)
    for v in villages:
        units.append((v, village_share))

    def user(username, roles, unit):
        u = User(username=username, display_name=username, roles=roles, unit=unit)
        u.set_unusable_password()
        return u

    staff = [user("bench_operator", "operator", centre), user("bench_dispatcher", "dispatcher", centre),
             user("bench_supervisor", "supervisor", centre)]
    for i, (u, _) in enumerate(units):
        staff.append(user(f"bench_handler_{u.pk}", "handler,dispatcher" if u.kind == UnitKind.TOWN else "handler", u))
    User.objects.bulk_create(staff)
    users = {u.username: u for u in User.objects.filter(username__startswith="bench_")}

    titles, contents, taxonomy = load_reference(settings)
    cats, leaves = {}, []
    for path in taxonomy:
        parent = None
        for level in range(1, 4):
            full = "/".join(path[:level])
            if full not in cats:
                cats[full] = Category.objects.create(name=path[level - 1], level=level, parent=parent, full_name=full)
            parent = cats[full]
        leaves.append(parent)

    types = {ct.code: ct for ct in CaseType.objects.filter(code__in=[c for c, _ in TYPES])}
    return dict(centre=centre, units=units, towns=town_units, villages=villages, users=users, leaves=leaves,
                titles=titles, contents=contents, types=types, town_of={v.pk: v.parent_id for v in villages})


class Calendar:
    """Cached working-day arithmetic (the product's own functions, memoised by date)."""

    def __init__(self):
        from tongban.workdays import services as wd

        self.wd = wd

    @functools.lru_cache(maxsize=None)
    def _add_days(self, d: date, n: int) -> datetime:
        return self.wd.add_working_days(datetime(d.year, d.month, d.day, 12, tzinfo=TZ), n)

    def add_days(self, at: datetime, n: int) -> datetime:
        return self._add_days(at.astimezone(TZ).date(), n).astimezone(UTC)

    @functools.lru_cache(maxsize=None)
    def warn(self, due: datetime) -> datetime:
        return self.wd.warning_start(due).astimezone(UTC)

    @functools.lru_cache(maxsize=None)
    def days_between(self, a: date, b: date) -> int:
        return self.wd.working_days_between(a, b)


def created_times(rng, n: int, now: datetime, days: int = 90) -> list[datetime]:
    """n acceptance times over the last `days` days: fewer at night and at weekends; sorted."""
    start = (now.astimezone(TZ) - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    hour_w = [1, 0.5, 0.3, 0.3, 0.3, 0.5, 1, 3, 7, 10, 10, 9, 7, 7, 9, 10, 10, 9, 7, 6, 5, 4, 3, 2]
    day_w = [(0.7 if (start + timedelta(days=d)).weekday() >= 5 else 1.0) for d in range(days + 1)]
    slots = [(d, h) for d in range(days + 1) for h in range(24)]
    weights = [day_w[d] * hour_w[h] for d, h in slots]
    cum = list(itertools.accumulate(weights))
    out = []
    for _ in range(n):
        d, h = slots[bisect.bisect(cum, rng.random() * cum[-1])]
        t = start + timedelta(days=d, hours=h, seconds=rng.randrange(3600))
        if t >= now:  # the current day is only partly over
            t = now - timedelta(seconds=rng.randrange(1, 90 * 86400))
        out.append(t.astimezone(UTC))
    out.sort()
    return out


def weighted(rng, items, weights):
    cum = list(itertools.accumulate(weights))

    def pick():
        return items[bisect.bisect(cum, rng.random() * cum[-1])]

    return pick


class CaseStory:
    """Plays one case's life like the services would, stopping at `now`; collects rows."""

    __slots__ = ("case", "events", "assignments", "now", "stopped", "seq", "active")

    def __init__(self, case: dict, now: datetime):
        self.case, self.now, self.events, self.assignments = case, now, [], []
        self.stopped, self.seq, self.active = False, 0, []

    def event(self, at: datetime, action: str, to: str, *, actor, unit=None, **fields) -> bool:
        if self.stopped or at > self.now:
            self.stopped = True
            return False
        c = self.case
        self.seq += 1
        self.events.append(dict(case_id=c["id"], seq=self.seq, action=action, from_state=c["state"], to_state=to,
                                actor_id=actor.pk, actor_unit_id=actor.unit_id, unit_id=unit, created_at=at,
                                payload=fields.pop("payload", {}), **fields))
        c["state"], c["updated_at"], c["last_event_seq"] = to, at, self.seq
        return True

    def assign(self, unit_id: int, at: datetime, sent_by: int, **kw) -> None:
        a = dict(case_id=self.case["id"], unit_id=unit_id, role="lead", status="pending", sent_by_unit_id=sent_by,
                 assigned_at=at)
        a.update(kw)
        self.assignments.append(a)
        self.active.append(a)

    def end_active(self, at: datetime, status: str) -> None:
        for a in self.active:
            a["ended_at"], a["status"] = at, status
        self.active = []


def generate(args, now: datetime) -> dict:
    from django.db import connection, transaction

    from tongban.cases.models import Assignment, Case, CaseEvent
    from tongban.core.models import Sequence

    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    org = build_org(rng)
    cal = Calendar()
    users, centre = org["users"], org["centre"]
    operator, dispatcher = users["bench_operator"], users["bench_dispatcher"]
    handler = {u.unit_id: u for u in users.values() if u.username.startswith("bench_handler_")}
    unit_ids = [u.pk for u, _ in org["units"]]
    pick_unit = weighted(rng, unit_ids, [s for _, s in org["units"]])
    pick_type = weighted(rng, [org["types"][c] for c, _ in TYPES], [w for _, w in TYPES])
    leaves, titles, contents = org["leaves"], org["titles"], org["contents"]
    town_of = org["town_of"]
    regions = {u.pk: u.region_id for u, _ in org["units"]}
    pick_result = weighted(rng, ["solved", "partly", "explained", "untrue", "unsolved"], [60, 15, 15, 5, 5])
    pick_sat = weighted(rng, ["satisfied", "basic", "unsatisfied"], [70, 18, 12])
    phones = [f"13{rng.randrange(10**9):09d}" for _ in range(max(1000, args.cases // 4))]
    times = created_times(rng, args.cases, now)
    day_seq = defaultdict(int)

    def after(t, mean_hours, minimum=0.05):
        return t + timedelta(hours=max(minimum, rng.expovariate(1 / mean_hours)))

    def callback_round(s: CaseStory, t: datetime, unit, *, may_reopen: bool, ct) -> None:
        c = s.case
        while True:  # unreached attempts, at most 3 (the third closes the case)
            t = after(t, 40, 1)
            attempt = sum(1 for e in s.events if e["action"] == "callback" and e["outcome"] == "unreached") + 1
            if rng.random() < 0.06:
                to = "closed" if attempt >= 3 else "pending_callback"
                if not s.event(t, "callback", to, actor=operator, unit=unit, outcome="unreached",
                               payload={"reached": False, "attempt": attempt}):
                    return
                if to == "closed":
                    c["closed_at"] = t
                    return
                continue
            sat = pick_sat()
            if not may_reopen and sat == "unsatisfied":
                sat = "basic"
            solved = rng.random() < {"satisfied": 0.95, "basic": 0.7, "unsatisfied": 0.15}[sat]
            reopen = sat == "unsatisfied" and unit is not None
            if not s.event(t, "callback", "handling" if reopen else "closed", actor=operator, unit=unit, outcome=sat,
                           solved=solved, payload={"reached": True, "attempt": attempt - 1}):
                return
            c["satisfaction"] = sat
            if not reopen:
                c["closed_at"] = t
                return
            # 重办: same unit, new deadline, then one more round of handling and call-back
            c["reopen_count"] += 1
            c["finished_at"] = None
            c["due_at"] = cal.add_days(t, ct.redo_limit_days)
            c["warn_at"] = cal.warn(c["due_at"])
            s.assign(unit, t, centre.pk, status="accepted", signed_at=t, note="不满意重办")
            finish(s, t, unit, ct, reopened=True)
            return

    def finish(s: CaseStory, t: datetime, unit: int, ct, *, reopened=False) -> None:
        c = s.case
        limit = ct.redo_limit_days if reopened else ct.finish_limit_days
        days = min(30.0, rng.lognormvariate(math.log(0.6 * limit + 0.3), 0.75))
        t = t + timedelta(days=days)
        on_time = c["due_at"] is None or t <= c["due_at"]
        result = pick_result()
        if not s.event(t, "finish", "pending_callback", actor=handler[unit], unit=unit, outcome=result, on_time=on_time,
                       note="已办理，答复如下。"):
            return
        c["finished_at"], c["result"], c["reply"] = t, result, "经核实，已按规定处理并答复诉求人。"
        s.end_active(t, "done")
        callback_round(s, t, unit, may_reopen=not reopened, ct=ct)

    def give(s: CaseStory, t: datetime, unit: int, sent_by: int, *, reset_due: bool, ct) -> None:
        c = s.case
        s.assign(unit, t, sent_by)
        c["unit_id"] = unit
        c["sign_due_at"] = cal.add_days(t, ct.sign_limit)
        if reset_due or c["due_at"] is None:
            c["due_at"] = cal.add_days(t, ct.finish_limit_days)
            c["warn_at"] = cal.warn(c["due_at"])

    def handle(s: CaseStory, t: datetime, ct) -> None:
        """From pending_dispatch: dispatch (and relay to a village), sign, maybe return/suspend, finish, call back."""
        c = s.case
        unit = pick_unit()
        first = town_of.get(unit, unit)  # villages receive through their town
        t = after(t, 1.5, 0.05)
        if not s.event(t, "dispatch", "pending_sign", actor=dispatcher, unit=first, payload={"unit": first, "co_units": []}):
            return
        c["dispatched_at"] = t
        give(s, t, first, centre.pk, reset_due=True, ct=ct)
        if first != unit:
            t = after(t, 4, 0.1)
            if not s.event(t, "relay", "pending_sign", actor=handler[first], unit=unit, payload={"from": first, "unit": unit}):
                return
            s.end_active(t, "relayed")
            give(s, t, unit, first, reset_due=False, ct=ct)
        if rng.random() < 0.03:  # 退回 → 改派 to another unit
            t = after(t, 10, 0.2)
            if not s.event(t, "return", "disputed", actor=handler[unit], unit=unit, note="非本单位职责"):
                return
            t = after(t, 8, 0.2)
            new = pick_unit()
            while new == unit or new in town_of:
                new = pick_unit()
            if not s.event(t, "reassign", "pending_sign", actor=dispatcher, unit=new, payload={"from": unit, "unit": new}):
                return
            s.end_active(t, "returned")
            give(s, t, new, centre.pk, reset_due=True, ct=ct)
            unit = new
        t = after(t, 7, 0.1)
        on_time = t <= c["sign_due_at"]
        if not s.event(t, "sign", "handling", actor=handler[unit], unit=unit, on_time=on_time):
            return
        for a in s.active:
            a["status"], a["signed_at"] = "accepted", t
        if rng.random() < 0.02:  # 挂起 waiting for the requester, then 恢复
            t = after(t, 24, 0.5)
            if not s.event(t, "suspend", "suspended", actor=handler[unit], unit=unit, note="等待诉求人补充材料"):
                return
            c["paused_at"], c["pause_reason"] = t, "等待诉求人补充材料"
            back = t + timedelta(days=rng.uniform(2, 10))
            paused = cal.days_between(t.astimezone(TZ).date(), back.astimezone(TZ).date())
            if not s.event(back, "resume", "handling", actor=handler[unit], unit=unit, payload={"paused_working_days": paused}):
                return
            if paused:
                c["due_at"] = cal.add_days(c["due_at"], paused)
                c["warn_at"] = cal.warn(c["due_at"])
            c["paused_at"], c["pause_reason"] = None, ""
            t = back
        finish(s, t, unit, ct)

    writer = Writer()
    rebuild = fast_load_begin([Case._meta.db_table, CaseEvent._meta.db_table, Assignment._meta.db_table])
    totals = defaultdict(int)
    chunk = 20000
    t_gen = time.perf_counter()
    for start in range(0, args.cases, chunk):
        cases, events, assignments = [], [], []
        for i in range(start, min(start + chunk, args.cases)):
            created = times[i]
            ct = pick_type()
            local_day = created.astimezone(TZ).strftime("%Y%m%d")
            day_seq[local_day] += 1
            k = rng.randrange(len(titles))
            c = dict(id=i + 1, number=f"{local_day}{day_seq[local_day]:05d}", case_type_id=ct.pk,
                     channel="phone" if rng.random() < 0.8 else rng.choice(("web", "h5", "qr", "grid", "window")),
                     title=titles[k], content=contents[k], requester_name="张先生", requester_phone=rng.choice(phones),
                     address=f"青溪县{rng.choice(TOWNS)}{rng.randrange(1, 40)}号", category_id=rng.choice(leaves).pk,
                     state="pending_dispatch", created_by_id=operator.pk, created_at=created, updated_at=created,
                     unit_id=None, dispatched_at=None, sign_due_at=None, due_at=None, warn_at=None, finished_at=None,
                     closed_at=None, paused_at=None, pause_reason="", reopen_count=0, supervised=False, reply="",
                     result="", satisfaction="", last_event_seq=0, extensions_used=0)
            s = CaseStory(c, now)
            s.event(created, "create", "pending_dispatch", actor=operator, payload={"channel": c["channel"]})
            c["state"] = "pending_dispatch"
            r = rng.random()
            if r < 0.02:  # 不予受理
                t = after(created, 0.2, 0.01)
                if s.event(t, "refuse", "refused", actor=operator, outcome="out_of_scope"):
                    c["result"], c["closed_at"], c["reply"] = "refused", t, "不属于本市各级行政机关职责范围。"
            elif r < 0.03 and i > 100:  # 重复件
                t = after(created, 0.3, 0.01)
                if s.event(t, "merge", "merged", actor=operator, payload={"original": i - rng.randrange(1, 100)}):
                    c["duplicate_of_id"] = i + 1 - rng.randrange(1, 100)
            elif r < 0.15:  # 直接答复, then the call-back
                t = after(created, 0.15, 0.01)
                if s.event(t, "answer", "pending_callback", actor=operator, outcome="explained", note="已当场答复。"):
                    c["finished_at"], c["result"], c["reply"] = t, "explained", "已当场解释说明。"
                    callback_round(s, t, None, may_reopen=False, ct=ct)
            else:
                handle(s, created, ct)
            if c["unit_id"] and rng.random() < 0.01 and c["state"] not in ("closed", "refused", "merged", "pending_callback"):
                t = min(now, c["updated_at"] + timedelta(hours=2))
                s.stopped = False
                c["supervised"] = s.event(t, "supervise", c["state"], actor=users["bench_supervisor"], unit=c["unit_id"],
                                          note="请加快办理。")
            c["region_id"] = regions.get(c["unit_id"] or 0)
            cases.append(c)
            events.extend(s.events)
            assignments.extend(s.assignments)
        events.sort(key=lambda e: e["created_at"])  # the log is written in time order
        with transaction.atomic():
            writer.write(Case, cases)
            writer.write(CaseEvent, events)
            writer.write(Assignment, assignments)
        totals["cases"] += len(cases)
        totals["events"] += len(events)
        totals["assignments"] += len(assignments)
        done = totals["cases"]
        if done % 100000 == 0 or done == args.cases:
            el = time.perf_counter() - t_gen
            print(f"  … {done:>9,} cases, {totals['events']:,} events  ({el:.0f} s, {done / el:,.0f} cases/s)", flush=True)

    t1 = time.perf_counter()
    fast_load_end(rebuild)
    totals["seconds_indexes"] = round(time.perf_counter() - t1, 1)
    with transaction.atomic():
        for day, n in day_seq.items():
            Sequence.objects.update_or_create(key=f"case:{day}", defaults={"value": n})
    if connection.vendor == "postgresql":  # ids were given explicitly: move the sequences past them
        from django.core.management.color import no_style

        with connection.cursor() as cur:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Case, CaseEvent, Assignment]):
                cur.execute(sql)
    t_load = time.perf_counter() - t0
    t1 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("ANALYZE")  # planner statistics, as autovacuum/ANALYZE would have them in production
        if connection.vendor == "postgresql":
            cur.execute("VACUUM (ANALYZE) cases_case, cases_caseevent, cases_assignment")
    t_analyze = time.perf_counter() - t1
    Sequence.objects.create(key="bench:now", value=int(now.timestamp()))
    Sequence.objects.create(key="bench:cases", value=args.cases)
    return dict(totals, seconds_load=round(t_load, 1), seconds_analyze=round(t_analyze, 1))


def describe_data() -> dict:
    from django.db.models import Count

    from tongban.cases.models import Assignment, Case, CaseEvent

    n = Case.objects.count()
    states = dict(Case.objects.values_list("state").annotate(n=Count("id")))
    top = list(Case.objects.exclude(unit=None).values("unit__name").annotate(n=Count("id")).order_by("-n")[:3])
    return dict(cases=n, events=CaseEvent.objects.count(), assignments=Assignment.objects.count(),
                states={k: f"{v / n:.2%}" for k, v in sorted(states.items(), key=lambda kv: -kv[1])},
                top_units={r["unit__name"]: f"{r['n'] / n:.1%}" for r in top})


def db_size(sqlite_path) -> str:
    from django.db import connection

    if sqlite_path:
        b = sum(Path(f"{sqlite_path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{sqlite_path}{s}").exists())
    else:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_database_size(current_database())")
            b = cur.fetchone()[0]
    return f"{b / 2**30:.2f} GiB"


# --------------------------------------------------------------------------- proposed changes (tested here)

# Each: name, SQLite DDL, PostgreSQL DDL (None: not on that database). Which of them are proposed,
# with their Django definitions, and which were tried and rejected: docs/benchmarks.md.
PROPOSED_INDEXES = [
    # the inbox: only the open cases of a unit, already in deadline order (no sort of the whole queue)
    ("case_inbox_open",
     "CREATE INDEX IF NOT EXISTS case_inbox_open ON cases_case (unit_id, due_at, id) "
     "WHERE state IN ('pending_sign', 'handling', 'disputed', 'suspended')",
     "CREATE INDEX IF NOT EXISTS case_inbox_open ON cases_case (unit_id, due_at, id) "
     "WHERE state IN ('pending_sign', 'handling', 'disputed', 'suspended')"),
    # q=…: title/address LIKE '%…%' can use a trigram index (PostgreSQL only; needs pg_trgm)
    ("case_title_trgm", None,
     "CREATE EXTENSION IF NOT EXISTS pg_trgm; "
     "CREATE INDEX IF NOT EXISTS case_title_trgm ON cases_case USING gin (title gin_trgm_ops)"),
    ("case_address_trgm", None,
     "CREATE INDEX IF NOT EXISTS case_address_trgm ON cases_case USING gin (address gin_trgm_ops)"),
    # the 三率 aggregation reads only index columns (no table look-ups)
    ("event_action_time_cov",
     "CREATE INDEX IF NOT EXISTS event_action_time_cov ON cases_caseevent (action, created_at, unit_id, on_time, solved, outcome)",
     "CREATE INDEX IF NOT EXISTS event_action_time_cov ON cases_caseevent (action, created_at, unit_id) INCLUDE (on_time, solved, outcome)"),
]


@functools.cache
def swap_helpers():
    """Local copies of product functions with the proposed rewrites (see docs/benchmarks.md)."""
    from django.db.models import Q

    from tongban.cases import access
    from tongban.cases.models import Assignment, Case
    from tongban.hotline import queries

    def _page(qs, order, cursor, size, *, key):
        """queries._page with the keyset condition written as  f <= v AND (f < v OR id < pk):
        the same rows, but the first term is a plain range the planner can seek the index with."""
        field, tiebreak = order
        desc = field.startswith("-")
        name = field.lstrip("-")
        if cursor:
            raw, _, pk = cursor.rpartition("|")
            value = queries._parse_cursor_value(raw)
            op = "lt" if desc else "gt"
            if value is None:
                qs = qs.filter(**{f"{name}__isnull": True, f"id__{op}": int(pk)})
            else:
                qs = qs.filter(Q(**{f"{name}__{op}e": value}), Q(**{f"{name}__{op}": value}) | Q(**{f"id__{op}": int(pk)}))
        rows = list(qs.order_by(field, tiebreak).select_related(*queries.LIST_FIELDS)[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        nxt = f"{key(rows[-1])}|{rows[-1].pk}" if more and rows else None
        return queries.Page(rows, nxt)

    def visible_cases(user):
        """access.visible_cases with the unit scope as  id IN (SELECT case_id …)  instead of EXISTS."""
        if not (user and user.is_authenticated):
            return Case.objects.none()
        if access.is_centre_staff(user):
            return Case.objects.all()
        units = access.scope_unit_ids(user)
        if not units:
            return Case.objects.none()
        return Case.objects.filter(pk__in=Assignment.objects.filter(unit_id__in=units).values("case_id"))

    return dict(page=_page, visible_cases=visible_cases)


class swapped:
    """Run a block with module.name replaced (how the rewrites are timed against the real call path)."""

    def __init__(self, module, **objs):
        self.module, self.objs, self.saved = module, objs, {}

    def __enter__(self):
        for k, v in self.objs.items():
            self.saved[k] = getattr(self.module, k)
            setattr(self.module, k, v)

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            setattr(self.module, k, v)


# ---- 三率 read model: one row per (local day, unit) with the counters; a job refreshes recent days.

@functools.cache
def rollup():
    from django.db import models
    from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Q, Sum
    from django.db.models.functions import TruncDate

    from tongban.analytics import metrics
    from tongban.cases.models import CaseEvent
    from tongban.core.models import Unit

    counters = dict(  # exactly the filters of metrics.unit_scores
        received=Q(action__in=metrics.RECEIVE_ACTIONS),
        signed=Q(action="sign"),
        signed_on_time=Q(action="sign", on_time=True),
        finished=Q(action="finish"),
        finished_on_time=Q(action="finish", on_time=True),
        callbacks=Q(action="callback", outcome__in=metrics.REACHED),
        solved=Q(action="callback", outcome__in=metrics.REACHED, solved=True),
        satisfied=Q(action="callback", outcome="satisfied"),
        basic=Q(action="callback", outcome="basic"),
        unsatisfied=Q(action="callback", outcome="unsatisfied"),
        returned=Q(action="return"),
    )
    actions = (*metrics.RECEIVE_ACTIONS, "sign", "finish", "callback", "return")

    class BenchUnitDayStats(models.Model):
        day = models.DateField()
        unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+", db_constraint=False)
        received = models.PositiveIntegerField(default=0)
        signed = models.PositiveIntegerField(default=0)
        signed_on_time = models.PositiveIntegerField(default=0)
        finished = models.PositiveIntegerField(default=0)
        finished_on_time = models.PositiveIntegerField(default=0)
        callbacks = models.PositiveIntegerField(default=0)
        solved = models.PositiveIntegerField(default=0)
        satisfied = models.PositiveIntegerField(default=0)
        basic = models.PositiveIntegerField(default=0)
        unsatisfied = models.PositiveIntegerField(default=0)
        returned = models.PositiveIntegerField(default=0)
        finish_seconds = models.FloatField(default=0)  # Σ (finish − dispatched_at), for the average handling time
        finish_timed = models.PositiveIntegerField(default=0)  # how many finishes that sum covers

        class Meta:
            app_label = "analytics"
            db_table = "bench_unit_day_stats"
            constraints = [models.UniqueConstraint(fields=["day", "unit"], name="bench_unit_day_stats_day_unit")]

    UnitDayStats = BenchUnitDayStats

    def aggregate(events, by):
        """Counter rows and (Σ seconds, n) of finish durations of `events`, grouped by `by`."""
        rows = list(events.filter(action__in=actions).values(*by).annotate(
            **{k: Count("id", filter=q) for k, q in counters.items()}))
        dur = {tuple(r[b] for b in by): r for r in events.filter(action="finish", case__dispatched_at__isnull=False)
               .values(*by).annotate(s=Sum(ExpressionWrapper(F("created_at") - F("case__dispatched_at"),
                                                             output_field=DurationField())), n=Count("id"))}
        for r in rows:
            d = dur.get(tuple(r[b] for b in by))
            r["finish_seconds"] = d["s"].total_seconds() if d and d["s"] is not None else 0.0
            r["finish_timed"] = d["n"] if d else 0
        return rows

    def refresh(first: date, last: date) -> int:
        """(Re)build the rows of local days first ≤ day < last. Only whole, finished days are rolled
        up: the job runs it shortly after midnight for the day that just ended (idempotent, so
        it can run again); today is always read live."""
        from django.db import transaction

        start = datetime.combine(first, datetime.min.time(), TZ)
        end = datetime.combine(last, datetime.min.time(), TZ)
        events = CaseEvent.objects.filter(created_at__gte=start, created_at__lt=end, unit__isnull=False)
        rows = aggregate(events.annotate(day=TruncDate("created_at")), ("day", "unit_id"))
        with transaction.atomic():
            UnitDayStats.objects.filter(day__gte=first, day__lt=last).delete()
            UnitDayStats.objects.bulk_create([UnitDayStats(**r) for r in rows], batch_size=2000)
        return len(rows)

    def midnight(d: date) -> datetime:
        return datetime.combine(d, datetime.min.time(), TZ)

    def unit_scores(start: datetime, end: datetime) -> list:
        """metrics.unit_scores read from the rollup for the whole local days in [start, end) that the
        job has rolled up; what is left (today, and partial days at either end) comes live from the events."""
        rolled_to = UnitDayStats.objects.aggregate(m=Max("day"))["m"]  # last day the job has finished
        lo = start.astimezone(TZ).date() + timedelta(days=0 if midnight(start.astimezone(TZ).date()) == start else 1)
        hi = end.astimezone(TZ).date()
        if rolled_to is not None:
            hi = min(hi, rolled_to + timedelta(days=1))
        fields = [*counters, "finish_seconds", "finish_timed"]
        per_unit = {}

        def add(r):
            acc = per_unit.setdefault(r["unit_id"], dict.fromkeys(fields, 0))
            for k in fields:
                acc[k] += r[k] or 0

        live = [(start, end)]
        if rolled_to is not None and lo < hi:
            for r in UnitDayStats.objects.filter(day__gte=lo, day__lt=hi).values("unit_id") \
                    .annotate(**{f"{k}_": Sum(k) for k in fields}):
                add({"unit_id": r["unit_id"], **{k: r[f"{k}_"] for k in fields}})
            live = [(start, midnight(lo)), (midnight(hi), end)]
        for a, b in live:
            if b > a:
                for r in aggregate(CaseEvent.objects.filter(created_at__gte=a, created_at__lt=b, unit__isnull=False),
                                   ("unit_id",)):
                    add(r)
        names = dict(Unit.objects.filter(pk__in=list(per_unit)).values_list("pk", "name"))
        scores = []
        for unit_id, acc in per_unit.items():
            fs, ft = acc.pop("finish_seconds"), acc.pop("finish_timed")
            s = metrics.UnitScore(unit_id=unit_id, unit_name=names.get(unit_id, "?"), **acc)
            s.avg_hours = round(fs / ft / 3600, 1) if ft else None
            scores.append(s)
        scores.sort(key=lambda s: (s.score is None, -(s.score or 0), s.unit_name))
        return scores

    return dict(model=UnitDayStats, refresh=refresh, unit_scores=unit_scores)


def build_rollup(now: datetime) -> dict:
    """Create the prototype table and fill it up to yesterday; time the full build and one day's refresh."""
    from django.db import connection

    r = rollup()
    model = r["model"]
    with connection.schema_editor() as editor:
        if model._meta.db_table in connection.introspection.table_names():
            editor.delete_model(model)
        editor.create_model(model)
    today = now.astimezone(TZ).date()
    t = time.perf_counter()
    n = r["refresh"](today - timedelta(days=92), today)
    full = time.perf_counter() - t
    t = time.perf_counter()
    r["refresh"](today - timedelta(days=1), today)
    one = time.perf_counter() - t
    print(f"  rollup prototype: {n:,} rows; full build {full:.1f} s, refresh of one day {one * 1000:.0f} ms")
    return dict(rows=n, full_build_s=round(full, 2), one_day_refresh_ms=round(one * 1000))


def check_rollup(start, end) -> None:
    """The rollup must give the same board as the raw events."""
    from tongban.analytics import metrics

    fields = ("received", "signed", "signed_on_time", "finished", "finished_on_time", "callbacks", "solved",
              "satisfied", "basic", "unsatisfied", "returned")
    a = {s.unit_id: s for s in metrics.unit_scores(start, end)}
    b = {s.unit_id: s for s in rollup()["unit_scores"](start, end) if any(getattr(s, f) for f in fields)}
    assert a.keys() == b.keys(), "different units"
    for k, x in a.items():
        y = b[k]
        for f in fields:
            assert getattr(x, f) == getattr(y, f), (k, f, getattr(x, f), getattr(y, f))
        assert x.avg_hours == y.avg_hours or abs((x.avg_hours or 0) - (y.avg_hours or 0)) <= 0.1, (k, x.avg_hours, y.avg_hours)
    print(f"  rollup board == raw board for {start:%Y-%m-%d}..{end:%Y-%m-%d} ({len(a)} units)")


def apply_proposed(drop: bool = False) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        if drop:
            cur.execute("DROP TABLE IF EXISTS bench_unit_day_stats")
        for name, sqlite_sql, pg_sql in PROPOSED_INDEXES:
            if drop:
                cur.execute(f"DROP INDEX IF EXISTS {name}")
                continue
            sql = pg_sql if connection.vendor == "postgresql" else sqlite_sql
            if sql:
                t = time.perf_counter()
                cur.execute(sql)
                print(f"  index {name}: {time.perf_counter() - t:.1f} s")
        if not drop:
            cur.execute("ANALYZE")


# --------------------------------------------------------------------------- measurements


class Capture:
    """Collects (sql, params) of the queries a call runs, to EXPLAIN them afterwards."""

    def __init__(self):
        self.queries = []

    def __call__(self, execute, sql, params, many, context):
        self.queries.append((sql, params))
        return execute(sql, params, many, context)


def percentile(values, p):
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def measure(name, kind, fn, runs):
    from django.db import connection

    cap = Capture()
    with connection.execute_wrapper(cap):
        t = time.perf_counter()
        out = fn()
        cold = (time.perf_counter() - t) * 1000
    warm = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        warm.append((time.perf_counter() - t) * 1000)
    rows = len(out) if hasattr(out, "__len__") else out
    return dict(name=name, kind=kind, rows=rows, cold=cold, median=statistics.median(warm), p95=percentile(warm, 95),
                runs=runs, queries=cap.queries)


def explain(sql, params) -> str:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
        else:
            cur.execute("EXPLAIN QUERY PLAN " + sql, params)
        rows = cur.fetchall()
    if connection.vendor == "postgresql":
        return "\n".join(r[0] for r in rows)
    depth = {0: 0}
    out = []
    for node, parent, _, detail in rows:
        depth[node] = depth.get(parent, 0) + 1
        out.append("  " * (depth[node] - 1) + detail)
    return "\n".join(out)


def cursor_at(qs, order, offset, key):
    """The keyset cursor that starts the page after `offset` rows (built once, not timed)."""
    row = qs.order_by(*order)[offset]
    return f"{key(row)}|{row.pk}"


def scenarios(args, now, proposed: bool):
    from tongban.analytics import metrics
    from tongban.cases.models import Case, Category
    from tongban.core.models import Unit, User
    from tongban.hotline import queries
    from tongban.hotline.queries import CaseFilter

    centre = User.objects.get(username="bench_dispatcher")
    big_unit = Unit.objects.get(name="县住房和城乡建设局")
    big = User.objects.get(username=f"bench_handler_{big_unit.pk}")
    town_unit = Unit.objects.filter(kind="town").order_by("pk").first()
    town = User.objects.get(username=f"bench_handler_{town_unit.pk}")
    village_unit = Unit.objects.filter(kind="village").order_by("pk").first()
    village = User.objects.get(username=f"bench_handler_{village_unit.pk}")
    today = now.astimezone(TZ).date()
    complaint_top = Category.objects.get(full_name="城乡建设") if Category.objects.filter(full_name="城乡建设").exists() \
        else Category.objects.filter(level=1).first()
    term = "小区"

    inbox_states = ("pending_sign", "handling", "disputed", "suspended")
    inbox_qs = Case.objects.filter(unit_id=big_unit.pk, state__in=inbox_states, due_at__isnull=False)
    n_inbox = inbox_qs.count()
    inbox_cursor = cursor_at(inbox_qs, ("due_at", "id"), int(n_inbox * 0.8), lambda c: c.due_at.isoformat())
    n_all = Case.objects.count()
    deep_all = cursor_at(Case.objects.all(), ("-created_at", "-id"), n_all // 2, lambda c: c.created_at.isoformat())
    big_qs = queries.filtered_cases(big, CaseFilter())
    n_big = big_qs.count()
    deep_big = cursor_at(big_qs, ("-created_at", "-id"), n_big // 2, lambda c: c.created_at.isoformat())
    f_combo = CaseFilter(case_type="complaint", category=complaint_top.pk, created_from=today - timedelta(days=44),
                         created_to=today - timedelta(days=30))
    start30 = datetime.combine(today - timedelta(days=30), datetime.min.time(), TZ)
    start90 = datetime.combine(today - timedelta(days=90), datetime.min.time(), TZ)
    end = datetime.combine(today + timedelta(days=1), datetime.min.time(), TZ)
    print(f"  inbox of {big_unit.name}: {n_inbox:,} open cases; {big_unit.name} sees {n_big:,} cases; "
          f"q={term!r} matches {Case.objects.filter(title__contains=term).count() / n_all:.1%} of titles")

    S = [
        ("a1 inbox p1 (big unit)", "inbox", lambda: queries.inbox(big).items),
        ("a2 inbox deep page (80 %)", "inbox", lambda: queries.inbox(big, cursor=inbox_cursor).items),
        ("b1 list centre, no filter", "list", lambda: queries.case_list(centre, CaseFilter()).items),
        ("b2 list centre, state=open", "list", lambda: queries.case_list(centre, CaseFilter(state="open")).items),
        ("b3 list centre, type+category+created", "list", lambda: queries.case_list(centre, f_combo).items),
        ("b4 list centre, light=red", "list", lambda: queries.case_list(centre, CaseFilter(light="red")).items),
        (f"b5 list centre, q={term}", "list", lambda: queries.case_list(centre, CaseFilter(q=term)).items),
        ("b5b list centre, q matching nothing", "list", lambda: queries.case_list(centre, CaseFilter(q="无此内容")).items),
        ("b5c list centre, 2-character q matching nothing", "list", lambda: queries.case_list(centre, CaseFilter(q="无此")).items),
        ("b6 list centre, deep page (50 %)", "list", lambda: queries.case_list(centre, CaseFilter(), cursor=deep_all).items),
        ("b7 list big-unit handler (Exists)", "list", lambda: queries.case_list(big, CaseFilter()).items),
        ("b8 list big-unit handler, deep (50 %)", "list", lambda: queries.case_list(big, CaseFilter(), cursor=deep_big).items),
        ("b9 list town handler (+sub-units)", "list", lambda: queries.case_list(town, CaseFilter()).items),
        ("b10 list village handler", "list", lambda: queries.case_list(village, CaseFilter()).items),
        ("b11 list big-unit handler, state=open", "list", lambda: queries.case_list(big, CaseFilter(state="open")).items),
        ("c1 三率 board, 30 days", "board", lambda: metrics.unit_scores(start30, end)),
        ("c2 三率 board, 90 days", "board", lambda: metrics.unit_scores(start90, end)),
    ]
    if proposed:
        S += proposed_scenarios(locals())
    return S


def proposed_scenarios(ctx):
    from tongban.hotline import queries

    h = swap_helpers()
    r = rollup()
    q, CaseFilter = queries, ctx["CaseFilter"]
    big, town, village = ctx["big"], ctx["town"], ctx["village"]

    def v2(fn, **objs):
        def run():
            with swapped(queries, **objs):
                return fn()
        return run

    page, scope = dict(_page=h["page"]), dict(visible_cases=h["visible_cases"])
    both = dict(page, **scope)
    return [
        ("a2' inbox deep page — keyset rewrite", "inbox", v2(lambda: q.inbox(big, cursor=ctx["inbox_cursor"]).items, **page)),
        ("b6' list centre deep — keyset rewrite", "list", v2(lambda: q.case_list(ctx["centre"], CaseFilter(), cursor=ctx["deep_all"]).items, **page)),
        ("b7' big-unit handler — scope IN", "list", v2(lambda: q.case_list(big, CaseFilter()).items, **scope)),
        ("b8' big-unit deep — keyset rewrite", "list", v2(lambda: q.case_list(big, CaseFilter(), cursor=ctx["deep_big"]).items, **page)),
        ("b8'' big-unit deep — keyset + scope IN", "list", v2(lambda: q.case_list(big, CaseFilter(), cursor=ctx["deep_big"]).items, **both)),
        ("b9' town handler — scope IN", "list", v2(lambda: q.case_list(town, CaseFilter()).items, **scope)),
        ("b10' village handler — scope IN", "list", v2(lambda: q.case_list(village, CaseFilter()).items, **scope)),
    ] + ([] if ctx["args"].no_rollup else [
        ("c1' 三率 board 30 days — rollup", "board", lambda: r["unit_scores"](ctx["start30"], ctx["end"])),
        ("c2' 三率 board 90 days — rollup", "board", lambda: r["unit_scores"](ctx["start90"], ctx["end"])),
    ])


def main(argv=None):
    args = parse_args(argv)
    sqlite_path = configure(args)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from tongban.core import clock

    n_have, gen_now = existing_cases()
    info = {}
    if n_have == args.cases and not args.regenerate:
        print(f"Reusing {connection.settings_dict['NAME']} ({n_have:,} cases, generated {gen_now:%Y-%m-%d %H:%M} UTC).")
        try:  # migrations added to the product since the generation
            call_command("migrate", verbosity=0)
        except Exception as exc:  # e.g. a half-written migration in the work tree: time what is there
            print(f"  (migrate failed, continuing with the schema as it is: {exc})")
    else:
        print(f"Generating {args.cases:,} cases into {connection.settings_dict['NAME']} …", flush=True)
        reset_database(args, sqlite_path)
        t = time.perf_counter()
        call_command("migrate", verbosity=0)
        t_migrate = time.perf_counter() - t
        gen_now = timezone.now().replace(microsecond=0)
        if connection.vendor == "sqlite":
            with connection.cursor() as cur:
                cur.execute("PRAGMA cache_size=-1000000")  # 1 GB page cache for the load only
        with clock.at(gen_now):
            info = generate(args, gen_now)
        print(f"Generated in {info['seconds_load']:.1f} s (of which rebuilding indexes {info['seconds_indexes']:.1f} s; + ANALYZE {info['seconds_analyze']:.1f} s, migrate {t_migrate:.1f} s): "
              f"{info['cases']:,} cases, {info['events']:,} events, {info['assignments']:,} assignments.")
        connection.close()
    data = describe_data()
    print(f"Data: {data}  size {db_size(sqlite_path)}")
    if args.generate_only:
        return
    product_rollup = None
    from tongban.analytics import metrics

    if hasattr(metrics, "refresh_day_stats") and not args.no_product_rollup:
        # the product rolls the 三率 counters up by a nightly job: bring it up to date, as in operation
        with clock.at(gen_now):
            t = time.perf_counter()
            n = metrics.refresh_day_stats()
            product_rollup = round(time.perf_counter() - t, 1)
        print(f"  product rollup (metrics.refresh_day_stats): {n:,} rows in {product_rollup} s")
    if args.drop_proposed:
        apply_proposed(drop=True)
    rollup_info = None
    if args.proposed:
        apply_proposed()
    if args.proposed and not args.no_rollup:
        with clock.at(gen_now):
            rollup_info = build_rollup(gen_now)
            today = gen_now.astimezone(TZ).date()
            check_rollup(datetime.combine(today - timedelta(days=30), datetime.min.time(), TZ),
                         datetime.combine(today + timedelta(days=1), datetime.min.time(), TZ))
            check_rollup(gen_now - timedelta(days=7, hours=5), gen_now)  # partial days at both ends

    results = []
    with clock.at(gen_now):
        for name, kind, fn in scenarios(args, gen_now, args.proposed):
            if args.only and not any(s.strip() in name for s in args.only.split(",")):
                continue
            r = measure(name, kind, fn, args.runs)
            results.append(r)
            goal = GOALS_MS[kind]
            flag = "" if r["median"] < goal else f"  ✗ goal {goal} ms"
            print(f"  {name:<44} cold {r['cold']:9.1f}  median {r['median']:9.1f}  p95 {r['p95']:9.1f} ms  "
                  f"rows {r['rows']}{flag}", flush=True)

    vendor = connection.vendor
    print(f"\n| {vendor} N={args.cases:,} | cold ms | median ms | p95 ms | goal |")
    print("|---|---:|---:|---:|---|")
    for r in results:
        goal = GOALS_MS[r["kind"]]
        print(f"| {r['name']} | {r['cold']:.1f} | {r['median']:.1f} | {r['p95']:.1f} | "
              f"{'✓' if r['median'] < goal else '✗'} < {goal} |")
    if args.explain:
        for r in sorted(results, key=lambda r: -r["median"])[: args.explain]:
            print(f"\n=== EXPLAIN: {r['name']} (median {r['median']:.1f} ms)")
            for sql, params in r["queries"]:
                if "core_unit" in sql and "cases_case" not in sql:
                    continue  # the small look-ups (names, sub-units)
                print("--", sql[:2000])
                print(explain(sql, params))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(dict(db=vendor, cases=args.cases, generation=info, data=data, rollup=rollup_info,
                           product_rollup_s=product_rollup,
                           results=[{k: v for k, v in r.items() if k != "queries"} for r in results]), fh,
                      ensure_ascii=False, indent=1, default=str)
    if not args.keep:
        drop_database(args, sqlite_path)
        print("Benchmark database removed (use --keep to reuse it).")


if __name__ == "__main__":
    main()
