"""Rules of the catalog: 一表申请 (merged form), 一套材料 (merged materials) and the savings of a package.

Everything here is computed from the catalog rows, never stored, so a changed item changes every
package that contains it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .models import FieldKind, FormField, Material, Package, ServiceItem

# A field of this kind holds the number of the licence named (the USCC is the 营业执照's number): when an
# earlier item of the package issues that licence, the applicant has no such number yet and is not asked.
ASSIGNED_BY_LICENCE = {FieldKind.USCC: "营业执照"}


@dataclass
class MergedField:
    """One question of a package's form; `items` are the items that ask it."""

    key: str
    label: str
    kind: str
    required: bool
    choices: list
    order: int
    items: list[ServiceItem] = field(default_factory=list)
    produced_by: ServiceItem | None = None  # an earlier item of the package issues the licence that assigns it

    @property
    def to_fill(self) -> bool:
        return self.produced_by is None


@dataclass
class MaterialNeed:
    """One material of a checklist (an item's or a package's), with the items that need it.

    `rows` are the underlying `Material` rows (one per item). Originals/copies are the largest
    asked by any item (one set serves all); `required` if any item requires it; `deferrable` (容缺)
    only if every item that requires it allows it to be supplied later.
    """

    key: str
    name: str
    originals: int
    copies: int
    required: bool
    deferrable: bool
    licence_kind: str
    source: str
    note: str
    items: list[ServiceItem] = field(default_factory=list)
    rows: list[Material] = field(default_factory=list)
    produced_by: ServiceItem | None = None  # an earlier item of the package issues it: the applicant brings nothing
    by_form: bool = False  # an item's application form, replaced in a package by the one merged form (一表申请)

    @property
    def to_submit(self) -> bool:
        return self.produced_by is None and not self.by_form

    @property
    def shared(self) -> bool:
        return len(self.items) > 1


def _need(m: Material) -> MaterialNeed:
    return MaterialNeed(m.key, m.name, m.originals, m.copies, m.required, m.deferrable, m.licence_kind,
                        m.source, m.note, [m.item], [m])


def _package_items(package: Package) -> list[ServiceItem]:
    return package.ordered_items()


def item_materials(item: ServiceItem) -> list[MaterialNeed]:
    """An item's checklist, in the same shape as a package's."""
    return [_need(m) for m in item.materials.select_related("item").order_by("order", "id")]


def merged_materials(package: Package) -> list[MaterialNeed]:
    """一套材料: the union of the items' materials, one entry per material key, in first-seen order.

    A material that another item of the same package issues (its `licence_kind` is that item's
    `produces`, e.g. the 营业执照 needed for 发票领用 in 企业开办) is marked `produced_by` when every
    item needing it comes after the issuing one: it is shared from the e-licence store, not submitted.
    The items' own application forms (`Material.application_form`) are marked `by_form`: the
    package's one merged form replaces them.
    """
    items = _package_items(package)
    rows = Material.objects.filter(item__in=items).select_related("item")
    by_item: dict[int, list[Material]] = {}
    for m in rows:
        by_item.setdefault(m.item_id, []).append(m)
    merged: dict[str, MaterialNeed] = {}
    for item in items:
        for m in sorted(by_item.get(item.pk, []), key=lambda r: (r.order, r.pk)):
            need = merged.get(m.key)
            if need is None:
                merged[m.key] = _need(m)
                continue
            need.items.append(item)
            need.rows.append(m)
            need.originals = max(need.originals, m.originals)
            need.copies = max(need.copies, m.copies)
            need.licence_kind = need.licence_kind or m.licence_kind
            need.source = need.source or m.source
            need.note = need.note or m.note
    for need in merged.values():
        required_rows = [r for r in need.rows if r.required]
        need.required = bool(required_rows)
        need.deferrable = all(r.deferrable for r in required_rows) if required_rows else any(r.deferrable for r in need.rows)
        need.by_form = len(items) > 1 and all(r.application_form for r in need.rows)
        if need.licence_kind:
            position = {item.pk: n for n, item in enumerate(items)}
            first_need = min(position[i.pk] for i in need.items)
            need.produced_by = next((i for i in items if i.produces == need.licence_kind and position[i.pk] < first_need), None)
    return list(merged.values())


def merged_form(package: Package) -> list[MergedField]:
    """一表申请: one field per key across the items; the first item's label wins, required if any requires it.

    A field that a licence assigns (ASSIGNED_BY_LICENCE, e.g. the USCC of the 营业执照) is marked
    `produced_by` when an item of the package issues that licence before every item asking for it:
    it is filled in when the licence is issued, not by the applicant."""
    items = _package_items(package)
    rows = FormField.objects.filter(item__in=items)
    by_item: dict[int, list[FormField]] = {}
    for f in rows:
        by_item.setdefault(f.item_id, []).append(f)
    merged: dict[str, MergedField] = {}
    for item in items:
        for f in sorted(by_item.get(item.pk, []), key=lambda r: (r.order, r.pk)):
            got = merged.get(f.key)
            if got is None:
                merged[f.key] = MergedField(f.key, f.label, f.kind, f.required, list(f.choices or []), len(merged), [item])
                continue
            got.items.append(item)
            got.required = got.required or f.required
            for c in f.choices or []:
                if c not in got.choices:
                    got.choices.append(c)
    position = {item.pk: n for n, item in enumerate(items)}
    for got in merged.values():
        licence = ASSIGNED_BY_LICENCE.get(got.kind)
        if licence:
            first_ask = min(position[i.pk] for i in got.items)
            got.produced_by = next((i for i in items if i.produces == licence and position[i.pk] < first_ask), None)
    return list(merged.values())


def merged_material_count(needs: list[MaterialNeed]) -> int:
    """What the applicant hands in for a package: the materials to submit, plus the one merged form."""
    return sum(1 for m in needs if m.to_submit) + (1 if any(m.by_form for m in needs) else 0)


def _measure(separate, merged) -> dict:
    separate, merged = Decimal(separate), Decimal(merged)
    saved = separate - merged
    percent = (saved * 100 / separate).quantize(Decimal("0.1")) if separate else Decimal("0.0")
    return {"separate": separate, "merged": merged, "saved": saved, "percent": percent}


def savings(package: Package) -> dict:
    """What the package saves the applicant compared with applying for each item on its own.

    - materials: sum of each item's material count  vs  the merged (deduplicated) list, less what
                 an earlier item of the package issues (`MaterialNeed.produced_by`), with the items'
                 application forms counted as the one merged form
    - fields:    sum of each item's form fields     vs  the merged form, less what an earlier item's
                 licence assigns (`MergedField.produced_by`)
    - days:      items' promised limits one after another (working days)  vs  the package limit
    - visits:    sum of each item's 跑动次数          vs  the package's
    Each value is {"separate", "merged", "saved", "percent"} (Decimal; percent of the separate figure).
    """
    items = _package_items(package)
    ids = [i.pk for i in items]
    material_count = Material.objects.filter(item_id__in=ids).count()
    field_count = FormField.objects.filter(item_id__in=ids).count()
    return {
        "items": len(items),
        "materials": _measure(material_count, merged_material_count(merged_materials(package))),
        "fields": _measure(field_count, sum(1 for f in merged_form(package) if f.to_fill)),
        "days": _measure(sum((i.promised_days for i in items), Decimal(0)), package.promised_days),
        "visits": _measure(sum(i.visits for i in items), package.visits),
    }


MEASURES = ("materials", "fields", "days", "visits")


def savings_summary(packages=None) -> dict:
    """Savings of every active package and the plain averages of their percentages."""
    if packages is None:
        packages = Package.objects.filter(active=True).order_by("code")
    rows = [(p, savings(p)) for p in packages]
    averages = {}
    for m in MEASURES:
        values = [s[m]["percent"] for _, s in rows]
        averages[m] = (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.1")) if values else Decimal("0.0")
    totals = {m: _measure(sum((s[m]["separate"] for _, s in rows), Decimal(0)),
                          sum((s[m]["merged"] for _, s in rows), Decimal(0))) for m in MEASURES}
    return {"rows": rows, "averages": averages, "totals": totals}


FLAGS = {"negative": ("负面清单（不进厅）", {"negative_list": True}), "cross": ("跨省通办", {"cross_province": True}),
         "all_region": ("全域通办", {"all_region": True}), "online": ("可全程网办", {}), "inactive": ("已停用", {"active": False})}


def find_items(q: str = "", *, unit_id: int | None = None, item_type: str = "", flag: str = "", public: bool = False):
    """Items matching a search box (code, name or unit), a unit, a type and a flag of FLAGS."""
    from django.db.models import Q

    qs = ServiceItem.objects.select_related("unit")
    if public or flag != "inactive":
        qs = qs.filter(active=True)
    for word in q.split()[:5]:
        qs = qs.filter(Q(name__icontains=word) | Q(code__icontains=word) | Q(produces__icontains=word) | Q(unit__name__icontains=word) | Q(unit__short_name__icontains=word))
    if unit_id:
        qs = qs.filter(unit_id=unit_id)
    if item_type:
        qs = qs.filter(item_type=item_type)
    if flag in FLAGS:
        qs = qs.filter(**FLAGS[flag][1])
        if flag == "online":  # JSON containment differs by database; the catalog is small
            qs = qs.filter(pk__in=[i.pk for i in qs if "online" in (i.channels or [])])
    return qs.order_by("unit__name", "code")
