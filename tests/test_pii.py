"""Personal data (个人信息保护): check digits of 身份证号 (GB 11643) and 统一社会信用代码 (GB 32100), masking
everywhere by default, and the audited, permission-checked "显示完整号码" on the case page."""
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from tongban.audit.models import AuditEntry
from tongban.core import pii
from tongban.hotline import services as hotline

from .factories import UserFactory

PHONE = "13812341234"
pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- check digits

VALID_IDS = ["11010519491231002X", "11010519491231002x", "110105198001010016", "320583199003071239"]
INVALID_IDS = [("110105194912310021", "校验位"),   # wrong check digit
               ("110105194913310021", "出生日期"),  # right check digit, but month 13
               ("1101051949123100", "位数"),        # too short
               ("11010519491231002Y", "")]          # not a digit or X
VALID_USCC = ["91110000600037341L", "91350100M000100Y43", "12100000400010398P"]
INVALID_USCC = [("91110000600037341M", "校验"), ("9111000060003734", "位数"), ("91110000600037341I", "")]


@pytest.mark.parametrize("value", VALID_IDS)
def test_valid_id_numbers(value):
    assert pii.is_valid_id_number(value)
    assert pii.clean_id_number(value) == value.upper()


@pytest.mark.parametrize("value, reason", INVALID_IDS)
def test_invalid_id_numbers_say_why_in_chinese(value, reason):
    assert not pii.is_valid_id_number(value)
    with pytest.raises(ValidationError) as exc:
        pii.clean_id_number(value)
    assert "身份证号" in exc.value.messages[0] and reason in exc.value.messages[0]


@pytest.mark.parametrize("value", VALID_USCC)
def test_valid_unified_social_credit_codes(value):
    assert pii.is_valid_uscc(value) and pii.clean_uscc(value) == value


@pytest.mark.parametrize("value, reason", INVALID_USCC)
def test_invalid_unified_social_credit_codes(value, reason):
    assert not pii.is_valid_uscc(value)
    with pytest.raises(ValidationError) as exc:
        pii.clean_uscc(value)
    assert "统一社会信用代码" in exc.value.messages[0] and reason in exc.value.messages[0]


def test_masks():
    assert pii.mask_phone(PHONE) == "138****1234"
    assert pii.mask_phone("0571-88886666") == "*********6666"
    assert pii.mask_id_number("11010519491231002X") == "110105********002X"
    assert pii.mask_name("张三丰") == "张**"


# ---------------------------------------------------------------- masked by default


def test_lists_search_exports_and_api_show_masked_numbers(client, county, make_request):
    case = make_request(requester_phone=PHONE)
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    client.force_login(county.operator)
    for response in (client.get(reverse("cases")), client.get(reverse("case", args=[case.number])), client.get(reverse("callbacks"))):
        page = response.content.decode()
        assert PHONE not in page and "张三" not in page
    found = client.get(reverse("cases"), {"q": PHONE}).content.decode()  # search by the full number works...
    results = found.split("<tbody>", 1)[1]
    assert case.number in results and "138****1234" in results and PHONE not in results  # ...and shows it masked
    export = client.get(reverse("cases_export"))
    cells = [str(c) for row in load_workbook(BytesIO(b"".join(export.streaming_content))).active.values for c in row]
    assert "138****1234" in cells and PHONE not in "".join(cells)
    token = Client().post("/api/v1/auth/token", {"username": "operator", "password": "Tongban#2026", "name": "t"},
                          content_type="application/json").json()["token"]
    api = Client(headers={"Authorization": f"Bearer {token}"})
    for path in ("/api/v1/cases", f"/api/v1/cases/{case.number}"):
        body = api.get(path).content.decode()
        assert PHONE not in body and "138****1234" in body


# ---------------------------------------------------------------- unmasking


def test_who_may_unmask(county, make_request):
    case = make_request(requester_phone=PHONE)
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    case.refresh_from_db()
    unit_admin = UserFactory(username="ua", roles="unit_admin", unit=county.housing)
    allowed = [county.operator, county.dispatcher, county.handler, unit_admin]
    refused = [county.supervisor, county.admin, county.other_handler, county.town_dispatcher,
               UserFactory(username="aud", roles="auditor", unit=county.centre),
               UserFactory(username="sec", roles="secadmin", unit=county.centre),
               UserFactory(username="op2", roles="operator", unit=county.housing)]  # an operator outside the centre
    assert all(pii.can_unmask(u, case) for u in allowed)
    assert not any(pii.can_unmask(u, case) for u in refused)


def test_showing_the_full_number_is_a_deliberate_audited_click(client, county, make_request):
    case = make_request(requester_phone=PHONE)
    client.force_login(county.operator)
    page = client.get(reverse("case", args=[case.number])).content.decode()
    assert "显示完整号码" in page and PHONE not in page
    assert client.get(reverse("case_unmask", args=[case.number])).status_code == 405  # never by a mere link
    response = client.post(reverse("case_unmask", args=[case.number]))
    assert PHONE in response.content.decode() and "张三" in response.content.decode()
    fragment = client.post(reverse("case_unmask", args=[case.number]), headers={"HX-Request": "true"}).content.decode()
    assert PHONE in fragment and "<html" not in fragment
    entries = AuditEntry.objects.filter(action="pii.unmask", target=case.number)
    assert entries.count() == 2 and entries.first().actor == "operator"


def test_unmasking_is_refused_without_the_permission(client, county, make_request):
    case = make_request(requester_phone=PHONE)
    client.force_login(county.supervisor)  # sees the case, but not the number
    assert "显示完整号码" not in client.get(reverse("case", args=[case.number])).content.decode()
    assert client.post(reverse("case_unmask", args=[case.number])).status_code == 403
    client.force_login(county.handler)  # not yet dispatched to the housing bureau: not even visible
    assert client.post(reverse("case_unmask", args=[case.number])).status_code == 404
    assert not AuditEntry.objects.filter(action="pii.unmask").exists()
