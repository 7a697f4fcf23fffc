"""工单: intake, lists with filters and keyset pages, detail with events and allowed actions."""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

from django.http import HttpResponse
from ninja import Header, Query, Router

from tongban.cases import access
from tongban.cases.models import CaseType, Category
from tongban.core.models import Region
from tongban.hotline import queries
from tongban.hotline import services as hotline

from . import lookups, present
from .compat import Status
from .errors import ApiError, FieldErrors
from .schemas import CaseDetail, CaseListQuery, CaseNumber, CasePage, CaseSummary, ErrorOut, IntakeIn, SuggestionsOut

router = Router(tags=["工单"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def _coordinate(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(f"{value:.6f}")


@router.post(
    "/cases", response={201: CaseDetail, **ERRORS, 409: ErrorOut}, summary="受理诉求",
    description=(
        "登记一件新诉求（受理），返回新工单，状态为“待派单”。需要热线中心的“话务员”或“派单员”角色。"
        "字段不合格时返回 400，`errors` 中逐字段说明，例如联系电话格式不正确。"
        "建议带 `Idempotency-Key` 请求头（每件诉求一个随机值，如 UUID）：网络中断后用同一键重试，"
        "不会重复登记，而是返回第一次创建的工单（状态码同样为 201，响应头 `Idempotent-Replayed: true`）；"
        "同一键用于内容不同的请求时返回 409。工单在响应发出前已提交入库。"
    ),
)
def create_case(request, response: HttpResponse, data: IntakeIn, idempotency_key: Optional[str] = Header(
        None, alias="Idempotency-Key", min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$",
        description="幂等键：1–128 个可见 ASCII 字符，同一账号内每件诉求唯一")):
    user = request.auth
    errors = {}
    case_type = CaseType.usable(data.case_type, "hotline")
    if case_type is None:
        errors["case_type"] = "诉求类型无效：请使用 GET /api/v1/case-types 返回的代码。"
    category = None
    if data.category is not None:
        category = Category.objects.filter(pk=data.category, active=True).first() if 0 < data.category <= lookups.MAX_ID else None
        if category is None:
            errors["category"] = "诉求分类不存在或已停用。"
    region = None
    if data.region is not None:
        region = Region.objects.filter(pk=data.region).first() if 0 < data.region <= lookups.MAX_ID else None
        if region is None:
            errors["region"] = "属地区划不存在。"
    if errors:
        raise FieldErrors(errors)
    try:
        case = hotline.intake(hotline.Intake(
            case_type=case_type, title=data.title, content=data.content, requester_name=data.requester_name,
            requester_phone=data.requester_phone, address=data.address, region=region, category=category,
            channel=data.channel, latitude=_coordinate(data.latitude), longitude=_coordinate(data.longitude),
            intake_key=idempotency_key,
        ), by=user)
    except hotline.IntakeKeyConflict as exc:
        raise ApiError(409, str(exc)) from None
    if case.replayed:
        response["Idempotent-Replayed"] = "true"
        return Status(201, present.case_detail(lookups.reload(case), user))
    # a fresh case already carries its related rows, and its only event is the 受理 just written
    opening = case.opening_event
    if user is not None and opening.actor_unit_id == user.unit_id:
        opening.actor_unit = user.unit
    return Status(201, present.case_detail(case, user, events=[opening], assignments=[]))


@router.get(
    "/cases", response={200: CasePage, **ERRORS}, summary="工单列表（筛选、分页）",
    description=(
        "您数据权限范围内的工单，按受理时间从新到旧。可组合筛选。分页采用游标（键集分页）："
        "把响应中的 `next_cursor` 原样放入下一次请求的 `cursor`，为空表示已到最后一页。"
    ),
)
def list_cases(request, filters: Query[CaseListQuery]):
    f = queries.CaseFilter(
        q=filters.q, state=filters.state or "", case_type=filters.case_type, unit=filters.unit,
        category=filters.category, channel=filters.channel or "", light=filters.light or "",
        supervised=filters.supervised, created_from=filters.created_from, created_to=filters.created_to,
    )
    if f.unit is not None and not 0 < f.unit <= lookups.MAX_ID:
        raise FieldErrors({"unit": "单位不存在。"})
    if f.category is not None and not 0 < f.category <= lookups.MAX_ID:
        raise FieldErrors({"category": "分类不存在。"})
    if f.created_from and f.created_to and f.created_from > f.created_to:
        raise FieldErrors({"created_to": "截止日期不能早于起始日期。"})
    cursor = present.decode_cursor(filters.cursor)
    return present.page(queries.case_list(request.auth, f, cursor=cursor, size=filters.size))


@router.get(
    "/cases/{number}", response={200: CaseDetail, **ERRORS}, summary="工单详情",
    description=(
        "工单的全部信息、办理记录（events）、派单记录（assignments），以及当前调用者此刻可以执行的操作"
        "（allowed_actions）。工单不存在或不在您的数据权限范围内时一律返回 404。"
    ),
)
def get_case(request, number: CaseNumber):
    case = lookups.visible_case(request.auth, number)
    return present.case_detail(lookups.reload(case), request.auth)


@router.get(
    "/cases/{number}/earlier", response={200: list[CaseSummary], **ERRORS}, summary="同一来电人的历史诉求",
    description="与该工单联系电话相同的较早诉求（最多 10 件，您数据权限范围内的），受理时用于识别重复件。",
)
def earlier_cases(request, number: CaseNumber):
    case = lookups.visible_case(request.auth, number)
    ids = [c.pk for c in hotline.earlier_requests(case.requester_phone, exclude=case)]
    rows = access.visible_cases(request.auth).filter(pk__in=ids).select_related(*queries.LIST_FIELDS).order_by("-created_at", "-id")
    return [present.case_summary(c) for c in rows]


@router.get(
    "/cases/{number}/suggestions", response={200: SuggestionsOut, **ERRORS}, summary="智能派单建议",
    description=(
        "该工单的前 3 个建议承办单位（权责清单、派单模型、分类默认单位合并），每个附把握度和理由，"
        "以及分类预测和识别出的属地。仅热线中心人员可用；不在数据权限范围内的工单返回 404。"
    ),
)
def suggestions(request, number: CaseNumber):
    from tongban.dispatch import routing
    from tongban.dispatch.directory import directory

    case = lookups.visible_case(request.auth, number)
    if not access.is_centre_staff(request.auth):
        raise ApiError(403, "派单建议仅供热线中心人员使用。")
    result = routing.suggest(lookups.reload(case))
    guess, cfg = result.category, directory().settings
    return {
        "units": [{"unit": present.unit_ref(s.unit), "score": round(s.score, 4), "reason": s.reason} for s in result.items],
        "category": {"name": guess.name, "confidence": round(guess.confidence, 4), "confirmed": guess.confirmed,
                     "words": list(guess.words)} if guess else None,
        "region": {"id": result.region.pk, "name": result.region.name} if result.region else None,
        "model_version": result.model_version,
        "auto_dispatch_threshold": cfg.threshold if cfg.enabled else None,
    }
