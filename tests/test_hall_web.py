"""Hall pages: the clerk accepts at the window, the department approves, the window issues, the
applicant rates; bad input keeps what was typed; the remote side reports through the API."""
import datetime as dt
import json
import re

import pytest
from django.urls import reverse

from tongban.cases.models import Case
from tongban.core import clock
from tongban.hall import services as hall
from tongban.hall.models import Application, Evaluation, Slot

from .conftest import local
from .hall_fixtures import ID_A, USCC_A, hallx, submission  # noqa: F401

pytestmark = pytest.mark.django_db
MON_10 = local(2026, 11, 23, 10, 0)


def form_for_package(h, **over):
    data = {"package": h.startup.pk, "applicant_kind": "person", "name": "王小明", "id_number": ID_A, "phone": "13912345678",
            "f_applicant_name": "王小明", "f_applicant_id": ID_A, "f_phone": "13912345678", "f_company_name": "青溪小明餐饮有限公司",
            "f_uscc": USCC_A, "m_id_card": "present", "m_articles": "present", "m_lease": "present", "m_business_licence": "present",
            "delivery": "window", "mode": "window", "step": "accept", "intake_key": "web-1"}
    data.update(over)
    return data


def test_clerk_accepts_a_package_department_approves_window_issues_applicant_rates(client, hallx, settings):
    h = hallx
    settings.SESSION_IDLE_SECONDS = 3 * 24 * 3600  # the test moves the clock by a day; not an idle session
    client.force_login(h.clerk)
    home = client.get(reverse("hall_home"), {"q": "企业开办"})
    assert home.status_code == 200 and "企业开办一件事" in home.content.decode() and "没有找到" not in home.content.decode()
    assert "没有找到“无此事项”" in client.get(reverse("hall_home"), {"q": "无此事项"}).content.decode()
    page = client.get(reverse("hall_new"), {"package": h.startup.pk})
    body = page.content.decode()
    assert page.status_code == 200 and "一表申请" in body and "公司章程" in body and "企业名称" in body
    assert body.count('name="f_applicant_id"') == 1  # asked once for three items
    early = local(2026, 11, 23, 7, 30)  # before office hours: still the day before in UTC
    with clock.at(early):
        resp = client.post(reverse("hall_new"), form_for_package(h))
    app = Application.objects.get()
    assert resp.status_code == 302 and resp.url == reverse("hall_application", args=[app.case.number])
    with clock.at(early + dt.timedelta(minutes=5)):  # counted on the local day
        assert "今日受理 1 件" in client.get(reverse("hall_home")).content.decode()
    assert app.case.number not in client.get(reverse("hall_review")).content.decode()  # the package is not a department's to decide
    detail = client.get(resp.url).content.decode()
    assert "并联审批（3 个部门同时办理）" in detail and "受理回执（PDF）" in detail
    pdf = client.get(reverse("hall_receipt", args=[app.case.number]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    # the departments approve on their own pages (后台分类审批)
    for part in app.parts.select_related("case"):
        handler = {h.market.pk: h.market_handler, h.police.pk: h.police_handler, h.tax.pk: h.tax_handler}[part.case.unit_id]
        client.force_login(handler)
        review = client.get(reverse("hall_review")).content.decode()
        assert part.case.number in review
        assert client.post(reverse("hall_act", args=[part.case.number, "approve"]), {"note": "同意"}).status_code == 302
    client.force_login(h.clerk)
    client.post(reverse("hall_act", args=[app.case.number, "issue"]))
    app.case.refresh_from_db()
    assert app.case.state == "done"
    detail = client.get(reverse("hall_application", args=[app.case.number])).content.decode()
    assert re.search(r"/hall/rate/([^/]+)/", detail)  # for the window's evaluation device
    # the applicant is invited by SMS; the link in it is the one used below
    from tongban.notify.models import Outbox

    sms = Outbox.objects.get(template_code="hall_rate_invite", channel="sms")
    assert sms.recipient == app.case.requester_phone and "企业开办一件事" in sms.body and app.case.number in sms.body
    token = re.search(r"/hall/rate/([^/\s]+)/", sms.body).group(1)
    client.logout()
    bad = client.post(reverse("hall_rate", args=[token]), {"level": "1", "comment": ""})
    assert bad.status_code == 400 and "原因" in bad.content.decode()
    ok = client.post(reverse("hall_rate", args=[token]) + "?device=1", {"level": "1", "reasons": ["等候时间长"]})
    assert ok.status_code == 200 and "整改" in ok.content.decode()
    ev = Evaluation.objects.get()
    assert ev.channel == "device" and ev.rectify_case.unit == h.unit  # a package's 差评 goes to the hall itself
    assert client.get(reverse("hall_rate", args=["forged"])).status_code == 404


def test_bad_id_and_uscc_keep_what_was_typed(client, hallx):
    h = hallx
    client.force_login(h.clerk)
    resp = client.post(reverse("hall_new"), form_for_package(h, id_number="110101199003071234", applicant_kind="enterprise",
                                                             enterprise_name="青溪小明餐饮有限公司", uscc="91330100ABCDEFGH12",
                                                             f_company_name="", name="王小明"))
    body = resp.content.decode()
    assert resp.status_code == 400
    assert "身份证号码无效" in body and "统一社会信用代码无效" in body and "请填写“企业名称”" in body
    assert 'value="110101199003071234"' in body and 'value="91330100ABCDEFGH12"' in body and 'value="王小明"' in body
    assert not Case.objects.exists()


def test_refusal_at_the_window_prints_the_notice(client, hallx):
    h = hallx
    client.force_login(h.clerk)
    resp = client.post(reverse("hall_new"), {"item": h.seal_item.pk, "name": "王小明", "id_number": ID_A, "phone": "13912345678",
                                             "step": "refuse", "reason": "不属于本机关职权范围"})
    app = Application.objects.get()
    assert resp.status_code == 302 and app.case.state == "refused"
    notice = client.get(reverse("hall_refusal", args=[app.case.number]))
    assert notice.status_code == 200 and notice.content.startswith(b"%PDF")
    assert client.get(reverse("hall_receipt", args=[app.case.number])).status_code == 404


def test_checklist_shows_e_licence_when_the_id_is_typed(client, hallx):
    from .hall_fixtures import give_licence
    h = hallx
    give_licence("居民身份证")
    client.force_login(h.clerk)
    resp = client.post(reverse("hall_checklist"), {"item": h.licence_item.pk, "id_number": ID_A})
    assert "电子证照免提交" in resp.content.decode()


def test_other_department_gets_404_and_cannot_act(client, hallx):
    h = hallx
    with clock.at(MON_10):
        app = hall.submit(submission(package=h.startup), by=h.clerk)
    market_case = app.parts.get(item=h.licence_item).case
    client.force_login(h.police_handler)
    assert client.get(reverse("hall_application", args=[market_case.number])).status_code == 404
    assert client.get(reverse("hall_application", args=[app.case.number])).status_code == 404
    assert client.post(reverse("hall_act", args=[market_case.number, "approve"])).status_code == 404
    market_case.refresh_from_db()
    assert market_case.state == "reviewing"


def test_appointments_day_view_books_to_capacity(client, hallx):
    h = hallx
    client.force_login(h.clerk)
    day = "2026-11-24"
    client.post(reverse("hall_appointments") + f"?day={day}", {"open": "1"})
    slot = Slot.objects.filter(hall=h.unit, window_group="综合窗口").order_by("start").first()
    for i in range(slot.capacity + 1):
        client.post(reverse("hall_appointments") + f"?day={day}", {"slot": slot.pk, "name": f"预约人{i}", "phone": f"1380000{i:04d}"})
    assert slot.bookings.count() == slot.capacity
    page = client.get(reverse("hall_appointments"), {"day": day}).content.decode()
    assert "预约人0" in page and f"0/{slot.capacity}" in page


def test_remote_status_api_with_a_token(client, hallx):
    from tongban.api.models import ApiToken
    h = hallx
    with clock.at(MON_10):
        app = hall.submit(submission(item=h.seal_item, mode="proxy", authority="杭州市上城区公安分局", region_name="浙江省杭州市"), by=h.clerk)
        hall.forward(app, by=h.clerk)
    url = reverse("hall_remote_status_api", args=[app.case.number])
    assert client.post(url, "{}", content_type="application/json").status_code == 401
    _, token = ApiToken.issue(h.clerk, "受理地对接")
    _, other = ApiToken.issue(h.market_handler, "x")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    r = client.post(url, json.dumps({"status": "受理地已受理"}), content_type="application/json", **auth)
    assert r.status_code == 200 and r.json()["state"] == "remote" and r.json()["remote_status"] == "受理地已受理"
    assert client.post(url, json.dumps({"status": "x"}), content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 404
    r = client.post(url, json.dumps({"status": "已办结", "result": "approved"}), content_type="application/json", **auth)
    assert r.json()["state"] == "approved"
    assert client.post(url, "not json", content_type="application/json", **auth).status_code == 400


def test_hall_pages_render_for_their_roles(client, hallx):
    h = hallx
    client.force_login(h.clerk)
    for name in ("hall_home", "hall_licences", "hall_stats", "hall_appointments", "hall_review"):
        assert client.get(reverse(name)).status_code == 200, name
    client.force_login(h.market_handler)
    assert client.get(reverse("hall_home")).url == reverse("hall_review")
    assert client.get(reverse("hall_new"), {"item": h.seal_item.pk}).status_code == 403
