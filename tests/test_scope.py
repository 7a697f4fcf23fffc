"""Data scope (数据权限), tried everywhere: a unit's staff must never reach another unit's cases.

Every URL pattern of the project (walked from Django's resolver, so pages added later are covered
without touching this file) and every operation of the OpenAPI schema is called with another unit's
case number and ids, by a plain handler and by a unit account holding every unit-level role. The
answer must be 403/404 (a redirect away is fine), never 200 with data, never a server error; and no
response — page, JSON, Excel, attachment — may contain any marker of the other unit's cases.
Search, exports, statistics and attachments also get targeted tests.

Each field of the other unit's cases carries an ASCII marker, so neither HTML nor JSON escaping can
hide a leak; markers that the request itself carried (echoed search boxes, `next=` links) do not count.
"""
from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode, urlparse

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from openpyxl import load_workbook

from tongban.api.models import ApiToken
from tongban.cases.access import visible_cases
from tongban.cases.attachments import attach
from tongban.cases.models import Case, CaseEvent
from tongban.hotline import services as hotline
from tongban.knowledge.models import Article
from tongban.knowledge.services import record_answer

from .factories import UserFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

# Routes whose parameters are not case identifiers, so a 200 answer is legitimate. Their responses
# are still checked for the other unit's case data like every other page.
NON_CASE_ROUTES = {
    "kb/<int:pk>/": "知识库条目：全体工作人员共享（页面中的工单引用仍受数据权限约束）",
    "kb/<int:pk>/edit/": "知识库条目编辑（无权时跳回条目页）",
    "kb/public/<int:pk>/": "公开知识库条目：面向公众",
}
# Route prefixes the page walk leaves to the OpenAPI test below, which sends each operation a valid body.
API_PREFIX = "api/v1/"
# OpenAPI operations not tried: (method, path) → why.
SKIPPED_OPERATIONS = {
    ("delete", "/api/v1/auth/token"): "吊销调用者自己的令牌，不涉及工单数据",
}


@dataclass
class Scene:
    theirs: Case  # another unit's case, through the whole loop, with an attachment, answered from the knowledge base
    theirs_open: Case  # another unit's case still being handled
    ours: Case  # the unit's own case: the positive control that shows the checks can see data
    their_file: object
    our_file: object
    article: Article
    markers: dict[str, str]  # marker → which field of which case
    users: list


def _request(county, tag: str, **extra):
    return hotline.Intake(
        case_type=county.complaint, title=f"诉求标题TTL{tag}", content=f"诉求内容CNT{tag}，路灯坏了。",
        requester_name=f"王NAM{tag}", requester_phone=extra.pop("phone"), address=f"柳泉镇ADR{tag}号", **extra)


@pytest.fixture
def scene(county) -> Scene:
    theirs = hotline.intake(_request(county, "THEIRS1", phone="13700001111"), by=county.operator)
    hotline.dispatch(theirs, county.transport, by=county.dispatcher)
    hotline.sign(theirs, by=county.other_handler)
    their_file = attach(theirs, SimpleUploadedFile("现场照片.png", PNG + b"FILETHEIRS1"), by=county.other_handler)
    hotline.finish(theirs, "已修复路灯，答复RPLTHEIRS1。", "solved", by=county.other_handler)
    hotline.callback(theirs, reached=True, satisfaction="satisfied", solved=True, by=county.operator)
    theirs_open = hotline.intake(_request(county, "THEIRS2", phone="13700002222"), by=county.operator)
    hotline.dispatch(theirs_open, county.transport, by=county.dispatcher)
    ours = hotline.intake(_request(county, "OURS", phone="13900003333"), by=county.operator)
    hotline.dispatch(ours, county.housing, by=county.dispatcher)
    our_file = attach(ours, SimpleUploadedFile("本单位.png", PNG + b"FILEOURS"), by=county.handler)
    article = Article.objects.create(title="路灯报修怎么办", answer="拨打12345。", owner=county.centre, status="published")
    record_answer(article, theirs, county.operator)
    markers = {}
    for case in (theirs, theirs_open):
        tag = case.title.removeprefix("诉求标题TTL")
        markers.update({case.number: f"{tag} 编号", f"TTL{tag}": f"{tag} 标题", f"CNT{tag}": f"{tag} 内容",
                        f"NAM{tag}": f"{tag} 诉求人", f"ADR{tag}": f"{tag} 地址", case.requester_phone: f"{tag} 电话"})
    markers.update({"FILETHEIRS1": "THEIRS1 附件内容", "RPLTHEIRS1": "THEIRS1 答复"})
    broad = UserFactory(username="unit_all_roles", unit=county.housing,
                        roles="handler,unit_admin,supervisor,dispatcher,operator,clerk")
    return Scene(theirs, theirs_open, ours, their_file, our_file, article, markers, [county.handler, broad])


def body_text(response) -> str:
    """Everything a person could read in the response: page, JSON, spreadsheet cells or file bytes."""
    if response.streaming:  # a stream reads once: keep the bytes for the next look
        if not hasattr(response, "read_bytes"):
            response.read_bytes = b"".join(response.streaming_content)
        raw = response.read_bytes
    else:
        raw = response.content
    kind = response.get("Content-Type", "")
    if "spreadsheetml" in kind:
        wb = load_workbook(io.BytesIO(raw), read_only=True)
        return "\n".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None)
    if "json" in kind and raw:
        try:
            return json.dumps(json.loads(raw), ensure_ascii=False)
        except ValueError:
            pass
    return raw.decode("utf-8", "replace")


def leaks(scene: Scene, response, sent: str = "") -> list[str]:
    """The other unit's markers found in the response, leaving out those the request itself carried."""
    text = body_text(response) + "\n" + response.get("Location", "")
    return [f"{m}（{what}）" for m, what in scene.markers.items() if m in text and m not in sent]


def login(user) -> Client:
    c = Client(raise_request_exception=False)
    c.force_login(user)
    return c


# ---------------------------------------------------------------- every URL pattern

def url_patterns():
    """(route text, pattern) for every URL pattern of the project, includes resolved."""
    def walk(resolver, prefix):
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                yield from walk(p, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern), p
    return list(walk(get_resolver(), ""))


ROUTE_PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")
REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^()]*)\)")


def fill(route: str, value) -> str:
    """A concrete path for `route` (route syntax or regex), each parameter given by value(name, is_int)."""
    def regex_group(m):
        body = m.group("body")
        if re.fullmatch(r"\w+(\|\w+)*", body):  # alternatives of literals, e.g. admin's app_label
            return body.split("|")[0]
        return value(m.group("name"), False)

    path = ROUTE_PARAM.sub(lambda m: value(m.group("name"), m.group("conv") == "int"), route)
    path = REGEX_GROUP.sub(regex_group, path)
    return "/" + path.replace("^", "").replace("$", "").replace("\\Z", "")


def variants(route: str, scene: Scene) -> list[str]:
    """The route with the other unit's identifiers in every parameter, in a few combinations."""
    names = {"action": "progress", "code": "complaint"}

    def with_ints(number, ident):
        return lambda name, is_int: str(ident) if is_int else names.get(name, number)

    ids = [scene.theirs.pk, scene.their_file.pk, scene.article.pk, scene.theirs_open.pk]
    urls = [fill(route, with_ints(scene.theirs.number, i)) for i in ids]
    if ROUTE_PARAM.search(route) and "int:" in route:  # their file or row under our own case
        urls += [fill(route, with_ints(scene.ours.number, i)) for i in (scene.their_file.pk, scene.theirs.pk)]
    return list(dict.fromkeys(urls))


def has_params(route: str) -> bool:
    return bool(ROUTE_PARAM.search(route) or REGEX_GROUP.search(route))


def refused(response, scene: Scene) -> bool:
    """401/403/404/405, or a redirect that does not lead into the other unit's case."""
    if response.status_code in (401, 403, 404, 405):  # 401: a token-only endpoint reached with a session
        return True
    if 300 <= response.status_code < 400:
        return scene.theirs.number not in urlparse(response["Location"]).path
    return False


def search_params(scene: Scene) -> list[dict]:
    t = scene.theirs
    return [{}, {"q": t.number, "last": t.number, "number": t.number, "case": t.number, "requester_phone": t.requester_phone},
            {"q": t.title, "content": t.title, "title": t.title}]


def test_every_page_refuses_another_units_cases(scene):
    problems, tried = [], 0
    for route, pattern in url_patterns():
        if route.startswith(API_PREFIX):
            continue
        for user in scene.users:
            c = login(user)
            for url in variants(route, scene):
                try:
                    resolve(url)
                except Resolver404:
                    problems.append(f"{route}: 无法为该路由构造地址（{url}），请在 test_scope.fill 中补充")
                    continue
                for params in search_params(scene) if not has_params(route) else [{}]:
                    sent = url + "?" + urlencode(params)
                    r = c.get(url, params)
                    tried += 1
                    if r.status_code >= 500:
                        problems.append(f"GET {sent} as {user.username}: {r.status_code}")
                    if found := leaks(scene, r, sent):
                        problems.append(f"GET {sent} as {user.username}: 泄露 {found}")
                    if has_params(route) and route not in NON_CASE_ROUTES and not refused(r, scene):
                        problems.append(f"GET {sent} as {user.username}: {r.status_code}，应为 403/404")
                if has_params(route) and route not in NON_CASE_ROUTES:
                    r = c.post(url, {"note": "说明", "reason": "理由", "reply": "答复内容足够长的说明", "unit": scene.ours.unit_id})
                    tried += 1
                    if r.status_code >= 500 or not refused(r, scene) or leaks(scene, r, url):
                        problems.append(f"POST {url} as {user.username}: {r.status_code} {leaks(scene, r, url)}")
    assert tried > 100
    assert not problems, "\n".join(problems)
    for case in (scene.theirs, scene.theirs_open):  # nothing was changed by all those POSTs
        fresh = Case.objects.get(pk=case.pk)
        assert (fresh.state, fresh.last_event_seq) == (case.state, case.last_event_seq)
    assert scene.theirs.attachments.count() == 1


def test_the_page_walk_sees_the_units_own_cases(scene):
    """Positive control: the same substitution with the unit's own case answers with its data."""
    c = login(scene.users[0])
    own = {"TTLOURS", "FILEOURS"}
    for route in ("cases/<str:number>/", "cases/<str:number>/files/<int:pk>"):
        url = fill(route, lambda name, is_int: str(scene.our_file.pk) if is_int else scene.ours.number)
        r = c.get(url)
        assert r.status_code == 200 and own & set(re.findall(r"TTLOURS|FILEOURS", body_text(r))), url
    assert any(route == "cases/<str:number>/" for route, _ in url_patterns())


# ---------------------------------------------------------------- every API operation

def token_client(user) -> Client:
    """Token issued directly: accounts with administrative roles may not exchange a password alone (2FA)."""
    return Client(raise_request_exception=False, headers={"Authorization": f"Bearer {ApiToken.issue(user)[1]}"})


def example(schema: dict, spec: dict, scene: Scene, name: str = ""):
    """A valid value for a JSON schema, with ids that exist (units, categories) so the scope check is what answers."""
    if "$ref" in schema:
        return example(spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]], spec, scene, name)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return example(options[0], spec, scene, name) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object":
        return {k: example(v, spec, scene, k) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        return [example(schema.get("items", {}), spec, scene, name)] if name == "co_units" else []
    if kind == "integer":
        return {"category": scene.ours.category_id, "days": 1}.get(name, scene.ours.unit_id)
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    if schema.get("format") == "date":
        return date.today().isoformat()
    return {"original": scene.ours.number, "case_type": "complaint", "channel": "phone"}.get(name, "说明文字，足够长的理由和答复内容")


def api_operations(spec):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, op


def test_every_api_operation_refuses_another_units_cases(scene):
    spec = Client().get("/api/v1/openapi.json").json()
    problems, tried = [], 0
    for user in scene.users:
        api = token_client(user)
        for path, method, op in api_operations(spec):
            if (method, path) in SKIPPED_OPERATIONS:
                continue
            path_params = [p for p in op.get("parameters", []) if p["in"] == "path"]
            url = path
            for p in path_params:
                url = url.replace("{%s}" % p["name"], scene.theirs.number if p["schema"].get("type") != "integer" else str(scene.theirs.pk))
            query_names = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
            queries = [{}] + ([{"q": scene.theirs.number}, {"q": scene.theirs.title}, {"q": scene.theirs.requester_phone}]
                              if "q" in query_names else [])
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            data = json.dumps(example(body, spec, scene)) if body else ""
            for query in queries:
                sent = url + "?" + urlencode(query) + data
                target = url + ("?" + urlencode(query) if query else "")
                r = getattr(api, method)(target, data, content_type="application/json") if method != "get" else api.get(url, query)
                tried += 1
                if r.status_code >= 500:
                    problems.append(f"{method.upper()} {sent} as {user.username}: {r.status_code}")
                if found := leaks(scene, r, sent):
                    problems.append(f"{method.upper()} {sent} as {user.username}: 泄露 {found}")
                if path_params and r.status_code not in (403, 404):
                    problems.append(f"{method.upper()} {sent} as {user.username}: {r.status_code}，应为 403/404：{r.content[:200]!r}")
    assert tried >= 2 * 25
    assert not problems, "\n".join(problems)
    assert Case.objects.get(pk=scene.theirs.pk).last_event_seq == scene.theirs.last_event_seq


def test_api_positive_control_sees_the_units_own_case(scene):
    api = token_client(scene.users[0])
    r = api.get(f"/api/v1/cases/{scene.ours.number}")
    assert r.status_code == 200 and "TTLOURS" in body_text(r)
    assert "TTLOURS" in body_text(api.get("/api/v1/cases", {"q": scene.ours.number}))


# ---------------------------------------------------------------- search, exports, statistics, attachments

@pytest.mark.parametrize("field", ["number", "title", "requester_phone", "address"])
def test_search_finds_only_cases_in_scope(scene, field):
    c = login(scene.users[0])
    needle = getattr(scene.theirs, field)
    r = c.get("/cases/", {"q": needle})
    assert r.status_code == 200 and not leaks(scene, r, needle) and scene.theirs not in r.context["page"].items
    own = c.get("/cases/", {"q": getattr(scene.ours, field)})
    assert scene.ours in own.context["page"].items


def test_excel_export_holds_only_cases_in_scope(scene):
    c = login(scene.users[1])
    for params in ({}, {"q": scene.theirs.number}, {"state": "closed"}):
        r = c.get("/cases/export.xlsx", params)
        assert r.status_code == 200 and not leaks(scene, r, urlencode(params))
    assert "TTLOURS" in body_text(c.get("/cases/export.xlsx"))
    board = c.get("/board/export.xlsx")
    assert board.status_code == 200 and "县交通运输局" not in body_text(board) and "县住房和城乡建设局" in body_text(board)


def test_statistics_count_only_cases_in_scope(scene, county):
    user = scene.users[1]
    r = login(user).get("/board/")
    assert r.status_code == 200
    mine = visible_cases(user)
    assert r.context["summary"]["open"] == mine.filter(state__in=("pending_dispatch", "pending_sign", "disputed", "handling",
                                                                  "suspended", "pending_callback")).count() == 1
    assert {s.unit_name for s in r.context["scores"]} <= {county.housing.name}
    assert "县交通运输局" not in body_text(r)
    stats = token_client(user).get("/api/v1/stats/units").json()
    assert {row["unit_id"] for row in stats["items"]} <= {county.housing.pk}
    assert stats["total"]["received"] == 1
    everyone = token_client(county.supervisor).get("/api/v1/stats/units").json()  # the centre does see the other unit
    assert county.transport.pk in {row["unit_id"] for row in everyone["items"]}


def test_attachments_are_served_only_within_scope(scene):
    c = login(scene.users[0])
    assert c.get(f"/cases/{scene.theirs.number}/files/{scene.their_file.pk}").status_code == 404
    assert c.get(f"/cases/{scene.ours.number}/files/{scene.their_file.pk}").status_code == 404  # someone else's file id
    own = c.get(f"/cases/{scene.ours.number}/files/{scene.our_file.pk}")
    assert own.status_code == 200 and b"FILEOURS" in b"".join(own.streaming_content)
    assert CaseEvent.objects.filter(case=scene.theirs).count() == scene.theirs.last_event_seq
