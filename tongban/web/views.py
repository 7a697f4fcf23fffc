"""Staff pages: operator console, dispatcher queue, unit inbox, case page, call-backs, supervisor board,
settings. Every page starts from the data scope in `cases.access`; every change goes through a service."""
from __future__ import annotations

import secrets
from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from tongban.analytics import metrics
from tongban.audit.services import record as audit
from tongban.cases import access
from tongban.cases.models import Case, CaseType, Category, Channel
from tongban.cases.workflow import TransitionError
from tongban.core import clock, pii
from tongban.core.models import Role, Unit
from tongban.dispatch import routing as smart_dispatch
from tongban.hotline import queries
from tongban.hotline.choices import Satisfaction, label_of
from tongban.hotline import services as hotline
from tongban.hotline.workflow import HOTLINE
from tongban.hotspots import duplicates
from tongban.knowledge.models import Article
from tongban.knowledge.services import record_answer
from tongban.workdays import services as workdays
from tongban.workdays.models import CalendarOverride

from . import forms as f
from .actions import ACTIONS, build_form
from .export import xlsx_response

PERSON_ERRORS = (hotline.RuleError, TransitionError, access.AccessDenied, Unit.DoesNotExist)


def require_role(user, *roles):
    if not user.has_role(*roles, Role.SYSADMIN):
        raise PermissionDenied("您没有访问该页面的权限。")


def error_text(exc) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(m for msgs in exc.message_dict.values() for m in msgs) if hasattr(exc, "error_dict") else "；".join(exc.messages)
    if isinstance(exc, Unit.DoesNotExist):
        return "所选单位不存在或已停用。"
    return str(exc)


@login_required
def home(request):
    user = request.user
    for role, name in ((Role.OPERATOR, "console"), (Role.DISPATCHER, "dispatch_queue"), (Role.SUPERVISOR, "board"),
                       (Role.HANDLER, "inbox"), (Role.UNIT_ADMIN, "inbox"), (Role.SYSADMIN, "settings"),
                       (Role.SECADMIN, "account_admin"), (Role.AUDITOR, "audit_log")):
        if user.has_role(role):
            return redirect(name)
    return redirect("cases")


# ---------------------------------------------------------------- operator console (话务员)

@login_required
def console(request):
    require_role(request.user, Role.OPERATOR, Role.DISPATCHER)
    if request.method == "POST":
        form = f.IntakeForm(request.POST)
        step = request.POST.get("step", "accept")
        token = request.POST.get("intake_token", "")[:64] or None  # one per rendered form: a double submit is one case
        if form.is_valid():
            d = form.cleaned_data
            try:
                with transaction.atomic():
                    case = hotline.intake(hotline.Intake(
                        case_type=d["case_type"], title=d["title"], content=d["content"], requester_name=d["requester_name"],
                        requester_phone=d["requester_phone"], address=d["address"], region=d["region"], category=d["category"],
                        channel=d["channel"], intake_key=token), by=request.user)
                    if case.replayed:
                        step = "replayed"
                    elif step == "answer":
                        hotline.answer_directly(case, d["reply"], by=request.user)
                        article_id = request.POST.get("article", "")
                        article = Article.objects.filter(pk=article_id, status="published").first() if article_id.isdigit() else None
                        if article:
                            record_answer(article, case, request.user)
                    elif step == "refuse":
                        if not d["refusal_reason"]:
                            raise hotline.RuleError("不予受理时请选择法定情形。")
                        hotline.refuse(case, d["refusal_reason"], d["reply"], by=request.user)
                    elif request.POST.get("duplicate_of", "").strip():  # 重复件 picked in the console's panel
                        case = duplicates.link_at_intake(case, request.POST["duplicate_of"], by=request.user)
            except hotline.IntakeKeyConflict as exc:  # an edited resubmission of a form already taken: a new request
                form.add_error(None, f"此受理单已提交并生成工单 {exc.case.number}；如确为另一件诉求，请核对后再次提交。")
                token = secrets.token_urlsafe(24)
            except (ValidationError, *PERSON_ERRORS) as exc:
                form.add_error(None, error_text(exc))
            else:
                done = {"answer": "已直接答复", "refuse": "已不予受理并告知", "accept": "已受理，进入派单队列",
                        "replayed": "已于此前受理（重复提交，未再次登记）"}.get(step, "已受理")
                if case.duplicate_of_id and step != "replayed":
                    done = f"已受理，作为重复件并入 {case.duplicate_of.number}，随原件办结"
                messages.success(request, f"工单 {case.number} {done}。")
                return redirect(f"{reverse('console')}?last={case.number}")
        return render(request, "web/console.html", {"form": form, "step": step, "intake_token": token}, status=400)
    form = f.IntakeForm(initial={"case_type": CaseType.objects.filter(code="consult").first(), "channel": Channel.PHONE})
    number = request.GET.get("last", "")
    last = access.visible_cases(request.user).filter(number=number).first() if number else None
    return render(request, "web/console.html", {"form": form, "last": last, "intake_token": secrets.token_urlsafe(24)})


@login_required
def earlier_requests(request):
    """htmx: the caller's earlier requests as the operator types the number."""
    phone = request.GET.get("requester_phone", "")
    cases = list(access.visible_cases(request.user).filter(pk__in=hotline.earlier_requests(phone).values("pk"))
                 .select_related("case_type", "unit").order_by("-created_at")[:10]) if len(phone) >= 7 else []
    return render(request, "web/_earlier.html", {"cases": cases, "phone": phone})


# ---------------------------------------------------------------- dispatcher (派单员)

@login_required
def dispatch_queue(request):
    require_role(request.user, Role.DISPATCHER, Role.OPERATOR)
    page = queries.dispatch_queue(request.user, cursor=request.GET.get("after"), size=30)
    disputed = [(c, c.events.filter(action="return").last()) for c in queries.disputed(request.user)[:30]]
    smart = smart_dispatch.queue_context(page.items, disputed)  # suggestions, the model in use, the cached unit list
    if smart.get("unit_groups") is None:  # 智能派单 unavailable
        smart.update(unit_groups=f.unit_choices()[1:], suggested=queries.default_units())
    return render(request, "web/dispatch.html", {
        "page": page, "disputed": disputed,
        "pending_count": access.visible_cases(request.user).filter(state="pending_dispatch").count(), **smart,
    })


# ---------------------------------------------------------------- unit inbox (承办单位)

INBOX_TABS = {
    "todo": ("待办", ("pending_sign", "handling", "disputed", "suspended")),
    "sign": ("待签收", ("pending_sign",)),
    "handling": ("办理中", ("handling",)),
    "suspended": ("已挂起", ("suspended",)),
    "disputed": ("退回待审", ("disputed",)),
}


@login_required
def inbox(request):
    tab = request.GET.get("tab", "todo")
    label, states = INBOX_TABS.get(tab, INBOX_TABS["todo"])
    page = queries.inbox(request.user, cursor=request.GET.get("after"), states=states)
    units = access.scope_unit_ids(request.user)
    counts = dict(Case.objects.filter(unit_id__in=units, state__in=INBOX_TABS["todo"][1]).values_list("state").annotate(n=Count("id")))
    now = clock.now()
    stats = Case.objects.filter(unit_id__in=units, state__in=("pending_sign", "handling", "disputed")).aggregate(
        red=Count("id", filter=Q(due_at__lt=now)), yellow=Count("id", filter=Q(due_at__gte=now, warn_at__lte=now)))
    return render(request, "web/inbox.html", {"page": page, "tab": tab, "tabs": INBOX_TABS, "counts": counts, "stats": stats, "now": now})


# ---------------------------------------------------------------- case list, export

def _filter_from(request) -> queries.CaseFilter:
    g = request.GET

    def as_int(key):
        return int(g[key]) if g.get(key, "").isdigit() else None

    def as_date(key):
        try:
            return date.fromisoformat(g.get(key, ""))
        except ValueError:
            return None

    return queries.CaseFilter(q=g.get("q", "").strip(), state=g.get("state", ""), case_type=g.get("type", ""), unit=as_int("unit"),
                              category=as_int("category"), channel=g.get("channel", ""), light=g.get("light", ""),
                              supervised=g.get("supervised") == "1", created_from=as_date("from"), created_to=as_date("to"))


@login_required
def case_list(request):
    flt = _filter_from(request)
    page = queries.case_list(request.user, flt, cursor=request.GET.get("after"))
    query = request.GET.copy()
    query.pop("after", None)
    return render(request, "web/cases.html", {
        "page": page, "f": flt, "query": query.urlencode(), "now": clock.now(),
        "states": [("open", "未办结（全部）")] + list(HOTLINE.states.items()),
        "types": CaseType.objects.filter(workflow="hotline"), "channels": Channel.choices,
        "units": Unit.objects.filter(pk__in=access.scope_unit_ids(request.user)) if not access.is_centre_staff(request.user)
        else Unit.objects.filter(active=True).exclude(kind="centre").order_by("kind", "path"),
        "categories": Category.objects.filter(level=1),
    })


EXPORT_LIMIT = 50_000


@login_required
def case_export(request):
    qs = queries.filtered_cases(request.user, _filter_from(request)).select_related("case_type", "unit", "category").order_by("-created_at", "-id")
    rows = (
        [c.number, c.case_type.name, c.get_channel_display(), timezone.localtime(c.created_at), c.title, c.masked_name, c.masked_phone,
         c.address, c.category.full_name if c.category else "", c.unit.name if c.unit else "", c.state_label,
         timezone.localtime(c.due_at) if c.due_at else None, timezone.localtime(c.finished_at) if c.finished_at else None,
         label_of(Satisfaction, c.satisfaction)]
        for c in qs[:EXPORT_LIMIT].iterator(chunk_size=2000)
    )
    headers = ["编号", "类型", "渠道", "受理时间", "标题", "诉求人", "联系电话", "地址", "分类", "主办单位", "状态", "办结期限", "办结时间", "满意度"]
    audit("export", target="工单清单", detail={"query": request.GET.urlencode()})
    return xlsx_response(f"工单清单-{timezone.localdate():%Y%m%d}.xlsx", "工单", headers, rows)


# ---------------------------------------------------------------- case page and actions

def _visible_or_404(user, number) -> Case:
    try:
        return access.get_visible_case(user, number=number)
    except Case.DoesNotExist:
        raise Http404("工单不存在，或不在您的数据权限范围内。")


def _allowed_actions(user, case):
    allowed = []
    for t in case.machine.allowed(case.state):
        if t.action not in ACTIONS:
            continue
        try:
            access.check_action(user, case, t)
        except access.AccessDenied:
            continue
        if t.action == "decide_extension" and not case.extension_request:
            continue
        if t.action == "request_extension" and (case.extension_request or case.extensions_used >= case.case_type.max_extensions):
            continue
        if t.action == "relay" and not Unit.objects.filter(path__startswith=case.unit.path).exclude(pk=case.unit_id).exists():
            continue
        allowed.append(t)
    return allowed


def _case_context(request, case, forms=None):
    forms = forms or {}
    actions = [(t, forms.get(t.action) or build_form(t.action, case), ACTIONS[t.action].danger) for t in _allowed_actions(request.user, case)]
    events = case.events.select_related("actor", "actor_unit", "unit").order_by("seq")
    return {
        "case": case, "events": events, "actions": actions, "now": clock.now(), "light": case.light(clock.now()),
        "assignments": case.assignments.select_related("unit", "sent_by_unit"),
        "duplicates": case.duplicates.all(), "earlier": access.visible_cases(request.user).filter(
            pk__in=hotline.earlier_requests(case.requester_phone, exclude=case).values("pk")).order_by("-created_at")[:5],
        "machine": case.machine,
    }


@login_required
def case_detail(request, number):
    case = _visible_or_404(request.user, number)
    return render(request, "web/case.html", _case_context(request, case) | {"may_unmask": pii.can_unmask(request.user, case)})


@login_required
@require_POST
def case_unmask(request, number):
    """The requester's full phone number, on a deliberate click, for those allowed; every view is audited."""
    case = _visible_or_404(request.user, number)
    if not pii.can_unmask(request.user, case):
        raise PermissionDenied("您没有查看完整联系电话的权限。")
    audit("pii.unmask", target=case.number, detail={"fields": ["requester_name", "requester_phone"]})
    if request.headers.get("HX-Request"):
        return render(request, "web/_unmasked.html", {"case": case})
    return render(request, "web/case.html", _case_context(request, case) | {"unmasked": True, "may_unmask": True})


@login_required
def case_attachment(request, number, pk):
    """An attachment of a case the user may see; always downloaded, never rendered as a page."""
    case = _visible_or_404(request.user, number)
    att = case.attachments.filter(pk=pk).first()
    if att is None:
        raise Http404("附件不存在。")
    response = FileResponse(att.file.open("rb"), content_type=att.content_type,
                            as_attachment=att.content_type == "application/pdf", filename=att.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
@require_POST
def case_act(request, number, action):
    case = _visible_or_404(request.user, number)
    if action not in ACTIONS:
        raise Http404("未知的操作。")
    form = build_form(action, case, request.POST)
    if form.is_valid():
        try:
            ACTIONS[action].run(case, form.cleaned_data, request.user)
        except (ValidationError, *PERSON_ERRORS) as exc:
            form.add_error(None, error_text(exc))
        else:
            label = case.machine.transitions[action].label
            case.refresh_from_db()
            if request.headers.get("HX-Request"):
                return render(request, "web/_done_row.html", {"case": case, "label": label})
            messages.success(request, f"已{label}：工单 {case.number} 现为“{case.state_label}”。")
            nxt = request.POST.get("next", "")
            return redirect(nxt if nxt.startswith("/") and not nxt.startswith("//") else reverse("case", args=[case.number]))
    if request.headers.get("HX-Request"):  # show the errors beside the inline form, keep the form as typed
        response = render(request, "web/_form_errors.html", {"form": form})
        response["HX-Retarget"], response["HX-Reswap"] = f"#msg-{case.pk}", "innerHTML"
        return response
    return render(request, "web/case.html", _case_context(request, case, {action: form}) | {"open_action": action}, status=400)


# ---------------------------------------------------------------- call-backs (回访)

@login_required
def callbacks(request):
    require_role(request.user, Role.OPERATOR, Role.SUPERVISOR)
    page = queries.callback_queue(request.user, cursor=request.GET.get("after"), size=20)
    rows = [(c, build_form("callback", c)) for c in page.items]
    return render(request, "web/callbacks.html", {"rows": rows, "page": page})


# ---------------------------------------------------------------- supervisor board (督办)

def _period(request):
    today = timezone.localdate()
    try:
        days = max(1, min(366, int(request.GET.get("days", 30))))
    except ValueError:
        days = 30
    start = timezone.make_aware(timezone.datetime.combine(today - timedelta(days=days - 1), timezone.datetime.min.time()))
    end = timezone.make_aware(timezone.datetime.combine(today + timedelta(days=1), timezone.datetime.min.time()))
    return days, start, end


def _scored_units(user):
    return None if access.is_centre_staff(user) else access.scope_unit_ids(user)


@login_required
def board(request):
    days, start, end = _period(request)
    visible = access.visible_cases(request.user)
    now = clock.now()
    running = ("pending_sign", "handling", "disputed")
    summary = visible.aggregate(
        open=Count("id", filter=Q(state__in=queries.OPEN_STATES)),
        red=Count("id", filter=Q(state__in=running, due_at__lt=now)),
        yellow=Count("id", filter=Q(state__in=running, due_at__gte=now, warn_at__lte=now)),
        supervised=Count("id", filter=Q(supervised=True, state__in=queries.OPEN_STATES)),
        today=Count("id", filter=Q(created_at__gte=timezone.make_aware(timezone.datetime.combine(timezone.localdate(), timezone.datetime.min.time())))),
    )
    scores = metrics.unit_scores(start, end, unit_ids=_scored_units(request.user))
    overdue = queries.overdue(request.user, size=20)
    top = [s for s in scores if s.ranked][:15][::-1]
    chart = {
        "units": [s.unit_name for s in top],
        "score": [s.score for s in top],
        "response": [_pct(s.response_rate) for s in top],
        "solve": [_pct(s.solve_rate) for s in top],
        "satisfy": [_pct(s.satisfaction_rate) for s in top],
    }
    return render(request, "web/board.html", {
        "summary": summary, "scores": scores, "total": metrics.totals(scores), "overdue": overdue, "days": days,
        "chart": chart, "now": now, "warnings": workdays.schedule_warnings(), "min_ranked": metrics.min_ranked(),
    })


def _pct(v):
    return None if v is None else round(v * 100, 1)


@login_required
def board_export(request):
    days, start, end = _period(request)
    scores = metrics.unit_scores(start, end, unit_ids=_scored_units(request.user))
    headers = ["排名", "单位", "派单数", "按时签收", "响应率", "办结数", "按时办结率", "回访数", "解决率", "满意率", "综合得分", "平均办理时长（小时）", "退回数"]
    audit("export", target="三率考核", detail={"days": days})
    rows = ([i if s.ranked else "样本不足", s.unit_name, s.received, s.signed_on_time, _pct(s.response_rate), s.finished, _pct(s.on_time_rate), s.callbacks,
             _pct(s.solve_rate), _pct(s.satisfaction_rate), s.score, s.avg_hours, s.returned] for i, s in enumerate(scores, 1))
    return xlsx_response(f"三率考核-近{days}天-{timezone.localdate():%Y%m%d}.xlsx", "三率排名", headers, rows)


# ---------------------------------------------------------------- settings (系统管理)

@login_required
def settings_home(request):
    require_role(request.user, Role.SYSADMIN, Role.UNIT_ADMIN)
    return render(request, "web/settings.html", {
        "warnings": workdays.schedule_warnings(), "types": CaseType.objects.all(),
        "unit_count": Unit.objects.count(), "staff_count": request.user.__class__.objects.count(),
    })


@login_required
def case_type_edit(request, code):
    require_role(request.user, Role.SYSADMIN)
    ct = CaseType.objects.filter(code=code).first()
    if ct is None:
        raise Http404("没有这个案件类型。")
    form = f.CaseTypeLimitsForm(request.POST or None, instance=ct)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"“{ct.name}”的时限已保存；新派发的工单按新时限计算。")
        return redirect("settings")
    return render(request, "web/case_type_form.html", {"form": form, "ct": ct}, status=400 if request.method == "POST" else 200)


class OverrideForm(f.forms.ModelForm):
    class Meta:
        model = CalendarOverride
        fields = ["date", "is_workday", "reason"]
        widgets = {"date": f.forms.DateInput(attrs={"type": "date"})}
        error_messages = {"date": {"unique": "该日期已有调整记录，请先删除再添加。", "invalid": "日期格式不正确。"}}


@login_required
def calendar_page(request):
    require_role(request.user, Role.SYSADMIN)
    try:
        year = int(request.GET.get("year", timezone.localdate().year))
    except ValueError:
        year = timezone.localdate().year
    form = OverrideForm(request.POST or None)
    if request.method == "POST":
        if request.POST.get("delete"):
            CalendarOverride.objects.filter(pk=request.POST["delete"]).delete()
            messages.success(request, "已删除该日历调整。")
            return redirect(f"{reverse('calendar')}?year={year}")
        if form.is_valid():
            o = form.save()
            messages.success(request, f"已保存：{o}")
            return redirect(f"{reverse('calendar')}?year={o.date.year}")
    days = []
    d = date(year, 1, 1)
    while d.year == year:
        work = workdays.is_workday(d)
        if work == (d.weekday() >= 5):  # only the days that differ from a plain week
            days.append((d, work, workdays.source_of(d), workdays.describe(d)))
        d += timedelta(days=1)
    return render(request, "web/calendar.html", {
        "year": year, "days": days, "form": form, "overrides": CalendarOverride.objects.filter(date__year=year),
        "warnings": workdays.schedule_warnings(), "known": not workdays.unknown_years([year]),
    }, status=400 if request.method == "POST" else 200)


def healthz(request):
    Case.objects.exists()
    return HttpResponse("ok", content_type="text/plain")
