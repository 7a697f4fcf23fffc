"""权责清单 as Excel: export every rule, import (all rows checked first; any error imports nothing)."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from openpyxl import load_workbook

from tongban.cases.models import Category
from tongban.core.models import Unit

from .forms import check_rule
from .models import RoutingRule, RuleLevel

HEADERS = ["事项名称", "诉求分类", "关键词", "属地办理", "层级", "承办单位", "优先级", "启用", "依据/说明"]
YES = {"是", "Y", "y", "yes", "true", "1", "√"}
MAX_ROWS = 5000


def rows():
    for r in RoutingRule.objects.select_related("category", "unit").order_by("-priority", "name", "id"):
        yield [r.name, r.category.full_name if r.category else "", r.keywords, "是" if r.territorial else "否",
               r.get_level_display(), r.unit.name if r.unit else "", r.priority, "是" if r.active else "否", r.note]


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def import_xlsx(upload, *, by) -> ImportResult:
    """Rules are matched by 事项名称: an existing name is updated, a new one created."""
    result = ImportResult()
    try:
        ws = load_workbook(upload, read_only=True, data_only=True).worksheets[0]
        table = [["" if v is None else str(v).strip() for v in r] for r in ws.iter_rows(values_only=True)]
    except Exception:
        result.errors.append((0, "无法读取该文件：请上传 .xlsx 格式的 Excel 文件。"))
        return result
    if not table or [h for h in table[0][: len(HEADERS)]] != HEADERS:
        result.errors.append((1, f"表头应为：{'、'.join(HEADERS)}（可先导出一份作为模板）。"))
        return result
    if len(table) > MAX_ROWS + 1:
        result.errors.append((0, f"一次最多导入 {MAX_ROWS} 行。"))
        return result
    categories = {c.full_name: c for c in Category.objects.all()}
    units = {}
    for u in Unit.objects.filter(active=True):
        units[u.name] = u
        units.setdefault(u.short_name, u)
    levels = {label: value for value, label in RuleLevel.choices}
    existing = {r.name: r for r in RoutingRule.objects.all()}
    todo = []
    for n, raw in enumerate(table[1:], start=2):
        cells = (raw + [""] * len(HEADERS))[: len(HEADERS)]
        if not any(cells):
            continue
        name, cat, keywords, territorial, level, unit, priority, active, note = cells
        problems = []
        rule = existing.get(name) or RoutingRule(name=name)
        if not name:
            problems.append("缺少事项名称")
        rule.category = categories.get(cat) if cat else None
        if cat and rule.category is None:
            problems.append(f"没有分类“{cat}”")
        rule.keywords, rule.territorial, rule.note = keywords[:300], territorial in YES, note[:200]
        rule.level = levels.get(level, RuleLevel.COUNTY)
        if level and level not in levels:
            problems.append(f"层级应为 {'、'.join(levels)} 之一")
        rule.unit = units.get(unit) if unit else None
        if unit and rule.unit is None:
            problems.append(f"没有启用的单位“{unit}”")
        try:
            rule.priority = int(float(priority or 0))
        except ValueError:
            problems.append("优先级应为整数")
        rule.active = active not in {"否", "N", "n", "no", "false", "0"}
        if not problems:
            problems += list(check_rule(rule).values())
        if problems:
            result.errors.append((n, "；".join(problems)))
        else:
            rule.updated_by = by
            todo.append(rule)
    if result.errors:
        return result
    with transaction.atomic():
        for rule in todo:
            if rule.pk:
                result.updated += 1
            else:
                result.created += 1
            rule.save()
    return result
