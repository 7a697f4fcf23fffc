"""Authentication (等保 身份鉴别): password rules and history, lock-out per account and per address, the
login flow with forced password change and TOTP two-factor, idle timeout, demo mode, 三员分立."""
import html
import re
from datetime import timedelta

import pyotp
import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tongban.accounts import services
from tongban.accounts.models import RecoveryCode, TOTPDevice
from tongban.audit.models import AuditEntry
from tongban.core import clock
from tongban.core.models import Role, User

from .factories import UserFactory

PASSWORD = "Tongban#2026"
pytestmark = pytest.mark.django_db


def actions(**filters) -> list[str]:
    return list(AuditEntry.objects.filter(**filters).order_by("seq").values_list("action", flat=True))


def post_login(client, username, password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def secret_from(response) -> str:
    return re.search(r'data-secret="([A-Z2-7]+)"', response.content.decode()).group(1)


def code(secret, offset=0) -> str:
    return pyotp.TOTP(secret).at(clock.now() + timedelta(seconds=offset))


# ---------------------------------------------------------------- password rules


@pytest.mark.parametrize("password, reason", [
    ("Ab#12345", "10"),                 # 8 characters
    ("abcdefghijk1", "至少 3 类"),       # two classes
    ("Xoperatorx#1", "用户名"),          # contains the user name
])
def test_weak_passwords_are_refused_in_chinese(county, password, reason):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        password_validation.validate_password(password, county.operator)
    assert reason in " ".join(exc.value.messages) and "password" not in " ".join(exc.value.messages)


def test_a_strong_password_passes_and_the_last_five_may_not_be_reused(county):
    user = county.operator
    history = [f"Qingxi#{n}2026x" for n in range(6)]
    for pw in history:
        password_validation.validate_password(pw, user)
        user.set_password(pw)
        user.save()
    for recent in history[1:]:  # the current one and the four before it
        with pytest.raises(ValidationError, match="最近 5 次"):
            password_validation.validate_password(recent, user)
    password_validation.validate_password(history[0], user)  # six changes ago: allowed again
    assert User.objects.get(pk=user.pk).password_changed_at is not None


# ---------------------------------------------------------------- lock-out


def test_five_failures_lock_the_account_for_fifteen_minutes(client, county):
    for _ in range(5):
        response = post_login(client, "operator", "wrong-password")
        assert "用户名或密码不正确" in response.content.decode()
    response = post_login(client, "operator")  # the right password no longer helps
    assert "账号已锁定" in response.content.decode() and "_auth_user_id" not in client.session
    assert actions(action__in=["auth.login_failed", "auth.locked"]).count("auth.login_failed") == 6
    assert "auth.locked" in actions()
    with clock.at(clock.now() + timedelta(minutes=16)):
        assert post_login(client, "operator").status_code == 302
    assert User.objects.get(username="operator").locked_until is None
    assert "auth.login" in actions(actor="operator")


def test_failures_counted_per_address_slow_down_password_spraying(client, county, settings):
    settings.TONGBAN_LOGIN_IP_MAX_FAILURES = 3
    for name in ("dispatcher", "supervisor", "handler"):  # one try each: no account reaches its own limit
        post_login(client, name, "Spring2026!", REMOTE_ADDR="10.0.0.9")
    response = post_login(client, "operator", REMOTE_ADDR="10.0.0.9")
    assert "该地址登录失败次数过多" in response.content.decode()
    assert "auth.ip_throttled" in actions()
    assert post_login(Client(), "operator", REMOTE_ADDR="10.0.0.10").status_code == 302  # another address is fine
    assert not User.objects.filter(locked_until__isnull=False).exists()


def test_the_security_administrator_unlocks_an_account(client, county):
    secadmin = UserFactory(username="secadmin", roles="secadmin", unit=county.centre)
    for _ in range(5):
        post_login(client, "handler", "nope-nope-1")
    locked = User.objects.get(username="handler")
    assert locked.locked_until > clock.now()
    with pytest.raises(PermissionDenied):
        services.unlock(locked, by=county.admin)
    services.unlock(locked, by=secadmin)
    assert post_login(client, "handler").status_code == 302
    assert AuditEntry.objects.filter(action="account.unlocked", actor="secadmin", target="handler").exists()


# ---------------------------------------------------------------- login, logout, forced change


def test_login_and_logout_are_audited_with_the_address(client, county):
    response = post_login(client, "operator", REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 302 and response.url == reverse("home")
    entry = AuditEntry.objects.get(action="auth.login")
    assert entry.actor == "operator" and entry.ip == "192.0.2.7"
    client.post(reverse("logout"))
    assert AuditEntry.objects.filter(action="auth.logout", actor="operator").exists()


def test_next_is_kept_but_never_leads_off_site(client, county):
    assert client.post(reverse("login"), {"username": "operator", "password": PASSWORD, "next": "/cases/"}).url == "/cases/"
    other = Client()
    assert other.post(reverse("login"), {"username": "operator", "password": PASSWORD, "next": "https://evil.example/"}).url == reverse("home")


def test_an_initial_password_must_be_changed_before_anything_else(client, county):
    user = UserFactory(username="newbie", roles="handler", unit=county.housing, must_change_password=True)
    response = post_login(client, "newbie")
    assert response.url == reverse("login_password")
    assert client.get(reverse("inbox")).status_code == 302  # not logged in half-way
    weak = client.post(reverse("login_password"), {"new_password1": "short", "new_password2": "short"})
    assert weak.status_code == 400 and "10" in weak.content.decode() and "太短" in weak.content.decode()
    same = client.post(reverse("login_password"), {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert "不能与当前密码相同" in same.content.decode()
    done = client.post(reverse("login_password"), {"new_password1": "Liuquan#2027a", "new_password2": "Liuquan#2027a"})
    assert done.status_code == 302 and done.url == reverse("home")
    user.refresh_from_db()
    assert not user.must_change_password and user.check_password("Liuquan#2027a")
    assert actions(actor="newbie") == ["auth.password_changed", "auth.login"]


def test_a_pending_login_expires(client, county):
    UserFactory(username="slow", roles="handler", unit=county.housing, must_change_password=True)
    post_login(client, "slow")
    with clock.at(clock.now() + timedelta(minutes=11)):
        response = client.post(reverse("login_password"), {"new_password1": "Liuquan#2027a", "new_password2": "Liuquan#2027a"})
    assert response.url == reverse("login")
    assert User.objects.get(username="slow").must_change_password


def test_changing_ones_own_password_needs_the_current_one(client, county):
    client.force_login(county.operator)
    wrong = client.post(reverse("change_password"), {"old_password": "x", "new_password1": "Liuquan#2027a", "new_password2": "Liuquan#2027a"})
    assert "当前密码不正确" in wrong.content.decode()
    ok = client.post(reverse("change_password"), {"old_password": PASSWORD, "new_password1": "Liuquan#2027a", "new_password2": "Liuquan#2027a"})
    assert ok.url == reverse("my_account")
    assert client.get(reverse("cases")).status_code == 200  # still logged in after the change


# ---------------------------------------------------------------- second factor


def enrol_through_login(client, username) -> tuple[str, list[str]]:
    response = post_login(client, username)
    assert response.url == reverse("login_enrol")
    page = client.get(reverse("login_enrol"))
    assert "<svg" in page.content.decode() and "http" not in page.content.decode().split("<svg", 1)[1].split("</svg>", 1)[0].replace("http://www.w3.org", "")
    secret = secret_from(page)
    wrong = client.post(reverse("login_enrol"), {"step": "confirm", "code": "000000"})
    assert wrong.status_code == 400 and "验证码不正确" in wrong.content.decode()
    shown = client.post(reverse("login_enrol"), {"step": "confirm", "code": code(secret)})
    codes = re.findall(r"<li>([0-9a-f]{6}-[0-9a-f]{6})</li>", shown.content.decode())
    assert len(codes) == 10
    assert client.post(reverse("login_continue")).url == reverse("home")
    return secret, codes


def test_administrators_must_enrol_a_second_factor_at_login(client, county):
    UserFactory(username="sec", roles="secadmin", unit=county.centre)
    secret, codes = enrol_through_login(client, "sec")
    assert client.get(reverse("account_admin")).status_code == 200
    assert actions(actor="sec") == ["auth.totp_enrolled", "auth.login"]
    device = TOTPDevice.objects.get(user__username="sec")
    assert secret not in device.secret  # stored encrypted
    assert RecoveryCode.objects.filter(user__username="sec").count() == 10
    assert not any(c in "".join(RecoveryCode.objects.values_list("digest", flat=True)) for c in codes)

    # the next login asks for the code; a used code cannot be replayed; a recovery code works once
    client.post(reverse("logout"))
    assert post_login(client, "sec").url == reverse("login_verify")
    assert client.get(reverse("account_admin")).status_code == 302
    used = code(secret)
    TOTPDevice.objects.filter(pk=device.pk).update(last_step=0)
    assert client.post(reverse("login_verify"), {"code": used}).url == reverse("home")
    client.post(reverse("logout"))
    post_login(client, "sec")
    replay = client.post(reverse("login_verify"), {"code": used})
    assert replay.status_code == 400 and "验证码不正确或已使用过" in replay.content.decode()
    assert client.post(reverse("login_verify"), {"code": codes[0]}).url == reverse("home")
    client.post(reverse("logout"))
    post_login(client, "sec")
    assert client.post(reverse("login_verify"), {"code": codes[0]}).status_code == 400
    assert "auth.recovery_used" in actions(actor="sec")


def test_wrong_second_factor_codes_count_towards_the_lock(client, county):
    UserFactory(username="sec", roles="secadmin", unit=county.centre)
    enrol_through_login(client, "sec")
    client.post(reverse("logout"))
    post_login(client, "sec")
    for _ in range(4):
        client.post(reverse("login_verify"), {"code": "123456"})
    assert client.post(reverse("login_verify"), {"code": "123456"}).url == reverse("login")
    assert User.objects.get(username="sec").locked_until is not None


def test_password_only_api_tokens_are_refused_to_second_factor_accounts(county):
    UserFactory(username="sec", roles="secadmin", unit=county.centre)
    response = Client().post("/api/v1/auth/token", {"username": "sec", "password": PASSWORD, "name": "脚本"}, content_type="application/json")
    assert response.status_code == 401
    assert AuditEntry.objects.filter(action="auth.login_failed", target="sec").exists()
    ok = Client().post("/api/v1/auth/token", {"username": "operator", "password": PASSWORD, "name": "脚本"}, content_type="application/json")
    assert ok.status_code in (200, 201)


def test_optional_second_factor_for_other_staff_can_be_added_and_removed(client, county):
    client.force_login(county.handler)
    assert "建议绑定" in client.get(reverse("my_account")).content.decode()
    secret = secret_from(client.get(reverse("totp_setup")))
    client.post(reverse("totp_setup"), {"step": "confirm", "code": code(secret)})
    assert services.has_totp(county.handler)
    assert client.post(reverse("totp_manage"), {"do": "disable", "code": "999999"}).url == reverse("my_account")
    assert services.has_totp(county.handler)
    client.post(reverse("totp_manage"), {"do": "disable", "code": code(secret, 30)})
    assert not services.has_totp(county.handler)
    assert "auth.totp_disabled" in actions(actor="handler")


def test_the_security_administrator_resets_a_lost_second_factor_and_a_password(client, county):
    sec = UserFactory(username="sec", roles="secadmin", unit=county.centre)
    UserFactory(username="unitadmin", roles="unit_admin", unit=county.housing)
    enrol_through_login(Client(), "unitadmin")
    client.force_login(sec)
    target = User.objects.get(username="unitadmin")
    client.post(reverse("manage_user", args=[target.pk]), {"do": "reset_totp"})
    assert not services.has_totp(target)
    page = client.post(reverse("manage_user", args=[target.pk]), {"do": "reset_password"})
    temporary = html.unescape(re.search(r'id="temporary-password">([^<]+)<', page.content.decode()).group(1))
    target.refresh_from_db()
    assert target.must_change_password and target.check_password(temporary)
    password_validation.validate_password(temporary, target.__class__(username="someone"))  # the temporary one is strong
    assert post_login(Client(), "unitadmin", temporary).url == reverse("login_password")
    assert {"account.totp_reset", "account.password_reset"} <= set(actions(actor="sec"))


# ---------------------------------------------------------------- idle timeout


def test_an_idle_session_ends_after_the_configured_time(client, county, settings):
    settings.SESSION_IDLE_SECONDS = 1800
    client.force_login(county.operator)
    assert client.get(reverse("cases")).status_code == 200
    with clock.at(clock.now() + timedelta(minutes=29)):
        assert client.get(reverse("cases")).status_code == 200
    with clock.at(clock.now() + timedelta(minutes=29 + 31)):
        response = client.get(reverse("cases"))
    assert response.status_code == 302 and "timeout=1" in response.url
    assert "长时间未操作" in client.get(response.url).content.decode()
    assert client.get(reverse("cases")).status_code == 302
    assert "auth.timeout" in actions(actor="operator")


# ---------------------------------------------------------------- demo mode


def test_demo_accounts_get_an_explanation_and_may_skip_only_in_demo_mode(client, county, settings):
    UserFactory(username="demo_sys", roles="sysadmin", unit=county.centre, is_demo=True, must_change_password=True, is_staff=True)
    settings.TONGBAN_DEMO = True
    assert post_login(client, "demo_sys").url == reverse("login_welcome")
    page = client.get(reverse("login_welcome")).content.decode()
    assert "修改初始密码" in page and "绑定双因素认证" in page and "跳过" in page
    assert client.post(reverse("login_welcome"), {"choice": "skip"}).url == reverse("home")
    assert actions(actor="demo_sys") == ["auth.login", "auth.demo_skip"]

    settings.TONGBAN_DEMO = False
    other = Client()
    assert post_login(other, "demo_sys").url == reverse("login_password")
    other.post(reverse("login_welcome"), {"choice": "skip"})
    assert "_auth_user_id" not in other.session


def test_the_admin_has_no_login_of_its_own(client, county):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


# ---------------------------------------------------------------- 三员分立


@pytest.mark.parametrize("roles", ["sysadmin,secadmin", "secadmin,auditor", "auditor,sysadmin", "sysadmin,handler,auditor"])
def test_one_account_never_holds_two_administrator_roles(county, roles):
    user = User(username="twohats", roles=roles)
    with pytest.raises(ValidationError, match="三员分立"):
        user.clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="twohats", roles=roles)


def test_the_role_service_checks_separation_before_the_database(county):
    sec = UserFactory(username="sec", roles="secadmin", unit=county.centre)
    target = county.handler
    with pytest.raises(ValidationError, match="三员分立"):
        services.set_roles(target, [Role.SYSADMIN, Role.AUDITOR], by=sec)
    with pytest.raises(PermissionDenied):
        services.set_roles(target, [Role.OPERATOR], by=county.admin)  # the system administrator manages no roles
    with pytest.raises(PermissionDenied):
        services.set_roles(sec, [Role.SECADMIN, Role.HANDLER], by=sec)  # nor anyone their own
    services.set_roles(target, [Role.HANDLER, Role.UNIT_ADMIN], by=sec)
    target.refresh_from_db()
    assert target.role_set == {"handler", "unit_admin"}
    change = AuditEntry.objects.get(action="account.changed", target="handler", actor="sec")
    assert change.actor == "sec" and "unit_admin" in change.detail


def test_the_separation_is_checked_without_a_database(county):
    from tongban.core.models import separation_error

    assert separation_error(["sysadmin", "auditor"]) and not separation_error(["sysadmin", "handler"])


def test_the_admin_form_refuses_two_administrator_roles(county):
    from django.contrib.admin.sites import site

    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = county.admin
    form_class = site._registry[User].get_form(request, county.handler)
    data = {"username": "handler", "roles": "secadmin,auditor", "date_joined_0": "2026-01-01", "date_joined_1": "08:00",
            "password": county.handler.password, "display_name": "x"}
    form = form_class(data, instance=county.handler)
    assert not form.is_valid() and "三员分立" in str(form.errors)


def test_account_pages_belong_to_the_security_administrator_only(client, county):
    sec = UserFactory(username="sec", roles="secadmin", unit=county.centre)
    auditor = UserFactory(username="aud", roles="auditor", unit=county.centre)
    for user in (county.admin, auditor, county.operator):
        client.force_login(user)
        assert client.get(reverse("account_admin")).status_code == 403
    client.force_login(sec)
    page = client.get(reverse("account_admin"), {"q": "handler"}).content.decode()
    assert "handler" in page
    response = client.post(reverse("manage_user", args=[county.handler.pk]), {"do": "roles", "roles": ["sysadmin", "secadmin"]})
    assert "三员分立" in response.content.decode()
    assert User.objects.get(pk=county.handler.pk).roles == "handler"
    client.post(reverse("manage_user", args=[county.handler.pk]), {"do": "deactivate"})
    assert not User.objects.get(pk=county.handler.pk).is_active


def test_the_system_administrator_configures_but_manages_neither_accounts_nor_audit(client, county):
    admin = UserFactory(username="sys2", roles="sysadmin", unit=county.centre, is_staff=True)
    assert admin.has_perm("core.change_unit") and admin.has_perm("cases.change_casetype") and admin.has_perm("core.view_user")
    assert not admin.has_perm("core.change_user") and not admin.has_perm("audit.view_auditentry")
    assert not admin.has_perm("auth.change_group") and not admin.has_perm("accounts.delete_totpdevice")
    client.force_login(admin)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/core/unit/").status_code == 200
    assert client.get("/admin/core/user/add/").status_code == 403
    assert client.get(reverse("audit_log")).status_code == 403
    nav = [item["label"] for item in client.get(reverse("settings")).context["nav"]]
    assert "系统设置" in nav and "审计" not in nav and "账号管理" not in nav
    # a superuser flag does not open the audit trail either
    client.force_login(county.admin)
    assert county.admin.is_superuser and client.get(reverse("audit_log")).status_code == 403
