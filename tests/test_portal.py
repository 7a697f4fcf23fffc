"""群众门户 /p/: submit without logging in (bad input, photos, receipt, double submit, honeypot, rate
limits), track with an SMS code (wrong, expired, too many tries, too often), public timeline,
rating as the 回访, 适老化 mode; and at 390 px in Chromium, submit → track."""
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections

from tongban.cases.models import Case
from tongban.core import clock
from tongban.hotline import services as hotline
from tongban.notify.models import Outbox
from tongban.portal import doorplates
from tongban.portal.models import PortalRequest

from .browser_support import SHOTS, browser, new_page, shot  # noqa: F401  (browser is a fixture)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def fresh(settings, tmp_path):
    cache.clear()  # rate-limit counters
    settings.NOTIFY_SMS_FILE = str(tmp_path / "sms.log")
    settings.TONGBAN_PUBLIC_URL = "https://12345.example.gov.cn"
    yield
    cache.clear()


def form_key(page: str) -> str:
    return re.search(r'name="key" value="([^"]+)"', page).group(1)


def good(county, **extra) -> dict:
    data = {"case_type": county.complaint.pk, "title": "路灯不亮", "content": "柳泉镇桃园村三组路口的路灯坏了两周，晚上看不见路。",
            "requester_name": "王女士", "requester_phone": "13912345678", "address": "柳泉镇桃园村三组路口",
            "latitude": "36.512345", "longitude": "116.987654", "key": "k-" + os.urandom(4).hex()}
    data.update(extra)
    return data


def code_sent_to(phone: str) -> str:
    row = Outbox.objects.filter(template_code="verify_code", recipient=phone).order_by("-id").first()
    return re.search(r"验证码(\d{6})", row.body).group(1)


pytestmark = pytest.mark.django_db


def test_the_form_is_in_chinese_and_needs_no_login(county, client):
    page = client.get("/p/").content.decode()
    assert "我要反映" in page and "投诉" in page and "咨询" in page and 'name="website"' in page
    assert "长辈版" in page


def test_bad_input_is_explained_in_chinese_and_nothing_typed_is_lost(county, client):
    response = client.post("/p/", good(county, content="坏", requester_phone="1234", latitude="999", case_type=""))
    page = response.content.decode()
    assert response.status_code == 400
    assert "请选择诉求类型" in page and "至少5个字" in page and "请填写11位手机号" in page and "定位数据无效" in page
    assert "柳泉镇桃园村三组路口" in page and "王女士" in page and 'value="1234"' in page
    assert not Case.objects.exists()


def test_submit_creates_the_case_with_photos_location_and_a_receipt(county, client):
    photos = [SimpleUploadedFile("a.png", PNG, "image/png"), SimpleUploadedFile("b.jpg", JPEG, "image/jpeg")]
    response = client.post("/p/", good(county, photos=photos))
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/p/r/{case.number}/"
    assert (case.channel, case.created_by, case.state, case.requester_phone) == ("h5", None, "pending_dispatch", "13912345678")
    assert case.region == county.village  # jurisdiction from the address
    assert str(case.latitude) == "36.512345" and str(case.longitude) == "116.987654"
    assert case.attachments.count() == 2 and {a.content_type for a in case.attachments.all()} == {"image/png", "image/jpeg"}
    assert PortalRequest.objects.get(case=case).door_plate is None
    receipt = client.get(response["Location"]).content.decode()
    assert case.number in receipt and "受理回执" in receipt and "139****5678" in receipt and "打印回执" in receipt
    assert f"https://12345.example.gov.cn/p/track/?number={case.number}" in receipt and "<svg" in receipt
    # the receipt shows personal data: another browser is sent to verify first
    client.cookies.clear()
    other = client.get(f"/p/r/{case.number}/")
    assert other.status_code == 302 and other["Location"] == f"/p/track/?number={case.number}"
    # 受理回执 by SMS
    assert Outbox.objects.filter(case=case, template_code="received", recipient="13912345678").exists()



def test_the_requester_sees_their_own_photos_and_nobody_else_does(county, client):
    photos = [SimpleUploadedFile("a.png", PNG, "image/png"), SimpleUploadedFile("b.jpg", JPEG, "image/jpeg")]
    client.post("/p/", good(county, photos=photos))
    case = Case.objects.get()
    own = list(case.attachments.order_by("id"))
    page = client.get(f"/p/track/?number={case.number}").content.decode()  # the submitting browser is verified
    assert "您上传的照片（2 张）" in page and all(f"/p/track/{case.number}/photo/{a.pk}" in page for a in own)
    answer = client.get(f"/p/track/{case.number}/photo/{own[0].pk}")
    assert answer.status_code == 200 and answer["Content-Type"] == "image/png" and b"".join(answer.streaming_content) == PNG
    assert answer["X-Content-Type-Options"] == "nosniff" and "sandbox" in answer["Content-Security-Policy"]
    # a staff upload on the same case is not shown on the portal
    from tongban.cases import attachments

    staff = attachments.attach(case, SimpleUploadedFile("site.png", PNG, "image/png"), by=county.handler)
    assert client.get(f"/p/track/{case.number}/photo/{staff.pk}").status_code == 404
    assert f"/photo/{staff.pk}" not in client.get(f"/p/track/?number={case.number}").content.decode()
    # another browser, not verified
    client.cookies.clear()
    assert client.get(f"/p/track/{case.number}/photo/{own[0].pk}").status_code == 404


@pytest.mark.parametrize("files, message", [
    ([("a.png", PNG)] * 4, "最多上传 3 张照片"),
    ([("virus.jpg", b"MZ\x90\x00 not an image")], "virus.jpg"),
    ([("scan.pdf", PDF)], "不是照片"),
    ([("empty.png", b"")], None),  # an empty file field is simply no photo
])
def test_photos_are_checked_before_anything_is_created(county, client, files, message):
    uploads = [SimpleUploadedFile(name, data) for name, data in files]
    response = client.post("/p/", good(county, photos=uploads))
    if message is None:
        assert response.status_code == 302 and Case.objects.get().attachments.count() == 0
        return
    assert response.status_code == 400 and message in response.content.decode()
    assert "如需附照片，请重新选择" in response.content.decode()
    assert not Case.objects.exists()


def test_a_double_submission_creates_one_case(county, client):
    data = good(county, key="same-key-123")
    first = client.post("/p/", data)
    second = client.post("/p/", data)
    assert Case.objects.count() == 1 and first["Location"] == second["Location"]


def test_the_honeypot_catches_bots(county, client):
    response = client.post("/p/", good(county, website="http://spam.example"))
    assert response.status_code == 400 and "提交未成功" in response.content.decode()
    assert not Case.objects.exists()


def test_submissions_are_rate_limited_per_phone_and_per_ip(county, client, settings):
    settings.PORTAL_LIMITS = {"submit_phone": (2, 3600), "submit_ip": (4, 3600)}  # every attempt counts per IP
    assert client.post("/p/", good(county)).status_code == 302
    assert client.post("/p/", good(county)).status_code == 302
    third = client.post("/p/", good(county))
    assert third.status_code == 400 and "该手机号提交过于频繁" in third.content.decode()
    assert client.post("/p/", good(county, requester_phone="13700001111")).status_code == 302
    fifth = client.post("/p/", good(county, requester_phone="13700002222"))
    assert "提交过于频繁" in fifth.content.decode()
    assert Case.objects.count() == 3


def request_code(client, number, phone="13812341234"):
    return client.post("/p/track/", {"number": number, "phone": phone, "action": "send"})


def test_tracking_needs_the_code_sent_to_the_requesters_phone(county, make_request, client, settings):
    settings.DEBUG = True
    case = make_request()
    page = client.get(f"/p/track/?number={case.number}").content.decode()
    assert case.number in page and "获取短信验证码" in page and case.title not in page
    sent = request_code(client, case.number).content.decode()
    assert "验证码已发送到 138****1234" in sent and "短信日志" in sent  # DEBUG hint: the code is in the SMS log
    code = code_sent_to("13812341234")
    wrong = "000000" if code != "000000" else "111111"
    bad = client.post("/p/track/", {"number": case.number, "phone": "13812341234", "code": wrong, "action": "verify"})
    assert bad.status_code == 400 and "验证码不正确，还可以再试 4 次" in bad.content.decode()
    ok = client.post("/p/track/", {"number": case.number, "phone": "13812341234", "code": code, "action": "verify"})
    assert ok.status_code == 302
    page = client.get(ok["Location"]).content.decode()
    assert case.title in page and "已受理，等待派单" in page and "您的诉求已受理" in page
    # a used code does not work twice
    again = client.post("/p/track/", {"number": case.number, "phone": "13812341234", "code": code, "action": "verify"})
    assert "请先获取验证码" in again.content.decode()


def test_a_wrong_phone_gets_the_same_answer_and_no_sms(county, make_request, client):
    case = make_request()
    response = request_code(client, case.number, phone="13900000000")
    assert "如果编号与手机号相符，验证码已发送" in response.content.decode()
    assert not Outbox.objects.filter(template_code="verify_code").exists()


def test_codes_expire_and_die_after_five_wrong_tries(county, make_request, client):
    case = make_request()
    request_code(client, case.number)
    code = code_sent_to("13812341234")
    with clock.at(clock.now() + timedelta(minutes=11)):
        late = client.post("/p/track/", {"number": case.number, "phone": "13812341234", "code": code, "action": "verify"})
    assert "验证码已过期" in late.content.decode()
    cache.clear()
    request_code(client, case.number)
    code = code_sent_to("13812341234")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        last = client.post("/p/track/", {"number": case.number, "phone": "13812341234", "code": wrong, "action": "verify"})
    assert "错误次数过多" in last.content.decode()
    dead = client.post("/p/track/", {"number": case.number, "phone": "13812341234", "code": code, "action": "verify"})
    assert "错误次数过多" in dead.content.decode() and dead.status_code == 400


def test_codes_are_rate_limited(county, make_request, client, settings):
    settings.PORTAL_LIMITS = {"code_phone": (2, 3600)}
    case = make_request()
    request_code(client, case.number)
    too_soon = request_code(client, case.number)
    assert "请 1 分钟后再重新获取" in too_soon.content.decode()
    assert Outbox.objects.filter(template_code="verify_code").count() == 1
    def a_minute_later():  # the gap counter's window is real cache time
        cache.delete("portal:limit:code_gap:13812341234")

    a_minute_later()
    request_code(client, case.number)
    a_minute_later()
    third = request_code(client, case.number)
    assert "获取验证码次数过多" in third.content.decode()
    assert Outbox.objects.filter(template_code="verify_code").count() == 2


def verified(client, case):
    request_code(client, case.number, case.requester_phone)
    code = code_sent_to(case.requester_phone)
    client.post("/p/track/", {"number": case.number, "phone": case.requester_phone, "code": code, "action": "verify"})
    cache.clear()


def test_the_public_timeline_names_units_not_people_and_the_citizen_rates(county, make_request, client):
    case = make_request()
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    hotline.sign(case, by=county.handler)
    hotline.add_progress(case, "已联系王师傅（13800001111）明天上门", by=county.handler)
    hotline.finish(case, "已更换路灯灯具，恢复照明。", "solved", by=county.handler)
    verified(client, case)
    page = client.get(f"/p/track/?number={case.number}").content.decode()
    assert "已转交县住房和城乡建设局办理" in page and "县住房和城乡建设局已接单" in page and "已更换路灯灯具" in page
    assert "已办结，请您评价" in page and "请评价办理结果" in page
    for secret in (county.handler.display_name, county.dispatcher.display_name, "王师傅", "13800001111"):
        assert secret not in page
    missing = client.post("/p/track/rate/", {"number": case.number, "satisfaction": "satisfied"})
    assert missing.status_code == 400 and "请选择问题是否已解决" in missing.content.decode()
    client.post("/p/track/rate/", {"number": case.number, "satisfaction": "unsatisfied", "solved": "0", "note": "灯还是不亮"})
    case.refresh_from_db()
    assert (case.state, case.reopen_count, case.satisfaction) == ("handling", 1, "unsatisfied")  # 重办
    event = case.events.get(action="callback")
    assert event.actor is None and event.solved is False and "灯还是不亮" in event.note
    page = client.get(f"/p/track/?number={case.number}").content.decode()
    assert "已退回承办单位重新办理" in page and "请评价办理结果" not in page
    late = client.post("/p/track/rate/", {"number": case.number, "satisfaction": "satisfied", "solved": "1"})
    assert "该诉求当前不需要评价" in late.content.decode()


def test_rating_needs_verification(county, make_request, client):
    case = make_request()
    response = client.post("/p/track/rate/", {"number": case.number, "satisfaction": "satisfied", "solved": "1"})
    assert response.status_code == 302 and "/p/track/" in response["Location"]


def test_elder_mode_is_a_cookie_with_fewer_fields(county, client):
    response = client.get("/p/elder/?on=1&next=/p/")
    assert response.status_code == 302 and response["Location"] == "/p/" and response.cookies["tb_elder"].value == "1"
    page = client.get("/p/").content.decode()
    assert 'class="elder"' in page and 'name="title"' not in page and 'name="photos"' not in page and "标准版" in page
    data = good(county, title="")
    data.pop("requester_name")
    assert client.post("/p/", data).status_code == 302
    case = Case.objects.get()
    assert case.title.startswith("柳泉镇桃园村三组路口的路灯") and case.portal.elder_mode
    off = client.get("/p/elder/?next=https://evil.example/")
    assert off["Location"] == "/p/" and off.cookies["tb_elder"].value == ""


# ------------------------------------------------------------------------------ in Chromium

@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_submit_then_track_on_a_phone(browser, county, live_server, settings):
    SHOTS.mkdir(parents=True, exist_ok=True)
    photo = SHOTS / "photo.png"
    photo.write_bytes(PNG)
    page = new_page(browser, 390)
    page.goto(f"{live_server.url}/p/")
    page.click(".types div[id] label:has-text('投诉')")
    page.fill("textarea[name=content]", "短")
    page.fill("input[name=requester_phone]", "13912345678")
    page.click("button:has-text('提交')")
    assert "至少5个字" in page.inner_text(".card")
    page.fill("textarea[name=content]", "桃园村三组路口的路灯坏了两周，晚上老人出门看不见路，请尽快修理。")
    page.fill("input[name=address]", "柳泉镇桃园村三组路口")
    page.set_input_files("input[name=photos]", str(photo))
    shot(page, "portal-01-submit")
    page.click("button:has-text('提交')")
    page.wait_for_selector("[data-number]")
    number = page.inner_text("[data-number]")
    case = Case.objects.get(number=number)
    assert case.attachments.count() == 1 and case.channel == "h5" and case.case_type == county.complaint
    shot(page, "portal-02-receipt")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling

    # a new phone: track with the code from the SMS log
    page = new_page(browser, 390)
    page.goto(f"{live_server.url}/p/track/?number={number}")
    page.fill("input[name=phone]", "13912345678")
    page.click("button:has-text('获取短信验证码')")
    page.wait_for_selector("input[name=code]")
    code = re.search(r"验证码(\d{6})", Path(settings.NOTIFY_SMS_FILE).read_text(encoding="utf-8")).group(1)
    page.fill("input[name=code]", code)
    shot(page, "portal-03-code")
    page.click("button:has-text('查询')")
    page.wait_for_selector("[data-state]")
    assert page.inner_text("[data-state]") == "已受理，等待派单"
    shot(page, "portal-04-track")

    # a door plate's QR code opens the form with the address filled in
    plate, = doorplates.create_plates(county.village, doorplates.numbered(county.village, 1, street="三组"))[0]
    page.goto(f"{live_server.url}/p/d/{plate.token}")
    assert "青溪县柳泉镇桃园村三组1号" in page.inner_text(".plate-box")
    shot(page, "portal-06-doorplate")

    # 适老化
    with page.expect_navigation():
        page.click("text=长辈版")
    page.goto(f"{live_server.url}/p/")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "22px"
    shot(page, "portal-05-elder")
    connections.close_all()  # the queries above ran beside Playwright's event loop, on their own connection
