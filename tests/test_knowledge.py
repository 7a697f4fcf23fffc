"""知识库: lifecycle and permissions, versions, search (synonyms, snippets, index in step with edits),
XLSX import/export, the console suggestion partial, the public pages and recall@5 on the shipped set."""
import csv
import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from tongban.cases.access import AccessDenied
from tongban.cases.models import Case
from tongban.hotline import services as hotline
from tongban.knowledge import search, seed, services, xlsx
from tongban.knowledge.models import Article, ArticleUse, Status, Synonym, Term

DATA = Path(__file__).parent / "data"
TOP5_DIGEST = "e79cf2e92fae1853"


@pytest.fixture(autouse=True)
def fresh_search_caches():
    search.reset()
    yield
    search.reset()


def make(county, title="居民身份证补领", answer="身份证丢失后，到户籍地派出所申请补领。", by=None, owner=None, publish=True, **extra):
    a = services.save_article(None, dict(title=title, answer=answer, owner=owner or county.housing, **extra), by=by)
    if publish:
        a = services.transition(a, "submit", by=None)
        a = services.transition(a, "publish", by=None)
    return a


def ids(q, **kw):
    return [h.article.pk for h in search.search(q, **kw)]


# ---------------------------------------------------------------- lifecycle, permissions, versions

def test_unit_drafts_submits_and_only_the_centre_publishes(county):
    a = services.save_article(None, {"title": "物业费收费标准", "answer": "按合同约定收取。"}, by=county.handler)
    assert a.owner == county.housing and a.status == Status.DRAFT
    a = services.transition(a, "submit", by=county.handler)
    assert a.status == Status.PENDING
    with pytest.raises(AccessDenied, match="热线中心"):
        services.transition(a, "publish", by=county.handler)
    with pytest.raises(AccessDenied):
        services.transition(a, "publish", by=county.other_handler)
    a = services.transition(a, "publish", by=county.operator)
    assert a.status == Status.PUBLISHED and a.review_due > services.today()
    with pytest.raises(AccessDenied):
        services.transition(a, "retire", by=county.handler)
    a = services.transition(a, "retire", by=county.supervisor)
    assert a.status == Status.RETIRED
    with pytest.raises(AccessDenied, match="不能执行"):
        services.transition(a, "publish", by=county.operator)


def test_another_unit_cannot_edit_and_units_create_only_for_themselves(county):
    a = make(county, publish=False, by=county.handler)
    with pytest.raises(AccessDenied):
        services.save_article(a, {"title": "改标题"}, by=county.other_handler)
    with pytest.raises(AccessDenied):
        services.save_article(None, {"title": "x", "answer": "y", "owner": county.housing}, by=county.other_handler)
    services.save_article(a, {"title": "中心修改"}, by=county.dispatcher)  # centre reviewers edit any article
    with pytest.raises(ValidationError) as exc:
        services.save_article(a, {"title": " "}, by=county.handler)
    assert "请填写标题" in str(exc.value)


def test_owner_edit_of_published_article_goes_back_to_review(county):
    a = make(county, by=county.handler)
    a = services.save_article(a, {"answer": "新的答案"}, by=county.handler)
    assert a.status == Status.PENDING


def test_every_save_appends_a_version_with_changed_fields(county):
    a = make(county, by=county.handler)
    a = services.save_article(a, {"title": "居民身份证挂失补领", "keywords": "挂失"}, by=county.operator)
    versions = list(a.versions.order_by("number"))
    assert [v.action for v in versions] == ["create", "submit", "publish", "edit"]
    assert versions[-1].changed == ["title", "keywords"] and versions[-1].values["title"] == "居民身份证挂失补领"
    assert versions[-1].by == county.operator
    assert [v.action_label for v in versions] == ["新建", "提交审核", "审核通过并发布", "修改"]
    assert versions[-1].changed_labels == ["标题", "关键词"]
    with pytest.raises(RuntimeError):
        versions[-1].save()


def test_overdue_reviews_per_owner_unit_and_mark_reviewed(county):
    a = make(county)
    b = make(county, title="公交线路调整", owner=county.transport)
    Article.objects.filter(pk__in=[a.pk, b.pk]).update(review_due=services.today() - timedelta(days=1))
    assert list(services.overdue_reviews(county.housing)) == [a]
    services.mark_reviewed(a, by=county.handler)
    assert list(services.overdue_reviews(county.housing)) == []
    assert list(services.overdue_reviews()) == [b]


def test_record_answer_counts_uses_and_the_direct_answer_rate(county, make_request, client):
    a = make(county)
    case = make_request()
    services.record_answer(a, case, county.operator)
    services.record_view(a, by=county.operator)
    a.refresh_from_db()
    assert (a.uses, a.direct_answers, a.direct_rate) == (2, 1, 0.5)
    assert ArticleUse.objects.filter(article=a, case=case, kind="answer").count() == 1
    client.force_login(county.operator)
    assert "50%" in client.get(reverse("kb_article", args=[a.pk])).content.decode()


# ---------------------------------------------------------------- search

def test_synonyms_expand_queries(county):
    a = make(county, title="灵活就业人员参保", answer="以个人身份参加社会保险，可按月缴费。")
    make(county, title="公交卡办理", answer="到公交公司营业厅办理。")
    assert ids("社保怎么交") == [a.pk]
    Synonym.objects.create(terms="公交卡 一卡通")
    assert len(ids("一卡通")) == 1


def test_snippets_highlight_and_escape(county):
    make(county, title="身份证补领", answer="<b>注意</b>：身份证丢失后请先挂失，再补领。")
    hit = search.search("身份证丢了")[0]
    assert "<mark>身份证丢失</mark>" in hit.snippet and "&lt;b&gt;" in hit.snippet and "<b>" not in hit.snippet
    assert "<mark>身份证</mark>" in hit.title_html


def test_index_follows_edits_and_retirement(county):
    a = make(county, title="路灯报修", answer="路灯不亮请拨打城管热线。")
    assert ids("无障碍设施") == []
    services.save_article(a, {"title": "无障碍设施报修"}, by=county.operator)
    assert ids("无障碍设施") == [a.pk]
    services.transition(a, "retire", by=county.operator)
    assert ids("无障碍设施") == []
    assert ids("无障碍设施", public=False) == [a.pk]
    assert Term.objects.get(token="#docs").df == 1
    a.delete()
    assert Term.objects.get(token="#docs").df == 0 and ids("无障碍设施", public=False) == []


def test_public_search_hides_drafts_and_expired(county):
    draft = make(county, title="公积金租房提取", publish=False)
    expired = make(county, title="公积金购房提取", valid_to=services.today() - timedelta(days=1))
    live = make(county, title="公积金贷款")
    assert ids("公积金") == [live.pk]
    assert set(ids("公积金", public=False)) == {draft.pk, expired.pk, live.pk}
    assert ids("公积金", public=False, statuses=[Status.DRAFT]) == [draft.pk]


# ---------------------------------------------------------------- XLSX import / export

def workbook(rows, headers=xlsx.HEADERS):
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


def test_import_is_all_or_nothing_with_row_errors(county):
    good = ["护照办理", "出国怎么办护照", "到出入境大厅办理。", "城乡建设", "护照 出国", "县住房和城乡建设局", "", "2026-01-01", ""]
    bad = [["", "", "没有标题", "", "", "县住房和城乡建设局", "", "", ""],
           ["标题", "", "答案", "不存在的分类", "", "不存在的单位", "", "2026-13-01", ""]]
    result = xlsx.import_xlsx(workbook([good, *bad]), by=county.operator)
    assert not result.ok and Article.objects.count() == 0
    assert [n for n, _ in result.errors] == [3, 4]
    assert "请填写标题" in result.errors[0][1]
    assert "分类“不存在的分类”不存在" in result.errors[1][1] and "不存在的单位" in result.errors[1][1] and "不是有效日期" in result.errors[1][1]
    result = xlsx.import_xlsx(workbook([good, good]), by=county.operator, status=Status.PENDING)
    assert result.ok and Article.objects.filter(status=Status.PENDING).count() == 2
    assert Article.objects.first().category == county.category


def test_unit_cannot_import_for_another_unit(county):
    row = ["护照办理", "", "到出入境大厅办理。", "", "", "县交通运输局", "", "", ""]
    result = xlsx.import_xlsx(workbook([row]), by=county.handler)
    assert result.errors == [(2, "只能导入本单位的知识条目。")]


def test_export_round_trip_through_the_pages(county, client):
    make(county, title="婚姻登记", answer="双方到婚姻登记处办理。", questions="结婚证怎么领\n领证要带什么", keywords="结婚 领证")
    client.force_login(county.operator)
    response = client.get(reverse("kb_export"))
    data = b"".join(response.streaming_content)
    ws = load_workbook(io.BytesIO(data)).active
    header = [c.value for c in ws[1]]
    row = [c.value for c in ws[2]]
    assert header[1:10] == xlsx.HEADERS and row[1] == "婚姻登记" and row[2] == "结婚证怎么领\n领证要带什么"
    # re-import the exported columns as new drafts
    buf = workbook([row[1:10]], headers=header[1:10])
    response = client.post(reverse("kb_import"), {"file": buf}, format="multipart")
    assert response.status_code == 302
    copy = Article.objects.filter(status=Status.DRAFT).get()
    assert (copy.title, copy.questions, copy.keywords, copy.owner) == ("婚姻登记", "结婚证怎么领\n领证要带什么", "结婚 领证", county.housing)


def test_import_page_shows_row_errors(county, client):
    client.force_login(county.operator)
    buf = workbook([["", "", "", "", "", "", "", "", ""], ["x", "", "", "", "", "", "", "", ""]])
    response = client.post(reverse("kb_import"), {"file": buf})
    assert response.status_code == 400 and "第 3 行" in response.content.decode() and "请填写答案" in response.content.decode()


# ---------------------------------------------------------------- console suggestions

def close(case, reply):
    Case.objects.filter(pk=case.pk).update(state="closed", reply=reply, closed_at=case.created_at + timedelta(days=1))


def test_suggest_returns_five_articles_and_similar_closed_cases_in_scope(county, make_request, client):
    for i in range(7):
        make(county, title=f"路灯报修指南{i}", answer=f"路灯不亮可以报修，第{i}条。")
    mine = make_request(title="桃园村路灯不亮", content="村口路灯坏了")
    hotline.dispatch(mine, county.housing, by=county.dispatcher)
    close(mine, "已修复村口路灯。")
    theirs = make_request(title="公路路灯不亮", content="国道路灯坏了")
    hotline.dispatch(theirs, county.transport, by=county.dispatcher)
    close(theirs, "已修复国道路灯。")
    client.force_login(county.handler)
    html = client.get(reverse("kb_suggest"), {"q": "路灯不亮"}, HTTP_HX_REQUEST="true").content.decode()
    assert html.count('class="kb-hit"') == 5 and "用此答复" in html and "<mark>路灯</mark>" in html
    assert mine.number in html and theirs.number not in html
    client.force_login(county.operator)
    html = client.get(reverse("kb_suggest"), {"q": "路灯不亮"}).content.decode()
    assert mine.number in html and theirs.number in html
    client.logout()
    assert client.get(reverse("kb_suggest"), {"q": "路灯"}).status_code == 302


# ---------------------------------------------------------------- staff and public pages

def test_staff_pages_render_and_permissions_hold(county, client):
    a = make(county, title="路灯报修", by=county.handler, publish=False)
    client.force_login(county.handler)
    assert client.get(reverse("kb_list"), {"q": "路灯"}).status_code == 200
    assert client.get(reverse("kb_article", args=[a.pk])).status_code == 200
    response = client.post(reverse("kb_edit", args=[a.pk]), {"title": "路灯维修", "answer": "请报修。", "owner": county.housing.pk})
    assert response.status_code == 302
    client.post(reverse("kb_move", args=[a.pk]), {"action": "submit"})
    client.post(reverse("kb_move", args=[a.pk]), {"action": "publish"})
    a.refresh_from_db()
    assert (a.title, a.status) == ("路灯维修", Status.PENDING)
    client.force_login(county.other_handler)
    assert client.get(reverse("kb_edit", args=[a.pk])).status_code == 302
    client.force_login(county.dispatcher)
    client.post(reverse("kb_move", args=[a.pk]), {"action": "publish"})
    a.refresh_from_db()
    assert a.status == Status.PUBLISHED
    assert client.get(reverse("kb_review")).status_code == 200
    assert client.get(reverse("kb_new")).status_code == 200


def test_public_pages_need_no_login_and_hide_drafts(county, client):
    live = make(county, title="身份证补领", answer="到派出所补领。\n\n工本费40元。")
    draft = make(county, title="身份证换领", publish=False)
    html = client.get(reverse("kb_public"), {"q": "身份证"}).content.decode()
    assert live.title in html.replace("<mark>", "").replace("</mark>", "") and "身份证换领" not in html.replace("<mark>", "").replace("</mark>", "")
    page = client.get(reverse("kb_public_article", args=[live.pk]))
    assert page.status_code == 200 and "<p>工本费40元。</p>" in page.content.decode()
    assert client.get(reverse("kb_public_article", args=[draft.pk])).status_code == 404


# ---------------------------------------------------------------- quality on the shipped set

def test_recall_at_5_on_the_shipped_articles(county):
    n = seed.load_articles()
    assert n >= 300 and Article.objects.filter(status=Status.PUBLISHED).count() == n
    keys = dict(Article.objects.values_list("pk", "key"))
    rows = list(csv.DictReader((DATA / "kb_queries.csv").open(encoding="utf-8")))
    assert len(rows) >= 150
    misses, digest = [], hashlib.sha256()
    for r in rows:
        got = [keys[i] for i, _, _ in search.rank(r["query"], limit=5)]
        digest.update(f"{r['query']}:{','.join(got)}\n".encode())
        if not set(r["expected"].split("|")) & set(got):
            misses.append((r["query"], got[:3]))
    recall = 1 - len(misses) / len(rows)
    print(f"recall@5 = {recall:.3f} over {len(rows)} queries; misses: {misses}")
    assert recall >= 0.9, misses
    # The same top-5 lists on SQLite and PostgreSQL. After changing the articles, queries, synonyms or
    # the scoring, run this test on both databases and update the value printed here.
    print(f"top-5 digest {digest.hexdigest()[:16]}")
    assert digest.hexdigest()[:16] == TOP5_DIGEST
    assert seed.load_articles() == n and Article.objects.count() == n  # idempotent


def test_suggest_accepts_the_console_title_and_content(county, client):
    a = make(county, title="路灯报修", answer="路灯不亮请报修。")
    client.force_login(county.operator)
    html = client.get(reverse("kb_suggest"), {"title": "", "content": "我们村的路灯不亮了"}).content.decode()
    assert reverse("kb_article", args=[a.pk]) in html


def test_synonyms_are_editable_in_admin(county, client):
    client.force_login(county.admin)
    assert client.get(reverse("admin:knowledge_synonym_changelist")).status_code == 200


def test_articles_for_another_place_are_left_out_when_the_place_is_known(county, client):
    from tongban.core.models import Level, Region

    town = Region.objects.get(name="柳泉镇")
    other = Region.objects.create(code="990199", name="白沙镇", level=Level.TOWN, parent=town.parent)
    everywhere = make(county, title="农村自来水停水报修", answer="停水请拨打县自来水公司热线。")
    here = make(county, title="柳泉镇自来水停水报修", answer="柳泉镇停水请联系镇供水站。", region=town)
    there = make(county, title="白沙镇自来水停水报修", answer="白沙镇停水请联系镇水管站。", region=other)
    assert {everywhere.pk, here.pk, there.pk} <= set(ids("自来水停水"))
    village = Region.objects.get(name="桃园村")  # below 柳泉镇: its town's article applies
    found = ids("自来水停水", region=village)
    assert everywhere.pk in found and here.pk in found and there.pk not in found
    # the console's suggestions find the place in what the operator typed
    client.force_login(county.operator)
    page = client.get(reverse("kb_suggest"), {"title": "桃园村自来水停水", "content": "柳泉镇桃园村停水两天"}).content.decode()
    assert "白沙镇自来水停水报修" not in page and "柳泉镇" in page
