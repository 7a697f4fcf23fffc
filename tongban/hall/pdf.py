"""Printed documents of the window: 受理回执 (with a QR code to track the case) and 不予受理通知书.

reportlab with the built-in STSong-Light CID font (no font file needed); the QR code is drawn by
segno as a PNG. Each document's title carries the case number, so a printout can be matched.
"""
from __future__ import annotations

import io
from urllib.parse import urlencode

import segno
from django.utils.timezone import localtime
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from tongban.core.links import public_url
from tongban.core.pii import mask_id_number, mask_phone

from .models import Application, MaterialState

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def track_url(app: Application) -> str:
    """Where the applicant follows the case: the portal's tracking page at the public address
    (TONGBAN_PUBLIC_URL, the same prefix as in SMS messages and on door plates)."""
    return public_url(f"/p/track/?{urlencode({'number': app.case.number})}")


def _qr_png(data: str) -> bytes:
    buf = io.BytesIO()
    segno.make(data, error="m").save(buf, kind="png", scale=6, border=2)
    return buf.getvalue()


class _Sheet:
    """A page writer that wraps long Chinese lines and starts new pages."""

    def __init__(self, title: str, subject: str):
        self.buf = io.BytesIO()
        self.c = canvas.Canvas(self.buf, pagesize=A4)
        self.c.setTitle(title)
        self.c.setSubject(subject)
        self.c.setAuthor("通办")
        self.width, self.height = A4
        self.y = self.height - 25 * mm

    def heading(self, text: str, size: int = 18) -> None:
        self.c.setFont(FONT, size)
        self.c.drawCentredString(self.width / 2, self.y, text)
        self.y -= size * 1.8

    def line(self, text: str, size: int = 11, indent: float = 0) -> None:
        self.c.setFont(FONT, size)
        left = 20 * mm + indent
        room = self.width - left - 20 * mm
        chunk = ""
        for ch in text:
            if pdfmetrics.stringWidth(chunk + ch, FONT, size) > room:
                self._put(chunk, left, size)
                chunk = ""
            chunk += ch
        self._put(chunk, left, size)

    def _put(self, text: str, left: float, size: int) -> None:
        if self.y < 25 * mm:
            self.c.showPage()
            self.y = self.height - 25 * mm
            self.c.setFont(FONT, size)
        self.c.drawString(left, self.y, text)
        self.y -= size * 1.6

    def gap(self, points: float = 8) -> None:
        self.y -= points

    def finish(self) -> bytes:
        self.c.showPage()
        self.c.save()
        return self.buf.getvalue()


def _head(sheet: _Sheet, app: Application) -> None:
    case = app.case
    sheet.line(f"办件编号：{case.number}")
    sheet.line(f"申请事项：{app.subject}")
    who = app.enterprise.name + f"（统一社会信用代码 {app.enterprise.uscc}）" if app.enterprise_id else ""
    sheet.line(f"申请人：{case.requester_name}（身份证 {mask_id_number(app.person.id_number) if app.person_id else '—'}）" + (f"；申请单位：{who}" if who else ""))
    sheet.line(f"联系电话：{mask_phone(case.requester_phone)}")
    sheet.line(f"受理窗口：{app.hall.name}　受理人：{app.clerk or '—'}　时间：{localtime(case.created_at):%Y年%m月%d日 %H:%M}")


def receipt_pdf(app: Application) -> bytes:
    """受理回执: what was accepted, with which materials, the promised date, and a QR code to track."""
    case = app.case
    sheet = _Sheet(f"受理回执 {case.number}", app.subject)
    url = track_url(app)
    size = 28 * mm
    top = sheet.y + 8 * mm
    sheet.c.drawImage(ImageReader(io.BytesIO(_qr_png(url))), sheet.width - 20 * mm - size, top - size, size, size)
    sheet.c.setFont(FONT, 8)
    sheet.c.drawCentredString(sheet.width - 20 * mm - size / 2, top - size - 3 * mm, "扫码查询办理进度")
    sheet.heading(f"{app.hall.name}")
    sheet.heading("受 理 回 执", 16)
    _head(sheet, app)
    if case.due_at:
        sheet.line(f"承诺办结时间：{localtime(case.due_at):%Y年%m月%d日 %H:%M} 前")
    if app.mode != "window":
        sheet.line(f"办理模式：{app.get_mode_display()}" + (f"（办理地：{app.cross.region_name} {app.cross.authority}）" if hasattr(app, "cross") else ""))
    parts = list(app.parts.select_related("item__unit", "case"))
    if parts:
        sheet.gap()
        sheet.line("并联审批事项（各部门同时办理，统一窗口出件）：")
        for n, p in enumerate(parts, start=1):
            due = f"，承诺 {localtime(p.case.due_at):%m月%d日 %H:%M} 前" if p.case.due_at else ""
            sheet.line(f"{n}. {p.item.name}（{p.item.unit.name}{due}）", indent=6 * mm)
    sheet.gap()
    sheet.line("材料核验：")
    for n, ch in enumerate(app.checks.all(), start=1):
        extra = f"：{ch.licence.kind} {ch.licence.number}" if ch.state == MaterialState.LICENCE and ch.licence else ""
        sheet.line(f"{n}. {ch.name} —— {ch.get_state_display()}{extra}", indent=6 * mm)
    if app.supplement_due_at:
        sheet.gap()
        sheet.line(f"容缺受理：请于 {localtime(app.supplement_due_at):%Y年%m月%d日} 前补齐上列“容缺后补”材料。逾期未补齐的，"
                   "办件转为补正、暂停计时，仍未补齐的终止办理。申请人承诺：" + app.commitment)
    if app.helper_id:
        sheet.line(f"帮办代办：{app.helper}（{app.get_help_reason_display()}），申请人已同意。{app.consent_note}")
    sheet.gap()
    sheet.line(f"查询办理进度：{url}", size=9)
    return sheet.finish()


def refusal_pdf(app: Application) -> bytes:
    """不予受理通知书: the reason, and where the applicant can turn."""
    case = app.case
    sheet = _Sheet(f"不予受理通知书 {case.number}", app.subject)
    sheet.heading(app.hall.name)
    sheet.heading("不予受理通知书", 16)
    sheet.line(f"{case.requester_name}：")
    sheet.line(f"您于 {localtime(case.created_at):%Y年%m月%d日} 申请办理“{app.subject}”，经审查，决定不予受理。理由如下：", indent=8 * mm)
    sheet.gap(4)
    sheet.line(app.refusal_reason, indent=8 * mm)
    sheet.gap()
    sheet.line("如对本决定不服，可以自收到本通知书之日起六十日内依法申请行政复议，或者在六个月内依法提起行政诉讼。"
               "如需咨询，请拨打 12345 政务服务便民热线。", indent=8 * mm)
    sheet.gap(16)
    _head(sheet, app)
    sheet.gap(16)
    sheet.line(f"{app.hall.name}（印章）", indent=90 * mm)
    sheet.line(f"{localtime(case.created_at):%Y年%m月%d日}", indent=90 * mm)
    return sheet.finish()
