"""Staff pages through Django's test client: what each person sees and can do."""
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tongban.cases.models import Case
from tongban.hotline import services as hotline
from tongban.workdays.models import CalendarOverride

pytestmark = pytest.mark.django_db


def client_for(client, user):
    client.force_login(user)
    return client


def test_login_page_rejects_a_wrong_password_in_chinese(client, county):
    response = client.post(reverse("login"), {"username": "operator", "password": "wrong"})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()
    response = client.post(reverse("login"), {"username": "operator", "password": "Tongban#2026"})
    assert response.status_code == 302


def test_home_sends_each_role_to_its_desk(client, county):
    assert client_for(client, county.operator).get("/").url == reverse("console")
    assert client_for(client, county.handler).get("/").url == reverse("inbox")
    assert client_for(client, county.supervisor).get("/").url == reverse("board")


def test_operator_takes_a_call_and_the_case_waits_for_dispatch(client, county):
    c = client_for(client, county.operator)
    response = c.post(reverse("console"), {
        "case_type": county.complaint.pk, "requester_phone": "13912345678", "requester_name": "李四",
        "address": "柳泉镇桃园村", "content": "村口排水沟堵塞，下雨后积水严重。", "channel": "phone", "step": "accept",
    })
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.state == "pending_dispatch" and case.title == "村口排水沟堵塞，下雨后积水严重。"
    assert case.number in c.get(response.url).content.decode()


def test_bad_intake_keeps_what_was_typed_and_explains_in_chinese(client, county):
    c = client_for(client, county.operator)
    response = c.post(reverse("console"), {"case_type": county.complaint.pk, "requester_phone": "123",
                                           "content": "路面塌陷需要处理", "channel": "phone", "step": "accept"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "联系电话格式不正确" in html and "路面塌陷需要处理" in html
    assert Case.objects.count() == 0


def test_direct_answer_without_reply_is_refused_and_nothing_is_saved(client, county):
    c = client_for(client, county.operator)
    response = c.post(reverse("console"), {"case_type": county.consult.pk, "content": "身份证怎么补办？", "channel": "phone", "step": "answer"})
    assert response.status_code == 400 and "请填写答复内容" in response.content.decode()
    assert Case.objects.count() == 0


def test_earlier_requests_appear_as_the_number_is_typed(client, county, make_request):
    make_request(title="楼道堆物")
    response = client_for(client, county.operator).get(reverse("earlier"), {"requester_phone": "13812341234"}, HTTP_HX_REQUEST="true")
    assert "楼道堆物" in response.content.decode()


def test_dispatcher_dispatches_from_the_queue_with_htmx(client, county, make_request):
    case = make_request()
    c = client_for(client, county.dispatcher)
    assert case.number in c.get(reverse("dispatch_queue")).content.decode()
    response = c.post(reverse("case_act", args=[case.number, "dispatch"]), {"dispatch-unit": county.housing.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "已派单" in response.content.decode()
    case.refresh_from_db()
    assert case.state == "pending_sign" and case.unit == county.housing


def test_htmx_errors_are_shown_beside_the_row(client, county, make_request):
    case = make_request()
    response = client_for(client, county.dispatcher).post(reverse("case_act", args=[case.number, "dispatch"]), {}, HTTP_HX_REQUEST="true")
    assert response["HX-Retarget"] == f"#msg-{case.pk}"
    assert "请选择主办单位" in response.content.decode()


def test_handler_signs_and_finishes_from_the_pages(client, county, make_request):
    case = make_request()
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    c = client_for(client, county.handler)
    inbox = c.get(reverse("inbox")).content.decode()
    assert case.number in inbox and "签收" in inbox
    c.post(reverse("case_act", args=[case.number, "sign"]), {})
    page = c.get(reverse("case", args=[case.number])).content.decode()
    assert "办结" in page and "退回（派单异议）" in page
    bad = c.post(reverse("case_act", args=[case.number, "finish"]), {"finish-result": "solved", "finish-reply": ""})
    assert bad.status_code == 400 and "请填写答复意见" in bad.content.decode()
    ok = c.post(reverse("case_act", args=[case.number, "finish"]), {"finish-result": "solved", "finish-reply": "已修复。"})
    assert ok.status_code == 302
    case.refresh_from_db()
    assert case.state == "pending_callback"


def test_operator_records_an_unsatisfied_callback_and_the_case_goes_back(client, county, make_request):
    case = make_request()
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    hotline.sign(case, by=county.handler)
    hotline.finish(case, "已处理。", "solved", by=county.handler)
    c = client_for(client, county.operator)
    assert case.number in c.get(reverse("callbacks")).content.decode()
    c.post(reverse("case_act", args=[case.number, "callback"]),
           {"callback-reached": "1", "callback-satisfaction": "unsatisfied", "callback-solved": "0"}, HTTP_HX_REQUEST="true")
    case.refresh_from_db()
    assert case.state == "handling" and case.reopen_count == 1


def test_another_units_case_is_404_on_every_page_and_action(client, county, make_request):
    case = make_request()
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    c = client_for(client, county.other_handler)
    assert c.get(reverse("case", args=[case.number])).status_code == 404
    assert c.post(reverse("case_act", args=[case.number, "sign"]), {}).status_code == 404
    assert case.number not in c.get(reverse("cases")).content.decode()
    assert case.number not in c.get(reverse("inbox")).content.decode()
    wb = load_workbook(io.BytesIO(b"".join(c.get(reverse("cases_export")).streaming_content)))
    assert all(row[0] != case.number for row in wb.active.iter_rows(values_only=True))
    case.refresh_from_db()
    assert case.state == "pending_sign"


def test_a_handler_cannot_open_the_console(client, county):
    assert client_for(client, county.handler).get(reverse("console")).status_code == 403


def test_case_list_filters_and_exports_masked_phones(client, county, make_request):
    make_request(title="噪音扰民")
    make_request(title="路灯不亮", requester_phone="13900002222")
    c = client_for(client, county.supervisor)
    html = c.get(reverse("cases"), {"q": "噪音"}).content.decode()
    assert "噪音扰民" in html and "路灯不亮" not in html
    response = c.get(reverse("cases_export"))
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[0][0] == "编号" and len(rows) == 3
    assert {r[6] for r in rows[1:]} == {"138****1234", "139****2222"}


def test_case_list_pages_by_key_without_repeats(client, county, make_request):
    numbers = {make_request(title=f"第{i}件").number for i in range(55)}
    c = client_for(client, county.supervisor)
    seen, url, params = [], reverse("cases"), {}
    while True:
        response = c.get(url, params)
        page = response.context["page"]
        seen += [x.number for x in page.items]
        if not page.next_cursor:
            break
        params = {"after": page.next_cursor}
    assert len(seen) == 55 and set(seen) == numbers


def test_supervisor_board_shows_rates_and_exports(client, county, make_request):
    case = make_request()
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    hotline.sign(case, by=county.handler)
    hotline.finish(case, "已处理。", "solved", by=county.handler)
    hotline.callback(case, reached=True, satisfaction="satisfied", solved=True, by=county.operator)
    c = client_for(client, county.supervisor)
    html = c.get(reverse("board")).content.decode()
    assert "县住房和城乡建设局" in html and "100.0%" in html and "vendor/echarts.min.js" in html
    wb = load_workbook(io.BytesIO(b"".join(c.get(reverse("board_export")).streaming_content)))
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[1][1] == "县住房和城乡建设局" and rows[1][2] == 1


def test_administrator_edits_limits_and_the_calendar(client, county):
    c = client_for(client, county.admin)
    bad = c.post(reverse("case_type_edit", args=["complaint"]), {"name": "投诉", "sign_limit": "-1", "sign_limit_unit": "days",
                                                                 "finish_limit_days": 5, "redo_limit_days": 5, "max_extensions": 1, "max_extension_days": 5})
    assert bad.status_code == 400
    ok = c.post(reverse("case_type_edit", args=["complaint"]), {"name": "投诉", "sign_limit": 2, "sign_limit_unit": "hours",
                                                                "finish_limit_days": 7, "redo_limit_days": 5, "max_extensions": 2, "max_extension_days": 5, "active": "on"})
    assert ok.status_code == 302
    county.complaint.refresh_from_db()
    assert (county.complaint.finish_limit_days, county.complaint.sign_limit_unit) == (7, "hours")
    page = c.get(reverse("calendar"), {"year": 2027}).content.decode()
    assert "2027 年" in page and "尚未录入" in page
    c.post(reverse("calendar") + "?year=2027", {"date": "2027-02-06", "is_workday": "on", "reason": "春节调休上班"})
    assert CalendarOverride.objects.filter(date="2027-02-06", is_workday=True).exists()
    assert "春节调休上班" in c.get(reverse("calendar"), {"year": 2027}).content.decode()


def test_pages_need_login(client, county):
    response = client.get(reverse("inbox"))
    assert response.status_code == 302 and reverse("login") in response.url


def test_queue_and_list_pages_do_not_query_per_row(client, county, make_request, django_assert_max_num_queries):
    for i in range(25):
        case = make_request(title=f"第{i}件")
        if i % 2:
            hotline.dispatch(case, county.housing, by=county.dispatcher)
    dispatcher = client_for(client, county.dispatcher)
    with django_assert_max_num_queries(15):  # + 智能派单 (place names, rules, settings; once per process) + unread badge
        dispatcher.get(reverse("dispatch_queue"))
    with django_assert_max_num_queries(12):
        dispatcher.get(reverse("cases"))
    handler = client_for(client, county.handler)
    with django_assert_max_num_queries(12):
        handler.get(reverse("inbox"))


def test_the_dispatch_queue_preselects_the_unit_inherited_from_the_category_tree(client, county, make_request):
    from tongban.cases.models import Category

    county.category.default_unit = county.housing
    county.category.save()
    leaf = Category.objects.create(name="路灯", level=2, parent=county.category, full_name="城乡建设/路灯")
    make_request(category=leaf)
    html = client_for(client, county.dispatcher).get(reverse("dispatch_queue")).content.decode()
    assert f'<option value="{county.housing.pk}" selected>' in html


def test_answering_from_a_knowledge_article_closes_the_call_and_counts_the_use(client, county):
    from tongban.knowledge.models import Article
    from tongban.knowledge.seed import load_articles

    load_articles()
    article = Article.objects.filter(status="published").first()
    c = client_for(client, county.operator)
    suggestions = c.get(reverse("kb_suggest"), {"content": article.title}).content.decode()
    assert "用此答复" in suggestions
    response = c.post(reverse("console"), {"case_type": county.consult.pk, "content": article.title, "channel": "phone",
                                           "step": "answer", "reply": article.answer, "article": article.pk})
    assert response.status_code == 302
    case = Case.objects.get()
    article.refresh_from_db()
    assert case.state == "pending_callback" and article.direct_answers == 1


def test_security_and_audit_administrators_see_no_cases(client, county, make_request):
    from tongban.cases.access import visible_cases
    from tongban.core.models import User

    case = make_request(title="楼道灯坏了")
    for role in ("secadmin", "auditor"):
        admin = User.objects.create(username=f"the_{role}", roles=role, unit=county.operator.unit)
        assert not visible_cases(admin).exists()  # 三员分立: accounts and audit, not cases
        client.force_login(admin)
        nav = client.get(reverse("home"), follow=True).content.decode()
        assert "工单查询" not in nav and case.number not in client.get(reverse("cases")).content.decode()
    assert visible_cases(county.operator).filter(pk=case.pk).exists()  # the centre's own staff still do


# ---- error pages: in Chinese, in the product's frame, with a way back ------------------------------

def test_a_missing_page_says_so_in_chinese_with_the_navigation(client, county):
    anonymous = client.get("/no-such-page/")
    assert anonymous.status_code == 404 and "页面不存在" in anonymous.content.decode() and "Not Found" not in anonymous.content.decode()
    client.force_login(county.operator)
    page = client.get("/cases/20990101/").content.decode()  # a case number that does not exist
    assert "页面不存在" in page and 'class="nav"' in page and "/cases/20990101/" in page  # the address to report


def test_a_refusal_shows_the_reason(client, county):
    client.force_login(county.operator)
    answer = client.get(reverse("notify_home"))
    assert answer.status_code == 403
    assert "只有系统管理员可以管理消息模板和发件箱" in answer.content.decode() and "403 Forbidden" not in answer.content.decode()


def test_an_expired_form_explains_what_to_do(county):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    answer = strict.post(reverse("login"), {"username": "operator", "password": "x"})
    assert answer.status_code == 403 and "页面已过期" in answer.content.decode() and "刷新" in answer.content.decode()


def test_a_server_error_page_renders_without_a_request_context(rf):
    from django.views.defaults import bad_request, server_error

    body = server_error(rf.get("/")).content.decode()
    assert "系统出错了" in body and "工单查询" in body
    assert "请求有误" in bad_request(rf.get("/"), Exception("bad")).content.decode()
