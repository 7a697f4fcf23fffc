"""Account security rules: lock-out and throttling, the second factor, the security administrator's
operations (roles, locks, resets). Each change is audited."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import pyotp
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F

from tongban.audit.services import client_ip, record
from tongban.core import clock
from tongban.core.models import Role, separation_error

from . import crypto
from .models import LoginFailure, RecoveryCode, TOTPDevice

ISSUER = "通办"


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def max_failures() -> int:
    return _setting("TONGBAN_LOGIN_MAX_FAILURES", 5)


def lock_minutes() -> int:
    return _setting("TONGBAN_LOGIN_LOCK_MINUTES", 15)


def ip_max_failures() -> int:
    return _setting("TONGBAN_LOGIN_IP_MAX_FAILURES", 20)


def demo_mode() -> bool:
    return bool(getattr(settings, "TONGBAN_DEMO", False))


# ---------------------------------------------------------------- password checks (used by the backend)

def _user_named(username: str):
    User = get_user_model()
    return User.objects.filter(**{User.USERNAME_FIELD: username}).first()


def login_gate(request, username: str) -> str:
    """A Chinese reason why no password may be tried now (address throttled, account locked), or ''."""
    now = clock.now()
    ip = client_ip(request)
    if ip and LoginFailure.objects.filter(ip=ip, at__gte=now - timedelta(minutes=lock_minutes())).count() >= ip_max_failures():
        record("auth.ip_throttled", target=username, request=request, detail={"ip": ip})
        return f"该地址登录失败次数过多，请 {lock_minutes()} 分钟后再试。"
    user = _user_named(username)
    if user is not None and user.locked_until and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        record("auth.login_failed", actor=user, target=username, request=request, detail={"reason": "账号已锁定"})
        return f"账号已锁定：连续输错密码 {max_failures()} 次，请约 {minutes} 分钟后再试，或联系安全管理员解锁。"
    return ""


def login_failed(request, username: str, *, reason: str = "用户名或密码错误") -> None:
    """Count a failure against the address and the account; lock the account at the limit."""
    now = clock.now()
    ip = client_ip(request)
    with transaction.atomic():
        if ip:
            LoginFailure.objects.create(ip=ip, username=username[:150], at=now)
            LoginFailure.objects.filter(at__lt=now - timedelta(days=1)).delete()
        user = _user_named(username)
        record("auth.login_failed", actor=user, target=username, request=request, detail={"reason": reason})
        if user is None:
            return
        User = type(user)
        User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
        if User.objects.values_list("failed_logins", flat=True).get(pk=user.pk) >= max_failures():
            User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=now + timedelta(minutes=lock_minutes()))
            record("auth.locked", actor=user, target=username, request=request, detail={"minutes": lock_minutes()})


def login_succeeded(user) -> None:
    type(user).objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)


# ---------------------------------------------------------------- second factor

def device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user).first()


def has_totp(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def needs_totp_at_login(user) -> bool:
    """Whether a password alone is not enough for this account."""
    return user.needs_second_factor or has_totp(user)


def start_enrolment(user) -> tuple[str, str]:
    """A fresh (unconfirmed) secret for the account: returns (secret, otpauth URI)."""
    secret = pyotp.random_base32()
    TOTPDevice.objects.update_or_create(user=user, defaults={"secret": crypto.seal(secret), "confirmed_at": None, "last_step": 0})
    return secret, provisioning_uri(user, secret)


def provisioning_uri(user, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def pending_secret(user) -> str | None:
    d = device(user)
    return crypto.unseal(d.secret) if d and not d.confirmed else None


def _accept_code(d: TOTPDevice, code: str) -> bool:
    """Check a 6-digit code (±1 step for clock drift) and refuse one already used."""
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 6:
        return False
    totp = pyotp.TOTP(crypto.unseal(d.secret))
    now_step = int(clock.now().timestamp()) // totp.interval
    for step in (now_step - 1, now_step, now_step + 1):
        if step > d.last_step and secrets.compare_digest(totp.generate_otp(step), code):
            # the update only succeeds once per step, even for two simultaneous requests
            return bool(TOTPDevice.objects.filter(pk=d.pk, last_step__lt=step).update(last_step=step))
    return False


def confirm_enrolment(user, code: str, request=None) -> list[str]:
    """Confirm the pending secret with a code from the app; returns fresh recovery codes."""
    d = device(user)
    if d is None or d.confirmed:
        raise ValidationError("请先生成新的二维码。")
    if not _accept_code(d, code):
        raise ValidationError("验证码不正确：请核对手机时间后，输入认证器中当前显示的 6 位数字。")
    TOTPDevice.objects.filter(pk=d.pk).update(confirmed_at=clock.now())
    record("auth.totp_enrolled", actor=user, target=user.username, request=request)
    return new_recovery_codes(user, request=request, audit=False)


def new_recovery_codes(user, *, request=None, audit=True) -> list[str]:
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(10)]
    with transaction.atomic():
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create([RecoveryCode(user=user, digest=_digest(c)) for c in codes])
        if audit:
            record("auth.recovery_regenerated", actor=user, target=user.username, request=request)
    return codes


def _digest(code: str) -> str:
    return hashlib.sha256(code.strip().lower().replace(" ", "").encode()).hexdigest()


def verify_second_factor(user, code: str, request=None) -> bool:
    """A current TOTP code, or an unused recovery code (then used up)."""
    d = device(user)
    if d is None or not d.confirmed:
        return False
    if _accept_code(d, code):
        return True
    used = RecoveryCode.objects.filter(user=user, digest=_digest(code), used_at__isnull=True).update(used_at=clock.now())
    if used:
        record("auth.recovery_used", actor=user, target=user.username, request=request,
               detail={"left": RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()})
    return bool(used)


def remove_totp(user) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()


def disable_own_totp(user, request=None) -> None:
    if user.needs_second_factor:
        raise ValidationError("您的角色必须使用双因素认证，不能解除。")
    remove_totp(user)
    record("auth.totp_disabled", actor=user, target=user.username, request=request)


# ---------------------------------------------------------------- the security administrator (安全管理员)

def require_secadmin(by) -> None:
    if not (by and by.is_active and by.has_role(Role.SECADMIN)):
        raise PermissionDenied("只有安全管理员可以管理账号的角色、锁定和双因素认证。")


def _not_self(by, user) -> None:
    if by.pk == user.pk:
        raise PermissionDenied("不能修改自己账号的角色、状态或认证方式，请由另一位安全管理员操作。")


def set_roles(user, roles, *, by, request=None) -> None:
    """Give `user` exactly `roles`. Refuses combining separated administrator roles (三员分立) before any
    database work, then again through the model's validation and the database constraint."""
    require_secadmin(by)
    _not_self(by, user)
    wanted = sorted({r.strip() for r in roles if r and r.strip()})
    unknown = [r for r in wanted if r not in Role.values]
    if unknown:
        raise ValidationError(f"未知的角色代码：{'、'.join(unknown)}。")
    message = separation_error(wanted)
    if message:
        raise ValidationError(message)
    user.roles = ",".join(wanted)
    user.full_clean(validate_unique=False, validate_constraints=False, exclude=["password"])
    user._audit_actor = by
    user.save(update_fields=["roles"])  # audited by the User signal (account.changed)


def set_active(user, active: bool, *, by, request=None) -> None:
    require_secadmin(by)
    _not_self(by, user)
    user.is_active = active
    user._audit_actor = by
    user.save(update_fields=["is_active"])  # audited by the User signal (account.changed)


def unlock(user, *, by, request=None) -> None:
    require_secadmin(by)
    type(user).objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
    record("account.unlocked", actor=by, target=user.username, request=request)


def reset_totp(user, *, by, request=None) -> None:
    require_secadmin(by)
    _not_self(by, user)
    remove_totp(user)
    record("account.totp_reset", actor=by, target=user.username, request=request)


def reset_password(user, *, by, request=None) -> str:
    """A random temporary password, shown once; the person must change it at the next login."""
    require_secadmin(by)
    _not_self(by, user)
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
    while True:
        temporary = "".join(secrets.choice(alphabet) for _ in range(10)) + secrets.choice("#@%*") + secrets.choice("23456789")
        if any(c.isupper() for c in temporary) and any(c.islower() for c in temporary):
            break
    user.set_password(temporary)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    record("account.password_reset", actor=by, target=user.username, request=request)
    return temporary
