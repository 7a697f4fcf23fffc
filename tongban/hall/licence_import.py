"""Import e-licences (电子证照) from XLSX or CSV. One row per licence; holders are created or
matched by 身份证号 / 统一社会信用代码, both validated with python-stdnum."""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from openpyxl import load_workbook
from stdnum.cn import ric, uscc

from .models import Enterprise, Licence, Person

COLUMNS = {"证照类型": "kind", "证照编号": "number", "持证人": "holder", "证件号码": "code", "身份证号/统一社会信用代码": "code",
           "发证机关": "issuer", "有效期起": "valid_from", "有效期至": "valid_to"}
HEADER = ["证照类型", "证照编号", "持证人", "身份证号/统一社会信用代码", "发证机关", "有效期起", "有效期至"]


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def _rows(path: Path):
    if path.suffix.lower() == ".csv":
        text = path.read_bytes().decode("utf-8-sig")
        reader = csv.reader(io.StringIO(text))
        yield from reader
        return
    ws = load_workbook(path, read_only=True, data_only=True).active
    for row in ws.iter_rows(values_only=True):
        yield ["" if v is None else v for v in row]


def _date(value, label: str) -> dt.date | None:
    if value in ("", None, "长期"):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{label}“{value}”不是日期（例如 2026-01-31）") from None


def import_licences(path: Path) -> ImportResult:
    """Rows with errors are reported (row number and reason, in Chinese) and skipped; the rest load."""
    result = ImportResult()
    rows = _rows(path)
    header = [str(h).strip() for h in next(rows, [])]
    keys = [COLUMNS.get(h) for h in header]
    missing = {"kind", "number", "holder", "code", "issuer", "valid_from"} - set(keys)
    if missing:
        result.errors.append("表头缺少列：" + "、".join(h for h in HEADER if COLUMNS[h] in missing))
        return result
    for n, raw in enumerate(rows, start=2):
        rec = {k: str(v).strip() if not isinstance(v, (dt.date, dt.datetime)) else v for k, v in zip(keys, raw) if k}
        if not any(rec.values()):
            continue
        try:
            code = str(rec["code"]).upper()
            person = enterprise = None
            if ric.is_valid(code):
                person, _ = Person.objects.get_or_create(id_number=code, defaults={"name": rec["holder"]})
            elif uscc.is_valid(code):
                enterprise, _ = Enterprise.objects.get_or_create(uscc=code, defaults={"name": rec["holder"]})
            else:
                raise ValueError(f"“{code}”既不是有效的身份证号码，也不是有效的统一社会信用代码")
            if not (rec["kind"] and rec["number"] and rec["issuer"]):
                raise ValueError("证照类型、证照编号、发证机关不能为空")
            valid_from = _date(rec["valid_from"], "有效期起")
            if valid_from is None:
                raise ValueError("有效期起不能为空")
            with transaction.atomic():
                _, made = Licence.objects.update_or_create(kind=rec["kind"], number=rec["number"], defaults=dict(
                    person=person, enterprise=enterprise, issuer=rec["issuer"], valid_from=valid_from,
                    valid_to=_date(rec.get("valid_to", ""), "有效期至"), source="imported"))
            result.created += made
            result.updated += not made
        except ValueError as exc:
            result.errors.append(f"第{n}行：{exc}")
    return result
