"""Rows read on every request (notification templates, case types) are remembered per process for a
few seconds: an edit made here takes effect at once, one made by another process within the TTL."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tongban.cases.models import CaseType
from tongban.core import recent
from tongban.notify import services
from tongban.notify.models import Template

from .test_api import Api

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch, settings):
    settings.TONGBAN_REFERENCE_CACHE_SECONDS = 5
    now = [1000.0]
    monkeypatch.setattr(recent, "monotonic", lambda: now[0])
    return now


def sms_body(phone="13900001111") -> str:
    [row] = services.notify("verify_code", phone=phone, context={"code": "123456", "minutes": 10})
    return row.body


def test_a_template_edit_here_is_used_at_once(county, clock):
    assert "123456" in sms_body()
    template = Template.objects.get(code="verify_code", channel="sms")
    template.body = "新的措辞：验证码{code}"
    template.save()
    assert sms_body() == "新的措辞：验证码123456"


def test_an_edit_by_another_process_is_seen_within_the_ttl(county, clock):
    before = sms_body()
    with CaptureQueriesContext(connection) as queries:
        sms_body()
    assert not any("notify_template" in q["sql"] for q in queries.captured_queries)  # remembered
    Template.objects.filter(code="verify_code", channel="sms").update(body="别处改的：{code}")  # no signal here
    assert sms_body() == before
    clock[0] += 5.1
    assert sms_body() == "别处改的：123456"


def test_a_deleted_template_falls_back_to_the_shipped_wording(county, clock):
    shipped = sms_body()
    Template.objects.filter(code="verify_code", channel="sms").update(body="改过：{code}")
    clock[0] += 6
    assert sms_body() == "改过：123456"
    Template.objects.get(code="verify_code", channel="sms").delete()
    assert sms_body() == shipped


def test_case_types_are_remembered_and_deactivation_here_applies_at_once(county, clock):
    assert CaseType.usable("complaint", "hotline").pk == county.complaint.pk
    with CaptureQueriesContext(connection) as queries:
        found = CaseType.usable("complaint", "hotline")
    assert len(queries.captured_queries) == 0 and found.name == "投诉"
    found.name = "改了副本"  # callers get their own copy
    assert CaseType.usable("complaint", "hotline").name == "投诉"
    assert CaseType.usable("complaint", "hall") is None  # another workflow's code is not usable here
    assert CaseType.usable("no-such-type", "hotline") is None
    county.complaint.active = False
    county.complaint.save()
    assert CaseType.usable("complaint", "hotline") is None


def test_a_ttl_of_zero_turns_the_memory_off(county, clock, settings):
    settings.TONGBAN_REFERENCE_CACHE_SECONDS = 0
    CaseType.usable("complaint", "hotline")
    CaseType.objects.filter(pk=county.complaint.pk).update(name="别处改名")
    assert CaseType.usable("complaint", "hotline").name == "别处改名"


def test_api_intake_with_a_type_deactivated_elsewhere_is_refused_after_the_ttl(county, clock):
    client = Api(county.operator)
    body = {"case_type": "complaint", "title": "路灯不亮", "content": "三组路灯坏了", "requester_phone": "13812341234"}
    assert client.post("/cases", body).status_code == 201
    CaseType.objects.filter(pk=county.complaint.pk).update(active=False)
    clock[0] += 5.1
    answer = client.post("/cases", body)
    assert answer.status_code == 400 and "case_type" in answer.json()["errors"]
