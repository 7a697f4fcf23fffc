"""No lost and no doubled requests: the intake is committed before its number is shown, a retried API
intake with the same Idempotency-Key returns the first case, and a double-submitted console form makes one case."""
import json
import re
import threading

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from tongban.cases.models import Case, CaseEvent
from tongban.hotline import services as hotline

from .factories import UserFactory

PASSWORD = "Tongban#2026"
BODY = {"case_type": "complaint", "title": "路灯不亮", "content": "桃园村三组路灯坏了一个月。", "requester_phone": "13812341234"}


def token_client(user) -> Client:
    response = Client().post("/api/v1/auth/token", {"username": user.username, "password": PASSWORD},
                             content_type="application/json")
    assert response.status_code == 201, response.content
    return Client(headers={"Authorization": f"Bearer {response.json()['token']}"})


def post_intake(client, body=BODY, key=None):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post("/api/v1/cases", json.dumps(body), content_type="application/json", headers=headers)


@pytest.mark.django_db
class TestApiIdempotencyKey:
    def test_a_retry_with_the_same_key_returns_the_first_case(self, county):
        api = token_client(county.operator)
        first = post_intake(api, key="call-0001")
        again = post_intake(api, key="call-0001")
        assert first.status_code == again.status_code == 201
        assert first.json()["number"] == again.json()["number"]
        assert "Idempotent-Replayed" not in first and again["Idempotent-Replayed"] == "true"
        assert Case.objects.count() == 1 and CaseEvent.objects.filter(action="create").count() == 1
        assert Case.objects.get().intake_key != "call-0001"  # stored as a per-account digest

    def test_the_same_key_with_a_different_body_is_a_conflict_in_chinese(self, county):
        api = token_client(county.operator)
        number = post_intake(api, key="k1").json()["number"]
        response = post_intake(api, {**BODY, "content": "另一件事：垃圾没人清运。"}, key="k1")
        assert response.status_code == 409
        assert "幂等键" in response.json()["detail"] and number in response.json()["detail"]
        assert Case.objects.count() == 1

    def test_without_a_key_every_request_is_a_new_case(self, county):
        api = token_client(county.operator)
        assert post_intake(api).json()["number"] != post_intake(api).json()["number"]
        assert Case.objects.count() == 2

    def test_keys_belong_to_one_account(self, county):
        colleague = UserFactory(username="operator2", roles="operator", unit=county.centre)
        mine = post_intake(token_client(county.operator), key="shared").json()["number"]
        theirs = post_intake(token_client(colleague), key="shared").json()["number"]
        assert mine != theirs and Case.objects.count() == 2

    @pytest.mark.parametrize("key", ["", "x" * 129, "带中文", "has space"])
    def test_a_malformed_key_is_refused(self, county, key):
        response = post_intake(token_client(county.operator), key=key)
        assert response.status_code == 400 and "Idempotency-Key" in response.json()["errors"]
        assert Case.objects.count() == 0

    def test_a_refused_request_does_not_use_up_the_key(self, county):
        api = token_client(county.operator)
        assert post_intake(api, {**BODY, "requester_phone": "123"}, key="k2").status_code == 400
        assert post_intake(api, key="k2").status_code == 201 and Case.objects.count() == 1



@pytest.mark.django_db(transaction=True)
def test_the_number_is_shown_only_after_the_intake_is_committed(county, monkeypatch):
    """When the API builds its answer and when the console writes "工单 … 已受理", no transaction is open:
    the case is already durable (autocommit), so a crash after that cannot lose an acknowledged request."""
    from tongban.api import present
    from tongban.web import views

    seen = []

    def watch(fn):
        def wrapper(*args, **kwargs):
            seen.append(connections["default"].in_atomic_block)
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(present, "case_detail", watch(present.case_detail))
    monkeypatch.setattr(views.messages, "success", watch(views.messages.success))
    assert post_intake(token_client(county.operator), key="k3").status_code == 201
    c = Client()
    c.force_login(county.operator)
    assert c.post(reverse("console"), {**CONSOLE_FORM, "case_type": county.complaint.pk}).status_code == 302
    assert seen == [False, False]


def render_console(c) -> str:
    html = c.get(reverse("console")).content.decode()
    return re.search(r'name="intake_token" value="([^"]+)"', html).group(1)


CONSOLE_FORM = {"case_type": None, "requester_phone": "13912345678", "content": "村口排水沟堵塞，下雨后积水严重。",
                "channel": "phone", "step": "accept"}


@pytest.mark.django_db
class TestConsoleDoubleSubmit:
    def form(self, county, token, **extra):
        return {**CONSOLE_FORM, "case_type": county.complaint.pk, "intake_token": token, **extra}

    def test_each_rendered_form_has_its_own_token(self, client, county):
        client.force_login(county.operator)
        assert render_console(client) != render_console(client)

    def test_submitting_the_same_form_twice_creates_one_case(self, client, county):
        client.force_login(county.operator)
        form = self.form(county, render_console(client))
        first, second = client.post(reverse("console"), form), client.post(reverse("console"), form)
        assert first.status_code == second.status_code == 302
        case = Case.objects.get()
        assert first.url == second.url == f"{reverse('console')}?last={case.number}"
        page = client.get(second.url).content.decode()
        assert "重复提交" in page and case.number in page

    def test_a_double_submitted_direct_answer_is_answered_once(self, client, county):
        client.force_login(county.operator)
        form = self.form(county, render_console(client), case_type=county.consult.pk, step="answer", reply="请携带户口簿到派出所办理。")
        client.post(reverse("console"), form)
        client.post(reverse("console"), form)
        assert Case.objects.get().state != "pending_dispatch"
        assert CaseEvent.objects.filter(action="answer").count() == 1

    def test_two_forms_are_two_cases(self, client, county):
        client.force_login(county.operator)
        client.post(reverse("console"), self.form(county, render_console(client)))
        client.post(reverse("console"), self.form(county, render_console(client)))
        assert Case.objects.count() == 2

    def test_an_edited_resubmission_is_explained_and_kept_as_typed(self, client, county):
        client.force_login(county.operator)
        token = render_console(client)
        client.post(reverse("console"), self.form(county, token))
        response = client.post(reverse("console"), self.form(county, token, content="另一件事：路灯不亮。"))
        html = response.content.decode()
        assert response.status_code == 400 and "此受理单已提交" in html and "另一件事：路灯不亮。" in html
        fresh = re.search(r'name="intake_token" value="([^"]+)"', html).group(1)
        assert fresh != token
        assert client.post(reverse("console"), self.form(county, fresh, content="另一件事：路灯不亮。")).status_code == 302
        assert Case.objects.count() == 2

    def test_a_failed_submission_keeps_its_token_and_succeeds_once_corrected(self, client, county):
        client.force_login(county.operator)
        token = render_console(client)
        response = client.post(reverse("console"), self.form(county, token, requester_phone="123"))
        assert response.status_code == 400 and f'value="{token}"' in response.content.decode()
        assert client.post(reverse("console"), self.form(county, token)).status_code == 302
        assert Case.objects.count() == 1

    def test_the_last_case_shown_on_the_console_is_within_scope(self, client, county, make_request):
        """?last= only shows a case the person may see (a unit operator must not read the centre's cases)."""
        case = make_request(title="机密标题")
        outsider = UserFactory(username="unitop", roles="operator", unit=county.housing)
        client.force_login(outsider)
        assert "机密标题" not in client.get(f"{reverse('console')}?last={case.number}").content.decode()
        client.force_login(county.operator)
        assert "机密标题" in client.get(f"{reverse('console')}?last={case.number}").content.decode()


def run_at_once(n, work):
    """Run work(i) in n threads released together; returns the results and errors by thread."""
    start = threading.Barrier(n)
    results, errors = {}, {}

    def run(i):
        start.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - reported by the caller's assertions
            errors[i] = repr(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_intakes_with_one_key_make_one_case(county):
    data = dict(case_type=county.complaint, title="路灯不亮", content="桃园村三组路灯坏了。", intake_key="same-call")
    results, errors = run_at_once(4, lambda i: hotline.intake(hotline.Intake(**data), by=county.operator).number)
    assert not errors, errors
    assert len(set(results.values())) == 1 and len(results) == 4
    assert Case.objects.count() == 1 and CaseEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_the_console_makes_one_case(county):
    """Two POSTs of the same rendered form at the same moment, as two browser requests."""
    c = Client()
    c.force_login(county.operator)
    form = {**CONSOLE_FORM, "case_type": county.complaint.pk, "intake_token": render_console(c)}
    cookies = c.cookies

    def submit(i):
        browser = Client()
        browser.cookies = cookies
        return browser.post(reverse("console"), form).status_code

    results, errors = run_at_once(2, submit)
    assert not errors, errors
    assert sorted(results.values()) == [302, 302]
    assert Case.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_api_retries_return_the_same_case(county):
    api = token_client(county.operator)
    results, errors = run_at_once(3, lambda i: post_intake(api, key="retry-7"))
    assert not errors, errors
    assert {r.status_code for r in results.values()} == {201}
    assert len({r.json()["number"] for r in results.values()}) == 1
    assert Case.objects.count() == 1
