"""热点发现: the daily clustering runs and the clusters (hotspots) they found."""
from __future__ import annotations

from django.db import models

from tongban.cases.models import Case, Category
from tongban.core.models import Region


class Run(models.Model):
    """One clustering of the requests of a window (`window_days` days up to `as_of`) and the one before."""

    as_of = models.DateTimeField("截至")
    window_days = models.PositiveSmallIntegerField("统计窗口（天）")
    started_at = models.DateTimeField("开始时间")
    seconds = models.FloatField("耗时（秒）", default=0)
    case_count = models.PositiveIntegerField("参与聚类的诉求数", default=0)
    cluster_count = models.PositiveIntegerField("热点数", default=0)
    alert_count = models.PositiveIntegerField("预警数", default=0)
    params = models.JSONField("参数", default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "热点分析批次"
        ordering = ["-as_of", "-id"]

    def __str__(self) -> str:
        return f"{self.as_of:%Y-%m-%d %H:%M} 近{self.window_days}天"


class Hotspot(models.Model):
    """A cluster: requests about the same issue in the same place."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="hotspots", verbose_name="批次")
    label = models.CharField("主题", max_length=100)
    words = models.JSONField("关键词", default=list)
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="地点")
    town = models.ForeignKey(Region, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="乡镇/街道")
    place = models.CharField("地点名称", max_length=120, blank=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="主要分类")
    top_category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="一级分类")
    count = models.PositiveIntegerField("本期件数")
    prev_count = models.PositiveIntegerField("上期件数")
    growth = models.FloatField("增长率", help_text="(本期 − 上期) ÷ max(上期, 1)")
    first_seen = models.DateTimeField("首次出现")
    last_seen = models.DateTimeField("最近出现")
    recent_count = models.PositiveIntegerField("近几天件数", default=0)
    expected = models.FloatField("近几天预期件数", default=0, help_text="按该热点此前的日均件数推算")
    alert = models.BooleanField("快速增长预警", default=False)
    daily = models.JSONField("每日件数", default=list, help_text="[[日期, 件数], …]，覆盖上期和本期")
    cases = models.ManyToManyField(Case, through="HotspotCase", related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "热点"
        ordering = ["-count", "-growth", "id"]
        indexes = [models.Index(fields=["run", "-count"], name="hotspot_run_count"),
                   models.Index(fields=["run", "-growth"], name="hotspot_run_growth")]

    def __str__(self) -> str:
        return f"{self.place} {self.label}"

    @property
    def is_new(self) -> bool:
        return self.prev_count == 0

    @property
    def growth_percent(self) -> int:
        return round(self.growth * 100)


class HotspotCase(models.Model):
    hotspot = models.ForeignKey(Hotspot, on_delete=models.CASCADE, related_name="members")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    current = models.BooleanField("本期", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "热点工单"
        constraints = [models.UniqueConstraint(fields=["hotspot", "case"], name="hotspot_case_unique")]
