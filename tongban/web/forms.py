"""Forms of the staff pages. Labels and messages in Chinese; validation mirrors the services."""
from __future__ import annotations

from django import forms
from django.urls import reverse_lazy

from tongban.cases.models import CaseType, Category, Channel
from tongban.core.models import Region, Unit, UnitKind
from tongban.core.pii import is_valid_phone
from tongban.hotline.choices import RefusalReason, Result, Satisfaction


def unit_choices(qs=None):
    qs = (qs if qs is not None else Unit.objects.filter(active=True)).exclude(kind=UnitKind.CENTRE).select_related("region")
    groups: dict[str, list] = {}
    for u in qs.order_by("kind", "path"):
        groups.setdefault(UnitKind(u.kind).label, []).append((u.pk, u.name))
    return [("", "—— 请选择单位 ——")] + list(groups.items())


class IntakeForm(forms.Form):
    case_type = forms.ModelChoiceField(CaseType.objects.filter(active=True, workflow="hotline"), label="诉求类型", empty_label=None,
                                       widget=forms.RadioSelect, error_messages={"required": "请选择诉求类型。"})
    requester_phone = forms.CharField(label="来电号码", max_length=20, required=False,
                                      widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off", "placeholder": "11位手机号或固话"}))
    requester_name = forms.CharField(label="诉求人", max_length=64, required=False, widget=forms.TextInput(attrs={"placeholder": "可匿名"}))
    address = forms.CharField(label="地址/位置", max_length=200, required=False)
    region = forms.ModelChoiceField(Region.objects.filter(level__gte=3).order_by("code"), label="属地（乡镇/村社区）", required=False, empty_label="—— 未确定 ——")
    category = forms.ModelChoiceField(Category.objects.filter(active=True), label="分类", required=False, empty_label="—— 请选择分类 ——")
    title = forms.CharField(label="标题", max_length=200, required=False, widget=forms.TextInput(attrs={"placeholder": "留空则取诉求内容前 30 字"}))
    content = forms.CharField(label="诉求内容", widget=forms.Textarea(attrs={"rows": 6}), error_messages={"required": "请填写诉求内容。"})
    channel = forms.ChoiceField(label="渠道", choices=Channel.choices, initial=Channel.PHONE)
    reply = forms.CharField(label="答复内容（直接答复时填写）", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    refusal_reason = forms.ChoiceField(label="不予受理情形", required=False, choices=[("", "—— 选择法定情形 ——")] + RefusalReason.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["requester_phone"].widget.attrs.update({
            "hx-get": reverse_lazy("earlier"), "hx-trigger": "keyup changed delay:400ms, change", "hx-target": "#earlier", "autofocus": True,
        })
        self.fields["category"].widget.attrs["data-searchable"] = "1"
        self.fields["region"].widget.attrs["data-searchable"] = "1"

    def clean_requester_phone(self):
        phone = self.cleaned_data["requester_phone"].strip()
        if phone and not is_valid_phone(phone):
            raise forms.ValidationError("联系电话格式不正确：请填写11位手机号或带区号的固定电话。")
        return phone

    def clean(self):
        data = super().clean()
        content = (data.get("content") or "").strip()
        if content and not (data.get("title") or "").strip():
            data["title"] = content.replace("\n", " ")[:30]
        return data


class DispatchForm(forms.Form):
    unit = forms.TypedChoiceField(label="主办单位", coerce=int, error_messages={"required": "请选择主办单位。"})
    co_units = forms.TypedMultipleChoiceField(label="协办单位", coerce=int, required=False)
    note = forms.CharField(label="派单说明", required=False, max_length=500)

    def __init__(self, *args, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = unit_choices(units)
        self.fields["co_units"].choices = unit_choices(units)[1:]
        self.fields["co_units"].widget.attrs["data-searchable"] = "1"
        self.fields["co_units"].widget.attrs["size"] = 4


class RelayForm(forms.Form):
    unit = forms.TypedChoiceField(label="下派至", coerce=int, error_messages={"required": "请选择下级单位。"})
    note = forms.CharField(label="说明", required=False, max_length=500)

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        below = Unit.objects.filter(path__startswith=case.unit.path, active=True).exclude(pk=case.unit_id) if case and case.unit_id else Unit.objects.none()
        self.fields["unit"].choices = [("", "—— 请选择 ——")] + [(u.pk, u.name) for u in below.order_by("path")]


class ReasonForm(forms.Form):
    note = forms.CharField(label="理由", widget=forms.Textarea(attrs={"rows": 2}), error_messages={"required": "请填写理由。"})


class NoteForm(forms.Form):
    note = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReassignForm(DispatchForm):
    pass


class KeepForm(forms.Form):
    note = forms.CharField(label="驳回理由", widget=forms.Textarea(attrs={"rows": 2}), error_messages={"required": "请填写驳回理由。"})
    co_units = forms.TypedMultipleChoiceField(label="增加协办单位（首接负责）", coerce=int, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["co_units"].choices = unit_choices()[1:]
        self.fields["co_units"].widget.attrs["size"] = 4


class ExtensionForm(forms.Form):
    days = forms.IntegerField(label="延期工作日数", min_value=1, max_value=30, initial=3,
                              error_messages={"required": "请填写延期天数。", "min_value": "延期天数至少为 1。", "invalid": "请填写整数。"})
    reason = forms.CharField(label="延期理由", widget=forms.Textarea(attrs={"rows": 2}), error_messages={"required": "请填写延期理由。"})


class ExtensionDecisionForm(forms.Form):
    approve = forms.TypedChoiceField(label="审批意见", choices=[("1", "同意延期"), ("0", "不同意")], coerce=lambda v: v == "1", widget=forms.RadioSelect, initial="1")
    note = forms.CharField(label="说明", required=False, max_length=500)


class FinishForm(forms.Form):
    result = forms.ChoiceField(label="办理结果", choices=[("", "—— 请选择 ——")] + Result.choices, error_messages={"required": "请选择办理结果。"})
    reply = forms.CharField(label="答复意见", widget=forms.Textarea(attrs={"rows": 5}), error_messages={"required": "请填写答复意见。"})


class CallbackForm(forms.Form):
    reached = forms.TypedChoiceField(label="联系情况", choices=[("1", "已联系上"), ("0", "未联系上")], coerce=lambda v: v == "1", widget=forms.RadioSelect, initial="1")
    satisfaction = forms.ChoiceField(label="满意度", choices=Satisfaction.choices, required=False, widget=forms.RadioSelect)
    solved = forms.TypedChoiceField(label="诉求人认为问题是否解决", choices=[("1", "已解决"), ("0", "未解决")], coerce=lambda v: v == "1",
                                    required=False, widget=forms.RadioSelect, empty_value=None)
    note = forms.CharField(label="回访记录", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        if data.get("reached") and not data.get("satisfaction"):
            self.add_error("satisfaction", "已联系上时请选择满意度。")
        return data


class AnswerForm(forms.Form):
    reply = forms.CharField(label="答复内容", widget=forms.Textarea(attrs={"rows": 4}), error_messages={"required": "请填写答复内容。"})


class RefuseForm(forms.Form):
    reason = forms.ChoiceField(label="法定情形", choices=[("", "—— 请选择 ——")] + RefusalReason.choices, error_messages={"required": "请选择不予受理的法定情形。"})
    note = forms.CharField(label="告知内容", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class MergeForm(forms.Form):
    original = forms.CharField(label="原工单编号", max_length=20, error_messages={"required": "请填写原工单编号。"})


class CaseTypeLimitsForm(forms.ModelForm):
    class Meta:
        model = CaseType
        fields = ["name", "sign_limit", "sign_limit_unit", "finish_limit_days", "redo_limit_days", "max_extensions", "max_extension_days", "active"]
