"""Forms of the 智能派单 settings pages."""
from __future__ import annotations

from django import forms

from tongban.cases.models import Category
from tongban.core.models import Level, Unit, UnitKind

from .models import AutoDispatchSettings, RoutingRule, RuleLevel

LEVEL_OF_KIND = {UnitKind.DEPARTMENT: RuleLevel.COUNTY, UnitKind.ENTERPRISE: RuleLevel.COUNTY, UnitKind.TOWN: RuleLevel.TOWN,
                 UnitKind.VILLAGE: RuleLevel.VILLAGE, UnitKind.GRID: RuleLevel.GRID}


def check_rule(rule: RoutingRule) -> dict[str, str]:
    """Field errors (Chinese) of a rule, and its level set from its unit. Shared by the form and the Excel import."""
    errors = {}
    if not rule.category_id and not rule.keyword_list():
        errors["keywords"] = "请至少填写诉求分类或关键词之一，否则规则不会命中任何诉求。"
    if rule.territorial:
        rule.unit = None
        if rule.level < Level.TOWN:
            errors["level"] = "属地办理请选择“乡镇/街道”“村/社区”或“网格”层级。"
    elif rule.unit is None:
        errors["unit"] = "请选择承办单位，或勾选“属地办理”。"
    elif rule.unit.kind == UnitKind.CENTRE:
        errors["unit"] = "热线中心不能作为承办单位。"
    else:
        rule.level = LEVEL_OF_KIND[rule.unit.kind]
    return errors


class RuleForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = ["name", "category", "keywords", "territorial", "level", "unit", "priority", "active", "note"]
        widgets = {"keywords": forms.TextInput(attrs={"placeholder": "例如：路灯 井盖 占道经营"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(active=True)
        self.fields["category"].empty_label = "—— 不限分类 ——"
        self.fields["unit"].queryset = Unit.objects.filter(active=True).exclude(kind=UnitKind.CENTRE).order_by("kind", "path")
        self.fields["unit"].empty_label = "—— 属地办理时不选 ——"
        self.fields["level"].help_text = "属地办理时按此层级找单位；指定单位时按单位自动确定"
        self.fields["name"].error_messages["required"] = "请填写事项名称。"

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        rule = self.instance
        for k in ("category", "keywords", "territorial", "level", "unit"):
            setattr(rule, k, data.get(k))
        for field, message in check_rule(rule).items():
            self.add_error(field, message)
        data["unit"], data["level"] = rule.unit, rule.level
        return data


class AutoDispatchForm(forms.ModelForm):
    class Meta:
        model = AutoDispatchSettings
        fields = ["enabled", "threshold"]
        widgets = {"threshold": forms.NumberInput(attrs={"step": "0.01", "min": "0.5", "max": "1"})}

    def clean_threshold(self):
        value = self.cleaned_data["threshold"]
        if not 0.5 <= value <= 1:
            raise forms.ValidationError("阈值应在 0.5 到 1 之间（例如 0.9 表示置信度 90% 以上才自动派单）。")
        return value


class ImportForm(forms.Form):
    file = forms.FileField(label="Excel 文件（.xlsx）", error_messages={"required": "请选择要导入的 Excel 文件。"})
