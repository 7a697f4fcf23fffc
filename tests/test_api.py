"""REST API /api/v1/: tokens, the whole loop, lists and pages, data scope, errors, PII, stats, docs."""
import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tongban.analytics.metrics import unit_scores
from tongban.api.models import ApiToken, digest
from tongban.cases.models import Case, CaseEvent, Category
from tongban.core import clock
from tongban.hotline import services as hotline

from .conftest import local

pytestmark = pytest.mark.django_db

PASSWORD = "Tongban#2026"
BASE = "/api/v1"


def get_token(username, password=PASSWORD, **extra):
    return Client().post(f"{BASE}/auth/token", {"username": username, "password": password, **extra},
                         content_type="application/json")


class Api:
    """A test client that sends the Bearer token of one person."""

    def __init__(self, user):
        response = get_token(user.username)
        assert response.status_code == 201, response.content
        self.token = response.json()["token"]
        self.client = Client(headers={"Authorization": f"Bearer {self.token}"})

    def get(self, path, **params):
        return self.client.get(BASE + path, params)

    def post(self, path, data=None):
        if data is None:  # no body at all, as `curl -X POST` sends
            return self.client.post(BASE + path, "", content_type="application/json")
        return self.client.post(BASE + path, json.dumps(data), content_type="application/json")

    def act(self, number, action, data=None, status=200):
        response = self.post(f"/cases/{number}/{action}", data)
        assert response.status_code == status, response.content.decode()
        return response.json()


@pytest.fixture
def api(county):
    cache = {}

    def for_user(user):
        if user.pk not in cache:
            cache[user.pk] = Api(user)
        return cache[user.pk]

    return for_user


INTAKE = {
    "case_type": "complaint", "title": "小区路灯不亮", "content": "柳泉镇桃园村三组路灯坏了一个月，晚上出行不便。",
    "requester_name": "张三", "requester_phone": "13812341234", "address": "柳泉镇桃园村三组", "channel": "phone",
}


# ---- tokens -------------------------------------------------------------------------------------

def test_a_token_is_issued_for_good_credentials_and_only_its_digest_is_stored(county):
    response = get_token("handler", name="脚本")
    assert response.status_code == 201
    body = response.json()
    token = body["token"]
    assert len(token) >= 40 and body["prefix"] == token[:8] and body["name"] == "脚本"
    row = ApiToken.objects.get()
    assert row.user == county.handler and row.key_hash == digest(token) and row.prefix == token[:8]
    assert token not in str(ApiToken.objects.values().get())
    assert row.expires_at > timezone.now() + timedelta(days=80)
    me = Client(headers={"Authorization": f"Bearer {token}"}).get(f"{BASE}/me").json()
    assert me["username"] == "handler" and me["unit"]["name"] == "县住房和城乡建设局" and me["auth"] == "token"


@pytest.mark.parametrize("username, password", [("handler", "wrong-password"), ("nobody", PASSWORD), ("inactive", PASSWORD)])
def test_wrong_credentials_or_an_inactive_account_get_401(county, username, password):
    county.handler.__class__.objects.filter(username="other").update(username="inactive", is_active=False)
    response = get_token(username, password)
    assert response.status_code == 401
    assert response.json() == {"detail": "用户名或密码错误。"}
    assert not ApiToken.objects.exists()


def test_requests_without_a_usable_token_get_401_in_chinese(county, api):
    assert Client().get(f"{BASE}/cases").status_code == 401
    bad = Client(headers={"Authorization": "Bearer not-a-token"}).get(f"{BASE}/cases")
    assert bad.status_code == 401 and "令牌" in bad.json()["detail"] and bad["WWW-Authenticate"].startswith("Bearer")
    # revoked
    a = api(county.handler)
    assert a.client.delete(f"{BASE}/auth/token").status_code == 204
    assert a.get("/cases").status_code == 401
    # expired
    b = Api(county.other_handler)
    ApiToken.objects.filter(key_hash=digest(b.token)).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert b.get("/cases").status_code == 401
    # deactivated account
    c = Api(county.operator)
    county.operator.__class__.objects.filter(pk=county.operator.pk).update(is_active=False)
    assert c.get("/cases").status_code == 401


def test_token_lookups_are_cached_briefly_and_forgotten_on_revocation(county, api, settings, monkeypatch):
    """Each process looks a busy token up once per TONGBAN_API_TOKEN_CACHE_SECONDS. Revoking it here, or
    saving its user, takes effect at once; a change made by another process within the TTL."""
    from tongban.core import recent

    settings.TONGBAN_API_TOKEN_CACHE_SECONDS = 5
    now = [1000.0]
    monkeypatch.setattr(recent, "monotonic", lambda: now[0])
    a = api(county.handler)
    assert a.get("/me").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert a.get("/me").status_code == 200
    assert not any("api_apitoken" in q["sql"] for q in queries.captured_queries)  # served from the cache
    ApiToken.objects.filter(key_hash=digest(a.token)).update(revoked=True)  # as another process would
    assert a.get("/me").status_code == 200  # still within the 5 seconds
    now[0] += 5.1
    assert a.get("/me").status_code == 401
    b = api(county.operator)
    assert b.get("/me").status_code == 200
    county.operator.is_active = False
    county.operator.save()  # a change to the user clears the cache in this process
    assert b.get("/me").status_code == 401
    c = api(county.dispatcher)
    assert c.get("/me").status_code == 200
    assert c.client.delete(f"{BASE}/auth/token").status_code == 204
    assert c.get("/me").status_code == 401


def test_using_a_token_records_when_it_was_last_used(county, api):
    a = api(county.handler)
    assert ApiToken.objects.get().last_used_at is None
    a.get("/me")
    assert ApiToken.objects.get().last_used_at is not None


# ---- the loop -----------------------------------------------------------------------------------

def test_a_complaint_goes_round_the_whole_loop_through_the_api(county, api):
    op, disp, handler = api(county.operator), api(county.dispatcher), api(county.handler)
    with clock.at(local(2026, 9, 30, 10)):
        response = op.post("/cases", {**INTAKE, "category": county.category.pk, "region": county.village.pk,
                                      "latitude": 30.123456789, "longitude": 120.5})
    assert response.status_code == 201, response.content
    case = response.json()
    number = case["number"]
    assert case["state"] == "pending_dispatch" and case["state_label"] == "待派单"
    assert case["region"]["name"] == "桃园村" and case["latitude"] == 30.123457
    assert [a["action"] for a in case["allowed_actions"]] == ["answer", "refuse", "merge", "dispatch"]
    assert case["allowed_actions"][3] == {"action": "dispatch", "label": "派单", "method": "POST", "path": f"/api/v1/cases/{number}/dispatch"}

    with clock.at(local(2026, 9, 30, 10, 30)):
        case = disp.act(number, "dispatch", {"unit": county.housing.pk, "co_units": [county.transport.pk], "note": "请尽快处理"})
    assert case["state"] == "pending_sign" and case["unit"]["id"] == county.housing.pk
    assert case["due_at"].startswith("2026-10-13T23:59:59") and case["due_at"].endswith("+08:00")
    assert [(a["unit"]["id"], a["role"]) for a in case["assignments"]] == [(county.housing.pk, "lead"), (county.transport.pk, "assist")]

    detail = handler.get(f"/cases/{number}").json()
    assert [a["action"] for a in detail["allowed_actions"]] == ["sign", "return"]
    with clock.at(local(2026, 10, 8, 9)):
        handler.act(number, "sign")
    with clock.at(local(2026, 10, 9, 15)):
        case = handler.act(number, "finish", {"reply": "已安排维修人员更换灯具，现已恢复照明。", "result": "solved"})
    assert case["state"] == "pending_callback" and case["result"] == "solved" and case["result_label"] == "已解决"
    with clock.at(local(2026, 10, 10, 10)):
        case = op.act(number, "callback", {"reached": True, "satisfaction": "satisfied", "solved": True, "note": "满意"})
    assert case["state"] == "closed" and case["satisfaction"] == "satisfied" and not case["is_open"]
    assert case["allowed_actions"] == []

    detail = handler.get(f"/cases/{number}").json()
    db_events = list(CaseEvent.objects.filter(case__number=number).order_by("seq"))
    assert [e["action"] for e in detail["events"]] == [e.action for e in db_events] == ["create", "dispatch", "sign", "finish", "callback"]
    assert [e["seq"] for e in detail["events"]] == [1, 2, 3, 4, 5]
    assert [e["action_label"] for e in detail["events"]] == ["受理", "派单", "签收", "办结", "回访"]
    sign = detail["events"][2]
    assert sign["from_state"] == "pending_sign" and sign["from_state_label"] == "待签收"
    assert sign["to_state"] == "handling" and sign["to_state_label"] == "办理中"
    assert sign["actor"] == str(county.handler) and sign["actor_unit"]["name"] == "县住房和城乡建设局"
    assert sign["unit"]["id"] == county.housing.pk and sign["on_time"] is True
    assert sign["created_at"].startswith("2026-10-08T09:00:00")
    finish, callback = detail["events"][3], detail["events"][4]
    assert finish["outcome"] == "solved" and finish["outcome_label"] == "已解决" and finish["on_time"] is True
    assert callback["outcome_label"] == "满意" and callback["solved"] is True and callback["actor"] == str(county.operator)


def test_every_other_action_is_reachable_through_its_endpoint(county, api):
    op, disp, sup = api(county.operator), api(county.dispatcher), api(county.supervisor)
    handler, other, town, village = api(county.handler), api(county.other_handler), api(county.town_dispatcher), api(county.village_handler)
    new = lambda **kw: op.post("/cases", {**INTAKE, **kw}).json()["number"]  # noqa: E731

    # 退回 → 改派; 退回 → 驳回 with 协办
    a = new()
    disp.act(a, "dispatch", {"unit": county.housing.pk})
    assert handler.act(a, "return", {"reason": "非本单位职责，应由交通运输局处理"})["state"] == "disputed"
    case = disp.act(a, "reassign", {"unit": county.transport.pk, "note": "改派交通局"})
    assert case["state"] == "pending_sign" and case["unit"]["id"] == county.transport.pk
    other.act(a, "sign")
    other.act(a, "return", {"reason": "涉及住建部门"})
    case = disp.act(a, "keep", {"note": "首接负责，住建局协办", "co_units": [county.housing.pk]})
    assert case["state"] == "handling" and case["unit"]["id"] == county.transport.pk

    # 延期申请与审批, 记录进展, 挂起与恢复, 督办
    case = other.act(a, "extension", {"days": 3, "reason": "需协调施工单位"})
    assert case["extension_request"] == {"days": 3, "reason": "需协调施工单位"}
    assert "decide_extension" in {x["action"] for x in sup.get(f"/cases/{a}").json()["allowed_actions"]}
    due = case["due_at"]
    case = sup.act(a, "extension-decision", {"approve": True, "note": "同意"})
    assert case["extensions_used"] == 1 and case["due_at"] > due and case["extension_request"] is None
    other.act(a, "progress", {"note": "已联系施工单位"})
    assert other.act(a, "suspend", {"reason": "等待诉求人补充现场照片"})["state"] == "suspended"
    assert other.act(a, "resume")["state"] == "handling"  # body may be omitted
    assert sup.act(a, "supervise", {"note": "请加快办理"})["supervised"] is True

    # 下派 to a village; the village signs and finishes
    b = new()
    disp.act(b, "dispatch", {"unit": county.town_office.pk})
    case = town.act(b, "relay", {"unit": county.village_committee.pk, "note": "请村委会处理"})
    assert case["unit"]["id"] == county.village_committee.pk
    village.act(b, "sign")
    assert village.act(b, "finish", {"reply": "村委会已组织修复。", "result": "solved"})["state"] == "pending_callback"

    # 直接答复, 不予受理, 并案
    c = new(case_type="consult")
    assert op.act(c, "answer", {"reply": "请携带户口簿到政务服务中心办理。"})["state"] == "pending_callback"
    d = new()
    case = op.act(d, "refuse", {"reason": "emergency", "note": "已转接 110"})
    assert case["state"] == "refused" and case["events"][-1]["outcome_label"].startswith("应当通过110")
    e = new(requester_phone="13900001111")
    original = new()
    case = op.act(e, "merge", {"original": original})
    assert case["state"] == "merged" and case["duplicate_of"] == original
    assert op.get(f"/cases/{original}/earlier").status_code == 200


# ---- lists and pages ----------------------------------------------------------------------------

def test_list_filters_and_cursor_pages_cover_every_case_exactly_once(county, api, make_request):
    moment = local(2026, 11, 20, 9)
    made = [make_request(at=moment) for _ in range(9)]  # same created_at: the id breaks the tie
    made += [make_request(at=local(2026, 11, 21, 9) + timedelta(minutes=i), case_type=county.consult,
                          requester_phone="13900001111", channel="web") for i in range(8)]
    made += [make_request(at=local(2026, 11, 22, 9) + timedelta(minutes=i), title=f"噪音扰民{i}") for i in range(6)]
    op = api(county.operator)

    seen, cursor, pages = [], None, 0
    while True:
        params = {"size": 5, **({"cursor": cursor} if cursor else {})}
        body = op.get("/cases", **params).json()
        seen += [c["number"] for c in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
        assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)  # opaque and URL-safe
    assert pages == 5 and len(seen) == len(set(seen)) == 23
    expected = list(Case.objects.order_by("-created_at", "-id").values_list("number", flat=True))
    assert seen == expected

    def numbers(**params):
        return {c["number"] for c in op.get("/cases", size=200, **params).json()["items"]}

    assert numbers(case_type="consult") == {c.number for c in made[9:17]}
    assert numbers(channel="web") == {c.number for c in made[9:17]}
    assert numbers(q="13900001111") == {c.number for c in made[9:17]}
    assert numbers(q="噪音") == {c.number for c in made[17:]}
    assert numbers(created_from="2026-11-21", created_to="2026-11-21") == {c.number for c in made[9:17]}
    assert numbers(state="open") == set(expected)
    assert numbers(state="closed") == set()

    dispatched = made[0]
    with clock.at(local(2026, 11, 20, 10)):
        hotline.dispatch(dispatched, county.housing, by=county.dispatcher)
    hotline.supervise(made[1], "请加快", by=county.supervisor)
    assert numbers(state="pending_sign") == {dispatched.number}
    assert numbers(unit=county.housing.pk) == {dispatched.number}
    assert numbers(category=county.category.pk) == set(expected)
    assert numbers(supervised="true") == {made[1].number}
    with clock.at(local(2026, 12, 20, 10)):
        assert numbers(light="red") == {dispatched.number}
        overdue = op.get("/overdue").json()["items"]
        assert [c["number"] for c in overdue] == [dispatched.number] and overdue[0]["light"] == "red"


def test_queues_and_inbox(county, api, make_request):
    a, b = make_request(), make_request()
    hotline.dispatch(b, county.housing, by=county.dispatcher)
    op, handler = api(county.operator), api(county.handler)
    assert [c["number"] for c in op.get("/queues/dispatch").json()["items"]] == [a.number]
    assert [c["number"] for c in handler.get("/inbox").json()["items"]] == [b.number]
    assert op.get("/inbox").json()["items"] == []
    hotline.sign(b, by=county.handler)
    hotline.finish(b, "已修复。", "solved", by=county.handler)
    assert [c["number"] for c in op.get("/queues/callback").json()["items"]] == [b.number]
    assert handler.get("/queues/dispatch").json()["items"] == []


def test_pages_of_a_queue_walk_all_rows(county, api, make_request):
    made = [make_request(at=local(2026, 11, 20, 9)) for _ in range(7)]
    op = api(county.operator)
    seen, cursor = [], None
    while True:
        body = op.get("/queues/dispatch", size=3, **({"cursor": cursor} if cursor else {})).json()
        seen += [c["number"] for c in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [c.number for c in made]


# ---- data scope ---------------------------------------------------------------------------------

def test_another_units_case_is_not_found_anywhere(county, api, make_request):
    case = make_request()
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    other = api(county.other_handler)
    for response in (other.get(f"/cases/{case.number}"), other.post(f"/cases/{case.number}/sign"),
                     other.post(f"/cases/{case.number}/finish", {"reply": "x", "result": "solved"}),
                     other.get(f"/cases/{case.number}/earlier")):
        assert response.status_code == 404
        assert response.json()["detail"] == "工单不存在，或不在您的数据权限范围内。"
    missing = other.get("/cases/2099010100001")
    assert missing.status_code == 404 and missing.json() == other.get(f"/cases/{case.number}").json()
    assert other.get("/cases").json()["items"] == []
    assert other.get("/inbox").json()["items"] == []
    case.refresh_from_db()
    assert case.state == "pending_sign"
    # the holding unit does see it
    assert api(county.handler).get(f"/cases/{case.number}").status_code == 200


def test_a_visible_case_with_an_action_that_is_not_yours_is_403(county, api, make_request):
    case = make_request()
    handler = api(county.handler)
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    response = handler.post(f"/cases/{case.number}/supervise", {"note": "自己督办自己"})
    assert response.status_code == 403 and "督办员" in response.json()["detail"]
    other_case = make_request()
    op = api(county.operator)
    response = handler.post("/cases", INTAKE)
    assert response.status_code == 403 and "话务员" in response.json()["detail"]
    hotline.dispatch(other_case, county.housing, by=county.dispatcher)
    response = op.post(f"/cases/{other_case.number}/sign")
    assert response.status_code == 403 and "签收" in response.json()["detail"]


# ---- errors -------------------------------------------------------------------------------------

def test_an_illegal_transition_is_409_with_a_chinese_message(county, api, make_request):
    case = make_request()
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    response = api(county.handler).post(f"/cases/{case.number}/finish", {"reply": "答复", "result": "solved"})
    assert response.status_code == 409
    assert re.search("待签收.*不能执行“办结”", response.json()["detail"])
    case.refresh_from_db()
    assert case.state == "pending_sign"


def test_a_broken_business_rule_is_400_with_its_message(county, api, make_request):
    case = make_request()
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    response = api(county.handler).post(f"/cases/{case.number}/return", {"reason": "   "})
    assert response.status_code == 400 and response.json()["detail"].startswith("退回必须说明理由")


def test_bad_phone_is_400_with_a_field_message_and_saves_nothing(county, api):
    response = api(county.operator).post("/cases", {**INTAKE, "requester_phone": "12345"})
    assert response.status_code == 400
    assert response.json()["errors"]["requester_phone"].startswith("联系电话格式不正确")
    assert not Case.objects.exists()


def test_missing_and_mistyped_fields_are_400_in_chinese(county, api):
    op = api(county.operator)
    body = {k: v for k, v in INTAKE.items() if k != "title"}
    response = op.post("/cases", {**body, "category": "abc", "channel": "fax"})
    assert response.status_code == 400
    data = response.json()
    assert data["detail"] == "提交的数据有误，请按 errors 中的说明修改。"
    assert data["errors"]["title"] == "该字段为必填项。"
    assert data["errors"]["category"] == "格式不正确。"
    assert data["errors"]["channel"].startswith("取值无效，可选值：phone、web")
    response = op.post("/cases", {**INTAKE, "case_type": "nonsense", "category": 999999, "region": 888888})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"case_type", "category", "region"}
    response = op.post("/cases", {**INTAKE, "latitude": 123})
    assert response.status_code == 400 and response.json()["errors"]["latitude"] == "不能大于 90。"
    response = op.get("/cases", size=500)
    assert response.status_code == 400 and response.json()["errors"]["size"] == "不能大于 200。"
    response = op.get("/cases", created_from="yesterday")
    assert response.status_code == 400 and response.json()["errors"]["created_from"] == "格式不正确。"
    response = op.get("/cases", state="lost")
    assert response.status_code == 400 and "state" in response.json()["errors"]
    assert not Case.objects.exists()


def test_malformed_or_missing_bodies_are_400(county, api):
    op = api(county.operator)
    response = op.client.post(f"{BASE}/cases", "{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["detail"] == "请求体不是有效的 JSON。"
    response = op.client.post(f"{BASE}/cases", "", content_type="application/json")
    assert response.status_code == 400 and "body" in response.json()["errors"]
    for body in ("[1, 2]", '"text"', "null", "3"):
        response = op.client.post(f"{BASE}/cases", body, content_type="application/json")
        assert response.status_code == 400 and response.json()["detail"] == "请求体应为 JSON 对象。"
    response = Client().post(f"{BASE}/auth/token", "{", content_type="application/json")
    assert response.status_code == 400 and response.json()["detail"] == "请求体不是有效的 JSON。"


def test_unknown_units_on_dispatch_are_400_field_errors(county, api, make_request):
    case = make_request()
    disp = api(county.dispatcher)
    response = disp.post(f"/cases/{case.number}/dispatch", {"unit": 999999})
    assert response.status_code == 400 and response.json()["errors"] == {"unit": "单位不存在或已停用。"}
    response = disp.post(f"/cases/{case.number}/dispatch", {"unit": county.housing.pk, "co_units": [county.transport.pk, 777777]})
    assert response.status_code == 400 and "777777" in response.json()["errors"]["co_units"]
    response = disp.post(f"/cases/{case.number}/dispatch", {"unit": 2**70})
    assert response.status_code == 400 and "unit" in response.json()["errors"]
    response = disp.post(f"/cases/{case.number}/dispatch", {"unit": "housing"})
    assert response.status_code == 400 and response.json()["errors"]["unit"] == "格式不正确。"
    response = disp.post(f"/cases/{case.number}/merge", {"original": "2099010100001"})
    assert response.status_code == 400 and "original" in response.json()["errors"]
    case.refresh_from_db()
    assert case.state == "pending_dispatch"


def test_odd_path_and_query_values_never_give_500(county, api, make_request):
    make_request()
    op = api(county.operator)
    for path in ("/cases/abc", "/cases/" + "9" * 40, "/cases/%E4%B8%AD", "/cases/1'%20or%20'1'='1"):
        assert op.get(path).status_code == 404
    for cursor in ("garbage", "!!!", "MjAyNnwx", "Tm9uZXzCsg"):
        response = op.get("/cases", cursor=cursor)
        assert response.status_code == 400 and "cursor" in response.json()["errors"]
    assert op.get("/cases", unit=2**70).status_code == 400
    assert op.get("/stats/units", start="2026-12-01", end="2026-11-01").status_code == 400
    # values PostgreSQL cannot take, or dates that overflow, are refused up front
    assert op.get("/cases/%00").status_code == 404
    response = op.get("/cases", q="路灯\x00")
    assert response.status_code == 400 and "空字符" in response.json()["errors"]["q"]
    response = op.post("/cases", {**INTAKE, "title": "路灯\x00不亮"})
    assert response.status_code == 400 and "空字符" in response.json()["detail"]
    response = op.get("/cases", created_to="9999-12-31")
    assert response.status_code == 400 and response.json()["errors"]["created_to"].startswith("日期应在")
    assert op.get("/stats/units", end="9999-12-31").status_code == 400
    assert op.get("/stats/units", start="2000-01-01", end="2100-01-01").status_code == 400
    case = Case.objects.get()
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    hotline.sign(case, by=county.handler)
    response = api(county.handler).post(f"/cases/{case.number}/suspend", {"reason": "等" * 201})
    assert response.status_code == 400 and response.json()["errors"]["reason"] == "长度不能超过 200 个字符。"
    response = api(county.handler).post(f"/cases/{case.number}/extension", {"days": 10**30, "reason": "x"})
    assert response.status_code == 400


# ---- personal data ------------------------------------------------------------------------------

def test_requester_phone_and_name_are_masked_everywhere(county, api, make_request):
    case = make_request(requester_name="张三丰")
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    op, handler = api(county.operator), api(county.handler)
    created = op.post("/cases", INTAKE)
    responses = [created, op.get("/cases"), op.get(f"/cases/{case.number}"), handler.get("/inbox"),
                 op.get("/cases", q="13812341234"), op.get(f"/cases/{case.number}/earlier")]
    for response in responses:
        assert response.status_code in (200, 201)
        assert "13812341234" not in response.content.decode() and "张三丰" not in response.content.decode()
    assert created.json()["requester_phone"] == "138****1234" and created.json()["requester_name"] == "张*"
    detail = op.get(f"/cases/{case.number}").json()
    assert detail["requester_phone"] == "138****1234" and detail["requester_name"] == "张**"
    assert len(op.get("/cases", q="13812341234").json()["items"]) == 2


# ---- statistics ---------------------------------------------------------------------------------

def test_unit_stats_agree_with_unit_scores_and_respect_scope(county, api, make_request):
    for i, satisfaction in enumerate(["satisfied", "unsatisfied", "basic"]):
        case = make_request(at=local(2026, 11, 2, 9))
        with clock.at(local(2026, 11, 2, 10)):
            hotline.dispatch(case, county.housing if i < 2 else county.transport, by=county.dispatcher)
        with clock.at(local(2026, 11, 3 + i, 9)):
            hotline.sign(case, by=county.handler if i < 2 else county.other_handler)
        with clock.at(local(2026, 11, 5, 15)):
            hotline.finish(case, "已处理完毕，情况已向诉求人说明。", "solved", by=county.handler if i < 2 else county.other_handler)
        with clock.at(local(2026, 11, 6, 10)):
            hotline.callback(case, reached=True, satisfaction=satisfaction, solved=satisfaction != "unsatisfied", by=county.operator)

    response = api(county.supervisor).get("/stats/units", start="2026-11-01", end="2026-11-30")
    assert response.status_code == 200
    body = response.json()
    expected = unit_scores(local(2026, 11, 1), local(2026, 12, 1))
    assert [r["unit_id"] for r in body["items"]] == [s.unit_id for s in expected]
    for row, score in zip(body["items"], expected):
        for field in ("received", "signed_on_time", "finished", "callbacks", "response_rate", "solve_rate",
                      "satisfaction_rate", "on_time_rate", "score", "avg_hours"):
            assert row[field] == getattr(score, field), field
    housing = next(r for r in body["items"] if r["unit_id"] == county.housing.pk)
    assert housing["received"] == 2 and housing["callbacks"] == 2 and housing["satisfaction_rate"] == 0.5
    assert body["total"]["received"] == 3 and body["start"] == "2026-11-01" and body["end"] == "2026-11-30"

    mine = api(county.handler).get("/stats/units", start="2026-11-01", end="2026-11-30").json()
    assert [r["unit_id"] for r in mine["items"]] == [county.housing.pk]
    with clock.at(local(2026, 11, 20, 12)):
        default = api(county.supervisor).get("/stats/units").json()
    assert default["start"] == "2026-10-22" and default["end"] == "2026-11-20" and default["total"]["received"] == 3


# ---- reference data -----------------------------------------------------------------------------

def test_reference_data(county, api):
    child = Category.objects.create(name="路灯", level=2, parent=county.category, full_name="城乡建设/路灯")
    a = api(county.handler)
    units = {u["name"]: u for u in a.get("/units").json()}
    assert units["桃园村村民委员会"]["parent"] == county.town_office.pk and units["桃园村村民委员会"]["level"] == 4
    categories = {c["id"]: c for c in a.get("/categories").json()}
    assert categories[child.pk] == {"id": child.pk, "name": "路灯", "full_name": "城乡建设/路灯", "level": 2,
                                    "parent": county.category.pk, "default_unit": None}
    types = {t["code"]: t for t in a.get("/case-types").json()}
    assert types["consult"]["finish_limit_days"] == 1 and types["complaint"]["name"] == "投诉"
    assert any(r["name"] == "桃园村" for r in a.get("/regions").json())


# ---- session auth, OpenAPI and docs -------------------------------------------------------------

def test_session_auth_works_for_reading_and_enforces_csrf_for_writing(county, make_request):
    case = make_request()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(county.dispatcher)
    assert browser.get(f"{BASE}/cases/{case.number}").status_code == 200
    assert browser.get(f"{BASE}/me").json()["auth"] == "session"
    response = browser.post(f"{BASE}/cases/{case.number}/dispatch", json.dumps({"unit": county.housing.pk}),
                            content_type="application/json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    case.refresh_from_db()
    assert case.state == "pending_dispatch"
    docs = browser.get(f"{BASE}/docs")
    token = re.search(r'data-csrf-token="([^"]+)"', docs.content.decode()).group(1)
    response = browser.post(f"{BASE}/cases/{case.number}/dispatch", json.dumps({"unit": county.housing.pk}),
                            content_type="application/json", headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.json()["state"] == "pending_sign"


def test_openapi_schema_is_3_1_and_describes_the_api_in_chinese(county):
    response = Client().get(f"{BASE}/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.1")
    assert schema["info"]["title"] == "通办 API" and schema["info"]["version"] == "1.0"
    assert "Authorization: Bearer" in schema["info"]["description"]
    paths = schema["paths"]
    for path in ("/api/v1/auth/token", "/api/v1/cases", "/api/v1/cases/{number}", "/api/v1/cases/{number}/extension-decision",
                 "/api/v1/inbox", "/api/v1/queues/dispatch", "/api/v1/queues/callback", "/api/v1/overdue",
                 "/api/v1/stats/units", "/api/v1/units", "/api/v1/categories", "/api/v1/case-types"):
        assert path in paths, path
    assert paths["/api/v1/cases/{number}/sign"]["post"]["summary"] == "签收"
    assert "bearer" in json.dumps(schema["components"]["securitySchemes"]).lower()
    phone = schema["components"]["schemas"]["CaseSummary"]["properties"]["requester_phone"]
    assert "脱敏" in phone["description"]


def test_docs_page_is_served_locally_without_a_cdn(county):
    response = Client().get(f"{BASE}/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "/static/ninja/swagger-ui.css" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert not re.search(r"https?://", html)
    asset = Client().get("/static/ninja/swagger-ui-bundle.js")
    assert asset.status_code == 200


def test_list_and_detail_cost_a_fixed_number_of_queries(county, api, make_request, django_assert_max_num_queries):
    for _ in range(30):
        hotline.dispatch(make_request(), county.housing, by=county.dispatcher)
    op = api(county.operator)
    op.get("/me")  # last_used_at is written once a minute at most
    with django_assert_max_num_queries(4):
        assert len(op.get("/cases", size=30).json()["items"]) == 30
    number = Case.objects.first().number
    with django_assert_max_num_queries(12):
        assert op.get(f"/cases/{number}").status_code == 200


ACTION_PATHS = ["answer", "refuse", "merge", "dispatch", "relay", "sign", "return", "reassign", "keep", "extension",
                "extension-decision", "progress", "suspend", "resume", "finish", "callback", "supervise"]
JUNK_BODIES = [None, {}, {"unit": "x", "co_units": "y", "days": "z", "approve": "?", "reached": 3, "reply": 5, "result": "?",
                          "reason": ["a"], "note": {"a": 1}, "original": 7, "satisfaction": "very"},
               {"unit": -1, "co_units": [0], "days": 0, "approve": True, "reached": True, "reply": " ", "result": "solved",
                "reason": " ", "note": " ", "original": " ", "satisfaction": "satisfied"}]


@pytest.mark.parametrize("action", ACTION_PATHS)
def test_junk_on_any_action_is_a_json_4xx_never_a_500(county, api, make_request, action):
    new, handling = make_request(), make_request()
    hotline.dispatch(handling, county.housing, by=county.dispatcher)
    hotline.sign(handling, by=county.handler)
    for user in (county.dispatcher, county.handler, county.supervisor):
        client = api(user)
        for case in (new, handling):
            for body in JUNK_BODIES:
                response = client.post(f"/cases/{case.number}/{action}", body)
                assert 400 <= response.status_code < 500, (user, action, body, response.content.decode())
                assert response.json()["detail"]
    assert set(Case.objects.values_list("state", flat=True)) <= {"pending_dispatch", "handling", "suspended"}


def test_unknown_addresses_and_methods_are_answered_in_json(county, api):
    a = api(county.operator)
    wrong_method = a.client.put(f"{BASE}/cases", "{}", content_type="application/json")
    assert wrong_method.status_code == 405 and wrong_method["Content-Type"].startswith("application/json")
    assert "不支持 PUT" in wrong_method.json()["detail"] and "POST" in wrong_method["Allow"]
    missing = a.get("/no-such-endpoint")
    assert missing.status_code == 404 and "接口不存在" in missing.json()["detail"]
    # a case that is not there stays the endpoint's own JSON answer
    assert "detail" in a.get("/cases/209901019999").json()
