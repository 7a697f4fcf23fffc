"""Demo extension: a water outage that is growing in one village right now (taken by the operators
over the last two and a half days), then the hotspot clustering on all the demo's requests, so the
热点 page shows clusters and an alert (未诉先办: the supervisor sees it before the lines flood)."""
from __future__ import annotations

from datetime import datetime, timedelta
from random import Random

from tongban.cases.models import CaseType, Category
from tongban.core import clock
from tongban.hotline import services as hotline

from . import clusters
from .models import Run

WATER = "城乡建设/城市建设和市政管理/自来水供应"
# (hours before the end of the demo, title, what the caller said)
BURST = [
    (58, "停水没有通知", "家里自来水从早上停到现在，事先没有任何通知，做饭洗漱都成问题。"),
    (45, "长时间停水", "从昨天下午开始停水，到现在还没来水，家里有两位老人，请尽快恢复。"),
    (31, "水压太低", "水龙头只滴几滴水，水压太低，楼上根本用不了，热水器也点不着。"),
    (20, "又停水了", "又停水了，问了村里也不知道原因，请供水公司尽快查明恢复供水。"),
    (12, "来水发黄", "停水后来水是黄的，有铁锈味，不敢喝也不敢用来做饭。"),
    (6, "停水两天", "停水两天了，附近几户都一样，请派人来看看是不是管子坏了。"),
    (3, "停水影响生活", "停水没有提前通知，厕所没法冲，孩子上学前都没法洗漱，生活很不方便。"),
]


def plant_burst(org, *, seed: int, end: datetime) -> int:
    """The burst's requests, through the real intake service (with idempotency keys: a re-run adds none)."""
    category = Category.objects.filter(full_name=WATER).first()
    complaint = CaseType.objects.filter(code="complaint", workflow="hotline").first()
    if category is None or complaint is None or not org.towns or not org.towns[0].villages:
        return 0
    rng = Random(f"hotspots:{seed}")
    town = org.towns[0]
    village = town.villages[0]
    for i, (hours, title, content) in enumerate(BURST):
        with clock.at(end - timedelta(hours=hours, minutes=rng.randint(0, 50))):
            hotline.intake(hotline.Intake(
                case_type=complaint, title=title, content=content, requester_name=rng.choice(["王女士", "李先生", "张大爷", "刘阿姨"]),
                requester_phone=f"1370000{seed % 1000:03d}{i}", address=f"{town.name}{village.name}{i % 3 + 1}组",
                region=village.region, category=category, intake_key=f"demo-burst-{seed}-{i}",
            ), by=rng.choice(org.operators))
    return len(BURST)


def build(org, *, seed: int, end: datetime) -> list[str]:
    planted = plant_burst(org, seed=seed, end=end)
    run = clusters.detect(as_of=end)
    top = run.hotspots.order_by("-count", "-growth", "id").first()
    alerted = run.hotspots.filter(alert=True).order_by("-recent_count").first()
    line = f"热点发现：近 {run.window_days} 天诉求 {run.case_count} 件（含上期），热点 {run.cluster_count} 个，预警 {run.alert_count} 个"
    line += f"；最大热点：{top.place}·{top.label}（{top.count} 件）" if top else ""
    if alerted:
        line += f"；预警：{alerted.place}·{alerted.label}（近 {run.params['alert_days']} 天 {alerted.recent_count} 件，含示范停水 {planted} 件）"
    return [line]


def wipe() -> None:
    Run.objects.all().delete()
