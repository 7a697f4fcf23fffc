"""Authentication backends.

`LockoutBackend` is Django's ModelBackend with the login rules every password check must obey, wherever
it comes from (login page, API token exchange): per-address throttling, per-account lock-out, audit of
failures, and no password-only login for accounts that need a second factor (only the login page, which
asks for the TOTP code next, may pass `second_factor_follows=True`).

`RolePermissionBackend` gives model permissions from roles, so that no one needs to be a superuser:
the system administrator maintains configuration data; user accounts, account security and the audit
trail are out of its reach (三员分立).
"""
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from tongban.core.models import Role

from . import services


class LockoutBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, second_factor_follows=False, **kwargs):
        if username is None or password is None:
            return None
        gate = services.login_gate(request, username)
        if gate:
            if request is not None:
                request.tongban_login_refused = gate
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            services.login_failed(request, username)
            return None
        if not second_factor_follows and services.needs_totp_at_login(user):
            services.login_failed(request, username, reason="该账号须使用双因素认证，只能从登录页登录")
            return None
        return user


# app label -> models the system administrator may not touch (None: the whole app)
SYSADMIN_EXCLUDED = {"auth": None, "accounts": None, "audit": None, "sessions": None, "contenttypes": None,
                     "core": {"user"}, "api": {"apitoken"}}
SYSADMIN_READONLY = {("core", "user"), ("admin", "logentry")}


class RolePermissionBackend:
    def authenticate(self, request, **credentials):
        return None

    def get_user(self, user_id):
        return get_user_model().objects.filter(pk=user_id).first()

    def _allowed(self, user, app_label: str, codename: str) -> bool:
        if not (user.is_active and user.is_staff and user.has_role(Role.SYSADMIN)):
            return False
        action, _, model = codename.partition("_")
        if (app_label, model) in SYSADMIN_READONLY:
            return action == "view"
        excluded = SYSADMIN_EXCLUDED.get(app_label, set())
        return excluded is not None and model not in excluded

    def has_perm(self, user, perm, obj=None):
        app_label, _, codename = perm.partition(".")
        return self._allowed(user, app_label, codename)

    def has_module_perms(self, user, app_label):
        if not (user.is_active and user.is_staff and user.has_role(Role.SYSADMIN)):
            return False
        return SYSADMIN_EXCLUDED.get(app_label, set()) is not None or app_label in {a for a, _ in SYSADMIN_READONLY}
