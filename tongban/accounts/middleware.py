"""Request-wide security: audit context, idle-session timeout, and the security headers (CSP and friends)."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse

from tongban.audit.services import current_request, record
from tongban.core import clock

LAST_SEEN = "tongban_last_seen"


def idle_seconds() -> int:
    return int(getattr(settings, "SESSION_IDLE_SECONDS", 1800))


class AuditContextMiddleware:
    """Makes the current request known to audit receivers (who acted, from which address)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)


class IdleTimeoutMiddleware:
    """Logs out a session left idle longer than SESSION_IDLE_SECONDS (default 30 minutes).

    The session cookie expires after the same time (SESSION_COOKIE_AGE, renewed on every request); this
    check makes the limit exact on the server and tells the person why they have to log in again."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = clock.now().timestamp()
            last = request.session.get(LAST_SEEN)
            if last is not None and now - last > idle_seconds():
                record("auth.timeout", actor=user, target=user.username, request=request, detail={"idle_seconds": int(now - last)})
                logout(request)
                if request.headers.get("HX-Request"):
                    response = redirect(f"{reverse('login')}?timeout=1")
                    response["HX-Redirect"] = response["Location"]
                    return response
                if request.path.startswith("/api/"):
                    return self.get_response(request)  # the API answers 401 by itself
                return redirect(f"{reverse('login')}?timeout=1&next={request.get_full_path()}")
            request.session[LAST_SEEN] = now
        return self.get_response(request)


CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",  # style="…" attributes only; no <style> blocks, no inline script
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(self), payment=(), usb=(), serial=(), bluetooth=()"


class SecurityHeadersMiddleware:
    """Content-Security-Policy (self only) and Permissions-Policy on every response that lacks its own.
    X-Frame-Options, Referrer-Policy, nosniff and HSTS come from Django's own middleware and settings."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", getattr(settings, "TONGBAN_CSP", CSP))
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
