"""自动派单: after intake (any channel), a confident suggestion is dispatched by the system.

`after_intake` is what intake calls once the new case is committed. It never raises: whatever
goes wrong (no model, a damaged file, a broker that is down) is logged and the case simply
waits in the dispatcher queue.
"""
from __future__ import annotations

import logging

from tongban.cases.models import Case
from tongban.cases.workflow import TransitionError
from tongban.hotline import services as hotline

from . import routing
from .directory import directory
from .models import AutoDispatchSettings

log = logging.getLogger(__name__)
AUTO_NOTE = "智能派单"


def after_intake(case_id: int) -> None:
    try:
        if not directory().settings.enabled:
            return
        from .tasks import auto_dispatch_case

        auto_dispatch_case.delay(case_id)
    except Exception:
        log.exception("智能派单：工单 %s 未能自动派单，留待派单员处理", case_id)


def auto_dispatch(case_id: int) -> bool:
    """Dispatch the case to its best suggestion if that is confident enough. True if dispatched."""
    cfg = AutoDispatchSettings.get()  # fresh: the switch may have just been turned off
    if not cfg.enabled:
        return False
    case = Case.objects.select_related("case_type", "category", "region").filter(pk=case_id).first()
    if case is None or case.state != "pending_dispatch" or case.case_type.workflow != "hotline":
        return False
    result = routing.suggest(case)
    confident = result.best is not None and result.confidence >= cfg.threshold
    routing.remember(case, result, auto=confident)
    if not confident:
        return False
    best = result.best
    version = f"，模型 v{result.model_version}" if result.model_version else ""
    note = f"{AUTO_NOTE}（置信度 {best.score:.0%}，阈值 {cfg.threshold:.0%}{version}）：{best.reason}"[:1000]
    try:
        hotline.dispatch(case, best.unit, by=None, note=note)
    except TransitionError:
        return False  # a dispatcher was quicker
    return True
