"""消息通知: templates, the outbox (dedupe, retries, nothing lost, nothing twice), the hotline hooks,
the administrator's pages and the staff inbox."""
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from tongban.cases.models import Case
from tongban.core import clock
from tongban.hotline import services as hotline
from tongban.notify import services
from tongban.notify.models import Message, Outbox, Status, Template

pytestmark = pytest.mark.django_db


@pytest.fixture
def sms_file(settings, tmp_path):
    settings.NOTIFY_SMS_BACKEND = "file"
    settings.NOTIFY_SMS_FILE = str(tmp_path / "sms.log")
    settings.NOTIFY_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TONGBAN_PUBLIC_URL = "https://12345.example.gov.cn"
    return tmp_path / "sms.log"


def sms_lines(path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


class Gateway:
    """A local SMS gateway: answers with the queued status codes (then 200), records every POST."""

    def __init__(self):
        self.statuses: list[int] = []
        self.received: list[dict] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.received.append({"body": body, "auth": self.headers.get("Authorization")})
                status = gateway.statuses.pop(0) if gateway.statuses else 200
                if status == "slow":  # answers only after the client has given up
                    time.sleep(1.5)
                    status = 200
                answer = json.dumps({"id": f"gw-{len(gateway.received)}"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway(settings):
    gw = Gateway()
    settings.NOTIFY_SMS_BACKEND = "http"
    settings.NOTIFY_SMS_GATEWAY_URL = gw.url
    settings.NOTIFY_SMS_GATEWAY_TOKEN = "secret-token"
    settings.NOTIFY_SMS_GATEWAY_TIMEOUT = 1
    yield gw
    gw.close()


def test_default_templates_exist_for_every_code_in_chinese():
    codes = set(Template.objects.values_list("code", flat=True))
    assert {"received", "finished", "callback_invite", "extended", "supplement_reminder", "verify_code"} <= codes
    assert Template.objects.get(code="received", channel="sms").name == "受理回执"
    assert Template.objects.get(code="supplement_reminder", channel="sms").name == "容缺补件提醒"


def test_render_fills_placeholders_and_refuses_attribute_access():
    assert services.render("编号{number}，{missing}。", {"number": "123"}) == "编号123，。"
    assert services.render("{number.__class__}", {"number": "1"}) == "{number.__class__}"


def test_intake_sends_a_receipt_by_sms_after_commit(county, make_request, sms_file, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = make_request()
        row = Outbox.objects.get(case=case)
        assert row.status == Status.PENDING and not sms_lines(sms_file)  # nothing leaves before commit
    row.refresh_from_db()
    assert (row.template_code, row.channel, row.recipient, row.status) == ("received", "sms", "13812341234", Status.SENT)
    assert case.number in row.body and "https://12345.example.gov.cn/p/track/?number=" + case.number in row.body
    [line] = sms_lines(sms_file)
    assert "13812341234" in line and "已受理" in line


def test_nothing_is_sent_when_the_callers_transaction_rolls_back(county, make_request, sms_file, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            make_request()
            raise RuntimeError("intake failed later")
    assert not Outbox.objects.exists() and not sms_lines(sms_file)
    assert not callbacks


def test_finish_sends_the_result_and_the_invitation_to_rate(county, make_request, sms_file, django_capture_on_commit_callbacks):
    case = make_request()
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    hotline.sign(case, by=county.handler)
    with django_capture_on_commit_callbacks(execute=True):
        hotline.finish(case, "已更换路灯灯具，恢复照明。", "solved", by=county.handler)
    finished = Outbox.objects.get(case=case, template_code="finished")
    invite = Outbox.objects.get(case=case, template_code="callback_invite")
    assert "已更换路灯灯具" in finished.body and county.housing.name in finished.body
    assert "#rate" in invite.body
    assert finished.status == invite.status == Status.SENT
    # an unreached call-back keeps the case waiting: no second invitation
    hotline.callback(case, reached=False, by=county.operator)
    assert Outbox.objects.filter(case=case, template_code="callback_invite").count() == 1


def test_approved_extension_tells_the_requester_and_the_staff_who_asked(county, make_request, sms_file,
                                                                         django_capture_on_commit_callbacks):
    case = make_request()
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    hotline.sign(case, by=county.handler)
    hotline.request_extension(case, 3, "需协调供电部门更换变压器", by=county.handler)
    hotline.decide_extension(case, False, by=county.supervisor, note="理由不足")
    assert not Outbox.objects.filter(template_code="extended").exists()  # a denied extension is not news
    hotline.request_extension(case, 3, "需协调供电部门更换变压器", by=county.handler)
    with django_capture_on_commit_callbacks(execute=True):
        hotline.decide_extension(case, True, by=county.supervisor)
    sms = Outbox.objects.get(template_code="extended", channel="sms")
    site = Outbox.objects.get(template_code="extended", channel="site")
    assert "延长至" in sms.body and sms.recipient == "13812341234"
    message = Message.objects.get(user=county.handler)
    assert site.status == Status.SENT and message.case_id == case.pk and "延期" in message.title


def test_events_replayed_with_a_backdated_clock_notify_nobody(county, make_request, sms_file):
    make_request(at=clock.now() - timedelta(days=3))
    assert not Outbox.objects.exists()


def test_landline_requesters_get_no_sms(county, make_request, sms_file):
    make_request(requester_phone="0531-88886666")
    assert not Outbox.objects.exists()


def test_a_dedupe_key_means_never_twice(county, sms_file, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.notify("verify_code", phone="13900001111", context={"code": "123456", "minutes": 10}, dedupe_key="k1")
        again = services.notify("verify_code", phone="13900001111", context={"code": "999999", "minutes": 10}, dedupe_key="k1")
    assert [r.pk for r in first] == [r.pk for r in again]
    assert Outbox.objects.count() == 1
    # delivering an already-sent row again sends nothing
    assert services.deliver(first[0].pk) == Status.SENT
    assert services.flush() == {}
    [line] = sms_lines(sms_file)
    assert "123456" in line


def test_one_call_reaches_every_channel_given(county, sms_file, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        rows = services.notify("supplement_reminder", phone="13900001111", email="li@example.cn", user=county.handler,
                               context={"number": "HALL-1", "matter": "个体工商户登记", "materials": "租赁合同", "deadline": "12月5日"})
    assert sorted(r.channel for r in rows) == ["email", "site", "sms"]
    assert all(Outbox.objects.get(pk=r.pk).status == Status.SENT for r in rows)
    assert mailoutbox[0].to == ["li@example.cn"] and "租赁合同" in mailoutbox[0].body
    assert Message.objects.get(user=county.handler).body.endswith("租赁合同")


def test_disabled_channel_is_skipped_and_unknown_code_is_an_error(county, sms_file):
    Template.objects.filter(code="received", channel="sms").update(active=False)
    assert services.notify("received", phone="13900001111", context={"number": "1"}) == []
    with pytest.raises(ValueError):
        services.notify("no_such_template", phone="13900001111")


def test_gateway_down_nothing_lost_then_sent_exactly_once(county, gateway, settings, django_capture_on_commit_callbacks):
    settings.NOTIFY_RETRY_BASE_SECONDS = 60
    gateway.statuses = [503, "slow"]
    with django_capture_on_commit_callbacks(execute=True):
        [row] = services.notify("verify_code", phone="13900001111", context={"code": "246810", "minutes": 10}, dedupe_key="gw")
    row.refresh_from_db()
    assert row.status == Status.PENDING and row.attempts == 1 and "503" in row.last_error
    # not due yet: the retry job leaves it alone
    assert services.flush() == {}
    first_retry = row.next_attempt_at
    with clock.at(first_retry + timedelta(seconds=1)):
        assert services.flush() == {Status.PENDING: 1}  # timed out: the backoff doubles
    row.refresh_from_db()
    assert "不可达" in row.last_error
    assert row.attempts == 2 and row.next_attempt_at - first_retry >= timedelta(seconds=120)
    with clock.at(row.next_attempt_at + timedelta(seconds=1)):
        assert services.flush() == {Status.SENT: 1}
        assert services.flush() == {}
    row.refresh_from_db()
    assert row.status == Status.SENT and row.provider_id == "gw-3"
    assert len(gateway.received) == 3
    # every attempt carries the same id, so the gateway itself can drop a duplicate
    assert {r["body"]["id"] for r in gateway.received} == {f"tongban-{row.pk}"}
    assert gateway.received[-1]["auth"] == "Bearer secret-token" and "246810" in gateway.received[-1]["body"]["content"]


def test_unreachable_gateway_is_retried_until_given_up_then_retried_by_hand(county, settings, admin_client_for,
                                                                            django_capture_on_commit_callbacks):
    settings.NOTIFY_SMS_BACKEND = "http"
    settings.NOTIFY_SMS_GATEWAY_URL = "http://127.0.0.1:9/sms"  # discard port: connection refused
    settings.NOTIFY_SMS_GATEWAY_TIMEOUT = 0.5
    settings.NOTIFY_MAX_ATTEMPTS = 2
    [row] = services.notify("verify_code", phone="13900001111", context={"code": "1", "minutes": 1})
    assert services.deliver(row.pk) == Status.PENDING
    row.refresh_from_db()
    assert "不可达" in row.last_error
    with clock.at(row.next_attempt_at):
        assert services.deliver(row.pk) == Status.FAILED
    client = admin_client_for(county.admin)
    page = client.get("/notify/outbox/?status=failed")
    assert "发送失败" in page.content.decode() and "139****1111" in page.content.decode()
    settings.NOTIFY_SMS_BACKEND = "console"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/notify/outbox/{row.pk}/retry/")
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 1


def test_a_worker_that_died_mid_send_loses_its_claim_after_the_lease(county, sms_file, settings):
    settings.NOTIFY_SEND_LEASE_SECONDS = 120
    [row] = services.notify("verify_code", phone="13900001111", context={"code": "1", "minutes": 1})
    Outbox.objects.filter(pk=row.pk).update(status=Status.SENDING, next_attempt_at=clock.now() + timedelta(seconds=120))
    assert services.deliver(row.pk) == Status.SENDING  # another worker holds it: not sent twice
    assert not sms_lines(sms_file)
    with clock.at(clock.now() + timedelta(seconds=121)):
        assert services.flush() == {Status.SENT: 1}
    assert len(sms_lines(sms_file)) == 1


def test_a_delayed_invitation_is_cancelled_when_the_case_was_rated_meanwhile(county, make_request, sms_file, settings):
    settings.NOTIFY_CALLBACK_INVITE_DELAY = 3600
    case = make_request()
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    hotline.sign(case, by=county.handler)
    hotline.finish(case, "已修复。", "solved", by=county.handler)
    invite = Outbox.objects.get(template_code="callback_invite")
    assert services.deliver(invite.pk) == Status.PENDING  # not due for an hour
    hotline.callback(case, reached=True, satisfaction="satisfied", solved=True, by=county.operator)
    with clock.at(clock.now() + timedelta(hours=2)):
        assert services.flush().get(Status.CANCELLED) == 1
    assert not any("评价" in line for line in sms_lines(sms_file))


def test_flush_command(county, sms_file):
    services.notify("verify_code", phone="13900001111", context={"code": "1", "minutes": 1})
    out = StringIO()
    call_command("notify", "flush", stdout=out)
    assert "已处理 1 条" in out.getvalue() and "已发送 1" in out.getvalue()


@pytest.fixture
def admin_client_for(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_template_pages_are_for_sysadmins_with_preview(county, admin_client_for):
    t = Template.objects.get(code="finished", channel="sms")
    assert admin_client_for(county.operator).get("/notify/").status_code == 403
    client = admin_client_for(county.admin)
    assert "办结通知" in client.get("/notify/").content.decode()
    page = client.get(f"/notify/templates/{t.pk}/").content.decode()
    assert "经现场核实" in page  # sample data in the preview
    preview = client.post(f"/notify/templates/{t.pk}/preview/", {"subject": "", "body": "编号{number}{oops}"}).content.decode()
    assert "2026112300123" in preview and "未知的占位符" in preview and "oops" in preview
    bad = client.post(f"/notify/templates/{t.pk}/", {"subject": "", "body": "", "active": "on"})
    assert bad.status_code == 400 and "这个字段是必填项" in bad.content.decode()
    client.post(f"/notify/templates/{t.pk}/", {"subject": "", "body": "【{site}】{number}已办结：{reply_short}", "active": "on"})
    t.refresh_from_db()
    assert t.body.startswith("【{site}】{number}已办结")
    client.post(f"/notify/templates/{t.pk}/", {"reset": "1", "subject": "", "body": "x"})
    t.refresh_from_db()
    assert "答复：" in t.body


def test_outbox_filters(county, admin_client_for, make_request, sms_file):
    make_request()
    services.notify("verify_code", phone="13900001111", context={"code": "1", "minutes": 1})
    client = admin_client_for(county.admin)
    assert client.get("/notify/outbox/?code=received").content.decode().count("<tr>") == 2  # header + one row
    number = Case.objects.get().number
    assert number in client.get(f"/notify/outbox/?q={number}").content.decode()
    assert "没有符合条件的消息" in client.get("/notify/outbox/?channel=email").content.decode()


def test_inbox_and_unread_badge(county, admin_client_for, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.notify("supplement_reminder", user=county.handler,
                        context={"number": "H1", "matter": "食品经营许可", "materials": "健康证", "deadline": "12月5日"})
    client = admin_client_for(county.handler)
    page = client.get("/inbox/").content.decode()
    assert '1 条未读' in page
    inbox = client.get("/notify/inbox/").content.decode()
    assert "待补件：H1" in inbox and "未读" in inbox
    client.post("/notify/inbox/read/")
    assert "条未读" not in client.get("/inbox/").content.decode()
    assert Message.objects.get().read_at is not None


def test_embedded_mode_retries_due_rows_when_the_next_message_goes_out(county, sms_file, django_capture_on_commit_callbacks):
    [stuck] = services.notify("verify_code", phone="13900001111", context={"code": "111111", "minutes": 1})
    Outbox.objects.filter(pk=stuck.pk).update(attempts=1, last_error="短信网关返回 HTTP 503")  # failed earlier, due now
    with django_capture_on_commit_callbacks(execute=True):
        services.notify("verify_code", phone="13900002222", context={"code": "222222", "minutes": 1})
    stuck.refresh_from_db()
    assert stuck.status == Status.SENT and len(sms_lines(sms_file)) == 2


def test_deleted_templates_fall_back_to_the_default_wording(county, make_request, sms_file):
    Template.objects.all().delete()  # e.g. a flushed database
    case = make_request()
    row = Outbox.objects.get(case=case, template_code="received")
    assert "已受理" in row.body and case.number in row.body


def test_a_notification_problem_never_blocks_the_case_action(county, make_request, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("template store unavailable")

    monkeypatch.setattr(services, "notify", broken)
    case = make_request()
    assert Case.objects.filter(pk=case.pk, state="pending_dispatch").exists()
    assert not Outbox.objects.exists() and "notification not queued" in caplog.text


def test_production_batches_delivery_one_flush_per_window(county, sms_file, settings, monkeypatch, django_capture_on_commit_callbacks):
    """With Celery, a web process asks for one flush per NOTIFY_BATCH_SECONDS, delayed by that window,
    and that flush sends every row committed meanwhile — in one claim, each row once."""
    from tongban.notify import tasks

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.NOTIFY_BATCH_SECONDS = 30
    asked = []
    monkeypatch.setattr(tasks.flush, "apply_async", lambda **kw: asked.append(kw))
    monkeypatch.setattr(services, "_flush_due", 0.0)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            services.notify("received", phone=f"1380013800{n}", context={"number": f"N{n}"}, dedupe_key=f"batch:{n}")
    assert asked == [{"countdown": 30.0}]  # one task for the three messages
    assert sms_lines(sms_file) == [] and Outbox.objects.filter(status=Status.PENDING).count() == 3
    assert tasks.flush() == {Status.SENT: 3}  # what the worker runs when the countdown ends
    assert len(sms_lines(sms_file)) == 3 and tasks.flush() == {}
    assert Outbox.objects.filter(status=Status.SENT, attempts=1).count() == 3
