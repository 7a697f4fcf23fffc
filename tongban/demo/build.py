"""Build the demo (虚构示范数据): the fictional county 示范市青溪县, an account for every role,
the taxonomy with default units, and N requests replayed through the real service functions.

Every case is driven by ``tongban.hotline.services`` under ``clock.at(t)``; nothing writes Case,
CaseEvent or Assignment rows directly. The replay is one global timeline: each case's story is a
generator that yields the moment of its next step, and a heap runs the steps of all cases in time
order, so that what a step sees (e.g. whether the original of a duplicate is still open) is what
would have been true at that moment. Steps that would happen after "now" are not taken: recent
cases are left where they are (待派单, 待签收, 办理中 …).
"""
from __future__ import annotations

import hashlib
import heapq
import importlib
import importlib.util
import itertools
import time as _time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dtime
from random import Random

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Count, ProtectedError
from django.utils import timezone

from tongban.analytics.metrics import refresh_day_stats
from tongban.analytics.models import RollupMark
from tongban.cases.models import Assignment, Case, CaseEvent, CaseType, Category
from tongban.core import clock
from tongban.core.models import Level, Region, Role, Sequence, Unit, UnitKind, User
from tongban.hotline import services as hotline
from tongban.hotline.choices import RefusalReason, Result, Satisfaction
from tongban.hotline.taxonomy import load_taxonomy
from tongban.hotline.workflow import HOTLINE
from tongban.knowledge.models import Article
from tongban.knowledge.seed import load_articles
from tongban.workdays import services as workdays

from . import content as C

DEMO_REGION_PREFIX = C.CITY[0][:2]  # "99": no real 行政区划代码 starts with it
CHUNK_STEPS = 1500  # service calls per transaction
TYPE_WEIGHTS = {"consult": 30, "complaint": 25, "help": 20, "report": 8, "suggestion": 12, "praise": 5}
CHANNEL_WEIGHTS = {"phone": 60, "web": 10, "h5": 10, "grid": 6, "qr": 5, "api": 4, "window": 3, "enterprise": 2}
HOUR_WEIGHTS = [0.25, 0.12, 0.08, 0.06, 0.08, 0.2, 0.6, 1.5, 3.6, 5.4, 5.6, 4.8,
                2.8, 3.2, 4.9, 5.2, 4.8, 3.9, 2.8, 2.5, 2.2, 1.6, 1.0, 0.5]
CENTRE_HOURS = (8, 21)  # the centre dispatches and calls back between 08:00 and 21:00, every day
DISPATCHED_FATES = ("normal", "reassign", "keep", "extension", "suspend", "suspend_hold", "stuck")


class DemoError(Exception):
    """The demo cannot be built or reset. The message is in Chinese."""


# --------------------------------------------------------------------------- organisation


@dataclass
class Village:
    name: str
    urban: bool
    region: Region
    unit: Unit
    grids: list[Region]
    handler: User | None = None
    grid_units: list[tuple[Unit, User]] = field(default_factory=list)


@dataclass
class Town:
    key: str
    name: str
    weight: float
    region: Region
    unit: Unit
    villages: list[Village]
    handler: User | None = None

    def relay_targets(self, urban: bool | None = None) -> list[tuple[Village, Unit]]:
        out = []
        for v in self.villages:
            if urban is not None and v.urban != urban:
                continue
            if v.handler:
                out.append((v, v.unit))
            out.extend((v, u) for u, _ in v.grid_units)
        return out


@dataclass
class Org:
    county: Region
    centre: Unit
    hall: Unit  # 县政务服务中心 (综合窗口)
    clerks: list[User]
    units: dict[str, Unit]  # departments and enterprises by key
    towns: list[Town]
    operators: list[User]
    dispatchers: list[User]
    supervisor: User
    handlers: dict[int, list[User]]  # unit id → people who sign and finish there
    admins: dict[int, User]  # unit id → unit admin
    unit_keys: dict[int, str]  # unit id → key used for profiles (villages/grids inherit their town's)
    accounts: list[tuple[str, str, str, str]]  # username, name, roles, unit
    skipped_accounts: list[str]

    def profile(self, unit: Unit) -> dict:
        return C.PROFILES[C.UNIT_PROFILES.get(self.unit_keys.get(unit.pk, ""), "avg")]

    def handler(self, unit: Unit, rng: Random) -> User:
        people = self.handlers.get(unit.pk)
        if not people:
            raise DemoError(f"示范数据错误：单位“{unit}”没有承办人账号。")
        return people[0] if len(people) == 1 else rng.choice(people)


def _town_unit_name(name: str) -> str:
    return f"{name}办事处" if name.endswith("街道") else f"{name}人民政府"


def _village_unit_name(name: str) -> str:
    return f"{name}居民委员会" if name.endswith("社区") else f"{name}村民委员会"


def create_org(seed: int) -> Org:
    """Regions, units and accounts of the fictional county. Runs inside the caller's transaction."""
    rng = Random(f"org:{seed}")
    password = make_password(C.PASSWORD)  # hashed once: all demo accounts share it
    names = iter(C.STAFF_NAMES)
    users: list[User] = []
    accounts: list[tuple[str, str, str, str]] = []
    skipped: list[str] = []
    existing = set(User.objects.values_list("username", flat=True))

    def person(username: str, roles: str, unit: Unit, **extra) -> User | None:
        display = next(names)
        if username in existing:  # an account of that name exists (e.g. a superuser "admin"): reuse it
            user = User.objects.get(username=username)
            user.roles, user.unit = roles, unit
            user.display_name = user.display_name or display
            if not user.is_superuser:
                user.password = password
            else:
                skipped.append(username)  # its password is left alone
            for k, v in extra.items():
                setattr(user, k, v)
            user.save()
            accounts.append((username, user.display_name, roles, unit.name))
            return user
        user = User(username=username, display_name=display, roles=roles, unit=unit, password=password,
                    is_demo=True, must_change_password=True, **extra)  # first login: change password (skippable in demo mode)
        users.append(user)
        accounts.append((username, display, roles, unit.name))
        return user

    city = Region.objects.create(code=C.CITY[0], name=C.CITY[1], level=Level.CITY)
    county = Region.objects.create(code=C.COUNTY[0], name=C.COUNTY[1], level=Level.COUNTY, parent=city)
    centre = Unit.objects.create(name="县12345热线中心", short_name="12345热线", kind=UnitKind.CENTRE, region=county, phone="12345")
    hall = Unit.objects.create(name="县政务服务中心", short_name="政务服务中心", kind=UnitKind.DEPARTMENT, region=county)
    units: dict[str, Unit] = {}
    for key, name, short in C.DEPARTMENTS:
        units[key] = Unit.objects.create(name=name, short_name=short, kind=UnitKind.DEPARTMENT, region=county)
    for key, name, short in C.ENTERPRISES:
        units[key] = Unit.objects.create(name=name, short_name=short, kind=UnitKind.ENTERPRISE, region=county)
    unit_keys = {u.pk: k for k, u in units.items()}

    grid_wanted = defaultdict(int)
    for village, ordinal, _ in C.GRID_UNITS:
        grid_wanted[village] = max(grid_wanted[village], ordinal)
    towns: list[Town] = []
    for ti, (key, name, weight, villages) in enumerate(C.TOWNS, start=1):
        t_region = Region.objects.create(code=f"{C.COUNTY[0]}{ti:03d}", name=name, level=Level.TOWN, parent=county)
        t_unit = Unit.objects.create(name=_town_unit_name(name), short_name=name, kind=UnitKind.TOWN, region=t_region,
                                     sees_subunits=True)
        unit_keys[t_unit.pk] = key
        town = Town(key, name, weight, t_region, t_unit, [])
        for vi, (v_name, _) in enumerate(villages, start=1):
            v_region = Region.objects.create(code=f"{t_region.code}{vi:03d}", name=v_name, level=Level.VILLAGE, parent=t_region)
            v_unit = Unit.objects.create(name=_village_unit_name(v_name), short_name=v_name, kind=UnitKind.VILLAGE,
                                         region=v_region, parent=t_unit, sees_subunits=v_name in grid_wanted)
            unit_keys[v_unit.pk] = key
            n_grids = max(rng.randint(1, 3), grid_wanted.get(v_name, 0))
            grids = [Region.objects.create(code=f"{v_region.code}{gi:03d}", name=f"{v_name}第{C.GRID_ORDINALS[gi - 1]}网格",
                                           level=Level.GRID, parent=v_region) for gi in range(1, n_grids + 1)]
            town.villages.append(Village(v_name, v_name.endswith("社区"), v_region, v_unit, grids))
        towns.append(town)

    # accounts: the centre first, then departments, towns, villages, grids
    operators = [person(f"operator{i}", Role.OPERATOR, centre) for i in (1, 2, 3)]
    dispatchers = [person("dispatcher", Role.DISPATCHER, centre), person("dispatcher2", Role.DISPATCHER, centre)]
    supervisor = person("supervisor", Role.SUPERVISOR, centre)
    person("admin", Role.SYSADMIN, centre, is_staff=True)  # admin rights from the role, not a superuser (三员分立)
    person("secadmin", Role.SECADMIN, centre)  # 三员分立: security and audit administrators
    person("auditor", Role.AUDITOR, centre)
    clerks = [person(f"clerk{i}", Role.CLERK, hall) for i in (1, 2)]  # 无差别综合窗口
    person("hall_admin", Role.UNIT_ADMIN, hall)
    handlers: dict[int, list[User]] = defaultdict(list)
    admins: dict[int, User] = {}
    for key, _, _ in C.DEPARTMENTS + C.ENTERPRISES:
        handlers[units[key].pk].append(person(key, Role.HANDLER, units[key]))
        admins[units[key].pk] = person(f"{key}_admin", Role.UNIT_ADMIN, units[key])
    for town, (_, _, _, villages) in zip(towns, C.TOWNS):
        town.handler = person(town.key, f"{Role.HANDLER},{Role.DISPATCHER}", town.unit)
        handlers[town.unit.pk].append(town.handler)
        admins[town.unit.pk] = person(f"{town.key}_admin", Role.UNIT_ADMIN, town.unit)
    for town, (_, _, _, villages) in zip(towns, C.TOWNS):
        for village, (_, username) in zip(town.villages, villages):
            if username:
                village.handler = person(username, Role.HANDLER, village.unit)
                handlers[village.unit.pk].append(village.handler)
    by_name = {v.name: v for t in towns for v in t.villages}
    for v_name, ordinal, username in C.GRID_UNITS:
        village = by_name[v_name]
        grid_region = village.grids[ordinal - 1]
        g_unit = Unit.objects.create(name=grid_region.name, short_name=grid_region.name, kind=UnitKind.GRID,
                                     region=grid_region, parent=village.unit)
        unit_keys[g_unit.pk] = unit_keys[village.unit.pk]
        worker = person(username, Role.HANDLER, g_unit)
        handlers[g_unit.pk].append(worker)
        village.grid_units.append((g_unit, worker))
    User.objects.bulk_create(users)
    # bulk_create sets pks on SQLite and PostgreSQL; re-read to be safe on other backends
    fresh = {u.username: u for u in User.objects.filter(username__in=[u.username for u in users]).select_related("unit")}

    def refresh(u: User) -> User:
        return fresh.get(u.username, u)

    for unit_id in handlers:
        handlers[unit_id] = [refresh(u) for u in handlers[unit_id]]
    for unit_id in admins:
        admins[unit_id] = refresh(admins[unit_id])
    for town in towns:
        town.handler = refresh(town.handler)
        for v in town.villages:
            v.handler = refresh(v.handler) if v.handler else None
            v.grid_units = [(g, refresh(w)) for g, w in v.grid_units]
    return Org(county=county, centre=centre, hall=hall, clerks=[refresh(u) for u in clerks], units=units, towns=towns,
               operators=[refresh(u) for u in operators], dispatchers=[refresh(u) for u in dispatchers],
               supervisor=refresh(supervisor), handlers=dict(handlers), admins=admins, unit_keys=unit_keys,
               accounts=accounts, skipped_accounts=skipped)


def setup_taxonomy(org: Org) -> dict[str, Category]:
    load_taxonomy()
    for full_name, key in C.CATEGORY_UNITS.items():
        Category.objects.filter(full_name=full_name).update(default_unit=org.units[key])
    return {c.full_name: c for c in Category.objects.all()}


def unit_for_category(full_name: str) -> str | None:
    """The unit key of the longest configured prefix of `full_name`."""
    parts = full_name.split("/")
    for n in range(len(parts), 0, -1):
        key = C.CATEGORY_UNITS.get("/".join(parts[:n]))
        if key:
            return key
    return None


# --------------------------------------------------------------------------- the plan


class _Slots(dict):
    def __missing__(self, key):  # leave {unit}, {title} … for later
        return "{" + key + "}"


@dataclass
class Plan:
    i: int
    at: datetime
    type: str
    fate: str = "normal"
    forced: bool = False
    channel: str = "phone"
    town: Town | None = None
    village: Village | None = None
    region: Region | None = None
    reporter: User | None = None
    title: str = ""
    content: str = ""
    address: str = ""
    name: str = ""
    phone: str = ""
    category: str = ""
    target: Unit | None = None
    reply: str = ""  # may contain {unit} and {title}
    real_reply: bool = False
    reason: str = ""  # refusal reason
    note: str = ""  # refusal note
    original: int | None = None  # duplicate of plan #
    relay: bool = False
    relay_to: Unit | None = None
    supervised: bool = False
    approve: bool = True
    unsatisfied_first: bool = False
    slow: bool = False


def _age_days(end: datetime, at: datetime) -> float:
    return (end - at).total_seconds() / 86400


def sample_times(n: int, days: int, end: datetime, rng: Random) -> list[datetime]:
    """N request times over the last `days` days before `end`: weekday- and office-hour-heavy."""
    tz = timezone.get_default_timezone()
    end_local = timezone.localtime(end, tz)
    today = end_local.date()
    day_list = [today - timedelta(days=k) for k in range(days - 1, -1, -1)]
    hour_total = sum(HOUR_WEIGHTS)
    elapsed = sum(HOUR_WEIGHTS[: end_local.hour]) + HOUR_WEIGHTS[end_local.hour] * end_local.minute / 60
    weights = []
    for d in day_list:
        w = (1.0 if workdays.is_workday(d) else 0.5) * rng.uniform(0.85, 1.15)
        if d == today:
            w *= elapsed / hour_total
        weights.append(w)
    cum_days = list(itertools.accumulate(weights))
    cum_hours = list(itertools.accumulate(HOUR_WEIGHTS))
    out = []
    for _ in range(n):
        for _attempt in range(100):
            d = rng.choices(day_list, cum_weights=cum_days)[0]
            h = rng.choices(range(24), cum_weights=cum_hours)[0]
            t = timezone.make_aware(datetime.combine(d, dtime(h, rng.randrange(60), rng.randrange(60))), tz)
            if t < end:
                break
        else:
            t = end - timedelta(minutes=rng.uniform(1, 60))
        out.append(t)
    out.sort()
    return out


class Planner:
    """Decides, deterministically from the seed, what each request is and what will happen to it."""

    def __init__(self, org: Org, categories: dict[str, Category], *, seed: int, end: datetime, days: int):
        self.org, self.categories, self.end, self.days = org, categories, end, days
        self.rng = Random(f"plan:{seed}")
        self.callers: list[tuple[str, str]] = []
        self.frequent: list[tuple[str, str]] = []
        self.by_type: dict[str, list[C.Template]] = defaultdict(list)
        for t in C.TEMPLATES:
            self.by_type[t.type].append(t)
        self.real: dict[str, list[C.Message]] = defaultdict(list)
        for m in C.messages():
            self.real[m.type].append(m)
        self.town_weights = list(itertools.accumulate(t.weight for t in org.towns))

    # ---------------------------------------------------------------- fates
    def plan(self, n: int) -> list[Plan]:
        rng = self.rng
        times = sample_times(n, self.days, self.end, Random(f"times:{rng.random()}"))
        types = list(TYPE_WEIGHTS)
        cum_types = list(itertools.accumulate(TYPE_WEIGHTS.values()))
        plans = [Plan(i, at, rng.choices(types, cum_weights=cum_types)[0]) for i, at in enumerate(times)]
        for p in plans:
            p.fate = self._random_fate(p)
        self._force(plans)
        for p in plans:
            if p.fate != "duplicate":
                self._describe(p)
        for p in plans:
            if p.fate == "duplicate":
                self._duplicate(p, plans)
        return plans

    def _random_fate(self, p: Plan) -> str:
        rng, age = self.rng, _age_days(self.end, p.at)
        r = rng.random()
        if r < 0.02:
            p.reason = rng.choice(RefusalReason.values)
            return "refuse"
        if r < 0.05:
            return "duplicate"
        if p.type == "consult" and rng.random() < 0.6:
            return "direct"
        fate = rng.choices(DISPATCHED_FATES, weights=(84.5, 3.5, 1.5, 4.5, 3.0, 0.5, 1.2))[0]
        if fate == "extension":
            p.approve = rng.random() < 0.75
        if fate == "stuck":
            if age < 8:
                return "normal"
            p.supervised = rng.random() < 0.5
        if fate == "suspend_hold" and age > 30:
            return "suspend"
        if p.type == "praise" and fate != "normal":
            return "normal"
        return fate

    def _force(self, plans: list[Plan]) -> None:
        """Make sure every state and scenario is present, whatever N is (as far as N allows)."""
        rng, end = self.rng, self.end
        free = lambda p: not p.forced  # noqa: E731

        def pick(k: int, lo: float, hi: float, **attrs) -> list[Plan]:
            cands = [p for p in plans if free(p) and lo <= _age_days(end, p.at) <= hi]
            if len(cands) < k:  # widen the window rather than miss the scenario
                cands = [p for p in plans if free(p)]
            chosen = rng.sample(cands, min(k, len(cands)))
            for p in chosen:
                p.forced = True
                for a, v in attrs.items():
                    setattr(p, a, v)
            return chosen

        n = len(plans)
        newest = [p for p in reversed(plans)][: max(3, round(n * 0.004))]
        for p in newest:
            p.forced, p.fate = True, "no_dispatch"
        pick(2, 0.04, 1.0, fate="direct_hold", type="consult")
        pick(2, 0.1, 1.5, fate="unsigned", type="complaint")
        pick(2, 0.1, 2.0, fate="return_pending", type="complaint")
        for reason in RefusalReason.values:
            pick(1, 0.05, self.days, fate="refuse", reason=reason)
        pick(2, 2, 20, fate="suspend_hold", type="complaint")
        stuck = pick(max(3, round(n * 0.006)), 8, self.days, fate="stuck", type="complaint")
        for j, p in enumerate(stuck):
            p.supervised = j % 2 == 0
        pick(2, 16, self.days, fate="normal", type="complaint", unsatisfied_first=True)
        pick(3, 5, self.days, fate="normal", type="help", relay=True)
        pick(2, 8, self.days, fate="reassign", type="complaint")
        pick(2, 8, self.days, fate="keep", type="complaint")
        for approve in (True, False):
            pick(1, 10, self.days, fate="extension", type="complaint", approve=approve)
        pick(2, 3, self.days, fate="normal", type="praise")
        # a duplicate that stays merged (its original is stuck) …
        if stuck:
            original = min(stuck, key=lambda p: p.at)
            later = [p for p in plans if free(p) and p.at > original.at + timedelta(hours=12)]
            if later:
                dup = rng.choice(later)
                dup.forced, dup.fate, dup.original = True, "duplicate", original.i
        # … and one that is closed with its original
        for original in pick(1, 15, self.days, fate="normal", type="complaint", slow=True):
            later = [p for p in plans if free(p) and original.at < p.at <= original.at + timedelta(hours=20)]
            if later:
                dup = later[0]
                dup.forced, dup.fate, dup.original = True, "duplicate", original.i

    # ---------------------------------------------------------------- content
    def _town(self) -> Town:
        return self.rng.choices(self.org.towns, cum_weights=self.town_weights)[0]

    def _place(self, area: str) -> tuple[Town, Village]:
        rng = self.rng
        for _ in range(50):
            town = self._town()
            options = [v for v in town.villages if area == "" or v.urban == (area == "urban")]
            if options:
                return town, rng.choice(options)
        town = self._town()
        return town, rng.choice(town.villages)

    def _caller(self) -> tuple[str, str]:
        rng = self.rng
        if len(self.frequent) < 6 and rng.random() < 0.01:
            self.frequent.append((C.person_name(rng), C.mobile(rng)))
        r = rng.random()
        if self.frequent and r < 0.03:
            return rng.choice(self.frequent)
        if self.callers and r < 0.2:
            return rng.choice(self.callers[-600:])
        caller = (C.person_name(rng), C.mobile(rng))
        self.callers.append(caller)
        return caller

    def _address(self, town: Town, village: Village, slots: dict) -> str:
        rng = self.rng
        if village.urban:
            if rng.random() < 0.6:
                return f"{town.name}{village.name}{slots['estate']}{rng.randint(1, 28)}栋{rng.randint(1, 4)}单元"
            return f"{town.name}{slots['road']}{rng.randint(1, 320)}号"
        return f"{town.name}{village.name}{rng.randint(1, 12)}组"

    def _describe(self, p: Plan) -> None:
        rng = self.rng
        p.name, p.phone = self._caller()
        p.channel = rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()))[0]
        if p.fate == "refuse":
            title, text, note = rng.choice(C.REFUSALS[p.reason])
            p.town, p.village = self._place("")
            slots = self._slots(p.town, p.village)
            p.title, p.content, p.note = C.fill(title, slots), C.fill(text, slots), note
            p.address, p.region = slots["addr"], p.village.region
            p.category = C.classify(p.title + p.content)
            p.channel = "phone"
            return
        use_real = p.type in self.real and not p.relay and rng.random() < 0.3
        if use_real:
            m = rng.choice(self.real[p.type])
            p.town, p.village = self._place("")
            slots = self._slots(p.town, p.village)
            p.title = C.localize(m.title, p.town.name)[:200]
            p.content = C.localize(m.detail, p.town.name)
            p.category, p.address = m.category, slots["addr"]
            route = "dept" if rng.random() < 0.7 else "town"
            if m.reply:
                p.reply, p.real_reply = C.clean_reply(m.reply, p.town.name), True
            else:
                p.reply = C.GENERIC_REPLIES["consult"] if p.type == "consult" else (
                    C.GENERIC_REPLIES["suggestion"] if p.type == "suggestion" else rng.choice(C.GENERIC_REPLIES["default"]))
        else:
            choices = self.by_type[p.type]
            if p.relay:
                choices = [t for t in choices if t.route == "town"] or choices
            tpl = rng.choice(choices)
            p.town, p.village = self._place(tpl.area)
            route = tpl.route
            if p.relay or (route == "town" and rng.random() < 0.4):
                targets = p.town.relay_targets(None if not tpl.area else tpl.area == "urban")
                if targets:
                    village, unit = rng.choice(targets)
                    p.village, p.relay_to = village, unit
            slots = self._slots(p.town, p.village)
            p.title, p.content = C.fill(tpl.title, slots), C.fill(tpl.content, slots)
            p.category, p.reply, p.address = tpl.category, C.fill(tpl.reply, slots), slots["addr"]
        p.region = p.village.region
        if p.channel == "grid":
            if p.village.grid_units:
                unit, worker = rng.choice(p.village.grid_units)
                p.region, p.reporter = unit.region, worker
            else:
                p.region = rng.choice(p.village.grids)
        # where it goes
        if route == "town":
            p.target = p.town.unit
        elif route == "dept":
            key = unit_for_category(p.category)
            p.target = self.org.units[key] if key else p.town.unit
        else:
            p.target = self.org.units[route]
        if p.target != p.town.unit:
            p.relay_to = None
        elif p.relay_to is None and rng.random() < 0.25 and not p.relay:
            targets = [(v, u) for v, u in p.town.relay_targets() if v is p.village]
            if targets:
                p.relay_to = rng.choice(targets)[1]

    def _slots(self, town: Town, village: Village) -> _Slots:
        rng = self.rng
        road, road2 = rng.sample(C.ROADS, 2)
        estate = rng.choice(C.ESTATES)
        slots = _Slots(
            town=town.name, village=village.name, road=road, road2=road2, estate=estate,
            shop=rng.choice(C.SHOPS), netbar=rng.choice(C.NETBARS), company=rng.choice(C.COMPANIES),
            school=rng.choice(C.SCHOOLS), bus=rng.randint(1, 12), n=rng.randint(2, 9), months=rng.randint(2, 8),
            amount=rng.randrange(8, 160) * 500,
        )
        addr = slots["addr"] = self._address(town, village, slots)
        slots["place"] = estate if estate in addr else (road if road in addr else village.name)
        return slots

    def _duplicate(self, p: Plan, plans: list[Plan]) -> None:
        rng = self.rng
        if p.original is None:
            window = [q for q in plans[max(0, p.i - 200): p.i]
                      if q.fate in DISPATCHED_FATES and q.type not in ("consult", "praise")
                      and timedelta(minutes=10) < p.at - q.at < timedelta(days=3)]
            if not window:
                p.fate = "normal"
                self._describe(p)
                return
            p.original = rng.choice(window).i
        o = plans[p.original]
        p.type = o.type
        p.name, p.phone = self._caller()
        p.channel = rng.choices(["phone", "web", "h5"], weights=[80, 10, 10])[0]
        p.town, p.village, p.region, p.target, p.category = o.town, o.village, o.region, o.target, o.category
        p.title, p.address, p.reply, p.real_reply = o.title, o.address, o.reply, o.real_reply
        p.content = f"{o.address}，{o.title}。" + rng.choice(
            ["已经有人反映过，至今没有处理，请尽快解决。", "附近很多居民都有同样的问题，希望尽快处理。", "问题依旧存在，请相关部门尽快处理。"])


# --------------------------------------------------------------------------- the replay


def _minutes(m: float) -> timedelta:
    return timedelta(seconds=round(m * 60))


class Replay:
    """Runs the stories of all plans on one timeline, through the hotline services."""

    def __init__(self, org: Org, categories: dict[str, Category], *, seed: int, end: datetime,
                 progress: Callable[[int, int], None] | None = None, progress_every: int = 500):
        self.org, self.categories, self.seed, self.end = org, categories, seed, end
        self.types = {ct.code: ct for ct in CaseType.objects.filter(workflow=HOTLINE.code)}
        missing = set(TYPE_WEIGHTS) - set(self.types)
        if missing:
            raise DemoError(f"缺少诉求类型：{'、'.join(sorted(missing))}。请先运行 `tongban migrate`。")
        self.cases: dict[int, Case] = {}
        self.progress, self.progress_every = progress, progress_every
        self.intakes = 0
        self.steps = 0
        self.total = 0

    # ---------------------------------------------------------------- time helpers
    def office(self, t: datetime, hours: float) -> datetime:
        """`hours` of office time after t (the unit works in office hours on working days)."""
        return workdays.add_working_hours(t, max(hours, 0.02))

    def centre(self, t: datetime, minutes: float, rng: Random) -> datetime:
        x = t + _minutes(minutes)
        local = timezone.localtime(x)
        if CENTRE_HOURS[0] <= local.hour < CENTRE_HOURS[1]:
            return x
        day = local.date() + (timedelta(days=1) if local.hour >= CENTRE_HOURS[1] else timedelta(0))
        start = timezone.make_aware(datetime.combine(day, dtime(CENTRE_HOURS[0])), timezone.get_default_timezone())
        return start + _minutes(rng.uniform(0, 90))

    # ---------------------------------------------------------------- running
    def run(self, plans: list[Plan]) -> None:
        self.total = len(plans)
        heap: list = []
        counter = itertools.count()
        for p in plans:
            gen = self.story(p)
            heapq.heappush(heap, (next(gen), next(counter), gen))
        one_second = timedelta(seconds=1)
        while heap:
            with transaction.atomic():
                for _ in range(CHUNK_STEPS):
                    if not heap:
                        break
                    t, _, gen = heapq.heappop(heap)
                    if t > self.end:  # everything left is in the future
                        gen.close()
                        for _, _, g in heap:
                            g.close()
                        heap.clear()
                        break
                    before = self.intakes
                    with clock.at(t):
                        try:
                            nxt = gen.send(t)
                        except StopIteration:
                            nxt = None
                    self.steps += 1
                    if nxt is not None:
                        heapq.heappush(heap, (max(nxt, t + one_second), next(counter), gen))
                    if self.progress and self.intakes != before and self.intakes % self.progress_every == 0:
                        self.progress(self.intakes, self.total)

    def story(self, p: Plan) -> Iterator[datetime]:
        """One case's life. Each `yield moment` waits until then (the clock is set to it)."""
        rng = Random(f"story:{self.seed}:{p.i}")
        org = self.org
        t = yield p.at
        by = p.reporter if p.channel == "grid" else (rng.choice(org.operators) if p.channel in ("phone", "window") else None)
        case = hotline.intake(hotline.Intake(
            case_type=self.types[p.type], title=p.title, content=p.content, requester_name=p.name,
            requester_phone=p.phone, address=p.address, region=p.region, category=self.categories.get(p.category),
            channel=p.channel), by=by)
        self.cases[p.i] = case
        self.intakes += 1
        operator = by if by in org.operators else rng.choice(org.operators)

        if p.fate == "refuse":
            yield t + _minutes(rng.uniform(1, 5))
            hotline.refuse(case, p.reason, p.note, by=operator)
            return
        if p.fate in ("direct", "direct_hold"):
            t = yield t + _minutes(rng.uniform(2, 9))
            hotline.answer_directly(case, self._reply(p, None), by=operator)
            if p.fate == "direct":
                yield from self.callbacks(case, t, p, rng, C.PROFILES["good"])
            return
        if p.fate == "duplicate":
            t = yield t + _minutes(rng.uniform(2, 12))
            original = self.cases.get(p.original)
            if original is not None and original.is_open and original.state != "merged":
                hotline.link_duplicate(case, original, by=operator)
                return
            p.fate = "normal"  # the original was already finished: a new case of its own
        if p.fate == "no_dispatch":
            return

        t = yield self.centre(t, rng.uniform(6, 80), rng)
        dispatcher = rng.choice(org.dispatchers)
        lead = p.target
        if p.fate == "reassign":
            lead = self._confused(p.target)
        hotline.dispatch(case, lead, by=dispatcher)
        start = t
        if p.fate == "unsigned":
            return
        if p.fate in ("reassign", "keep", "return_pending"):
            t = yield self.office(t, rng.uniform(0.3, 4))
            if p.fate == "keep":
                co = self._confused(lead)
                note = rng.choice(C.RETURN_NOTES).format(right=co.name)
            else:
                co = None
                note = rng.choice(C.RETURN_NOTES).format(right=p.target.name if p.fate == "reassign" else self._confused(lead).name)
            hotline.return_case(case, note, by=org.handler(lead, rng))
            if p.fate == "return_pending":
                return
            t = yield self.centre(t, rng.uniform(20, 200), rng)
            if p.fate == "reassign":
                hotline.reassign(case, p.target, by=dispatcher, note=rng.choice(C.REASSIGN_NOTES).format(right=p.target.name))
                start = t
            else:
                hotline.keep(case, by=dispatcher, note=rng.choice(C.KEEP_NOTES).format(co=co.name), co_units=[co])
        profile = org.profile(case.unit)
        if p.relay_to is not None and case.state == "pending_sign":
            t = yield self.office(t, rng.uniform(0.2, 4))
            hotline.relay(case, p.relay_to, by=self._town_of(case.unit).handler)
        if case.state == "pending_sign":
            if rng.random() < profile["sign_late"] and case.sign_due_at:
                t = yield self.office(case.sign_due_at, rng.uniform(0.5, 10))
            else:
                t = yield self.office(t, rng.uniform(0.1, 4))
            hotline.sign(case, by=org.handler(case.unit, rng))
        yield from self.handle(case, t, start, p, rng, profile)

    def handle(self, case: Case, t: datetime, start: datetime, p: Plan, rng: Random, profile: dict) -> Iterator[datetime]:
        org = self.org
        handler = org.handler(case.unit, rng)
        if rng.random() < 0.3 or p.fate == "stuck":
            t = yield self.office(t, rng.uniform(1, 8))
            hotline.add_progress(case, rng.choice(C.PROGRESS_NOTES), by=handler)
        denied = False
        if p.fate == "extension":
            t = yield self.office(t, rng.uniform(1, 10))
            requester = org.admins.get(case.unit_id) if rng.random() < 0.5 else None
            hotline.request_extension(case, rng.randint(2, case.case_type.max_extension_days),
                                      rng.choice(C.EXTENSION_REASONS), by=requester or handler)
            t = yield self.office(t, rng.uniform(0.5, 6))
            hotline.decide_extension(case, p.approve, by=org.supervisor,
                                     note="同意延期，请按期办结。" if p.approve else "理由不充分，不同意延期，请按原时限办结。")
            denied = not p.approve
        if p.fate in ("suspend", "suspend_hold"):
            t = yield self.office(t, rng.uniform(1, 10))
            reason, resumed = rng.choice(C.SUSPENSIONS)
            hotline.suspend(case, reason, by=handler)
            if p.fate == "suspend_hold":
                return
            t = yield self.office(t, 7 * rng.uniform(1, 6))
            hotline.resume(case, by=handler, note=resumed)
        if p.fate == "stuck":
            if p.supervised and case.due_at:
                yield self.office(case.due_at, rng.uniform(1, 8))
                hotline.supervise(case, rng.choice(C.SUPERVISE_NOTES), by=org.supervisor)
            return
        late = rng.random() < (0.5 if denied else profile["finish_late"])
        limit_hours = case.case_type.finish_limit_days * 7
        if late and case.due_at:
            finish_at = self.office(case.due_at, rng.uniform(1, 22))
            if finish_at - case.due_at > timedelta(hours=20) and rng.random() < 0.6:
                t = yield self.office(case.due_at, rng.uniform(0.5, 3))
                hotline.supervise(case, rng.choice(C.SUPERVISE_NOTES), by=org.supervisor)
        else:
            lo, hi = (0.6, 0.9) if p.slow else profile["pace"]
            finish_at = self.office(start, limit_hours * rng.uniform(lo, hi))
            if p.fate == "extension" and p.approve and case.due_at:
                finish_at = max(finish_at, self.office(t, rng.uniform(3, 12)))
        t = yield max(finish_at, t + _minutes(rng.uniform(20, 120)))
        yield from self.finish(case, t, p, rng, profile)

    def finish(self, case: Case, t: datetime, p: Plan, rng: Random, profile: dict) -> Iterator[datetime]:
        result = self._result(p, rng)
        hotline.finish(case, self._reply(p, case.unit, result), result, by=self.org.handler(case.unit, rng))
        yield from self.callbacks(case, t, p, rng, profile)

    def callbacks(self, case: Case, t: datetime, p: Plan, rng: Random, profile: dict) -> Iterator[datetime]:
        while True:
            t = yield self.centre(t, rng.uniform(40, 60 * 26), rng)
            operator = rng.choice(self.org.operators)
            if rng.random() < 0.07:
                hotline.callback(case, reached=False, note="回访电话无人接听。", by=operator)
                if case.state == "closed":
                    return
                continue
            satisfaction = self._satisfaction(case, p, rng, profile)
            hotline.callback(case, reached=True, satisfaction=satisfaction,
                             solved=satisfaction != Satisfaction.UNSATISFIED and case.result != Result.UNSOLVED,
                             note=rng.choice(C.CALLBACK_NOTES[satisfaction]), by=operator)
            if case.state != "handling":
                return
            # 不满意重办: the same unit works on it again, usually faster
            late = rng.random() < profile["finish_late"]
            if late and case.due_at:
                t = yield self.office(case.due_at, rng.uniform(1, 15))
            else:
                t = yield self.office(t, case.case_type.redo_limit_days * 7 * rng.uniform(0.1, 0.7))
            result = Result.SOLVED if rng.random() < 0.7 else Result.PARTLY
            hotline.finish(case, "经重新核查办理，" + self._reply(p, case.unit, result).removeprefix("您好！"), result,
                           by=self.org.handler(case.unit, rng))

    # ---------------------------------------------------------------- choices
    def _confused(self, unit: Unit) -> Unit:
        key = self.org.unit_keys.get(unit.pk, "")
        other = C.CONFUSED_WITH.get(key, "chengguan")
        if self.org.units[other].pk == unit.pk:
            other = "zhujian"
        return self.org.units[other]

    def _town_of(self, unit: Unit) -> Town:
        return next(t for t in self.org.towns if t.unit.pk == unit.pk)

    def _result(self, p: Plan, rng: Random) -> str:
        if p.type == "praise":
            return Result.EXPLAINED
        if p.type == "consult":
            return Result.EXPLAINED if rng.random() < 0.85 else Result.SOLVED
        if p.type == "suggestion":
            return rng.choices([Result.EXPLAINED, Result.PARTLY, Result.SOLVED], weights=[60, 30, 10])[0]
        return rng.choices([Result.SOLVED, Result.PARTLY, Result.EXPLAINED, Result.UNTRUE, Result.UNSOLVED],
                           weights=[62, 12, 14, 7, 5])[0]

    def _reply(self, p: Plan, unit: Unit | None, result: str = Result.SOLVED) -> str:
        name = unit.name if unit else "县12345热线中心"
        if result == Result.UNSOLVED and not p.real_reply:
            text = C.UNSOLVED_REPLY
        elif result == Result.UNTRUE and not p.real_reply:
            text = "您好！经{unit}现场核查，您反映的情况与实际不符，已向您说明核查情况，如有新的线索欢迎继续反映。"
        else:
            text = p.reply or C.GENERIC_REPLIES["default"][0]
        return text.replace("{unit}", name).replace("{title}", p.title)

    def _satisfaction(self, case: Case, p: Plan, rng: Random, profile: dict) -> str:
        if p.unsatisfied_first and case.reopen_count == 0 and case.unit_id:
            return Satisfaction.UNSATISFIED
        if p.type == "praise":
            return Satisfaction.SATISFIED
        unsat = profile["unsatisfied"]
        unsat += {Result.UNSOLVED: 0.3, Result.PARTLY: 0.1, Result.UNTRUE: 0.12}.get(case.result, 0)
        if case.finished_at and case.due_at and case.finished_at > case.due_at:
            unsat += 0.08
        if case.reopen_count:
            unsat = 0 if case.reopen_count >= 2 else unsat * 0.4
        r = rng.random()
        if r < unsat:
            return Satisfaction.UNSATISFIED
        return Satisfaction.SATISFIED if rng.random() < 0.72 else Satisfaction.BASIC


# --------------------------------------------------------------------------- entry points


@dataclass
class Summary:
    requests: int
    days: int
    seed: int
    seconds: float
    cpu_seconds: float
    steps: int
    states: dict[str, int]
    refusals: dict[str, int]
    facts: dict[str, int]
    accounts: list[tuple[str, str, str, str]]
    skipped_accounts: list[str]
    digest: str
    extras: list[str] = field(default_factory=list)  # summary lines of the other domains' demo data


def is_empty() -> bool:
    return not (Case.objects.exists() or Unit.objects.exists())


def has_foreign_data() -> bool:
    """Whether the database holds organisation data that the demo did not create."""
    return (Region.objects.exclude(code__startswith=DEMO_REGION_PREFIX).exists()
            or Unit.objects.exclude(region__code__startswith=DEMO_REGION_PREFIX).exists())


def wipe() -> dict[str, int]:
    """Delete all cases, events, assignments, case numbers, non-superuser accounts, units and regions."""
    counts = {}
    try:
        with transaction.atomic():
            counts["regions"] = Region.objects.count()
            counts["cases"] = Case.objects.count()  # all of them, before the other domains take theirs away
            for module in reversed(extension_modules()):  # other domains' demo data first
                module.wipe()
            counts["events"] = CaseEvent.objects.all().delete()[0]  # a queryset delete; CaseEvent.delete() refuses
            counts["assignments"] = Assignment.objects.all().delete()[0]
            Case.objects.update(duplicate_of=None)
            Case.objects.all().delete()
            Sequence.objects.filter(key__startswith="case:").delete()
            RollupMark.objects.all().delete()  # the daily rollup rows go with their units
            Article.objects.all().delete()  # knowledge articles belong to units
            counts["users"] = User.objects.filter(is_superuser=False).delete()[0]
            User.objects.filter(unit__isnull=False).update(unit=None)
            Category.objects.update(default_unit=None)
            units = sorted(Unit.objects.values_list("pk", "path"), key=lambda r: -r[1].count("/"))
            for pk, _ in units:
                Unit.objects.filter(pk=pk).delete()
            counts["units"] = len(units)
            for level in sorted(Level.values, reverse=True):
                Region.objects.filter(level=level).delete()
    except ProtectedError as exc:
        blockers = sorted({obj._meta.verbose_name for obj in exc.protected_objects})
        raise DemoError(f"无法清除现有数据：仍有“{'、'.join(map(str, blockers))}”引用这些单位或人员。") from exc
    return counts


def title_digest() -> str:
    h = hashlib.sha256()
    for title in Case.objects.order_by("number").values_list("title", flat=True):
        h.update(title.encode())
        h.update(b"\n")
    return h.hexdigest()


def build(*, requests: int = 5000, days: int = 90, seed: int = 2026,
          progress: Callable[[int, int], None] | None = None, progress_every: int = 500) -> Summary:
    """Create the demo organisation and `requests` cases over the last `days` days ending now.

    The database must be empty of units and cases (see `is_empty`, `wipe`). Deterministic for a
    given (seed, now): the same titles in the same order.
    """
    if requests < 0 or days < 1:
        raise DemoError("请求数不能为负数，天数至少为 1。")
    started, cpu_started = _time.monotonic(), _time.process_time()
    end = clock.now()
    with transaction.atomic():
        org = create_org(seed)
        categories = setup_taxonomy(org)
        load_articles(owner_map={"县住房公积金管理中心": "县住房和城乡建设局"})  # 知识库: ~350 published articles
    replay = Replay(org, categories, seed=seed, end=end, progress=progress, progress_every=progress_every)
    try:
        plans = Planner(org, categories, seed=seed, end=end, days=days).plan(requests)
        replay.run(plans)  # commits in chunks
    except BaseException as exc:  # leave no half-built demo behind (`--if-empty` would keep it forever)
        try:
            wipe()
        except Exception:  # noqa: BLE001  the original error is the one to report
            pass
        if isinstance(exc, Exception) and not isinstance(exc, DemoError):
            raise DemoError(f"示范数据生成失败，已撤销已生成的部分：{exc!r}") from exc
        raise
    extras = build_extensions(org, seed=seed, end=end)
    # the events were written with a past clock: rebuild the daily 三率 rollup for all those days
    refresh_day_stats(since=timezone.localdate(end) - timedelta(days=days + 1))
    summary = summarize(requests=requests, days=days, seed=seed, seconds=_time.monotonic() - started,
                        cpu_seconds=_time.process_time() - cpu_started, steps=replay.steps, org=org, end=end)
    summary.extras = extras
    return summary


def extension_modules() -> list:
    """Each installed tongban app may ship a `demo` module with `build(org, *, seed, end) -> list[str]`
    (summary lines) and `wipe()`; they run after the hotline demo, in INSTALLED_APPS order."""
    modules = []
    for app in apps.get_app_configs():
        name = f"{app.name}.demo"
        if app.name.startswith("tongban.") and app.name != "tongban.demo" and importlib.util.find_spec(name):
            modules.append(importlib.import_module(name))
    return modules


def build_extensions(org: Org, *, seed: int, end: datetime) -> list[str]:
    lines: list[str] = []
    for module in extension_modules():
        lines += module.build(org, seed=seed, end=end)
    return lines


def summarize(*, requests: int, days: int, seed: int, seconds: float, cpu_seconds: float, steps: int, org: Org,
              end: datetime) -> Summary:
    states = Counter(dict(Case.objects.values_list("state").annotate(n=Count("id")).order_by()))
    refusals = Counter(dict(CaseEvent.objects.filter(action="refuse").values_list("outcome").annotate(n=Count("id")).order_by()))
    handling = Case.objects.filter(state__in=HOTLINE.running)
    facts = {
        "overdue": handling.filter(due_at__lt=end).count(),
        "warning": handling.filter(due_at__gte=end, warn_at__lte=end).count(),
        "supervised": Case.objects.filter(supervised=True).count(),
        "reopened": Case.objects.filter(reopen_count__gt=0).count(),
        "relayed": Case.objects.filter(events__action="relay").distinct().count(),
        "reassigned": Case.objects.filter(events__action="reassign").distinct().count(),
        "kept": Case.objects.filter(events__action="keep").distinct().count(),
        "answered": Case.objects.filter(events__action="answer").distinct().count(),
        "merged_total": Case.objects.filter(events__action="merge").distinct().count(),
        "ext_approved": CaseEvent.objects.filter(action="decide_extension", outcome="approved").count(),
        "ext_denied": CaseEvent.objects.filter(action="decide_extension", outcome="denied").count(),
        "satisfied": CaseEvent.objects.filter(action="callback", outcome=Satisfaction.SATISFIED).count(),
        "basic": CaseEvent.objects.filter(action="callback", outcome=Satisfaction.BASIC).count(),
        "unsatisfied": CaseEvent.objects.filter(action="callback", outcome=Satisfaction.UNSATISFIED).count(),
        "events": CaseEvent.objects.count(),
    }
    return Summary(requests=requests, days=days, seed=seed, seconds=seconds, cpu_seconds=cpu_seconds, steps=steps, states=dict(states),
                   refusals=dict(refusals), facts=facts, accounts=org.accounts, skipped_accounts=org.skipped_accounts,
                   digest=title_digest())


def demo_accounts() -> list[tuple[str, str, str, str]]:
    """The demo's accounts as stored now: username, name, roles, unit (centre first, then by unit)."""
    rank = {r: i for i, r in enumerate([Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR, Role.CLERK, Role.HANDLER, Role.UNIT_ADMIN])}
    users = User.objects.filter(unit__region__code__startswith=DEMO_REGION_PREFIX).select_related("unit")
    users = sorted(users, key=lambda u: (u.unit_id, min((rank.get(r, 9) for r in u.role_set), default=9), u.username))
    return [(u.username, u.display_name, u.roles, u.unit.name) for u in users]
