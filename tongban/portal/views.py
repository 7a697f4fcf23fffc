"""群众门户 /p/ (no login): submit, receipt, track with an SMS code, rate; 适老化 toggle; door-plate
scans. Staff pages for door plates (generate, print). Thin: the rules are in services/doorplates."""
from __future__ import annotations

import logging
import secrets
from datetime import timedelta

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from tongban.cases.models import Case
from tongban.core import clock
from tongban.core.pii import mask_phone, normalize_phone
from tongban.hotline.choices import Satisfaction, label_of
from tongban.notify.services import track_url

from . import doorplates, limits, services
from .forms import BookForm, CancelBookingForm, GenerateForm, RateForm, SubmitForm, TrackForm
from .models import DoorPlate

log = logging.getLogger(__name__)
ELDER_COOKIE = "tb_elder"
GRANTS = "portal_grants"


def is_elder(request) -> bool:
    return request.COOKIES.get(ELDER_COOKIE) == "1"


def page(request, template: str, context: dict, status: int = 200):
    return render(request, template, {"elder": is_elder(request), "site": getattr(settings, "NOTIFY_SITE_NAME", "12345"), **context},
                  status=status)


# -------------------------------------------------------------------- who may see which case


def grant(request, number: str) -> None:
    minutes = getattr(settings, "PORTAL_GRANT_MINUTES", 30)
    grants = {n: t for n, t in request.session.get(GRANTS, {}).items() if t > clock.now().timestamp()}
    grants[number] = (clock.now() + timedelta(minutes=minutes)).timestamp()
    request.session[GRANTS] = grants


def granted(request, number: str) -> bool:
    return request.session.get(GRANTS, {}).get(number, 0) > clock.now().timestamp()


# ----------------------------------------------------------------------------------- submit


def submit(request, token: str | None = None):
    plate = None
    if token is not None:
        plate = DoorPlate.objects.select_related("unit", "region", "village", "village__parent").filter(token=token, active=True).first()
        if plate is None:
            return page(request, "portal/plate_invalid.html", {}, status=404)
    elder = is_elder(request)
    if request.method != "POST":
        form = SubmitForm(initial={"key": secrets.token_urlsafe(16)})
        return page(request, "portal/submit.html", {"form": form, "plate": plate})
    form = SubmitForm(request.POST, request.FILES)
    valid = form.is_valid()
    d = form.cleaned_data
    sub = services.Submission(
        case_type=d.get("case_type"), title="" if elder else d.get("title", ""), content=d.get("content", ""),
        requester_phone=d.get("requester_phone", ""), requester_name=d.get("requester_name", ""), address=d.get("address", ""),
        latitude=d.get("latitude", ""), longitude=d.get("longitude", ""), photos=request.FILES.getlist("photos"), elder_mode=elder)
    errors, _ = services.check(sub, plate=plate)  # every problem at once, in Chinese
    if valid and d["website"]:
        log.warning("portal: honeypot filled from %s", limits.client_ip(request))
        form.add_error(None, "提交未成功，请稍后再试；紧急情况请直接拨打 12345。")
    elif valid and not errors:
        try:
            limits.hit("submit_ip", limits.client_ip(request))
            limits.hit("submit_phone", normalize_phone(d["requester_phone"]))
            case = services.submit(sub, plate=plate, key=d["key"])
        except limits.Limited as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            grant(request, case.number)
            return redirect("portal_receipt", number=case.number)
    errors = dict(errors)
    extra = {name: errors.pop(name) for name in ("photos", "location") if name in errors}  # not form fields
    for name, message in errors.items():
        field = name if name in form.fields else None
        if field is None or field not in form.errors:
            form.add_error(field, message)
    if not form.data.get("key"):
        form.data = form.data.copy()
        form.data["key"] = secrets.token_urlsafe(16)
    return page(request, "portal/submit.html", {"form": form, "plate": plate, "extra": extra}, status=400)


# ----------------------------------------------------------------------------------- 预约


def book(request):
    """预约办事: pick a free slot at the service hall (one day and one window group at a time), give a
    name and a phone, get a booking number by SMS."""
    from tongban.hall import services as hall

    form = BookForm(request.POST or None)
    chosen = request.POST.get("slot", "")
    if request.method == "POST" and not chosen:
        form.add_error(None, "请先选择预约时段。")
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if d["website"]:
            log.warning("portal: honeypot filled on booking from %s", limits.client_ip(request))
            form.add_error(None, "预约未成功，请稍后再试，或拨打 12345 预约。")
        else:
            try:
                limits.hit("book_ip", limits.client_ip(request))
                limits.hit("book_phone", normalize_phone(d["phone"]))
                booking = hall.book_online(chosen, d["name"], d["phone"], d["subject"])
            except (limits.Limited, hall.RuleError) as exc:
                form.add_error(None, str(exc))
            else:
                request.session["portal_booking"] = booking.pk
                return redirect("portal_book_done")
    slots = hall.bookable_slots()
    days = list(dict.fromkeys(r["slot"].day for r in slots))
    groups = sorted(dict.fromkeys(r["slot"].window_group for r in slots), key=lambda g: "综合" not in g)  # 综合窗口 first
    picked = next((r["slot"] for r in slots if str(r["slot"].pk) == chosen), None)  # a re-shown form stays on its slot
    day = picked.day if picked else next((d for d in days if d.isoformat() == request.GET.get("day")), None)
    group = picked.window_group if picked else request.GET.get("group") if request.GET.get("group") in groups else None
    group = group or (groups[0] if groups else "")
    day = day or next((r["slot"].day for r in slots if r["left"] and r["slot"].window_group == group), days[0] if days else None)
    shown = [r for r in slots if r["slot"].day == day and r["slot"].window_group == group]
    return page(request, "portal/book.html", {
        "form": form, "chosen": chosen, "days": days, "groups": groups, "day": day, "group": group, "rows": shown,
        "any_free": any(r["left"] for r in slots)}, status=400 if request.method == "POST" else 200)


def book_done(request):
    from tongban.hall.models import Booking

    booking = Booking.objects.select_related("slot", "slot__hall").filter(pk=request.session.get("portal_booking")).first()
    if booking is None:
        return redirect("portal_book")
    return page(request, "portal/book_done.html", {"booking": booking, "phone": mask_phone(booking.phone)})


def book_cancel(request):
    from tongban.hall import services as hall

    form = CancelBookingForm(request.POST or None, initial={"code": request.GET.get("code", "")})
    if request.method == "POST" and form.is_valid():
        try:
            limits.hit("book_ip", limits.client_ip(request))
            booking = hall.cancel_online(form.cleaned_data["code"], form.cleaned_data["phone"])
        except (limits.Limited, hall.RuleError) as exc:
            form.add_error(None, str(exc))
        else:
            return page(request, "portal/book_cancel.html", {"form": None, "cancelled": booking})
    return page(request, "portal/book_cancel.html", {"form": form}, status=400 if request.method == "POST" else 200)


def receipt(request, number: str):
    if not granted(request, number):
        return redirect(f"{reverse('portal_track')}?number={number}")
    case = get_object_or_404(Case.objects.select_related("case_type", "unit"), number=number)
    url = track_url(case.number)
    return page(request, "portal/receipt.html", {
        "case": case, "track_url": url, "qr": segno.make(url, error="m").svg_inline(scale=3, dark="#17468c"),
        "photos": case.attachments.count(), "plate": getattr(getattr(case, "portal", None), "door_plate", None),
    })


# ------------------------------------------------------------------------------------ track


def track(request):
    number = (request.POST.get("number") or request.GET.get("number") or "").strip()
    if request.method != "POST" and number and granted(request, number):
        return detail(request, number)
    form = TrackForm(request.POST or None, initial={"number": number})
    step, notice = "send", ""
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        ip = limits.client_ip(request)
        try:
            if request.POST.get("action") == "verify":
                step = "verify"
                case = services.verify_code(d["number"], d["phone"], d["code"], ip=ip)
                grant(request, case.number)
                return redirect(f"{reverse('portal_track')}?number={case.number}")
            services.send_code(d["number"], d["phone"], ip=ip)
            step = "verify"
            notice = (f"如果编号与手机号相符，验证码已发送到 {mask_phone(normalize_phone(d['phone']))}，"
                      f"{getattr(settings, 'PORTAL_CODE_MINUTES', services.CODE_MINUTES)} 分钟内有效。")
        except (services.PortalError, limits.Limited) as exc:
            form.add_error(None, str(exc))
    return page(request, "portal/track.html", {
        "form": form, "step": step, "notice": notice,
        "debug_hint": settings.DEBUG and getattr(settings, "NOTIFY_SMS_BACKEND", "file") in ("file", "console"),
        "sms_file": getattr(settings, "NOTIFY_SMS_FILE", ""),
    }, status=400 if form.errors else 200)


def detail(request, number: str, rate_form=None, status=200):
    case = get_object_or_404(Case.objects.select_related("case_type", "unit"), number=number)
    return page(request, "portal/detail.html", {
        "case": case, "state": services.public_state(case), "timeline": services.public_timeline(case),
        "may_rate": services.may_rate(case), "rate_form": rate_form or RateForm(), "photos": list(_own_photos(case)),
        "satisfaction": label_of(Satisfaction, case.satisfaction),
    }, status=status)


def _own_photos(case: Case):
    """The photos the requester sent with the request (staff uploads are not shown on the portal)."""
    return case.attachments.filter(uploaded_by__isnull=True, content_type__startswith="image/").order_by("id")


def photo(request, number: str, pk: int):
    """One of the requester's own photos, for the browser that verified the phone (or just submitted)."""
    if not granted(request, number):
        raise Http404("照片不存在。")
    case = get_object_or_404(Case, number=number)
    att = _own_photos(case).filter(pk=pk).first()
    if att is None:
        raise Http404("照片不存在。")
    response = FileResponse(att.file.open("rb"), content_type=att.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=600"
    return response


@require_POST
def rate(request):
    number = request.POST.get("number", "")
    if not granted(request, number):
        return redirect(f"{reverse('portal_track')}?number={number}")
    case = get_object_or_404(Case, number=number)
    form = RateForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.rate(case, satisfaction=d["satisfaction"], solved=d["solved"], note=d["note"])
        except services.PortalError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "感谢您的评价！" + ("我们已将诉求退回承办单位重新办理。" if d["satisfaction"] == "unsatisfied" else ""))
            return redirect(f"{reverse('portal_track')}?number={number}")
    return detail(request, number, rate_form=form, status=400)


# ---------------------------------------------------------------------------- 适老化 toggle


def elder(request):
    on = request.GET.get("on") == "1"
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = reverse("portal_home")
    response = redirect(target or "portal_home")
    if on:
        response.set_cookie(ELDER_COOKIE, "1", max_age=365 * 24 * 3600, samesite="Lax")
    else:
        response.delete_cookie(ELDER_COOKIE)
    return response


# --------------------------------------------------------------------- door plates (staff)


def _village_or_404(user, pk: int):
    village = doorplates.villages_for(user).filter(pk=pk).first()
    if village is None:
        raise Http404("该村（社区）不存在，或不在您的管理范围内。")
    return village


@login_required
def plates(request):
    villages = doorplates.villages_for(request.user)
    if not villages.exists() and not request.user.has_role("sysadmin", "unit_admin"):
        raise PermissionDenied("只有系统管理员和村（社区）、乡镇（街道）的单位管理员可以管理门牌。")
    form = GenerateForm(request.POST or None, request.FILES or None, villages=villages)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            if d["csv"]:
                households = doorplates.from_csv(d["csv"].read().decode("utf-8-sig", errors="replace"))
            else:
                households = doorplates.numbered(d["village"], d["count"], street=d["street"], start=d["start"])
            created, skipped = doorplates.create_plates(d["village"], households)
        except doorplates.PlateError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已为{d['village'].name}生成 {len(created)} 块门牌" + (f"，{skipped} 户已有门牌未重复生成" if skipped else "") + "。")
            return redirect("portal_plates_village", pk=d["village"].pk)
    return render(request, "portal/plates.html", {"form": form, "rows": doorplates.village_summary(villages)},
                  status=400 if form.errors else 200)


@login_required
def plates_village(request, pk: int):
    village = _village_or_404(request.user, pk)
    if request.method == "POST":
        plate = get_object_or_404(DoorPlate, pk=request.POST.get("plate", 0), village=village)
        plate.active = not plate.active
        plate.save(update_fields=["active"])
        messages.success(request, f"门牌“{plate.household}”已{'启用' if plate.active else '停用（二维码失效）'}。")
        return redirect("portal_plates_village", pk=pk)
    items = DoorPlate.objects.filter(village=village).select_related("region", "unit").order_by("id")
    return render(request, "portal/plates_village.html", {"village": village, "items": items[:500], "total": items.count()})


@login_required
def plates_pdf(request, pk: int):
    village = _village_or_404(request.user, pk)
    items = DoorPlate.objects.filter(village=village, active=True).select_related("unit").order_by("id")
    pdf = doorplates.plates_pdf(items, title=f"{village.full_name()} 数字政务门牌")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''doorplates-{village.code}.pdf"
    return response


