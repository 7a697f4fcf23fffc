"""办理操作: one POST per workflow transition; each calls the hotline service as the caller.

The service decides (state machine, actor, business rules); this layer only finds the case inside
the caller's data scope and turns the body into arguments. Errors: 404 not visible · 403 not your
action · 409 not in this state · 400 a rule or a field is wrong.
"""
from __future__ import annotations

from typing import Callable, Optional

from ninja import Router

from tongban.cases.models import Case
from tongban.core.models import Role
from tongban.hotline import services as hotline
from tongban.hotline.workflow import HOTLINE

from . import lookups, present
from .errors import FieldErrors
from .schemas import (
    AnswerIn, CallbackIn, CaseDetail, CaseNumber, DispatchIn, ErrorOut, ExtensionDecisionIn, ExtensionIn, FinishIn,
    KeepIn, MergeIn, NoteIn, OptionalNoteIn, ReasonIn, ReassignIn, RefuseIn, RelayIn, SuspendIn,
)

router = Router(tags=["办理操作"])
RESPONSES = {200: CaseDetail, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}
ACTORS = {
    "centre": "热线中心人员", "holder": "当前承办单位", "sender": "派出该工单的单位（或热线中心）",
    "supervisor": "督办员（数据权限范围内）", "system": "系统",
}


def _describe(action: str, extra: str = "") -> dict:
    t = HOTLINE.transitions[action]
    states = "、".join(f"“{HOTLINE.state_label(s)}”" for s in t.sources)
    roles = "、".join(Role(r).label for r in t.roles) or "不限"
    targets = "、".join(f"“{HOTLINE.state_label(s)}”" for s in t.targets) or "不变"
    text = (f"{t.label}。可执行状态：{states}；执行后状态：{targets}。执行人：{ACTORS[t.actor]}，角色：{roles}。"
            f"{extra}返回操作后的工单详情。")
    return {"summary": t.label, "description": text, "response": RESPONSES}


def _act(request, number: str, run: Callable[[Case, object], object]) -> dict:
    user = request.auth
    case = lookups.visible_case(user, number)
    run(case, user)  # the service acts through the kernel, which brings `case` up to date
    return present.case_detail(case, user)


@router.post("/cases/{number}/answer", **_describe("answer", "咨询类诉求由话务员当场答复，之后仍需回访。"))
def answer(request, number: CaseNumber, data: AnswerIn):
    return _act(request, number, lambda c, u: hotline.answer_directly(c, data.reply, by=u))


@router.post("/cases/{number}/refuse", **_describe("refuse", "须选择六类法定情形之一。"))
def refuse(request, number: CaseNumber, data: RefuseIn):
    return _act(request, number, lambda c, u: hotline.refuse(c, data.reason, data.note, by=u))


@router.post("/cases/{number}/merge", **_describe("merge", "把重复诉求并入仍在办理的原工单；原工单办结时本件随之办结。"))
def merge(request, number: CaseNumber, data: MergeIn):
    def run(c, u):
        try:
            original = lookups.visible_case(u, data.original.strip())
        except Case.DoesNotExist:
            raise FieldErrors({"original": "原工单不存在，或不在您的数据权限范围内。"}) from None
        return hotline.link_duplicate(c, original, by=u)

    return _act(request, number, run)


@router.post("/cases/{number}/dispatch", **_describe("dispatch", "指定一个主办单位和若干协办单位，开始计算签收和办结时限。"))
def dispatch(request, number: CaseNumber, data: DispatchIn):
    lead = lookups.unit(data.unit, "unit")
    co = lookups.units(data.co_units, "co_units")
    return _act(request, number, lambda c, u: hotline.dispatch(c, lead, co_units=co, note=data.note, by=u))


@router.post("/cases/{number}/relay", **_describe("relay", "只能下派给当前承办单位的下级单位；办结期限不重新计算。"))
def relay(request, number: CaseNumber, data: RelayIn):
    target = lookups.unit(data.unit, "unit")
    return _act(request, number, lambda c, u: hotline.relay(c, target, note=data.note, by=u))


@router.post("/cases/{number}/sign", **_describe("sign", "无需请求体。超过签收期限签收的记为不按时。"))
def sign(request, number: CaseNumber):
    return _act(request, number, lambda c, u: hotline.sign(c, by=u))


@router.post("/cases/{number}/return", **_describe("return", "派单异议：说明不属于本单位的理由，最好注明应由哪个单位办理。"))
def return_case(request, number: CaseNumber, data: ReasonIn):
    return _act(request, number, lambda c, u: hotline.return_case(c, data.reason, by=u))


@router.post("/cases/{number}/reassign", **_describe("reassign", "同意退回，改派给其他单位，时限重新计算。"))
def reassign(request, number: CaseNumber, data: ReassignIn):
    target = lookups.unit(data.unit, "unit")
    return _act(request, number, lambda c, u: hotline.reassign(c, target, note=data.note, by=u))


@router.post("/cases/{number}/keep", **_describe("keep", "不同意退回，工单回到原单位继续办理，时限照常计算；可追加协办单位。"))
def keep(request, number: CaseNumber, data: KeepIn):
    co = lookups.units(data.co_units, "co_units")
    return _act(request, number, lambda c, u: hotline.keep(c, note=data.note, co_units=co, by=u))


@router.post("/cases/{number}/extension", **_describe("request_extension", "延期次数和天数受诉求类型限制，由督办员审批。"))
def request_extension(request, number: CaseNumber, data: ExtensionIn):
    return _act(request, number, lambda c, u: hotline.request_extension(c, data.days, data.reason, by=u))


@router.post("/cases/{number}/extension-decision", **_describe("decide_extension", "批准后办结期限顺延申请的工作日数。"))
def decide_extension(request, number: CaseNumber, data: ExtensionDecisionIn):
    return _act(request, number, lambda c, u: hotline.decide_extension(c, data.approve, note=data.note, by=u))


@router.post("/cases/{number}/progress", **_describe("progress"))
def progress(request, number: CaseNumber, data: NoteIn):
    return _act(request, number, lambda c, u: hotline.add_progress(c, data.note, by=u))


@router.post("/cases/{number}/suspend", **_describe("suspend", "等待诉求人或特殊程序（鉴定、听证、公告）时挂起，挂起期间不计时。"))
def suspend(request, number: CaseNumber, data: SuspendIn):
    return _act(request, number, lambda c, u: hotline.suspend(c, data.reason, by=u))


@router.post("/cases/{number}/resume", **_describe("resume", "办结期限顺延挂起的工作日数。请求体可省略。"))
def resume(request, number: CaseNumber, data: Optional[OptionalNoteIn] = None):
    note = data.note if data else ""
    return _act(request, number, lambda c, u: hotline.resume(c, note=note, by=u))


@router.post("/cases/{number}/finish", **_describe("finish", "填写答复意见和办理结果；“未解决”须写明原因。"))
def finish(request, number: CaseNumber, data: FinishIn):
    return _act(request, number, lambda c, u: hotline.finish(c, data.reply, data.result, by=u))


@router.post("/cases/{number}/callback", **_describe(
    "callback", "联系上时须填满意度：不满意则退回原单位重办；连续三次未联系上自动结案。"))
def callback(request, number: CaseNumber, data: CallbackIn):
    return _act(request, number, lambda c, u: hotline.callback(
        c, reached=data.reached, satisfaction=data.satisfaction or "", solved=data.solved, note=data.note, by=u))


@router.post("/cases/{number}/supervise", **_describe("supervise", "标记督办并填写督办意见。"))
def supervise(request, number: CaseNumber, data: NoteIn):
    return _act(request, number, lambda c, u: hotline.supervise(c, data.note, by=u))
