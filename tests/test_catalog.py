"""政务服务事项 catalog: 一表申请 / 一套材料 merging, savings arithmetic, XLSX round-trip and errors,
public 办事指南, 一次告知单 PDF, negative list, the command and the demo catalog."""
import base64
import io
import re
import zlib
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from tongban.catalog import demo, pdf, services, xlsx
from tongban.catalog.models import FormField, Material, Package, PackageItem, ServiceItem
from tongban.core.models import Unit, UnitKind
from tongban.demo import content as C

pytestmark = pytest.mark.django_db


def make_item(code, name, unit, *, promised, visits, materials=(), fields=(), produces="", **extra):
    item = ServiceItem.objects.create(code=code, name=name, unit=unit, legal_days=Decimal("20"), promised_days=Decimal(promised),
                                      visits=visits, produces=produces, channels=["window"], **extra)
    for n, (key, name_, kw) in enumerate(materials, start=1):
        Material.objects.create(item=item, key=key, name=name_, order=n, **kw)
    for n, (key, label, kw) in enumerate(fields, start=1):
        FormField.objects.create(item=item, key=key, label=label, order=n, **kw)
    return item


def make_package(items, *, promised="0.5", visits=1, code="P1"):
    package = Package.objects.create(code=code, name="测试一件事", promised_days=Decimal(promised), visits=visits)
    for n, item in enumerate(items, start=1):
        PackageItem.objects.create(package=package, item=item, order=n)
    return package


@pytest.fixture
def trio(county):
    """Three items and a package over them, small enough to count by hand."""
    a = make_item("T-A", "设立登记", county.housing, promised="1", visits=1, produces="营业执照",
                  materials=[("id_card", "身份证", {"licence_kind": "居民身份证"}), ("charter", "章程", {})],
                  fields=[("applicant_name", "申请人", {}), ("applicant_id", "身份证号", {"kind": "id_number"}), ("phone", "电话", {})])
    b = make_item("T-B", "公章刻制", county.transport, promised="2", visits=2,
                  materials=[("id_card", "经办人身份证", {"copies": 1, "deferrable": True}),
                             ("biz_licence", "营业执照", {"licence_kind": "营业执照", "copies": 1, "originals": 0}),
                             ("seal_form", "刻制申请表", {"required": False})],
                  fields=[("applicant_name", "经办人姓名", {}), ("phone", "电话", {"required": False}),
                          ("seal_kinds", "印章种类", {"kind": "choice", "choices": ["公章", "财务章"]})])
    c = make_item("T-C", "社保登记", county.housing, promised="0.5", visits=1,
                  materials=[("id_card", "身份证", {}), ("bank", "开户信息", {"deferrable": True})],
                  fields=[("phone", "手机", {"required": False}), ("seal_kinds", "印章", {"kind": "choice", "choices": ["合同章"]}),
                          ("bank_no", "账号", {})])
    return SimpleNamespace(a=a, b=b, c=c, package=make_package([a, b, c]))


# ---------------------------------------------------------------- merging and savings


def test_merged_materials_deduplicate_by_key_and_combine_requirements(trio):
    merged = services.merged_materials(trio.package)
    assert [m.key for m in merged] == ["id_card", "charter", "biz_licence", "seal_form", "bank"]
    id_card = merged[0]
    assert id_card.name == "身份证" and [i.code for i in id_card.items] == ["T-A", "T-B", "T-C"] and id_card.shared
    assert (id_card.originals, id_card.copies) == (1, 1)  # the most any item asks for
    assert id_card.required and not id_card.deferrable  # 容缺 only if every item requiring it allows it
    assert merged[4].deferrable and not merged[3].required
    licence = merged[2]
    assert licence.produced_by == trio.a and not licence.to_submit  # 设立登记 issues it before 公章刻制 needs it
    assert all(m.produced_by is None for m in merged if m.key != "biz_licence")


def test_a_licence_is_only_shared_when_the_issuing_item_comes_first(trio):
    PackageItem.objects.filter(package=trio.package, item=trio.a).update(order=9)
    licence = next(m for m in services.merged_materials(trio.package) if m.key == "biz_licence")
    assert licence.produced_by is None and licence.to_submit


def test_merged_form_asks_each_fact_once(trio):
    form = services.merged_form(trio.package)
    assert [f.key for f in form] == ["applicant_name", "applicant_id", "phone", "seal_kinds", "bank_no"]
    by_key = {f.key: f for f in form}
    assert by_key["applicant_name"].label == "申请人"  # the first item's label wins
    assert by_key["phone"].required  # required if any item requires it
    assert by_key["seal_kinds"].choices == ["公章", "财务章", "合同章"] and by_key["seal_kinds"].required
    assert [i.code for i in by_key["phone"].items] == ["T-A", "T-B", "T-C"]


def test_the_uscc_is_not_asked_when_the_package_issues_the_business_licence_first(trio):
    FormField.objects.create(item=trio.b, key="uscc", label="统一社会信用代码", kind="uscc", order=9)
    form = {f.key: f for f in services.merged_form(trio.package)}
    assert form["uscc"].produced_by == trio.a and not form["uscc"].to_fill  # 设立登记 issues the 营业执照 before 公章刻制
    assert all(f.to_fill for k, f in form.items() if k != "uscc")
    s = services.savings(trio.package)["fields"]
    assert (s["separate"], s["merged"]) == (10, 5)  # the sixth question of the merged form is answered by the licence
    PackageItem.objects.filter(package=trio.package, item=trio.a).update(order=9)  # issued last: the applicant must say it
    uscc = next(f for f in services.merged_form(trio.package) if f.key == "uscc")
    assert uscc.produced_by is None and uscc.to_fill


def test_savings_arithmetic_on_a_hand_made_package(trio):
    s = services.savings(trio.package)
    assert s["items"] == 3
    # materials: 2 + 3 + 2 separately (fields: 3 + 3 + 3 → 5); 5 distinct, one of them issued inside the package → 4 to bring
    assert (s["materials"]["separate"], s["materials"]["merged"], s["materials"]["saved"], s["materials"]["percent"]) == (7, 4, 3, Decimal("42.9"))
    assert (s["fields"]["separate"], s["fields"]["merged"], s["fields"]["percent"]) == (9, 5, Decimal("44.4"))
    assert (s["days"]["separate"], s["days"]["merged"], s["days"]["saved"], s["days"]["percent"]) == (
        Decimal("3.5"), Decimal("0.5"), Decimal("3.0"), Decimal("85.7"))
    assert (s["visits"]["separate"], s["visits"]["merged"], s["visits"]["percent"]) == (4, 1, Decimal("75.0"))


def test_application_forms_become_the_one_merged_form(trio):
    Material.objects.filter(item=trio.b, key="seal_form").update(application_form=True)
    Material.objects.create(item=trio.c, key="c_form", name="社保登记表", application_form=True, order=9)
    needs = services.merged_materials(trio.package)
    forms = [m.key for m in needs if m.by_form]
    assert forms == ["seal_form", "c_form"] and not any(m.to_submit for m in needs if m.by_form)
    # 8 separately; id_card, charter, bank to bring + the one merged form (biz_licence is issued inside)
    s = services.savings(trio.package)["materials"]
    assert (s["separate"], s["merged"], s["percent"]) == (8, 4, Decimal("50.0"))
    assert not any(n.by_form for n in services.item_materials(trio.b))  # alone, an item's own form is still filled in


def test_savings_summary_averages_and_totals(trio, county):
    x = make_item("T-X", "甲", county.housing, promised="4", visits=2, materials=[("m", "材料", {})], fields=[("f", "字段", {})])
    y = make_item("T-Y", "乙", county.housing, promised="4", visits=2, materials=[("m", "材料", {})], fields=[("f", "字段", {})])
    second = make_package([x, y], promised="2", visits=0, code="P2")
    summary = services.savings_summary()
    assert [p.code for p, _ in summary["rows"]] == ["P1", "P2"]
    assert services.savings(second)["days"]["percent"] == Decimal("75.0")
    assert summary["averages"]["days"] == Decimal("80.4")  # (85.7 + 75.0) / 2, rounded
    assert summary["averages"]["visits"] == Decimal("87.5")  # (75 + 100) / 2
    assert summary["totals"]["materials"]["separate"] == 9 and summary["totals"]["materials"]["merged"] == 5


def test_item_materials_have_the_package_shape(trio):
    needs = services.item_materials(trio.b)
    assert [n.key for n in needs] == ["id_card", "biz_licence", "seal_form"]
    assert needs[0].deferrable and needs[0].items == [trio.b] and needs[0].produced_by is None


def test_find_items_by_words_unit_and_flags(trio, county):
    trio.c.negative_list, trio.c.negative_reason = True, "到别处办"
    trio.c.save()
    assert [i.code for i in services.find_items("刻制")] == ["T-B"]
    assert [i.code for i in services.find_items("营业执照")] == ["T-A"]  # what an item issues
    assert {i.code for i in services.find_items(unit_id=county.housing.pk)} == {"T-A", "T-C"}
    assert [i.code for i in services.find_items(flag="negative")] == ["T-C"]


# ---------------------------------------------------------------- XLSX


def test_xlsx_round_trip_recreates_the_catalog(trio):
    Material.objects.filter(key="seal_form").update(application_form=True, note="加盖公章")
    data = xlsx.workbook_bytes()
    before = services.savings(trio.package)
    before_materials = [(m.key, m.name, m.originals, m.copies, m.required, m.deferrable) for m in services.merged_materials(trio.package)]
    PackageItem.objects.all().delete()
    Package.objects.all().delete()
    ServiceItem.objects.all().delete()
    result = xlsx.import_xlsx(io.BytesIO(data))
    assert result.ok, result.errors
    assert (result.items_created, result.items_updated, result.materials, result.fields, result.packages) == (3, 0, 7, 9, 1)
    package = Package.objects.get(code="P1")
    assert services.savings(package) == before
    assert [(m.key, m.name, m.originals, m.copies, m.required, m.deferrable) for m in services.merged_materials(package)] == before_materials
    b = ServiceItem.objects.get(code="T-B")
    assert b.channels == ["window"] and b.fields.get(key="seal_kinds").choices == ["公章", "财务章"]
    seal_form = b.materials.get(key="seal_form")
    assert not seal_form.required and seal_form.application_form and seal_form.note == "加盖公章"
    # importing the same file again updates in place: same ids, nothing duplicated
    ids = sorted(Material.objects.values_list("pk", flat=True))
    again = xlsx.import_xlsx(io.BytesIO(data))
    assert again.ok and (again.items_created, again.items_updated) == (0, 3)
    assert sorted(Material.objects.values_list("pk", flat=True)) == ids


def test_xlsx_import_updates_an_item_and_drops_removed_rows(trio):
    wb = load_workbook(io.BytesIO(xlsx.workbook_bytes()))
    ws = wb["事项"]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == "T-B":
            row[5].value = "1.5"  # 承诺办结时限
    mats = wb["材料"]
    for n in range(mats.max_row, 1, -1):
        if mats.cell(n, 1).value == "T-B" and mats.cell(n, 3).value == "seal_form":
            mats.delete_rows(n)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    assert xlsx.import_xlsx(buf).ok
    b = ServiceItem.objects.get(code="T-B")
    assert b.promised_days == Decimal("1.5") and sorted(b.materials.values_list("key", flat=True)) == ["biz_licence", "id_card"]


def sheet_file(items=(), materials=(), fields=(), packages=None) -> io.BytesIO:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in (("事项", items), ("材料", materials), ("表单字段", fields), ("一件事", packages)):
        if rows is None:
            continue
        ws = wb.create_sheet(title)
        ws.append(xlsx.SHEETS[title])
        for r in rows:
            ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


GOOD_ITEM = ["N-1", "新事项", "行政许可", "县住房和城乡建设局", 20, 5, "", "窗口办理、全程网办", 1, "否", "是", "", "一楼", "", "某条例", "", "", "否", "", "是"]


def test_xlsx_bad_rows_are_reported_per_sheet_and_row_and_nothing_is_imported(county):
    bad_item = ["N-2", "", "许可", "不存在的局", 5, 10, "", "快递", "x", "也许", "", "", "", "", "", "", "", "是", "", ""]
    buf = sheet_file(
        items=[GOOD_ITEM, bad_item, GOOD_ITEM],
        materials=[["N-1", 1, "id_card", "身份证", 1, 0, "是", "否", "居民身份证", "", ""],
                   ["N-1", 2, "ID Card", "", 0, 0, "是", "否", "", "", ""],
                   ["N-9", 1, "x", "某材料", 1, 0, "是", "否", "", "", ""]],
        fields=[["N-1", 1, "phone", "电话", "电话", "是", ""], ["N-1", 2, "phone", "手机", "电话", "是", ""],
                ["N-1", 3, "kind", "类别", "选项", "是", ""], ["N-1", 4, "z", "z", "颜色", "是", ""]],
        packages=[["P-9", "一件事", "", 1, 1, "", "N-1、NOPE", "是"]])
    result = xlsx.import_xlsx(buf)
    assert not result.ok
    errors = {(sheet, row): msg for sheet, row, msg in result.errors}
    assert "“事项名称”不能为空" in errors[("事项", 3)]
    assert "事项类型“许可”无效" in errors[("事项", 3)] and "实施主体“不存在的局”不存在" in errors[("事项", 3)]
    assert "承诺办结时限不能超过法定办结时限" in errors[("事项", 3)] and "办理渠道“快递”无效" in errors[("事项", 3)]
    assert "“跑动次数”应为" in errors[("事项", 3)] and "“跨省通办”应填“是”或“否”" in errors[("事项", 3)]
    assert "须填写“不进厅原因及办理去处”" in errors[("事项", 3)]
    assert "事项编码“N-1”在本表中重复（首次出现在第 2 行）" in errors[("事项", 4)]
    assert ("事项", 2) not in errors
    assert "只能由小写字母" in errors[("材料", 3)] and "“材料名称”不能为空" in errors[("材料", 3)]
    assert "原件和复印件份数不能都为 0" in errors[("材料", 3)]
    assert "事项编码“N-9”不在“事项”工作表中" in errors[("材料", 4)]
    assert "字段标识“phone”重复" in errors[("表单字段", 3)]
    assert "须填写“可选项”" in errors[("表单字段", 4)] and "类型“颜色”无效" in errors[("表单字段", 5)]
    assert "包含的事项编码不存在：NOPE" in errors[("一件事", 2)]
    assert ServiceItem.objects.count() == 0 and Material.objects.count() == 0 and Package.objects.count() == 0


def test_xlsx_missing_sheet_header_and_unreadable_file(county):
    assert xlsx.import_xlsx(io.BytesIO(b"not a spreadsheet")).errors == [("", 0, "无法读取文件：请上传 .xlsx 格式的 Excel 文件。")]
    wb = Workbook()
    wb.active.title = "事项"
    wb.active.append(["事项编码", "事项名称"])
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    errors = xlsx.import_xlsx(buf).errors
    assert ("材料", 0, "缺少工作表“材料”。") in errors and any(e[0] == "事项" and "表头缺少列" in e[2] for e in errors)


def test_xlsx_import_without_the_optional_package_sheet(county):
    buf = sheet_file(items=[GOOD_ITEM], materials=[["N-1", 1, "id_card", "身份证", 1, 0, "是", "否", "", "", ""]], fields=[], packages=None)
    result = xlsx.import_xlsx(buf)
    assert result.ok and result.items_created == 1
    item = ServiceItem.objects.get(code="N-1")
    assert item.unit == county.housing and item.channels == ["window", "online"] and item.all_region and not item.cross_province
    assert item.promised_days == Decimal("5.0")


def test_catalog_command_exports_and_imports(trio, tmp_path):
    path = tmp_path / "catalog.xlsx"
    call_command("catalog", "export", str(path))
    assert path.stat().st_size > 0
    ServiceItem.objects.filter(code="T-C").update(name="改过的名字")
    out = io.StringIO()
    call_command("catalog", "import", str(path), stdout=out)
    assert "更新 3 项" in out.getvalue() and ServiceItem.objects.get(code="T-C").name == "社保登记"
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"nope")
    with pytest.raises(CommandError, match="未导入"):
        call_command("catalog", "import", str(bad), stderr=io.StringIO())


# ---------------------------------------------------------------- pages and PDF


def pdf_text(data: bytes) -> bytes:
    """The PDF's content streams, decoded (ASCII85, then Flate) with string escapes undone (text is UTF-16BE)."""
    out = b""
    for m in re.finditer(rb"<<([^>]*?)>>\s*stream\r?\n(.*?)\s*endstream", data, re.S):
        filters, raw = m.group(1), m.group(2)
        if b"/ASCII85Decode" in filters:
            raw = base64.a85decode(raw.strip().removesuffix(b"~>").removeprefix(b"<~"))
        if b"/FlateDecode" in filters:
            raw = zlib.decompress(raw)
        out += re.sub(rb"\\([0-7]{1,3}|.)", lambda e: bytes([int(e.group(1), 8)]) if e.group(1)[:1].isdigit() else e.group(1), raw, flags=re.S)
    return out


def has_text(data: bytes, text: str) -> bool:
    return text.encode("utf-16-be") in pdf_text(data)


def test_item_notice_pdf_lists_materials_marks_and_limits(trio):
    trio.b.fee, trio.b.legal_basis, trio.b.location = "每枚30元", "某某管理办法第三条", "一楼5号窗口"
    trio.b.save()
    data = pdf.item_notice(trio.b, url="http://example.test/catalog/guide/T-B/")
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type /Page\b", data)) == 1
    for text in ("公章刻制", "一次性告知单", "经办人身份证", "可容缺受理", "可用电子证照", "营业执照", "每枚30元", "某某管理办法第三条",
                 "一楼5号窗口", "窗口办理"):
        assert has_text(data, text), text
    assert not has_text(data, "不存在的文字")


def test_package_notice_pdf_lists_the_merged_materials(trio):
    data = pdf.package_notice(trio.package)
    assert data.startswith(b"%PDF-")
    for text in ("测试一件事", "设立登记", "社保登记", "开户信息", "无需提交", "用于", "减少 42.9%"):
        assert has_text(data, text), text


def test_guide_pages_are_public_and_show_materials(client, trio):
    r = client.get(f"/catalog/guide/{trio.b.code}/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "公章刻制" in html and "经办人身份证" in html and "容缺可后补" in html and "电子证照：营业执照" in html
    assert 'name="viewport"' in html and "测试一件事" in html  # the package it belongs to
    r = client.get("/catalog/guide/package/P1/")
    assert r.status_code == 200 and "套餐内产出，免提交" in r.content.decode() and "42.9%" in r.content.decode()
    assert client.get("/catalog/guide/").status_code == 200
    assert "公章刻制" in client.get("/catalog/guide/", {"q": "刻制"}).content.decode()
    r = client.get(f"/catalog/guide/{trio.b.code}/notice.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf" and has_text(r.content, "公章刻制")
    assert client.get("/catalog/guide/package/P1/notice.pdf").content.startswith(b"%PDF-")
    trio.b.active = False
    trio.b.save()
    assert client.get(f"/catalog/guide/{trio.b.code}/").status_code == 404
    assert client.get("/catalog/guide/NOPE/notice.pdf").status_code == 404


def test_negative_list_item_is_shown_as_not_handled_in_the_hall(client, trio):
    trio.c.negative_list, trio.c.negative_reason = True, "请到县婚姻登记处办理"
    trio.c.save()
    html = client.get(f"/catalog/guide/{trio.c.code}/").content.decode()
    assert "不进厅办理" in html and "请到县婚姻登记处办理" in html
    assert "不进厅办理" not in client.get(f"/catalog/guide/{trio.b.code}/").content.decode()
    data = pdf.item_notice(trio.c)
    assert has_text(data, "不进厅办理") and has_text(data, "请到县婚姻登记处办理")


def test_staff_pages_need_login_and_show_savings(client, trio, county):
    assert client.get("/catalog/").status_code == 302
    client.force_login(county.operator)
    html = client.get("/catalog/").content.decode()
    assert "公章刻制" in html and "T-A" in html
    html = client.get("/catalog/", {"q": "社保"}).content.decode()
    assert "社保登记" in html and "公章刻制" not in html
    html = client.get("/catalog/packages/P1/").content.decode()
    assert "7 → 4" in html and "85.7%" in html and "只填一次" in html
    assert "42.9%" in client.get("/catalog/savings/").content.decode()
    assert "经办人身份证" in client.get("/catalog/items/T-B/").content.decode()
    assert "测试一件事" in client.get("/catalog/packages/").content.decode()
    r = client.get("/catalog/export.xlsx")
    assert r.status_code == 200 and load_workbook(io.BytesIO(r.getvalue())).sheetnames == ["事项", "材料", "表单字段", "一件事"]


def test_only_system_admins_import(client, trio, county):
    client.force_login(county.operator)
    assert client.get("/catalog/import/").status_code == 404
    client.force_login(county.admin)
    r = client.post("/catalog/import/", {"file": _named(b"junk")})
    assert r.status_code == 400 and "无法读取文件" in r.content.decode()
    r = client.post("/catalog/import/", {"file": _named(sheet_file(items=[GOOD_ITEM], materials=[], fields=[]).getvalue())})
    assert r.status_code == 302 and ServiceItem.objects.filter(code="N-1").exists()


def _named(data: bytes):
    f = io.BytesIO(data)
    f.name = "catalog.xlsx"
    return f


# ---------------------------------------------------------------- demo catalog


@pytest.fixture
def demo_org(county):
    units = {}
    for key, name, short in C.DEPARTMENTS + C.ENTERPRISES:
        kind = UnitKind.ENTERPRISE if (key, name, short) in C.ENTERPRISES else UnitKind.DEPARTMENT
        units[key] = Unit.objects.get_or_create(name=name, defaults={"short_name": short, "kind": kind, "region": county.county})[0]
    return SimpleNamespace(county=county.county, units=units, unit_keys={}, handlers={}, admins={}, accounts=[])


def test_demo_catalog_counts_and_required_packages(demo_org):
    lines = demo.build(demo_org, seed=2026, end=datetime(2026, 11, 25))
    assert "政务服务事项" in lines[0] and "由事项数据计算" in lines[1]
    items = ServiceItem.objects.all()
    assert items.count() >= 40 and items.values("unit").distinct().count() >= 10
    assert items.filter(negative_list=True).exclude(negative_reason="").exists()
    assert items.filter(cross_province=True).exclude(partner_regions="").exists() and items.filter(all_region=True).exists()
    for item in items:
        assert item.materials.exists() and item.fields.exists(), item
        assert item.promised_days <= item.legal_days or item.legal_days == 0, item
    assert Package.objects.count() >= 6
    names = set(Package.objects.values_list("name", flat=True))
    for wanted in ("企业开办", "新生儿出生一件事", "退休一件事", "开办餐饮店"):
        assert wanted in names
    assert any("二手房" in n and "水电气" in n for n in names)
    start_up = Package.objects.get(name="企业开办")
    assert start_up.promised_days == Decimal("0.5")
    step_names = [i.name for i in start_up.ordered_items()]
    for wanted in ("企业设立登记", "公章刻制备案", "发票领用", "单位参保登记"):
        assert wanted in step_names
    for package in Package.objects.all():
        s = services.savings(package)
        assert s["items"] >= 2 and all(s[m]["saved"] >= 0 for m in services.MEASURES), package
        assert s["materials"]["saved"] > 0 and s["days"]["saved"] > 0 and s["visits"]["saved"] > 0, package
    # docs/catalog.md quotes these figures: keep them in step with the data
    docs = (Path(__file__).resolve().parent.parent / "docs" / "catalog.md").read_text(encoding="utf-8")
    avg = services.savings_summary()["averages"]
    assert f"材料减少 {avg['materials']}%, 填表减少 {avg['fields']}%, 时限压缩 {avg['days']}%, 跑动减少 {avg['visits']}%" in docs
    for package in Package.objects.all():
        s = services.savings(package)
        assert f"{s['materials']['separate']} → {s['materials']['merged']}（−{s['materials']['percent']}%）" in docs, package
    # the extra units got staff, so packages can be worked on
    assert set(demo_org.units) >= {"shuiwu", "ranqi", "guangdian"}
    assert all(demo_org.handlers[demo_org.units[k].pk] for k in ("shuiwu", "ranqi", "guangdian"))
    demo.wipe()
    assert not ServiceItem.objects.exists() and not Package.objects.exists()


def test_demo_material_notation():
    m = demo.parse_material("premises:0/1~", 3)
    assert (m["key"], m["originals"], m["copies"], m["required"], m["deferrable"], m["order"]) == ("premises", 0, 1, True, True, 3)
    assert m["licence_kind"] == "不动产权证书"
    m = demo.parse_material("unused?=未使用发票", 1)
    assert m["name"] == "未使用发票" and not m["required"] and m["source"] == "申请人自备" and not m["application_form"]
    assert demo.parse_material("x_form!=某申请表", 1)["application_form"] and demo.parse_material("reg_form", 1)["application_form"]
    with pytest.raises(ValueError):
        demo.parse_material("Bad Key", 1)


def test_admin_edits_an_item_with_channel_checkboxes(client, trio, county):
    client.force_login(county.admin)
    url = f"/admin/catalog/serviceitem/{trio.a.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and 'type="checkbox" name="channels" value="online"' in page.content.decode()
    from tongban.catalog.admin import ServiceItemForm
    data = {k: v for k, v in ServiceItemForm(instance=trio.a).initial.items() if v is not None}
    data.update(unit=county.housing.pk, channels=["online", "express"])
    form = ServiceItemForm(data=data, instance=trio.a)
    assert form.is_valid(), form.errors
    form.save()
    trio.a.refresh_from_db()
    assert trio.a.channels == ["online", "express"] and trio.a.channel_labels == ["全程网办", "邮寄送达"]
