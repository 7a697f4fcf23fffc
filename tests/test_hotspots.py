"""热点发现: clustering a small planted scenario, growth and alerts, the pages, data scope, export, command."""
import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from tongban.core import clock
from tongban.core.models import Level
from tongban.hotline import services as hotline
from tongban.hotspots import clusters, demo
from tongban.hotspots.models import Hotspot, Run

from .conftest import local
from .factories import CaseTypeFactory, CategoryFactory, RegionFactory

pytestmark = pytest.mark.django_db

NOW = local(2026, 11, 20, 18, 0)
OUTAGE = [  # one issue, many wordings
    ("桃园村停水", "柳泉镇桃园村三组从昨天开始停水，到现在还没有来水。"),
    ("家里没水", "桃园村家里水龙头一滴水都没有，整个组都停水了。"),
    ("突然停水", "桃园村四组突然停水，也没提前通知，饭都做不了。"),
    ("什么时候恢复供水", "请问桃园村什么时候恢复供水，已经停水大半天。"),
    ("停水一天", "桃园村自来水停了一整天，老人小孩没水用。"),
    ("停水两天", "桃园村停水两天了，自来水公司电话打不通。"),
]
LAMP = ("桃园村路灯不亮", "柳泉镇桃园村三组路灯晚上不亮，出行不便。")


@pytest.fixture
def scenario(county, make_request):
    """A water outage bursting in 桃园村 over the last two days, a steady street-lamp issue, noise."""
    water = CategoryFactory(name="自来水供应", full_name="城乡建设/自来水供应", level=2, parent=county.category)
    lamps = CategoryFactory(name="城市公共设施", full_name="城乡建设/城市公共设施", level=2, parent=county.category)
    other_town = RegionFactory(code="990102", name="白沙镇", level=Level.TOWN, parent=county.county)
    burst = [make_request(at=NOW - timedelta(hours=3 + 7 * i), title=t, content=c, region=county.village, category=water)
             for i, (t, c) in enumerate(OUTAGE)]
    steady = [make_request(at=NOW - timedelta(days=d, hours=2), title=LAMP[0], content=LAMP[1], region=county.village, category=lamps)
              for d in (1, 3, 5, 8, 10, 12)]
    elsewhere = make_request(at=NOW - timedelta(hours=5), title="白沙镇停水", content="白沙镇街上停水了，什么时候来水？",
                             region=other_town, category=water)
    noise = [make_request(at=NOW - timedelta(days=d), title=t, content=c, region=county.village, category=None)
             for d, (t, c) in enumerate([("噪音扰民", "桃园村夜里有人放音乐，很吵。"), ("咨询社保", "想问灵活就业社保怎么交。"),
                                         ("养殖场臭味", "桃园村养殖场粪便臭味大。")])]
    return {"burst": burst, "steady": steady, "elsewhere": elsewhere, "noise": noise, "water": water}


def _cluster_of(run, case):
    return Hotspot.objects.filter(run=run, members__case=case).first()


def test_the_planted_burst_is_one_alerted_cluster_and_the_steady_issue_is_not_alerted(scenario, county):
    run = clusters.detect(as_of=NOW)
    burst = _cluster_of(run, scenario["burst"][0])
    assert burst is not None
    assert set(burst.members.values_list("case_id", flat=True)) == {c.pk for c in scenario["burst"]}
    assert burst.count == 6 and burst.prev_count == 0 and burst.alert and burst.recent_count == 6
    assert burst.region == county.village and "桃园村" in burst.place and burst.town == county.town
    assert "停水" in burst.words and burst.category == scenario["water"]
    assert burst.first_seen == scenario["burst"][-1].created_at and burst.last_seen == scenario["burst"][0].created_at
    assert sum(n for _, n in burst.daily) == 6 and len(burst.daily) == 14

    steady = _cluster_of(run, scenario["steady"][0])
    assert steady is not None and steady.count == 3 and steady.prev_count == 3 and steady.growth == 0 and not steady.alert
    assert _cluster_of(run, scenario["elsewhere"]) is None  # another town: not part of the burst, alone
    assert all(_cluster_of(run, c) is None for c in scenario["noise"])
    assert run.cluster_count == 2 and run.alert_count == 1 and run.case_count == 16


def test_praise_is_not_an_issue(scenario, county, make_request):
    praise = CaseTypeFactory(code="praise", name="表扬")
    thanks = make_request(at=NOW - timedelta(hours=1), case_type=praise, title="表扬自来水公司", content="桃园村停水后抢修很快，表扬。",
                          region=county.village, category=scenario["water"])
    run = clusters.detect(as_of=NOW)
    assert _cluster_of(run, thanks) is None and run.case_count == 16


def test_a_burst_that_was_already_there_last_week_raises_no_alert(scenario, county, make_request):
    for i, (t, c) in enumerate(OUTAGE):  # the same outage, just as often, the week before
        make_request(at=NOW - timedelta(days=7, hours=3 + 7 * i), title=t, content=c, region=county.village, category=scenario["water"])
    burst = _cluster_of(clusters.detect(as_of=NOW), scenario["burst"][0])
    assert burst.count == 6 and burst.prev_count == 6 and burst.growth == 0
    assert not burst.alert  # six in two days after six in two days a week ago: rate 6/11 per day, not improbable


def test_alert_threshold_is_configurable(scenario, settings):
    settings.HOTSPOTS = {"alert_min_count": 7}
    run = clusters.detect(as_of=NOW)
    assert run.alert_count == 0 and run.params["alert_min_count"] == 7


def test_poisson_tail():
    assert clusters.poisson_tail(0, 3.0) == 1.0
    assert clusters.poisson_tail(5, 2.0) == pytest.approx(0.05265, abs=1e-4)
    assert clusters.poisson_tail(6, 0.3) < 1e-4


def test_window_and_date_of_the_command(scenario):
    out = io.StringIO()
    call_command("hotspots", "--date", "2026-11-20", "--days", "7", stdout=out)
    run = Run.objects.get()
    assert run.as_of == local(2026, 11, 21, 0, 0) and run.window_days == 7
    assert "热点 2 个" in out.getvalue() and "【预警】" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("hotspots", "--date", "20.11.2026")
    with pytest.raises(CommandError):
        call_command("hotspots", "--days", "0")


def test_the_beat_task_runs_the_job(scenario):
    from tongban.hotspots.tasks import detect

    with clock.at(NOW):
        assert detect.delay().get() == 2
    assert Run.objects.count() == 1


# ---------------------------------------------------------------- pages


@pytest.fixture
def run(scenario):
    return clusters.detect(as_of=NOW)


def test_supervisor_sees_the_list_with_the_alert_and_the_cluster_page(client, county, run, scenario):
    client.force_login(county.supervisor)
    html = client.get(reverse("hotspot_list")).content.decode()
    assert "快速增长预警" in html and "桃园村" in html and "停水" in html
    burst = _cluster_of(run, scenario["burst"][0])
    page = client.get(reverse("hotspot_detail", args=[burst.pk])).content.decode()
    assert all(c.number in page for c in scenario["burst"]) and "hotspot-trend-data" in page


def test_list_sorts_and_filters(client, county, run, scenario):
    client.force_login(county.dispatcher)
    by_growth = client.get(reverse("hotspot_list"), {"sort": "growth"}).context["hotspots"]
    assert [h.alert for h in by_growth] == [True, False]
    assert client.get(reverse("hotspot_list"), {"alert": "1"}).context["hotspots"] == [by_growth[0]]
    other = RegionFactory(code="990103", name="石桥镇", level=Level.TOWN, parent=county.county)
    assert client.get(reverse("hotspot_list"), {"town": other.pk}).context["hotspots"] == []
    assert len(client.get(reverse("hotspot_list"), {"town": county.town.pk, "category": county.category.pk}).context["hotspots"]) == 2
    health = CategoryFactory(name="卫生计生", full_name="卫生计生")
    assert client.get(reverse("hotspot_list"), {"category": health.pk}).context["hotspots"] == []


def test_handlers_have_no_access_and_unit_dispatchers_see_only_their_cases(client, county, run, scenario):
    burst = _cluster_of(run, scenario["burst"][0])
    steady = _cluster_of(run, scenario["steady"][0])
    client.force_login(county.handler)
    assert client.get(reverse("hotspot_list")).status_code == 403
    assert client.get(reverse("hotspot_detail", args=[burst.pk])).status_code == 403
    assert client.get(reverse("hotspot_export")).status_code == 403

    mine = scenario["burst"][0]
    hotline.dispatch(mine, county.town_office, by=county.dispatcher)
    client.force_login(county.town_dispatcher)  # the town's dispatcher: sees what was sent to the town
    assert client.get(reverse("hotspot_list")).context["hotspots"] == [burst]
    page = client.get(reverse("hotspot_detail", args=[burst.pk]))
    assert page.status_code == 200 and mine.number in page.content.decode()
    assert scenario["burst"][1].number not in page.content.decode() and "另有 5 件不在您的数据权限范围内" in page.content.decode()
    assert client.get(reverse("hotspot_detail", args=[steady.pk])).status_code == 404


def test_export_lists_the_clusters(client, county, run):
    client.force_login(county.supervisor)
    response = client.get(reverse("hotspot_export"), {"sort": "growth"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)
    assert rows[0][:4] == ("主题", "地点", "主要分类", "本期件数") and len(rows) == 3
    assert "停水" in rows[1][0] and rows[1][3] == 6 and rows[1][6] == "是"


def test_run_now_button_is_for_supervisors(client, county, scenario):
    client.force_login(county.dispatcher)
    assert client.post(reverse("hotspot_run")).status_code == 403
    client.force_login(county.supervisor)
    with clock.at(NOW):
        assert client.post(reverse("hotspot_run")).status_code == 302
    assert Run.objects.get().cluster_count == 2


def test_empty_page_explains_how_to_get_results(client, county):
    client.force_login(county.supervisor)
    assert "还没有热点分析结果" in client.get(reverse("hotspot_list")).content.decode()


def test_demo_hook_builds_and_wipes(scenario):
    lines = demo.build(None, seed=1, end=NOW)
    assert "热点 2 个" in lines[0] and "预警 1 个" in lines[0]
    demo.wipe()
    assert not Run.objects.exists() and not Hotspot.objects.exists()
