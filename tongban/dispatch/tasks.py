"""Jobs of 智能派单 (Celery; in-process when REDIS_URL is unset)."""
from __future__ import annotations

import logging

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task(name="tongban.dispatch.auto_dispatch_case")
def auto_dispatch_case(case_id: int) -> bool:
    from .auto import auto_dispatch

    return auto_dispatch(case_id)


@shared_task(name="tongban.dispatch.train_nightly")
def train_nightly() -> str:
    """Retrain from finished cases and corrections; the new version is used if it is not worse."""
    from .learning import TrainingError, train

    try:
        v = train(trigger="nightly")
    except TrainingError as e:
        log.warning("智能派单夜间训练未进行：%s", e)
        return str(e)
    return f"v{v.number}{'（已启用）' if v.activated else '（未启用）'}"
