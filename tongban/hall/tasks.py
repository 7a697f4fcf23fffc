"""Scheduled jobs of the hall (Celery beat in production; `tongban hall_jobs` by hand)."""
from celery import shared_task

from . import services


@shared_task(name="tongban.hall.deferral_jobs")
def deferral_jobs() -> dict:
    """容缺: send the due reminders, then move lapsed deferrals to 补正."""
    sent, waiting = services.send_reminders()
    return {"sent": sent, "waiting": waiting, "lapsed": services.lapse_overdue()}
