"""群众门户 rules: submit a request (from the web or a door plate), prove it is yours with an SMS
code, follow it in public wording, rate it. Views are thin; these are what tests call."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.timezone import localtime

from tongban.cases import attachments
from tongban.cases.models import Case, CaseType
from tongban.core import clock
from tongban.core.pii import MOBILE_RE, normalize_phone
from tongban.core.places import locate
from tongban.hotline import services as hotline
from tongban.hotline.choices import RefusalReason, Satisfaction, label_of
from tongban.notify.services import notify

from . import limits
from .models import DoorPlate, PortalRequest, VerificationCode

MAX_PHOTOS = 3
CODE_MINUTES = 10
CODE_MAX_ATTEMPTS = 5


class PortalError(Exception):
    """A request the portal refuses. The message is for people, in Chinese."""


def setting(name: str, default):
    return getattr(settings, name, default)


def case_types():
    return CaseType.objects.filter(workflow="hotline", active=True).order_by("ordering", "code")


# ------------------------------------------------------------------------------------ submit


@dataclass
class Submission:
    case_type: CaseType | None
    content: str
    requester_phone: str
    title: str = ""
    requester_name: str = ""
    address: str = ""
    latitude: str = ""
    longitude: str = ""
    photos: list = field(default_factory=list)
    elder_mode: bool = False


def _coordinate(raw: str, bound: int) -> Decimal | None:
    try:
        value = Decimal(str(raw).strip()).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        return None
    return value if -bound <= value <= bound else None


def check(sub: Submission, *, plate: DoorPlate | None = None) -> tuple[dict[str, str], list]:
    """Field errors in Chinese (empty when acceptable) and the checked photos as (upload, content type)."""
    errors: dict[str, str] = {}
    if sub.case_type is None:
        errors["case_type"] = "请选择诉求类型。"
    if len(sub.content.strip()) < 5:
        errors["content"] = "请把问题写清楚：发生了什么、在哪里、希望怎样解决（至少5个字）。"
    elif len(sub.content) > 2000:
        errors["content"] = "诉求内容不能超过2000字。"
    if len(sub.title) > 60:
        errors["title"] = "标题不能超过60字。"
    if not MOBILE_RE.match(normalize_phone(sub.requester_phone)):
        errors["requester_phone"] = "请填写11位手机号：用于接收受理回执、办理结果和查询验证码。"
    if len(sub.requester_name) > 32:
        errors["requester_name"] = "称呼不能超过32字。"
    if plate is None and len(sub.address) > 150:
        errors["address"] = "地址不能超过150字。"
    if (sub.latitude or sub.longitude) and (_coordinate(sub.latitude, 90) is None or _coordinate(sub.longitude, 180) is None):
        errors["location"] = "定位数据无效，请重新获取位置或不使用定位。"
    photos = [p for p in sub.photos if getattr(p, "size", 1)]
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = f"最多上传 {MAX_PHOTOS} 张照片。"
    checked = []
    problems = []
    for upload in photos[:MAX_PHOTOS]:
        try:
            kind, _ = attachments.check(upload)
        except ValidationError as exc:
            problems.append("；".join(exc.messages))
            continue
        if not kind.startswith("image/"):
            problems.append(f"文件“{upload.name}”不是照片：只接受 JPG、PNG、GIF、WEBP 图片。")
            continue
        upload.seek(0)
        checked.append(upload)
    if problems and "photos" not in errors:
        errors["photos"] = "；".join(problems)
    return errors, checked


def _title(sub: Submission) -> str:
    if sub.title.strip():
        return sub.title.strip()
    first = sub.content.strip().splitlines()[0]
    return first[:30] + ("…" if len(first) > 30 else "")


def submit(sub: Submission, *, plate: DoorPlate | None = None, key: str = "") -> Case:
    """受理 a portal request in one transaction: the case (system actor), its photos, and — from a
    door plate — 村社派单 straight to the plate's village/community unit. `key` makes a double
    submission (a second tap, a reload) return the first case instead of creating another.

    Raises ValidationError (dict of Chinese field messages).
    """
    errors, photos = check(sub, plate=plate)
    if errors:
        raise ValidationError(errors)
    intake_key = f"portal:{key}" if key else None
    if intake_key and (existing := Case.objects.filter(intake_key=intake_key).first()):
        return existing
    address = plate.address if plate else sub.address.strip()
    region = plate.region if plate else locate(address)
    try:
        with transaction.atomic():
            case = hotline.intake(hotline.Intake(
                case_type=sub.case_type, title=_title(sub), content=sub.content.strip(), requester_name=sub.requester_name.strip(),
                requester_phone=sub.requester_phone, address=address, region=region, channel="qr" if plate else "h5",
                latitude=_coordinate(sub.latitude, 90) if sub.latitude else None,
                longitude=_coordinate(sub.longitude, 180) if sub.longitude else None,
            ), by=None)
            if intake_key:
                Case.objects.filter(pk=case.pk).update(intake_key=intake_key)
            for upload in photos:
                attachments.attach(case, upload)
            PortalRequest.objects.create(case=case, door_plate=plate, elder_mode=sub.elder_mode, created_at=case.created_at)
            if plate and plate.unit.active:
                hotline.dispatch(case, plate.unit, by=None, note=f"扫码门牌“{plate.household}”，系统直派{plate.unit.name}（村社派单）")
    except IntegrityError:
        existing = Case.objects.filter(intake_key=intake_key).first() if intake_key else None
        if existing is None:
            raise
        return existing
    return case


# ------------------------------------------------------------------------------ verification


def _digest(number: str, phone: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{number}|{phone}|{code}".encode(), hashlib.sha256).hexdigest()


def send_code(number: str, phone: str, *, ip: str) -> None:
    """Send a 6-digit code by SMS when the number and phone match a case. The answer is the same
    either way, so nobody learns which numbers belong to which phones."""
    number, phone = number.strip(), normalize_phone(phone)
    if not number or not MOBILE_RE.match(phone):
        raise PortalError("请填写工单编号和提交诉求时留的11位手机号。")
    limits.hit("code_ip", ip)
    limits.hit("code_gap", phone)
    limits.hit("code_phone", phone)
    if not Case.objects.filter(number=number, requester_phone=phone).exists():
        return
    code = f"{secrets.randbelow(10 ** 6):06d}"
    now = clock.now()
    minutes = setting("PORTAL_CODE_MINUTES", CODE_MINUTES)
    with transaction.atomic():
        VerificationCode.objects.filter(number=number, phone=phone, used_at__isnull=True).update(used_at=now)  # one live code
        vc = VerificationCode.objects.create(number=number, phone=phone, code_hash=_digest(number, phone, code), created_at=now,
                                             expires_at=now + timedelta(minutes=minutes))
        notify("verify_code", phone=phone, context={"code": code, "minutes": minutes, "number": number},
               dedupe_key=f"verify:{vc.pk}")


def verify_code(number: str, phone: str, code: str, *, ip: str) -> Case:
    """The case, when `code` is the live code for it; PortalError with the reason otherwise."""
    number, phone, code = number.strip(), normalize_phone(phone), code.strip()
    limits.hit("verify_ip", ip)
    vc = VerificationCode.objects.filter(number=number, phone=phone, used_at__isnull=True).order_by("-created_at").first()
    if vc is None:
        raise PortalError("请先获取验证码。")
    if clock.now() > vc.expires_at:
        raise PortalError("验证码已过期，请重新获取。")
    max_attempts = setting("PORTAL_CODE_MAX_ATTEMPTS", CODE_MAX_ATTEMPTS)
    if vc.attempts >= max_attempts:
        raise PortalError("验证码错误次数过多，已失效，请重新获取。")
    if not hmac.compare_digest(vc.code_hash, _digest(number, phone, code)):
        VerificationCode.objects.filter(pk=vc.pk).update(attempts=vc.attempts + 1)
        left = max_attempts - vc.attempts - 1
        raise PortalError(f"验证码不正确，还可以再试 {left} 次。" if left else "验证码错误次数过多，已失效，请重新获取。")
    VerificationCode.objects.filter(pk=vc.pk).update(used_at=clock.now())
    return Case.objects.get(number=number, requester_phone=phone)


# ---------------------------------------------------------------------------- public view


def public_timeline(case: Case) -> list[dict]:
    """What happened, in words for the public: units by name, never staff names or internal notes."""
    out = []
    for e in case.events.select_related("unit").order_by("seq"):
        unit = e.unit.name if e.unit_id else ""
        text = None
        if e.action == "create":
            text = "您的诉求已受理"
        elif e.action in ("dispatch", "relay"):
            text = f"已转交{unit}办理"
        elif e.action == "reassign":
            text = f"已重新确定承办单位：{unit}"
        elif e.action == "sign":
            text = f"{unit}已接单，正在办理"
        elif e.action == "decide_extension" and e.outcome == "approved":
            text = f"经批准，办理期限延长 {e.payload.get('days', '')} 个工作日"
        elif e.action == "progress":
            text = "承办单位更新了办理进展"
        elif e.action == "suspend":
            text = f"暂停计时：{e.note}"
        elif e.action == "resume":
            text = "恢复办理"
        elif e.action in ("finish", "answer"):
            text = "已办结并答复" if e.action == "finish" else "已答复"
        elif e.action == "refuse":
            text = f"不予受理：{label_of(RefusalReason, e.outcome)}"
        elif e.action == "merge":
            text = "与相同诉求合并办理"
        elif e.action == "close_duplicate":
            text = "随相同诉求一并办结"
        elif e.action == "callback":
            if not (e.payload or {}).get("reached", True):
                text = "回访未联系上您"
            elif e.to_state == "handling":
                text = "您对办理结果不满意，已退回承办单位重新办理"
            else:
                text = f"已回访评价：{label_of(Satisfaction, e.outcome)}"
        elif e.action == "supervise":
            text = "已列入督办"
        if text:
            out.append({"at": localtime(e.created_at), "text": text})
    return out


PUBLIC_STATES = {"pending_dispatch": "已受理，等待派单", "pending_sign": "已派单，等待承办单位接单", "disputed": "正在确定承办单位",
                 "handling": "办理中", "suspended": "暂停办理", "pending_callback": "已办结，请您评价", "closed": "已办结",
                 "refused": "不予受理", "merged": "已合并办理"}


def public_state(case: Case) -> str:
    return PUBLIC_STATES.get(case.state, case.state_label)


def may_rate(case: Case) -> bool:
    return case.state == "pending_callback"


def rate(case: Case, *, satisfaction: str, solved: bool | None, note: str = "") -> Case:
    """群众评单: the requester's own rating counts as the 回访 (不满意 → 重办, through the hotline rule)."""
    if not may_rate(case):
        raise PortalError("该诉求当前不需要评价。")
    if satisfaction not in Satisfaction.values:
        raise PortalError("请选择满意程度。")
    if solved is None:
        raise PortalError("请选择问题是否已解决。")
    if len(note) > 500:
        raise PortalError("意见不能超过500字。")
    text = "诉求人在网上评价" + (f"：{note.strip()}" if note.strip() else "")
    return hotline.callback(case, reached=True, satisfaction=satisfaction, solved=solved, note=text, by=None)
