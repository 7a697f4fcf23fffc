"""消息 pages: templates and the outbox for system administrators; every staff member's inbox."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tongban.core.models import Role

from . import services
from .defaults import DEFAULTS, PLACEHOLDERS
from .models import Channel, Message, Outbox, Status, Template

PAGE = 50


def require_sysadmin(user):
    if not user.has_role(Role.SYSADMIN):
        raise PermissionDenied("只有系统管理员可以管理消息模板和发件箱。")


class TemplateForm(forms.ModelForm):
    class Meta:
        model = Template
        fields = ["subject", "body", "active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 5})}


@login_required
def home(request):
    require_sysadmin(request.user)
    counts = dict(Outbox.objects.values_list("status").annotate(n=Count("id")).order_by())
    return render(request, "notify/home.html", {
        "templates": Template.objects.all(),
        "stats": [(value, label, counts.get(value, 0)) for value, label in Status.choices],
    })


@login_required
def template_edit(request, pk: int):
    require_sysadmin(request.user)
    template = get_object_or_404(Template, pk=pk)
    form = TemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and request.POST.get("reset"):
        default = DEFAULTS.get(template.code, ("", {}))[1].get(template.channel)
        if default:
            template.subject, template.body = default
            template.save()
            messages.success(request, f"“{template}”已恢复默认内容。")
        return redirect("notify_template", pk=pk)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"“{template}”已保存。")
        return redirect("notify_home")
    data = form.data if form.is_bound else {"subject": template.subject, "body": template.body}
    return render(request, "notify/template.html", {
        "template": template, "form": form, "placeholders": PLACEHOLDERS,
        "preview": services.preview(template, data.get("subject", ""), data.get("body", "")),
    }, status=400 if form.is_bound else 200)


@login_required
@require_POST
def template_preview(request, pk: int):
    """htmx: the preview as the administrator types."""
    require_sysadmin(request.user)
    template = get_object_or_404(Template, pk=pk)
    preview = services.preview(template, request.POST.get("subject", ""), request.POST.get("body", ""))
    return render(request, "notify/_preview.html", {"preview": preview, "template": template})


@login_required
def outbox(request):
    require_sysadmin(request.user)
    qs = Outbox.objects.select_related("case").order_by("-created_at", "-id")
    f = {k: request.GET.get(k, "").strip() for k in ("status", "channel", "code", "q")}
    if f["status"]:
        qs = qs.filter(status=f["status"])
    if f["channel"]:
        qs = qs.filter(channel=f["channel"])
    if f["code"]:
        qs = qs.filter(template_code=f["code"])
    if f["q"]:
        qs = qs.filter(Q(recipient__contains=f["q"]) | Q(case__number=f["q"]))
    after = request.GET.get("after", "")
    if after.isdigit():
        qs = qs.filter(pk__lt=int(after)).order_by("-id")
    rows = list(qs[:PAGE + 1])
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    query = "&".join(f"{k}={v}" for k, v in f.items() if v)
    return render(request, "notify/outbox.html", {
        "rows": rows, "filters": f, "statuses": Status.choices, "channels": Channel.choices,
        "codes": [(code, name) for code, (name, _) in DEFAULTS.items()],
        "next_url": f"?{query}&after={rows[-1].pk}" if more else "",
    })


@login_required
@require_POST
def outbox_retry(request, pk: int):
    require_sysadmin(request.user)
    row = get_object_or_404(Outbox, pk=pk)
    try:
        with transaction.atomic():
            services.retry(row)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        row.refresh_from_db()
        messages.success(request, f"已重新发送给 {row.masked_recipient}：{row.get_status_display()}。")
    return redirect(request.POST.get("next") or "notify_outbox")


@login_required
@require_POST
def outbox_retry_failed(request):
    require_sysadmin(request.user)
    failed = list(Outbox.objects.filter(status=Status.FAILED).values_list("pk", flat=True)[:1000])
    with transaction.atomic():
        for row in Outbox.objects.filter(pk__in=failed):
            services.retry(row)
    messages.success(request, f"已将 {len(failed)} 条发送失败的消息重新排队。")
    return redirect("notify_outbox")


@login_required
def inbox(request):
    items = list(Message.objects.filter(user=request.user).select_related("case")[:100])
    return render(request, "notify/inbox.html", {"items": items, "unread": sum(1 for m in items if m.read_at is None)})


@login_required
@require_POST
def inbox_read(request):
    ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()] or None
    services.mark_read(request.user, ids)
    return redirect("notify_inbox")
