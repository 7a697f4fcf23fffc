"""Demo extension: run the hotspot clustering on the demo's requests so the 热点 page is populated."""
from __future__ import annotations

from datetime import datetime

from . import clusters
from .models import Run


def build(org, *, seed: int, end: datetime) -> list[str]:
    run = clusters.detect(as_of=end)
    top = run.hotspots.order_by("-count", "-growth", "id").first()
    line = f"热点发现：近 {run.window_days} 天诉求 {run.case_count} 件（含上期），热点 {run.cluster_count} 个，预警 {run.alert_count} 个"
    return [line + (f"；最大热点：{top.place}·{top.label}（{top.count} 件）" if top else "")]


def wipe() -> None:
    Run.objects.all().delete()
