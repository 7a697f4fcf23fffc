"""Personal data helpers: validation and masking (手机号、身份证号), 统一社会信用代码, and who may see
a requester's full phone number."""
import re

from django.core.exceptions import ValidationError
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError as StdnumError

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def normalize_phone(raw: str) -> str:
    return re.sub(r"[\s()（）+]", "", raw or "").removeprefix("86") if raw else ""


def is_valid_phone(raw: str) -> bool:
    phone = normalize_phone(raw)
    return bool(MOBILE_RE.match(phone) or LANDLINE_RE.match(phone))


def mask_phone(phone: str) -> str:
    """138****1234 for mobiles; keep area code and last 4 digits for landlines."""
    if not phone:
        return ""
    if MOBILE_RE.match(phone):
        return f"{phone[:3]}****{phone[-4:]}"
    if len(phone) > 4:
        return "*" * (len(phone) - 4) + phone[-4:]
    return "****"


def mask_name(name: str) -> str:
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1) if len(name) > 1 else name


def is_valid_id_number(value: str) -> bool:
    """GB 11643 居民身份证号 with its check digit."""
    return ric.is_valid(value or "")


def _reason(exc: StdnumError, what: str) -> str:
    if isinstance(exc, InvalidLength):
        return f"{what}位数不正确。"
    if isinstance(exc, InvalidChecksum):
        return f"{what}校验位不正确，请逐位核对。"
    if isinstance(exc, InvalidComponent):
        return f"{what}中的出生日期或地区代码不正确。" if what == "身份证号" else f"{what}中的登记管理部门或机构类别代码不正确。"
    if isinstance(exc, InvalidFormat):
        return f"{what}含有不允许的字符。"
    return f"{what}不正确。"


def clean_id_number(value: str) -> str:
    """The 18-digit 居民身份证号 in canonical form (upper-case X), or ValidationError with the reason in Chinese."""
    try:
        return ric.validate(value or "")
    except StdnumError as exc:
        raise ValidationError(_reason(exc, "身份证号"), code="invalid_id_number") from exc


def is_valid_uscc(value: str) -> bool:
    """GB 32100 统一社会信用代码 with its check character."""
    return uscc.is_valid(value or "")


def clean_uscc(value: str) -> str:
    try:
        return uscc.validate(value or "")
    except StdnumError as exc:
        raise ValidationError(_reason(exc, "统一社会信用代码"), code="invalid_uscc") from exc


def mask_id_number(value: str) -> str:
    return f"{value[:6]}********{value[-4:]}" if len(value) == 18 else "****"


def can_unmask(user, case) -> bool:
    """Who may see a requester's full phone number on the case page (the click is audited):
    the hotline centre's operators and dispatchers (they call back), and the handlers and unit
    administrators of the unit that currently holds the case (they contact the requester).
    Administrators, auditors and supervisors see masked numbers only. The caller has already checked
    that the case is within the person's data scope."""
    from tongban.core.models import Role, UnitKind

    if not (user and user.is_authenticated and user.unit_id):
        return False
    if user.has_role(Role.OPERATOR, Role.DISPATCHER) and user.unit.kind == UnitKind.CENTRE:
        return True
    return user.has_role(Role.HANDLER, Role.UNIT_ADMIN) and case.unit_id == user.unit_id
