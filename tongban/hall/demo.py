"""Demo 办件 at the 县政务服务中心: applications in every state, e-licences, appointment slots.

Runs after the catalog's demo (INSTALLED_APPS order) and drives everything through the services,
on the demo clock, so the events read like a real fortnight at the window.
"""
from __future__ import annotations

import datetime as dt
from random import Random

from django.db import transaction
from django.utils import timezone

from tongban.cases.models import Case
from tongban.catalog.models import Package, ServiceItem
from tongban.core import clock
from tongban.workdays import services as workdays

from . import services as hall
from .ids import make_id_number, make_uscc
from .models import (
    Application, Booking, CrossRegion, Enterprise, Evaluation, Licence, MaterialCheck, Part, Person, Reminder, Slot,
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["建国", "秀英", "志强", "丽娟", "海燕", "明华", "晓东", "桂兰", "伟", "芳", "俊杰", "雅婷", "子涵", "浩然", "玉梅", "德胜"]
ENTERPRISES = ["青溪县禾丰农业科技有限公司", "青溪县云山茶业有限公司", "青溪县东湖建材有限公司", "青溪县滨河物流有限公司"]
TEXT = {"address": "青溪县青溪街道滨河路{n}号", "business_address": "青溪县东湖街道湖滨路{n}号", "property_address": "青溪县南门街道解放路{n}号{m}室",
        "business_scope": "餐饮服务；食品销售", "birth_place": "青溪县人民医院", "hukou_address": "青溪县青溪街道滨河社区",
        "employer": "青溪县自来水公司", "tax_handler": "{name}", "bank_account_no": "6217 0000 {n:04d} {m:04d}",
        "power_account": "31{n:04d}{m:04d}", "water_account": "S{n:05d}", "gas_account": "RQ{n:05d}", "cable_account": "GD{n:05d}",
        "property_cert_no": "青(2019)青溪县不动产权第00{n:05d}号"}


class _People:
    def __init__(self, rng: Random):
        self.rng, self.used = rng, set()

    def person(self, *, year: int | None = None) -> Person:
        rng = self.rng
        while True:
            name = rng.choice(SURNAMES) + rng.choice(GIVEN)
            number = make_id_number(rng, year=year)
            if number not in self.used:
                self.used.add(number)
                break
        return Person.objects.create(name=name, id_number=number, phone=f"13{rng.randint(500000000, 999999999)}")


def _value(key: str, kind: str, choices: list, person: Person, rng: Random, at: dt.datetime, extra: dict) -> str:
    if key in extra:
        return extra[key]
    n, m = rng.randint(1, 300), rng.randint(101, 1802)
    if key in ("applicant_name", "legal_rep_name", "buyer_name", "mother_name"):
        return person.name
    if kind == "id_number":
        return person.id_number if key in ("applicant_id", "legal_rep_id", "buyer_id", "mother_id") else make_id_number(rng)
    if kind == "phone":
        return person.phone
    if kind == "uscc":
        return make_uscc(rng)
    if kind == "date":
        return (at.date() - dt.timedelta(days=rng.randint(3, 40) if key == "baby_birth_date" else rng.randint(9000, 14000))).isoformat()
    if kind == "number":
        return str(rng.choice([3, 10, 50, 100, 120, 86]))
    if kind == "choice" and choices:
        return choices[0]
    if key in TEXT:
        return TEXT[key].format(n=n, m=m, name=person.name)
    if key.endswith("_name"):
        return rng.choice(SURNAMES) + rng.choice(GIVEN)
    return "见附件"


class _Hall:
    def __init__(self, org, rng: Random, end: dt.datetime):
        self.org, self.rng, self.end = org, rng, end
        self.people = _People(rng)
        self.clerks = org.clerks
        self.lines: list[str] = []

    def handler(self, unit):
        return self.org.handlers[unit.pk][0]

    def moment(self, days_back: int, hour: int = 9, minute: int = 30) -> dt.datetime:
        """`days_back` working days before the demo's end, at an office-hours time; today's moments
        stay two hours before the end, so what follows them is never in the future."""
        day = timezone.localtime(self.end).date()
        left = days_back
        while left > 0:
            day -= dt.timedelta(days=1)
            left -= workdays.is_workday(day)
        while not workdays.is_workday(day):
            day -= dt.timedelta(days=1)
        at = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))
        return min(at, self.end - dt.timedelta(hours=2))

    def submission(self, subject, person: Person, at: dt.datetime, *, enterprise: Enterprise | None = None, skip=(), defer=(),
                   extra=None, **over) -> hall.Submission:
        package = subject if isinstance(subject, Package) else None
        item = None if package else subject
        form = {f.key: _value(f.key, f.kind, list(f.choices or []), person, self.rng, at, extra or {})
                for f in hall.fields_for(item, package) if getattr(f, "produced_by", None) is None}
        if enterprise is not None:
            form.update({"enterprise_name": enterprise.name, "uscc": enterprise.uscc})
        materials = hall.materials_for(item, package)
        present = {m.key for m in materials if m.key not in skip and m.key not in defer}
        sub = hall.Submission(item=item, package=package, name=person.name, id_number=person.id_number, phone=person.phone,
                              form=form, present=present, deferred=set(defer),
                              applicant_kind="enterprise" if enterprise else "person",
                              enterprise_name=enterprise.name if enterprise else "", uscc=enterprise.uscc if enterprise else "")
        if defer:
            sub.commitment = "本人承诺在期限内补交上述材料原件；逾期未补齐的，同意转补正并暂停办理。"
            sub.supplement_days = over.pop("supplement_days", 3)
        for k, v in over.items():
            setattr(sub, k, v)
        return sub

    def accept(self, subject, at, *, clerk=None, **kw) -> Application:
        person = kw.pop("person", None) or self.people.person()
        with clock.at(at):
            return hall.submit(self.submission(subject, person, at, **kw), by=clerk or self.rng.choice(self.clerks))

    def decide_parts(self, app: Application, at: dt.datetime, *, count: int | None = None, reject=()) -> None:
        parts = list(app.parts.select_related("case", "item__unit"))
        for i, part in enumerate(parts[:count]):
            with clock.at(at + dt.timedelta(minutes=20 * (i + 1))):
                no = part.item.code in reject
                hall.decide(part.case, not no, "材料不符合法定条件：经营场所位于居民楼内。" if no else "符合条件，同意。",
                            by=self.handler(part.item.unit))

    def decide(self, app: Application, at: dt.datetime, approve: bool = True, note: str = "") -> None:
        with clock.at(at):
            hall.decide(app.case, approve, note or ("符合条件，同意。" if approve else "申请人不符合法定条件。"), by=self.handler(app.item.unit))

    def issue(self, app: Application, at: dt.datetime) -> None:
        with clock.at(at):
            hall.issue(Application.objects.get(pk=app.pk), by=app.clerk, tracking="EMS98{0:07d}".format(app.pk) if app.delivery == "mail" else "")

    def rate(self, app: Application, level: int, reasons, comment="") -> Evaluation:
        """The applicant rates five minutes after collecting the result."""
        app = Application.objects.get(pk=app.pk)
        with clock.at(app.issued_at + dt.timedelta(minutes=5)):
            return hall.rate(app, level, reasons, comment, channel=self.rng.choice(["device", "link"]))


def _licences(h: _Hall, people: list[Person], enterprises: list[Enterprise]) -> int:
    rows = []
    for p in people:
        rows.append(Licence(kind="居民身份证", number=p.id_number, person=p, issuer="青溪县公安局", valid_from=dt.date(2019, 3, 1),
                            valid_to=dt.date(2039, 3, 1)))
        rows.append(Licence(kind="居民户口簿", number=f"HK{p.id_number[-8:]}", person=p, issuer="青溪县公安局", valid_from=dt.date(2015, 6, 1)))
    for e in enterprises:
        rows.append(Licence(kind="营业执照", number=e.uscc, enterprise=e, issuer="青溪县市场监督管理局", valid_from=dt.date(2021, 8, 16)))
    rows.append(Licence(kind="不动产权证书", number="青(2019)青溪县不动产权第0001234号", person=people[0], issuer="青溪县自然资源局",
                        valid_from=dt.date(2019, 5, 20)))
    rows.append(Licence(kind="社会保障卡", number=f"SB{people[1].id_number[-10:]}", person=people[1], issuer="青溪县人力资源和社会保障局",
                        valid_from=dt.date(2020, 1, 1), valid_to=dt.date(2030, 1, 1)))
    Licence.objects.bulk_create(rows)
    return len(rows)


def build(org, *, seed: int, end: dt.datetime) -> list[str]:
    packages = {p.code: p for p in Package.objects.filter(active=True)}
    items = {i.code: i for i in ServiceItem.objects.filter(active=True, negative_list=False).select_related("unit")}
    if not packages or not items:
        return ["办件示范：事项目录为空，未生成办件（请先装入事项目录）。"]
    rng = Random(seed + 55)
    h = _Hall(org, rng, end)
    with transaction.atomic():
        _build(h, packages, items)
    return h.lines


def _pick(mapping: dict, *codes):
    return next((mapping[c] for c in codes if c in mapping), None) or next(iter(mapping.values()))


def _build(h: _Hall, packages: dict, items: dict) -> None:
    rng = h.rng
    residents = [h.people.person() for _ in range(8)]
    elderly = h.people.person(year=1941)
    firms = [Enterprise.objects.create(name=name, uscc=make_uscc(rng), legal_person=residents[i]) for i, name in enumerate(ENTERPRISES)]
    n_licences = _licences(h, residents + [elderly], firms)
    startup = _pick(packages, "YJS-001")
    house = _pick(packages, "YJS-002")
    newborn = _pick(packages, "YJS-003")
    retire = _pick(packages, "YJS-004")
    restaurant = _pick(packages, "YJS-005")

    # 企业开办 done in the morning (0.5 working day), licence issued, rated 非常满意
    done_pkg = h.accept(startup, h.moment(6), person=residents[2], extra={"enterprise_name": "青溪县味道餐饮管理有限公司"})
    h.decide_parts(done_pkg, h.moment(6, 9, 40))
    h.issue(done_pkg, h.moment(6, 11, 50))
    h.rate(done_pkg, 5, ["一次办成", "办理快捷"])
    # 企业开办 this morning, two of five departments done, three still deciding (并联审批 in progress)
    running_pkg = h.accept(startup, h.moment(0, 9, 10), person=residents[3], extra={"enterprise_name": "青溪县山水文化传媒有限公司"})
    h.decide_parts(running_pkg, h.moment(0, 9, 20), count=2)
    # 二手房转移登记 + 水电气网联动过户, accepted today: the seller's 不动产权证书 comes from the store
    h.accept(house, h.moment(0, 10, 5), person=residents[0])
    # 新生儿出生一件事 done a week ago, rated 满意
    baby = h.accept(newborn, h.moment(8), person=residents[4])
    h.decide_parts(baby, h.moment(7, 10))
    h.issue(baby, h.moment(5, 15))
    h.rate(baby, 4, ["材料简化"])
    # 退休一件事 for an 85-year-old, by a clerk on his behalf (帮办代办)
    h.accept(retire, h.moment(2, 14), person=elderly, helped=True, help_reason="elderly", consent=True,
             consent_note="申请人年逾八旬、行动不便，本人签字授权，其女儿在场。")
    # 开办餐饮店 with a 容缺 material (the health certificate comes later)
    deferrable = [m.key for m in hall.materials_for(package=restaurant) if m.deferrable and m.required][:1]
    h.accept(restaurant, h.moment(1, 10, 30), person=residents[5], defer=deferrable, supplement_days=3)
    # 开办餐饮店 where the market regulator refused the 食品经营许可 (one sub-case 不予许可), issued as decided
    partly = h.accept(restaurant, h.moment(9, 9, 40), person=residents[6])
    h.decide_parts(partly, h.moment(8, 10), reject=("QX-SJ-003",))
    h.issue(partly, h.moment(6, 16))
    h.rate(partly, 3, [], "部分事项未通过，但窗口解释清楚。")

    # single items in the other states
    firm_item = _pick(items, "QX-SJ-002")
    lapsed = h.accept(firm_item, h.moment(7), person=residents[7], defer=[m.key for m in hall.materials_for(firm_item) if m.deferrable][:1],
                      supplement_days=2)
    with clock.at(h.moment(3, 9)):
        hall.lapse_overdue()
    social = _pick(items, "QX-RS-008")
    reviewing = [h.accept(social, h.moment(1, 15)), h.accept(_pick(items, "QX-YB-004"), h.moment(2, 10, 15))]
    waiting = h.accept(_pick(items, "QX-ZR-002"), h.moment(2, 9, 45))
    h.decide(waiting, h.moment(1, 11))
    refused_sub = h.submission(_pick(items, "QX-ZJ-003"), h.people.person(), h.moment(3, 10))
    with clock.at(h.moment(3, 10)):
        hall.refuse(refused_sub, "申请的商品房项目尚未取得建设工程规划许可，不符合预售许可的受理条件（一次性告知：取得规划许可、"
                                 "完成投资25%以上后再申请）。", by=h.clerks[0])
    rejected = h.accept(_pick(items, "QX-MZ-003"), h.moment(4, 10))
    h.decide(rejected, h.moment(3, 16), approve=False, note="申请人未满80周岁（经户籍信息核验），不符合高龄津贴发放条件。")
    corr = h.accept(_pick(items, "QX-WJ-004"), h.moment(3, 14))
    with clock.at(h.moment(2, 9, 20)):
        hall.request_correction(corr.case, "请补正：从业人员健康证明缺2人；卫生管理制度未加盖公章。", by=h.handler(corr.item.unit))
    ended = h.accept(_pick(items, "QX-SJ-002"), h.moment(10), defer=[m.key for m in hall.materials_for(firm_item) if m.deferrable][:1],
                     supplement_days=1)
    with clock.at(h.moment(8, 9)):
        hall.lapse_overdue()
    with clock.at(h.moment(6, 9)):
        hall.terminate(Application.objects.get(pk=ended.pk), "申请人书面表示暂不开办，撤回申请。", by=h.clerks[1])
    # a done item with a 差评 → 整改 (in progress) and another whose 整改 is back for the call-back
    bad_item = _pick(items, "QX-RS-002")
    bad = h.accept(bad_item, h.moment(5, 9, 15))
    h.decide(bad, h.moment(4, 15))
    h.issue(bad, h.moment(3, 9, 30))
    h.rate(bad, 2, ["等候时间长", "材料要求反复"], "同一份材料前后让我复印了三次。")
    worse_item = _pick(items, "QX-JY-002")
    worse = h.accept(worse_item, h.moment(9, 14))
    h.decide(worse, h.moment(6, 10))
    h.issue(worse, h.moment(5, 10))
    ev = h.rate(worse, 1, ["超时未办结"], "说好三天，等了一周。")
    with clock.at(h.moment(4, 15)):
        hall.rectified(ev.rectify_case, "已约谈经办人，建立入学登记办件日清制度，并向申请人致歉。", by=h.handler(worse_item.unit))
    good = h.accept(_pick(items, "QX-GA-005"), h.moment(4, 9, 40))
    h.decide(good, h.moment(4, 11))
    h.issue(good, h.moment(4, 14))
    h.rate(good, 5, ["服务热情"])

    # 跨省通办: 户口迁移 forwarded to the owning authority and waiting; 养老保险转移 came back and was mailed
    hukou = _pick(items, "QX-GA-004")
    remote = h.accept(hukou, h.moment(3, 10, 20), mode="proxy", authority="浙江省杭州市公安局上城区分局", region_name="浙江省杭州市")
    with clock.at(h.moment(3, 11)):
        hall.forward(remote, "跨省通办专递 ZJ2026-0815", by=remote.clerk)
    with clock.at(h.moment(1, 14)):
        hall.remote_status(Application.objects.get(pk=remote.pk), "迁出地已受理，正在核验户籍信息", by=remote.clerk)
    pension = _pick(items, "QX-RS-007")
    back = h.accept(pension, h.moment(9, 10), mode="joint", authority="江苏省苏州市社会保险基金管理中心", region_name="江苏省苏州市",
                    delivery="mail", mail_address="青溪县青溪街道滨河路8号", return_method="mail")
    with clock.at(h.moment(9, 11)):
        hall.forward(back, "苏青协作 0007", by=back.clerk)
    with clock.at(h.moment(4, 16)):
        hall.remote_status(Application.objects.get(pk=back.pk), "转出地已出具参保缴费凭证，转移接续完成", result="approved", by=back.clerk)
    h.issue(back, h.moment(3, 9))

    # appointment slots: today and the next four working days, some already taken
    day, opened, booked = timezone.localtime(h.end).date(), 0, 0
    for _ in range(5):
        while not workdays.is_workday(day):
            day += dt.timedelta(days=1)
        opened += hall.open_slots(h.org.hall, day, ["综合窗口", "企业开办专区", "不动产登记专区"])
        day += dt.timedelta(days=1)
    for slot in Slot.objects.filter(hall=h.org.hall).order_by("day", "start")[:60:3]:
        for _ in range(rng.randint(1, slot.capacity)):
            p = rng.choice(residents)
            with clock.at(h.moment(1, 16)):
                hall.book(slot, p.name, p.phone, rng.choice(["企业开办", "不动产登记", "社保卡申领", "退休一件事"]))
            booked += 1

    apps = Application.objects.count()
    states = {}
    for s in Case.objects.filter(case_type__code__in=(hall.ITEM_TYPE, hall.PACKAGE_TYPE), parent__isnull=True).values_list("state", flat=True):
        states[s] = states.get(s, 0) + 1
    from .workflow import HALL
    reuse = hall.reuse_rate()
    h.lines += [
        f"办件 {apps} 件（一件事 {Application.objects.filter(package__isnull=False).count()} 件，并联子件 {Part.objects.count()} 件）："
        + "、".join(f"{HALL.state_label(s)} {n}" for s, n in sorted(states.items(), key=lambda r: -r[1])),
        f"电子证照 {Licence.objects.count()} 件（导入 {n_licences}，办结签发 {Licence.objects.filter(source='issued').count()}），"
        f"材料复用率 {reuse['rate']}%（{reuse['by_licence']}/{reuse['replaceable']}）",
        f"好差评 {Evaluation.objects.count()} 条，差评转整改 {Evaluation.objects.filter(rectify_case__isnull=False).count()} 件；"
        f"预约时段 {opened} 个，已约 {booked} 人",
    ]


def wipe() -> None:
    """Delete the hall's rows; the hall's cases go with everyone else's in the core wipe, once the
    links from sub-cases and 整改 to their parent cases (protected) are cut."""
    Booking.objects.all().delete()
    Slot.objects.all().delete()
    for model in (Evaluation, Reminder, MaterialCheck, CrossRegion, Part, Application, Licence, Enterprise, Person):
        model.objects.all().delete()
    Case.objects.filter(case_type__code__in=(hall.ITEM_TYPE, hall.PACKAGE_TYPE, hall.RECTIFY_TYPE), parent__isnull=False).update(parent=None)
