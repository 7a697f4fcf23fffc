"""Hall pages: 综合窗口受理, 办件 page (出件, 容缺补齐, 跨域), 后台审批, 预约, 电子证照, 好差评, statistics.
Every page starts from the data scope in `cases.access`; every change goes through `hall.services`."""
from __future__ import annotations

import datetime as dt
import json
import secrets
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tongban.cases import access
from tongban.cases.models import Case
from tongban.cases.workflow import TransitionError
from tongban.catalog.models import Package, ServiceItem
from tongban.core import clock
from tongban.core.models import Role

from . import pdf, services as hall
from .models import Application, Booking, HelpReason, Level, Licence, MaterialState, Mode, Part, Slot
from .workflow import HALL

PERSON_ERRORS = (hall.RuleError, TransitionError, access.AccessDenied)
WINDOW_GROUPS = ["综合窗口", "企业开办专区", "不动产登记专区"]


def _require(user, *roles):
    if not user.has_role(*roles, Role.SYSADMIN):
        raise PermissionDenied("您没有访问该页面的权限。")


def _error_text(exc) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(m for msgs in exc.message_dict.values() for m in msgs) if hasattr(exc, "error_dict") else "；".join(exc.messages)
    return str(exc)


def _hall_cases(user):
    return access.visible_cases(user).filter(case_type__workflow="hall")


# ---------------------------------------------------------------- 综合窗口 home


@login_required
def home(request):
    user = request.user
    if not user.has_role(Role.CLERK, Role.SYSADMIN):
        return redirect("hall_review")
    q = request.GET.get("q", "").strip()
    items = packages = []
    if q:
        items = list(ServiceItem.objects.filter(Q(name__icontains=q) | Q(code__icontains=q), active=True).select_related("unit")[:30])
        packages = list(Package.objects.filter(name__icontains=q, active=True)[:10])
    else:
        packages = list(Package.objects.filter(active=True)[:12])
    mine = _hall_cases(user).filter(parent__isnull=True).select_related("case_type", "unit", "application")
    queues = [
        ("待出件", mine.filter(state__in=("approved", "rejected"))),
        ("容缺待补 / 补正", mine.filter(state__in=("deferred", "correction"))),
        ("异地办理中", mine.filter(state="remote")),
        ("审批中", mine.filter(state="reviewing")),
    ]
    queues = [(label, list(qs.order_by("due_at", "id")[:20]), qs.count()) for label, qs in queues]
    today = clock.now()
    return render(request, "hall/home.html", {
        "q": q, "items": items, "packages": packages, "queues": queues, "now": today,
        "accepted_today": mine.filter(created_at__date=timezone.localdate(today)).count(),
        "recent": list(mine.order_by("-created_at", "-id")[:10]),
    })


# ---------------------------------------------------------------- 前台综合受理


def _subject(request):
    src = request.POST if request.method == "POST" else request.GET
    item = package = None
    if src.get("package", "").isdigit():
        package = Package.objects.filter(pk=src["package"], active=True).first()
    elif src.get("item", "").isdigit():
        item = ServiceItem.objects.filter(pk=src["item"]).select_related("unit").first()
    if item is None and package is None:
        raise Http404("请选择事项或一件事。")
    return item, package


def _submission(post, item, package) -> hall.Submission:
    days = post.get("supplement_days", "").strip()
    return hall.Submission(
        item=item, package=package, applicant_kind=post.get("applicant_kind", "person"), name=post.get("name", ""),
        id_number=post.get("id_number", "").strip().upper(), phone=post.get("phone", "").strip(),
        enterprise_name=post.get("enterprise_name", ""), uscc=post.get("uscc", "").strip().upper(),
        form={k[2:]: v for k, v in post.items() if k.startswith("f_")},
        present={k[2:] for k, v in post.items() if k.startswith("m_") and v == "present"},
        deferred={k[2:] for k, v in post.items() if k.startswith("m_") and v == "deferred"},
        commitment=post.get("commitment", ""), supplement_days=int(days) if days.isdigit() else None,
        mode=post.get("mode", Mode.WINDOW), authority=post.get("authority", ""), region_name=post.get("region_name", ""),
        return_method=post.get("delivery", "window"), delivery=post.get("delivery", "window"),
        mail_address=post.get("mail_address", ""), helped=post.get("helped") == "1", help_reason=post.get("help_reason", ""),
        consent=post.get("consent") == "1", consent_note=post.get("consent_note", ""), intake_key=post.get("intake_key") or None,
    )


def _new_context(request, item, package, sub, errors=None, general=""):
    subject = package or item
    items = hall.items_of(item, package)
    fields = hall.fields_for(item, package)
    lines = hall.preview(sub)
    saving = None
    if package is not None:
        from tongban.catalog.services import savings
        saving = savings(package)
    return {
        "item": item, "package": package, "subject": subject, "items": items, "fields": fields, "sub": sub,
        "lines": lines, "errors": errors or {}, "general": general, "modes": Mode.choices, "help_reasons": HelpReason.choices,
        "saving": saving, "intake_key": request.POST.get("intake_key") or secrets.token_hex(10),
        "cross_ok": item is not None and (item.cross_province or item.all_region),
    }


@login_required
def new(request):
    """一窗受理: the merged form, the material checklist (电子证照 looked up), 容缺, 帮办, 跨域."""
    _require(request.user, Role.CLERK)
    item, package = _subject(request)
    if item is not None and item.negative_list:
        messages.error(request, f"“{item.name}”属于负面清单事项，不进厅办理。{item.negative_reason}")
        return redirect("hall_home")
    if request.method != "POST":
        return render(request, "hall/new.html", _new_context(request, item, package, hall.Submission(item=item, package=package)))
    sub = _submission(request.POST, item, package)
    step = request.POST.get("step", "accept")
    if step == "check":  # htmx: re-draw the checklist after the ID was typed (licences looked up)
        return render(request, "hall/_checklist.html", _new_context(request, item, package, sub))
    try:
        if step == "refuse":
            app = hall.refuse(sub, request.POST.get("reason", ""), by=request.user)
            messages.success(request, f"已出具不予受理通知：{app.case.number}。")
        else:
            app = hall.submit(sub, by=request.user)
            messages.success(request, f"已受理：{app.case.number}（{app.case.state_label}）。请打印受理回执交申请人。")
    except ValidationError as exc:
        errs = {k: v[0] for k, v in exc.message_dict.items()}
        return render(request, "hall/new.html", _new_context(request, item, package, sub, errs, "请按提示修改后再提交。"), status=400)
    except PERSON_ERRORS as exc:
        return render(request, "hall/new.html", _new_context(request, item, package, sub, None, str(exc)), status=400)
    return redirect("hall_application", app.case.number)


@login_required
@require_POST
def checklist(request):
    _require(request.user, Role.CLERK)
    item, package = _subject(request)
    return render(request, "hall/_checklist.html", _new_context(request, item, package, _submission(request.POST, item, package)))


# ---------------------------------------------------------------- the 办件 page


def _visible(user, number) -> Case:
    try:
        case = access.get_visible_case(user, number=number)
    except Case.DoesNotExist:
        raise Http404("办件不存在，或不在您的数据权限范围内。") from None
    if case.case_type.workflow not in ("hall", "hall_rectify"):
        raise Http404("不是政务服务办件。")
    return case


def _application_of(case: Case) -> Application | None:
    app = Application.objects.filter(case=case).first()
    if app is None:
        part = Part.objects.filter(case=case).select_related("application").first()
        app = part.application if part else None
    return app


@login_required
def application(request, number):
    case = _visible(request.user, number)
    if case.case_type.workflow == "hall_rectify":
        return render(request, "hall/rectify.html", {"case": case, "events": case.events.select_related("actor", "unit"),
                                                     "allowed": {t.action for t in case.machine.allowed(case.state)}})
    app = _application_of(case)
    if app is None:
        raise Http404("办件不存在。")
    allowed = {t.action for t in case.machine.allowed(case.state)}
    labels = {hall._get(f, "key"): hall._get(f, "label") for f in hall.fields_for(app.item, app.package)}
    rating_url = request.build_absolute_uri(reverse("hall_rate", args=[hall.rating_token(app)])) if app.case_id == case.pk else ""
    return render(request, "hall/application.html", {
        "case": case, "app": app, "is_part": app.case_id != case.pk, "now": clock.now(),
        "form_rows": [(labels.get(k, k), v) for k, v in app.form.items() if v],
        "parts": list(app.parts.select_related("case", "item__unit")), "checks": list(app.checks.select_related("licence")),
        "events": list(case.events.select_related("actor", "unit")), "allowed": allowed,
        "outstanding": list(hall.outstanding(app)), "cross": getattr(app, "cross", None),
        "evaluation": getattr(app, "evaluation", None), "rating_url": rating_url, "levels": Level.choices,
        "is_clerk": request.user.has_role(Role.CLERK, Role.SYSADMIN),
        "may_decide": case.unit_id == request.user.unit_id and request.user.has_role(Role.HANDLER, Role.UNIT_ADMIN),
    })


@login_required
@require_POST
def act(request, number, action):
    """One action on a 办件 (or a sub-case), from the buttons on its page."""
    case = _visible(request.user, number)
    p, user = request.POST, request.user
    app = _application_of(case)
    try:
        if action in ("approve", "reject"):
            hall.decide(case, action == "approve", p.get("note", ""), by=user)
        elif action == "request_correction":
            hall.request_correction(case, p.get("note", ""), by=user)
        elif action == "supplement":
            hall.supplement(app, p.getlist("keys"), by=user)
        elif action == "corrected":
            hall.corrected(case, p.get("note", ""), by=user)
        elif action == "terminate":
            hall.terminate(app, p.get("note", ""), by=user)
        elif action == "forward":
            hall.forward(app, p.get("ref", ""), by=user)
        elif action == "remote_status":
            hall.remote_status(app, p.get("status", ""), result=p.get("result", ""), by=user)
        elif action == "issue":
            hall.issue(app, by=user, tracking=p.get("tracking", ""))
        elif action == "rectified":
            hall.rectified(case, p.get("note", ""), by=user)
        elif action == "rectify_callback":
            hall.rectify_callback(case, p.get("satisfied") == "1", p.get("note", ""), by=user)
        else:
            raise Http404("未知的操作。")
    except (ValidationError, *PERSON_ERRORS) as exc:
        messages.error(request, _error_text(exc))
    else:
        case.refresh_from_db()
        messages.success(request, f"{case.number} 现为“{case.state_label}”。")
    return redirect("hall_application", number)


@login_required
def receipt(request, number):
    case = _visible(request.user, number)
    app = Application.objects.filter(case=case).select_related("hall", "person", "enterprise", "clerk", "helper").first()
    if app is None or case.state in ("refused", "received"):
        raise Http404("没有受理回执。")
    return _pdf(pdf.receipt_pdf(app), f"受理回执-{case.number}.pdf")


@login_required
def refusal(request, number):
    case = _visible(request.user, number)
    app = Application.objects.filter(case=case).first()
    if app is None or case.state != "refused":
        raise Http404("没有不予受理通知书。")
    return _pdf(pdf.refusal_pdf(app), f"不予受理通知书-{case.number}.pdf")


def _pdf(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(filename)}"
    return response


# ---------------------------------------------------------------- 后台分类审批 (the department's list)


@login_required
def review(request):
    user = request.user
    units = access.scope_unit_ids(user)
    # what a department decides: single items and package sub-cases (not the packages or cross-region
    # cases the hall itself holds)
    base = (_hall_cases(user).filter(unit_id__in=units).exclude(case_type__code=hall.PACKAGE_TYPE)
            .exclude(application__cross__isnull=False).select_related("case_type", "parent"))
    tab = request.GET.get("tab", "todo")
    states = {"todo": ("reviewing", "deferred"), "correction": ("correction",), "decided": ("approved", "rejected", "done")}.get(tab, ("reviewing", "deferred"))
    cases = list(base.filter(state__in=states).order_by("due_at", "id")[:100])
    rectify = list(access.visible_cases(user).filter(case_type__workflow="hall_rectify", unit_id__in=units)
                   .exclude(state="closed").order_by("due_at")[:50])
    return render(request, "hall/review.html", {"cases": cases, "tab": tab, "rectify": rectify, "now": clock.now(),
                                                "counts": dict(base.values_list("state").annotate(n=Count("id")).order_by())})


# ---------------------------------------------------------------- 预约


@login_required
def appointments(request):
    _require(request.user, Role.CLERK, Role.UNIT_ADMIN)
    hall_unit = request.user.unit
    try:
        day = dt.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        day = clock.now().date()
    if request.method == "POST":
        try:
            if "open" in request.POST:
                n = hall.open_slots(hall_unit, day, WINDOW_GROUPS)
                messages.success(request, f"已开放 {n} 个时段。" if n else "该日已开放或不是工作日。")
            elif "cancel" in request.POST:
                booking = Booking.objects.get(pk=request.POST["cancel"], slot__hall=hall_unit)
                hall.cancel(booking)
                messages.success(request, f"已取消预约 {booking.code}。")
            elif "arrive" in request.POST:
                Booking.objects.filter(pk=request.POST["arrive"], slot__hall=hall_unit, status="booked").update(status="arrived")
            else:
                slot = Slot.objects.get(pk=request.POST.get("slot"), hall=hall_unit)
                b = hall.book(slot, request.POST.get("name", ""), request.POST.get("phone", ""), request.POST.get("subject", ""))
                messages.success(request, f"预约成功：{b.code}（{slot}）。")
        except (hall.RuleError, Slot.DoesNotExist, Booking.DoesNotExist, ValueError) as exc:
            messages.error(request, str(exc) if isinstance(exc, hall.RuleError) else "时段或预约不存在。")
        return redirect(f"{reverse('hall_appointments')}?day={day}")
    rows = hall.day_slots(hall_unit, day)
    return render(request, "hall/appointments.html", {
        "day": day, "rows": rows, "prev": day - dt.timedelta(days=1), "next": day + dt.timedelta(days=1),
        "booked": sum(r["taken"] for r in rows), "capacity": sum(r["slot"].capacity for r in rows)})


# ---------------------------------------------------------------- 电子证照


@login_required
def licences(request):
    _require(request.user, Role.CLERK, Role.UNIT_ADMIN, Role.HANDLER)
    q = request.GET.get("q", "").strip().upper()
    qs = Licence.objects.select_related("person", "enterprise").order_by("-created_at", "-id")
    if q:
        qs = qs.filter(Q(person__id_number=q) | Q(enterprise__uscc=q) | Q(number=q) | Q(person__name=q) | Q(enterprise__name__icontains=q))
    return render(request, "hall/licences.html", {"q": q, "rows": qs[:100], "total": Licence.objects.count(), "today": clock.now().date(),
                                                  "reuse": hall.reuse_rate()})


# ---------------------------------------------------------------- 好差评


def rate(request, token):
    """The applicant's page (no login): from the window's evaluation device or a link in an SMS."""
    try:
        number = signing.loads(token, salt=hall.RATING_SALT, max_age=hall.RATING_DAYS * 24 * 3600)
    except signing.BadSignature:
        raise Http404("评价链接无效或已过期。") from None
    app = Application.objects.filter(case__number=number).select_related("case", "item", "package").first()
    if app is None:
        raise Http404("评价链接无效。")
    done = getattr(app, "evaluation", None)
    error = ""
    if request.method == "POST" and done is None:
        level = request.POST.get("level", "")
        try:
            done = hall.rate(app, int(level) if level.isdigit() else 0, request.POST.getlist("reasons"), request.POST.get("comment", ""),
                             channel="device" if request.GET.get("device") else "link")
        except hall.RuleError as exc:
            error = str(exc)
    return render(request, "hall/rate.html", {
        "app": app, "done": done, "error": error, "levels": Level.choices, "bad_reasons": hall.BAD_REASONS,
        "good_reasons": hall.GOOD_REASONS, "picked": request.POST.get("level", ""), "comment": request.POST.get("comment", ""),
        "chosen": request.POST.getlist("reasons")}, status=400 if error else 200)


# ---------------------------------------------------------------- statistics


@login_required
def stats(request):
    _require(request.user, Role.CLERK, Role.UNIT_ADMIN, Role.SUPERVISOR)
    visible = _hall_cases(request.user).filter(parent__isnull=True)
    states = dict(visible.values_list("state").annotate(n=Count("id")).order_by())
    return render(request, "hall/stats.html", {
        "states": [(HALL.state_label(s), n) for s, n in sorted(states.items(), key=lambda r: -r[1])],
        "by_unit": hall.rating_stats("unit"), "by_item": hall.rating_stats("item")[:20], "reuse": hall.reuse_rate(),
        "deferred": Application.objects.filter(checks__state=MaterialState.DEFERRED).distinct().count(),
        "helped": Application.objects.filter(helper__isnull=False).count(),
        "cross": Application.objects.filter(cross__isnull=False).count(),
        "bad": sum(r["bad"] for r in hall.rating_stats("unit")),
    })


# ---------------------------------------------------------------- the remote side's status, by API token


@csrf_exempt
@require_POST
def remote_status_api(request, number):
    """POST /hall/api/remote-status/<number>/ with `Authorization: Bearer <token>` and JSON
    {"status": "...", "result": "" | "approved" | "rejected"}: the owning region's system reports."""
    from tongban.api.models import ApiToken

    header = request.headers.get("Authorization", "")
    row = ApiToken.lookup(header.removeprefix("Bearer ").strip()) if header.startswith("Bearer ") else None
    if row is None:
        return JsonResponse({"detail": "需要有效的接口令牌（Authorization: Bearer …）。"}, status=401)
    try:
        body = json.loads(request.body or b"{}")
        case = access.get_visible_case(row.user, number=number)
        app = Application.objects.get(case=case, cross__isnull=False)
        hall.remote_status(app, str(body.get("status", "")), result=str(body.get("result", "")), by=row.user)
    except (Case.DoesNotExist, Application.DoesNotExist):
        return JsonResponse({"detail": "办件不存在，或不在您的数据权限范围内。"}, status=404)
    except (ValueError, *PERSON_ERRORS) as exc:
        return JsonResponse({"detail": str(exc) if not isinstance(exc, json.JSONDecodeError) else "请求体须为 JSON。"}, status=400)
    case.refresh_from_db()
    return JsonResponse({"number": case.number, "state": case.state, "state_label": case.state_label,
                         "remote_status": app.cross.remote_status})

