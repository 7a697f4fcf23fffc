"""群众门户 and 数字政务门牌: door plates with QR tokens, verification codes, and where a portal request came from."""
from __future__ import annotations

import secrets

from django.db import models

from tongban.core.models import Region, Unit


def new_token() -> str:
    return secrets.token_urlsafe(12)  # 96 random bits: cannot be guessed or enumerated


class DoorPlate(models.Model):
    """数字政务门牌: one household's address. Its QR code opens the portal with the address and
    jurisdiction filled in, and requests from it go straight to the responsible village/community unit."""

    token = models.CharField("二维码令牌", max_length=32, unique=True, default=new_token, editable=False)
    household = models.CharField("门牌号", max_length=64)
    address = models.CharField("地址", max_length=200)
    village = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="村/社区")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="所属区划或网格")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name="责任单位")
    active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("生成时间")

    class Meta:
        verbose_name = verbose_name_plural = "数字政务门牌"
        constraints = [models.UniqueConstraint(fields=["village", "household"], name="doorplate_village_household")]
        ordering = ["village", "id"]

    def __str__(self) -> str:
        return self.address


class VerificationCode(models.Model):
    """A 6-digit code sent by SMS to see one case. Stored as a keyed hash, valid for minutes, few tries."""

    number = models.CharField("工单编号", max_length=20)
    phone = models.CharField("手机号", max_length=20)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField("发送时间")
    expires_at = models.DateTimeField("失效时间")
    attempts = models.PositiveSmallIntegerField("错误次数", default=0)
    used_at = models.DateTimeField("使用时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "查询验证码"
        indexes = [models.Index(fields=["number", "phone", "-created_at"], name="verifycode_lookup")]


class PortalRequest(models.Model):
    """How a case came in through the portal: which door plate (if scanned), whether in 适老化 mode."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="portal")
    door_plate = models.ForeignKey(DoorPlate, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests",
                                   verbose_name="门牌")
    elder_mode = models.BooleanField("适老化模式", default=False)
    created_at = models.DateTimeField("提交时间")

    class Meta:
        verbose_name = verbose_name_plural = "门户诉求"
