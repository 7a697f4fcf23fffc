"""XLSX import/export of articles. Import is all-or-nothing: every row is checked first."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import transaction
from openpyxl import load_workbook

from tongban.cases.models import Category
from tongban.core.models import Region, Unit

from . import services
from .models import Article, Status

HEADERS = ["标题", "常见问法", "答案", "分类", "关键词", "归属单位", "适用区划", "生效日期", "失效日期"]
EXPORT_HEADERS = ["编号", *HEADERS, "状态", "复核到期日", "使用次数", "直接答复次数"]


def export_rows(articles):
    for a in articles:
        yield [a.pk, a.title, a.questions, a.answer, a.category.full_name if a.category_id else "", a.keywords, a.owner.name,
               a.region.name if a.region_id else "", a.valid_from, a.valid_to, a.get_status_display(), a.review_due,
               a.uses, a.direct_answers]


@dataclass
class ImportResult:
    created: list[Article] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (Excel row number, message)

    @property
    def ok(self) -> bool:
        return not self.errors


def _date(v, label, problems):
    if v in (None, ""):
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    s = str(v).strip()
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", s)
    if m:
        try:
            return date(*map(int, m.groups()))
        except ValueError:
            pass
    problems.append(f"{label}“{s}”不是有效日期（格式如 2026-01-31）")
    return None


def _text(v) -> str:
    return "" if v is None else str(v).strip()


def import_xlsx(fileobj, *, by, status: str = Status.DRAFT) -> ImportResult:
    result = ImportResult()
    try:
        wb = load_workbook(fileobj, read_only=True, data_only=True)
    except Exception:
        result.errors.append((0, "无法读取文件：请上传 .xlsx 格式的 Excel 文件。"))
        return result
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [_text(h) for h in next(rows, [])]
    missing = [h for h in HEADERS if h not in header]
    if missing:
        result.errors.append((1, f"表头缺少列：{'、'.join(missing)}。"))
        return result
    col = {h: header.index(h) for h in HEADERS}
    units = {u.name: u for u in Unit.objects.filter(active=True)}
    units.update({u.short_name: u for u in units.values() if u.short_name and u.short_name not in units})
    categories = {c.full_name: c for c in Category.objects.all()}
    reviewer = by is None or services.is_reviewer(by)
    pending = []
    for n, row in enumerate(rows, start=2):
        cell = lambda h: row[col[h]] if col[h] < len(row) else None  # noqa: E731
        if all(v in (None, "") for v in row):
            continue
        problems = []
        data = {"title": _text(cell("标题")), "questions": _text(cell("常见问法")), "answer": _text(cell("答案")),
                "keywords": _text(cell("关键词"))}
        cat = _text(cell("分类"))
        data["category"] = categories.get(cat) if cat else None
        if cat and data["category"] is None:
            problems.append(f"分类“{cat}”不存在（请填写完整分类，如“政法/户籍证件/身份证管理”）")
        uname = _text(cell("归属单位"))
        data["owner"] = units.get(uname) if uname else getattr(by, "unit", None)
        if uname and data["owner"] is None:
            problems.append(f"归属单位“{uname}”不存在或已停用")
        elif data["owner"] is not None and not reviewer and data["owner"].pk != by.unit_id:
            problems.append("只能导入本单位的知识条目")
        rname = _text(cell("适用区划"))
        data["region"] = None
        if rname:
            data["region"] = Region.objects.filter(name=rname).order_by("level", "code").first() or Region.objects.filter(code=rname).first()
            if data["region"] is None:
                problems.append(f"适用区划“{rname}”不存在")
        data["valid_from"] = _date(cell("生效日期"), "生效日期", problems)
        data["valid_to"] = _date(cell("失效日期"), "失效日期", problems)
        data["review_due"] = None
        problems += [m for k, m in services.validate(data).items() if not (k == "owner" and uname)]
        if problems:
            result.errors.append((n, "；".join(p.rstrip("。") for p in problems) + "。"))
        else:
            pending.append(data)
    if not pending and not result.errors:
        result.errors.append((0, "文件中没有数据行。"))
    if result.errors:
        return result
    with transaction.atomic():
        for data in pending:
            result.created.append(services.save_article(None, data, by=by, status=status))
    return result
