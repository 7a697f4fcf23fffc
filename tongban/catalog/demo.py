"""Demo catalog: the items and 一件事 packages of `demo_data`, attached to the demo county's units."""
from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.hashers import make_password

from tongban.core.models import Role, Unit, User
from tongban.demo import content as C

from . import demo_data as D
from . import services
from .models import FormField, Material, Package, PackageItem, ServiceItem

SPEC = re.compile(r"^(?P<key>[a-z_]+)(?::(?P<o>\d+)/(?P<c>\d+))?(?P<flags>[?~!]*)$")


def parse_material(spec: str, order: int) -> dict:
    """"key:originals/copies?~=名称" → Material fields (see demo_data's notation)."""
    head, _, name = spec.partition("=")
    m = SPEC.match(head)
    if not m:
        raise ValueError(f"示范材料写法有误：{spec}")
    key = m["key"]
    lib_name, source, licence = D.MATERIALS.get(key, ("", "申请人自备", ""))
    if not (name or lib_name):
        raise ValueError(f"示范材料“{key}”没有名称")
    return {"key": key, "name": name or lib_name, "source": source, "licence_kind": licence,
            "originals": int(m["o"] or 1), "copies": int(m["c"] or 0), "required": "?" not in m["flags"],
            "deferrable": "~" in m["flags"], "order": order, "application_form": "!" in m["flags"] or "一表申请" in source}


def _extra_units(org) -> None:
    """Units the catalog needs that the hotline demo lacks (税务局, 燃气, 广电网络), with a handler and a unit admin each."""
    password = make_password(C.PASSWORD)
    for key, name, short, kind in D.EXTRA_UNITS:
        if key in org.units:
            continue
        unit = Unit.objects.create(name=name, short_name=short, kind=kind, region=org.county, phone=D.UNIT_PHONES.get(key, ""))
        handler_name, admin_name = D.EXTRA_STAFF[key]
        handler = User.objects.create(username=key, display_name=handler_name, roles=Role.HANDLER, unit=unit, password=password)
        admin = User.objects.create(username=f"{key}_admin", display_name=admin_name, roles=Role.UNIT_ADMIN, unit=unit, password=password)
        org.units[key] = unit
        org.unit_keys[unit.pk] = key
        org.handlers[unit.pk] = [handler]
        org.admins[unit.pk] = admin
        org.accounts += [(handler.username, handler_name, Role.HANDLER, name), (admin.username, admin_name, Role.UNIT_ADMIN, name)]


def build(org, *, seed: int, end: datetime) -> list[str]:
    _extra_units(org)
    materials, fields = [], []
    items: dict[str, ServiceItem] = {}
    for (code, name, item_type, unit_key, legal, promised, fee, channels, visits, opts, basis, mats, flds) in D.ITEMS:
        unit = org.units[unit_key]
        negative = opts.get("negative", "")
        item = ServiceItem.objects.create(
            code=code, name=name, item_type=item_type, unit=unit, legal_days=Decimal(str(legal)),
            promised_days=Decimal(str(promised)), fee=fee, channels=channels, visits=visits,
            cross_province=bool(opts.get("cross")), partner_regions=opts.get("cross", ""), all_region=bool(opts.get("all_region")),
            location=opts.get("location", D.HALL + "无差别综合受理窗口"), phone=D.UNIT_PHONES.get(unit_key, ""),
            legal_basis=basis, produces=opts.get("produces", ""), negative_list=bool(negative), negative_reason=negative)
        items[code] = item
        materials += [Material(item=item, **parse_material(spec, i)) for i, spec in enumerate(mats, start=1)]
        for i, key in enumerate(flds, start=1):
            label, kind, choices = D.FIELDS[key]
            fields.append(FormField(item=item, key=key, label=label, kind=kind, choices=choices, order=i))
    Material.objects.bulk_create(materials)
    FormField.objects.bulk_create(fields)
    packages = []
    for code, name, description, days, visits, window, codes in D.PACKAGES:
        package = Package.objects.create(code=code, name=name, description=description, promised_days=Decimal(str(days)),
                                         visits=visits, window=window)
        PackageItem.objects.bulk_create([PackageItem(package=package, item=items[c], order=i) for i, c in enumerate(codes, start=1)])
        packages.append(package)
    summary = services.savings_summary(packages)
    avg = summary["averages"]
    departments = len({i.unit_id for i in items.values()})
    return [
        f"政务服务事项 {len(items)} 项（{departments} 个实施主体，负面清单 {sum(i.negative_list for i in items.values())} 项），"
        f"办理材料 {len(materials)} 条，申请表字段 {len(fields)} 个",
        f"“一件事”套餐 {len(packages)} 个：平均材料减少 {avg['materials']}%、表单字段减少 {avg['fields']}%、"
        f"时限压缩 {avg['days']}%、跑动减少 {avg['visits']}%（由事项数据计算）",
    ]


def wipe() -> None:
    PackageItem.objects.all().delete()
    Package.objects.all().delete()
    ServiceItem.objects.all().delete()  # materials and form fields go with their items
