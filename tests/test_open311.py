"""Open311 GeoReport v2 under /open311/v2/: every endpoint in XML and JSON, the spec's own example
requests and responses, FixMyStreet's production client replayed, the mySociety update extension,
api keys, attributes, photos, tokens, the date window, the row cap and personal data."""
import json
import re
from datetime import timedelta
from io import StringIO
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import pytest
from django.core.management import call_command
from django.test import Client

from tongban.cases.models import Attachment, Case, Category
from tongban.core import clock
from tongban.hotline import services as hotline
from tongban.hotline.workflow import HOTLINE
from tongban.open311 import demo, services
from tongban.open311.models import ApiClient, Attribute, AttributeValue, ClientUpdate, Datatype, Service, Submission

from .conftest import local

pytestmark = pytest.mark.django_db

BASE = "/open311/v2/"
JURISDICTION = "qingxi.example.gov.cn"
NOW = local(2026, 11, 25, 15, 30)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture(autouse=True)
def setup(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.TONGBAN_OPEN311_JURISDICTION = JURISDICTION
    settings.TONGBAN_OPEN311_PUBLIC_CHANNELS = []
    with clock.at(NOW):
        yield


@pytest.fixture
def tax(county):
    """城乡建设 (level 1) → 城市建设和市政管理 (level 2, with attributes) → two level-3 names;
    城乡建设 → 住房保障与房地产 (level 2, no attributes); one inactive level-2 category."""
    top = county.category
    top.level = 1
    top.save()

    def cat(name, parent, level, active=True):
        return Category.objects.create(name=name, level=level, parent=parent, full_name=f"{parent.full_name}/{name}", active=active)

    civic = cat("城市建设和市政管理", top, 2)
    lamps = cat("城市公共设施", civic, 3)
    cat("自来水供应", civic, 3)
    housing = cat("住房保障与房地产", top, 2)
    hidden = cat("停用的分类", top, 2, active=False)
    service = Service.objects.create(category=civic)
    kind = Attribute.objects.create(service=service, code="kind", datatype=Datatype.SINGLE, required=True, order=1,
                                    description="是哪类设施？")
    AttributeValue.objects.create(attribute=kind, key="lamp", name="路灯", order=0)
    AttributeValue.objects.create(attribute=kind, key="manhole", name="井盖", order=1)
    tags = Attribute.objects.create(service=service, code="tags", datatype=Datatype.MULTI, order=2, description="安全隐患")
    AttributeValue.objects.create(attribute=tags, key="night", name="夜间照明不足")
    AttributeValue.objects.create(attribute=tags, key="traffic", name="影响通行")
    Attribute.objects.create(service=service, code="count", datatype=Datatype.NUMBER, order=3, description="坏了几盏")
    Attribute.objects.create(service=service, code="since", datatype=Datatype.DATETIME, order=4, description="从何时开始")
    Attribute.objects.create(service=service, code="notice", datatype=Datatype.TEXT, order=5, variable=False,
                             description="紧急险情请拨打 110")
    return type("Tax", (), dict(top=top, civic=civic, lamps=lamps, housing=housing, hidden=hidden, service=service))


@pytest.fixture
def key(db):
    return ApiClient.issue("FixMyStreet 青溪")[1]


def xml(response):
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


def js(response):
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content)


def errors_of(response, status):
    assert response.status_code == status, response.content
    root = xml(response)
    assert root.tag == "errors"
    assert [e.tag for e in root] == ["error"] * len(root)
    assert all(e.findtext("code") == str(status) for e in root)
    return [e.findtext("description") for e in root]


def post(path, data, **extra):
    return Client().post(BASE + path, data, **extra)


def report(tax, key, **overrides):
    data = {"api_key": key, "service_code": str(tax.civic.pk), "lat": "36.123456", "long": "117.654321",
            "description": "路灯不亮\n\n桃园村三组路灯坏了一个月。", "first_name": "三", "last_name": "张",
            "phone": "13812341234", "email": "zhang@example.org", "attribute[kind]": "lamp"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def submit(tax, key, **overrides) -> Case:
    response = post("requests.xml", report(tax, key, **overrides))
    assert response.status_code == 200, response.content
    return Case.objects.get(number=xml(response).findtext("request/service_request_id"))


# ---------------------------------------------------------------- discovery and services


def test_discovery_in_xml_and_json():
    root = xml(Client().get(BASE + "discovery.xml"))
    assert root.tag == "discovery"
    endpoint = root.find("endpoints/endpoint")
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url") == "http://testserver/open311/v2/"
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", root.findtext("changeset"))
    data = js(Client().get(BASE + "discovery.json"))
    assert data["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    assert data["endpoints"][0]["type"] == "production"


def test_services_list_the_level_two_categories_grouped_by_level_one(tax):
    root = xml(Client().get(BASE + "services.xml", {"jurisdiction_id": JURISDICTION}))
    assert root.tag == "services" and {s.tag for s in root} == {"service"}
    found = {s.findtext("service_code"): s for s in root}
    assert set(found) == {str(tax.civic.pk), str(tax.housing.pk)}  # not level 1 or 3, not inactive
    civic = found[str(tax.civic.pk)]
    assert [c.tag for c in civic] == ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
    assert civic.findtext("service_name") == "城市建设和市政管理"
    assert civic.findtext("group") == "城乡建设"
    assert civic.findtext("metadata") == "true" and found[str(tax.housing.pk)].findtext("metadata") == "false"
    assert civic.findtext("type") == "realtime"
    assert civic.findtext("keywords") == "城市公共设施, 自来水供应"
    assert "城市公共设施" in civic.findtext("description")

    data = js(Client().get(BASE + "services.json"))
    assert isinstance(data, list) and all(isinstance(s["service_code"], str) for s in data)
    assert {s["service_code"]: s["metadata"] for s in data} == {str(tax.civic.pk): True, str(tax.housing.pk): False}


def test_a_service_switched_off_for_open311_is_not_offered(tax):
    Service.objects.create(category=tax.housing, active=False)
    codes = [s["service_code"] for s in js(Client().get(BASE + "services.json"))]
    assert codes == [str(tax.civic.pk)]
    errors_of(Client().get(BASE + f"services/{tax.housing.pk}.xml"), 404)


def test_service_definition_with_attributes_in_xml_and_json(tax):
    root = xml(Client().get(BASE + f"services/{tax.civic.pk}.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == str(tax.civic.pk)
    attrs = root.findall("attributes/attribute")
    assert [a.findtext("code") for a in attrs] == ["kind", "tags", "count", "since", "notice"]
    assert [a.findtext("order") for a in attrs] == ["1", "2", "3", "4", "5"]
    assert [a.findtext("datatype") for a in attrs] == ["singlevaluelist", "multivaluelist", "number", "datetime", "text"]
    kind = attrs[0]
    assert kind.findtext("required") == "true" and kind.findtext("variable") == "true"
    assert [(v.findtext("key"), v.findtext("name")) for v in kind.findall("values/value")] == [("lamp", "路灯"), ("manhole", "井盖")]
    assert attrs[4].findtext("variable") == "false"
    assert attrs[2].find("values") is None  # only list types carry values

    data = js(Client().get(BASE + f"services/{tax.civic.pk}.json"))
    assert data["service_code"] == str(tax.civic.pk)
    assert data["attributes"][1]["values"] == [{"key": "night", "name": "夜间照明不足"}, {"key": "traffic", "name": "影响通行"}]
    assert data["attributes"][0]["required"] is True and data["attributes"][0]["datatype_description"] is None
    assert js(Client().get(BASE + f"services/{tax.housing.pk}.json")) == {"service_code": str(tax.housing.pk), "attributes": []}


def test_unknown_services_formats_and_paths_are_404(tax):
    for path in (f"services/{tax.lamps.pk}.xml", f"services/{tax.top.pk}.xml", "services/abc.xml", "services/99999999.xml"):
        assert errors_of(Client().get(BASE + path), 404)
    assert errors_of(Client().get(BASE + "services.yaml"), 404) == ["不支持的格式“.yaml”，请使用 .xml 或 .json。"]
    assert Client().get(BASE + "services.html").status_code == 404
    errors_of(Client().get(BASE + "services"), 404)
    errors_of(Client().get(BASE + "nothing/here.xml"), 404)
    response = Client().get(BASE + f"services/{tax.lamps.pk}.json")
    assert response.status_code == 404 and js(response)[0]["code"] == 404


def test_jurisdiction_id_is_checked(tax):
    assert Client().get(BASE + "services.xml", {"jurisdiction_id": JURISDICTION}).status_code == 200
    assert Client().get(BASE + "services.xml", {"jurisdiction_id": ""}).status_code == 200  # empty = not given
    [message] = errors_of(Client().get(BASE + "services.xml", {"jurisdiction_id": "city.gov"}), 404)
    assert "city.gov" in message and JURISDICTION in message
    response = Client().get(BASE + "requests.json", {"jurisdiction_id": "city.gov"})
    assert response.status_code == 404 and js(response) == [{"code": 404, "description": message}]


def test_wrong_methods_are_refused():
    response = Client().post(BASE + "services.xml")
    assert response.status_code == 405 and response["Allow"] == "GET"
    assert Client().delete(BASE + "requests.xml").status_code == 405


# ---------------------------------------------------------------- POST requests


def test_the_specs_example_request_creates_a_case(tax, key):
    """The GeoReport v2 example body, byte for byte except the api_key, jurisdiction and service code."""
    body = ("api_key=xyz&jurisdiction_id=city.gov&service_code=001&lat=37.76524078&long=-122.4212043"
            "&address_string=1234+5th+street&email=smit333%40sfgov.edu&device_id=tt222111&account_id=123456"
            "&first_name=john&last_name=smith&phone=111111111&description=A+large+sinkhole+is+destroying+the+street"
            "&media_url=http%3A%2F%2Ffarm3.static.flickr.com%2F2002%2F2212426634_5ed477a060.jpg"
            "&attribute[WHISPAWN]=123456&attribute[WHISDORN]=COISL001&attribute[kind]=manhole")
    body = body.replace("api_key=xyz", f"api_key={key}").replace("city.gov", JURISDICTION).replace("service_code=001", f"service_code={tax.civic.pk}")
    response = Client().post(BASE + "requests.xml", body, content_type="application/x-www-form-urlencoded; charset=utf-8")
    assert response.status_code == 200, response.content
    root = xml(response)
    assert root.tag == "service_requests" and [r.tag for r in root] == ["request"]
    request = root.find("request")
    assert [c.tag for c in request] == ["service_request_id", "token", "service_notice", "account_id"]
    case = Case.objects.get(number=request.findtext("service_request_id"))
    assert request.findtext("account_id") == "123456"
    assert case.number in request.findtext("service_notice")
    assert (case.channel, case.state, case.category, case.case_type.code) == ("api", "pending_dispatch", tax.civic, "help")
    assert (float(case.latitude), float(case.longitude)) == (37.765241, -122.421204)
    assert case.address == "1234 5th street"
    assert case.title == "A large sinkhole is destroying the street"
    assert case.content.startswith("A large sinkhole is destroying the street")
    assert "是哪类设施？：井盖" in case.content
    assert case.requester_name == "john smith"
    assert case.requester_phone == ""  # not a Chinese phone number: kept aside, not on the case
    sub = case.open311
    assert (sub.phone, sub.email, sub.device_id, sub.account_id) == ("111111111", "smit333@sfgov.edu", "tt222111", "123456")
    assert sub.media_urls == ["http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg"]
    assert sub.attributes == {"WHISPAWN": ["123456"], "WHISDORN": ["COISL001"], "kind": "manhole"}
    assert case.events.get().payload == {"channel": "api"}
    assert case.events.get().actor is None  # the system, not a person


def test_post_in_json_and_the_address_finds_the_jurisdiction(tax, key, county):
    response = post("requests.json", report(tax, key, lat=None, long=None, address_string="柳泉镇桃园村三组路口"))
    assert response.status_code == 200
    [created] = js(response)
    assert set(created) == {"service_request_id", "token", "service_notice", "account_id"}
    assert isinstance(created["service_request_id"], str) and created["account_id"] is None
    case = Case.objects.get(number=created["service_request_id"])
    assert case.region == county.village and case.latitude is None
    assert case.requester_name == "张三" and case.requester_phone == "13812341234"


def test_address_id_may_be_a_region_code(tax, key, county):
    case = submit(tax, key, lat=None, long=None, address_id=county.village.code)
    assert case.region == county.village and case.address == "青溪县柳泉镇桃园村"
    assert case.open311.address_id == county.village.code


def test_api_key_is_required_and_checked(tax, key):
    assert errors_of(post("requests.xml", report(tax, "")), 403) == ["缺少 api_key。请向热线中心申请接入密钥。"]
    assert errors_of(post("requests.xml", report(tax, key + "x")), 403) == ["api_key 无效或已停用。"]
    ApiClient.objects.update(active=False)
    errors_of(post("requests.xml", report(tax, key)), 403)
    response = post("requests.json", report(tax, key))
    assert response.status_code == 403 and js(response)[0]["code"] == 403
    assert not Case.objects.exists()
    stored = ApiClient.objects.get()
    assert key not in (stored.key_hash, stored.prefix) and stored.prefix == key[:8]


def test_bad_requests_say_what_is_wrong(tax, key):
    cases = [
        (dict(service_code=None), 400, "缺少 service_code。"),
        (dict(service_code=str(tax.lamps.pk)), 404, f"service_code “{tax.lamps.pk}” 不存在。可用的服务见 services.xml。"),
        (dict(lat=None, long=None), 400, "请提供位置：lat 与 long、address_string 或 address_id 至少一项。"),
        (dict(long=None), 400, "lat 与 long 须同时提供。"),
        (dict(lat="91"), 400, "lat 超出范围（±90）。"),
        (dict(long="abc"), 400, "long 应为数字（WGS-84 经纬度）。"),
        (dict(email="not-an-email"), 400, "email “not-an-email” 格式不正确。"),
        (dict(jurisdiction_id="city.gov"), 404, None),
        (dict(description="长" * 10001), 400, "description 不能超过 10000 字。"),
    ]
    for overrides, status, message in cases:
        found = errors_of(post("requests.xml", report(tax, key, **overrides)), status)
        if message:
            assert found == [message]
    assert not Case.objects.exists()


def test_a_service_may_waive_the_location(tax, key):
    Service.objects.create(category=tax.housing, location_required=False)
    case = submit(tax, key, service_code=str(tax.housing.pk), lat=None, long=None, description=None)
    assert case.content == "（住房保障与房地产，未附文字说明）" and case.title == "住房保障与房地产"


def test_attributes_are_validated_and_kept(tax, key):
    problems = errors_of(post("requests.xml", report(tax, key, **{"attribute[kind]": None, "attribute[count]": "三",
                                                                  "attribute[since]": "昨天"})), 400)
    assert problems == ["缺少必填属性 attribute[kind]（是哪类设施？）。", "attribute[count] 应为数字。",
                        "attribute[since] 应为 ISO 8601 日期时间，例如 2026-11-23T09:30:00+08:00。"]
    assert errors_of(post("requests.xml", report(tax, key, **{"attribute[kind]": "tree"})), 400) == [
        "attribute[kind] 的取值“tree”不在可选范围内。"]
    assert errors_of(post("requests.xml", report(tax, key, **{"attribute[tags][]": ["night", "rain"]})), 400) == [
        "attribute[tags] 的取值“rain”不在可选范围内。"]
    case = submit(tax, key, **{"attribute[tags][]": ["night", "traffic"], "attribute[count]": "3",
                               "attribute[since]": "2026-11-01T20:00:00+08:00", "attribute[notice]": "ignored"})
    assert case.open311.attributes == {"kind": "lamp", "tags": ["night", "traffic"], "count": "3",
                                       "since": "2026-11-01T20:00:00+08:00", "notice": ["ignored"]}
    assert case.content.endswith("【补充信息】\n是哪类设施？：路灯\n安全隐患：夜间照明不足、影响通行\n坏了几盏：3\n从何时开始：2026-11-01T20:00:00+08:00")


def test_multipart_photos_become_case_attachments(tax, key):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = report(tax, key, media_url=["https://fms.example.org/photo/1.jpeg", "https://fms.example.org/photo/2.jpeg"])
    data["media"] = SimpleUploadedFile("road.png", PNG, content_type="image/png")
    data["photo1"] = SimpleUploadedFile("lamp.jpg", JPEG, content_type="image/jpeg")
    case = submit_multipart(data)
    assert sorted(case.attachments.values_list("name", "content_type")) == [("lamp.jpg", "image/jpeg"), ("road.png", "image/png")]
    assert case.open311.media_urls == ["https://fms.example.org/photo/1.jpeg", "https://fms.example.org/photo/2.jpeg"]


def submit_multipart(data) -> Case:
    response = Client().post(BASE + "requests.xml", data)  # the test client sends multipart/form-data
    assert response.status_code == 200, response.content
    return Case.objects.get(number=xml(response).findtext("request/service_request_id"))


def test_a_bad_upload_creates_nothing(tax, key, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = report(tax, key)
    data["media"] = SimpleUploadedFile("evil.php", b"<?php system($_GET['c']);", content_type="image/jpeg")
    [message] = errors_of(Client().post(BASE + "requests.xml", data), 400)
    assert "evil.php" in message and "格式不受支持" in message
    settings.TONGBAN_UPLOAD_MAX_BYTES = 32
    data["media"] = SimpleUploadedFile("big.png", PNG, content_type="image/png")
    assert "大小限制" in errors_of(Client().post(BASE + "requests.xml", data), 400)[0]
    data = report(tax, key, **{f"photo{i}": SimpleUploadedFile(f"{i}.png", PNG[:20]) for i in range(7)})
    assert errors_of(Client().post(BASE + "requests.xml", data), 400) == ["一次最多上传 6 个文件。"]
    assert not Case.objects.exists() and not Attachment.objects.exists()


def test_the_same_request_twice_makes_one_case(tax, key):
    first, second = submit(tax, key), submit(tax, key)
    assert first == second and Case.objects.count() == 1
    assert submit(tax, key, description="另一处路灯不亮") != first


def test_tokens_give_the_service_request_id(tax, key):
    response = post("requests.xml", report(tax, key))
    request = xml(response).find("request")
    token = request.findtext("token")
    root = xml(Client().get(BASE + f"tokens/{token}.xml", {"jurisdiction_id": JURISDICTION}))
    assert root.tag == "service_requests"
    assert [(c.tag, c.text) for c in root.find("request")] == [
        ("service_request_id", request.findtext("service_request_id")), ("token", token)]
    assert js(Client().get(BASE + f"tokens/{token}.json")) == [
        {"service_request_id": request.findtext("service_request_id"), "token": token}]
    errors_of(Client().get(BASE + "tokens/nope.xml"), 404)


# ---------------------------------------------------------------- GET requests


def walk(case, county, *, reply="已更换灯泡，恢复照明。"):
    """Dispatch, sign and finish a case (as the centre and the unit would)."""
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    hotline.sign(case, by=county.handler)
    hotline.finish(case, reply, "solved", by=county.handler)
    return case


def test_get_requests_fields_in_xml_and_json(tax, key, county):
    case = submit(tax, key, address_string="柳泉镇桃园村三组", media_url="https://fms.example.org/p/1.jpeg")
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    root = xml(Client().get(BASE + "requests.xml", {"jurisdiction_id": JURISDICTION}))
    assert root.tag == "service_requests"
    [request] = root.findall("request")
    assert [c.tag for c in request] == [
        "service_request_id", "status", "status_notes", "service_name", "service_code", "description", "agency_responsible",
        "service_notice", "requested_datetime", "updated_datetime", "expected_datetime", "address", "address_id", "zipcode",
        "lat", "long", "media_url"]
    case.refresh_from_db()
    expect = {
        "service_request_id": case.number, "status": "open", "status_notes": "待签收", "service_name": "城市建设和市政管理",
        "service_code": str(tax.civic.pk), "agency_responsible": "县住房和城乡建设局", "service_notice": "当前状态：待签收",
        "requested_datetime": "2026-11-25T15:30:00+08:00", "updated_datetime": "2026-11-25T15:30:00+08:00",
        "address": "柳泉镇桃园村三组", "address_id": None, "zipcode": None, "lat": "36.123456", "long": "117.654321",
        "media_url": "https://fms.example.org/p/1.jpeg",
    }
    for tag, value in expect.items():
        assert request.findtext(tag) == (value or ""), tag
    assert request.findtext("expected_datetime") == case.due_at.astimezone(local(2026, 1, 1).tzinfo).isoformat()
    assert request.findtext("expected_datetime").endswith("+08:00")
    assert request.findtext("description") == case.content

    [item] = js(Client().get(BASE + "requests.json"))
    assert item["service_request_id"] == case.number and item["service_code"] == str(tax.civic.pk)
    assert item["lat"] == 36.123456 and item["long"] == 117.654321 and item["zipcode"] is None
    single = js(Client().get(BASE + f"requests/{case.number}.json"))
    assert single == [item]
    assert xml(Client().get(BASE + f"requests/{case.number}.xml")).find("request/status").text == "open"
    errors_of(Client().get(BASE + "requests/2026010100001.xml"), 404)


def test_xml_stays_well_formed_whatever_the_text(tax, key):
    case = submit(tax, key, description="路灯<坏了> & \"井盖\"\x0b丢了\x01")
    request = xml(Client().get(BASE + f"requests/{case.number}.xml")).find("request")
    assert request.findtext("description").startswith("路灯<坏了> & \"井盖\"丢了")
    assert js(Client().get(BASE + f"requests/{case.number}.json"))[0]["description"] == case.content


def test_status_and_notes_follow_the_case(tax, key, county):
    case = walk(submit(tax, key), county)
    [item] = js(Client().get(BASE + f"requests/{case.number}.json"))
    assert (item["status"], item["status_notes"], item["service_notice"]) == ("closed", "已更换灯泡，恢复照明。", "当前状态：待回访")
    hotline.callback(case, reached=True, satisfaction="unsatisfied", by=county.operator)  # 重办: open again
    [item] = js(Client().get(BASE + f"requests/{case.number}.json"))
    assert item["status"] == "open"
    suspended = submit(tax, key, description="另一件")
    hotline.dispatch(suspended, county.housing, by=county.dispatcher)
    hotline.sign(suspended, by=county.handler)
    hotline.suspend(suspended, "等待供电公司停电检修", by=county.handler)
    [item] = js(Client().get(BASE + f"requests/{suspended.number}.json"))
    assert (item["status"], item["status_notes"]) == ("open", "等待供电公司停电检修")


def test_every_hotline_state_has_an_open311_status():
    assert set(services.STATUS) == set(HOTLINE.states)
    assert {s for s, v in services.STATUS.items() if v == "open"} == {s for s in HOTLINE.states if s in HOTLINE.transitions["supervise"].sources}


def test_filters_by_id_code_status_and_date(tax, key, county):
    with clock.at(NOW - timedelta(days=100)):
        old = submit(tax, key, description="一百天前")
    with clock.at(NOW - timedelta(days=10)):
        lamp = submit(tax, key, description="路灯")
    Service.objects.create(category=tax.housing, location_required=False)
    with clock.at(NOW - timedelta(days=5)):
        house = submit(tax, key, service_code=str(tax.housing.pk), description="房屋")
    done = walk(submit(tax, key, description="已办结"), county)

    def numbers(fmt="json", **params):
        response = Client().get(BASE + f"requests.{fmt}", params)
        assert response.status_code == 200, response.content
        if fmt == "xml":
            return [r.findtext("service_request_id") for r in xml(response)]
        return [r["service_request_id"] for r in js(response)]

    assert numbers() == [done.number, house.number, lamp.number]  # newest first, last 90 days
    assert numbers("xml") == numbers()
    assert numbers(service_code=str(tax.civic.pk)) == [done.number, lamp.number]
    assert numbers(service_code=f"{tax.civic.pk},{tax.housing.pk}") == [done.number, house.number, lamp.number]
    assert numbers(status="closed") == [done.number]
    assert numbers(status="open") == [house.number, lamp.number]
    assert numbers(status="open,closed") == numbers()
    assert numbers(service_request_id=f"{old.number},{lamp.number}", status="closed") == [lamp.number, old.number]  # overrides
    assert numbers(start_date="2026-08-01T00:00:00+08:00", end_date="2026-08-30T00:00:00Z") == [old.number]
    assert numbers(start_date="2026-11-12", end_date="2026-11-21T00:00:00+08:00") == [house.number, lamp.number]
    assert numbers(start_date="2026-08-17T00:00:00+08:00") == [old.number]  # start + 90 days: to 11-15 00:00
    assert numbers(start_date="2026-08-18T00:00:00+08:00") == [lamp.number]  # to 11-16 00:00
    assert numbers(end_date="2026-11-16T00:00:00+08:00") == [lamp.number]  # end − 90 days: from 08-18
    assert numbers(start_date="2026-11-20T00:00:00 08:00") == [done.number, house.number]  # "+" decoded as a space

    for params, message in [
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "start_date 与 end_date 相距不能超过 90 天。"),
        ({"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-05-01T00:00:00Z"}, "end_date 早于 start_date。"),
        ({"start_date": "上周"}, "start_date “上周” 不是 ISO 8601 日期时间，例如 2026-11-01T00:00:00+08:00。"),
        ({"status": "pending"}, "status 只能是 open 或 closed（多个以逗号分隔）。"),
        ({"service_code": "lamps"}, "service_code 应为服务列表中的代码，多个以逗号分隔。"),
    ]:
        assert errors_of(Client().get(BASE + "requests.xml", params), 400) == [message]


def test_at_most_max_rows_newest_first(tax, key, monkeypatch):
    assert services.MAX_ROWS == 1000  # the spec's response volume; lowered below to keep the test small
    made = []
    for i in range(5):
        with clock.at(NOW - timedelta(hours=5 - i)):
            made.append(submit(tax, key, description=f"第{i}件"))
    monkeypatch.setattr(services, "MAX_ROWS", 3)
    got = [r["service_request_id"] for r in js(Client().get(BASE + "requests.json"))]
    assert got == [c.number for c in reversed(made)][:3]
    ids = ",".join(c.number for c in made)
    assert len(js(Client().get(BASE + "requests.json", {"service_request_id": ids}))) == 3


def test_only_open311_requests_are_public_unless_configured(tax, key, county, make_request, settings):
    phoned = make_request()
    via_api = submit(tax, key)
    assert [r["service_request_id"] for r in js(Client().get(BASE + "requests.json"))] == [via_api.number]
    errors_of(Client().get(BASE + f"requests/{phoned.number}.xml"), 404)
    settings.TONGBAN_OPEN311_PUBLIC_CHANNELS = ["phone"]
    got = js(Client().get(BASE + "requests.json"))
    assert {r["service_request_id"] for r in got} == {phoned.number, via_api.number}
    assert "张三" not in json.dumps(got, ensure_ascii=False) and "13812341234" not in json.dumps(got)


def test_no_personal_data_leaves_the_api(tax, key, county):
    case = submit(tax, key, first_name="小明", last_name="王", phone="13900001111", email="wxm@example.org",
                  device_id="device-7788", account_id="acct-5566")
    walk(case, county)
    bodies = [Client().get(BASE + path).content.decode() for path in (
        "requests.xml", "requests.json", f"requests/{case.number}.xml", f"requests/{case.number}.json",
        "servicerequestupdates.xml", "servicerequestupdates.json", f"tokens/{case.open311.token}.xml")]
    for body in bodies:
        for secret in ("王小明", "13900001111", "wxm@example.org", "device-7788", "acct-5566", "小明"):
            assert secret not in body
    assert case.requester_name == "王小明"  # it is on the case, for the hotline


# ---------------------------------------------------------------- servicerequestupdates


def test_updates_list_the_status_changes(tax, key, county):
    case = submit(tax, key)
    with clock.at(NOW + timedelta(hours=1)):
        hotline.dispatch(case, county.housing, by=county.dispatcher, note="请尽快处理（内部说明）")
    with clock.at(NOW + timedelta(hours=2)):
        hotline.sign(case, by=county.handler)
        hotline.add_progress(case, "已联系供电所（内部）", by=county.handler)
    with clock.at(NOW + timedelta(hours=3)):
        hotline.finish(case, "已更换灯泡。", "solved", by=county.handler)
    with clock.at(NOW + timedelta(hours=4)):
        hotline.callback(case, reached=False, by=county.operator)
        hotline.callback(case, reached=True, satisfaction="satisfied", by=county.operator)
    with clock.at(NOW + timedelta(hours=5)):
        root = xml(Client().get(BASE + "servicerequestupdates.xml", {"api_key": key, "jurisdiction_id": JURISDICTION}))
        data = js(Client().get(BASE + "servicerequestupdates.json"))
    assert root.tag == "service_request_updates" and {u.tag for u in root} == {"request_update"}
    got = [(u.findtext("service_request_id"), u.findtext("status"), u.findtext("description")) for u in root]
    assert got == [
        (case.number, "open", "已派至县住房和城乡建设局办理。"),
        (case.number, "in_progress", "县住房和城乡建设局已签收，正在办理。"),
        (case.number, "fixed", "已更换灯泡。"),
        (case.number, "closed", "回访完成，已结案。"),
    ]
    first = root.find("request_update")
    assert [c.tag for c in first] == ["update_id", "service_request_id", "status", "updated_datetime", "description",
                                      "media_url", "external_status_code"]
    assert first.findtext("updated_datetime") == "2026-11-25T16:30:00+08:00"
    assert first.findtext("update_id") == str(case.events.get(action="dispatch").pk)
    assert [u["update_id"] for u in data] == [u.findtext("update_id") for u in root]
    assert "内部" not in root.findall("request_update")[1].findtext("description")
    window = {"start_date": "2026-11-25T18:00:00+08:00", "end_date": "2026-11-25T19:00:00+08:00"}
    assert [u["status"] for u in js(Client().get(BASE + "servicerequestupdates.json", window))] == ["fixed"]
    assert errors_of(Client().get(BASE + "servicerequestupdates.xml", {"start_date": "2026-01-01", "end_date": "2026-12-01"}), 400)


def test_refusal_merge_and_reopen_statuses(tax, key, county):
    refused = submit(tax, key, description="甲")
    hotline.refuse(refused, "litigation", "属于司法程序事项，请向法院咨询。", by=county.operator)
    original, dup = submit(tax, key, description="乙"), submit(tax, key, description="丙")
    hotline.link_duplicate(dup, original, by=county.operator)
    statuses = {(u["service_request_id"], u["status"]) for u in js(Client().get(BASE + "servicerequestupdates.json"))}
    assert statuses == {(refused.number, "no_further_action"), (dup.number, "duplicate")}
    [item] = js(Client().get(BASE + f"requests/{dup.number}.json"))
    assert (item["status"], item["status_notes"]) == ("closed", f"并入 {original.number}")


def test_post_an_update_records_a_requester_comment(tax, key, county):
    case = walk(submit(tax, key), county)
    body = {"api_key": key, "jurisdiction_id": JURISDICTION, "service_request_id": case.number, "update_id": "9001",
            "status": "OPEN", "description": "灯又不亮了", "first_name": "三", "last_name": "张", "email": "zhang@example.org",
            "updated_datetime": "2026-11-25T07:20:00Z", "media_url": "https://fms.example.org/c/9001.jpeg"}
    response = post("servicerequestupdates.xml", body)
    assert response.status_code == 200, response.content
    root = xml(response)
    assert root.tag == "service_request_updates"
    update_id = root.findtext("request_update/update_id")
    update = ClientUpdate.objects.get(pk=update_id)
    assert (update.status, update.external_id, update.author) == ("open", "9001", "张三")
    assert update.updated_at == local(2026, 11, 25, 15, 20)
    event = case.events.order_by("-seq").first()
    assert (event.action, event.to_state, event.actor) == ("supplement", "pending_callback", None)
    assert event.note == "诉求人表示问题仍未解决。\n灯又不亮了\n图片：https://fms.example.org/c/9001.jpeg"
    case.refresh_from_db()
    assert case.state == "pending_callback"  # the unit and the call-back decide, not the app
    again = post("servicerequestupdates.xml", body)
    assert xml(again).findtext("request_update/update_id") == update_id  # sent twice, stored once
    assert ClientUpdate.objects.count() == 1
    assert "supplement" not in [u["external_status_code"] for u in js(Client().get(BASE + "servicerequestupdates.json"))]
    closed = post("servicerequestupdates.json", {**body, "update_id": "9002", "status": "CLOSED", "description": ""})
    assert closed.status_code == 200 and js(closed)[0]["update_id"] != update_id
    assert case.events.order_by("-seq").first().note.startswith("诉求人表示问题已解决。")


def test_staff_see_the_requesters_comment_on_the_case_page(tax, key, county):
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = submit(tax, key)
    response = post("servicerequestupdates.xml", {"api_key": key, "service_request_id": case.number, "description": "路口那盏也坏了",
                                                  "media": SimpleUploadedFile("more.png", PNG)})
    assert response.status_code == 200
    staff = Client()
    staff.force_login(county.operator)
    page = staff.get(f"/cases/{case.number}/").content.decode()
    assert "诉求人补充" in page and "路口那盏也坏了" in page
    assert list(case.attachments.values_list("name", flat=True)) == ["more.png"]


def test_post_update_errors(tax, key, county, make_request):
    case = submit(tax, key)
    other_key = ApiClient.issue("另一个应用")[1]
    base = {"api_key": key, "service_request_id": case.number, "description": "补充"}
    assert errors_of(post("servicerequestupdates.xml", {**base, "api_key": ""}), 403)
    assert errors_of(post("servicerequestupdates.xml", {**base, "api_key": other_key}), 404)
    assert errors_of(post("servicerequestupdates.xml", {**base, "service_request_id": make_request().number}), 404)
    assert errors_of(post("servicerequestupdates.xml", {**base, "service_request_id": ""}), 400) == ["缺少 service_request_id。"]
    assert "无法识别" in errors_of(post("servicerequestupdates.xml", {**base, "status": "DONE"}), 400)[0]
    assert errors_of(post("servicerequestupdates.xml", {**base, "description": ""}), 400) == ["请提供 description 或 status。"]
    assert errors_of(post("servicerequestupdates.xml", {**base, "updated_datetime": "今天"}), 400)
    assert not ClientUpdate.objects.exists() and not case.events.filter(action="supplement").exists()


# ---------------------------------------------------------------- the spec's example responses

SPEC = {  # the GeoReport v2 page's example responses, whitespace removed
    "services": '<?xml version="1.0" encoding="utf-8"?><services><service><service_code>001</service_code>'
                "<service_name>Cans left out 24x7</service_name><description>Garbage or recycling cans that have been left "
                "out for more than 24 hours after collection. Violators will be cited.</description><metadata>true</metadata>"
                "<type>realtime</type><keywords>lorem, ipsum, dolor</keywords><group>sanitation</group></service></services>",
    "definition": '<?xml version="1.0" encoding="utf-8"?><service_definition><service_code>DMV66</service_code><attributes>'
                  "<attribute><variable>true</variable><code>WHISHETN</code><datatype>singlevaluelist</datatype>"
                  "<required>true</required><datatype_description></datatype_description><order>1</order>"
                  "<description>What is the ticket/tag/DL number?</description><values><value><key>123</key><name>Ford</name>"
                  "</value><value><key>124</key><name>Chrysler</name></value></values></attribute></attributes>"
                  "</service_definition>",
    "created": '<?xml version="1.0" encoding="utf-8"?><service_requests><request><service_request_id>293944</service_request_id>'
               "<service_notice>The City will inspect and require the responsible party to correct within 24 hours and/or issue "
               "a Correction Notice or Notice of Violation of the Public Works Code</service_notice><account_id/></request>"
               "</service_requests>",
    "token": '<?xml version="1.0" encoding="utf-8"?><service_requests><request><service_request_id>638344</service_request_id>'
             "<token>12345</token></request></service_requests>",
    "requests": '<?xml version="1.0" encoding="utf-8"?><service_requests><request><service_request_id>638344</service_request_id>'
                "<status>closed</status><status_notes>Duplicate request.</status_notes><service_name>Sidewalk and Curb Issues"
                "</service_name><service_code>006</service_code><description></description><agency_responsible>"
                "</agency_responsible><service_notice></service_notice><requested_datetime>2010-04-14T06:37:38-08:00"
                "</requested_datetime><updated_datetime>2010-04-14T06:37:38-08:00</updated_datetime><expected_datetime>"
                "2010-04-15T06:37:38-08:00</expected_datetime><address>8TH AVE and JUDAH ST</address><address_id>545483"
                "</address_id><zipcode>94122</zipcode><lat>37.762221815</lat><long>-122.4651145</long><media_url>"
                "http://city.gov.s3.amazonaws.com/requests/media/638344.jpg </media_url></request></service_requests>",
    "errors": '<?xml version="1.0" encoding="utf-8"?><errors><error><code>403</code><description>Invalid api_key received -- '
              "can't proceed with create_request.</description></error></errors>",
}


def paths(element, prefix="") -> set[str]:
    here = f"{prefix}/{element.tag}"
    return {here}.union(*(paths(child, here) for child in element))


def test_responses_have_the_shape_of_the_specs_examples(tax, key, county):
    def spec(name):
        return paths(ET.fromstring(SPEC[name].encode()))

    assert paths(xml(Client().get(BASE + "services.xml"))) == spec("services")
    assert paths(xml(Client().get(BASE + f"services/{tax.civic.pk}.xml"))) == spec("definition")
    created = xml(post("requests.xml", report(tax, key)))
    assert paths(created) == spec("created") | {"/service_requests/request/token"}  # both, see docs/open311.md
    token = created.findtext("request/token")
    assert paths(xml(Client().get(BASE + f"tokens/{token}.xml"))) == spec("token")
    walk(Case.objects.get(), county)
    root = xml(Client().get(BASE + "requests.xml"))
    assert paths(root) == spec("requests")
    assert [c.tag for c in root.find("request")] == [c.tag for c in ET.fromstring(SPEC["requests"].encode()).find("request")]
    assert paths(xml(post("requests.xml", report(tax, "nope")))) == spec("errors")


# ---------------------------------------------------------------- FixMyStreet, replayed


def perl_form(pairs) -> bytes:
    """What HTTP::Request::Common's POST sends for a list of pairs (URI::query_form encoding)."""
    return urlencode(pairs).encode()


def perl_multipart(pairs, files, boundary="xYzZY") -> bytes:
    """HTTP::Request::Common's form-data body: CRLF lines, one part per field, files with their type."""
    out = []
    for name, value in pairs:
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, data in files:
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                   f"Content-Type: image/jpeg\r\n\r\n".encode() + data + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out)


def fms_request_id(response):
    """Open311.pm: XML::Simple with ForceArray on `request`; $obj->{request}->[0]->{service_request_id}, a scalar."""
    assert response.status_code == 200, response.content
    root = ET.fromstring(response.content)
    requests = root.findall("request")
    assert root.tag == "service_requests" and requests
    value = requests[0].find("service_request_id")
    assert value is not None and len(value) == 0 and value.text
    return value.text


def test_fixmystreet_client_end_to_end(tax, key, county):
    """Open311.pm as deployed: send_service_request (form, then multipart photos), tokens/,
    get_service_requests, get_service_request_updates and post_service_request_update."""
    fms = Client()
    description = ("路灯不亮\n\n桃园村三组路灯坏了一个月。\n\n"
                   "https://fixmystreet.example.org/report/4242\n")
    pairs = [
        ("jurisdiction_id", JURISDICTION), ("api_key", key), ("description", description),
        ("service_code", str(tax.civic.pk)), ("first_name", "三"), ("last_name", "张"),
        ("email", "zhang@example.org"), ("phone", "13812341234"), ("lat", "36.123456"), ("long", "117.654321"),
        ("media_url", "https://fixmystreet.example.org/photo/4242.0.full.jpeg"),
        ("media_url", "https://fixmystreet.example.org/photo/4242.1.full.jpeg"),
        ("deviceid", "FixMyStreet-iOS"), ("attribute[kind]", "lamp"), ("attribute[easting]", "123"),
        ("attribute[fixmystreet_id]", "4242"),
    ]
    number = fms_request_id(fms.post(BASE + "requests.xml", perl_form(pairs), content_type="application/x-www-form-urlencoded"))
    case = Case.objects.get(number=number)
    assert case.open311.device_id == "FixMyStreet-iOS"
    assert case.open311.media_urls == [p[1] for p in pairs if p[0] == "media_url"]
    assert case.title == "路灯不亮"

    # with upload_files on, the same request goes as multipart with the photos attached
    photo_pairs = [p for p in pairs if p[0] != "description"] + [("description", "井盖缺失\n\n三组路口井盖没了。")]
    body = perl_multipart(photo_pairs, [("photo1", "4243.0.full.jpeg", JPEG), ("photo2", "4243.1.full.jpeg", JPEG)])
    number2 = fms_request_id(fms.post(BASE + "requests.xml", body, content_type="multipart/form-data; boundary=xYzZY"))
    assert Case.objects.get(number=number2).attachments.count() == 2

    # a server that answers with a token: FixMyStreet polls tokens/{token}.xml
    token = Submission.objects.get(case__number=number2).token
    assert fms_request_id(fms.get(BASE + f"tokens/{token}.xml", {"jurisdiction_id": JURISDICTION})) == number2

    # get_service_requests: service_request_id joined by commas
    root = ET.fromstring(fms.get(BASE + "requests.xml", {"jurisdiction_id": JURISDICTION,
                                                          "service_request_id": f"{number},{number2}"}).content)
    assert sorted(r.findtext("service_request_id") for r in root.findall("request")) == sorted([number, number2])

    # the unit works on it; get_service_request_updates polls with api_key, start_date and end_date
    with clock.at(NOW + timedelta(minutes=10)):
        hotline.dispatch(case, county.housing, by=county.dispatcher)
    with clock.at(NOW + timedelta(minutes=20)):
        hotline.sign(case, by=county.handler)
        hotline.finish(case, "已更换灯泡。", "solved", by=county.handler)
    query = {"api_key": key, "start_date": "2026-11-25T07:00:00Z", "end_date": "2026-11-25T08:00:00Z",
             "jurisdiction_id": JURISDICTION}
    root = ET.fromstring(fms.get(BASE + "servicerequestupdates.xml", query).content)
    updates = root.findall("request_update")
    assert root.tag == "service_request_updates"
    assert [(u.findtext("service_request_id"), u.findtext("status")) for u in updates] == [
        (number, "open"), (number, "in_progress"), (number, "fixed")]
    fixed = updates[-1]
    assert fixed.findtext("status").lower().replace("_", " ") == "fixed"  # Open311.pm map_state → "fixed - council"
    assert fixed.findtext("description") == "已更换灯泡。" and fixed.findtext("update_id").isdigit()

    # post_service_request_update: a comment made on FixMyStreet goes back
    update = [("jurisdiction_id", JURISDICTION), ("api_key", key), ("updated_datetime", "2026-11-25T08:10:00Z"),
              ("service_request_id", number), ("status", "CLOSED"), ("description", "谢谢，已经亮了。"),
              ("last_name", "张"), ("first_name", "三"), ("email", "zhang@example.org"), ("update_id", "77001"),
              ("title", "Mr"), ("email_alerts_requested", "FALSE")]
    response = fms.post(BASE + "servicerequestupdates.xml", perl_form(update), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.content
    root = ET.fromstring(response.content)
    value = root.find("request_update/update_id")
    assert root.tag == "service_request_updates" and value.text and len(value) == 0
    assert case.events.order_by("-seq").first().action == "supplement"

    # errors come back in the shape _process_error reads: $obj->{error}->[i]->{code, description}
    bad = fms.post(BASE + "requests.xml", perl_form([("api_key", "wrong"), ("service_code", str(tax.civic.pk))]),
                   content_type="application/x-www-form-urlencoded")
    assert bad.status_code == 403
    assert [(e.findtext("code"), e.findtext("description")) for e in ET.fromstring(bad.content).findall("error")] == [
        ("403", "api_key 无效或已停用。")]


# ---------------------------------------------------------------- keys, command, admin, demo


def test_the_command_manages_clients(tax):
    out = StringIO()
    call_command("open311_client", "add", "城市通 App", "--contact", "李工 0534-1234567", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    assert ApiClient.lookup(key).name == "城市通 App"
    assert submit(tax, key).open311.client.name == "城市通 App"
    out = StringIO()
    call_command("open311_client", "list", stdout=out)
    assert "城市通 App" in out.getvalue() and key[:8] in out.getvalue()
    out = StringIO()
    call_command("open311_client", "reissue", "城市通 App", stdout=out)
    new_key = out.getvalue().strip().splitlines()[-1]
    assert ApiClient.lookup(key) is None and ApiClient.lookup(new_key)
    call_command("open311_client", "disable", "城市通 App", stdout=StringIO())
    assert ApiClient.lookup(new_key) is None
    call_command("open311_client", "enable", "城市通 App", stdout=StringIO())
    assert ApiClient.lookup(new_key)
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="没有名为"):
        call_command("open311_client", "reissue", "不存在", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("open311_client", "add", "城市通 App", stdout=StringIO())


def test_admin_issues_a_key_once(county):
    admin = Client()
    admin.force_login(county.admin)
    response = admin.post("/admin/open311/apiclient/add/", {"name": "网格通", "contact": "", "active": "on"}, follow=True)
    assert response.status_code == 200
    [message] = [str(m) for m in response.context["messages"] if "api_key" in str(m)]
    key = re.search(r"api_key：(\S+)", message).group(1)
    assert ApiClient.lookup(key).name == "网格通"
    assert key not in admin.get(f"/admin/open311/apiclient/{ApiClient.objects.get().pk}/change/").content.decode()


def test_admin_pages_for_clients_services_and_attributes(tax, key, county):
    admin = Client()
    admin.force_login(county.admin)
    for path in ("apiclient/", "apiclient/add/", "service/", "service/add/", f"service/{tax.service.pk}/change/",
                 "attribute/", f"attribute/{tax.service.attributes.get(code='kind').pk}/change/", "submission/", "clientupdate/"):
        assert admin.get(f"/admin/open311/{path}").status_code == 200, path
    form = {"service": tax.service.pk, "code": "colour", "datatype": "singlevaluelist", "order": 9, "description": "颜色",
            "variable": "on", "values-TOTAL_FORMS": "1", "values-INITIAL_FORMS": "0", "values-0-order": "0",
            "values-0-key": "", "values-0-name": ""}
    response = admin.post("/admin/open311/attribute/add/", form)
    assert response.status_code == 200 and "单选、多选属性至少需要一个选项。" in response.content.decode()
    form.update({"values-0-key": "red", "values-0-name": "红色"})
    assert admin.post("/admin/open311/attribute/add/", form).status_code == 302
    assert list(Attribute.objects.get(code="colour").values.values_list("key", "name")) == [("red", "红色")]


def test_demo_builds_a_client_attributes_and_marks_the_api_requests(county, make_request):
    from tongban.hotline.taxonomy import load_taxonomy

    load_taxonomy()
    phoned = make_request()
    via_api = make_request(channel="api", title="井盖缺失", category=Category.objects.get(full_name="城乡建设/城市建设和市政管理/城市公共设施"))
    lines = demo.build(None, seed=7, end=NOW)
    assert lines == [f"Open311：接入应用“FixMyStreet 示范”，api_key {demo.demo_key(7)}；1 件经接口提交的诉求；"
                     f"接口地址 /open311/v2/（jurisdiction_id {JURISDICTION}）"]
    client = ApiClient.lookup(demo.demo_key(7))
    assert client.name == demo.CLIENT_NAME
    assert Attribute.objects.filter(service__category__full_name="城乡建设/城市建设和市政管理").count() == 3
    [item] = js(Client().get(BASE + "requests.json"))
    assert item["service_request_id"] == via_api.number and item["service_name"] == "城市建设和市政管理"
    assert Case.objects.count() == 2 and phoned.number != via_api.number  # nothing new is created
    civic = Category.objects.get(full_name="城乡建设/城市建设和市政管理")
    assert js(Client().get(BASE + f"services/{civic.pk}.json"))["attributes"][0]["code"] == "facility"
    data = {"api_key": demo.demo_key(7), "service_code": str(civic.pk), "address_string": "柳泉镇桃园村",
            "description": "路灯不亮", "attribute[facility]": "streetlight", "attribute[hazard][]": ["night"]}
    assert post("requests.xml", data).status_code == 200
    demo.wipe()
    assert not ApiClient.objects.exists() and not Service.objects.exists() and not Submission.objects.exists()
