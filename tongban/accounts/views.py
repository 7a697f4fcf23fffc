"""Login flow pages, one's own account security page, and the security administrator's account pages."""
from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from tongban.audit.services import record
from tongban.core import clock
from tongban.core.models import Role

from . import flow, services
from .forms import CodeForm, LoginForm, NewPasswordForm, RolesForm


def _messages(exc: ValidationError) -> str:
    return "；".join(exc.messages)


# ---------------------------------------------------------------- login flow

@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request):
    next_url = request.POST.get("next") or request.GET.get("next", "")
    if request.user.is_authenticated and request.method == "GET":
        return redirect(next_url if next_url.startswith("/") and not next_url.startswith("//") else "home")
    form = LoginForm(request.POST or None)
    refused = ""
    if request.method == "POST" and form.is_valid():
        user = authenticate(request, username=form.cleaned_data["username"], password=form.cleaned_data["password"],
                            second_factor_follows=True)
        if user is not None:
            return flow.begin(request, user, next_url)
        refused = getattr(request, "tongban_login_refused", "") or "用户名或密码不正确，请重新输入。注意区分大小写。"
    return render(request, "registration/login.html", {
        "form": form, "next": next_url, "refused": refused, "timed_out": request.GET.get("timeout") == "1",
        "demo": services.demo_mode(),
    })


def _pending_or_restart(request):
    user = flow.pending_user(request)
    if user is None:
        messages.error(request, "登录已超时，请重新输入用户名和密码。")
    return user


@never_cache
def login_verify(request):
    user = _pending_or_restart(request)
    if user is None:
        return redirect("login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.verify_second_factor(user, form.cleaned_data["code"], request=request):
            flow.update(request, totp_ok=True)
            return flow.advance(request)
        services.login_failed(request, user.username, reason="双因素验证码错误")
        if services.login_gate(request, user.username):  # locked by this failure
            request.session.pop(flow.KEY, None)
            return redirect("login")
        form.add_error("code", "验证码不正确或已使用过，请输入认证器中当前显示的 6 位数字，或一个未用过的恢复码。")
    return render(request, "accounts/verify.html", {"form": form, "who": user}, status=400 if form.errors else 200)


@never_cache
def login_welcome(request):
    user = _pending_or_restart(request)
    if user is None:
        return redirect("login")
    if request.method == "POST":
        if request.POST.get("choice") == "skip" and services.demo_mode() and user.is_demo:
            return flow.finish(request, user, skipped=True)
        flow.update(request, demo_ack=True)
        return flow.advance(request)
    return render(request, "accounts/welcome.html", {
        "who": user, "owes_password": user.must_change_password,
        "owes_totp": user.needs_second_factor and not services.has_totp(user),
    })


@sensitive_post_parameters()
@never_cache
def login_password(request):
    user = _pending_or_restart(request)
    if user is None:
        return redirect("login")
    form = NewPasswordForm(user, request.POST or None, ask_old=False)
    if request.method == "POST" and form.is_valid():
        _save_password(request, user, form.cleaned_data["new_password1"])
        return flow.advance(request)
    return render(request, "accounts/password.html", {"form": form, "who": user, "in_login": True},
                  status=400 if form.errors else 200)


@never_cache
def login_enrol(request):
    user = _pending_or_restart(request)
    if user is None:
        return redirect("login")
    return _enrol(request, user, in_login=True)


def _save_password(request, user, password: str) -> None:
    user.set_password(password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    record("auth.password_changed", actor=user, target=user.username, request=request)


def _qr_svg(uri: str) -> str:
    """The QR code as inline SVG (no external service, no script)."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#1b2430", light="#ffffff", border=2)


def _enrol(request, user, *, in_login: bool):
    form = CodeForm(request.POST or None)
    if request.method == "POST" and request.POST.get("step") == "confirm" and form.is_valid():
        try:
            codes = services.confirm_enrolment(user, form.cleaned_data["code"], request=request)
        except ValidationError as exc:
            form.add_error("code", _messages(exc))
        else:
            if in_login:
                flow.update(request, totp_ok=True)
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "in_login": in_login, "who": user})
    secret = services.pending_secret(user)
    if secret is None or (request.method == "GET" and request.GET.get("new")):
        secret, _ = services.start_enrolment(user)
    uri = services.provisioning_uri(user, secret)
    return render(request, "accounts/enrol.html", {
        "form": form, "who": user, "in_login": in_login, "secret": secret,
        "secret_groups": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
        "qr": mark_safe(_qr_svg(uri)), "required": user.needs_second_factor,
    }, status=400 if form.errors else 200)


@never_cache
def login_continue(request):
    """After the recovery codes were shown during the login flow."""
    if flow.pending_user(request) is None:
        return redirect("login")
    return flow.advance(request)


def admin_login(request, extra_context=None):
    """The Django admin has no login of its own: it uses the product's login (lock-out, 2FA, audit)."""
    target = request.GET.get("next", reverse("admin:index"))
    return redirect(f"{reverse('login')}?next={target}")


# ---------------------------------------------------------------- one's own account

@login_required
def my_account(request):
    user = request.user
    return render(request, "accounts/account.html", {
        "has_totp": services.has_totp(user), "required": user.needs_second_factor,
        "codes_left": user.recovery_codes.filter(used_at__isnull=True).count(),
    })


@sensitive_post_parameters()
@login_required
def change_password(request):
    form = NewPasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        _save_password(request, request.user, form.cleaned_data["new_password1"])
        update_session_auth_hash(request, request.user)
        messages.success(request, "密码已修改。")
        return redirect("my_account")
    return render(request, "accounts/password.html", {"form": form, "in_login": False}, status=400 if form.errors else 200)


@login_required
def totp_setup(request):
    if services.has_totp(request.user) and request.method == "GET":
        messages.info(request, "已绑定双因素认证。如需更换手机，请先解除再重新绑定，或请安全管理员重置。")
        return redirect("my_account")
    return _enrol(request, request.user, in_login=False)


@login_required
@require_POST
def totp_manage(request):
    form = CodeForm(request.POST)
    if not (form.is_valid() and services.verify_second_factor(request.user, form.cleaned_data["code"], request=request)):
        messages.error(request, "验证码不正确：解除绑定或重新生成恢复码前，请先输入当前验证码确认是本人操作。")
        return redirect("my_account")
    if request.POST.get("do") == "disable":
        try:
            services.disable_own_totp(request.user, request=request)
        except ValidationError as exc:
            messages.error(request, _messages(exc))
        else:
            messages.success(request, "已解除双因素认证。")
        return redirect("my_account")
    codes = services.new_recovery_codes(request.user, request=request)
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "in_login": False, "who": request.user})


# ---------------------------------------------------------------- the security administrator (安全管理员)

def _require_secadmin(user):
    if not user.has_role(Role.SECADMIN):
        raise PermissionDenied("只有安全管理员可以管理账号。")


@login_required
def manage_list(request):
    _require_secadmin(request.user)
    User = get_user_model()
    q = request.GET.get("q", "").strip()
    qs = User.objects.select_related("unit").order_by("username")
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(display_name__icontains=q) | Q(unit__name__icontains=q))
    if request.GET.get("locked") == "1":
        qs = qs.filter(locked_until__gt=clock.now())
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    totp_ids = set(services.TOTPDevice.objects.filter(user__in=list(page.object_list), confirmed_at__isnull=False)
                   .values_list("user_id", flat=True))
    return render(request, "accounts/manage_list.html", {"page": page, "q": q, "totp_ids": totp_ids, "now": clock.now(),
                                                         "locked": request.GET.get("locked") == "1"})


@login_required
def manage_user(request, pk):
    _require_secadmin(request.user)
    user = get_user_model().objects.filter(pk=pk).select_related("unit").first()
    if user is None:
        raise Http404("没有这个账号。")
    form = RolesForm(initial={"roles": sorted(user.role_set)})
    temporary = None
    if request.method == "POST":
        do = request.POST.get("do")
        try:
            if do == "roles":
                form = RolesForm(request.POST)
                if form.is_valid():
                    services.set_roles(user, form.cleaned_data["roles"], by=request.user, request=request)
                    messages.success(request, f"已保存 {user.username} 的角色。")
                    return redirect("manage_user", pk=user.pk)
            elif do in ("activate", "deactivate"):
                services.set_active(user, do == "activate", by=request.user, request=request)
                messages.success(request, f"已{'启用' if do == 'activate' else '停用'}账号 {user.username}。")
                return redirect("manage_user", pk=user.pk)
            elif do == "unlock":
                services.unlock(user, by=request.user, request=request)
                messages.success(request, f"已解除 {user.username} 的锁定。")
                return redirect("manage_user", pk=user.pk)
            elif do == "reset_totp":
                services.reset_totp(user, by=request.user, request=request)
                messages.success(request, f"已重置 {user.username} 的双因素认证：下次登录时重新绑定。")
                return redirect("manage_user", pk=user.pk)
            elif do == "reset_password":
                temporary = services.reset_password(user, by=request.user, request=request)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _messages(exc) if isinstance(exc, ValidationError) else str(exc))
    user.refresh_from_db()
    return render(request, "accounts/manage_user.html", {
        "u": user, "form": form, "temporary": temporary, "has_totp": services.has_totp(user), "now": clock.now(),
        "locked": bool(user.locked_until and user.locked_until > clock.now()), "self": user.pk == request.user.pk,
    }, status=400 if form.errors else 200)
