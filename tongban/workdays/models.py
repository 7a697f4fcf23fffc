"""Working-day calendar (工作日历): administrator overrides and office hours."""
from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models

DEFAULT_OFFICE_HOURS = (
    (dt.time(9, 0), dt.time(12, 0)),
    (dt.time(13, 30), dt.time(17, 30)),
)


class CalendarOverride(models.Model):
    """One date forced to be a working day or a day off; beats every other source."""

    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField(
        "上班", help_text="勾选表示当天上班（如调休补班）；不勾选表示当天放假。"
    )
    reason = models.CharField("原因", max_length=200, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["date"]
        verbose_name = "日历调整"
        verbose_name_plural = "日历调整"

    def __str__(self) -> str:
        kind = "上班" if self.is_workday else "放假"
        return f"{self.date:%Y-%m-%d} {kind}" + (f"（{self.reason}）" if self.reason else "")


class OfficeHours(models.Model):
    """Singleton (row pk=1): the daily office periods used for limits in working hours."""

    morning_start = models.TimeField("上午上班", default=DEFAULT_OFFICE_HOURS[0][0])
    morning_end = models.TimeField("上午下班", default=DEFAULT_OFFICE_HOURS[0][1])
    afternoon_start = models.TimeField("下午上班", default=DEFAULT_OFFICE_HOURS[1][0])
    afternoon_end = models.TimeField("下午下班", default=DEFAULT_OFFICE_HOURS[1][1])
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "办公时间"
        verbose_name_plural = "办公时间"

    def __str__(self) -> str:
        return (
            f"{self.morning_start:%H:%M}–{self.morning_end:%H:%M}，"
            f"{self.afternoon_start:%H:%M}–{self.afternoon_end:%H:%M}"
        )

    def clean(self) -> None:
        if not (self.morning_start < self.morning_end <= self.afternoon_start < self.afternoon_end):
            raise ValidationError(
                "办公时间须满足：上午上班 < 上午下班 ≤ 下午上班 < 下午下班。"
            )

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> "OfficeHours":
        """The stored row, or an unsaved instance with the defaults."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)

    def periods(self) -> tuple[tuple[dt.time, dt.time], ...]:
        return (
            (self.morning_start, self.morning_end),
            (self.afternoon_start, self.afternoon_end),
        )
