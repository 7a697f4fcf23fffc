from django import template
from django.utils import timezone

from tongban.hotline.choices import RefusalReason, Result, Satisfaction, label_of

register = template.Library()

LIGHT_LABELS = {"red": "已超期", "yellow": "即将到期", "green": "正常", "": ""}


@register.filter
def result_label(value):
    return label_of(Result, value) if value != "refused" else "不予受理"


@register.filter
def satisfaction_label(value):
    return label_of(Satisfaction, value)


@register.filter
def outcome_label(value):
    for choices in (Result, Satisfaction, RefusalReason):
        if value in choices.values:
            return choices(value).label
    return {"unreached": "未联系上", "approved": "同意", "denied": "不同意"}.get(value, value)


@register.filter
def light_of(case, now):
    return case.light(now)


@register.filter
def light_label(light):
    return LIGHT_LABELS.get(light, "")


@register.filter
def pct(value):
    return "—" if value is None else f"{value * 100:.1f}%"


@register.filter
def when(value):
    """Compact local time: 11-23 14:05 this year, else with the year."""
    if not value:
        return "—"
    local = timezone.localtime(value)
    return local.strftime("%m-%d %H:%M") if local.year == timezone.localdate().year else local.strftime("%Y-%m-%d %H:%M")


@register.filter
def due_text(case, now):
    """Remaining time in words, for the deadline column."""
    if not case.due_at:
        return "—"
    delta = case.due_at - now
    hours = int(abs(delta.total_seconds()) // 3600)
    span = f"{hours // 24}天{hours % 24}小时" if hours >= 24 else f"{hours}小时"
    return f"超期 {span}" if delta.total_seconds() < 0 else f"剩 {span}"


@register.filter
def state_name(machine, code):
    return machine.state_label(code) if code else "—"


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None
