"""Password rules (等保: 口令复杂度): length, character classes, not the user name, not a recent password.

Configured in settings.AUTH_PASSWORD_VALIDATORS; `PasswordHistoryValidator.password_changed` also records
each new password, whichever way it was set (own page, reset by the security administrator, admin, command).
"""
import re

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError

from tongban.core import clock

CLASSES = (("大写字母", re.compile(r"[A-Z]")), ("小写字母", re.compile(r"[a-z]")), ("数字", re.compile(r"\d")),
           ("符号", re.compile(r"[^A-Za-z0-9]")))


class LengthValidator:
    """At least `min_length` characters (Django's own message is not translated in every release)."""

    def __init__(self, min_length: int = 10):
        self.min_length = min_length

    def validate(self, password, user=None):
        if len(password) < self.min_length:
            raise ValidationError(f"密码太短：至少 {self.min_length} 个字符。", code="password_too_short")

    def get_help_text(self):
        return f"至少 {self.min_length} 个字符。"


class ComplexityValidator:
    """At least `min_classes` of upper case, lower case, digits and symbols."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        present = sum(1 for _, rx in CLASSES if rx.search(password))
        if present < self.min_classes:
            raise ValidationError(f"密码须包含大写字母、小写字母、数字、符号中的至少 {self.min_classes} 类。", code="password_too_simple")

    def get_help_text(self):
        return f"至少包含大写字母、小写字母、数字、符号中的 {self.min_classes} 类。"


class NotUsernameValidator:
    """The password must not contain the user name (in any case)."""

    def validate(self, password, user=None):
        username = getattr(user, "username", "") or ""
        if len(username) >= 3 and username.lower() in password.lower():
            raise ValidationError("密码不能包含用户名。", code="password_contains_username")

    def get_help_text(self):
        return "不能包含用户名。"


class PasswordHistoryValidator:
    """Not one of the last `count` passwords of the account (the current one included)."""

    def __init__(self, count: int = 5):
        self.count = count

    def validate(self, password, user=None):
        if user is None or not user.pk:
            return
        from .models import PasswordHistory

        recent = list(PasswordHistory.objects.filter(user=user).values_list("password", flat=True)[: self.count])
        if user.password and user.password not in recent:
            recent.insert(0, user.password)
        if any(check_password(password, encoded) for encoded in recent[: self.count] if encoded):
            raise ValidationError(f"不能使用最近 {self.count} 次用过的密码。", code="password_reused")

    def password_changed(self, password, user=None):
        if user is None or not user.pk:
            return
        from .models import PasswordHistory

        now = clock.now()
        PasswordHistory.objects.create(user=user, password=user.password, created_at=now)
        stale = PasswordHistory.objects.filter(user=user).values_list("pk", flat=True)[self.count:]
        PasswordHistory.objects.filter(pk__in=list(stale)).delete()
        type(user).objects.filter(pk=user.pk).update(password_changed_at=now)

    def get_help_text(self):
        return f"不能与最近 {self.count} 次的密码相同。"
