"""Scheduled job of 热点发现 (Celery beat daily in production; `tongban hotspots` by hand)."""
from celery import shared_task

from . import clusters


@shared_task(name="tongban.hotspots.detect")
def detect(days: int | None = None) -> int:
    """Cluster the recent requests; returns the number of hotspots found."""
    return clusters.detect(days=days).cluster_count
