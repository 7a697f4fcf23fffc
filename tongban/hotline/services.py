"""接诉即办 rules. Views, the API, jobs, the demo and tests call these; they call the kernel."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.timezone import localtime

from tongban.cases import services as kernel
from tongban.cases.access import AccessDenied, is_centre_staff
from tongban.cases.models import AssignmentRole, AssignmentStatus, Case, CaseType, Category
from tongban.core.models import Region, Role, Unit, UnitKind
from tongban.core.pii import is_valid_phone, normalize_phone
from tongban.workdays import services as workdays

from .choices import CALLBACK_MAX_ATTEMPTS, RefusalReason, Result, Satisfaction


class RuleError(Exception):
    """A request that breaks a business rule. The message says what to do, in Chinese."""


class IntakeKeyConflict(RuleError):
    """The idempotency key was already used for a different request."""

    def __init__(self, case: Case) -> None:
        self.case = case
        super().__init__(f"该幂等键已用于另一件内容不同的诉求（工单 {case.number}）；登记新诉求请使用新的幂等键。")


@dataclass
class Intake:
    case_type: CaseType
    title: str
    content: str
    requester_name: str = ""
    requester_phone: str = ""
    address: str = ""
    region: Region | None = None
    category: Category | None = None
    channel: str = "phone"
    latitude: float | None = None
    longitude: float | None = None
    intake_key: str | None = None  # the client's idempotency key: a repeated submission returns the first case

    def same_request(self, case: Case) -> bool:
        """Whether `case` was created from this very request (a repeat, not a new one)."""
        return (case.case_type_id, case.channel, case.title, case.content, case.requester_name, case.requester_phone,
                case.address) == (self.case_type.pk, self.channel, self.title.strip(), self.content.strip(),
                                  self.requester_name.strip(), normalize_phone(self.requester_phone), self.address.strip())


def stored_intake_key(key: str, by) -> str:
    """Keys are per account (one client's key never finds another's case); stored as a digest."""
    return hashlib.sha256(f"{by.pk if by is not None else '-'}:{key}".encode()).hexdigest()


def validate_intake(data: Intake) -> dict[str, str]:
    """Field errors in Chinese; empty when the intake is acceptable."""
    errors = {}
    if not data.title.strip():
        errors["title"] = "请填写诉求标题。"
    if len(data.title) > 200:
        errors["title"] = "标题不能超过200字。"
    if not data.content.strip():
        errors["content"] = "请填写诉求内容。"
    if data.requester_phone and not is_valid_phone(data.requester_phone):
        errors["requester_phone"] = "联系电话格式不正确：请填写11位手机号或带区号的固定电话。"
    if not data.case_type.active or data.case_type.workflow != "hotline":
        errors["case_type"] = "诉求类型无效。"
    return errors


INTAKE_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.SYSADMIN)


def may_take_requests(user, channel: str) -> bool:
    if is_centre_staff(user) and user.has_role(*INTAKE_ROLES):
        return True
    return channel == "grid" and bool(user.unit_id) and user.unit.kind in (UnitKind.GRID, UnitKind.VILLAGE)


def intake(data: Intake, *, by=None) -> Case:
    """受理: create the request — by hotline-centre staff, by a grid worker reporting from the field
    (网格员上报, channel "grid"), or by the product itself (by=None: portal, API clients, jobs).

    Raises ValidationError with Chinese field messages, AccessDenied for anyone else.

    With `data.intake_key`, a repeat of the same request (double submit, client retry) returns the case
    the first one created, with `case.replayed = True`, also when both arrive at once; the same key
    with a different request raises IntakeKeyConflict. The case is committed when this returns
    (unless the caller holds an outer transaction).
    """
    if by is not None and not may_take_requests(by, data.channel):
        raise AccessDenied("受理诉求需要热线中心的“话务员”或“派单员”角色；网格员请以“网格员上报”渠道登记。")
    key = stored_intake_key(data.intake_key, by) if data.intake_key else None
    errors = validate_intake(data)
    if errors:
        raise ValidationError(errors)
    try:
        case = kernel.open_case(
            data.case_type, by=by, channel=data.channel, title=data.title.strip(), content=data.content.strip(),
            requester_name=data.requester_name.strip(), requester_phone=normalize_phone(data.requester_phone),
            address=data.address.strip(), region=data.region, category=data.category,
            latitude=data.latitude, longitude=data.longitude, intake_key=key,
        )
    except IntegrityError:  # the key is taken: a repeat (insert first, look up on conflict — one query less per intake)
        if key and (earlier := _replay(data, key)):
            return earlier
        raise
    case.replayed = False
    transaction.on_commit(partial(_smart_dispatch, case.pk))
    return case


def _smart_dispatch(case_id: int) -> None:
    """智能派单 once the new case is committed; it logs its own failures and never raises."""
    from tongban.dispatch.auto import after_intake

    after_intake(case_id)


def _replay(data: Intake, key: str) -> Case | None:
    earlier = Case.objects.filter(intake_key=key).first()
    if earlier is None:
        return None
    if not data.same_request(earlier):
        raise IntakeKeyConflict(earlier)
    earlier.replayed = True
    return earlier


def earlier_requests(phone: str, *, exclude: Case | None = None, limit: int = 10):
    """The caller's earlier requests, newest first (shown at intake)."""
    phone = normalize_phone(phone)
    if not phone:
        return Case.objects.none()
    qs = Case.objects.filter(requester_phone=phone).select_related("case_type", "unit").order_by("-created_at", "-id")
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return qs[:limit]


def answer_directly(case: Case, reply: str, *, by) -> Case:
    """直接答复: the operator answered on the spot; the person is still asked at call-back."""
    if not reply.strip():
        raise RuleError("请填写答复内容。")

    def change(c, at):
        c.reply, c.result, c.finished_at = reply.strip(), Result.EXPLAINED, at

    return kernel.perform(case, "answer", by=by, note=reply.strip(), outcome=Result.EXPLAINED, change=change)


def refuse(case: Case, reason: str, note: str = "", *, by) -> Case:
    """不予受理/引导, with one of the six legal reasons."""
    if reason not in RefusalReason.values:
        raise RuleError("请选择不予受理的法定情形。")

    def change(c, at):
        c.result, c.reply, c.closed_at = "refused", note.strip() or RefusalReason(reason).label, at

    return kernel.perform(case, "refuse", by=by, note=note, outcome=reason, change=change)


def _give_to(c: Case, unit: Unit, at, *, sent_by: Unit | None, reset_due: bool) -> None:
    kernel.assign(c, unit, AssignmentRole.LEAD, at=at, sent_by=sent_by)
    c.unit = unit
    ct = c.case_type
    c.sign_due_at = kernel.deadline(at, ct.sign_limit, ct.sign_limit_unit)
    if reset_due or c.due_at is None:
        kernel.set_due(c, workdays.add_working_days(at, ct.finish_limit_days))


def dispatch(case: Case, unit: Unit, *, by, co_units: list[Unit] = (), note: str = "") -> Case:
    """派单 to one lead unit (主办) and optional assisting units (协办)."""
    co_units = [u for u in co_units if u.pk != unit.pk]
    sender = getattr(by, "unit", None)

    def change(c, at):
        c.dispatched_at = at
        _give_to(c, unit, at, sent_by=sender, reset_due=True)
        for u in co_units:
            kernel.assign(c, u, AssignmentRole.ASSIST, at=at, sent_by=sender)

    return kernel.perform(case, "dispatch", by=by, unit=unit, note=note, change=change,
                          payload={"unit": unit.pk, "co_units": [u.pk for u in co_units]})


def relay(case: Case, unit: Unit, *, by, note: str = "") -> Case:
    """下派: the holding unit passes the case down to one of its sub-units (市→区县→乡镇→村社区/网格).

    The handling deadline does not restart: the time is the holder's to share.
    """
    if case.unit_id is None or not unit.is_below(case.unit):
        raise RuleError(f"只能下派给“{case.unit}”的下级单位。")
    holder = case.unit

    def change(c, at):
        kernel.end_assignments(c, at=at, status=AssignmentStatus.RELAYED)
        _give_to(c, unit, at, sent_by=holder, reset_due=False)

    return kernel.perform(case, "relay", by=by, unit=unit, note=note, change=change, payload={"from": holder.pk, "unit": unit.pk})


def sign(case: Case, *, by) -> Case:
    """签收. Signing late is recorded (counts against the 响应率)."""

    def change(c, at):
        kernel.sign_assignment(c, at=at)
        return {"on_time": None if c.sign_due_at is None else at <= c.sign_due_at}

    return kernel.perform(case, "sign", by=by, unit=case.unit, change=change)


def return_case(case: Case, reason: str, *, by) -> Case:
    """退回 (派单异议): the unit says the case is not theirs, with a reason."""
    if not reason.strip():
        raise RuleError("退回必须说明理由，例如“非本单位职责”，并尽量注明应由哪个单位办理。")
    return kernel.perform(case, "return", by=by, unit=case.unit, note=reason.strip())


def reassign(case: Case, unit: Unit, *, by, note: str = "") -> Case:
    """The dispatcher accepts the objection: 改派 to the right unit with fresh limits."""
    if unit.pk == case.unit_id:
        raise RuleError("改派单位不能与退回单位相同。")
    old = case.unit

    def change(c, at):
        kernel.end_assignments(c, at=at, status=AssignmentStatus.RETURNED)
        _give_to(c, unit, at, sent_by=getattr(by, "unit", None) or _sender_of(c), reset_due=True)

    return kernel.perform(case, "reassign", by=by, unit=unit, note=note, change=change, payload={"from": old.pk if old else None, "unit": unit.pk})


def _sender_of(c: Case) -> Unit | None:
    lead = c.assignments.filter(role=AssignmentRole.LEAD, ended_at__isnull=True).first()
    return lead.sent_by_unit if lead else None


def keep(case: Case, *, by, note: str = "", co_units: list[Unit] = ()) -> Case:
    """The dispatcher rejects the objection: back to the same unit, the clock still running.

    首接负责: when responsibility is shared the first unit keeps the lead and the others join as 协办.
    """
    if not note.strip():
        raise RuleError("驳回退回时请说明理由。")

    def change(c, at):
        kernel.sign_assignment(c, at=at)
        for u in co_units:
            if u.pk != c.unit_id:
                kernel.assign(c, u, AssignmentRole.ASSIST, at=at, sent_by=getattr(by, "unit", None))

    return kernel.perform(case, "keep", by=by, unit=case.unit, note=note, change=change, payload={"co_units": [u.pk for u in co_units]})


def request_extension(case: Case, days: int, reason: str, *, by) -> Case:
    """申请延期: a supervisor decides; the count per case is limited by its type."""
    ct = case.case_type
    if case.extension_request:
        raise RuleError("已有一项延期申请正在审批，请等待督办员处理。")
    if case.extensions_used >= ct.max_extensions:
        raise RuleError(f"该类工单最多可延期 {ct.max_extensions} 次，已用完。")
    if not 1 <= days <= ct.max_extension_days:
        raise RuleError(f"延期天数应在 1 到 {ct.max_extension_days} 个工作日之间。")
    if not reason.strip():
        raise RuleError("请说明延期理由。")

    def change(c, at):
        c.extension_request = {"days": days, "reason": reason.strip(), "by": by.pk if by else None}

    return kernel.perform(case, "request_extension", by=by, unit=case.unit, note=reason.strip(), change=change, payload={"days": days})


def decide_extension(case: Case, approve: bool, *, by, note: str = "") -> Case:
    if not case.extension_request:
        raise RuleError("该工单没有待审批的延期申请。")
    days = case.extension_request["days"]

    def change(c, at):
        if approve:
            kernel.set_due(c, workdays.add_working_days(c.due_at, days))
            c.extensions_used += 1
        c.extension_request = None

    return kernel.perform(case, "decide_extension", by=by, unit=case.unit, note=note, change=change,
                          outcome="approved" if approve else "denied", payload={"days": days})


def add_progress(case: Case, note: str, *, by) -> Case:
    if not note.strip():
        raise RuleError("请填写办理进展。")
    return kernel.perform(case, "progress", by=by, unit=case.unit, note=note.strip())


def suspend(case: Case, reason: str, *, by) -> Case:
    """挂起: waiting for the requester, or a special procedure (鉴定/听证/公告). The clock stops."""
    if not reason.strip():
        raise RuleError("挂起必须说明原因，例如“等待诉求人补充材料”或“需进行专业鉴定”。")
    if len(reason.strip()) > 200:
        raise RuleError("挂起原因不能超过200字，详细情况请用“记录进展”补充。")

    def change(c, at):
        c.paused_at, c.pause_reason = at, reason.strip()

    return kernel.perform(case, "suspend", by=by, unit=case.unit, note=reason.strip(), change=change)


def resume(case: Case, *, by, note: str = "") -> Case:
    """恢复: the deadline moves by the working days the case was paused."""

    def change(c, at):
        paused = workdays.working_days_between(localtime(c.paused_at).date(), localtime(at).date())
        if paused and c.due_at:
            kernel.set_due(c, workdays.add_working_days(c.due_at, paused))
        c.paused_at, c.pause_reason = None, ""
        return {"payload": {"paused_working_days": paused}}

    return kernel.perform(case, "resume", by=by, unit=case.unit, note=note, change=change)


def finish(case: Case, reply: str, result: str, *, by) -> Case:
    """办结 with a reply (答复意见) and a result. Duplicates linked to it close with the same reply."""
    if not reply.strip():
        raise RuleError("请填写答复意见。")
    if result not in Result.values:
        raise RuleError("请选择办理结果。")
    if result == Result.UNSOLVED and len(reply.strip()) < 10:
        raise RuleError("未解决的工单需在答复意见中写明原因。")

    def change(c, at):
        c.reply, c.result, c.finished_at = reply.strip(), result, at
        kernel.end_assignments(c, at=at, status=AssignmentStatus.DONE, role=None)
        return {"on_time": c.due_at is None or at <= c.due_at}

    with transaction.atomic():
        done = kernel.perform(case, "finish", by=by, unit=case.unit, note=reply.strip(), outcome=result, change=change)
        for dup in Case.objects.filter(duplicate_of=done, state="merged").values_list("pk", flat=True):
            kernel.perform(dup, "close_duplicate", by=None, note=f"随原件 {done.number} 办结", change=_copy_reply(done))
    return done


def _copy_reply(original: Case):
    def change(c, at):
        c.reply, c.result, c.finished_at, c.closed_at = original.reply, original.result, at, at

    return change


def link_duplicate(case: Case, original: Case, *, by) -> Case:
    """重复件: a new request about an issue that is already open is merged into it."""
    if original.pk == case.pk:
        raise RuleError("不能与自身并案。")
    if not original.is_open or original.state == "merged":
        raise RuleError(f"原工单 {original.number} 已{original.state_label}，不能并案，请作为新工单派单。")

    def change(c, at):
        c.duplicate_of = original

    return kernel.perform(case, "merge", by=by, note=f"并入 {original.number}", change=change, payload={"original": original.pk})


def callback(case: Case, *, reached: bool, satisfaction: str = "", solved: bool | None = None, note: str = "", by) -> Case:
    """回访. 不满意 reopens the case to the same unit with a new deadline (重办).

    Unreached call-backs are retried; after the third failed attempt the case is closed.
    """
    if reached and satisfaction not in Satisfaction.values:
        raise RuleError("请选择诉求人的满意度。")
    attempts = case.events.filter(action="callback", outcome="unreached").count() + (0 if reached else 1)
    if not reached:
        to = "closed" if attempts >= CALLBACK_MAX_ATTEMPTS else "pending_callback"
        outcome = "unreached"
    elif satisfaction == Satisfaction.UNSATISFIED and case.unit_id:
        to, outcome = "handling", satisfaction
    else:
        to, outcome = "closed", satisfaction

    def change(c, at):
        if reached:
            c.satisfaction = satisfaction
        if to == "closed":
            c.closed_at = at
        if to == "handling":  # 重办: same unit, new deadline, a new round of handling
            c.reopen_count += 1
            c.finished_at = None
            kernel.set_due(c, workdays.add_working_days(at, c.case_type.redo_limit_days))
            kernel.assign(c, c.unit, AssignmentRole.LEAD, at=at, sent_by=getattr(by, "unit", None), note="不满意重办")
            kernel.sign_assignment(c, at=at)

    payload = {"reached": reached, "attempt": attempts}
    return kernel.perform(case, "callback", by=by, to=to, unit=case.unit, outcome=outcome, solved=solved if reached else None,
                          note=note, change=change, payload=payload)


def supervise(case: Case, note: str, *, by) -> Case:
    """督办: flag the case; it stays flagged and listed on the supervisor board."""
    if not note.strip():
        raise RuleError("请填写督办意见。")

    def change(c, at):
        c.supervised = True

    return kernel.perform(case, "supervise", by=by, unit=case.unit, note=note.strip(), change=change)
