"""Load and faults: gunicorn + PostgreSQL under concurrent API clients, then proof that nothing was lost.

    .venv/bin/python benchmarks/load.py                      # a worker per core, two clients per core, 30 s
    .venv/bin/python benchmarks/load.py --kill-worker        # SIGKILL one gunicorn worker mid-run
    .venv/bin/python benchmarks/load.py --workers 2 --clients 4 --celery --progress 0   # production shape, intake only
    .venv/bin/python benchmarks/load.py --workers 3 --clients 24 --seconds 60 --progress 0.3

Loopback only (127.0.0.1), bounded in time. It
 1. prepares a dedicated database (default tongban_load; refuses names without "load"): migrate,
    a small organisation (hotline centre, three departments, operator, dispatcher, handlers), API tokens;
 2. starts gunicorn (N sync workers, DEBUG=0) on that database;
 3. runs C client threads for T seconds. Each intake is `POST /api/v1/cases` with a fresh
    Idempotency-Key; on a connection error or a 5xx the client retries with the same key and body
    (so a worker killed after committing cannot double a case). A share of the acknowledged cases
    (--progress) is then dispatched, signed and finished through the API;
 4. prints throughput, p50/p99 latency per operation and the errors;
 5. verifies in the database that every acknowledged intake exists (by number and key), that no
    key made two cases, and that every acknowledged action left its event — "lost" must be 0.
With --kill-worker one worker is killed with SIGKILL half-way (the master starts a new one).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PASSWORD = "Load#2026test"
GOAL_INTAKES, GOAL_P99_MS = 200, 300  # the issue's goal, on 2 cores, also with a worker killed
TITLES = ["小区路灯不亮", "楼道堆放杂物", "噪音扰民", "道路坑洼积水", "垃圾清运不及时", "供暖温度不达标", "占道经营", "公交站牌损坏"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn sync workers (default: one per core)")
    p.add_argument("--clients", type=int, default=2 * (os.cpu_count() or 2), help="concurrent client threads (default: two per core)")
    p.add_argument("--seconds", type=float, default=30, help="duration of the load (default 30, at most 300)")
    p.add_argument("--progress", type=float, default=0.25, help="share of intakes then dispatched, signed and finished (default 0.25)")
    p.add_argument("--kill-worker", action="store_true", help="SIGKILL one gunicorn worker half-way through")
    p.add_argument("--celery", action="store_true",
                   help="production shape: REDIS_URL set, one Celery worker sends the notifications (else in-process)")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/15", help="Redis for --celery (default db 15)")
    p.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (gthread when > 1)")
    p.add_argument("--db", default="tongban_load", help="PostgreSQL database (created if missing; its name must contain 'load')")
    p.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL without the database")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--json", help="also write the figures to this file")
    args = p.parse_args(argv)
    if "load" not in args.db:
        p.error("the database name must contain 'load' (this script empties it)")
    args.seconds = min(args.seconds, 300)
    return args


# --------------------------------------------------------------------------- database and organisation

def prepare_database(args) -> dict[str, str]:
    """Create and migrate the load database with a small organisation; returns tokens by role."""
    url = f"{args.pg}/{args.db}"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    import psycopg

    with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (args.db,)).fetchone():
            conn.execute(f'CREATE DATABASE "{args.db}"')
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    assert settings.DATABASES["default"]["NAME"] == args.db
    call_command("migrate", verbosity=0)
    from tongban.api.models import ApiToken
    from tongban.cases.models import Case, CaseType
    from tongban.core.models import Level, Region, Unit, UnitKind, User

    county, _ = Region.objects.get_or_create(code="LOAD00", defaults={"name": "压测县", "level": Level.COUNTY})
    centre, _ = Unit.objects.get_or_create(name="压测县12345热线中心", defaults={"kind": UnitKind.CENTRE, "region": county})
    dept, _ = Unit.objects.get_or_create(name="压测县住房和城乡建设局", defaults={"kind": UnitKind.DEPARTMENT, "region": county})
    for name in ("压测县交通运输局", "压测县城市管理局"):
        Unit.objects.get_or_create(name=name, defaults={"kind": UnitKind.DEPARTMENT, "region": county})
    CaseType.objects.get_or_create(code="complaint", defaults={"name": "投诉", "workflow": "hotline", "finish_limit_days": 5})
    tokens = {}
    for username, roles, unit in (("load_operator", "operator", centre), ("load_dispatcher", "dispatcher", centre),
                                  ("load_handler", "handler", dept)):
        user, created = User.objects.get_or_create(username=username, defaults={"roles": roles, "unit": unit, "display_name": username})
        if created:
            user.set_password(PASSWORD)
            user.save()
        tokens[roles] = ApiToken.issue(user, "压测", days=1)[1]
    tokens["unit"] = str(dept.pk)
    tokens["before"] = str(Case.objects.count())
    tokens["last_case"] = str(Case.objects.order_by("-pk").values_list("pk", flat=True).first() or 0)
    return tokens


# --------------------------------------------------------------------------- gunicorn

def start_gunicorn(args) -> subprocess.Popen:
    env = dict(os.environ, DEBUG="0", SECRET_KEY="load-test-only-" + uuid.uuid4().hex, ALLOWED_HOSTS=HOST,
               DATABASE_URL=os.environ["DATABASE_URL"], LOG_LEVEL="ERROR")
    env.pop("REDIS_URL", None)
    if args.celery:
        env["REDIS_URL"] = args.redis
    cmd = [str(ROOT / ".venv" / "bin" / "gunicorn"), "tongban.wsgi", "-b", f"{HOST}:{args.port}", "-w", str(args.workers),
           "--threads", str(args.threads), "--log-level", "warning", "--timeout", "30", "--graceful-timeout", "5"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(HOST, args.port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200 and len(worker_pids(proc.pid)) >= args.workers:
                return proc
        except OSError:
            pass
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited during start-up")
        time.sleep(0.3)
    proc.terminate()
    raise SystemExit("gunicorn did not answer within 60 s")


def start_celery(args) -> subprocess.Popen:
    """One Celery worker (prefork, concurrency 1) on the same database and a Redis db of its own."""
    import redis

    redis.Redis.from_url(args.redis).flushdb()
    env = dict(os.environ, DEBUG="0", SECRET_KEY="load-test-only", ALLOWED_HOSTS=HOST, DATABASE_URL=os.environ["DATABASE_URL"],
               REDIS_URL=args.redis, LOG_LEVEL="ERROR")
    cmd = [str(ROOT / ".venv" / "bin" / "celery"), "-A", "tongban", "worker", "--concurrency", "1", "-l", "info",
           "--without-gossip", "--without-mingle", "--without-heartbeat"]
    path = ROOT / "var" / "load-celery.log"
    log = open(path, "w")  # noqa: SIM115  (the worker writes to it until it stops)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60  # its start-up (about 2 s of CPU) must not land in the measured run
    while " ready." not in path.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the Celery worker did not start: see {path}")
        time.sleep(0.2)
    return proc


def outbox_backlog(since_case_id: int) -> tuple[int, int]:
    """(receipts queued, receipts sent) for the cases this run created."""
    from tongban.notify.models import Outbox, Status

    rows = Outbox.objects.filter(template_code="received", case_id__gt=since_case_id)
    return rows.count(), rows.filter(status=Status.SENT).count()


def machine_busy() -> float:
    """CPU seconds the whole machine spent not idle (all cores), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # minus idle and iowait; guest is in user


def cpu_seconds(match) -> dict[int, float]:
    """utime + stime of every process whose (pid, command line) satisfies `match`."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if not match(int(entry.name), cmdline):
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            continue
    return found


def worker_pids(master: int) -> list[int]:
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return []
    return [int(p) for p in children]


# --------------------------------------------------------------------------- clients

@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)
    acknowledged: dict[str, str] = field(default_factory=dict)  # Idempotency-Key → case number
    actions: list[tuple[str, str]] = field(default_factory=list)  # (number, action) acknowledged
    attempted: int = 0  # distinct Idempotency-Keys sent
    retries: int = 0
    killed_cpu: dict[int, float] = field(default_factory=dict)
    started: float = 0.0
    slowest: tuple[float, str, float] = (0.0, "", 0.0)  # seconds, operation, when (seconds into the run)  # the killed worker's CPU seconds at its death
    lock: threading.Lock = field(default_factory=threading.Lock)


def call(port, method, path, token, body=None, headers=None, timeout=30):
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        # production settings (DEBUG=0) expect TLS ended by a proxy that says so, as nginx does in docs/deploy.md
        conn.request(method, path, body=data, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                                                       "X-Forwarded-Proto": "https", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def with_retries(res: Results, kind: str, port, method, path, token, body=None, headers=None, ok=(200, 201), attempts=6):
    """Send until an answer that is not a connection error or 5xx; the same key and body every time."""
    for attempt in range(attempts):
        started = time.perf_counter()
        try:
            status, payload = call(port, method, path, token, body, headers)
        except (OSError, http.client.HTTPException) as exc:
            with res.lock:
                res.errors[f"{kind}: {type(exc).__name__} (retried)"] += 1
                res.retries += 1
            time.sleep(0.05 * (attempt + 1))
            continue
        elapsed = time.perf_counter() - started
        if status >= 500:
            with res.lock:
                res.errors[f"{kind}: HTTP {status} (retried)"] += 1
                res.retries += 1
            time.sleep(0.05 * (attempt + 1))
            continue
        with res.lock:
            res.latencies[kind].append(elapsed)
            if elapsed > res.slowest[0]:
                res.slowest = (elapsed, kind, time.monotonic() - res.started)
            if status not in ok:
                res.errors[f"{kind}: HTTP {status}"] += 1
        return status, payload
    with res.lock:
        res.errors[f"{kind}: gave up after {attempts} attempts"] += 1
    return None, b""


def client(args, tokens, res: Results, stop_at: float, seed: int):
    rnd = random.Random(seed)
    port = args.port
    while time.monotonic() < stop_at:
        key = uuid.uuid4().hex
        with res.lock:
            res.attempted += 1
        body = {"case_type": "complaint", "title": rnd.choice(TITLES), "content": f"压测诉求 {key[:8]}：{rnd.choice(TITLES)}，请尽快处理。",
                "requester_phone": f"139{rnd.randrange(10**8):08d}", "address": f"压测县{rnd.randrange(100)}号"}
        status, payload = with_retries(res, "intake", port, "POST", "/api/v1/cases", tokens["operator"], body,
                                       {"Idempotency-Key": key}, ok=(201,))
        if status != 201:
            continue
        number = json.loads(payload)["number"]
        with res.lock:
            res.acknowledged[key] = number
        if rnd.random() >= args.progress or time.monotonic() >= stop_at:
            continue
        steps = (("dispatch", tokens["dispatcher"], {"unit": int(tokens["unit"])}), ("sign", tokens["handler"], None),
                 ("finish", tokens["handler"], {"reply": "已现场处理完毕，问题解决。", "result": "solved"}))
        for action, token, data in steps:
            # a retried action the first attempt already did answers 409 (state moved on): that is done, too
            status, _ = with_retries(res, action, port, "POST", f"/api/v1/cases/{number}/{action}", token, data, ok=(200, 409))
            if status not in (200, 409):
                break
            with res.lock:
                res.actions.append((number, action))


def killer(args, master: int, at: float, res: Results):
    time.sleep(max(0.0, at - time.monotonic()))
    pids = worker_pids(master)
    if pids:
        victim = random.choice(pids)
        res.killed_cpu = cpu_seconds(lambda pid, _: pid == victim)  # its CPU so far still counts
        os.kill(victim, signal.SIGKILL)
        with res.lock:
            res.errors[f"killed worker pid {victim} at t={args.seconds / 2:.0f}s"] += 1


# --------------------------------------------------------------------------- report and verification

def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))] * 1000 if ordered else float("nan")


def verify(res: Results, before: int) -> dict:
    from django.db.models import Count

    from tongban.cases.models import Case, CaseEvent

    numbers = set(res.acknowledged.values())
    found = set(Case.objects.filter(number__in=numbers).values_list("number", flat=True))
    created = Case.objects.count() - before
    events = set(CaseEvent.objects.filter(case__number__in={n for n, _ in res.actions}, action__in=("dispatch", "sign", "finish"))
                 .values_list("case__number", "action"))
    twice = CaseEvent.objects.filter(action__in=("dispatch", "sign", "finish")).values("case", "action").annotate(n=Count("id")).filter(n__gt=1).count()
    return {
        "acknowledged_intakes": len(numbers), "found": len(found), "lost_intakes": len(numbers - found),
        "keys_sent": res.attempted, "cases_created": created, "doubled_intakes": max(0, created - res.attempted),
        "acknowledged_actions": len(res.actions), "lost_actions": len(set(res.actions) - events), "actions_applied_twice": twice,
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    print(f"准备数据库 {args.db} …", flush=True)
    tokens = prepare_database(args)
    from django.db import connections

    connections.close_all()
    worker = start_celery(args) if args.celery else None
    proc = start_gunicorn(args)
    res = Results()
    try:
        print(f"gunicorn {args.workers} 个 worker（pid {proc.pid}），{args.clients} 个客户端，{args.seconds:.0f} 秒"
              f"{'，中途杀掉一个 worker' if args.kill_worker else ''} …", flush=True)
        def server(pid, _cmdline):  # web workers and the Celery worker's processes (the rest: from the machine's total)
            return pid in worker_pids(proc.pid) or (worker is not None and (pid == worker.pid or pid in worker_pids(worker.pid)))
        cpu_before, client_cpu, busy_before = cpu_seconds(server), time.process_time(), machine_busy()
        started = res.started = time.monotonic()
        stop_at = started + args.seconds
        threads = [threading.Thread(target=client, args=(args, tokens, res, stop_at, i), daemon=True) for i in range(args.clients)]
        if args.kill_worker:
            threads.append(threading.Thread(target=killer, args=(args, proc.pid, started + args.seconds / 2, res), daemon=True))
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=args.seconds + 120)
        wall = time.monotonic() - started
        cpu_after, client_cpu = cpu_seconds(server), time.process_time() - client_cpu
        machine_cpu = machine_busy() - busy_before - client_cpu  # everything but this load generator
        web_pids = set(worker_pids(proc.pid)) | set(res.killed_cpu)
        job_pids = {worker.pid, *worker_pids(worker.pid)} if worker is not None else set()
        deadline = time.monotonic() + 60  # the receipts (受理回执) must all go out, not only the intakes
        while time.monotonic() < deadline and (backlog := outbox_backlog(int(tokens["last_case"])))[1] < backlog[0]:
            time.sleep(0.5)
        drained = time.monotonic() - started - wall
    finally:
        proc.send_signal(signal.SIGTERM)
        if worker is not None:
            worker.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        if worker is not None:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
    queued, sent = outbox_backlog(int(tokens["last_case"]))
    figures = {"workers": args.workers, "threads": args.threads, "celery": args.celery, "clients": args.clients,
               "seconds": round(wall, 1), "kill_worker": args.kill_worker, "receipts_queued": queued, "receipts_sent": sent,
               "receipts_drained_after_s": round(drained, 1),
               "cpu_count": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2)}
    print(f"\n实际时长 {wall:.1f} s；本机 {os.cpu_count()} 核，结束时 1 分钟平均负载 {os.getloadavg()[0]:.1f}")
    print(f"{'操作':<10}{'次数':>8}{'每秒':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    everything = []
    for kind in ("intake", "dispatch", "sign", "finish"):
        values = res.latencies.get(kind, [])
        everything += values
        if values:
            figures[kind] = {"count": len(values), "per_second": round(len(values) / wall, 1), "p50_ms": round(pct(values, 50), 1),
                             "p99_ms": round(pct(values, 99), 1), "max_ms": round(max(values) * 1000, 1)}
            print(f"{kind:<10}{len(values):>8}{len(values) / wall:>9.1f}{pct(values, 50):>9.1f}{pct(values, 99):>9.1f}{max(values) * 1000:>9.1f}")
    if everything:
        print(f"{'全部请求':<8}{len(everything):>8}{len(everything) / wall:>9.1f}{pct(everything, 50):>9.1f}{pct(everything, 99):>9.1f}")
    used = {pid: v - cpu_before.get(pid, 0.0) for pid, v in (cpu_after | res.killed_cpu).items()}
    if everything:
        n = len(everything)
        web = 1000 * sum(v for pid, v in used.items() if pid in web_pids) / n
        jobs = 1000 * sum(v for pid, v in used.items() if pid in job_pids) / n
        per_request = 1000 * machine_cpu / n
        figures.update(machine_cpu_ms_per_request=round(per_request, 1), web_cpu_ms_per_request=round(web, 1),
                       celery_cpu_ms_per_request=round(jobs, 1), client_cpu_s=round(client_cpu, 1))
        # database backends come and go (CONN_MAX_AGE), so the machine's busy time is the honest total
        print(f"CPU 每请求：整机 {per_request:.1f} ms（不含压测客户端；其中 web worker {web:.1f} ms，Celery {jobs:.1f} ms，"
              f"其余为 PostgreSQL、Redis 与内核）；按此推算 {os.cpu_count()} 核全部用上时"
              f"约 {os.cpu_count() * 1000 / per_request:.0f} 请求/秒（压测客户端本身用了 {client_cpu:.1f} CPU 秒）")
    print(f"受理回执短信：排队 {queued} 条，已发送 {sent} 条（压测结束后 {drained:.1f} 秒内发完）"
          f"{'，由 Celery worker 批量发送' if args.celery else '，由 web 进程提交后发送'}")
    slow, slow_kind, slow_at = res.slowest
    figures["slowest"] = {"ms": round(slow * 1000, 1), "operation": slow_kind, "finished_at_s": round(slow_at, 1)}
    print(f"最慢一次：{slow_kind} {slow * 1000:.0f} ms，在第 {slow_at:.1f} 秒结束")
    print(f"重试 {res.retries} 次；错误与事件：" + ("无" if not res.errors else ""))
    for what, n in sorted(res.errors.items()):
        print(f"  {n:>6} × {what}")
    check = verify(res, int(tokens["before"]))
    figures.update(verification=check, errors=dict(res.errors), retries=res.retries)
    print("核对数据库：" + "，".join(f"{k}={v}" for k, v in check.items()))
    ok = check["acknowledged_intakes"] > 0 and check["lost_intakes"] == 0 and sent == queued and check["lost_actions"] == 0 and check["actions_applied_twice"] == 0 \
        and check["doubled_intakes"] == 0
    print("结论：" + ("0 丢失，无重复。" if ok else "有丢失、重复，或没有一件受理成功！"))
    intake = figures.get("intake", {})
    goal = {"intakes_per_second": intake.get("per_second", 0) >= GOAL_INTAKES, "p99_ms": intake.get("p99_ms", 1e9) < GOAL_P99_MS,
            "nothing_lost": ok}
    figures["goal"] = goal | {"met": all(goal.values())}
    print(f"目标（每秒受理 ≥ {GOAL_INTAKES} 件、受理 p99 < {GOAL_P99_MS} ms、0 丢失，{os.cpu_count()} 核）："
          + ("达到" if all(goal.values()) else "未达到：" + "、".join(
              {"intakes_per_second": f"每秒受理 {intake.get('per_second', 0)} 件", "p99_ms": f"p99 {intake.get('p99_ms')} ms",
               "nothing_lost": "有丢失或重复"}[k] for k, v in goal.items() if not v)))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, ensure_ascii=False, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
