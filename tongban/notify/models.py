"""消息通知: administrator-editable templates, an outbox that is the single source of what was sent,
and in-site messages for staff."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Channel(models.TextChoices):
    SMS = "sms", "短信"
    EMAIL = "email", "电子邮件"
    SITE = "site", "站内消息"


class Template(models.Model):
    """One wording per (code, channel). `{placeholders}` are filled from the caller's context."""

    code = models.CharField("模板代码", max_length=32)
    name = models.CharField("名称", max_length=32)
    channel = models.CharField("渠道", max_length=8, choices=Channel.choices)
    subject = models.CharField("标题", max_length=120, blank=True, help_text="电子邮件主题、站内消息标题；短信不用")
    body = models.TextField("正文")
    active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "通知模板"
        constraints = [models.UniqueConstraint(fields=["code", "channel"], name="notify_template_code_channel")]
        ordering = ["code", "channel"]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_channel_display()}）"


class Status(models.TextChoices):
    PENDING = "pending", "待发送"
    SENDING = "sending", "发送中"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"
    CANCELLED = "cancelled", "已取消"


class Outbox(models.Model):
    """One message to one recipient on one channel. Written in the caller's transaction, delivered
    after commit; a row is claimed before sending so two workers never send it both."""

    channel = models.CharField("渠道", max_length=8, choices=Channel.choices)
    recipient = models.CharField("接收方", max_length=254, help_text="手机号、邮箱或工作人员账号")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name="接收人")
    template_code = models.CharField("模板代码", max_length=32)
    subject = models.CharField("标题", max_length=200, blank=True)
    body = models.TextField("内容")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="工单")
    dedupe_key = models.CharField("去重键", max_length=120, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试时间")
    last_error = models.CharField("最近错误", max_length=500, blank=True)
    provider_id = models.CharField("网关回执号", max_length=100, blank=True)
    created_at = models.DateTimeField("创建时间")
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "发件箱"
        constraints = [models.UniqueConstraint(fields=["dedupe_key", "channel", "recipient"], condition=~Q(dedupe_key=""),
                                               name="outbox_dedupe")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due"),
                   models.Index(fields=["-created_at", "-id"], name="outbox_recent")]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.recipient}"

    @property
    def masked_recipient(self) -> str:
        from tongban.core.pii import mask_phone

        return mask_phone(self.recipient) if self.channel == Channel.SMS else self.recipient


class Message(models.Model):
    """站内消息 for a staff member."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="messages", verbose_name="接收人")
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="工单")
    outbox = models.OneToOneField(Outbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="message")
    created_at = models.DateTimeField("时间")
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "站内消息"
        indexes = [models.Index(fields=["user", "read_at"], name="message_unread")]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title
