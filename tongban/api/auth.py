"""Who is calling: a Bearer token (scripts, other systems) or the browser session (the docs page).

Session callers get CSRF checked on unsafe methods, exactly as the pages do; token callers do not
need it (a browser never attaches an Authorization header on its own).
"""
from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf

from .models import ApiToken


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`, token from `POST /api/v1/auth/token`."""

    def authenticate(self, request: HttpRequest, token: str):
        row = ApiToken.lookup(token.strip())
        if row is None:
            return None
        request.api_token = row
        return row.user


class SessionAuth(APIKeyCookie):
    """The logged-in Django session, with CSRF enforced for POST/PUT/PATCH/DELETE."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=True)  # `csrf` also tells the docs page to send the CSRF token

    def _get_key(self, request: HttpRequest):
        # Unlike ninja's django_auth, check CSRF only once we know the session is logged in,
        # so a caller with neither a token nor a session gets 401, not a CSRF complaint.
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key):
        user = getattr(request, "user", None)
        if not (user and user.is_authenticated and user.is_active):
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(403, "CSRF 校验失败：使用网页登录状态调用接口时，非 GET 请求须带 X-CSRFToken 请求头。")
        return user


token_auth = TokenAuth()
session_auth = SessionAuth()
