"""数字政务门牌: generate plates for a village/community, import a household list, print A4 sheets
(reportlab, segno QR, the STSong-Light CID font that every PDF reader has), and who may do so."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import segno
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from reportlab.lib.colors import HexColor, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from tongban.core import clock
from tongban.core.models import Level, Region, Role, Unit, UnitKind
from tongban.core.links import public_url
from tongban.core.places import responsible_unit

from .models import DoorPlate

FONT = "STSong-Light"
COLUMNS, ROWS = 2, 4  # plates per A4 page: 8
SCAN_PATH = "/p/d/"


class PlateError(Exception):
    """A door-plate request that cannot be done. The message is in Chinese."""


def scan_url(plate: DoorPlate) -> str:
    return public_url(f"{SCAN_PATH}{plate.token}")


# ------------------------------------------------------------------------------ who and where


def villages_for(user):
    """The villages/communities whose plates this person may generate and print: all for a system
    administrator; for a unit administrator, those under their unit (a town's admin: the town's)."""
    villages = Region.objects.filter(level=Level.VILLAGE).select_related("parent")
    if user.has_role(Role.SYSADMIN):
        return villages
    if user.has_role(Role.UNIT_ADMIN) and user.unit_id:
        return villages.filter(units__path__startswith=user.unit.path).distinct()
    return villages.none()


def village_unit(village: Region) -> Unit:
    """村社派单 goes to the village/community committee (else the nearest unit above it)."""
    unit = (Unit.objects.filter(region=village, kind=UnitKind.VILLAGE, active=True).order_by("path").first()
            or responsible_unit(village))
    if unit is None:
        raise PlateError(f"“{village}”没有对应的村（社区）单位，无法生成门牌：请先在“单位”中为它建立村（居）民委员会。")
    return unit


def find_village(name: str) -> Region:
    matches = list(Region.objects.filter(level=Level.VILLAGE).filter(Q(name=name) | Q(code=name)).select_related("parent"))
    if not matches:
        raise PlateError(f"找不到名为“{name}”的村或社区。")
    if len(matches) > 1:
        raise PlateError(f"有 {len(matches)} 个名为“{name}”的村或社区，请改用区划代码：" + "、".join(f"{r.code}（{r.parent}）" for r in matches))
    return matches[0]


def _grid(village: Region, name: str) -> Region:
    if not name:
        return village
    grid = Region.objects.filter(parent=village, level=Level.GRID).filter(Q(name=name) | Q(name=f"{village.name}{name}")).first()
    if grid is None:
        raise PlateError(f"“{village}”下没有名为“{name}”的网格。")
    return grid


@dataclass
class Household:
    household: str
    address: str = ""
    grid: str = ""


def create_plates(village: Region, households: list[Household]) -> tuple[list[DoorPlate], int]:
    """Create plates for the households not yet plated. Returns (created, skipped as existing)."""
    unit = village_unit(village)
    prefix = village.full_name()
    existing = set(DoorPlate.objects.filter(village=village).values_list("household", flat=True))
    now = clock.now()
    plates, skipped, seen = [], 0, set()
    grids: dict[str, Region] = {}
    for h in households:
        name = h.household.strip()
        if not name:
            continue
        if name in existing or name in seen:
            skipped += 1
            continue
        seen.add(name)
        if h.grid not in grids:
            grids[h.grid] = _grid(village, h.grid.strip())
        address = h.address.strip() or f"{prefix}{name}"
        plates.append(DoorPlate(household=name[:64], address=address[:200], village=village, region=grids[h.grid], unit=unit,
                                created_at=now))
    with transaction.atomic():
        DoorPlate.objects.bulk_create(plates, batch_size=500)
    return plates, skipped


def numbered(village: Region, count: int, *, street: str = "", start: int = 1, grid: str = "") -> list[Household]:
    """Households "幸福路1号", "幸福路2号" … (or "1号", "2号" … without a street)."""
    if not 1 <= count <= 5000:
        raise PlateError("一次生成的门牌数量应在 1 到 5000 之间。")
    if start < 1:
        raise PlateError("起始门牌号至少为 1。")
    return [Household(f"{street.strip()}{n}号", grid=grid) for n in range(start, start + count)]


def from_csv(text: str) -> list[Household]:
    """A household list: columns 门牌号 (required), 地址, 网格 — as exported from a spreadsheet."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or "门牌号" not in [f.strip() for f in reader.fieldnames]:
        raise PlateError("CSV 第一行应为列名，至少包含“门牌号”，可选“地址”“网格”。")
    rows = []
    for row in reader:
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        rows.append(Household(row.get("门牌号", ""), row.get("地址", ""), row.get("网格", "")))
    return rows


def village_summary(villages) -> list[dict]:
    counts = dict(DoorPlate.objects.filter(village__in=villages, active=True).values_list("village").annotate(n=Count("id")).order_by())
    return [{"village": v, "plates": counts.get(v.pk, 0)} for v in villages.order_by("code")]


# -------------------------------------------------------------------------------------- PDF


def _wrap(text: str, size: float, width: float) -> list[str]:
    lines, line = [], ""
    for ch in text:
        if pdfmetrics.stringWidth(line + ch, FONT, size) > width:
            lines.append(line)
            line = ch
        else:
            line += ch
    return lines + [line] if line else lines


def _qr(c: Canvas, url: str, x: float, y: float, side: float) -> None:
    matrix = segno.make(url, error="m").matrix
    n = len(matrix) + 8  # 4-module quiet zone on each side
    module = side / n
    c.setFillColor(white)
    c.rect(x, y, side, side, stroke=0, fill=1)
    c.setFillColor(HexColor("#000000"))
    for r, row in enumerate(matrix):
        col = 0
        while col < len(row):  # one rectangle per run of dark modules
            if row[col]:
                start = col
                while col < len(row) and row[col]:
                    col += 1
                c.rect(x + (start + 4) * module, y + side - (r + 5) * module, (col - start) * module, module, stroke=0, fill=1)
            else:
                col += 1


def _plate(c: Canvas, p: DoorPlate, x: float, y: float, w: float, h: float, site: str) -> None:
    blue = HexColor("#17468c")
    c.setStrokeColor(blue)
    c.setLineWidth(1.2)
    c.roundRect(x, y, w, h, 3 * mm, stroke=1, fill=0)
    band = 11 * mm
    c.setFillColor(blue)
    c.roundRect(x, y + h - band, w, band, 3 * mm, stroke=0, fill=1)
    c.rect(x, y + h - band, w, band / 2, stroke=0, fill=1)
    c.setFillColor(white)
    c.setFont(FONT, 13)
    c.drawString(x + 4 * mm, y + h - band + 3.6 * mm, "数字政务门牌")
    c.setFont(FONT, 7.5)
    c.drawRightString(x + w - 4 * mm, y + h - band + 3.8 * mm, site)
    qr_side = 40 * mm
    qr_x = x + w - qr_side - 2 * mm
    _qr(c, scan_url(p), qr_x, y + 8 * mm, qr_side)
    c.setFillColor(blue)
    c.setFont(FONT, 8)
    c.drawCentredString(qr_x + qr_side / 2, y + 4.5 * mm, "扫码反映，直达村（社区）")
    text_w = w - qr_side - 8 * mm
    c.setFillColor(HexColor("#1d2433"))
    size = 20
    while size > 11 and pdfmetrics.stringWidth(p.household, FONT, size) > text_w:
        size -= 1
    c.setFont(FONT, size)
    top = y + h - band - 4 * mm - size
    c.drawString(x + 4 * mm, top, p.household)
    c.setFont(FONT, 8.5)
    line_y = top - 6 * mm
    for line in _wrap(p.address, 8.5, text_w)[:3]:
        c.drawString(x + 4 * mm, line_y, line)
        line_y -= 4 * mm
    c.setFillColor(HexColor("#667085"))
    c.setFont(FONT, 7.5)
    lines = _wrap(f"责任单位：{p.unit.name}", 7.5, text_w)[:2] + ([f"联系电话：{p.unit.phone}"] if p.unit.phone else [])
    for line in lines:
        c.drawString(x + 4 * mm, line_y - 1 * mm, line)
        line_y -= 3.6 * mm
    c.setFillColor(blue)
    c.setFont(FONT, 8)
    help_lines = _wrap("用微信或手机相机扫右侧二维码：反映问题、查询进度、评价办理。紧急情况请拨 110、119、120。", 8, text_w)
    for i, line in enumerate(reversed(help_lines[:3])):
        c.drawString(x + 4 * mm, y + 4.5 * mm + i * 4 * mm, line)


def plates_pdf(plates, *, title: str = "数字政务门牌") -> bytes:
    """A4 sheets, 8 plates a page, ready to print on adhesive stock or to laminate."""
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    site = getattr(settings, "NOTIFY_SITE_NAME", "12345")
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4)
    c.setTitle(title)
    c.setAuthor("通办")
    page_w, page_h = A4
    margin, gap = 10 * mm, 5 * mm
    w = (page_w - 2 * margin - (COLUMNS - 1) * gap) / COLUMNS
    h = (page_h - 2 * margin - (ROWS - 1) * gap) / ROWS
    plates = list(plates)
    per_page = COLUMNS * ROWS
    for i, plate in enumerate(plates):
        slot = i % per_page
        if slot == 0 and i:
            c.showPage()
        col, row = slot % COLUMNS, slot // COLUMNS
        _plate(c, plate, margin + col * (w + gap), page_h - margin - (row + 1) * h - row * gap, w, h, site)
    if not plates:
        c.setFont(FONT, 12)
        c.drawString(margin, page_h - margin - 12, "该村（社区）还没有启用的门牌。")
    c.showPage()
    c.save()
    return buf.getvalue()
