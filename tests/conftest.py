"""Shared fixtures: a small county with one unit of each kind and a person in every role."""
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tongban.core import clock
from tongban.core.models import Level, UnitKind
from tongban.hotline import services as hotline

from .factories import CaseTypeFactory, CategoryFactory, RegionFactory, UnitFactory, UserFactory

TZ = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


@dataclass
class County:
    city: object
    county: object
    town: object
    village: object
    centre: object
    housing: object
    transport: object
    town_office: object
    village_committee: object
    operator: object
    dispatcher: object
    supervisor: object
    handler: object
    other_handler: object
    town_dispatcher: object
    village_handler: object
    admin: object
    complaint: object
    consult: object
    category: object


@pytest.fixture
def county(db) -> County:
    city = RegionFactory(code="990000", name="示范市", level=Level.CITY)
    county_r = RegionFactory(code="990100", name="青溪县", level=Level.COUNTY, parent=city)
    town = RegionFactory(code="990101", name="柳泉镇", level=Level.TOWN, parent=county_r)
    village = RegionFactory(code="990101001", name="桃园村", level=Level.VILLAGE, parent=town)
    centre = UnitFactory(name="县12345热线中心", kind=UnitKind.CENTRE, region=county_r)
    housing = UnitFactory(name="县住房和城乡建设局", region=county_r)
    transport = UnitFactory(name="县交通运输局", region=county_r)
    town_office = UnitFactory(name="柳泉镇人民政府", kind=UnitKind.TOWN, region=town, sees_subunits=True)
    village_committee = UnitFactory(name="桃园村村民委员会", kind=UnitKind.VILLAGE, region=village, parent=town_office)
    return County(
        city=city, county=county_r, town=town, village=village, centre=centre, housing=housing,
        transport=transport, town_office=town_office, village_committee=village_committee,
        operator=UserFactory(username="operator", roles="operator", unit=centre),
        dispatcher=UserFactory(username="dispatcher", roles="dispatcher", unit=centre),
        supervisor=UserFactory(username="supervisor", roles="supervisor", unit=centre),
        handler=UserFactory(username="handler", roles="handler", unit=housing),
        other_handler=UserFactory(username="other", roles="handler", unit=transport),
        town_dispatcher=UserFactory(username="town", roles="dispatcher,handler", unit=town_office),
        village_handler=UserFactory(username="village", roles="handler", unit=village_committee),
        admin=UserFactory(username="sysadmin", roles="sysadmin", unit=centre, is_staff=True, is_superuser=True),
        complaint=CaseTypeFactory(code="complaint", name="投诉", finish_limit_days=5),
        consult=CaseTypeFactory(code="consult", name="咨询", finish_limit_days=1),
        category=CategoryFactory(name="城乡建设", full_name="城乡建设"),
    )


@pytest.fixture
def make_request(county):
    """Create a complaint through intake, as the operator, at an optional moment."""

    def make(at: datetime | None = None, **overrides):
        data = dict(case_type=county.complaint, title="小区路灯不亮", content="柳泉镇桃园村三组路灯坏了一个月，晚上出行不便。",
                    requester_name="张三", requester_phone="13812341234", address="柳泉镇桃园村三组", category=county.category)
        data.update(overrides)
        with clock.at(at or clock.now()):
            return hotline.intake(hotline.Intake(**data), by=county.operator)

    return make


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Real hashing costs ~0.5 s a password; tests create many accounts."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_process_memory():
    """Calendar answers, tokens, templates and case types are remembered per process; rows a test
    rolled back (or changed with a bulk update) must not leak into the next test."""
    from tongban.core import recent
    from tongban.workdays import services as workdays

    workdays.clear_cache()
    recent.forget_all()
    yield
    workdays.clear_cache()
    recent.forget_all()
