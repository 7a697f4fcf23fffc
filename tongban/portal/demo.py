"""Demo data of the portal: door plates for a few villages/communities (≥ 200) and a handful of
requests made on the portal or by scanning a plate, driven through the real services."""
from __future__ import annotations

from datetime import datetime, timedelta
from random import Random


from tongban.cases.models import Case, CaseType
from tongban.core import clock
from tongban.core.links import public_url
from tongban.hotline import services as hotline

from . import doorplates
from .models import DoorPlate, PortalRequest, VerificationCode
from .services import Submission, rate, submit

PLATED = ("桃园村", "滨河社区", "湖滨社区", "大坪村")  # villages/communities that have a handler account in the demo
PER_VILLAGE = 60
STREETS = {"桃园村": ["一组", "二组", "三组"], "大坪村": ["上坪", "下坪"], "滨河社区": ["滨河路", "文化巷"], "湖滨社区": ["湖滨北路", "湖滨南路"]}

# (village or None for the plain web form, type code, content, phone, story)
REQUESTS = [
    ("桃园村", "help", "家门口的排水沟堵了，下雨天污水漫到院子里，请村里帮忙疏通。", "13900000101", "rated"),
    ("大坪村", "complaint", "村口的路灯有三盏不亮，晚上接孩子放学看不见路。", "13900000102", "awaiting_rating"),
    ("滨河社区", "complaint", "楼下烧烤摊每天营业到凌晨两点，油烟和噪音很大，影响休息。", "13900000103", "handling"),
    ("湖滨社区", "suggestion", "建议在小区东门增设电动自行车充电桩，现在很多人从楼上拉线充电，不安全。", "13900000104", "waiting"),
    (None, "consult", "想咨询一下城乡居民医保今年的缴费标准和截止时间。", "13900000105", "waiting"),
    (None, "help", "柳泉镇桃园村三组到镇上的公交站牌被风刮倒了，老人等车不方便。", "13900000106", "waiting"),
]


def build(org, *, seed: int, end: datetime) -> list[str]:
    rng = Random(f"portal:{seed}")
    villages = {v.name: v for town in org.towns for v in town.villages if v.name in PLATED}
    created = 0
    for name, village in villages.items():
        households = []
        streets = STREETS[name]
        for i in range(PER_VILLAGE):
            grid = village.grids[i * len(village.grids) // PER_VILLAGE]  # neighbouring households share a grid
            households.append(doorplates.Household(f"{streets[i % len(streets)]}{i // len(streets) + 1}号", grid=grid.name))
        with clock.at(end - timedelta(days=30)):
            plates, _ = doorplates.create_plates(village.region, households)
        created += len(plates)

    types = {t.code: t for t in CaseType.objects.filter(workflow="hotline")}
    example = None
    for i, (village_name, type_code, content, phone, story) in enumerate(REQUESTS):
        start = end - timedelta(days=len(REQUESTS) - i, hours=rng.randint(1, 6))
        plate = None
        if village_name:
            plate = rng.choice(list(DoorPlate.objects.filter(village=villages[village_name].region)))
        with clock.at(start):
            case = submit(Submission(case_type=types[type_code], content=content, requester_phone=phone,
                                     requester_name=rng.choice(["王女士", "李先生", "张大爷", "刘女士"]),
                                     address="" if plate else "柳泉镇桃园村三组", elder_mode=story == "waiting" and i % 2 == 1),
                          plate=plate, key=f"demo-{seed}-{i}")
        if story in ("rated", "awaiting_rating", "handling"):
            handler = org.handler(case.unit, rng)
            with clock.at(start + timedelta(hours=2)):
                hotline.sign(case, by=handler)
            if story != "handling":
                with clock.at(start + timedelta(hours=26)):
                    hotline.finish(case, "已安排人员现场处理，问题已解决。感谢您的反映。", "solved", by=handler)
            if story == "rated":
                with clock.at(start + timedelta(hours=30)):
                    rate(case, satisfaction="satisfied", solved=True, note="处理很及时")
        if story == "awaiting_rating":
            example = case
    qr = Case.objects.filter(channel="qr", portal__isnull=False).count()
    lines = [f"数字政务门牌：{len(villages)} 个村（社区）共 {created} 块（{'、'.join(villages)}）；打印：/p/plates/ 或 "
             f"tongban doorplates pdf --village 桃园村",
             f"网上/扫码诉求：{PortalRequest.objects.count()} 件，其中扫码门牌 {qr} 件直派村（社区）"]
    if example:
        lines.append(f"群众查进度并评价：{public_url('/p/track/')}?number={example.number}  手机号 {example.requester_phone}"
                     f"（验证码见 var/sms.log）")
    return lines


def wipe() -> None:
    VerificationCode.objects.all().delete()
    PortalRequest.objects.all().delete()
    DoorPlate.objects.all().delete()
