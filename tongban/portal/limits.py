"""Abuse control without a captcha service: fixed-window counters in Django's cache (Redis in
production, per-process memory when embedded). Limits are configurable with PORTAL_LIMITS."""
from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

# name → (how many, per how many seconds)
DEFAULT_LIMITS = {
    "submit_ip": (10, 3600),      # requests submitted from one IP address per hour
    "submit_phone": (5, 3600),    # requests submitted for one phone number per hour
    "code_phone": (5, 3600),      # verification codes sent to one phone per hour
    "code_ip": (20, 3600),        # verification codes requested from one IP per hour
    "code_gap": (1, 60),          # at most one code per phone per minute
    "verify_ip": (30, 3600),      # code checks from one IP per hour (across numbers)
    "book_ip": (10, 3600),        # appointments booked or cancelled from one IP per hour
    "book_phone": (5, 3600),      # appointments booked for one phone per hour
}
MESSAGES = {
    "submit_ip": "提交过于频繁，请一小时后再试；紧急情况请直接拨打 12345。",
    "submit_phone": "该手机号提交过于频繁，请一小时后再试；紧急情况请直接拨打 12345。",
    "code_phone": "该手机号获取验证码次数过多，请一小时后再试。",
    "code_ip": "获取验证码过于频繁，请一小时后再试。",
    "code_gap": "验证码已发送，请 1 分钟后再重新获取。",
    "verify_ip": "验证次数过多，请一小时后再试。",
    "book_ip": "预约操作过于频繁，请一小时后再试，或拨打 12345 预约。",
    "book_phone": "该手机号预约过于频繁，请一小时后再试。",
}


class Limited(Exception):
    """Over a limit. The message is for people."""


def limit(name: str) -> tuple[int, int]:
    return {**DEFAULT_LIMITS, **getattr(settings, "PORTAL_LIMITS", {})}[name]


def hit(name: str, ident: str) -> None:
    """Count one use of `name` by `ident`; raise Limited once over the limit."""
    allowed, window = limit(name)
    key = f"portal:limit:{name}:{ident}"
    cache.add(key, 0, timeout=window)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        used = 1
    if used > allowed:
        raise Limited(MESSAGES[name])


def client_ip(request) -> str:
    if getattr(settings, "PORTAL_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()  # the address our own proxy saw
    return request.META.get("REMOTE_ADDR", "")
