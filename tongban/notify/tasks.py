"""Celery tasks of the notification outbox (production); embedded mode calls the services directly."""
from celery import shared_task

from . import services


@shared_task(name="tongban.notify.deliver")
def deliver(ids: list[int]) -> dict:
    return services.deliver_many(ids)


@shared_task(name="tongban.notify.flush")
def flush() -> dict:
    """Send what is due: the beat job (retries after a gateway outage, delayed messages) and the batch
    that web processes ask for after intake. Goes on while full batches come back, within bounds."""
    total: dict = {}
    for _ in range(20):
        counts = services.flush()
        for status, n in counts.items():
            total[status] = total.get(status, 0) + n
        if sum(counts.values()) < 500:
            break
    return total
