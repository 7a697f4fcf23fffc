"""The login flow: password → second factor → forced password change → second-factor enrolment.

Until every step is done the person is not logged in: the session holds only a short-lived "pending"
record, so no page of the product is reachable half-way. In demo mode (settings.TONGBAN_DEMO, embedded
only) demo accounts may skip the change and the enrolment after an explanation.
"""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from tongban.audit.services import record
from tongban.core import clock

from . import services

KEY = "tongban_login_pending"
PENDING_SECONDS = 600


def begin(request, user, next_url: str):
    request.session.cycle_key()
    request.session[KEY] = {"uid": user.pk, "backend": user.backend, "next": next_url, "at": clock.now().timestamp(),
                            "totp_ok": False, "demo_ack": False}
    return advance(request)


def pending(request) -> dict | None:
    data = request.session.get(KEY)
    if not data or clock.now().timestamp() - data["at"] > PENDING_SECONDS:
        return None
    return data


def pending_user(request):
    data = pending(request)
    if data is None:
        return None
    return get_user_model().objects.filter(pk=data["uid"], is_active=True).first()


def update(request, **changes) -> None:
    data = request.session[KEY]
    data.update(changes)
    request.session[KEY] = data


def step_for(user, data: dict) -> str:
    """The next step for this person, or 'done'."""
    if services.has_totp(user) and not data["totp_ok"]:
        return "verify"
    owes_password = user.must_change_password
    owes_totp = user.needs_second_factor and not services.has_totp(user)
    if (owes_password or owes_totp) and user.is_demo and services.demo_mode() and not data["demo_ack"]:
        return "welcome"
    if owes_password:
        return "password"
    if owes_totp:
        return "enrol"
    return "done"


STEP_URLS = {"verify": "login_verify", "welcome": "login_welcome", "password": "login_password", "enrol": "login_enrol"}


def advance(request):
    user = pending_user(request)
    if user is None:
        request.session.pop(KEY, None)
        return redirect("login")
    step = step_for(user, request.session[KEY])
    if step == "done":
        return finish(request, user)
    return redirect(STEP_URLS[step])


def finish(request, user, *, skipped: bool = False):
    data = request.session.pop(KEY)
    services.login_succeeded(user)
    login(request, user, backend=data["backend"])  # audited by the user_logged_in receiver
    if skipped:
        record("auth.demo_skip", actor=user, target=user.username, request=request)
    nxt = data.get("next") or ""
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        nxt = settings.LOGIN_REDIRECT_URL
    return redirect(nxt)
