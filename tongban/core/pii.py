"""Personal data helpers: validation and masking (手机号、身份证号)."""
import re

from stdnum.cn import ric

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


def mask_id_number(value: str) -> str:
    return f"{value[:6]}********{value[-4:]}" if len(value) == 18 else "****"
