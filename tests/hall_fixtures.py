"""A small hall: the county fixture plus a 政务服务中心 with two clerks and a 企业开办 package."""
from dataclasses import dataclass
from decimal import Decimal
from random import Random

import pytest

from tongban.catalog.models import FormField, Material, Package, PackageItem, ServiceItem
from tongban.hall import services as hall
from tongban.hall.ids import make_id_number, make_uscc
from tongban.hall.models import Enterprise, Licence, Person

from .factories import UnitFactory, UserFactory

RNG = Random(7)
ID_A = make_id_number(RNG)
ID_B = make_id_number(RNG)
USCC_A = make_uscc(RNG)


@dataclass
class Hall:
    unit: object
    clerk: object
    market: object
    market_handler: object
    police: object
    police_handler: object
    tax: object
    tax_handler: object
    licence_item: object
    seal_item: object
    invoice_item: object
    startup: object
    county: object


def _item(code, name, unit, days, *, materials=(), fields=(), produces=""):
    item = ServiceItem.objects.create(code=code, name=name, unit=unit, legal_days=Decimal(days) * 2, promised_days=Decimal(days),
                                      channels=["window", "online"], visits=1, produces=produces)
    for i, (key, mname, deferrable, kind) in enumerate(materials):
        Material.objects.create(item=item, key=key, name=mname, deferrable=deferrable, licence_kind=kind, order=i)
    Material.objects.create(item=item, key="reg_form", name="申请表", application_form=True, required=False, order=len(materials))
    for i, (key, label, kind) in enumerate(fields):
        FormField.objects.create(item=item, key=key, label=label, kind=kind, order=i)
    return item


@pytest.fixture
def hallx(county):
    unit = UnitFactory(name="县政务服务中心", region=county.county)
    market = UnitFactory(name="县市场监督管理局", region=county.county)
    police = UnitFactory(name="县公安局", region=county.county)
    tax = UnitFactory(name="县税务局", region=county.county)
    id_card = ("id_card", "申请人身份证", False, "居民身份证")
    common = [("applicant_name", "申请人姓名", "text"), ("applicant_id", "申请人身份证号", "id_number"), ("phone", "联系电话", "phone")]
    licence_item = _item("M001", "企业设立登记（营业执照）", market, 1,
                         materials=[id_card, ("articles", "公司章程", False, ""), ("lease", "住所使用证明（租赁合同）", True, "")],
                         fields=common + [("company_name", "企业名称", "text")], produces="营业执照")
    seal_item = _item("P001", "印章刻制备案", police, 1, materials=[id_card, ("business_licence", "营业执照", False, "营业执照")],
                      fields=common)
    invoice_item = _item("T001", "发票申领", tax, 2, materials=[id_card, ("business_licence", "营业执照", False, "营业执照")],
                         fields=common + [("uscc", "统一社会信用代码", "uscc")])
    startup = Package.objects.create(code="PK01", name="企业开办一件事", promised_days=Decimal("0.5"), visits=1)
    for i, item in enumerate([licence_item, seal_item, invoice_item]):
        PackageItem.objects.create(package=startup, item=item, order=i)
    return Hall(
        unit=unit, clerk=UserFactory(username="clerk1", roles="clerk", unit=unit), market=market,
        market_handler=UserFactory(username="market", roles="handler", unit=market), police=police,
        police_handler=UserFactory(username="police", roles="handler", unit=police), tax=tax,
        tax_handler=UserFactory(username="tax", roles="handler", unit=tax), licence_item=licence_item, seal_item=seal_item,
        invoice_item=invoice_item, startup=startup, county=county,
    )


def submission(*, item=None, package=None, **over) -> hall.Submission:
    data = dict(item=item, package=package, name="王小明", id_number=ID_A, phone="13912345678",
                form={"applicant_name": "王小明", "applicant_id": ID_A, "phone": "13912345678", "company_name": "青溪小明餐饮有限公司",
                      "uscc": USCC_A},
                present={"id_card", "articles", "lease", "business_licence"})
    data.update(over)
    return hall.Submission(**data)


def give_licence(kind="居民身份证", *, person_id=ID_A, valid_to=None, **over):
    person, _ = Person.objects.get_or_create(id_number=person_id, defaults={"name": "王小明"})
    import datetime as dt
    return Licence.objects.create(kind=kind, number=over.pop("number", person_id), person=person, issuer="示范市公安局",
                                  valid_from=dt.date(2020, 1, 1), valid_to=valid_to, **over)


__all__ = ["Hall", "hallx", "submission", "give_licence", "ID_A", "ID_B", "USCC_A", "Enterprise"]
