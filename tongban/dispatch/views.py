"""智能派单 settings pages (系统管理员): 权责清单 rules, the auto-dispatch switch, model versions."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tongban.core.models import Role
from tongban.web.export import xlsx_response

from . import learning, rules_xlsx
from .forms import AutoDispatchForm, ImportForm, RuleForm
from .models import AutoDispatchSettings, DispatchLabel, ModelVersion, RoutingRule


def _sysadmin(user) -> None:
    if not user.has_role(Role.SYSADMIN):
        raise PermissionDenied("只有系统管理员可以维护智能派单设置。")


@login_required
def routing_settings(request):
    _sysadmin(request.user)
    cfg = AutoDispatchSettings.get()
    form = AutoDispatchForm(request.POST or None, instance=cfg)
    if request.method == "POST":
        if form.is_valid():
            cfg = form.save(commit=False)
            cfg.updated_by = request.user
            cfg.save()
            state = f"已开启，置信度 ≥ {cfg.threshold:.0%} 的诉求受理后自动派单" if cfg.enabled else "已关闭，全部诉求由派单员派单"
            messages.success(request, f"自动派单{state}。")
            return redirect("routing_settings")
    rules = RoutingRule.objects.select_related("category", "unit")
    return render(request, "dispatch/settings.html", {
        "form": form, "rules": rules, "versions": ModelVersion.objects.all()[:20], "in_use": cfg.model_id,
        "labels": DispatchLabel.objects.select_related("case", "unit", "wrong_unit")[:10],
        "label_count": DispatchLabel.objects.count(),
    }, status=400 if request.method == "POST" else 200)


@login_required
def rule_edit(request, pk=None):
    _sysadmin(request.user)
    rule = get_object_or_404(RoutingRule, pk=pk) if pk else RoutingRule()
    form = RuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        rule = form.save(commit=False)
        rule.updated_by = request.user
        rule.save()
        messages.success(request, f"已保存规则“{rule.name}”。")
        return redirect("routing_settings")
    return render(request, "dispatch/rule_form.html", {"form": form, "rule": rule},
                  status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def rule_toggle(request, pk):
    _sysadmin(request.user)
    rule = get_object_or_404(RoutingRule, pk=pk)
    rule.active = not rule.active
    rule.updated_by = request.user
    rule.save(update_fields=["active", "updated_by", "updated_at"])
    messages.success(request, f"规则“{rule.name}”已{'启用' if rule.active else '停用'}。")
    return redirect("routing_settings")


@login_required
def rules_export(request):
    _sysadmin(request.user)
    return xlsx_response(f"权责清单-{timezone.localdate():%Y%m%d}.xlsx", "权责清单", rules_xlsx.HEADERS, rules_xlsx.rows())


@login_required
def rules_import(request):
    _sysadmin(request.user)
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = rules_xlsx.import_xlsx(form.cleaned_data["file"], by=request.user)
        if result.ok:
            messages.success(request, f"已导入权责清单：新增 {result.created} 条，更新 {result.updated} 条。")
            return redirect("routing_settings")
    return render(request, "dispatch/import.html", {"form": form, "result": result, "headers": rules_xlsx.HEADERS},
                  status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def model_activate(request, number):
    _sysadmin(request.user)
    try:
        v = learning.activate(number)
    except learning.TrainingError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, f"已启用模型 v{v.number}，新的派单建议即按此版本给出。")
    return redirect("routing_settings")
