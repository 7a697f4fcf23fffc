"""Celery tasks of the notification outbox (production); embedded mode calls the services directly."""
from celery import shared_task

from . import services


@shared_task(name="tongban.notify.deliver")
def deliver(ids: list[int]) -> dict:
    return services.deliver_many(ids)


@shared_task(name="tongban.notify.flush")
def flush() -> dict:
    """Beat job: send what is due — retries after a gateway outage, delayed messages."""
    return services.flush()
