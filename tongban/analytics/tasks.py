"""Scheduled jobs of the analytics room (Celery beat in production; `tongban rollup_stats` by hand)."""
from celery import shared_task

from . import metrics


@shared_task(name="tongban.analytics.refresh_day_stats")
def refresh_day_stats() -> int:
    """Roll the finished days up into UnitDayStats so the 三率 board stays fast at millions of cases."""
    return metrics.refresh_day_stats()
