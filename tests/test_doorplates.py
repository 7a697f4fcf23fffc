"""数字政务门牌: generation (command, CSV, page), the printable PDF, who may print, and the scan
that routes a request straight to the village/community (村社派单 → 网格接单 → 群众评单)."""
import io
import re
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from tongban.cases.models import Case
from tongban.core.models import Level, UnitKind
from tongban.hotline import services as hotline
from tongban.portal import doorplates
from tongban.portal.models import DoorPlate

from .factories import RegionFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quiet(settings, tmp_path):
    cache.clear()
    settings.NOTIFY_SMS_FILE = str(tmp_path / "sms.log")
    settings.TONGBAN_PUBLIC_URL = "https://12345.example.gov.cn"


def run(*args) -> str:
    out = StringIO()
    call_command("doorplates", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def grid(county):
    region = RegionFactory(code="990101001001", name="桃园村第一网格", level=Level.GRID, parent=county.village)
    unit = UnitFactory(name="桃园村第一网格", kind=UnitKind.GRID, region=region, parent=county.village_committee)
    worker = UserFactory(username="grid1", roles="handler", unit=unit)
    return region, unit, worker


def test_generate_by_command_routes_to_the_village_committee_and_skips_existing(county):
    assert "新生成门牌 20 块" in run("generate", "--village", "桃园村", "--count", "20", "--street", "幸福路")
    plates = list(DoorPlate.objects.order_by("id"))
    assert [p.household for p in plates[:2]] == ["幸福路1号", "幸福路2号"]
    assert plates[0].address == "青溪县柳泉镇桃园村幸福路1号"
    assert {p.unit for p in plates} == {county.village_committee} and {p.region for p in plates} == {county.village}
    tokens = {p.token for p in plates}
    assert len(tokens) == 20 and min(len(t) for t in tokens) >= 16
    out = run("generate", "--village", "桃园村", "--count", "5", "--street", "幸福路", "--start", "18")
    assert "新生成门牌 2 块" in out and "已存在 3 块" in out
    with pytest.raises(CommandError, match="找不到名为“梨园村”"):
        run("generate", "--village", "梨园村", "--count", "5")


def test_generate_from_a_household_list_with_grids(county, grid, tmp_path):
    path = tmp_path / "households.csv"
    path.write_text("门牌号,地址,网格\n三组12号,,第一网格\n三组13号,青溪县柳泉镇桃园村三组13号（东院）,\n", encoding="utf-8-sig")
    run("generate", "--village", "990101001", "--csv", str(path))
    a, b = DoorPlate.objects.order_by("id")
    assert a.region == grid[0] and a.unit == county.village_committee
    assert b.address.endswith("（东院）") and b.region == county.village
    path.write_text("住户\n1号\n", encoding="utf-8")
    with pytest.raises(CommandError, match="门牌号"):
        run("generate", "--village", "桃园村", "--csv", str(path))


def test_a_village_without_its_own_unit_cannot_get_plates(county):
    RegionFactory(code="990101002", name="杏花村", level=Level.VILLAGE, parent=county.town)
    # the nearest unit above (the town) would answer; plates still need a unit to route to
    plates, _ = doorplates.create_plates(doorplates.find_village("杏花村"), doorplates.numbered(None, 2))
    assert {p.unit for p in plates} == {county.town_office}


def test_pdf_holds_every_plate_eight_to_an_a4_page(county, tmp_path):
    run("generate", "--village", "桃园村", "--count", "20", "--street", "幸福路")
    out = tmp_path / "plates.pdf"
    assert "20 块门牌，3 页" in run("pdf", "--village", "桃园村", "-o", str(out))
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 3
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    first = reader.pages[0].extract_text()
    assert "幸福路1号" in first and "幸福路8号" in first and "幸福路9号" not in first
    assert "数字政务门牌" in first and "桃园村村民委员会" in first
    assert "幸福路20号" in reader.pages[2].extract_text()


def test_the_qr_code_on_the_plate_is_the_scan_url(county):
    run("generate", "--village", "桃园村", "--count", "1")
    plate = DoorPlate.objects.get()
    assert doorplates.scan_url(plate) == f"https://12345.example.gov.cn/p/d/{plate.token}"


def test_scanning_routes_the_request_straight_to_the_village_then_grid_then_the_citizen_rates(county, grid, client):
    run("generate", "--village", "桃园村", "--count", "3", "--street", "三组", "--grid", "第一网格")
    plate = DoorPlate.objects.get(household="三组2号")
    page = client.get(f"/p/d/{plate.token}").content.decode()
    assert "青溪县柳泉镇桃园村三组2号" in page and "桃园村村民委员会" in page and "桃园村第一网格" in page
    assert 'name="address"' not in page  # filled in from the plate, not editable
    form = re.search(r'name="key" value="([^"]+)"', page).group(1)
    response = client.post(f"/p/d/{plate.token}", {
        "case_type": county.complaint.pk, "content": "门口下水道堵了三天，污水漫到路上。", "requester_phone": "13912345678",
        "address": "别的地方", "key": form})
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.channel, case.address, case.region, case.state, case.unit) == (
        "qr", plate.address, grid[0], "pending_sign", county.village_committee)  # 村社派单, by the system
    assert case.portal.door_plate == plate
    assert case.events.get(action="dispatch").actor is None
    # 网格接单: the village passes it down to its grid as it always does
    village_admin = UserFactory(username="village_admin", roles="unit_admin", unit=county.village_committee)
    hotline.relay(case, grid[1], by=village_admin)
    hotline.sign(case, by=grid[2])
    hotline.finish(case, "已联系疏通，下水道恢复通畅。", "solved", by=grid[2])
    # 群众评单: the citizen rates on the portal (the session that submitted may see it)
    page = client.get(f"/p/track/?number={case.number}").content.decode()
    assert "请评价办理结果" in page and "已转交桃园村第一网格办理" in page
    client.post("/p/track/rate/", {"number": case.number, "satisfaction": "satisfied", "solved": "1"})
    case.refresh_from_db()
    assert case.state == "closed" and case.satisfaction == "satisfied"


def test_unknown_or_disabled_plate(county, client):
    run("generate", "--village", "桃园村", "--count", "1")
    plate = DoorPlate.objects.get()
    plate.active = False
    plate.save()
    for token in (plate.token, "not-a-token"):
        response = client.get(f"/p/d/{token}")
        assert response.status_code == 404 and "门牌二维码无效或已停用" in response.content.decode()


def test_staff_pages_for_sysadmins_and_the_villages_own_or_towns_admins(county, client):
    other_town = RegionFactory(code="990102", name="石桥镇", level=Level.TOWN, parent=county.county)
    other_village = RegionFactory(code="990102001", name="石桥村", level=Level.VILLAGE, parent=other_town)
    other_office = UnitFactory(name="石桥镇人民政府", kind=UnitKind.TOWN, region=other_town)
    UnitFactory(name="石桥村村民委员会", kind=UnitKind.VILLAGE, region=other_village, parent=other_office)
    town_admin = UserFactory(username="town_admin", roles="unit_admin", unit=county.town_office)
    stranger = UserFactory(username="stone_admin", roles="unit_admin", unit=other_office)

    client.force_login(town_admin)
    page = client.get("/p/plates/").content.decode()
    assert "桃园村" in page and "石桥村" not in page
    response = client.post("/p/plates/", {"village": county.village.pk, "count": 9, "street": "", "start": 1})
    assert response.status_code == 302 and DoorPlate.objects.count() == 9
    pdf = client.get(f"/p/plates/{county.village.pk}/pdf")
    assert pdf["Content-Type"] == "application/pdf" and len(PdfReader(io.BytesIO(pdf.content)).pages) == 2
    bad = client.post("/p/plates/", {"village": county.village.pk, "count": 0, "start": 1})
    assert bad.status_code == 400 and "1" in bad.content.decode()
    csv = SimpleUploadedFile("list.csv", "门牌号\n东头1号\n".encode())
    client.post("/p/plates/", {"village": county.village.pk, "count": 1, "start": 1, "csv": csv})
    assert DoorPlate.objects.filter(household="东头1号").exists()
    # deactivating a plate kills its QR code
    plate = DoorPlate.objects.get(household="东头1号")
    client.post(f"/p/plates/{county.village.pk}/", {"plate": plate.pk})
    plate.refresh_from_db()
    assert not plate.active

    client.force_login(stranger)
    assert client.get(f"/p/plates/{county.village.pk}/pdf").status_code == 404
    client.force_login(county.handler)
    assert client.get("/p/plates/").status_code == 403
    client.force_login(county.admin)
    page = client.get("/p/plates/").content.decode()
    assert "桃园村" in page and "石桥村" in page


def test_demo_plates_villages_and_leaves_requests_to_track(db, settings):
    from tongban.core import clock
    from tongban.demo import build as hotline_demo
    from tongban.portal import demo

    from .conftest import local

    end = local(2026, 11, 25, 15, 30)
    settings.TONGBAN_PUBLIC_URL = "http://127.0.0.1:8000"
    with clock.at(end):
        org = hotline_demo.create_org(2026)
        lines = demo.build(org, seed=2026, end=end)
    assert DoorPlate.objects.count() >= 200 and DoorPlate.objects.values("village").distinct().count() == 4
    assert DoorPlate.objects.exclude(region__level=Level.GRID).count() == 0  # every plate knows its grid
    qr = Case.objects.filter(channel="qr")
    assert qr.count() == 4 and all(c.unit.kind == UnitKind.VILLAGE for c in qr)
    assert qr.filter(state="closed", satisfaction="satisfied").count() == 1
    waiting = Case.objects.get(state="pending_callback")
    assert f"http://127.0.0.1:8000/p/track/?number={waiting.number}" in "\n".join(lines)
    assert "240 块" in lines[0]
    demo.wipe()
    assert not DoorPlate.objects.exists()
