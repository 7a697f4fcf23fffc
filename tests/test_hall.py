"""办件 at the 无差别综合窗口: package → parallel sub-cases → one completion, deadlines, 容缺, 不予受理,
receipts, 电子证照, 跨省通办, 预约, 帮办代办, 好差评 → 整改, data scope, bad input."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from tongban.cases import access
from tongban.cases.access import AccessDenied
from tongban.cases.models import Case
from tongban.cases.workflow import TransitionError
from tongban.core import clock
from tongban.hall import pdf, services as hall
from tongban.hall.models import Application, Booking, Licence, MaterialState, Mode, Reminder, Slot
from tongban.workdays import services as workdays

from .conftest import local
from .hall_fixtures import ID_A, ID_B, USCC_A, give_licence, hallx, submission  # noqa: F401

pytestmark = pytest.mark.django_db

MON_10 = local(2026, 11, 23, 10, 0)  # a Monday, inside office hours


def accept_package(h, at=MON_10, **over):
    with clock.at(at):
        return hall.submit(submission(package=h.startup, **over), by=h.clerk)


def test_package_spawns_parallel_sub_cases_and_completes_only_when_all_are_decided(hallx):
    h = hallx
    app = accept_package(h)
    parent = app.case
    assert parent.state == "reviewing" and parent.unit == h.unit
    parts = list(app.parts.select_related("case", "item"))
    assert [p.item for p in parts] == [h.licence_item, h.seal_item, h.invoice_item]
    # one sub-case per item, each held by the item's department, all running at once (并联审批)
    # 一套材料: the 营业执照 the later items need comes from the first item, the applicant brings nothing;
    # the items' own application forms are replaced by the one merged form filled at the window
    assert app.checks.get(key="business_licence").state == MaterialState.PRODUCED
    assert app.checks.get(key="reg_form").state == MaterialState.PRESENT
    assert [(p.case.unit, p.case.state, p.case.parent_id) for p in parts] == [
        (h.market, "reviewing", parent.pk), (h.police, "reviewing", parent.pk), (h.tax, "reviewing", parent.pk)]
    with clock.at(MON_10 + dt.timedelta(hours=1)):
        hall.decide(parts[1].case, True, by=h.police_handler)
        hall.decide(parts[0].case, True, by=h.market_handler)
    parent.refresh_from_db()
    assert parent.state == "reviewing"  # one department still deciding
    with pytest.raises(hall.RuleError):
        hall.decide(parts[2].case, False, "", by=h.tax_handler)  # a refusal needs a reason
    with clock.at(MON_10 + dt.timedelta(hours=2)):
        hall.decide(parts[2].case, True, by=h.tax_handler)
    parent.refresh_from_db()
    assert parent.state == "approved" and parent.result == "approved"
    complete = parent.events.get(action="complete")
    assert complete.actor is None and complete.on_time is True
    # 统一窗口出件: the clerk hands over everything at once; the sub-cases close with it
    with clock.at(MON_10 + dt.timedelta(hours=3)):
        hall.issue(app, by=h.clerk)
    assert set(Case.objects.filter(parent=parent).values_list("state", flat=True)) == {"done"}
    parent.refresh_from_db()
    assert parent.state == "done"
    # the 营业执照 is now in the e-licence store, for a new enterprise with a valid USCC
    app.refresh_from_db()
    licence = Licence.objects.get(kind="营业执照", issued_by_case=parts[0].case)
    assert licence.enterprise == app.enterprise and licence.number == app.enterprise.uscc
    from stdnum.cn import uscc
    assert uscc.is_valid(licence.number) and app.enterprise.name == "青溪小明餐饮有限公司"
    assert app.form["uscc"] == licence.number  # the merged form's USCC, not asked at the window, is filled in now


def test_package_limit_is_half_a_working_day_while_items_keep_theirs(hallx):
    h = hallx
    app = accept_package(h)
    # office hours 09:00–12:00, 13:30–17:30 → a working day has 7 office hours; half is 3.5 h
    assert hall.office_hours_per_day() == 7
    assert app.case.due_at == local(2026, 11, 23, 15, 0)  # 10:00 + 2 h morning + 1.5 h afternoon
    dues = {p.item.code: p.case.due_at for p in app.parts.select_related("case", "item")}
    assert dues["M001"] == workdays.add_working_days(MON_10, 1) == local(2026, 11, 24, 23, 59, 59)
    assert dues["T001"] == local(2026, 11, 25, 23, 59, 59)
    # accepted late on a Friday afternoon, half a day runs into Monday morning
    late = accept_package(h, at=local(2026, 11, 27, 16, 30), id_number=ID_B, intake_key="fri")
    assert late.case.due_at == local(2026, 11, 30, 11, 30)


def test_deferred_material_accept_remind_supply(hallx):
    h = hallx
    with clock.at(MON_10):
        app = hall.submit(submission(item=h.licence_item, present={"id_card", "articles"}, deferred={"lease"},
                                     commitment="本人承诺3个工作日内补交租赁合同原件。", supplement_days=3), by=h.clerk)
    case = app.case
    assert case.state == "deferred" and case.unit == h.market
    assert app.checks.get(key="lease").state == MaterialState.DEFERRED
    assert app.supplement_due_at == local(2026, 11, 26, 23, 59, 59)
    assert case.events.get(action="accept_deferred").note.startswith("容缺受理，申请人承诺：本人承诺")
    reminders = list(app.reminders.all())
    assert [r.due_at for r in reminders] == [MON_10, workdays.warning_start(app.supplement_due_at)]
    # without the message service the reminder stays queued; with it, it is sent once
    from tongban.notify.models import Outbox
    with clock.at(MON_10 + dt.timedelta(minutes=5)):
        hall._notifier, saved = (lambda: None), hall._notifier
        try:
            assert hall.send_reminders() == (0, 1)
        finally:
            hall._notifier = saved
        assert Reminder.objects.get(pk=reminders[0].pk).outcome == "消息服务未启用，待发送"
        assert hall.send_reminders() == (1, 0)
        assert hall.send_reminders() == (0, 0)
    sms = Outbox.objects.get(template_code="supplement_reminder", channel="sms")
    assert sms.recipient == "13912345678" and sms.dedupe_key == f"supplement:{reminders[0].pk}" and sms.case_id == case.pk
    assert "住所使用证明（租赁合同）" in sms.body and "2026年11月26日 23:59" in sms.body and case.number in sms.body
    # the department may approve meanwhile, but the result waits for the material
    hall.decide(case, True, by=h.market_handler)
    with pytest.raises(hall.RuleError, match="容缺材料尚未补齐"):
        hall.issue(app, by=h.clerk)
    hall.supplement(app, ["lease"], by=h.clerk)
    case.refresh_from_db()
    assert case.state == "approved"
    assert app.reminders.filter(done=False).count() == 0
    hall.issue(app, by=h.clerk)
    case.refresh_from_db()
    assert case.state == "done"


def test_deferred_material_lapses_to_correction_then_terminates(hallx):
    h = hallx
    with clock.at(MON_10):
        app = hall.submit(submission(item=h.licence_item, present={"id_card", "articles"}, deferred={"lease"},
                                     commitment="承诺补交", supplement_days=1), by=h.clerk)
    with clock.at(local(2026, 11, 24, 20, 0)):
        assert hall.lapse_overdue() == 0  # not yet past the promised date
    with clock.at(local(2026, 11, 25, 9, 0)):
        assert hall.lapse_overdue() == 1
        assert hall.lapse_overdue() == 0  # once
    case = Case.objects.get(pk=app.case_id)
    assert case.state == "correction" and case.due_at is None and case.pause_reason == "容缺材料逾期未补齐"
    lapse = case.events.get(action="lapse")
    assert lapse.actor is None and "住所使用证明" in lapse.note
    with pytest.raises(TransitionError):
        hall.decide(case, True, by=h.market_handler)  # the clock is stopped in 补正
    with pytest.raises(hall.RuleError):
        hall.terminate(app, " ", by=h.clerk)
    hall.terminate(app, "申请人逾期未补交租赁合同，终止办理。", by=h.clerk)
    case.refresh_from_db()
    assert case.state == "terminated" and not case.is_open


def test_supplying_after_lapse_resumes_with_a_fresh_limit(hallx):
    h = hallx
    with clock.at(MON_10):
        app = hall.submit(submission(item=h.licence_item, present={"id_card", "articles"}, deferred={"lease"},
                                     commitment="承诺补交", supplement_days=1), by=h.clerk)
    with clock.at(local(2026, 11, 25, 9, 0)):
        hall.lapse_overdue()
    with clock.at(local(2026, 11, 26, 10, 0)):
        hall.supplement(app, ["lease"], by=h.clerk)
    case = Case.objects.get(pk=app.case_id)
    assert case.state == "reviewing" and case.due_at == local(2026, 11, 27, 23, 59, 59)


def test_missing_required_material_cannot_be_accepted(hallx):
    h = hallx
    with pytest.raises(hall.RuleError, match="公司章程"):
        hall.submit(submission(item=h.licence_item, present={"id_card", "lease"}, deferred={"articles"}, commitment="承诺",
                               supplement_days=2), by=h.clerk)
    assert not Application.objects.exists() and not Case.objects.exists()


def test_refusal_notice_pdf(hallx):
    h = hallx
    with clock.at(MON_10):
        app = hall.refuse(submission(item=h.seal_item, present=set()), "申请事项不属于本机关职权范围，请向户籍所在地公安机关申请。", by=h.clerk)
    case = app.case
    assert case.state == "refused" and not case.is_open and case.closed_at == MON_10
    assert case.events.get(action="refuse_window").note.startswith("申请事项不属于")
    data = pdf.refusal_pdf(app)
    assert data.startswith(b"%PDF") and _pdf_title(data) == f"不予受理通知书 {case.number}"
    text = _pdf_text(data)
    assert "不予受理通知书" in text and "不属于本机关职权范围" in text and case.number in text and "行政复议" in text
    with pytest.raises(ValidationError) as err:
        hall.refuse(submission(item=h.seal_item), "  ", by=h.clerk)
    assert "理由" in err.value.message_dict["reason"][0]


def _pdf_text(data: bytes) -> str:
    from io import BytesIO

    import pypdf
    return "".join(page.extract_text() for page in pypdf.PdfReader(BytesIO(data)).pages).replace("\n", "")


def _pdf_title(data: bytes) -> str:
    """The /Title of a reportlab PDF: a literal string of UTF-16 with octal escapes."""
    import re
    raw = re.search(rb"/Title \((.*?)\) /", data, re.S).group(1)
    raw = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), raw)
    raw = re.sub(rb"\\(.)", rb"\1", raw)
    return raw.decode("utf-16")


def test_receipt_pdf_has_a_qr_code_to_track(hallx, settings):
    settings.TONGBAN_PUBLIC_URL = "https://hall.example/"
    h = hallx
    app = accept_package(h)
    data = pdf.receipt_pdf(app)
    assert data.startswith(b"%PDF") and _pdf_title(data) == f"受理回执 {app.case.number}"
    text = _pdf_text(data)
    assert "受 理 回 执" in text and "企业设立登记（营业执照）" in text and "前序事项产出，无需提交" in text
    assert f"https://hall.example/p/track/?number={app.case.number}" in text
    assert b"/Subtype /Image" in data
    url = pdf.track_url(app)
    assert url == f"https://hall.example/p/track/?number={app.case.number}"
    # the QR code encodes exactly that URL
    import segno
    assert segno.make(url, error="m").designator and pdf._qr_png(url).startswith(b"\x89PNG")


def test_e_licence_satisfies_material_automatically_and_reuse_rate(hallx):
    h = hallx
    give_licence("居民身份证")
    give_licence("居民身份证", person_id=ID_B, number="expired", valid_to=dt.date(2021, 1, 1))
    with clock.at(MON_10):
        app = hall.submit(submission(item=h.licence_item, present={"articles", "lease"}), by=h.clerk)
        other = hall.submit(submission(item=h.licence_item, id_number=ID_B, present={"id_card", "articles", "lease"}), by=h.clerk)
    line = app.checks.get(key="id_card")
    assert line.state == MaterialState.LICENCE and line.licence.kind == "居民身份证"  # 电子证照免提交
    assert other.checks.get(key="id_card").state == MaterialState.PRESENT  # an expired licence does not count
    rate = hall.reuse_rate()
    assert rate == {"replaceable": 2, "by_licence": 1, "rate": 50.0}
    # without the licence the same material would have been missing
    preview = hall.preview(submission(item=h.licence_item, id_number=ID_B, present=set()))
    assert {ln.key: ln.state for ln in preview}["id_card"] == MaterialState.MISSING


def test_cross_region_flow(hallx):
    h = hallx
    with clock.at(MON_10):
        app = hall.submit(submission(item=h.seal_item, mode=Mode.PROXY, authority="浙江省杭州市上城区公安分局", region_name="浙江省杭州市",
                                     return_method="mail", delivery="mail", mail_address="青溪县滨河路8号"), by=h.clerk)
    case = app.case
    assert case.unit == h.unit and case.state == "reviewing"  # the hall holds it: the owner is elsewhere
    assert app.cross.authority == "浙江省杭州市上城区公安分局"
    hall.forward(app, "EMS1234567", by=h.clerk)
    app.refresh_from_db()
    assert app.case.state == "remote" and app.cross.forward_ref == "EMS1234567" and app.cross.forwarded_at
    with pytest.raises(AccessDenied):
        hall.remote_status(app, "已受理", by=h.police_handler)  # not the hall's
    hall.remote_status(app, "受理地已受理，正在审核", by=h.clerk)
    hall.remote_status(app, "审核通过，结果已寄出", by=h.clerk, result="approved")
    app.refresh_from_db()
    assert app.case.state == "approved" and app.cross.remote_status == "审核通过，结果已寄出"
    hall.issue(app, by=h.clerk, tracking="SF0001")
    app.refresh_from_db()
    assert app.case.state == "done" and app.cross.return_tracking == "SF0001"
    assert list(app.case.events.values_list("action", flat=True)) == [
        "create", "accept", "forward", "remote_update", "remote_result", "issue"]


def test_appointment_capacity_and_cancel(hallx):
    h = hallx
    day = dt.date(2026, 11, 24)
    assert hall.open_slots(h.unit, day, ["综合窗口"], capacity=2) == 14
    assert hall.open_slots(h.unit, day, ["综合窗口"], capacity=2) == 0
    assert hall.open_slots(h.unit, dt.date(2026, 11, 28), ["综合窗口"]) == 0  # Saturday
    slot = Slot.objects.get(hall=h.unit, day=day, start=dt.time(9))
    a = hall.book(slot, "李四", "13800001111", "企业开办")
    hall.book(slot, "王五", "13800002222")
    with pytest.raises(hall.RuleError, match="已约满"):
        hall.book(slot, "赵六", "13800003333")
    hall.cancel(a)
    hall.book(slot, "赵六", "13800003333")
    row = next(r for r in hall.day_slots(h.unit, day) if r["slot"].pk == slot.pk)
    assert (row["taken"], row["left"]) == (2, 0) and len(row["bookings"]) == 2
    assert Booking.objects.filter(slot=slot).count() == 3
    with pytest.raises(hall.RuleError):
        hall.book(slot, "钱七", "123")


def test_helper_acting_on_someones_behalf_is_recorded(hallx):
    h = hallx
    with pytest.raises(ValidationError) as err:
        hall.submit(submission(item=h.seal_item, helped=True, help_reason="elderly"), by=h.clerk)
    assert "同意" in err.value.message_dict["consent"][0]
    with clock.at(MON_10):
        app = hall.submit(submission(item=h.seal_item, helped=True, help_reason="elderly", consent=True,
                                     consent_note="申请人年逾八旬，其子在场，口头同意并签字"), by=h.clerk)
    assert (app.helper, app.get_help_reason_display(), app.consent) == (h.clerk, "老年人", True)
    assert app.case.events.get(action="accept").payload["helper"] == h.clerk.pk


def _done(h, item=None):
    with clock.at(MON_10):
        app = hall.submit(submission(item=item or h.seal_item), by=h.clerk)
        hall.decide(app.case, True, by=h.police_handler)
        hall.issue(app, by=h.clerk)
    return Application.objects.get(pk=app.pk)


def test_bad_rating_opens_rectification_with_deadline_and_callback(hallx):
    h = hallx
    app = _done(h)
    with pytest.raises(hall.RuleError):
        hall.rate(app, 2)  # a 差评 needs a reason
    with clock.at(MON_10 + dt.timedelta(hours=2)):
        ev = hall.rate(app, 2, ["等候时间长"], "排队一个多小时", channel="device")
    rc = ev.rectify_case
    assert rc.case_type.code == "hall_rectify" and rc.unit == h.police and rc.state == "rectifying" and rc.parent == app.case
    assert rc.due_at == workdays.add_working_days(MON_10 + dt.timedelta(hours=2), 5)
    with pytest.raises(hall.RuleError):
        hall.rate(app, 5)  # once
    with pytest.raises(AccessDenied):
        hall.rectified(rc, "已整改", by=h.tax_handler)
    hall.rectified(rc, "增设企业开办专窗，高峰期加派人员。", by=h.police_handler)
    rc.refresh_from_db()
    assert rc.state == "pending_callback"
    hall.rectify_callback(rc, False, "仍不满意", by=h.clerk)
    rc.refresh_from_db()
    assert rc.state == "rectifying" and rc.reopen_count == 1
    hall.rectified(rc, "推行预约错峰。", by=h.police_handler)
    hall.rectify_callback(rc, True, "满意", by=h.clerk)
    rc.refresh_from_db()
    assert rc.state == "closed"
    good = hall.rate(_done(h), 5, ["一次办成"])
    assert good.rectify_case is None
    stats = {r["name"]: r for r in hall.rating_stats()}
    assert stats["县公安局"]["n"] == 2 and stats["县公安局"]["bad"] == 1 and stats["县公安局"]["good_rate"] == 50.0


def test_data_scope_other_department_cannot_see_or_act(hallx):
    h = hallx
    app = accept_package(h)
    parts = {p.item.code: p.case for p in app.parts.select_related("case", "item")}
    visible = set(access.visible_cases(h.police_handler).values_list("pk", flat=True))
    assert visible == {parts["P001"].pk}  # only its own sub-case, not the package or the others
    assert set(access.visible_cases(h.clerk).values_list("pk", flat=True)) == {app.case_id, *[c.pk for c in parts.values()]}
    assert not access.visible_cases(h.county.handler).filter(pk__in=[c.pk for c in parts.values()]).exists()
    with pytest.raises(AccessDenied):
        hall.decide(parts["M001"], True, by=h.police_handler)
    with pytest.raises(AccessDenied):
        hall.decide(parts["M001"], True, by=h.clerk)  # the window does not approve
    with pytest.raises(AccessDenied):
        hall.submit(submission(item=h.seal_item), by=h.police_handler)  # only clerks accept at the window
    with pytest.raises(AccessDenied):
        hall.request_correction(parts["T001"], "请补正", by=h.police_handler)


def test_bad_input_gives_chinese_errors_and_writes_nothing(hallx):
    h = hallx
    bad = submission(package=h.startup, id_number="110101199003071234", form={"applicant_id": "123", "uscc": "91330100ABC", "phone": "12"},
                     applicant_kind="enterprise", enterprise_name="", uscc="913301000000000000")
    with pytest.raises(ValidationError) as err:
        hall.submit(bad, by=h.clerk)
    e = err.value.message_dict
    assert "身份证号码无效" in e["id_number"][0]
    assert "统一社会信用代码无效" in e["uscc"][0] and "企业名称" in e["enterprise_name"][0]
    assert "身份证" in e["f_applicant_id"][0] and "电话" in e["f_phone"][0]
    assert "请填写“企业名称”" in e["f_company_name"][0]
    assert "f_uscc" not in e  # in this package the 营业执照 issued by its first item assigns the USCC: nobody is asked
    alone = submission(item=h.invoice_item, form={"applicant_name": "王小明", "applicant_id": ID_A, "phone": "13912345678",
                                                  "uscc": "91330100ABC"})
    with pytest.raises(ValidationError) as err:
        hall.submit(alone, by=h.clerk)
    assert "统一社会信用代码" in err.value.message_dict["f_uscc"][0]  # applying for 发票申领 alone, it is asked
    assert not Case.objects.exists()


def test_intake_key_makes_a_double_submit_one_application(hallx):
    h = hallx
    a = accept_package(h, intake_key="k1")
    b = accept_package(h, intake_key="k1")
    assert a.pk == b.pk and Case.objects.filter(parent__isnull=True).count() == 1


def test_hotline_scope_unchanged_by_hall_cases(hallx, make_request):
    h = hallx
    accept_package(h)
    req = make_request()
    assert list(access.visible_cases(h.county.handler).values_list("pk", flat=True)) == []
    assert access.visible_cases(h.county.operator).filter(pk=req.pk).exists()


def test_licence_import_csv_and_xlsx_reports_bad_rows(hallx, tmp_path):
    from io import StringIO

    from django.core.management import call_command
    from openpyxl import Workbook

    from tongban.hall.licence_import import HEADER, import_licences
    csv_file = tmp_path / "l.csv"
    csv_file.write_text("\n".join([",".join(HEADER), f"居民身份证,{ID_A},王小明,{ID_A},示范市公安局,2020-01-01,",
                                   f"营业执照,{USCC_A},青溪示范有限公司,{USCC_A},县市场监督管理局,2024-05-01,长期",
                                   "居民身份证,X1,李四,110101199003071234,示范市公安局,2020-01-01,"]), encoding="utf-8-sig")
    r = import_licences(csv_file)
    assert (r.created, r.updated) == (2, 0) and len(r.errors) == 1 and r.errors[0].startswith("第4行：")
    assert Licence.objects.get(kind="营业执照").enterprise.uscc == USCC_A
    wb = Workbook()
    wb.active.append(HEADER)
    wb.active.append(["居民身份证", ID_A, "王小明", ID_A, "示范市公安局", dt.date(2020, 1, 1), dt.date(2040, 1, 1)])
    wb.save(tmp_path / "l.xlsx")
    out = StringIO()
    call_command("licences_import", str(tmp_path / "l.xlsx"), stdout=out)
    assert "更新 1 件" in out.getvalue() and Licence.objects.get(kind="居民身份证").valid_to == dt.date(2040, 1, 1)


def test_correction_asked_by_the_department_resumes_when_the_window_records_it(hallx):
    h = hallx
    with clock.at(MON_10):
        app = hall.submit(submission(item=h.seal_item), by=h.clerk)
    with clock.at(MON_10 + dt.timedelta(hours=1)):
        hall.request_correction(app.case, "营业执照复印件不清晰，请补正。", by=h.police_handler)
    case = Case.objects.get(pk=app.case_id)
    assert case.state == "correction" and case.paused_at
    with pytest.raises(hall.RuleError):
        hall.corrected(case, "", by=h.clerk)
    with pytest.raises(AccessDenied):
        hall.corrected(case, "已补正", by=h.police_handler)  # the applicant brings it to the window
    with clock.at(local(2026, 11, 25, 10, 0)):
        hall.corrected(case, "已提交清晰的营业执照复印件。", by=h.clerk)
    case.refresh_from_db()
    assert case.state == "reviewing" and case.due_at == local(2026, 11, 26, 23, 59, 59) and not case.paused_at


def test_package_supplied_after_every_part_was_decided_completes(hallx):
    h = hallx
    with clock.at(MON_10):
        app = hall.submit(submission(package=h.startup, present={"id_card", "articles"}, deferred={"lease"}, commitment="承诺补交",
                                     supplement_days=1), by=h.clerk)
    with clock.at(local(2026, 11, 25, 9, 0)):
        assert hall.lapse_overdue() == 1
        for part in app.parts.select_related("case", "item__unit"):
            hall.decide(part.case, True, by={h.market.pk: h.market_handler, h.police.pk: h.police_handler,
                                             h.tax.pk: h.tax_handler}[part.item.unit_id])
    assert Case.objects.get(pk=app.case_id).state == "correction"  # the package waits for the material
    with clock.at(local(2026, 11, 25, 10, 0)):
        hall.supplement(app, ["lease"], by=h.clerk)
    case = Case.objects.get(pk=app.case_id)
    assert case.state == "approved" and list(case.events.values_list("action", flat=True))[-2:] == ["supplement", "complete"]


def test_a_refusal_is_delivered_even_with_a_deferred_material_outstanding(hallx):
    h = hallx
    with clock.at(MON_10):
        app = hall.submit(submission(item=h.licence_item, present={"id_card", "articles"}, deferred={"lease"}, commitment="承诺补交",
                                     supplement_days=3), by=h.clerk)
        hall.decide(app.case, False, "名称与在先登记的企业名称相同。", by=h.market_handler)
        hall.issue(app, by=h.clerk)
    assert Case.objects.get(pk=app.case_id).state == "done" and not Licence.objects.exists()


def test_deferral_jobs_are_scheduled_and_run(hallx, settings):
    from tongban.hall.tasks import deferral_jobs
    assert settings.CELERY_BEAT_SCHEDULE["hall-deferral-jobs"]["task"] == deferral_jobs.name
    with clock.at(MON_10):
        app = hall.submit(submission(item=hallx.licence_item, present={"id_card", "articles"}, deferred={"lease"},
                                     commitment="承诺补交", supplement_days=1), by=hallx.clerk)
    with clock.at(local(2026, 11, 25, 9, 0)):  # the job did not run for two days: one reminder, not two
        assert deferral_jobs.delay().get() == {"sent": 1, "waiting": 0, "lapsed": 1}
    assert sorted(app.reminders.values_list("outcome", flat=True)) == ["已发送", "已由后一条提醒替代"]
