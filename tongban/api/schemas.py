"""Request and response shapes of /api/v1/, with Chinese field descriptions for the OpenAPI document."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, Optional

from ninja import Field, Path, Schema
from pydantic import AfterValidator

from tongban.cases.models import Channel
from tongban.hotline.choices import RefusalReason, Result, Satisfaction
from tongban.hotline.workflow import HOTLINE


def _choices(choices) -> str:
    return "；".join(f"`{value}` {label}" for value, label in choices.choices)


ChannelCode = Literal[tuple(Channel.values)]  # type: ignore[valid-type]
ResultCode = Literal[tuple(Result.values)]  # type: ignore[valid-type]
SatisfactionCode = Literal[tuple(Satisfaction.values)]  # type: ignore[valid-type]
RefusalCode = Literal[tuple(RefusalReason.values)]  # type: ignore[valid-type]
StateFilter = Literal[("open", *HOTLINE.states)]  # type: ignore[valid-type]


def _sane_date(value: date) -> date:
    if not 2000 <= value.year <= 2100:
        raise ValueError("日期应在 2000 年至 2100 年之间。")
    return value


Day = Annotated[date, AfterValidator(_sane_date)]
CaseNumber = Path[str, {"description": "工单编号，例如 2026112300123"}]
STATE_DOC = "；".join(f"`{k}` {v}" for k, v in HOTLINE.states.items())


# ---- errors -------------------------------------------------------------------------------------

class ErrorOut(Schema):
    detail: str = Field(..., description="错误说明（中文）")
    errors: Optional[dict[str, str]] = Field(None, description="逐字段的错误说明：键为字段名，值为中文说明")


# ---- auth ---------------------------------------------------------------------------------------

class TokenIn(Schema):
    username: str = Field(..., min_length=1, max_length=150, description="登录用户名")
    password: str = Field(..., min_length=1, max_length=4096, description="登录密码")
    name: str = Field("", max_length=64, description="令牌用途，便于日后辨认和吊销，例如“话务系统对接”")


class TokenOut(Schema):
    token: str = Field(..., description="令牌。只在此处显示一次，服务器只保存其摘要，请妥善保存")
    prefix: str = Field(..., description="令牌前 8 位，用于在后台辨认")
    name: str = Field(..., description="令牌用途")
    expires_at: Optional[datetime] = Field(None, description="过期时间；为空表示不过期")


class UnitRef(Schema):
    id: int = Field(..., description="单位 ID")
    name: str = Field(..., description="单位名称")


class MeOut(Schema):
    username: str = Field(..., description="用户名")
    display_name: str = Field(..., description="姓名")
    unit: Optional[UnitRef] = Field(None, description="所属单位")
    roles: list[str] = Field(..., description="角色代码")
    role_labels: list[str] = Field(..., description="角色名称")
    is_centre_staff: bool = Field(..., description="是否热线中心人员（可见全部工单）")
    auth: Literal["token", "session"] = Field(..., description="本次请求的认证方式")


# ---- cases --------------------------------------------------------------------------------------

class CategoryRef(Schema):
    id: int = Field(..., description="分类 ID")
    full_name: str = Field(..., description="完整分类名称（一级/二级/三级）")


class RegionRef(Schema):
    id: int = Field(..., description="区划 ID")
    name: str = Field(..., description="区划名称")
    full_name: str = Field(..., description="完整区划名称")


class CaseSummary(Schema):
    number: str = Field(..., description="工单编号")
    case_type: str = Field(..., description="诉求类型代码")
    case_type_name: str = Field(..., description="诉求类型名称")
    channel: str = Field(..., description="受理渠道代码")
    channel_label: str = Field(..., description="受理渠道名称")
    title: str = Field(..., description="诉求标题")
    requester_name: str = Field(..., description="诉求人姓名（已脱敏，如“张*”）")
    requester_phone: str = Field(..., description="联系电话（已脱敏，如“138****1234”）")
    address: str = Field(..., description="诉求地址")
    state: str = Field(..., description="状态代码：" + STATE_DOC)
    state_label: str = Field(..., description="状态名称")
    is_open: bool = Field(..., description="是否未办结")
    unit: Optional[UnitRef] = Field(None, description="当前主办单位；未派单时为空")
    category: Optional[CategoryRef] = Field(None, description="诉求分类")
    created_at: datetime = Field(..., description="受理时间")
    dispatched_at: Optional[datetime] = Field(None, description="派单时间")
    sign_due_at: Optional[datetime] = Field(None, description="签收期限")
    due_at: Optional[datetime] = Field(None, description="办结期限")
    finished_at: Optional[datetime] = Field(None, description="办结时间")
    closed_at: Optional[datetime] = Field(None, description="结案时间")
    light: str = Field(..., description="时限灯：`red` 已超期，`yellow` 剩余不足一个工作日，`green` 正常，空表示计时已停止")
    supervised: bool = Field(..., description="是否已督办")
    result: str = Field(..., description="办理结果代码：" + _choices(Result))
    satisfaction: str = Field(..., description="满意度代码：" + _choices(Satisfaction))


class ExtensionRequestOut(Schema):
    days: int = Field(..., description="申请延期的工作日数")
    reason: str = Field(..., description="延期理由")


class EventOut(Schema):
    seq: int = Field(..., description="序号，从 1 开始")
    action: str = Field(..., description="操作代码")
    action_label: str = Field(..., description="操作名称")
    from_state: str = Field(..., description="原状态代码（受理时为空）")
    from_state_label: str = Field(..., description="原状态名称")
    to_state: str = Field(..., description="新状态代码")
    to_state_label: str = Field(..., description="新状态名称")
    actor: Optional[str] = Field(None, description="操作人姓名；系统自动操作时为空")
    actor_unit: Optional[UnitRef] = Field(None, description="操作人所在单位")
    unit: Optional[UnitRef] = Field(None, description="涉及单位（派单、签收、办结等的承办单位）")
    created_at: datetime = Field(..., description="时间")
    note: str = Field(..., description="说明、答复意见或理由")
    outcome: str = Field(..., description="结果代码（办结结果、回访满意度、不予受理情形等）")
    outcome_label: str = Field(..., description="结果名称")
    on_time: Optional[bool] = Field(None, description="是否按时（签收、办结）")
    solved: Optional[bool] = Field(None, description="回访时诉求人是否认为已解决")


class AssignmentOut(Schema):
    unit: UnitRef = Field(..., description="单位")
    role: str = Field(..., description="`lead` 主办；`assist` 协办")
    role_label: str = Field(..., description="角色名称")
    status: str = Field(..., description="`pending` 待签收；`accepted` 已签收；`relayed` 已下派；`returned` 已退回；`done` 已完成")
    status_label: str = Field(..., description="状态名称")
    sent_by_unit: Optional[UnitRef] = Field(None, description="派出单位")
    assigned_at: datetime = Field(..., description="派单时间")
    signed_at: Optional[datetime] = Field(None, description="签收时间")
    ended_at: Optional[datetime] = Field(None, description="结束时间；为空表示仍在办理")
    note: str = Field(..., description="说明")


class AllowedAction(Schema):
    action: str = Field(..., description="流程中的操作代码")
    label: str = Field(..., description="操作名称")
    method: str = Field("POST", description="HTTP 方法")
    path: str = Field(..., description="接口路径，例如 /api/v1/cases/{number}/sign")


class CaseDetail(CaseSummary):
    content: str = Field(..., max_length=10000, description="诉求内容（不超过 10000 字）")
    region: Optional[RegionRef] = Field(None, description="属地区划")
    latitude: Optional[float] = Field(None, description="纬度")
    longitude: Optional[float] = Field(None, description="经度")
    reply: str = Field(..., description="答复意见")
    result_label: str = Field(..., description="办理结果名称")
    satisfaction_label: str = Field(..., description="满意度名称")
    paused_at: Optional[datetime] = Field(None, description="挂起时间")
    pause_reason: str = Field(..., description="挂起原因")
    extensions_used: int = Field(..., description="已延期次数")
    extension_request: Optional[ExtensionRequestOut] = Field(None, description="待审批的延期申请")
    reopen_count: int = Field(..., description="重办次数")
    duplicate_of: Optional[str] = Field(None, description="重复件并入的原工单编号")
    events: list[EventOut] = Field(..., description="办理记录（按序号排列，只增不改）")
    assignments: list[AssignmentOut] = Field(..., description="派单记录")
    allowed_actions: list[AllowedAction] = Field(..., description="当前调用者此刻可以执行的操作")


class CasePage(Schema):
    items: list[CaseSummary] = Field(..., description="本页工单")
    next_cursor: Optional[str] = Field(None, description="下一页游标；为空表示没有更多。原样放入下一次请求的 cursor 参数")


class IntakeIn(Schema):
    case_type: str = Field(..., max_length=32, description="诉求类型代码，见 GET /api/v1/case-types，例如 `complaint` 投诉")
    title: str = Field(..., description="诉求标题（不超过 200 字）")
    content: str = Field(..., max_length=10000, description="诉求内容（不超过 10000 字）")
    requester_name: str = Field("", max_length=64, description="诉求人姓名（可匿名，留空）")
    requester_phone: str = Field("", max_length=32, description="联系电话：11 位手机号或带区号的固定电话")
    address: str = Field("", max_length=200, description="诉求地址")
    category: Optional[int] = Field(None, description="诉求分类 ID，见 GET /api/v1/categories")
    region: Optional[int] = Field(None, description="属地区划 ID，见 GET /api/v1/regions")
    channel: ChannelCode = Field("api", description="受理渠道：" + _choices(Channel))
    latitude: Optional[float] = Field(None, ge=-90, le=90, description="纬度（WGS-84 或 GCJ-02，保留 6 位小数）")
    longitude: Optional[float] = Field(None, ge=-180, le=180, description="经度")


class CaseListQuery(Schema):
    q: str = Field("", max_length=100, description="关键词：工单编号、联系电话（精确），标题、地址（包含）")
    state: Optional[StateFilter] = Field(None, description="状态；`open` 表示所有未结案状态。" + STATE_DOC)
    case_type: str = Field("", max_length=32, description="诉求类型代码")
    unit: Optional[int] = Field(None, description="当前主办单位 ID")
    category: Optional[int] = Field(None, description="分类 ID（含其下级分类）")
    channel: Optional[ChannelCode] = Field(None, description="受理渠道：" + _choices(Channel))
    light: Optional[Literal["red", "yellow"]] = Field(None, description="时限灯：`red` 已超期，`yellow` 即将超期")
    supervised: bool = Field(False, description="只看已督办的工单")
    created_from: Optional[Day] = Field(None, description="受理日期起（含），YYYY-MM-DD")
    created_to: Optional[Day] = Field(None, description="受理日期止（含），YYYY-MM-DD")
    cursor: Optional[str] = Field(None, max_length=200, description="分页游标，取自上一页的 next_cursor")
    size: int = Field(50, ge=1, le=200, description="每页条数，1–200")


class PageQuery(Schema):
    cursor: Optional[str] = Field(None, max_length=200, description="分页游标，取自上一页的 next_cursor")
    size: int = Field(50, ge=1, le=200, description="每页条数，1–200")


# ---- actions ------------------------------------------------------------------------------------

class AnswerIn(Schema):
    reply: str = Field(..., max_length=5000, description="直接答复的内容")


class RefuseIn(Schema):
    reason: RefusalCode = Field(..., description="不予受理的法定情形：" + _choices(RefusalReason))
    note: str = Field("", max_length=5000, description="说明（如已转接 110）")


class MergeIn(Schema):
    original: str = Field(..., max_length=20, description="原工单编号（须在您的数据权限范围内且未办结）")


class DispatchIn(Schema):
    unit: int = Field(..., description="主办单位 ID")
    co_units: list[int] = Field(default_factory=list, max_length=20, description="协办单位 ID 列表")
    note: str = Field("", max_length=5000, description="派单说明")


class RelayIn(Schema):
    unit: int = Field(..., description="下级单位 ID")
    note: str = Field("", max_length=5000, description="下派说明")


class ReasonIn(Schema):
    reason: str = Field(..., max_length=5000, description="理由")


class SuspendIn(Schema):
    reason: str = Field(..., max_length=200, description="挂起原因（不超过 200 字），如“等待诉求人补充材料”“需进行专业鉴定”")


class ReassignIn(Schema):
    unit: int = Field(..., description="改派的单位 ID（不能是退回单位）")
    note: str = Field("", max_length=5000, description="改派说明")


class KeepIn(Schema):
    note: str = Field(..., max_length=5000, description="驳回退回的理由")
    co_units: list[int] = Field(default_factory=list, max_length=20, description="增加的协办单位 ID（首接负责：原单位仍主办）")


class ExtensionIn(Schema):
    days: int = Field(..., description="延期的工作日数（不超过该诉求类型的单次上限）")
    reason: str = Field(..., max_length=5000, description="延期理由")


class ExtensionDecisionIn(Schema):
    approve: bool = Field(..., description="true 批准；false 不批准")
    note: str = Field("", max_length=5000, description="审批意见")


class NoteIn(Schema):
    note: str = Field(..., max_length=5000, description="内容")


class OptionalNoteIn(Schema):
    note: str = Field("", max_length=5000, description="说明（可选）")


class FinishIn(Schema):
    reply: str = Field(..., max_length=5000, description="答复意见")
    result: ResultCode = Field(..., description="办理结果：" + _choices(Result))


class CallbackIn(Schema):
    reached: bool = Field(..., description="是否联系上诉求人")
    satisfaction: Optional[SatisfactionCode] = Field(None, description="满意度（联系上时必填）：" + _choices(Satisfaction))
    solved: Optional[bool] = Field(None, description="诉求人是否认为已解决")
    note: str = Field("", max_length=5000, description="回访记录")


# ---- statistics and reference data --------------------------------------------------------------

class StatsQuery(Schema):
    start: Optional[Day] = Field(None, description="统计起始日期（含），YYYY-MM-DD；默认为截止日期前 29 天")
    end: Optional[Day] = Field(None, description="统计截止日期（含），YYYY-MM-DD；默认为今天")


class UnitScoreOut(Schema):
    unit_id: int = Field(..., description="单位 ID；合计行为 0")
    unit_name: str = Field(..., description="单位名称")
    received: int = Field(..., description="接收工单数（派单、下派、改派）")
    signed: int = Field(..., description="签收数")
    signed_on_time: int = Field(..., description="按时签收数")
    finished: int = Field(..., description="办结数")
    finished_on_time: int = Field(..., description="按时办结数")
    callbacks: int = Field(..., description="回访联系上的次数")
    solved: int = Field(..., description="回访认为已解决的次数")
    satisfied: int = Field(..., description="满意数")
    basic: int = Field(..., description="基本满意数")
    unsatisfied: int = Field(..., description="不满意数")
    returned: int = Field(..., description="退回次数")
    response_rate: Optional[float] = Field(None, description="响应率（按时签收 / 接收），0–1")
    solve_rate: Optional[float] = Field(None, description="解决率（已解决 / 回访联系上），0–1")
    satisfaction_rate: Optional[float] = Field(None, description="满意率（满意 + 基本满意）/ 回访联系上，0–1")
    on_time_rate: Optional[float] = Field(None, description="按时办结率，0–1")
    score: Optional[float] = Field(None, description="综合得分（0–100，按三率加权）")
    avg_hours: Optional[float] = Field(None, description="平均办理时长（小时，派单到办结）")


class StatsOut(Schema):
    start: date = Field(..., description="统计起始日期（含）")
    end: date = Field(..., description="统计截止日期（含）")
    items: list[UnitScoreOut] = Field(..., description="各单位得分，得分高者在前")
    total: UnitScoreOut = Field(..., description="合计")


class UnitOut(Schema):
    id: int = Field(..., description="单位 ID")
    name: str = Field(..., description="名称")
    short_name: str = Field(..., description="简称")
    kind: str = Field(..., description="类型代码")
    kind_label: str = Field(..., description="类型名称")
    parent: Optional[int] = Field(None, description="上级单位 ID")
    region: int = Field(..., description="所在区划 ID")
    level: int = Field(..., description="层级：1 市，2 区县，3 乡镇/街道，4 村/社区，5 网格")


class CategoryOut(Schema):
    id: int = Field(..., description="分类 ID")
    name: str = Field(..., description="名称")
    full_name: str = Field(..., description="完整名称（一级/二级/三级）")
    level: int = Field(..., description="级别 1–3")
    parent: Optional[int] = Field(None, description="上级分类 ID")
    default_unit: Optional[int] = Field(None, description="默认承办单位 ID")


class CaseTypeOut(Schema):
    code: str = Field(..., description="代码")
    name: str = Field(..., description="名称")
    workflow: str = Field(..., description="流程代码")
    sign_limit: int = Field(..., description="签收时限")
    sign_limit_unit: str = Field(..., description="签收时限单位：`hours` 工作小时；`days` 工作日")
    finish_limit_days: int = Field(..., description="办结时限（工作日）")
    redo_limit_days: int = Field(..., description="重办时限（工作日）")
    max_extensions: int = Field(..., description="最多延期次数")
    max_extension_days: int = Field(..., description="单次最多延期（工作日）")


class RegionOut(Schema):
    id: int = Field(..., description="区划 ID")
    code: str = Field(..., description="区划代码")
    name: str = Field(..., description="名称")
    level: int = Field(..., description="层级：1 市，2 区县，3 乡镇/街道，4 村/社区，5 网格")
    parent: Optional[int] = Field(None, description="上级区划 ID")


class UnitSuggestionOut(Schema):
    unit: UnitRef = Field(..., description="建议的承办单位")
    score: float = Field(..., description="把握度 0–1（权责清单、模型和分类默认单位合并）")
    reason: str = Field(..., description="理由：命中的权责清单、模型依据的词语、属地")


class CategoryGuessOut(Schema):
    name: str = Field(..., description="分类全称（已知的最细一级）")
    confidence: float = Field(..., description="把握度 0–1；受理时已确认的为 1")
    confirmed: bool = Field(..., description="是否受理时已确认的分类（否则为模型预测）")
    words: list[str] = Field(..., description="预测依据的词语")


class SuggestionsOut(Schema):
    units: list[UnitSuggestionOut] = Field(..., description="最多 3 个建议承办单位，最好的在前")
    category: Optional[CategoryGuessOut] = Field(None, description="分类（已确认或预测）")
    region: Optional[UnitRef] = Field(None, description="从属地或地址识别出的行政区划（id 为区划 ID）")
    model_version: Optional[int] = Field(None, description="所用派单模型的版本；为空表示只用了权责清单")
    auto_dispatch_threshold: Optional[float] = Field(None, description="自动派单阈值（未启用自动派单时为空）")
