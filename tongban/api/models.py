"""API tokens (接口令牌). Only a SHA-256 digest of each token is stored; the token itself is shown once."""
from __future__ import annotations

import copy
import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from tongban.core.recent import Recent

# Days a new token lives; 0 means it never expires. Override with TONGBAN_API_TOKEN_DAYS.
DEFAULT_TOKEN_DAYS = 90
# last_used_at is written at most this often per token, so busy clients do not write on every call.
TOUCH_EVERY = timedelta(minutes=1)
# token digest → usable row, see ApiToken.lookup; revoking a token or changing a user clears it
_recent = Recent("api-tokens", "TONGBAN_API_TOKEN_CACHE_SECONDS", watch=("api.ApiToken", settings.AUTH_USER_MODEL))


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def usable(self, now=None):
        now = now or timezone.now()
        return self.filter(revoked=False, user__is_active=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name="用户")
    name = models.CharField("名称", max_length=64, blank=True, help_text="用途说明，例如“话务系统对接”")
    key_hash = models.CharField("令牌摘要", max_length=64, unique=True, editable=False, help_text="令牌的 SHA-256 摘要；令牌本身不保存")
    prefix = models.CharField("前缀", max_length=8, editable=False, help_text="令牌前 8 位，便于辨认")
    created_at = models.DateTimeField("创建时间", default=timezone.now, editable=False)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True, editable=False)
    expires_at = models.DateTimeField("过期时间", null=True, blank=True)
    revoked = models.BooleanField("已吊销", default=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "接口令牌"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… {self.name or ''}".strip()

    @classmethod
    def issue(cls, user, name: str = "", *, days: int | None = None) -> tuple["ApiToken", str]:
        """Create a token for `user`; returns (row, token). The token is not recoverable later."""
        if days is None:
            days = int(getattr(settings, "TONGBAN_API_TOKEN_DAYS", DEFAULT_TOKEN_DAYS))
        token = secrets.token_urlsafe(32)
        now = timezone.now()
        row = cls.objects.create(
            user=user, name=name[:64], key_hash=digest(token), prefix=token[:8], created_at=now,
            expires_at=now + timedelta(days=days) if days > 0 else None,
        )
        return row, token

    @classmethod
    def lookup(cls, token: str) -> "ApiToken | None":
        """The usable token row for `token` (not revoked, not expired, active user), or None.

        A busy client's token is looked up once per TONGBAN_API_TOKEN_CACHE_SECONDS (default 5) in each
        process; revoking a token or changing its user clears this process's cache at once, and other
        processes notice within that many seconds (0 turns the cache off)."""
        if not token or len(token) > 256:
            return None
        now = timezone.now()
        key = digest(token)
        cached = _recent.get(key)
        if cached is None or cached.is_expired:
            cached = cls.objects.usable(now).select_related("user", "user__unit").filter(key_hash=key).first()
            if cached is None:
                _recent.forget(key)
                return None
            _recent.put(key, cached)
        row = copy.copy(cached)
        row.user = copy.copy(cached.user)  # per request: callers may set attributes on it
        if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
            cls.objects.filter(pk=row.pk).update(last_used_at=now)
            row.last_used_at = cached.last_used_at = now
        return row

    @staticmethod
    def forget_recent() -> None:
        """Drop this process's remembered lookups (tokens revoked by a bulk update)."""
        _recent.forget()

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

