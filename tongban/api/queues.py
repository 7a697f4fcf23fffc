"""待办与队列: the same keyset pages as the lists, each for one kind of work."""
from __future__ import annotations

from ninja import Query, Router

from tongban.hotline import queries

from . import present
from .schemas import CasePage, ErrorOut, PageQuery

router = Router(tags=["待办与队列"])
RESPONSES = {200: CasePage, 400: ErrorOut, 401: ErrorOut}


def _run(fn, request, p: PageQuery) -> dict:
    return present.page(fn(request.auth, cursor=present.decode_cursor(p.cursor), size=p.size))


@router.get("/inbox", response=RESPONSES, summary="本单位待办",
            description="您所在单位（及可见的下级单位）当前持有、未办结的工单：待签收、办理中、退回待审、已挂起，办结期限最近的在前。")
def inbox(request, p: Query[PageQuery]):
    return _run(queries.inbox, request, p)


@router.get("/queues/dispatch", response=RESPONSES, summary="待派单队列",
            description="待派单的新诉求，受理时间最早的在前。")
def dispatch_queue(request, p: Query[PageQuery]):
    return _run(queries.dispatch_queue, request, p)


@router.get("/queues/callback", response=RESPONSES, summary="待回访队列",
            description="已办结待回访的工单，办结时间最早的在前。")
def callback_queue(request, p: Query[PageQuery]):
    return _run(queries.callback_queue, request, p)


@router.get("/overdue", response=RESPONSES, summary="超期工单",
            description="已超过办结期限仍未办结的工单，超期最久的在前（督办用）。")
def overdue(request, p: Query[PageQuery]):
    return _run(queries.overdue, request, p)
