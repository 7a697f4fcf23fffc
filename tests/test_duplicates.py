"""重复件 at intake: candidate ranking, data scope, the console panel and the linking flow."""
from datetime import timedelta

import pytest
from django.urls import reverse

from tongban.cases.models import Case
from tongban.core import clock
from tongban.core.models import Level
from tongban.hotline import services as hotline
from tongban.hotspots import duplicates

from .browser_support import browser, login  # noqa: F401  (browser is a fixture)
from .factories import RegionFactory

pytestmark = pytest.mark.django_db

LAMP = dict(title="桃园村三组路灯不亮", content="柳泉镇桃园村三组的路灯坏了一个月，晚上出行不便，老人容易摔倒。")
TYPED = dict(title="路灯坏了", content="桃园村三组这边路灯晚上一直不亮，走路看不见，请派人修一下路灯。")


@pytest.fixture
def elsewhere(county):
    town = RegionFactory(code="990102", name="白沙镇", level=Level.TOWN, parent=county.county)
    village = RegionFactory(code="990102001", name="大坪村", level=Level.VILLAGE, parent=town)
    return town, village


def numbers(found):
    return [c.case.number for c in found]


def test_same_place_similar_text_ranks_first_and_other_places_old_or_closed_cases_are_left_out(county, make_request, elsewhere):
    now = clock.now()
    same = make_request(**LAMP, region=county.village)
    same_town_other_topic = make_request(title="桃园村养殖场臭味", content="桃园村三组养殖场粪便直排，臭味很大，蚊蝇多。",
                                         region=county.village)
    other_place = make_request(title="大坪村路灯不亮", content="白沙镇大坪村三组的路灯坏了一个月，晚上出行不便。",
                               region=elsewhere[1], address="白沙镇大坪村三组")
    old = make_request(at=now - timedelta(days=40), **LAMP, region=county.village)
    refused = make_request(**LAMP, region=county.village)
    hotline.refuse(refused, hotline.RefusalReason.values[0], "重复来电", by=county.operator)

    found = duplicates.candidates(county.operator, **TYPED, region=county.village)

    assert numbers(found)[0] == same.number
    assert found[0].place == "同村/社区" and "路灯" in found[0].shared
    assert other_place.number not in numbers(found)  # another town: not the same issue
    assert old.number not in numbers(found)  # older than the window (30 days)
    assert refused.number not in numbers(found)  # closed cases cannot take a duplicate
    assert same_town_other_topic.number not in numbers(found)  # same place, unrelated text
    # a longer window brings the old one back
    assert old.number in numbers(duplicates.candidates(county.operator, **TYPED, region=county.village, days=60))


def test_place_comes_from_the_address_when_no_region_is_chosen(county, make_request, elsewhere):
    same = make_request(**LAMP, region=county.village)
    found = duplicates.candidates(county.operator, title=TYPED["title"], content="晚上一直不亮，走路看不见，请派人修一下路灯。",
                                  address="柳泉镇桃园村三组")
    assert numbers(found) == [same.number] and found[0].place == "同村/社区"
    # typed for another town: the 柳泉镇 case is not offered
    assert duplicates.candidates(county.operator, title=TYPED["title"], content="晚上路灯一直不亮。", address="白沙镇大坪村") == []


def test_a_unit_user_is_offered_only_cases_in_their_own_scope(county, make_request):
    mine = make_request(**LAMP, region=county.village)
    hotline.dispatch(mine, county.town_office, by=county.dispatcher)
    theirs = make_request(**LAMP, region=county.village)
    hotline.dispatch(theirs, county.housing, by=county.dispatcher)

    found = numbers(duplicates.candidates(county.town_dispatcher, **TYPED, region=county.village))
    assert mine.number in found and theirs.number not in found
    assert set(numbers(duplicates.candidates(county.operator, **TYPED, region=county.village))) >= {mine.number, theirs.number}


def test_the_console_panel_shows_candidates_with_shared_words(client, county, make_request):
    same = make_request(**LAMP, region=county.village)
    client.force_login(county.operator)
    html = client.get(reverse("hotspot_duplicates"), {**TYPED, "region": county.village.pk}).content.decode()
    assert same.number in html and "相似度" in html and "路灯" in html and f'data-dup-number="{same.number}"' in html
    html = client.get(reverse("hotspot_duplicates"), {"title": "", "content": "水"}).content.decode()
    assert "输入诉求内容和地址后" in html
    client.force_login(county.handler)  # a department's handler takes no requests
    assert client.get(reverse("hotspot_duplicates"), TYPED).status_code == 403


def _console_post(county, **extra):
    return {"case_type": county.complaint.pk, "requester_phone": "13912345678", "requester_name": "李四",
            "address": "柳泉镇桃园村三组", "region": county.village.pk, "channel": "phone", "step": "accept", **TYPED, **extra}


def test_console_marks_the_new_request_as_a_duplicate_and_it_closes_with_the_original(client, county, make_request):
    original = make_request(**LAMP, region=county.village)
    hotline.dispatch(original, county.housing, by=county.dispatcher)
    client.force_login(county.operator)
    response = client.post(reverse("console"), _console_post(county, duplicate_of=original.number))
    assert response.status_code == 302
    dup = Case.objects.exclude(pk=original.pk).get()
    assert dup.state == "merged" and dup.duplicate_of_id == original.pk
    assert "并入" in client.get(response.url).content.decode()

    hotline.sign(original, by=county.handler)
    hotline.finish(Case.objects.get(pk=original.pk), "已更换路灯线路，恢复照明。", "solved", by=county.handler)
    dup.refresh_from_db()
    assert dup.state == "closed" and dup.reply == "已更换路灯线路，恢复照明。"


def test_console_refuses_an_unknown_or_closed_original_and_keeps_what_was_typed(client, county, make_request):
    client.force_login(county.operator)
    response = client.post(reverse("console"), _console_post(county, duplicate_of="2099010100001"))
    html = response.content.decode()
    assert response.status_code == 400 and "不存在" in html and "2099010100001" in html and TYPED["content"] in html
    assert Case.objects.count() == 0

    closed = make_request(**LAMP, region=county.village)
    hotline.refuse(closed, hotline.RefusalReason.values[0], "", by=county.operator)
    response = client.post(reverse("console"), _console_post(county, duplicate_of=closed.number))
    assert response.status_code == 400 and "不能并案" in response.content.decode()
    assert Case.objects.count() == 1


def test_without_a_mark_the_console_takes_the_request_as_usual(client, county, make_request):
    make_request(**LAMP, region=county.village)
    client.force_login(county.operator)
    assert client.post(reverse("console"), _console_post(county)).status_code == 302
    assert Case.objects.filter(state="pending_dispatch").count() == 2


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_the_browser_the_operator_marks_a_duplicate_and_takes_the_call(browser, live_server, county, make_request):
    """The htmx panel and the 标记 button (app.js) in headless Chromium, at phone width."""
    original = make_request(**LAMP, region=county.village)
    page = login(browser, live_server, "operator", 390)
    page.goto(f"{live_server.url}/console/")
    page.fill("input[name=address]", "柳泉镇桃园村三组")
    page.fill("textarea[name=content]", TYPED["content"])
    page.press("textarea[name=content]", "End")
    page.locator(f"[data-dup-number='{original.number}']").click()
    assert page.input_value("input[name=duplicate_of]") == original.number
    assert original.number in page.inner_text("#dup-marked")
    page.click("button:has-text('受理并转派单')")
    page.wait_for_selector(".msg.success")
    assert "并入" in page.inner_text(".msg.success")
    assert Case.objects.exclude(pk=original.pk).get().duplicate_of_id == original.pk
