"""Open311 GeoReport v2 rules: the service list (from the 诉求分类), submitting a request through
the hotline intake, finding requests, and status updates in both directions (mySociety's
``servicerequestupdates`` extension). Views only parse the format and call these.

Services are the level-2 categories: level 1 (15 names such as 城乡建设) is too coarse for a
citizen to pick and for dispatch; level 3 (500+ names) is too long a list for a phone app. Level 2
(about 120, e.g. 城乡建设/城市建设和市政管理) is the size 311 apps are built for; the level-1 name is
the ``group`` and the level-3 names serve as ``keywords``, so that an app's search still finds them.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from tongban.cases import attachments
from tongban.cases import services as kernel
from tongban.cases.models import Case, CaseEvent, CaseType, Category, Channel
from tongban.core import clock, places
from tongban.core.models import Region
from tongban.core.pii import is_valid_phone, normalize_phone
from tongban.hotline import services as hotline
from tongban.hotline.workflow import HOTLINE

from .models import ApiClient, Attribute, AttributeValue, ClientUpdate, Datatype, Service, Submission

MAX_ROWS = 1000  # the spec's response volume limit for GET requests (and ours for updates)
MAX_WINDOW = timedelta(days=90)
MAX_FILES = 6
MAX_DESCRIPTION = 10000  # the spec suggests 4,000; FixMyStreet's extended description can be longer
DEFAULT_CASE_TYPE = "help"  # 求助: what a 311 report (a broken lamp, a pothole) usually is
DEFAULT_JURISDICTION = "tongban.local"
STATUS_UPDATE_VALUES = ("open", "closed", "fixed", "in_progress", "action_scheduled", "investigating", "duplicate",
                        "not_councils_responsibility", "no_further_action", "internal_referral", "reopen")

# Hotline state → GeoReport status. "closed" means resolved from the requester's side: answered
# and waiting for the call-back, closed, refused with a reason, or merged into another request.
STATUS = {
    "pending_dispatch": "open",
    "pending_sign": "open",
    "disputed": "open",
    "handling": "open",
    "suspended": "open",
    "pending_callback": "closed",
    "closed": "closed",
    "refused": "closed",
    "merged": "closed",
}
# Events whose note is written for the requester (replies, refusal reasons, pause reasons).
PUBLIC_NOTES = ("answer", "finish", "refuse", "merge", "close_duplicate", "suspend")


class Open311Error(Exception):
    """A request the API refuses: HTTP status and one or more Chinese descriptions."""

    def __init__(self, status: int, *descriptions: str):
        super().__init__("; ".join(descriptions))
        self.status, self.descriptions = status, descriptions


# ------------------------------------------------------------------ configuration


def jurisdiction() -> str:
    return getattr(settings, "TONGBAN_OPEN311_JURISDICTION", "") or os.environ.get("TONGBAN_OPEN311_JURISDICTION", "") or DEFAULT_JURISDICTION


def check_jurisdiction(params) -> None:
    given = (params.get("jurisdiction_id") or "").strip()
    if given and given != jurisdiction():
        raise Open311Error(404, f"jurisdiction_id “{given}” 不存在，本系统为 “{jurisdiction()}”。")


def public_channels() -> tuple[str, ...]:
    """Channels whose cases GET requests shows besides those submitted through Open311 (default none)."""
    raw = getattr(settings, "TONGBAN_OPEN311_PUBLIC_CHANNELS", None)
    if raw is None:
        raw = os.environ.get("TONGBAN_OPEN311_PUBLIC_CHANNELS", "")
    if isinstance(raw, str):
        raw = [c.strip() for c in raw.split(",")]
    return tuple(c for c in raw if c in Channel.values)


def authenticate(params) -> ApiClient:
    key = (params.get("api_key") or "").strip()
    if not key:
        raise Open311Error(403, "缺少 api_key。请向热线中心申请接入密钥。")
    client = ApiClient.lookup(key)
    if client is None:
        raise Open311Error(403, "api_key 无效或已停用。")
    return client


# ------------------------------------------------------------------ services


@dataclass
class ServiceInfo:
    category: Category
    settings: Service | None
    children: list[str]
    attributes: list[Attribute]

    @property
    def code(self) -> str:
        return str(self.category.pk)

    @property
    def name(self) -> str:
        return self.category.name

    @property
    def group(self) -> str:
        return self.category.parent.name if self.category.parent_id else ""

    @property
    def description(self) -> str:
        if self.settings and self.settings.description:
            return self.settings.description
        if self.children:
            more = "等" if len(self.children) > 8 else ""
            return f"{self.group}类诉求，包括{'、'.join(self.children[:8])}{more}。"
        return f"{self.group}类诉求。"

    @property
    def keywords(self) -> str:
        if self.settings and self.settings.keywords:
            return self.settings.keywords
        return ", ".join(self.children)

    @property
    def location_required(self) -> bool:
        return self.settings.location_required if self.settings else True


def _service_categories() -> QuerySet[Category]:
    return (Category.objects.filter(level=2, active=True, parent__active=True)
            .exclude(open311__active=False).select_related("parent", "open311"))


def _infos(categories) -> list[ServiceInfo]:
    categories = list(categories)
    ids = [c.pk for c in categories]
    children: dict[int, list[str]] = {}
    for parent_id, name in Category.objects.filter(parent_id__in=ids, active=True).order_by("full_name").values_list("parent_id", "name"):
        children.setdefault(parent_id, []).append(name)
    attrs: dict[int, list[Attribute]] = {}
    for a in (Attribute.objects.filter(service__category_id__in=ids)
              .select_related("service").prefetch_related(Prefetch("values", AttributeValue.objects.order_by("order", "id")))
              .order_by("order", "id")):
        attrs.setdefault(a.service.category_id, []).append(a)
    return [ServiceInfo(c, getattr(c, "open311", None), children.get(c.pk, []), attrs.get(c.pk, [])) for c in categories]


def service_list() -> list[ServiceInfo]:
    return _infos(_service_categories().order_by("full_name"))


def get_service(code: str) -> ServiceInfo:
    code = (code or "").strip()
    if not code:
        raise Open311Error(400, "缺少 service_code。")
    category = _service_categories().filter(pk=int(code)).first() if code.isdigit() and len(code) <= 18 else None
    if category is None:
        raise Open311Error(404, f"service_code “{code}” 不存在。可用的服务见 services.xml。")
    return _infos([category])[0]


def service_of(category: Category | None) -> Category | None:
    """The level-2 category a case's (possibly finer) category belongs to."""
    node = category
    while node is not None and node.level > 2:
        node = node.parent
    return node if node is not None and node.level == 2 else None


# ------------------------------------------------------------------ POST requests

ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")


def _attribute_values(params) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key in params.keys():
        m = ATTRIBUTE_KEY.match(key)
        if m:
            found.setdefault(m.group(1), []).extend(v.strip() for v in params.getlist(key) if v.strip())
    return found


def _parse_datetime(raw: str) -> datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    raw = re.sub(r" (\d\d:?\d\d)$", r"+\1", raw)  # a "+" decoded to a space in a query string
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _check_attributes(info: ServiceInfo, sent: dict[str, list[str]]) -> tuple[dict, list[str], list[str]]:
    """Validate the answers; returns (stored values, readable lines for the case, errors)."""
    stored: dict = {code: values for code, values in sent.items()}  # unknown codes are kept as sent
    lines, problems = [], []
    for a in info.attributes:
        if not a.variable:
            continue
        values = sent.get(a.code, [])
        if not values:
            if a.required:
                problems.append(f"缺少必填属性 attribute[{a.code}]（{a.description}）。")
            stored.pop(a.code, None)
            continue
        options = {v.key: v.name for v in a.values.all()}
        if a.datatype == Datatype.MULTI:
            wrong = [v for v in values if v not in options]
            if wrong:
                problems.append(f"attribute[{a.code}] 的取值“{'、'.join(wrong)}”不在可选范围内。")
                continue
            stored[a.code] = values
            lines.append(f"{a.description}：{'、'.join(options[v] for v in values)}")
            continue
        value = values[-1]
        if a.datatype == Datatype.SINGLE and value not in options:
            problems.append(f"attribute[{a.code}] 的取值“{value}”不在可选范围内。")
            continue
        if a.datatype == Datatype.NUMBER:
            try:
                float(value)
            except ValueError:
                problems.append(f"attribute[{a.code}] 应为数字。")
                continue
        if a.datatype == Datatype.DATETIME and _parse_datetime(value) is None:
            problems.append(f"attribute[{a.code}] 应为 ISO 8601 日期时间，例如 2026-11-23T09:30:00+08:00。")
            continue
        stored[a.code] = value
        lines.append(f"{a.description}：{options.get(value, value)}")
    return stored, lines, problems


def _coordinate(raw: str, name: str, limit: int) -> Decimal:
    try:
        value = Decimal(raw)
    except ArithmeticError:
        raise Open311Error(400, f"{name} 应为数字（WGS-84 经纬度）。") from None
    if not value.is_finite() or abs(value) > limit:
        raise Open311Error(400, f"{name} 超出范围（±{limit}）。")
    return value.quantize(Decimal("0.000001"))


def _person_name(first: str, last: str) -> str:
    first, last = first.strip(), last.strip()
    if re.search(r"[\u4e00-\u9fff]", first + last):
        return (last + first)[:64]  # 姓在前
    return " ".join(p for p in (first, last) if p)[:64]


def _title(description: str, fallback: str) -> str:
    for line in description.splitlines():
        line = re.sub(r"^\s*(title|标题)\s*[:：]\s*", "", line, flags=re.I).strip()
        if line:
            return line if len(line) <= 60 else line[:59] + "…"
    return fallback


def _case_type(info: ServiceInfo) -> CaseType:
    if info.settings and info.settings.case_type_id and info.settings.case_type.active:
        return info.settings.case_type
    hotline_types = CaseType.objects.filter(workflow="hotline", active=True)
    found = hotline_types.filter(code=DEFAULT_CASE_TYPE).first() or hotline_types.order_by("ordering", "code").first()
    if found is None:
        raise Open311Error(400, "系统未配置可用的诉求类型，请联系热线中心。")
    return found


def _fingerprint(client: ApiClient, params, files) -> str:
    h = hashlib.sha256(f"{client.pk}\n".encode())
    for key in sorted(k for k in params.keys() if k != "api_key"):
        for value in params.getlist(key):
            h.update(f"{key}={value}\n".encode())
    for name in sorted(files.keys()):
        for f in files.getlist(name):
            f.seek(0)
            h.update(hashlib.sha256(f.read()).hexdigest().encode())
            f.seek(0)
    return h.hexdigest()


def _uploads(files) -> list:
    uploads = [f for name in sorted(files.keys()) for f in files.getlist(name)]
    if len(uploads) > MAX_FILES:
        raise Open311Error(400, f"一次最多上传 {MAX_FILES} 个文件。")
    problems = []
    for f in uploads:
        try:
            attachments.check(f)
        except ValidationError as exc:
            problems.extend(exc.messages)
        f.seek(0)
    if problems:
        raise Open311Error(400, *problems)
    return uploads


def submit(client: ApiClient, params, files) -> Submission:
    """POST requests: check everything first, then create the case through the hotline intake
    (channel "接口", as the system), attach the photos and remember the Open311 extras.
    The same request sent twice by the same client yields the same case."""
    check_jurisdiction(params)
    info = get_service(params.get("service_code", ""))
    get = lambda name: (params.get(name) or "").strip()  # noqa: E731

    lat, long = get("lat"), get("long")
    if bool(lat) != bool(long):
        raise Open311Error(400, "lat 与 long 须同时提供。")
    latitude = _coordinate(lat, "lat", 90) if lat else None
    longitude = _coordinate(long, "long", 180) if long else None
    address, address_id = get("address_string"), get("address_id")
    if info.location_required and latitude is None and not address and not address_id:
        raise Open311Error(400, "请提供位置：lat 与 long、address_string 或 address_id 至少一项。")
    if len(address) > 200:
        raise Open311Error(400, "address_string 不能超过 200 字。")
    if len(address_id) > 64:
        raise Open311Error(400, "address_id 不能超过 64 个字符。")
    email = get("email")
    if email:
        try:
            EmailValidator()(email)
        except ValidationError:
            raise Open311Error(400, f"email “{email}” 格式不正确。") from None
    attributes, attribute_lines, problems = _check_attributes(info, _attribute_values(params))
    if problems:
        raise Open311Error(400, *problems)
    uploads = _uploads(files)

    region = Region.objects.filter(code=address_id).first() if address_id else None
    region = region or places.locate(address)
    if not address and region is not None:
        address = region.full_name()
    description = (params.get("description") or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, f"description 不能超过 {MAX_DESCRIPTION} 字。")
    content = description or f"（{info.name}，未附文字说明）"
    if attribute_lines:
        content += "\n\n【补充信息】\n" + "\n".join(attribute_lines)
    phone = normalize_phone(get("phone"))
    media_urls = [u.strip() for key in ("media_url", "media_url[]") for u in params.getlist(key) if u.strip()]
    fingerprint = _fingerprint(client, params, files)

    existing = Submission.objects.filter(fingerprint=fingerprint).select_related("case").first()
    if existing:
        return existing
    data = hotline.Intake(
        case_type=_case_type(info), title=_title(description, info.name), content=content,
        requester_name=_person_name(get("first_name"), get("last_name")),
        requester_phone=phone if is_valid_phone(phone) else "", address=address, region=region,
        category=info.category, channel=Channel.API, latitude=latitude, longitude=longitude,
    )
    try:
        with transaction.atomic():
            case = hotline.intake(data, by=None)
            submission = Submission.objects.create(
                case=case, client=client, token=Submission.new_token(), fingerprint=fingerprint, email=email[:254],
                phone="" if is_valid_phone(phone) else get("phone")[:64], device_id=(get("device_id") or get("deviceid"))[:128],
                account_id=get("account_id")[:128], address_id=address_id, media_urls=media_urls, attributes=attributes,
                created_at=case.created_at,
            )
            for upload in uploads:
                attachments.attach(case, upload)
    except ValidationError as exc:
        raise Open311Error(400, *exc.messages) from None
    except IntegrityError:  # the same request, sent twice at once: the other one won
        existing = Submission.objects.filter(fingerprint=fingerprint).select_related("case").first()
        if existing is None:
            raise
        return existing
    return submission


def service_notice(case: Case) -> str:
    configured = getattr(getattr(case.category, "open311", None), "service_notice", "")
    return configured or (f"已受理，编号 {case.number}。热线中心将派至承办单位办理，"
                          f"一般在 {case.case_type.finish_limit_days} 个工作日内答复。")


# ------------------------------------------------------------------ GET requests


def public_cases() -> QuerySet[Case]:
    """What the open API shows: requests submitted through Open311, plus configured channels."""
    scope = Q(open311__isnull=False)
    channels = public_channels()
    if channels:
        scope |= Q(channel__in=channels)
    return Case.objects.filter(scope, case_type__workflow=HOTLINE.code)


def window(params, now: datetime) -> tuple[datetime, datetime]:
    """start_date/end_date (ISO 8601): at most 90 days apart; the last 90 days when both are absent."""
    raw_start, raw_end = (params.get("start_date") or "").strip(), (params.get("end_date") or "").strip()
    start, end = _parse_datetime(raw_start), _parse_datetime(raw_end)
    if raw_start and start is None:
        raise Open311Error(400, f"start_date “{raw_start}” 不是 ISO 8601 日期时间，例如 2026-11-01T00:00:00+08:00。")
    if raw_end and end is None:
        raise Open311Error(400, f"end_date “{raw_end}” 不是 ISO 8601 日期时间，例如 2026-11-30T23:59:59+08:00。")
    if start and end:
        if end < start:
            raise Open311Error(400, "end_date 早于 start_date。")
        if end - start > MAX_WINDOW:
            raise Open311Error(400, "start_date 与 end_date 相距不能超过 90 天。")
    elif start:
        end = start + MAX_WINDOW
    elif end:
        start = end - MAX_WINDOW
    else:
        end, start = now, now - MAX_WINDOW
    return start, end


def _comma_list(params, name: str) -> list[str]:
    return [v.strip() for raw in params.getlist(name) for v in raw.split(",") if v.strip()]


def find_requests(params) -> list[Case]:
    """GET requests: newest first, at most MAX_ROWS. service_request_id overrides the other filters."""
    check_jurisdiction(params)
    qs = public_cases()
    ids = _comma_list(params, "service_request_id")
    if ids:
        qs = qs.filter(number__in=ids[:MAX_ROWS])
    else:
        start, end = window(params, clock.now())
        qs = qs.filter(created_at__gte=start, created_at__lte=end)
        codes = _comma_list(params, "service_code")
        if codes:
            if not all(c.isdigit() and len(c) <= 18 for c in codes):
                raise Open311Error(400, "service_code 应为服务列表中的代码，多个以逗号分隔。")
            ids = [int(c) for c in codes]
            qs = qs.filter(Q(category_id__in=ids) | Q(category__parent_id__in=ids))
        statuses = {s.lower() for s in _comma_list(params, "status")}
        if statuses - {"open", "closed"}:
            raise Open311Error(400, "status 只能是 open 或 closed（多个以逗号分隔）。")
        if statuses == {"open"}:
            qs = qs.filter(state__in=[s for s, v in STATUS.items() if v == "open"])
        elif statuses == {"closed"}:
            qs = qs.filter(state__in=[s for s, v in STATUS.items() if v == "closed"])
    return list(qs.select_related("case_type", "category__parent__parent", "unit", "open311", "category__open311")
                .order_by("-created_at", "-id")[:MAX_ROWS])


def get_request(number: str) -> Case:
    case = public_cases().select_related("case_type", "category__parent__parent", "unit", "open311").filter(number=number).first()
    if case is None:
        raise Open311Error(404, f"service_request_id “{number}” 不存在。")
    return case


def status_notes(cases: list[Case]) -> dict[int, str]:
    """The reply if there is one, else the latest note written for the requester, else the state."""
    latest: dict[int, str] = {}
    for case_id, note in (CaseEvent.objects.filter(case__in=[c.pk for c in cases], action__in=PUBLIC_NOTES)
                          .exclude(note="").order_by("case_id", "seq").values_list("case_id", "note")):
        latest[case_id] = note
    return {c.pk: c.reply or latest.get(c.pk) or c.state_label for c in cases}


def by_token(token: str) -> Submission:
    found = Submission.objects.select_related("case").filter(token=(token or "").strip()).first()
    if found is None:
        raise Open311Error(404, f"token “{token}” 不存在。")
    return found


# ------------------------------------------------------------------ servicerequestupdates

UPDATE_ACTIONS = ("dispatch", "relay", "reassign", "sign", "suspend", "resume", "decide_extension", "answer", "finish",
                  "refuse", "merge", "close_duplicate", "callback")


def update_status(event: CaseEvent) -> str | None:
    """The mySociety extended status of a case event, or None when it is not news for the requester."""
    action = event.action
    if action in ("dispatch", "relay", "reassign"):
        return "open"
    if action in ("sign", "suspend", "resume"):
        return "in_progress"
    if action == "decide_extension":
        return "in_progress" if event.outcome == "approved" else None
    if action in ("answer", "finish", "close_duplicate"):
        return "fixed"
    if action == "refuse":
        return "no_further_action"
    if action == "merge":
        return "duplicate"
    if action == "callback":
        return {"closed": "closed", "handling": "open"}.get(event.to_state)
    return None


def update_text(event: CaseEvent) -> str:
    unit = event.unit.name if event.unit_id else "承办单位"
    action, note = event.action, event.note.strip()
    if action == "dispatch":
        return f"已派至{unit}办理。"
    if action in ("relay", "reassign"):
        return f"已转至{unit}办理。"
    if action == "sign":
        return f"{unit}已签收，正在办理。"
    if action == "suspend":
        return f"暂停办理：{note}" if note else "暂停办理。"
    if action == "resume":
        return "恢复办理。"
    if action == "decide_extension":
        return f"经批准，办理期限延长 {event.payload.get('days', '')} 个工作日。"
    if action == "callback":
        return "回访完成，已结案。" if event.to_state == "closed" else "诉求人对办理结果不满意，已重新交办。"
    if action == "merge":
        return f"与同一问题的诉求合并办理（{note}）。" if note else "与同一问题的诉求合并办理。"
    return note or event.action_label


def find_updates(params) -> list[tuple[CaseEvent, str]]:
    """GET servicerequestupdates: status changes in the window, oldest first, at most MAX_ROWS."""
    check_jurisdiction(params)
    start, end = window(params, clock.now())
    events = (CaseEvent.objects.filter(case__in=public_cases(), action__in=UPDATE_ACTIONS,
                                       created_at__gte=start, created_at__lte=end)
              .select_related("case__case_type", "unit").order_by("created_at", "id"))
    found = []
    for event in events.iterator(chunk_size=500):
        status = update_status(event)
        if status:
            found.append((event, status))
            if len(found) >= MAX_ROWS:
                break
    return found


def post_update(client: ApiClient, params, files) -> ClientUpdate:
    """POST servicerequestupdates: a comment (and the status the app shows) from the requester,
    recorded on the case as “诉求人补充”. It never changes the case's state: the unit decides that."""
    check_jurisdiction(params)
    number = (params.get("service_request_id") or "").strip()
    if not number:
        raise Open311Error(400, "缺少 service_request_id。")
    submission = Submission.objects.select_related("case").filter(case__number=number, client=client).first()
    if submission is None:
        raise Open311Error(404, f"service_request_id “{number}” 不存在，或不是由本应用提交的。")
    status = (params.get("status") or "").strip().lower()
    if status and status not in STATUS_UPDATE_VALUES:
        raise Open311Error(400, f"status “{status}” 无法识别，可用：{', '.join(STATUS_UPDATE_VALUES)}。")
    description = (params.get("description") or "").strip()
    if not description and not status:
        raise Open311Error(400, "请提供 description 或 status。")
    external_id = ((params.get("update_id") or params.get("update_id_ext") or "").strip())[:64]
    if external_id:
        done = ClientUpdate.objects.filter(client=client, external_id=external_id).first()
        if done:
            return done
    raw_when = (params.get("updated_datetime") or "").strip()
    when = _parse_datetime(raw_when)
    if raw_when and when is None:
        raise Open311Error(400, f"updated_datetime “{raw_when}” 不是 ISO 8601 日期时间。")
    uploads = _uploads(files)
    media_url = (params.get("media_url") or "").strip()[:500]
    case = submission.case
    said = {"closed": "诉求人表示问题已解决。", "fixed": "诉求人表示问题已解决。",
            "open": "诉求人表示问题仍未解决。" if not case.is_open or case.state == "pending_callback" else "",
            "reopen": "诉求人表示问题仍未解决。"}.get(status, "")
    note = "\n".join(p for p in (said, description, f"图片：{media_url}" if media_url else "") if p)
    with transaction.atomic():
        case = kernel.perform(case, "supplement", by=None, note=note,
                              payload={"client": client.name, "status": status, "update_id": external_id})
        event = case.events.order_by("-seq").first()
        update = ClientUpdate.objects.create(
            client=client, case=case, event=event, external_id=external_id, status=status, description=description,
            author=_person_name(params.get("first_name") or "", params.get("last_name") or ""),
            email=(params.get("email") or "").strip()[:254], media_url=media_url, updated_at=when, received_at=event.created_at,
        )
        for upload in uploads:
            attachments.attach(case, upload)
    return update
