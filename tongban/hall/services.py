"""办件 rules: 前台综合受理 → 后台分类审批 → 统一窗口出件, with 容缺, 不予受理, 并联审批, 跨域, 帮办代办,
电子证照免提交 and 好差评 → 整改. Views, commands, the demo and tests call these; they call the kernel."""
from __future__ import annotations

import datetime as dt
import importlib
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from random import Random

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from stdnum.cn import ric, uscc

from tongban.cases import services as kernel
from tongban.catalog import services as catalog
from tongban.cases.access import AccessDenied
from tongban.cases.models import AssignmentRole, AssignmentStatus, Case, CaseType
from tongban.core import clock
from tongban.core.links import public_url
from tongban.core.models import Role, Unit
from tongban.core.pii import is_valid_phone, normalize_phone
from tongban.workdays import services as workdays

from .ids import make_uscc
from .models import (
    BAD_LEVELS, Application, Booking, BookingStatus, CrossRegion, Enterprise, Evaluation, Level, Licence, LicenceStatus,
    MaterialCheck, MaterialState, Mode, Part, Person, Reminder, Slot,
)

log = logging.getLogger(__name__)
ITEM_TYPE, PACKAGE_TYPE, RECTIFY_TYPE = "hall_item", "hall_package", "hall_rectify"
# The hall's case types (created by migration 0002; re-created here if a test flush or an admin removed them).
CASE_TYPES = {ITEM_TYPE: ("政务服务办件", "hall", 20), PACKAGE_TYPE: ("一件事办件", "hall", 20), RECTIFY_TYPE: ("差评整改", "hall_rectify", 5)}
RECTIFY_DAYS = 5  # working days to rectify after a 差评
BAD_REASONS = ["等候时间长", "办事指南不清楚", "材料要求反复", "工作人员态度差", "超时未办结", "多次跑动", "系统故障"]
GOOD_REASONS = ["一次办成", "材料简化", "服务热情", "办理快捷", "帮办代办贴心"]


class RuleError(Exception):
    """A request that breaks a 办件 rule. The message says what to do, in Chinese."""


def _get(obj, name, default=None):
    return obj.get(name, default) if isinstance(obj, dict) else getattr(obj, name, default)


# ---------------------------------------------------------------- deadlines


def office_hours_per_day() -> float:
    day = dt.date(2000, 1, 1)
    return sum((dt.datetime.combine(day, e) - dt.datetime.combine(day, s)).total_seconds() for s, e in workdays.office_periods()) / 3600


def promised_due(start: dt.datetime, days: Decimal | float | int) -> dt.datetime:
    """承诺时限 in working days. Whole days end at the last second of the Nth working day after
    acceptance; a fractional limit counts office hours from `start` (0.5 working day = half a
    day's office hours, e.g. accepted 10:00 → due 14:15 with 09:00–12:00, 13:30–17:30)."""
    days = Decimal(str(days or 0))
    if days == int(days):
        return workdays.add_working_days(start, int(days))
    return workdays.add_working_hours(start, float(days) * office_hours_per_day())


# ---------------------------------------------------------------- what an application needs


def items_of(item=None, package=None) -> list:
    return package.ordered_items() if package is not None else [item]


def fields_for(item=None, package=None) -> list:
    """一表申请: a package's form asks every fact once (the catalog merges fields by key)."""
    if package is not None:
        return catalog.merged_form(package)
    return list(item.fields.order_by("order", "id"))


def materials_for(item=None, package=None) -> list:
    """一套材料: a package's materials are the deduplicated union (the catalog merges them by key)."""
    if package is not None:
        return catalog.merged_materials(package)
    return catalog.item_materials(item)


def valid_licences(kind: str, *, person: Person | None, enterprise: Enterprise | None, on: dt.date) -> list[Licence]:
    holders = Q(pk__in=[])
    if person is not None and person.pk:
        holders |= Q(person=person)
    if enterprise is not None and enterprise.pk:
        holders |= Q(enterprise=enterprise)
    qs = Licence.objects.filter(holders, kind=kind, status=LicenceStatus.VALID, valid_from__lte=on).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=on))
    return list(qs.order_by("-valid_from"))


@dataclass
class CheckLine:
    key: str
    name: str
    required: bool
    deferrable: bool
    licence_kind: str
    state: str
    licence: Licence | None = None

    @property
    def state_label(self) -> str:
        return MaterialState(self.state).label


def checklist(materials, *, present=(), deferred=(), person=None, enterprise=None, on: dt.date | None = None) -> list[CheckLine]:
    """The material checklist: a material an e-licence of the applicant can replace is satisfied
    from the store (电子证照免提交); otherwise it is present, deferred (容缺) or missing."""
    on = on or clock.now().date()
    lines = []
    for m in materials:
        key, kind = _get(m, "key"), _get(m, "licence_kind", "") or ""
        found = valid_licences(kind, person=person, enterprise=enterprise, on=on) if kind and (person or enterprise) else []
        if _get(m, "produced_by") is not None:  # e.g. the 营业执照 that the package's first item issues
            state, lic = MaterialState.PRODUCED, None
        elif _get(m, "by_form", False):  # the items' own application forms: the one merged form is filled here
            state, lic = MaterialState.PRESENT, None
        elif found:
            state, lic = MaterialState.LICENCE, found[0]
        elif key in present:
            state, lic = MaterialState.PRESENT, None
        elif key in deferred and _get(m, "deferrable", False):
            state, lic = MaterialState.DEFERRED, None
        else:
            state, lic = MaterialState.MISSING, None
        lines.append(CheckLine(key, _get(m, "name"), bool(_get(m, "required", True)), bool(_get(m, "deferrable", False)), kind, state, lic))
    return lines


# ---------------------------------------------------------------- the window form


@dataclass
class Submission:
    item: object = None
    package: object = None
    applicant_kind: str = "person"  # person | enterprise
    name: str = ""
    id_number: str = ""
    phone: str = ""
    enterprise_name: str = ""
    uscc: str = ""
    form: dict = field(default_factory=dict)
    present: set = field(default_factory=set)
    deferred: set = field(default_factory=set)
    commitment: str = ""
    supplement_days: int | None = None
    mode: str = Mode.WINDOW
    authority: str = ""
    region_name: str = ""
    return_method: str = "window"
    delivery: str = "window"
    mail_address: str = ""
    helped: bool = False
    help_reason: str = ""
    consent: bool = False
    consent_note: str = ""
    intake_key: str | None = None


def _check_field(f, raw: str) -> str | None:
    label, kind = _get(f, "label"), _get(f, "kind", "text")
    if not raw:
        return f"请填写“{label}”。" if _get(f, "required", False) else None
    if kind == "id_number" and not ric.is_valid(raw):
        return f"“{label}”不是有效的身份证号码（18位，末位校验码须正确）。"
    if kind == "uscc" and not uscc.is_valid(raw):
        return f"“{label}”不是有效的统一社会信用代码（18位，末位校验码须正确）。"
    if kind == "phone" and not is_valid_phone(raw):
        return f"“{label}”格式不正确：请填写11位手机号或带区号的固定电话。"
    if kind == "number":
        try:
            Decimal(raw)
        except ArithmeticError:
            return f"“{label}”应为数字。"
    if kind == "date":
        try:
            dt.date.fromisoformat(raw)
        except ValueError:
            return f"“{label}”应为日期，例如 2026-11-23。"
    choices = _get(f, "choices") or []
    if kind == "choice" and choices and raw not in choices:
        return f"“{label}”请从列表中选择。"
    return None


def validate(sub: Submission, *, refusing: bool = False) -> dict[str, str]:
    """Field errors in Chinese; empty when acceptable. A refusal needs only who and what."""
    errors: dict[str, str] = {}
    if sub.item is None and sub.package is None:
        errors["subject"] = "请选择要办理的事项或一件事。"
    elif sub.item is not None and (sub.item.negative_list or not sub.item.active):
        errors["subject"] = f"“{sub.item.name}”在负面清单中或已停用，大厅不予办理。"
    if not sub.name.strip():
        errors["name"] = "请填写申请人姓名。"
    if not ric.is_valid(sub.id_number.strip().upper()):
        errors["id_number"] = "身份证号码无效：应为18位，出生日期真实，且最后一位校验码正确（X 大写）。"
    if not is_valid_phone(sub.phone):
        errors["phone"] = "联系电话格式不正确：请填写11位手机号或带区号的固定电话。"
    if sub.applicant_kind == "enterprise":
        if not sub.enterprise_name.strip():
            errors["enterprise_name"] = "请填写企业名称。"
        if not uscc.is_valid(sub.uscc.strip().upper()):
            errors["uscc"] = "统一社会信用代码无效：应为18位，且最后一位校验码正确。"
    if refusing or errors.get("subject"):
        return errors
    for f in fields_for(sub.item, sub.package):
        if _get(f, "produced_by") is not None:
            continue  # filled in when the package's earlier item issues its licence (the USCC of the 营业执照)
        msg = _check_field(f, str(sub.form.get(_get(f, "key"), "")).strip())
        if msg:
            errors[f"f_{_get(f, 'key')}"] = msg
    if sub.deferred:
        if not sub.commitment.strip():
            errors["commitment"] = "容缺受理须由申请人签署承诺：请填写承诺内容。"
        if not sub.supplement_days or not (1 <= sub.supplement_days <= 30):
            errors["supplement_days"] = "请填写补齐期限（1–30个工作日）。"
    if sub.mode in (Mode.PROXY, Mode.JOINT) and not (sub.authority.strip() and sub.region_name.strip()):
        errors["authority"] = "异地代收代办/多地联办须填写办理机关和办理地。"
    if sub.delivery == "mail" and not sub.mail_address.strip():
        errors["mail_address"] = "选择邮寄送达时请填写邮寄地址。"
    if sub.helped and not sub.consent:
        errors["consent"] = "帮办代办须经申请人（或其监护人）同意：请勾选并说明。"
    if sub.helped and not sub.help_reason:
        errors["help_reason"] = "请选择帮办代办原因。"
    return errors


def _answers(sub: Submission) -> dict[str, str]:
    """The form as stored: what the applicant said, without what a licence of the package will fill in."""
    produced = {_get(f, "key") for f in fields_for(sub.item, sub.package) if _get(f, "produced_by") is not None}
    return {k: str(v).strip() for k, v in sub.form.items() if k not in produced}


def _applicant(sub: Submission) -> tuple[Person, Enterprise | None]:
    person, _ = Person.objects.get_or_create(id_number=sub.id_number.strip().upper(),
                                             defaults={"name": sub.name.strip(), "phone": normalize_phone(sub.phone)})
    enterprise = None
    if sub.applicant_kind == "enterprise":
        enterprise, _ = Enterprise.objects.get_or_create(uscc=sub.uscc.strip().upper(),
                                                         defaults={"name": sub.enterprise_name.strip(), "legal_person": person})
    return person, enterprise


def _require_clerk(by) -> Unit:
    if not (by and by.has_role(Role.CLERK, Role.SYSADMIN) and by.unit_id):
        raise AccessDenied("窗口受理需要“窗口人员”角色。")
    return by.unit


def preview(sub: Submission) -> list[CheckLine]:
    """The checklist the clerk sees before accepting (licences looked up for a known applicant)."""
    person = Person.objects.filter(id_number=sub.id_number.strip().upper()).first()
    enterprise = Enterprise.objects.filter(uscc=sub.uscc.strip().upper()).first() if sub.applicant_kind == "enterprise" else None
    return checklist(materials_for(sub.item, sub.package), present=sub.present, deferred=sub.deferred, person=person, enterprise=enterprise)


def case_type(code: str) -> CaseType:
    name, workflow, days = CASE_TYPES[code]
    ct, _ = CaseType.objects.get_or_create(code=code, defaults=dict(name=name, workflow=workflow, finish_limit_days=days,
                                                                      redo_limit_days=days, ordering=100 + list(CASE_TYPES).index(code)))
    return ct


def _open(case_type_code: str, sub: Submission, hall: Unit, *, by, title: str, intake_key=None, parent=None) -> Case:
    case = kernel.open_case(
        case_type(case_type_code), by=by, channel="window", title=title[:200],
        content=f"{sub.name.strip()}申请办理“{title}”。", requester_name=sub.name.strip(), requester_phone=normalize_phone(sub.phone),
        unit=hall, region=hall.region, intake_key=intake_key, parent=parent,
    )
    kernel.assign(case, hall, AssignmentRole.LEAD, at=case.created_at, sent_by=hall, note="综合窗口受理")
    return case


def _route_to(case: Case, unit: Unit, hall: Unit, at: dt.datetime) -> None:
    """后台分类审批: the hall passes the case to the owning department (it stays visible to the hall)."""
    kernel.end_assignments(case, at=at, status=AssignmentStatus.RELAYED)
    kernel.assign(case, unit, AssignmentRole.LEAD, at=at, sent_by=hall)
    case.unit = unit
    case.dispatched_at = at


@transaction.atomic
def submit(sub: Submission, *, by) -> Application:
    """前台综合受理: accept an item or package at any window (容缺受理 when deferrable materials are
    missing). Raises ValidationError (Chinese field messages) or RuleError; nothing is written then."""
    hall = _require_clerk(by)
    if sub.intake_key:
        done = Application.objects.filter(case__intake_key=sub.intake_key).first()
        if done:
            return done
    errors = validate(sub)
    if errors:
        raise ValidationError(errors)
    person, enterprise = _applicant(sub)
    lines = checklist(materials_for(sub.item, sub.package), present=sub.present, deferred=sub.deferred, person=person,
                      enterprise=enterprise)
    missing = [ln.name for ln in lines if ln.required and ln.state == MaterialState.MISSING]
    if missing:
        raise RuleError("以下必要材料缺少，且不能容缺受理：" + "、".join(missing) + "。可一次性告知申请人补齐后再来，或出具不予受理通知。")
    deferred = [ln for ln in lines if ln.state == MaterialState.DEFERRED]
    title = sub.package.name if sub.package is not None else sub.item.name
    case = _open(PACKAGE_TYPE if sub.package is not None else ITEM_TYPE, sub, hall, by=by, title=title, intake_key=sub.intake_key)
    app = Application.objects.create(
        case=case, item=sub.item, package=sub.package, person=person, enterprise=enterprise,
        form=_answers(sub), hall=hall, clerk=by, mode=sub.mode,
        helper=by if sub.helped else None, help_reason=sub.help_reason if sub.helped else "", consent=sub.helped and sub.consent,
        consent_note=sub.consent_note.strip() if sub.helped else "", commitment=sub.commitment.strip() if deferred else "",
        supplement_days=sub.supplement_days if deferred else None, delivery=sub.delivery, mail_address=sub.mail_address.strip(),
        created_at=case.created_at,
    )
    MaterialCheck.objects.bulk_create([
        MaterialCheck(application=app, key=ln.key, name=ln.name, required=ln.required, deferrable=ln.deferrable,
                      licence_kind=ln.licence_kind, state=ln.state, licence=ln.licence, order=i)
        for i, ln in enumerate(lines)])
    cross = sub.item is not None and sub.mode in (Mode.PROXY, Mode.JOINT)
    if cross:
        CrossRegion.objects.create(application=app, authority=sub.authority.strip(), region_name=sub.region_name.strip(),
                                   return_method=sub.return_method)

    def accept(c, at):
        kernel.set_due(c, promised_due(at, (sub.package or sub.item).promised_days))
        if sub.item is not None and not cross:
            _route_to(c, sub.item.unit, hall, at)
        if deferred:
            app.supplement_due_at = workdays.add_working_days(at, sub.supplement_days)
        return {"payload": {"materials": {ln.key: ln.state for ln in lines}, "helper": by.pk if sub.helped else None,
                            "mode": sub.mode}}

    action = "accept_deferred" if deferred else "accept"
    note = ("容缺受理，申请人承诺：" + sub.commitment.strip()) if deferred else ""
    kernel.perform(case, action, by=by, note=note, unit=case.unit, change=accept)
    if deferred:
        app.save(update_fields=["supplement_due_at"])
        _schedule_reminders(app)
    if sub.package is not None:
        for i, item in enumerate(items_of(package=sub.package)):
            child = _open(ITEM_TYPE, sub, hall, by=by, title=f"{sub.package.name}·{item.name}", parent=case)
            Part.objects.create(application=app, item=item, case=child, order=i)

            def route(c, at, item=item):
                kernel.set_due(c, promised_due(at, item.promised_days))
                _route_to(c, item.unit, hall, at)

            kernel.perform(child, "accept", by=by, unit=item.unit, note="并联审批：分送" + item.unit.name, change=route)
    return app


@transaction.atomic
def refuse(sub: Submission, reason: str, *, by) -> Application:
    """不予受理 at the window, with the reason printed on the notice."""
    hall = _require_clerk(by)
    if not reason.strip():
        raise ValidationError({"reason": "请填写不予受理的理由（例如不属于本机关职权范围、申请材料不齐全且不能容缺）。"})
    errors = validate(sub, refusing=True)
    if errors:
        raise ValidationError(errors)
    person, enterprise = _applicant(sub)
    title = sub.package.name if sub.package is not None else sub.item.name
    case = _open(PACKAGE_TYPE if sub.package is not None else ITEM_TYPE, sub, hall, by=by, title=title, intake_key=sub.intake_key)
    app = Application.objects.create(case=case, item=sub.item, package=sub.package, person=person, enterprise=enterprise,
                                     form=_answers(sub), hall=hall, clerk=by, mode=sub.mode,
                                     refusal_reason=reason.strip(), created_at=case.created_at)

    def close(c, at):
        c.closed_at, c.result, c.reply = at, "refused", reason.strip()

    kernel.perform(case, "refuse_window", by=by, note=reason.strip(), outcome="refused", change=close)
    return app


# ---------------------------------------------------------------- 容缺: supply, remind, lapse


def outstanding(app: Application):
    return app.checks.filter(state=MaterialState.DEFERRED, supplied_at__isnull=True)


def _schedule_reminders(app: Application) -> None:
    due = app.supplement_due_at
    moments = {app.created_at, workdays.warning_start(due)}
    Reminder.objects.bulk_create([Reminder(application=app, due_at=m) for m in sorted(moments) if m < due])


def _limit_of(case: Case) -> Decimal:
    """The promised limit of a 办件 or of a package's sub-case."""
    part = Part.objects.filter(case=case).select_related("item").first()
    if part:
        return part.item.promised_days
    app = Application.objects.select_related("item", "package").get(case=case)
    return (app.package or app.item).promised_days


def _resume(c: Case, at: dt.datetime) -> None:
    """Leaving 补正: the stopped clock restarts with a fresh promised limit, counted from now."""
    if c.state == "correction":
        kernel.set_due(c, promised_due(at, _limit_of(c)))
        c.paused_at, c.pause_reason = None, ""


def supplement(app: Application, keys: list[str], *, by) -> Application:
    """补齐: the applicant brings deferred materials; when none is outstanding the case resumes."""
    with transaction.atomic():
        rows = list(outstanding(app).filter(key__in=keys))
        if not rows:
            raise RuleError("请勾选申请人本次补交的容缺材料。")
        case = app.case
        if case.state not in ("deferred", "correction", "approved"):
            raise RuleError("该办件当前没有待补的容缺材料。")
        MaterialCheck.objects.filter(pk__in=[r.pk for r in rows]).update(state=MaterialState.PRESENT, supplied_at=clock.now())
        if not outstanding(app).exists():
            approved = case.events.filter(action__in=("approve", "complete")).exists()
            kernel.perform(case, "supplement", by=by, to="approved" if approved else "reviewing", change=_resume,
                           note="已补齐：" + "、".join(r.name for r in rows), payload={"keys": [r.key for r in rows]})
            app.reminders.filter(done=False).update(done=True, outcome="材料已补齐，不再提醒")
            if app.package_id and not approved:  # the sub-cases may all have been decided meanwhile
                _complete_if_all_decided(Case.objects.select_for_update().get(pk=case.pk))
    return app


def corrected(case: Case, note: str, *, by) -> Case:
    """补正材料已交: the window records what the applicant corrected; the department resumes."""
    if not note.strip():
        raise RuleError("请写明申请人补正了哪些材料。")
    if Application.objects.filter(case=case, checks__state=MaterialState.DEFERRED, checks__supplied_at__isnull=True).exists():
        raise RuleError("该办件有容缺材料未补齐：请在“补齐容缺材料”中登记。")
    return kernel.perform(case, "supplement", by=by, to="reviewing", change=_resume, note=note.strip())


def _notifier():
    try:
        return importlib.import_module("tongban.notify.services").notify
    except (ImportError, AttributeError):
        return None


def send_reminders(now: dt.datetime | None = None) -> tuple[int, int]:
    """Send due 容缺 reminders through the message service (tongban.notify). Without it the
    reminders stay queued and are sent on a later run. Returns (sent, waiting)."""
    now = now or clock.now()
    notify = _notifier()
    sent = waiting = 0
    seen: set[int] = set()
    for r in Reminder.objects.filter(done=False, due_at__lte=now).select_related("application__case").order_by("-due_at", "-id"):
        app = r.application
        names = list(outstanding(app).values_list("name", flat=True))
        if app.pk in seen:  # a late run: only the latest due reminder of an application goes out
            r.done, r.outcome = True, "已由后一条提醒替代"
            r.save(update_fields=["done", "outcome"])
            continue
        seen.add(app.pk)
        if not names or not app.case.is_open:
            r.done, r.outcome = True, "无待补材料，不再提醒"
            r.save(update_fields=["done", "outcome"])
            continue
        if notify is None:
            r.outcome = "消息服务未启用，待发送"
            r.save(update_fields=["outcome"])
            waiting += 1
            continue
        notify("supplement_reminder", phone=app.case.requester_phone, case=app.case, dedupe_key=f"supplement:{r.pk}",
               context={"matter": app.subject, "materials": "、".join(names),
                        "deadline": f"{timezone.localtime(app.supplement_due_at):%Y年%m月%d日 %H:%M}"})
        r.done, r.sent_at, r.outcome = True, now, "已发送"
        r.save(update_fields=["done", "sent_at", "outcome"])
        sent += 1
    return sent, waiting


def lapse_overdue(now: dt.datetime | None = None) -> int:
    """容缺逾期: past the promised date with materials still outstanding, the case goes to 补正
    (the clock stops); the window may then terminate it (终止办理) or resume on supply."""
    now = now or clock.now()
    n = 0
    apps = Application.objects.filter(supplement_due_at__lt=now, case__state__in=("deferred", "approved"),
                                      checks__state=MaterialState.DEFERRED, checks__supplied_at__isnull=True).distinct()
    for app in apps.select_related("case"):
        names = "、".join(outstanding(app).values_list("name", flat=True))

        def stop(c, at):
            kernel.set_due(c, None)
            c.paused_at = at
            c.pause_reason = "容缺材料逾期未补齐"

        kernel.perform(app.case, "lapse", by=None, change=stop, note=f"承诺期限已过，仍缺：{names}。转补正，暂停计时。")
        n += 1
    return n


def terminate(app: Application, note: str, *, by) -> Application:
    if not note.strip():
        raise RuleError("请说明终止办理的原因。")

    def close(c, at):
        c.closed_at, c.result = at, "terminated"

    with transaction.atomic():
        kernel.perform(app.case, "terminate", by=by, note=note.strip(), change=close)
        for part in app.parts.select_related("case").exclude(case__state__in=("done", "terminated")):
            kernel.perform(part.case, "terminate_part", by=None, change=close, note="套餐办件终止，子件随之终止")
    return app


# ---------------------------------------------------------------- 后台分类审批


def decide(case: Case, approve: bool, note: str = "", *, by) -> Case:
    """审批通过 / 不予许可 by the owning department. A package's sub-case decision completes the
    package when every sub-case is decided (the parent row is locked first, so two departments
    deciding at the same moment cannot both miss the completion)."""
    if not approve and not note.strip():
        raise RuleError("不予许可须说明理由和依据。")
    with transaction.atomic():
        parent = Case.objects.select_for_update().get(pk=case.parent_id) if case.parent_id else None

        def finish(c, at):
            c.finished_at, c.result = at, "approved" if approve else "rejected"
            return {"on_time": c.due_at is None or at <= c.due_at}

        kernel.perform(case, "approve" if approve else "reject", by=by, note=note.strip(), unit=case.unit, change=finish,
                       outcome="approved" if approve else "rejected")
        if parent is not None:
            _complete_if_all_decided(parent)
    return case


def _complete_if_all_decided(parent: Case) -> None:
    states = list(Case.objects.filter(parent=parent).values_list("state", flat=True))
    if parent.state not in ("reviewing", "deferred") or any(s not in ("approved", "rejected") for s in states):
        return
    rejected = states.count("rejected")

    def finish(c, at):
        c.finished_at, c.result = at, "partly" if rejected else "approved"
        return {"on_time": c.due_at is None or at <= c.due_at}

    kernel.perform(parent, "complete", by=None, change=finish, outcome="partly" if rejected else "approved",
                   note=f"{len(states)}个子件全部办结" + (f"，其中{rejected}个不予许可" if rejected else "") + "，请到统一窗口出件。")


def request_correction(case: Case, note: str, *, by) -> Case:
    if not note.strip():
        raise RuleError("请写明需要补正的内容（一次性告知）。")

    def stop(c, at):
        c.paused_at, c.pause_reason = at, "补正"

    return kernel.perform(case, "request_correction", by=by, note=note.strip(), unit=case.unit, change=stop)


# ---------------------------------------------------------------- 跨省通办 / 全域通办


def forward(app: Application, ref: str = "", *, by) -> Application:
    """转递: the receiving hall sends the checked file to the owning authority."""
    cross = app.cross

    def send(c, at):
        cross.forwarded_at, cross.forward_ref = at, ref.strip()

    kernel.perform(app.case, "forward", by=by, change=send, note=f"转递至{cross.region_name}{cross.authority}" + (f"（单号{ref}）" if ref else ""))
    cross.save(update_fields=["forwarded_at", "forward_ref"])
    return app


def remote_status(app: Application, status: str, *, by, result: str = "") -> Application:
    """The remote side's status, entered by staff or posted by the remote system (by=None
    is then not allowed: the API records it as the clerk who holds the token)."""
    if not status.strip():
        raise RuleError("请填写受理地的办理状态。")
    cross = app.cross
    at = clock.now()
    cross.remote_status, cross.remote_updated_at = status.strip()[:200], at
    if result in ("approved", "rejected"):
        def finish(c, at):
            c.finished_at, c.result = at, result

        kernel.perform(app.case, "remote_result", by=by, to=result, note=status.strip(), outcome=result, change=finish)
    elif result:
        raise RuleError("办理结果只能是“通过”或“不予许可”。")
    else:
        kernel.perform(app.case, "remote_update", by=by, note=status.strip())
    cross.save(update_fields=["remote_status", "remote_updated_at"])
    return app


# ---------------------------------------------------------------- 统一窗口出件, 电子证照 issued here


RATING_SALT = "hall.rate"
RATING_DAYS = 90  # how long the 好差评 link stays valid


def rating_token(app: Application) -> str:
    return signing.dumps(app.case.number, salt=RATING_SALT)


def rating_url(app: Application) -> str:
    return public_url(reverse("hall_rate", args=[rating_token(app)]))


def _tell(code: str, *, phone: str, **kwargs) -> None:
    """Queue a message through tongban.notify, if installed; a message-service problem is logged and
    never blocks the hall's own action (出件, a booking)."""
    notify = _notifier()
    if notify is None or not phone:
        return
    try:
        with transaction.atomic():
            notify(code, phone=phone, **kwargs)
    except Exception:  # noqa: BLE001
        log.exception("hall: 消息“%s”未能排入发件箱（%s）", code, kwargs.get("dedupe_key", ""))


def _invite_to_rate(app: Application) -> None:
    """好差评邀请 by SMS once the result is out."""
    _tell("hall_rate_invite", phone=app.case.requester_phone, case=app.case, dedupe_key=f"hall:{app.case.pk}:rate",
          context={"matter": app.subject, "rate_url": rating_url(app)})


def issue(app: Application, *, by, tracking: str = "", note: str = "") -> Application:
    """统一窗口出件: hand over (or mail) the result; approved items put their licence in the store.
    An approval waits for the 容缺 materials; a refusal (不予许可) is delivered regardless. The
    applicant is then invited by SMS to rate the service (好差评)."""
    if app.case.state == "approved" and outstanding(app).exists():
        raise RuleError("容缺材料尚未补齐，补齐后才能出件。")
    with transaction.atomic():
        at = clock.now()

        def close(c, at):
            c.closed_at = at

        kernel.perform(app.case, "issue", by=by, change=close, note=note or ("邮寄送达" + (f"，单号{tracking}" if tracking else "") if app.delivery == "mail" else "窗口领取"))
        issued = []
        for part in app.parts.select_related("case", "item"):
            kernel.perform(part.case, "issue_part", by=None, change=close, note="随套餐统一出件")
            if part.case.result == "approved":
                issued += _issue_licences(app, part.item, part.case)
        if app.item_id and app.case.result == "approved":
            issued += _issue_licences(app, app.item, app.case)
        app.issued_at = at
        app.save(update_fields=["issued_at"])
        if hasattr(app, "cross"):
            app.cross.return_tracking = tracking.strip()
            app.cross.save(update_fields=["return_tracking"])
        _invite_to_rate(app)
    return app


def _issue_licences(app: Application, item, case: Case) -> list[Licence]:
    kind = item.produces  # the catalog says which e-licence an item produces when it is approved
    if not kind:
        return []
    rng = Random(case.number)
    enterprise = app.enterprise
    if kind == "营业执照" and enterprise is None:
        name = next((v for k, v in app.form.items() if "name" in k and ("company" in k or "enterprise" in k)), "") or f"{app.person.name}新办企业"
        enterprise = Enterprise.objects.create(name=name[:100], uscc=_free_uscc(rng), legal_person=app.person)
        app.enterprise = enterprise
        app.save(update_fields=["enterprise"])
    number = enterprise.uscc if kind == "营业执照" else f"{case.number}-{case.pk}"
    if app.package_id:  # the merged form's questions this licence answers (the USCC) are filled in now
        filled = {f.key: number for f in catalog.merged_form(app.package) if f.produced_by is not None and f.produced_by.pk == item.pk}
        if filled:
            app.form.update(filled)
            app.save(update_fields=["form"])
    lic, _ = Licence.objects.get_or_create(kind=kind, number=number, defaults=dict(
        person=None if enterprise else app.person, enterprise=enterprise, issuer=item.unit.name,
        valid_from=clock.now().date(), source="issued", issued_by_case=case))
    return [lic]


def _free_uscc(rng: Random) -> str:
    while True:
        code = make_uscc(rng)
        if not Enterprise.objects.filter(uscc=code).exists():
            return code


def reuse_rate() -> dict:
    """电子证照复用率: checklist lines a licence could replace, and how many the store satisfied."""
    qs = MaterialCheck.objects.exclude(licence_kind="").exclude(state=MaterialState.PRODUCED)
    total = qs.count()
    used = qs.filter(state=MaterialState.LICENCE).count()
    return {"replaceable": total, "by_licence": used, "rate": round(100 * used / total, 1) if total else None}


# ---------------------------------------------------------------- 好差评 → 整改


def rate(app: Application, level: int, reasons: list[str] = (), comment: str = "", *, channel: str = "link") -> Evaluation:
    """好差评 after the 办件; a 差评 opens a 整改 case at the responsible unit with a deadline and a call-back."""
    if level not in Level.values:
        raise RuleError("请选择评价等级。")
    if app.case.state != "done":
        raise RuleError("办件办结后才能评价。")
    if level in BAD_LEVELS and not (reasons or comment.strip()):
        raise RuleError("请选择或填写不满意的原因，以便整改。")
    with transaction.atomic():
        if Evaluation.objects.filter(application=app).exists():
            raise RuleError("该办件已经评价过了，感谢您的参与。")
        ev = Evaluation.objects.create(application=app, level=level, reasons=list(reasons), comment=comment.strip()[:1000],
                                       channel=channel, created_at=clock.now())
        kernel.perform(app.case, "rate", by=None, outcome=str(level), note=Level(level).label, payload={"reasons": list(reasons)})
        Case.objects.filter(pk=app.case_id).update(satisfaction=Level(level).label)
        if ev.is_bad:
            ev.rectify_case = _open_rectification(app, ev)
            ev.save(update_fields=["rectify_case"])
    return ev


def _open_rectification(app: Application, ev: Evaluation) -> Case:
    unit = app.item.unit if app.item_id and not hasattr(app, "cross") else app.hall
    case = kernel.open_case(
        case_type(RECTIFY_TYPE), by=None, channel="window", title=f"差评整改：{app.subject}（{app.case.number}）",
        content=f"评价：{Level(ev.level).label}；原因：{'、'.join(ev.reasons) or '—'}；意见：{ev.comment or '—'}",
        requester_name=app.case.requester_name, requester_phone=app.case.requester_phone, unit=unit, region=app.hall.region,
        parent=app.case,
    )
    kernel.assign(case, app.hall, AssignmentRole.ASSIST, at=case.created_at, sent_by=app.hall, note="差评来源大厅")
    kernel.assign(case, unit, AssignmentRole.LEAD, at=case.created_at, sent_by=app.hall)
    Case.objects.filter(pk=case.pk).update(dispatched_at=case.created_at, due_at=(due := workdays.add_working_days(case.created_at, RECTIFY_DAYS)),
                                           warn_at=workdays.warning_start(due))
    case.refresh_from_db()
    return case


def rectified(case: Case, note: str, *, by) -> Case:
    if not note.strip():
        raise RuleError("请写明整改措施和结果。")

    def finish(c, at):
        c.finished_at, c.reply = at, note.strip()
        return {"on_time": c.due_at is None or at <= c.due_at}

    return kernel.perform(case, "rectified", by=by, note=note.strip(), unit=case.unit, change=finish)


def rectify_callback(case: Case, satisfied: bool, note: str = "", *, by) -> Case:
    """回访 the applicant: satisfied closes the 整改; otherwise it goes back to the unit."""

    def close(c, at):
        if satisfied:
            c.closed_at = at
        else:
            c.reopen_count += 1
            kernel.set_due(c, workdays.add_working_days(at, RECTIFY_DAYS))

    return kernel.perform(case, "rectify_callback", by=by, to="closed" if satisfied else "rectifying", change=close,
                          outcome="satisfied" if satisfied else "unsatisfied", note=note.strip())


def rating_stats(by: str = "unit") -> list[dict]:
    """好差评 per unit (the item's department; the hall for packages) or per item/package."""
    rows: dict = {}
    for ev in Evaluation.objects.select_related("application__item__unit", "application__package", "application__hall"):
        a = ev.application
        key = (a.item.unit.name if a.item_id else a.hall.name) if by == "unit" else a.subject
        r = rows.setdefault(key, {"name": key, "n": 0, "good": 0, "bad": 0, "sum": 0})
        r["n"] += 1
        r["sum"] += ev.level
        r["good"] += ev.level >= Level.FAIR
        r["bad"] += ev.level in BAD_LEVELS
    out = []
    for r in rows.values():
        out.append({**r, "good_rate": round(100 * r["good"] / r["n"], 1), "avg": round(r["sum"] / r["n"], 2)})
    return sorted(out, key=lambda r: (-r["n"], r["name"]))


# ---------------------------------------------------------------- 预约


def book(slot: Slot, name: str, phone: str, subject: str = "") -> Booking:
    """Book a place; the slot row is locked so two people cannot take its last place."""
    if not name.strip():
        raise RuleError("请填写姓名。")
    if not is_valid_phone(phone):
        raise RuleError("手机号格式不正确。")
    with transaction.atomic():
        slot = Slot.objects.select_for_update().get(pk=slot.pk)
        taken = slot.bookings.filter(status__in=(BookingStatus.BOOKED, BookingStatus.ARRIVED)).count()
        if taken >= slot.capacity:
            raise RuleError(f"{slot.day:%m月%d日} {slot.start:%H:%M} 的{slot.window_group}已约满，请选择其他时段。")
        now = clock.now()
        code = f"Y{slot.day:%m%d}{slot.pk % 1000:03d}{taken + 1:02d}"
        while Booking.objects.filter(code=code).exists():
            code = code[:-2] + f"{(int(code[-2:]) + 1) % 100:02d}"
        return Booking.objects.create(slot=slot, name=name.strip(), phone=normalize_phone(phone), subject=subject.strip()[:100],
                                      code=code, created_at=now)


def cancel(booking: Booking) -> Booking:
    if booking.status != BookingStatus.BOOKED:
        raise RuleError("只有“已预约”的号可以取消。")
    booking.status = BookingStatus.CANCELLED
    booking.save(update_fields=["status"])
    return booking


# ---------------------------------------------------------------- 预约 by the applicant (portal /p/book/)

PUBLIC_BOOKING_DAYS = 7  # how far ahead the portal offers slots (calendar days)
MAX_OPEN_BOOKINGS = 3  # future bookings one phone may hold at once


def bookable_slots(now: dt.datetime | None = None, days: int = PUBLIC_BOOKING_DAYS) -> list[dict]:
    """Slots that have not started yet, in the coming `days`, with the places left, earliest first."""
    now = timezone.localtime(now or clock.now())
    slots = (Slot.objects.filter(day__gte=now.date(), day__lte=now.date() + dt.timedelta(days=days))
             .exclude(day=now.date(), start__lte=now.time())
             .annotate(taken=Count("bookings", filter=Q(bookings__status__in=(BookingStatus.BOOKED, BookingStatus.ARRIVED))))
             .select_related("hall").order_by("day", "start", "hall__name", "window_group"))
    return [{"slot": s, "left": max(0, s.capacity - s.taken)} for s in slots]


def book_online(slot_id, name: str, phone: str, subject: str = "") -> Booking:
    """A citizen books a slot on the portal: only a future slot, at most MAX_OPEN_BOOKINGS at once per
    phone; the confirmation with the booking number goes out by SMS."""
    slot = Slot.objects.select_related("hall").filter(pk=slot_id).first() if str(slot_id).isdigit() else None
    now = timezone.localtime(clock.now())
    if slot is None or (slot.day, slot.start) <= (now.date(), now.time()):
        raise RuleError("请选择一个还未开始的预约时段。")
    held = Booking.objects.filter(phone=normalize_phone(phone), status=BookingStatus.BOOKED, slot__day__gte=now.date()).count()
    if held >= MAX_OPEN_BOOKINGS:
        raise RuleError(f"该手机号已有 {held} 个未到的预约，请先办理或取消后再预约。")
    with transaction.atomic():
        booking = book(slot, name, phone, subject)
        _tell("booking_confirm", phone=booking.phone, dedupe_key=f"booking:{booking.pk}", context={
            "name": booking.name, "code": booking.code, "hall": slot.hall.name, "group": slot.window_group,
            "when": f"{slot.day:%m月%d日} {slot.start:%H:%M}–{slot.end:%H:%M}", "matter": booking.subject or "政务服务事项",
            "cancel_url": public_url(reverse("portal_book_cancel"))})
    return booking


def cancel_online(code: str, phone: str) -> Booking:
    """The citizen cancels with the booking number and the phone it was made with, before the slot starts."""
    now = timezone.localtime(clock.now())
    booking = Booking.objects.select_related("slot").filter(code=code.strip().upper(), phone=normalize_phone(phone)).first()
    if booking is None or booking.status != BookingStatus.BOOKED or (booking.slot.day, booking.slot.start) <= (now.date(), now.time()):
        raise RuleError("预约号或手机号不对，或该预约已取消、已开始，不能再取消。")
    return cancel(booking)


def day_slots(hall: Unit, day: dt.date) -> list[dict]:
    slots = Slot.objects.filter(hall=hall, day=day).annotate(
        taken=Count("bookings", filter=Q(bookings__status__in=(BookingStatus.BOOKED, BookingStatus.ARRIVED))))
    return [{"slot": s, "taken": s.taken, "left": max(0, s.capacity - s.taken),
             "bookings": [b for b in s.bookings.all() if b.status != BookingStatus.CANCELLED]} for s in slots.prefetch_related("bookings")]


def open_slots(hall: Unit, day: dt.date, groups: list[str], *, start=dt.time(9), end=dt.time(17, 30), minutes: int = 30,
               capacity: int = 4) -> int:
    """Create the day's slots for each window group inside office hours (idempotent)."""
    if not workdays.is_workday(day):
        return 0
    n = 0
    for group in groups:
        for ps, pe in workdays.office_periods():
            t = dt.datetime.combine(day, max(ps, start))
            while t + dt.timedelta(minutes=minutes) <= dt.datetime.combine(day, min(pe, end)):
                _, made = Slot.objects.get_or_create(hall=hall, window_group=group, day=day, start=t.time(), defaults={
                    "end": (t + dt.timedelta(minutes=minutes)).time(), "capacity": capacity})
                n += made
                t += dt.timedelta(minutes=minutes)
    return n


