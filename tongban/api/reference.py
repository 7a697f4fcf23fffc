"""基础数据: units, categories, case types and regions, for building requests."""
from __future__ import annotations

from ninja import Router

from tongban.cases.models import CaseType, Category
from tongban.core.models import Region, Unit, UnitKind

from .schemas import CaseTypeOut, CategoryOut, ErrorOut, RegionOut, UnitOut

router = Router(tags=["基础数据"])
KINDS = dict(UnitKind.choices)


@router.get("/units", response={200: list[UnitOut], 401: ErrorOut}, summary="单位",
            description="启用的全部单位（派单、下派、改派时选用），按组织层级排列。")
def units(request):
    return [{
        "id": u.pk, "name": u.name, "short_name": u.short_name, "kind": u.kind, "kind_label": KINDS.get(u.kind, u.kind),
        "parent": u.parent_id, "region": u.region_id, "level": u.region.level,
    } for u in Unit.objects.filter(active=True).select_related("region").order_by("path")]


@router.get("/categories", response={200: list[CategoryOut], 401: ErrorOut}, summary="诉求分类",
            description="启用的三级诉求分类。")
def categories(request):
    return [{
        "id": c.pk, "name": c.name, "full_name": c.full_name, "level": c.level, "parent": c.parent_id,
        "default_unit": c.default_unit_id,
    } for c in Category.objects.filter(active=True).order_by("full_name")]


@router.get("/case-types", response={200: list[CaseTypeOut], 401: ErrorOut}, summary="诉求类型及时限",
            description="启用的诉求类型及其签收、办结、重办、延期时限。")
def case_types(request):
    return [{
        "code": t.code, "name": t.name, "workflow": t.workflow, "sign_limit": t.sign_limit,
        "sign_limit_unit": t.sign_limit_unit, "finish_limit_days": t.finish_limit_days,
        "redo_limit_days": t.redo_limit_days, "max_extensions": t.max_extensions,
        "max_extension_days": t.max_extension_days,
    } for t in CaseType.objects.filter(active=True)]


@router.get("/regions", response={200: list[RegionOut], 401: ErrorOut}, summary="行政区划",
            description="行政区划和网格（受理时的属地）。")
def regions(request):
    return [{"id": r.pk, "code": r.code, "name": r.name, "level": r.level, "parent": r.parent_id}
            for r in Region.objects.order_by("level", "code")]
