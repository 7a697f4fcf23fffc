"""Account security records: password history, TOTP second factor, recovery codes, failed logins per address."""
from django.conf import settings
from django.db import models


class PasswordHistory(models.Model):
    """The hashes of a person's recent passwords (a new password may not repeat the last few)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = verbose_name_plural = "历史密码"
        ordering = ["-created_at", "-id"]


class TOTPDevice(models.Model):
    """A TOTP authenticator app bound to an account. The secret is stored encrypted (see crypto.py)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp")
    secret = models.TextField("密钥（加密）")
    confirmed_at = models.DateTimeField("绑定时间", null=True, blank=True)
    last_step = models.BigIntegerField("最近使用的时间步", default=0, help_text="同一验证码不能使用两次")

    class Meta:
        verbose_name = verbose_name_plural = "双因素认证设备"

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


class RecoveryCode(models.Model):
    """One-time codes for when the phone is lost; only their SHA-256 digests are kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes")
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "恢复码"


class LoginFailure(models.Model):
    """A failed login from an address; counted per address to slow password spraying across accounts."""

    ip = models.GenericIPAddressField()
    username = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = verbose_name_plural = "登录失败记录"
        indexes = [models.Index(fields=["ip", "at"], name="login_failure_ip_at")]
