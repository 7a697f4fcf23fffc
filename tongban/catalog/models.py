"""政务服务事项 catalog and 高效办成一件事 packages.

A `ServiceItem` is one 政务服务事项 with its standard fields, its materials (`Material`) and its
application form (`FormField`). A `Package` (一件事) combines items through `PackageItem`; its one
form and one material list are computed by `services.merged_form` / `services.merged_materials`
from the items' common `key`s, so a fact or a document needed by several items is asked for once.
"""
from __future__ import annotations

from django.db import models

from tongban.core.models import Unit


class ItemType(models.TextChoices):
    LICENCE = "licence", "行政许可"
    CONFIRMATION = "confirmation", "行政确认"
    PAYMENT = "payment", "行政给付"
    LEVY = "levy", "行政征收"
    RULING = "ruling", "行政裁决"
    REWARD = "reward", "行政奖励"
    OTHER_POWER = "other_power", "其他行政权力"
    PUBLIC = "public", "公共服务"


class Channel(models.TextChoices):
    ONLINE = "online", "全程网办"
    WINDOW = "window", "窗口办理"
    ONCE = "once", "最多跑一次"
    ZERO = "zero", "零跑动"
    EXPRESS = "express", "邮寄送达"


class FieldKind(models.TextChoices):
    TEXT = "text", "文本"
    NUMBER = "number", "数字"
    DATE = "date", "日期"
    CHOICE = "choice", "选项"
    ID_NUMBER = "id_number", "身份证号"
    USCC = "uscc", "统一社会信用代码"
    PHONE = "phone", "电话"


DAYS = {"max_digits": 5, "decimal_places": 1}


class ServiceItem(models.Model):
    code = models.CharField("事项编码", max_length=64, unique=True)
    name = models.CharField("事项名称", max_length=200)
    item_type = models.CharField("事项类型", max_length=16, choices=ItemType.choices, default=ItemType.LICENCE)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="service_items", verbose_name="实施主体")
    legal_days = models.DecimalField("法定办结时限（工作日）", **DAYS)
    promised_days = models.DecimalField("承诺办结时限（工作日）", **DAYS)
    fee = models.CharField("收费标准", max_length=300, blank=True, help_text="留空表示不收费")
    channels = models.JSONField("办理渠道", default=list, blank=True, help_text="渠道代码列表：online / window / once / zero / express")
    visits = models.PositiveSmallIntegerField("跑动次数", default=1, help_text="单独办理时申请人到现场的次数")
    cross_province = models.BooleanField("跨省通办", default=False)
    all_region = models.BooleanField("全域通办", default=False)
    partner_regions = models.CharField("通办合作地区", max_length=300, blank=True)
    location = models.CharField("办理地点", max_length=200, blank=True)
    phone = models.CharField("咨询电话", max_length=64, blank=True)
    legal_basis = models.TextField("设定依据", blank=True)
    conditions = models.TextField("受理条件", blank=True)
    produces = models.CharField("办结产出的证照", max_length=64, blank=True,
                                help_text="办结后产出的电子证照种类，如 营业执照；同一件事中后续事项需要它时无需申请人提交")
    negative_list = models.BooleanField("负面清单（不进厅办理）", default=False)
    negative_reason = models.CharField("不进厅原因及办理去处", max_length=300, blank=True)
    active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "政务服务事项"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def channel_labels(self) -> list[str]:
        labels = dict(Channel.choices)
        return [labels.get(c, c) for c in self.channels or []]

    @property
    def free(self) -> bool:
        return not self.fee.strip()


class Material(models.Model):
    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="materials", verbose_name="事项")
    key = models.CharField("材料标识", max_length=64, help_text="跨事项通用的材料标识，如 id_card，用于合并去重")
    name = models.CharField("材料名称", max_length=200)
    originals = models.PositiveSmallIntegerField("原件份数", default=1)
    copies = models.PositiveSmallIntegerField("复印件份数", default=0)
    required = models.BooleanField("必要", default=True)
    deferrable = models.BooleanField("容缺可后补", default=False)
    licence_kind = models.CharField("可替代的电子证照", max_length=64, blank=True, help_text="如 居民身份证、营业执照、不动产权证书")
    source = models.CharField("来源渠道", max_length=100, blank=True, help_text="如 申请人自备、政府部门核发")
    note = models.CharField("填写说明", max_length=300, blank=True)
    application_form = models.BooleanField("申请表", default=False, help_text="本事项的申请表；一件事中由合并后的一张申请表代替（一表申请）")
    order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "办理材料"
        ordering = ["item", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["item", "key"], name="catalog_material_item_key")]

    def __str__(self) -> str:
        return self.name


class FormField(models.Model):
    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="fields", verbose_name="事项")
    key = models.CharField("字段标识", max_length=64, help_text="跨事项通用的字段标识，如 applicant_name，用于一表申请合并")
    label = models.CharField("字段名称", max_length=100)
    kind = models.CharField("类型", max_length=16, choices=FieldKind.choices, default=FieldKind.TEXT)
    required = models.BooleanField("必填", default=True)
    choices = models.JSONField("可选项", default=list, blank=True)
    order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "申请表字段"
        ordering = ["item", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["item", "key"], name="catalog_field_item_key")]

    def __str__(self) -> str:
        return self.label


class Package(models.Model):
    """一件事: several items applied for with one form, one set of materials, at one window."""

    code = models.CharField("一件事编码", max_length=64, unique=True)
    name = models.CharField("名称", max_length=200)
    description = models.TextField("说明", blank=True)
    promised_days = models.DecimalField("承诺办结时限（工作日）", **DAYS)
    visits = models.PositiveSmallIntegerField("跑动次数", default=1)
    window = models.CharField("受理窗口", max_length=200, blank=True, help_text="一窗受理的窗口位置")
    items = models.ManyToManyField(ServiceItem, through="PackageItem", related_name="packages", verbose_name="包含事项")
    active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "一件事"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def ordered_items(self) -> list[ServiceItem]:
        return [e.item for e in self.entries.select_related("item__unit").order_by("order", "id")]


class PackageItem(models.Model):
    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="entries", verbose_name="一件事")
    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="package_entries", verbose_name="事项")
    order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "一件事包含的事项"
        ordering = ["package", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["package", "item"], name="catalog_package_item")]

    def __str__(self) -> str:
        return f"{self.package} · {self.item}"
