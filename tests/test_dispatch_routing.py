"""智能派单: 权责清单 rules per level, address → unit, top-3 merge, auto-dispatch, labels from
corrections, training / activation / rollback, the dispatcher page, and a damaged model file."""
from io import BytesIO, StringIO
from random import Random

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from tongban.cases.models import Case, CaseEvent, Category
from tongban.core.models import Level, Region, Unit, UnitKind
from tongban.dispatch import auto, directory, learning, routing
from tongban.dispatch.learning import Example
from tongban.dispatch.models import AutoDispatchSettings, DispatchLabel, LabelSource, ModelVersion, RoutingRule, Suggestion
from tongban.hotline import services as hotline

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_routing(settings, tmp_path):
    """Model files under a temporary VAR_DIR; no cached directory or model from another test."""
    settings.VAR_DIR = tmp_path
    directory.forget()
    learning.forget_loaded_model()
    yield
    directory.forget()
    learning.forget_loaded_model()


@pytest.fixture
def grids(county):
    """Two grids of 桃园村: the first has a unit of its own, the second has none."""
    first = Region.objects.create(code="990101001001", name="桃园村第一网格", level=Level.GRID, parent=county.village)
    second = Region.objects.create(code="990101001002", name="桃园村第二网格", level=Level.GRID, parent=county.village)
    unit = Unit.objects.create(name="桃园村第一网格", kind=UnitKind.GRID, region=first, parent=county.village_committee)
    return first, second, unit


def rule(name, **kw):
    return RoutingRule.objects.create(name=name, **kw)


def case_for(make_request, **kw):
    return make_request(**kw)


# ---------------------------------------------------------------- rules per level, address → unit


def test_a_keyword_rule_routes_to_its_county_department(county, make_request):
    rule("公交班次", keywords="公交 班车", unit=county.transport, level=Level.COUNTY)
    case = make_request(title="公交车班次太少", content="柳泉镇到县城的公交一小时才一班。", category=None)
    best = routing.suggest(case).best
    assert best.unit == county.transport
    assert "权责清单“公交班次”" in best.reason and "公交" in best.reason


@pytest.mark.parametrize("level, expected", [(Level.TOWN, "town_office"), (Level.VILLAGE, "village_committee")])
def test_a_territorial_rule_finds_the_unit_of_the_place_at_its_level(county, make_request, level, expected):
    rule("路灯属地", keywords="路灯", territorial=True, level=level)
    case = make_request(address="柳泉镇桃园村三组", region=None)  # the place comes from the address
    result = routing.suggest(case)
    assert result.region == county.village
    assert result.best.unit == getattr(county, expected)
    assert "属地" in result.best.reason and "桃园村" in result.best.reason


def test_a_grid_rule_goes_to_the_grid_unit_or_up_to_the_community(county, make_request, grids):
    first, second, grid_unit = grids
    rule("网格巡查", keywords="路灯", territorial=True, level=Level.GRID)
    assert routing.suggest(make_request(address="柳泉镇桃园村第一网格", region=None)).best.unit == grid_unit
    assert routing.suggest(make_request(address="柳泉镇桃园村第二网格", region=None)).best.unit == county.village_committee
    # only the town known: a grid rule still gives the unit of what is known
    assert routing.suggest(make_request(address="柳泉镇", region=None, content="路灯坏了")).best.unit == county.town_office


def test_a_territorial_rule_without_a_known_place_suggests_nothing(county, make_request):
    rule("路灯属地", keywords="路灯", territorial=True, level=Level.TOWN)
    case = make_request(address="", content="小区路灯坏了", category=None)
    assert routing.suggest(case).items == []


def test_a_category_rule_covers_the_sub_categories_and_needs_its_keywords(county, make_request):
    leaf = Category.objects.create(name="房屋漏水", level=2, parent=county.category, full_name="城乡建设/房屋漏水")
    rule("住房质量", category=county.category, keywords="漏水", unit=county.housing)
    assert routing.suggest(make_request(category=leaf, content="楼顶漏水")).best.unit == county.housing
    assert routing.suggest(make_request(category=leaf, content="路灯坏了")).items == []  # keyword missing


def test_inactive_rules_and_units_are_ignored(county, make_request):
    r = rule("公交", keywords="公交", unit=county.transport)
    case = make_request(content="公交车太挤")
    r.active = False
    r.save()
    assert routing.suggest(case).items == []
    r.active = True
    r.save()
    county.transport.active = False
    county.transport.save()
    assert routing.suggest(case).items == []


def test_the_higher_priority_rule_wins(county, make_request):
    rule("一般", keywords="路灯", unit=county.housing, priority=0)
    rule("优先", keywords="路灯", territorial=True, level=Level.TOWN, priority=5)
    items = routing.suggest(make_request(content="桃园村路灯不亮", region=county.village)).items
    assert [s.unit for s in items] == [county.town_office, county.housing]
    assert items[1].score == pytest.approx(routing.RULE_KEYWORD * routing.LOWER_PRIORITY)


# ---------------------------------------------------------------- merging


def test_sources_that_agree_reinforce_each_other_and_at_most_three_are_shown(county, make_request):
    county.category.default_unit = county.housing
    county.category.save()
    rule("漏水", keywords="漏水", unit=county.housing)
    for i, unit in enumerate([county.transport, county.town_office, county.village_committee]):
        rule(f"其他{i}", keywords="楼顶", unit=unit, priority=-1)
    result = routing.suggest(make_request(content="楼顶漏水好几天了"))
    assert len(result.items) == 3
    best = result.items[0]
    assert best.unit == county.housing
    assert best.score == pytest.approx(1 - (1 - routing.RULE_KEYWORD) * (1 - routing.DEFAULT_UNIT))
    assert "权责清单“漏水”" in best.reason and "默认承办单位" in best.reason
    assert result.items[1].score < best.score


def test_without_rules_or_model_the_category_default_is_suggested(county, make_request):
    county.category.default_unit = county.housing
    county.category.save()
    result = routing.suggest(make_request())
    assert [(s.unit, s.score) for s in result.items] == [(county.housing, routing.DEFAULT_UNIT)]
    assert result.model_version is None


# ---------------------------------------------------------------- auto-dispatch after intake


def enable_auto(threshold):
    s = AutoDispatchSettings.get()
    s.enabled, s.threshold = True, threshold
    s.save()


def test_a_confident_suggestion_is_dispatched_by_the_system(county, make_request, django_capture_on_commit_callbacks):
    enable_auto(0.8)
    rule("公交", keywords="公交", unit=county.transport)
    with django_capture_on_commit_callbacks(execute=True):
        case = make_request(title="公交车不按站停", content="5路公交车经常不进站。", category=None)
    case.refresh_from_db()
    assert case.state == "pending_sign" and case.unit == county.transport
    event = case.events.get(action="dispatch")
    assert event.actor is None and event.note.startswith("智能派单（置信度 85%")
    assert "权责清单“公交”" in event.note
    assert Suggestion.objects.get(case=case).auto
    assert not DispatchLabel.objects.exists()  # the system's own dispatch is no correction


def test_below_the_threshold_the_case_waits_for_the_dispatcher(county, make_request, django_capture_on_commit_callbacks):
    enable_auto(0.9)
    rule("公交", keywords="公交", unit=county.transport)
    with django_capture_on_commit_callbacks(execute=True):
        case = make_request(content="公交车不按站停", category=None)
    case.refresh_from_db()
    assert case.state == "pending_dispatch"
    stored = Suggestion.objects.get(case=case)
    assert stored.unit == county.transport and not stored.auto and stored.confidence == pytest.approx(0.85)


def test_auto_dispatch_is_off_by_default(county, make_request, django_capture_on_commit_callbacks):
    rule("公交", keywords="公交", unit=county.transport)
    with django_capture_on_commit_callbacks(execute=True):
        case = make_request(content="公交车不按站停", category=None)
    case.refresh_from_db()
    assert case.state == "pending_dispatch" and not Suggestion.objects.exists()


def test_a_case_answered_on_the_spot_is_not_dispatched(county, make_request, django_capture_on_commit_callbacks):
    enable_auto(0.5)
    rule("公交", keywords="公交", unit=county.transport)
    with django_capture_on_commit_callbacks(execute=True):
        case = make_request(content="公交车几点发车", category=None)
        hotline.answer_directly(case, "首班车6点。", by=county.operator)
    case.refresh_from_db()
    assert case.state == "pending_callback" and case.unit is None


# ---------------------------------------------------------------- labels from corrections


def test_return_and_reassign_are_kept_as_labels(county, make_request, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = make_request()
        hotline.dispatch(case, county.transport, by=county.dispatcher)
        hotline.return_case(case, "非本单位职责，建议改派县住房和城乡建设局办理。", by=county.other_handler)
        hotline.reassign(case, county.housing, by=county.dispatcher)
    returned = DispatchLabel.objects.get(source=LabelSource.RETURN)
    assert (returned.wrong_unit, returned.unit, returned.case) == (county.transport, county.housing, case)
    assert "非本单位职责" in returned.note and case.title in returned.text
    reassigned = DispatchLabel.objects.get(source=LabelSource.REASSIGN)
    assert (reassigned.wrong_unit, reassigned.unit) == (county.transport, county.housing)


def test_a_return_that_names_no_unit_keeps_only_the_wrong_one(county, make_request, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = make_request()
        hotline.dispatch(case, county.transport, by=county.dispatcher)
        hotline.return_case(case, "不属于我单位职责范围", by=county.other_handler)
    label = DispatchLabel.objects.get()
    assert label.unit is None and label.wrong_unit == county.transport


def test_overriding_the_suggestion_is_kept_and_following_it_is_not(county, make_request, django_capture_on_commit_callbacks):
    rule("路灯", keywords="路灯", unit=county.town_office)
    with django_capture_on_commit_callbacks(execute=True):
        followed = make_request()
        hotline.dispatch(followed, county.town_office, by=county.dispatcher)
    assert not DispatchLabel.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        overridden = make_request()
        hotline.dispatch(overridden, county.housing, by=county.dispatcher)
    label = DispatchLabel.objects.get()
    assert (label.source, label.case, label.unit, label.wrong_unit) == (LabelSource.OVERRIDE, overridden, county.housing, county.town_office)
    assert "系统建议“柳泉镇人民政府”" in label.note


def test_a_failing_label_never_breaks_the_action(county, make_request, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr("tongban.dispatch.labels._record", lambda event_id: 1 / 0)
    with django_capture_on_commit_callbacks(execute=True):
        case = make_request()
        hotline.dispatch(case, county.transport, by=county.dispatcher)
        hotline.return_case(case, "非本单位职责", by=county.other_handler)
    assert Case.objects.get(pk=case.pk).state == "disputed"


# ---------------------------------------------------------------- training, versions, rollback

HOUSING = ["楼顶漏水物业不管", "房屋墙体开裂开发商不维修", "小区电梯旁墙面渗水", "新房交付后地板起拱", "住宅楼外墙瓷砖脱落",
           "物业费上涨不合理", "楼上漏水到我家", "房屋质量问题投诉"]
TRANSPORT = ["公交车班次太少", "出租车拒载绕路", "公交车不按站停靠", "客运班车超载", "公交站台破损",
             "出租车不打表", "班车时间不准", "公交线路调整不合理"]
LOCAL = ["村里路灯不亮", "垃圾长期无人清运", "村道路灯坏了", "广场舞声音太大", "村口垃圾堆积",
         "组里路灯一直不亮", "垃圾桶满了没人清", "晚上路灯不亮出行不便"]


def training_examples(county, *, shuffle_units=False):
    rows = []
    for i in range(3):  # three variants of each text
        for titles, unit, cat in ((HOUSING, county.housing, "城乡建设"), (TRANSPORT, county.transport, "交通运输"),
                                  (LOCAL, county.town_office, "城乡建设/城市建设和市政管理")):
            for title in titles:
                rows.append(Example(title, f"{title}，第{i + 1}次反映，请尽快处理。", cat, unit.pk, county.village.pk,
                                    "柳泉镇桃园村", float(len(rows))))
    if shuffle_units:
        ids = [e.unit_id for e in rows]
        Random(7).shuffle(ids)  # labels that have nothing to do with the text
        for e, u in zip(rows, ids):
            e.unit_id = u
    return rows


@pytest.fixture
def trained(county):
    return learning.train(examples=training_examples(county), trigger="manual")


def test_training_stores_an_evaluated_version_and_uses_it(county, trained, settings):
    v = trained
    assert (v.number, v.n_train, v.n_test, v.activated) == (1, 72, 14, True)
    assert AutoDispatchSettings.get().model == v
    assert (settings.VAR_DIR / "models" / v.file).is_file() and v.file_bytes > 0
    assert v.unit_accuracy is not None and v.category_accuracy is not None and v.unit_top3 >= v.unit_accuracy
    version, model = learning.active_model()
    assert version == v
    p = model.predict("公交车经常晚点", "等了一个小时公交车都没来")
    assert p.category.label == "交通运输" and p.unit.label == f"u{county.transport.pk}"
    assert p.unit.reasons  # the words that drove it
    local = model.predict("路灯不亮", "村里的路灯坏了很久")
    assert local.unit.label == "@3"  # 属地: the town the place belongs to


def test_model_suggestions_resolve_the_place_and_explain(county, trained, make_request):
    result = routing.suggest(make_request(title="路灯坏了", content="村里路灯不亮，晚上出行不便。", category=None))
    assert result.model_version == 1
    assert result.best.unit == county.town_office
    assert "模型" in result.best.reason and "路灯" in result.best.reason and "属地“桃园村”" in result.best.reason
    assert result.category.name.startswith("城乡建设") and not result.category.confirmed


def test_a_confirmed_category_outweighs_a_model_that_reads_the_text_as_another_topic(county, trained, make_request):
    """The unit head reads only the text. When the operator confirmed a category the model reads
    differently, the model's units count only as far as it believes that category."""
    county.category.default_unit = county.housing
    county.category.save()
    text = dict(title="公交车经常晚点", content="等了一个小时公交车都没来，物业说不归他们管。")
    unconfirmed = routing.suggest(make_request(**text, category=None))
    assert unconfirmed.best.unit == county.transport and unconfirmed.best.score > 0.6
    confirmed = routing.suggest(make_request(**text))  # filed under 城乡建设 by the operator
    assert confirmed.category.confirmed and confirmed.best.unit == county.housing
    doubted = [s for s in confirmed.items if s.unit == county.transport]
    assert all(s.score < 0.5 and "与确认的分类不符" in s.reason for s in doubted)
    assert "模型" not in confirmed.best.reason  # a model share too small to matter is not shown
    agreeing = routing.suggest(make_request(title="楼顶漏水物业不管", content="楼顶漏水，物业不管，请尽快处理。"))
    assert agreeing.best.unit == county.housing and "不符" not in agreeing.best.reason


def test_the_api_gives_the_suggestions_to_centre_staff_only(county, trained, make_request):
    from .test_api import Api

    case = make_request(title="路灯坏了", content="村里路灯不亮，晚上出行不便。", category=None)
    answer = Api(county.dispatcher).get(f"/cases/{case.number}/suggestions")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["units"][0]["unit"] == {"id": county.town_office.pk, "name": county.town_office.name}
    assert "模型" in body["units"][0]["reason"] and 0 < body["units"][0]["score"] <= 1 and len(body["units"]) <= 3
    assert body["model_version"] == 1 and body["region"]["name"] == "桃园村"
    assert body["category"]["name"].startswith("城乡建设") and body["category"]["confirmed"] is False
    assert body["auto_dispatch_threshold"] is None  # auto-dispatch is off
    handler = Api(county.handler)
    assert handler.get(f"/cases/{case.number}/suggestions").status_code == 404  # not in the department's scope
    hotline.dispatch(case, county.housing, by=county.dispatcher)
    assert handler.get(f"/cases/{case.number}/suggestions").status_code == 403  # theirs now, but routing is the centre's
    assert Api(county.operator).get("/cases/209901019999/suggestions").status_code == 404


def test_a_worse_version_is_kept_but_not_used_and_rollback_goes_back(county, trained):
    worse = learning.train(examples=training_examples(county, shuffle_units=True))
    assert not worse.activated and "未启用" in worse.note
    assert AutoDispatchSettings.get().model == trained
    forced = learning.train(examples=training_examples(county, shuffle_units=True), activate=True)
    assert AutoDispatchSettings.get().model == forced
    assert learning.active_model()[0].number == 3
    assert learning.rollback().number == 2
    assert learning.rollback(to=1).number == 1
    assert learning.active_model()[0].number == 1
    with pytest.raises(learning.TrainingError):
        learning.rollback(to=9)


def test_training_needs_enough_data(county):
    with pytest.raises(learning.TrainingError, match="训练数据太少"):
        learning.train()
    from tongban.dispatch.tasks import train_nightly

    assert "训练数据太少" in train_nightly()


def test_training_data_from_finished_cases_and_corrections(county, make_request, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        plain = make_request(title="甲")
        hotline.dispatch(plain, county.housing, by=county.dispatcher)
        moved = make_request(title="乙")
        hotline.dispatch(moved, county.transport, by=county.dispatcher)
        hotline.return_case(moved, "不归我们管", by=county.other_handler)
        hotline.reassign(moved, county.town_office, by=county.dispatcher)
        open_case = make_request(title="丙")
        hotline.dispatch(open_case, county.housing, by=county.dispatcher)
        disputed = make_request(title="丁")
        hotline.dispatch(disputed, county.housing, by=county.dispatcher)
        hotline.return_case(disputed, "应由县交通运输局办理", by=county.handler)
        kept = make_request(title="戊")
        hotline.dispatch(kept, county.housing, by=county.dispatcher)
        hotline.return_case(kept, "应由县交通运输局办理", by=county.handler)
        hotline.keep(kept, note="首接负责，请你单位办理", by=county.dispatcher)
    for c, who in ((plain, county.handler), (moved, county.town_dispatcher)):
        c.refresh_from_db()
        hotline.sign(c, by=who)
        hotline.finish(c, "已处理完毕，诉求人认可。", "solved", by=who)
    examples, n_cases, n_labels = learning.examples_from_db()
    by_title = {e.title: e for e in examples}
    assert n_cases == 2 and n_labels == 1
    assert by_title["甲"].unit_id == county.housing.pk and by_title["甲"].category == "城乡建设"
    assert by_title["乙"].unit_id == county.town_office.pk  # the unit of the last 派单/改派
    assert "丙" not in by_title  # still open, no correction
    assert by_title["丁"].unit_id == county.transport.pk  # an undecided return names the right unit
    assert "戊" not in by_title  # the return was rejected: its named unit was wrong


def test_training_from_a_file(county, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["标题", "内容", "分类", "承办单位"])
    for e in training_examples(county):
        ws.append([e.title, e.detail, e.category, Unit.objects.get(pk=e.unit_id).name])
    path = tmp_path / "labelled.xlsx"
    wb.save(path)
    examples = learning.examples_from_file(path)
    assert len(examples) == 72 and examples[0].unit_id == county.housing.pk
    out = StringIO()
    call_command("dispatch", "train", "--from-file", str(path), stdout=out)
    assert "模型 v1" in out.getvalue() and "已启用" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_text("title,detail,unit\n标题,内容,不存在的局\n", encoding="utf-8")
    with pytest.raises(CommandError, match="找不到这些承办单位：不存在的局"):
        call_command("dispatch", "train", "--from-file", str(bad), stdout=StringIO())


def test_the_commands_list_versions_and_roll_back(county, trained):
    learning.train(examples=training_examples(county), activate=True)
    out = StringIO()
    call_command("dispatch", "models", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[1].startswith("v2") and "✔" in lines[1] and lines[2].startswith("v1")
    out = StringIO()
    call_command("dispatch", "rollback", stdout=out)
    assert "已启用模型 v1" in out.getvalue()
    with pytest.raises(CommandError, match="没有模型版本 v7"):
        call_command("dispatch", "rollback", "--to", "7", stdout=StringIO())


# ---------------------------------------------------------------- a damaged model file


def test_a_damaged_model_file_does_not_break_intake_or_the_queue(county, trained, make_request, client,
                                                                 django_capture_on_commit_callbacks, settings, caplog):
    (settings.VAR_DIR / "models" / trained.file).write_bytes(b"not a model")
    learning.forget_loaded_model()
    enable_auto(0.5)
    with django_capture_on_commit_callbacks(execute=True):
        case = make_request(title="公交车经常晚点", content="等了一个小时", category=None)
    case.refresh_from_db()
    assert case.state == "pending_dispatch"  # nothing suggested: it waits for the dispatcher
    assert "无法加载模型 v1" in caplog.text
    client.force_login(county.dispatcher)
    response = client.get(reverse("dispatch_queue"))
    assert response.status_code == 200 and case.number in response.content.decode()
    assert "暂无可用模型" in response.content.decode()


def test_an_error_while_routing_is_logged_and_intake_goes_on(county, make_request, django_capture_on_commit_callbacks,
                                                            monkeypatch, caplog):
    enable_auto(0.5)
    monkeypatch.setattr(auto, "auto_dispatch", lambda case_id: 1 / 0)
    with django_capture_on_commit_callbacks(execute=True):
        case = make_request()
    assert Case.objects.get(pk=case.pk).state == "pending_dispatch"
    assert "未能自动派单" in caplog.text


# ---------------------------------------------------------------- pages


def test_the_dispatcher_page_preselects_the_best_and_shows_three_suggestions_and_the_model(county, trained, make_request, client):
    rule("公交", keywords="公交", unit=county.transport)
    rule("公交站台", keywords="公交", unit=county.town_office, priority=-1)
    rule("公交候车亭", keywords="公交", unit=county.housing, priority=-1)
    rule("公交路口", keywords="公交", unit=county.village_committee, priority=-1)
    case = make_request(title="公交车经常晚点", content="5路公交车等一个小时", category=None)
    client.force_login(county.dispatcher)
    html = client.get(reverse("dispatch_queue")).content.decode()
    row = html[html.index(f'id="row-{case.pk}"'):]
    row = row[: row.index("</tr>")]
    assert f'<option value="{county.transport.pk}" selected>' in row
    assert row.count("<li>") == 3 and "权责清单“公交”" in row and "模型" in row
    assert "模型 v1" in html and f"派单准确率 {trained.unit_accuracy * 100:.1f}%" in html
    assert "预测分类：交通运输" in row


def test_sysadmin_edits_rules_and_the_auto_dispatch_setting(county, client):
    client.force_login(county.admin)
    page = reverse("routing_settings")
    assert client.get(page).status_code == 200
    bad = client.post(reverse("routing_rule_new"), {"name": "路灯", "keywords": "路灯", "territorial": "on", "level": Level.COUNTY,
                                                     "priority": 0, "active": "on"})
    assert bad.status_code == 400 and "属地办理请选择" in bad.content.decode() and 'value="路灯"' in bad.content.decode()
    none = client.post(reverse("routing_rule_new"), {"name": "空", "level": Level.COUNTY, "unit": county.housing.pk, "priority": 0})
    assert none.status_code == 400 and "请至少填写诉求分类或关键词之一" in none.content.decode()
    ok = client.post(reverse("routing_rule_new"), {"name": "路灯", "keywords": "路灯", "territorial": "on", "level": Level.VILLAGE,
                                                    "priority": 3, "active": "on"})
    assert ok.status_code == 302
    r = RoutingRule.objects.get()
    assert (r.territorial, r.level, r.unit, r.updated_by) == (True, Level.VILLAGE, None, county.admin)
    dept = client.post(reverse("routing_rule_edit", args=[r.pk]), {"name": "路灯", "keywords": "路灯", "level": Level.GRID,
                                                                   "unit": county.housing.pk, "priority": 3, "active": "on"})
    assert dept.status_code == 302
    r.refresh_from_db()
    assert (r.territorial, r.unit, r.level) == (False, county.housing, Level.COUNTY)  # level follows the unit
    client.post(reverse("routing_rule_toggle", args=[r.pk]))
    r.refresh_from_db()
    assert not r.active
    assert client.post(page, {"enabled": "on", "threshold": "1.5"}).status_code == 400
    assert client.post(page, {"enabled": "on", "threshold": "0.92"}).status_code == 302
    s = AutoDispatchSettings.get()
    assert s.enabled and s.threshold == 0.92
    assert "自动派单已开启（置信度 ≥ 92.0%）" in client.get(reverse("dispatch_queue")).content.decode()


def test_only_sysadmins_reach_the_routing_settings(county, client):
    client.force_login(county.dispatcher)
    assert client.get(reverse("routing_settings")).status_code == 403
    assert client.get(reverse("routing_rules_export")).status_code == 403


def test_rules_round_trip_through_excel(county, client):
    rule("公交", keywords="公交 班车", unit=county.transport, priority=2, note="交通职责")
    rule("路灯", keywords="路灯", territorial=True, level=Level.TOWN)
    client.force_login(county.admin)
    data = b"".join(client.get(reverse("routing_rules_export")).streaming_content)
    rows = list(load_workbook(BytesIO(data)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("事项名称", "诉求分类", "关键词") and len(rows) == 3
    RoutingRule.objects.all().delete()
    upload = BytesIO(data)
    upload.name = "rules.xlsx"
    assert client.post(reverse("routing_rules_import"), {"file": upload}).status_code == 302
    imported = {r.name: r for r in RoutingRule.objects.all()}
    assert imported["公交"].unit == county.transport and imported["公交"].priority == 2 and imported["公交"].note == "交通职责"
    assert imported["路灯"].territorial and imported["路灯"].level == Level.TOWN


def test_an_import_with_a_bad_row_imports_nothing(county, client):
    wb = Workbook()
    ws = wb.active
    ws.append(["事项名称", "诉求分类", "关键词", "属地办理", "层级", "承办单位", "优先级", "启用", "依据/说明"])
    ws.append(["公交", "", "公交", "否", "", "县交通运输局", "1", "是", ""])
    ws.append(["错的", "", "漏水", "否", "", "县不存在局", "x", "是", ""])
    buf = BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "rules.xlsx"
    client.force_login(county.admin)
    response = client.post(reverse("routing_rules_import"), {"file": buf})
    assert response.status_code == 400
    text = response.content.decode()
    assert "第 3 行" in text and "没有启用的单位“县不存在局”" in text and "优先级应为整数" in text
    assert not RoutingRule.objects.exists()


def test_events_of_auto_dispatch_read_as_such_on_the_case_page(county, make_request, client, django_capture_on_commit_callbacks):
    enable_auto(0.8)
    rule("公交", keywords="公交", unit=county.transport)
    with django_capture_on_commit_callbacks(execute=True):
        case = make_request(content="公交车不按站停", category=None)
    client.force_login(county.dispatcher)
    html = client.get(reverse("case", args=[Case.objects.get(pk=case.pk).number])).content.decode()
    assert "智能派单（置信度" in html
    assert CaseEvent.objects.filter(case=case, action="dispatch", actor=None).exists()


def test_a_disputed_case_preselects_the_unit_its_return_reason_names(county, make_request, client):
    case = make_request()
    hotline.dispatch(case, county.transport, by=county.dispatcher)
    hotline.return_case(case, "经核实属县住房和城乡建设局职责，请改派。", by=county.other_handler)
    client.force_login(county.dispatcher)
    html = client.get(reverse("dispatch_queue")).content.decode()
    row = html[html.index(f'id="d-{case.pk}"'):]
    row = row[: row.index("</tr>")]
    assert f'<option value="{county.housing.pk}" selected>' in row
