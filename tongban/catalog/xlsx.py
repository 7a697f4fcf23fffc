"""XLSX import/export of the catalog: sheets 事项, 材料, 表单字段 and (optional) 一件事.

Import is all-or-nothing: every row of every sheet is checked first; errors are reported per sheet
and row in Chinese and nothing is written. Items and packages are matched by code (updated if they
exist, created otherwise); an imported item's materials and form fields become exactly the rows
given for it (matched by key, so rows other tables may refer to keep their ids).
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import ProtectedError
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from tongban.core.models import Unit

from .models import Channel, FieldKind, FormField, ItemType, Material, Package, PackageItem, ServiceItem

ITEM_HEADERS = ["事项编码", "事项名称", "事项类型", "实施主体", "法定办结时限", "承诺办结时限", "收费标准", "办理渠道", "跑动次数",
                "跨省通办", "全域通办", "通办合作地区", "办理地点", "咨询电话", "设定依据", "受理条件", "办结产出的证照",
                "负面清单", "不进厅原因及办理去处", "启用"]
MATERIAL_HEADERS = ["事项编码", "序号", "材料标识", "材料名称", "原件份数", "复印件份数", "必要", "容缺可后补", "可替代电子证照",
                    "来源渠道", "填写说明", "申请表"]
FIELD_HEADERS = ["事项编码", "序号", "字段标识", "字段名称", "类型", "必填", "可选项"]
PACKAGE_HEADERS = ["一件事编码", "名称", "说明", "承诺办结时限", "跑动次数", "受理窗口", "包含事项编码", "启用"]
SHEETS = {"事项": ITEM_HEADERS, "材料": MATERIAL_HEADERS, "表单字段": FIELD_HEADERS, "一件事": PACKAGE_HEADERS}
REQUIRED_SHEETS = ("事项", "材料", "表单字段")

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
SPLIT_RE = re.compile(r"[、,，;；\s]+")
YES, NO = "是", "否"


def _yes(v: bool) -> str:
    return YES if v else NO


def _days(d: Decimal) -> float | int:
    return int(d) if d == d.to_integral_value() else float(d)


def workbook_bytes(items=None, packages=None) -> bytes:
    """The whole catalog (or the given items/packages) as an .xlsx file."""
    items = list(items if items is not None else ServiceItem.objects.select_related("unit").order_by("code"))
    packages = list(packages if packages is not None else Package.objects.order_by("code"))
    wb = Workbook()
    wb.remove(wb.active)
    sheets = {}
    for title, headers in SHEETS.items():
        ws = wb.create_sheet(title)
        ws.append(headers)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        sheets[title] = ws
    types, kinds = dict(ItemType.choices), dict(FieldKind.choices)
    ids = [i.pk for i in items]
    materials, fields = {}, {}
    for m in Material.objects.filter(item_id__in=ids).order_by("order", "id"):
        materials.setdefault(m.item_id, []).append(m)
    for f in FormField.objects.filter(item_id__in=ids).order_by("order", "id"):
        fields.setdefault(f.item_id, []).append(f)
    for i in items:
        sheets["事项"].append([i.code, i.name, types[i.item_type], i.unit.name, _days(i.legal_days), _days(i.promised_days), i.fee,
                             "、".join(i.channel_labels), i.visits, _yes(i.cross_province), _yes(i.all_region), i.partner_regions,
                             i.location, i.phone, i.legal_basis, i.conditions, i.produces, _yes(i.negative_list),
                             i.negative_reason, _yes(i.active)])
        for n, m in enumerate(materials.get(i.pk, []), start=1):
            sheets["材料"].append([i.code, n, m.key, m.name, m.originals, m.copies, _yes(m.required), _yes(m.deferrable),
                                 m.licence_kind, m.source, m.note, _yes(m.application_form)])
        for n, f in enumerate(fields.get(i.pk, []), start=1):
            sheets["表单字段"].append([i.code, n, f.key, f.label, kinds[f.kind], _yes(f.required), "、".join(map(str, f.choices or []))])
    for p in packages:
        codes = [e.item.code for e in p.entries.select_related("item").order_by("order", "id")]
        sheets["一件事"].append([p.code, p.name, p.description, _days(p.promised_days), p.visits, p.window, "、".join(codes), _yes(p.active)])
    for ws in sheets.values():
        for col, width in zip("ABCDEFGHIJKLMNOPQRST", [14, 28, 12, 22, 10, 10, 20, 22, 8, 8, 8, 20, 24, 14, 40, 20, 12, 8, 30, 6]):
            ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@dataclass
class ImportResult:
    errors: list[tuple[str, int, str]] = field(default_factory=list)  # (sheet, Excel row number, message)
    items_created: int = 0
    items_updated: int = 0
    materials: int = 0
    fields: int = 0
    packages: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        return (f"新增事项 {self.items_created} 项、更新 {self.items_updated} 项，材料 {self.materials} 条，"
                f"表单字段 {self.fields} 个，一件事 {self.packages} 个。")


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


class _Row:
    """One data row with its problems; helpers parse a cell and note what is wrong."""

    def __init__(self, cells: dict[str, object]):
        self.cells = cells
        self.problems: list[str] = []

    def text(self, h, *, required=False, max_length=None) -> str:
        v = _text(self.cells.get(h))
        if required and not v:
            self.problems.append(f"“{h}”不能为空")
        if max_length and len(v) > max_length:
            self.problems.append(f"“{h}”过长（最多 {max_length} 个字）")
        return v

    def yes(self, h, default: bool) -> bool:
        v = _text(self.cells.get(h))
        if not v:
            return default
        if v in (YES, "Y", "y", "1", "TRUE", "True", "true", "√"):
            return True
        if v in (NO, "N", "n", "0", "FALSE", "False", "false", "×"):
            return False
        self.problems.append(f"“{h}”应填“是”或“否”，而不是“{v}”")
        return default

    def number(self, h, default: int, *, low=0, high=99) -> int:
        v = _text(self.cells.get(h))
        if not v:
            return default
        if not re.fullmatch(r"\d+", v) or not low <= int(v) <= high:
            self.problems.append(f"“{h}”应为 {low}—{high} 的整数，而不是“{v}”")
            return default
        return int(v)

    def days(self, h) -> Decimal | None:
        v = _text(self.cells.get(h))
        if not v:
            self.problems.append(f"“{h}”不能为空（工作日，可为 0 表示即办）")
            return None
        try:
            d = Decimal(v.removesuffix("个工作日").removesuffix("工作日"))
        except InvalidOperation:
            d = None
        if d is None or d < 0 or d > 9999 or d != d.quantize(Decimal("0.1")):
            self.problems.append(f"“{h}”应为工作日数（最多一位小数，如 0.5），而不是“{v}”")
            return None
        return d.quantize(Decimal("0.1"))

    def key(self, h) -> str:
        v = self.text(h, required=True)
        if v and not KEY_RE.match(v):
            self.problems.append(f"“{h}”“{v}”只能由小写字母、数字和下划线组成且以字母开头（如 id_card）")
        return v


def _read_sheet(wb, title: str, result: ImportResult) -> list[tuple[int, _Row]] | None:
    if title not in wb.sheetnames:
        if title in REQUIRED_SHEETS:
            result.errors.append((title, 0, f"缺少工作表“{title}”。"))
        return None
    rows = wb[title].iter_rows(values_only=True)
    header = [_text(h) for h in next(rows, [])]
    missing = [h for h in SHEETS[title] if h not in header]
    if missing:
        result.errors.append((title, 1, f"表头缺少列：{'、'.join(missing)}。"))
        return None
    col = {h: header.index(h) for h in SHEETS[title]}
    out = []
    for n, row in enumerate(rows, start=2):
        if all(v in (None, "") for v in row):
            continue
        out.append((n, _Row({h: row[i] if i < len(row) else None for h, i in col.items()})))
    return out


def _labels(choices) -> dict[str, str]:
    """Accept a choice by its Chinese label or its code."""
    out = {label: value for value, label in choices}
    out.update({value: value for value, _ in choices})
    return out


def import_xlsx(fileobj) -> ImportResult:
    result = ImportResult()
    try:
        wb = load_workbook(fileobj, read_only=True, data_only=True)
    except Exception:
        result.errors.append(("", 0, "无法读取文件：请上传 .xlsx 格式的 Excel 文件。"))
        return result
    sheets = {title: _read_sheet(wb, title, result) for title in SHEETS}
    if result.errors:
        return result
    units = {u.name: u for u in Unit.objects.filter(active=True)}
    units.update({u.short_name: u for u in list(units.values()) if u.short_name and u.short_name not in units})
    types, channels, kinds = _labels(ItemType.choices), _labels(Channel.choices), _labels(FieldKind.choices)

    def report(sheet, n, row):
        if row.problems:
            result.errors.append((sheet, n, "；".join(row.problems) + "。"))
            return False
        return True

    items: dict[str, dict] = {}
    for n, row in sheets["事项"]:
        code = row.text("事项编码", required=True, max_length=64)
        data = {"code": code, "name": row.text("事项名称", required=True, max_length=200)}
        t = row.text("事项类型", required=True)
        data["item_type"] = types.get(t)
        if t and data["item_type"] is None:
            row.problems.append(f"事项类型“{t}”无效（可选：{'、'.join(ItemType.labels)}）")
        u = row.text("实施主体", required=True)
        data["unit"] = units.get(u)
        if u and data["unit"] is None:
            row.problems.append(f"实施主体“{u}”不存在或已停用")
        data["legal_days"], data["promised_days"] = row.days("法定办结时限"), row.days("承诺办结时限")
        if data["legal_days"] is not None and data["promised_days"] is not None and data["legal_days"] > 0 \
                and data["promised_days"] > data["legal_days"]:
            row.problems.append("承诺办结时限不能超过法定办结时限")
        data["fee"] = row.text("收费标准", max_length=300)
        data["channels"] = []
        for c in SPLIT_RE.split(row.text("办理渠道")):
            if c and channels.get(c) is None:
                row.problems.append(f"办理渠道“{c}”无效（可选：{'、'.join(Channel.labels)}）")
            elif c and channels[c] not in data["channels"]:
                data["channels"].append(channels[c])
        data["visits"] = row.number("跑动次数", 1, high=9)
        data["cross_province"] = row.yes("跨省通办", False)
        data["all_region"] = row.yes("全域通办", False)
        data["partner_regions"] = row.text("通办合作地区", max_length=300)
        data["location"] = row.text("办理地点", max_length=200)
        data["phone"] = row.text("咨询电话", max_length=64)
        data["legal_basis"] = row.text("设定依据")
        data["conditions"] = row.text("受理条件")
        data["produces"] = row.text("办结产出的证照", max_length=64)
        data["negative_list"] = row.yes("负面清单", False)
        data["negative_reason"] = row.text("不进厅原因及办理去处", max_length=300)
        if data["negative_list"] and not data["negative_reason"]:
            row.problems.append("负面清单事项须填写“不进厅原因及办理去处”")
        data["active"] = row.yes("启用", True)
        if code in items:
            row.problems.append(f"事项编码“{code}”在本表中重复（首次出现在第 {items[code]['_row']} 行）")
        if report("事项", n, row):
            items[code] = data | {"_row": n, "materials": {}, "fields": {}}
        elif code and code not in items:
            items[code] = {"_row": n, "_bad": True, "materials": {}, "fields": {}}

    def owner(row) -> dict | None:
        code = row.text("事项编码", required=True)
        if code and code not in items:
            row.problems.append(f"事项编码“{code}”不在“事项”工作表中")
        return items.get(code)

    for n, row in sheets["材料"]:
        item = owner(row)
        data = {"key": row.key("材料标识"), "name": row.text("材料名称", required=True, max_length=200),
                "order": row.number("序号", 0, high=999), "originals": row.number("原件份数", 1),
                "copies": row.number("复印件份数", 0), "required": row.yes("必要", True), "deferrable": row.yes("容缺可后补", False),
                "licence_kind": row.text("可替代电子证照", max_length=64), "source": row.text("来源渠道", max_length=100),
                "note": row.text("填写说明", max_length=300), "application_form": row.yes("申请表", False)}
        if data["originals"] == 0 and data["copies"] == 0:
            row.problems.append("原件和复印件份数不能都为 0")
        if item is not None and data["key"] in item["materials"]:
            row.problems.append(f"同一事项的材料标识“{data['key']}”重复")
        if report("材料", n, row) and item is not None:
            item["materials"][data["key"]] = data

    for n, row in sheets["表单字段"]:
        item = owner(row)
        k = row.text("类型") or FieldKind.TEXT.label
        data = {"key": row.key("字段标识"), "label": row.text("字段名称", required=True, max_length=100),
                "order": row.number("序号", 0, high=999), "kind": kinds.get(k), "required": row.yes("必填", True),
                "choices": [c for c in SPLIT_RE.split(row.text("可选项")) if c]}
        if data["kind"] is None:
            row.problems.append(f"类型“{k}”无效（可选：{'、'.join(FieldKind.labels)}）")
        elif data["kind"] == FieldKind.CHOICE and not data["choices"]:
            row.problems.append("选项类字段须填写“可选项”（用顿号分隔）")
        if item is not None and data["key"] in item["fields"]:
            row.problems.append(f"同一事项的字段标识“{data['key']}”重复")
        if report("表单字段", n, row) and item is not None:
            item["fields"][data["key"]] = data

    packages: dict[str, dict] = {}
    known = set(ServiceItem.objects.values_list("code", flat=True)) | set(items)
    for n, row in sheets["一件事"] or []:
        code = row.text("一件事编码", required=True, max_length=64)
        data = {"code": code, "name": row.text("名称", required=True, max_length=200), "description": row.text("说明"),
                "promised_days": row.days("承诺办结时限"), "visits": row.number("跑动次数", 1, high=9),
                "window": row.text("受理窗口", max_length=200), "active": row.yes("启用", True)}
        data["codes"] = [c for c in SPLIT_RE.split(row.text("包含事项编码", required=True)) if c]
        unknown = [c for c in data["codes"] if c not in known]
        if unknown:
            row.problems.append(f"包含的事项编码不存在：{'、'.join(unknown)}")
        if len(set(data["codes"])) != len(data["codes"]):
            row.problems.append("包含事项编码有重复")
        elif 0 < len(data["codes"]) < 2:
            row.problems.append("一件事至少包含 2 个事项")
        if code in packages:
            row.problems.append(f"一件事编码“{code}”在本表中重复")
        if report("一件事", n, row):
            packages[code] = data

    if not items and not packages and not result.errors:
        result.errors.append(("事项", 0, "文件中没有数据行。"))
    if result.errors:
        result.errors.sort(key=lambda e: (list(SHEETS).index(e[0]) if e[0] in SHEETS else -1, e[1]))
        return result
    try:
        with transaction.atomic():
            _write(items, packages, result)
    except ProtectedError:
        result.errors.append(("材料", 0, "有材料或字段已被办件引用，不能删除；请保留原有的材料标识和字段标识后重新导入。"))
    return result


def _write(items: dict, packages: dict, result: ImportResult) -> None:
    existing = {i.code: i for i in ServiceItem.objects.filter(code__in=list(items))}
    saved: dict[str, ServiceItem] = {}
    for code, data in items.items():
        values = {k: v for k, v in data.items() if not k.startswith("_") and k not in ("materials", "fields", "code")}
        item = existing.get(code)
        if item is None:
            item = ServiceItem.objects.create(code=code, **values)
            result.items_created += 1
        else:
            for k, v in values.items():
                setattr(item, k, v)
            item.save()
            result.items_updated += 1
        saved[code] = item
        _sync(item, Material, data["materials"])
        _sync(item, FormField, data["fields"])
        result.materials += len(data["materials"])
        result.fields += len(data["fields"])
    by_code = {i.code: i for i in ServiceItem.objects.filter(code__in=[c for p in packages.values() for c in p["codes"]])}
    for code, data in packages.items():
        values = {k: data[k] for k in ("name", "description", "promised_days", "visits", "window", "active")}
        package, _ = Package.objects.update_or_create(code=code, defaults=values)
        package.entries.all().delete()
        PackageItem.objects.bulk_create([PackageItem(package=package, item=by_code[c], order=i) for i, c in enumerate(data["codes"], start=1)])
        result.packages += 1


def _sync(item: ServiceItem, model, rows: dict[str, dict]) -> None:
    """Make the item's materials (or form fields) exactly `rows`, updating those whose key stays."""
    current = {r.key: r for r in model.objects.filter(item=item)}
    model.objects.filter(item=item).exclude(key__in=list(rows)).delete()
    for key, data in rows.items():
        row = current.get(key) or model(item=item)
        for k, v in data.items():
            setattr(row, k, v)
        row.save()
