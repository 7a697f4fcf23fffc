"""Address → jurisdiction from the org tree's place names."""
import pytest

from tongban.core.models import Level, Region, Unit, UnitKind
from tongban.core.places import locate, locate_id, responsible_unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def places(county):
    county_r = Region.objects.get(name="青溪县")
    donghu = Region.objects.create(code="990102", name="东湖街道", level=Level.TOWN, parent=county_r)
    dh_comm = Region.objects.create(code="990102001", name="东湖社区", level=Level.VILLAGE, parent=donghu)
    hubin = Region.objects.create(code="990102002", name="湖滨社区", level=Level.VILLAGE, parent=donghu)
    grid = Region.objects.create(code="990102002001", name="湖滨社区第一网格", level=Level.GRID, parent=hubin)
    town_unit = Unit.objects.create(name="东湖街道办事处", kind=UnitKind.TOWN, region=donghu)
    Unit.objects.create(name="湖滨社区居民委员会", kind=UnitKind.VILLAGE, region=hubin, parent=town_unit)
    return {"donghu": donghu, "dh_comm": dh_comm, "hubin": hubin, "grid": grid, "town_unit": town_unit}


def test_the_most_specific_named_place_wins(places):
    assert locate("东湖街道湖滨社区12栋楼道灯坏了") == places["hubin"]
    assert locate("湖滨社区第一网格内有占道经营") == places["grid"]
    assert locate("柳泉镇桃园村3组路灯不亮").name == "桃园村"


def test_short_names_count_unless_shared(places):
    assert locate("湖滨小区门口积水") == places["hubin"]  # 湖滨 names one place only
    # 东湖 is short for both 东湖街道 and 东湖社区: alone it decides nothing
    assert locate("东湖公园厕所脏") is None
    assert locate("东湖街道东湖社区垃圾未清运") == places["dh_comm"]


def test_nothing_named_gives_nothing(places):
    assert locate("") is None
    assert locate("我想咨询社保缴费基数") is None


def test_responsible_unit_walks_up_the_tree(places):
    assert responsible_unit(places["grid"]).name == "湖滨社区居民委员会"  # the grid has no unit of its own
    assert responsible_unit(places["dh_comm"]) == places["town_unit"]  # no community unit: the street office
    assert responsible_unit(None) is None


def test_locate_id_finds_the_same_place_without_a_query(places, django_assert_num_queries):
    from tongban.core.places import regions

    locate_id("湖滨")  # the first call reads the place names once
    with django_assert_num_queries(0):
        pk = locate_id("东湖街道湖滨社区12栋楼道灯坏了")
        assert regions()[pk] == places["hubin"] and regions()[pk].name == "湖滨社区"
    assert locate_id("东湖公园厕所脏") is None
