"""Read models of the analytics room: rolled up from the event log, never written by a workflow."""
from django.db import models

from tongban.core.models import Unit


class UnitDayStats(models.Model):
    """三率 counters of one unit on one local day (按日汇总), rebuilt from CaseEvent by a job."""

    day = models.DateField("日期")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+", verbose_name="单位")
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
    finish_seconds = models.FloatField(default=0)  # Σ (finish − case.dispatched_at)
    finish_timed = models.PositiveIntegerField(default=0)  # finishes in that sum

    class Meta:
        verbose_name = verbose_name_plural = "单位日汇总"
        constraints = [models.UniqueConstraint(fields=["day", "unit"], name="unit_day_stats_day_unit")]


class RollupMark(models.Model):
    """Every local day before `until` is rolled up into UnitDayStats (the watermark)."""

    name = models.CharField(max_length=32, primary_key=True)
    until = models.DateField()
