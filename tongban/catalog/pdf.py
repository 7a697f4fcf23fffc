"""一次告知单 (one-time notification) as PDF, for an item or a package: everything the applicant
needs, on paper, so that nothing outside the list may be asked for later."""
from __future__ import annotations

import io
from datetime import date

import segno
from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from xml.sax.saxutils import escape

from . import services
from .models import Package, ServiceItem

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
BODY = ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=15, wordWrap="CJK")
SMALL = ParagraphStyle("small", parent=BODY, fontSize=9, leading=12.5)
TITLE = ParagraphStyle("title", parent=BODY, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=4)
SUB = ParagraphStyle("sub", parent=SMALL, alignment=TA_CENTER, textColor=colors.HexColor("#555555"))
HEAD = ParagraphStyle("head", parent=BODY, fontSize=12, leading=18, spaceBefore=8, spaceAfter=3)
ALERT = ParagraphStyle("alert", parent=BODY, textColor=colors.HexColor("#b42318"), borderColor=colors.HexColor("#b42318"),
                       borderWidth=0.8, borderPadding=5, spaceBefore=6, spaceAfter=8)


def _p(text, style=BODY) -> Paragraph:
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def _days(d) -> str:
    return "即办" if d == 0 else f"{d.normalize():f} 个工作日"


def _qr(url: str, size=26 * mm) -> Drawing:
    """The guide page's address as a QR code drawn in vector rectangles (no image files)."""
    qr = segno.make(url, error="m")
    matrix = [list(row) for row in qr.matrix]
    n = len(matrix) + 8  # 4-module quiet zone each side
    cell = size / n
    d = Drawing(size, size)
    for y, row in enumerate(matrix):
        for x, on in enumerate(row):
            if on:
                d.add(Rect((x + 4) * cell, size - (y + 5) * cell, cell, cell, fillColor=colors.black, strokeColor=None))
    return d


def _material_note(need: services.MaterialNeed, show_items: bool) -> str:
    notes = []
    if need.produced_by is not None:
        notes.append(f"由本件《{need.produced_by.name}》办结后直接共享，无需提交")
    elif need.by_form:
        notes.append("由一件事联合申请表代替（一表申请），无需另填")
    else:
        if not need.required:
            notes.append("情形材料（符合情形时提供）")
        if need.deferrable:
            notes.append("可容缺受理，承诺后补")
        if need.licence_kind:
            notes.append(f"可用电子证照“{need.licence_kind}”替代")
    if need.source:
        notes.append(f"来源：{need.source}")
    if need.note:
        notes.append(need.note)
    if show_items:
        notes.append("用于：" + "、".join(i.name for i in need.items))
    return "；".join(notes)


def _materials_table(needs, *, show_items: bool) -> Table:
    rows = [[_p("序号", SMALL), _p("材料名称", SMALL), _p("原件/复印件", SMALL), _p("必要", SMALL), _p("说明", SMALL)]]
    for n, need in enumerate(needs, start=1):
        rows.append([_p(n, SMALL), _p(need.name, SMALL), _p(f"{need.originals} / {need.copies}", SMALL),
                     _p("是" if need.required else "否", SMALL), _p(_material_note(need, show_items), SMALL)])
    table = Table(rows, colWidths=[12 * mm, 55 * mm, 23 * mm, 11 * mm, 79 * mm], repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f8")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return table


def _facts(pairs) -> Table:
    table = Table([[_p(k, SMALL), _p(v or "—", SMALL)] for k, v in pairs], colWidths=[32 * mm, 148 * mm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
                               ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f5f6f8")), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _footer(story, url: str | None, today: date) -> None:
    text = ("本告知单所列为办理本事项所需的全部材料和要求，窗口不得要求提交告知单以外的材料；"
            "材料齐全、符合法定形式的当场受理，仅缺容缺材料的可先行受理。"
            f"\n告知日期：{today:%Y年%m月%d日}　　咨询投诉：12345 政务服务便民热线")
    if url:
        story.append(Spacer(1, 6))
        table = Table([[_p(text, SMALL), [_qr(url), _p("扫码查看办事指南", SMALL)]]], colWidths=[146 * mm, 34 * mm])
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(table)
    else:
        story.append(Spacer(1, 6))
        story.append(_p(text, SMALL))


def _render(title: str, story: list) -> bytes:
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm,
                            title=title, author="通办", subject="一次性告知单")
    doc.build(story)
    return buf.getvalue()


def item_notice(item: ServiceItem, *, url: str | None = None, today: date | None = None) -> bytes:
    today = today or date.today()
    story = [_p(f"{item.name}\n一次性告知单", TITLE),
             _p(f"事项编码 {item.code}　{item.get_item_type_display()}　实施主体 {item.unit.name}", SUB), Spacer(1, 6)]
    if item.negative_list:
        story.append(_p(f"本事项列入进驻政务服务大厅负面清单，不进厅办理。{item.negative_reason}", ALERT))
    story.append(_p("一、办理材料", HEAD))
    needs = services.item_materials(item)
    story.append(_materials_table(needs, show_items=False) if needs else _p("无需提交材料。"))
    story.append(_p("二、办理要求", HEAD))
    story.append(_facts(_item_facts(item)))
    _footer(story, url, today)
    return _render(f"{item.name} 一次性告知单", story)


def _item_facts(item: ServiceItem) -> list[tuple[str, str]]:
    pairs = [("法定办结时限", _days(item.legal_days)), ("承诺办结时限", _days(item.promised_days)),
             ("收费标准", item.fee or "不收费"), ("办理渠道", "、".join(item.channel_labels)),
             ("跑动次数", f"最多 {item.visits} 次" if item.visits else "零跑动")]
    if item.cross_province or item.all_region:
        modes = [m for m, on in (("跨省通办", item.cross_province), ("全域通办", item.all_region)) if on]
        pairs.append(("通办", "、".join(modes) + (f"（{item.partner_regions}）" if item.partner_regions else "")))
    if item.conditions:
        pairs.append(("受理条件", item.conditions))
    pairs += [("办理地点", item.location), ("咨询电话", item.phone or item.unit.phone), ("设定依据", item.legal_basis)]
    return pairs


def package_notice(package: Package, *, url: str | None = None, today: date | None = None) -> bytes:
    today = today or date.today()
    items = package.ordered_items()
    s = services.savings(package)
    story = [_p(f"“{package.name}”一件事\n一次性告知单", TITLE),
             _p(f"一件事编码 {package.code}　一次告知、一表申请、一套材料、一窗受理、一次办结", SUB), Spacer(1, 6)]
    if package.description:
        story.append(_p(package.description))
    story.append(_p("一、包含事项", HEAD))
    rows = [[_p(h, SMALL) for h in ("序号", "事项", "实施主体", "承诺时限", "收费")]]
    rows += [[_p(n, SMALL), _p(i.name, SMALL), _p(i.unit.name, SMALL), _p(_days(i.promised_days), SMALL), _p(i.fee or "不收费", SMALL)]
             for n, i in enumerate(items, start=1)]
    table = Table(rows, colWidths=[12 * mm, 60 * mm, 48 * mm, 24 * mm, 36 * mm], repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f8")), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story.append(table)
    story.append(_p("二、一套材料（已合并去重）", HEAD))
    story.append(_materials_table(services.merged_materials(package), show_items=True))
    story.append(_p("三、办理要求", HEAD))
    pairs = [("承诺办结时限", f"{_days(package.promised_days)}（各事项并联办理）"),
             ("跑动次数", f"最多 {package.visits} 次" if package.visits else "零跑动"),
             ("受理窗口", package.window),
             ("办事效果", f"材料 {s['materials']['separate']} 件减为 {s['materials']['merged']} 件（减少 {s['materials']['percent']}%）；"
                         f"填表 {s['fields']['separate']} 项减为 {s['fields']['merged']} 项；"
                         f"时限 {s['days']['separate'].normalize():f} 个工作日压缩为 {s['days']['merged'].normalize():f} 个；"
                         f"跑动 {s['visits']['separate']} 次减为 {s['visits']['merged']} 次"),
             ("设定依据", "\n".join(f"{i.name}：{i.legal_basis}" for i in items if i.legal_basis))]
    story.append(_facts(pairs))
    _footer(story, url, today)
    return _render(f"{package.name} 一次性告知单", story)
