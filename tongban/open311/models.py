"""Open311 GeoReport v2: API clients and their keys, per-service settings and attributes,
what each client submitted (tokens, device and account ids, media URLs) and the updates
clients posted back. Cases themselves live in the kernel; these rows only point at them."""
from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from tongban.cases.models import Case, CaseEvent, CaseType, Category

# A key's first characters, kept in clear so that administrators can tell keys apart.
PREFIX_LENGTH = 8
# last_used_at is written at most this often per client, so a busy client does not write on every call.
TOUCH_EVERY_SECONDS = 60


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ApiClient(models.Model):
    """A 311 application allowed to submit requests (FixMyStreet, a city app…). Only a SHA-256
    digest of its api_key is stored; the key is shown once, when it is issued."""

    name = models.CharField("名称", max_length=64, unique=True, help_text="例如“FixMyStreet 青溪”")
    contact = models.CharField("联系人/联系方式", max_length=128, blank=True)
    prefix = models.CharField("密钥前缀", max_length=PREFIX_LENGTH, editable=False)
    key_hash = models.CharField("密钥摘要", max_length=64, unique=True, editable=False, help_text="api_key 的 SHA-256 摘要；密钥本身不保存")
    active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now, editable=False)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "Open311 接入应用"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def set_key(self, key: str | None = None) -> str:
        """Give the client a new key (random unless given); returns it. The caller saves."""
        key = key or secrets.token_urlsafe(24)
        self.key_hash, self.prefix = digest(key), key[:PREFIX_LENGTH]
        return key

    @classmethod
    def issue(cls, name: str, *, contact: str = "", key: str | None = None) -> tuple["ApiClient", str]:
        client = cls(name=name.strip()[:64], contact=contact[:128])
        key = client.set_key(key)
        client.full_clean()
        client.save()
        return client, key

    @classmethod
    def lookup(cls, key: str) -> "ApiClient | None":
        """The active client holding `key`, or None."""
        if not key or len(key) > 256:
            return None
        client = cls.objects.filter(key_hash=digest(key), active=True).first()
        now = timezone.now()
        if client is not None and (client.last_used_at is None or (now - client.last_used_at).total_seconds() >= TOUCH_EVERY_SECONDS):
            cls.objects.filter(pk=client.pk).update(last_used_at=now)
            client.last_used_at = now
        return client


class Service(models.Model):
    """Settings of one Open311 service (a level-2 诉求分类). Optional: a category without a row
    is offered with the defaults (its sub-categories as keywords, no attributes)."""

    category = models.OneToOneField(Category, on_delete=models.CASCADE, related_name="open311", verbose_name="诉求分类",
                                    limit_choices_to={"level": 2})
    description = models.CharField("说明", max_length=400, blank=True, help_text="留空则列出其下的三级分类")
    keywords = models.CharField("关键词", max_length=400, blank=True, help_text="逗号分隔；留空则用三级分类名称")
    service_notice = models.CharField("受理提示", max_length=400, blank=True, help_text="提交成功后返回给应用的说明；留空则按诉求类型的办理时限生成")
    case_type = models.ForeignKey(CaseType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="诉求类型",
                                  limit_choices_to={"workflow": "hotline"}, help_text="留空则为“求助”")
    location_required = models.BooleanField("须提供位置", default=True, help_text="经纬度、地址或地址编码至少一项")
    active = models.BooleanField("对外提供", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "Open311 服务"
        ordering = ["category__full_name"]

    def __str__(self) -> str:
        return self.category.full_name

    def clean(self):
        if self.category_id and self.category.level != 2:
            raise ValidationError({"category": "Open311 服务对应二级诉求分类。"})


class Datatype(models.TextChoices):
    STRING = "string", "单行文字"
    NUMBER = "number", "数字"
    DATETIME = "datetime", "日期时间"
    TEXT = "text", "多行文字"
    SINGLE = "singlevaluelist", "单选"
    MULTI = "multivaluelist", "多选"


LIST_TYPES = (Datatype.SINGLE, Datatype.MULTI)


class Attribute(models.Model):
    """An extra question of a service (GeoReport v2 service definition attribute)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="attributes", verbose_name="服务")
    code = models.SlugField("代码", max_length=64, help_text="字母、数字、下划线或连字符；应用以 attribute[代码] 提交")
    datatype = models.CharField("类型", max_length=16, choices=Datatype.choices, default=Datatype.STRING)
    required = models.BooleanField("必填", default=False)
    variable = models.BooleanField("需要填写", default=True, help_text="不勾选表示仅向群众展示说明文字")
    order = models.PositiveSmallIntegerField("顺序", default=1)
    description = models.CharField("问题/说明", max_length=400)
    datatype_description = models.CharField("填写提示", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "Open311 服务属性"
        ordering = ["service", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["service", "code"], name="open311_attribute_code"),
            models.UniqueConstraint(fields=["service", "order"], name="open311_attribute_order"),
        ]

    def __str__(self) -> str:
        return f"{self.code}（{self.description}）"


class AttributeValue(models.Model):
    """One option of a singlevaluelist / multivaluelist attribute."""

    attribute = models.ForeignKey(Attribute, on_delete=models.CASCADE, related_name="values", verbose_name="属性")
    key = models.CharField("值", max_length=64)
    name = models.CharField("显示名称", max_length=200)
    order = models.PositiveSmallIntegerField("顺序", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "Open311 属性选项"
        ordering = ["attribute", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["attribute", "key"], name="open311_value_key")]

    def __str__(self) -> str:
        return self.name


class Submission(models.Model):
    """A case created through POST requests: who sent it and what came with it besides the case
    fields. Personal data here (e-mail, device, account) is never returned by the API."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="open311", verbose_name="工单")
    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="submissions", verbose_name="接入应用")
    token = models.CharField("令牌", max_length=32, unique=True)
    fingerprint = models.CharField("请求摘要", max_length=64, unique=True, help_text="同一应用重复提交相同内容只生成一件工单")
    email = models.CharField("电子邮箱", max_length=254, blank=True)
    phone = models.CharField("原始电话", max_length=64, blank=True, help_text="格式无法识别、未写入工单的电话")
    device_id = models.CharField("设备号", max_length=128, blank=True)
    account_id = models.CharField("账号", max_length=128, blank=True)
    address_id = models.CharField("地址编码", max_length=64, blank=True)
    media_urls = models.JSONField("媒体链接", default=list, blank=True)
    attributes = models.JSONField("属性", default=dict, blank=True)
    created_at = models.DateTimeField("提交时间")

    class Meta:
        verbose_name = verbose_name_plural = "Open311 提交记录"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.case.number}（{self.client}）"

    @staticmethod
    def new_token() -> str:
        return secrets.token_hex(8)


class ClientUpdate(models.Model):
    """An update a client posted (POST servicerequestupdates): a citizen's comment or status."""

    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="updates", verbose_name="接入应用")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+", verbose_name="工单")
    event = models.ForeignKey(CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="工单事件")
    external_id = models.CharField("应用侧编号", max_length=64, blank=True)
    status = models.CharField("状态", max_length=32, blank=True)
    description = models.TextField("内容", blank=True)
    author = models.CharField("提交人", max_length=128, blank=True)
    email = models.CharField("电子邮箱", max_length=254, blank=True)
    media_url = models.CharField("媒体链接", max_length=500, blank=True)
    updated_at = models.DateTimeField("应用侧时间", null=True, blank=True)
    received_at = models.DateTimeField("接收时间")

    class Meta:
        verbose_name = verbose_name_plural = "Open311 回传更新"
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["client", "external_id"], condition=~models.Q(external_id=""),
                                               name="open311_update_once")]

    def __str__(self) -> str:
        return f"{self.case.number} {self.status}"
