"""政务服务大厅: 办件 (an Application on a kernel Case), 电子证照, 预约, 好差评.

The kernel Case carries the state, the deadline and the event log; these models carry what a
window needs beyond it: who applied for what, the form, the material checklist, the hall that
received it, who helped, the cross-region leg and the rating.
"""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from stdnum.cn import ric, uscc

from tongban.cases.models import Case
from tongban.core.models import Unit


def validate_id_number(value: str) -> None:
    if not ric.is_valid(value or ""):
        raise ValidationError("身份证号码无效：应为18位，且最后一位校验码正确（X 大写）。")


def validate_uscc(value: str) -> None:
    if not uscc.is_valid(value or ""):
        raise ValidationError("统一社会信用代码无效：应为18位，且校验码正确。")


class Person(models.Model):
    """自然人 (an applicant or licence holder), identified by the 居民身份证号码."""

    name = models.CharField("姓名", max_length=32)
    id_number = models.CharField("身份证号码", max_length=18, unique=True, validators=[validate_id_number])
    phone = models.CharField("手机号", max_length=20, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "自然人"

    def __str__(self) -> str:
        return self.name


class Enterprise(models.Model):
    """法人/企业, identified by the 统一社会信用代码."""

    name = models.CharField("名称", max_length=100)
    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True, validators=[validate_uscc])
    legal_person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="enterprises",
                                     verbose_name="法定代表人")

    class Meta:
        verbose_name = verbose_name_plural = "企业"

    def __str__(self) -> str:
        return self.name


class LicenceStatus(models.TextChoices):
    VALID = "valid", "有效"
    REVOKED = "revoked", "已注销"


class Licence(models.Model):
    """电子证照. `kind` is matched against a catalog material's `licence_kind` (e.g. "营业执照")."""

    kind = models.CharField("证照类型", max_length=32, db_index=True)
    number = models.CharField("证照编号", max_length=64)
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.CASCADE, related_name="licences", verbose_name="持证人（个人）")
    enterprise = models.ForeignKey(Enterprise, null=True, blank=True, on_delete=models.CASCADE, related_name="licences",
                                   verbose_name="持证主体（企业）")
    issuer = models.CharField("发证机关", max_length=64)
    valid_from = models.DateField("有效期起")
    valid_to = models.DateField("有效期至", null=True, blank=True, help_text="空表示长期有效")
    status = models.CharField("状态", max_length=8, choices=LicenceStatus.choices, default=LicenceStatus.VALID)
    file = models.FileField("证照文件", upload_to="licences/%Y/", blank=True)
    source = models.CharField("来源", max_length=8, choices=[("issued", "本系统办结签发"), ("imported", "导入")], default="imported")
    issued_by_case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="签发办件")
    created_at = models.DateTimeField("入库时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "电子证照"
        constraints = [
            models.UniqueConstraint(fields=["kind", "number"], name="licence_kind_number"),
            models.CheckConstraint(condition=models.Q(person__isnull=False) | models.Q(enterprise__isnull=False), name="licence_has_holder"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.number}"

    @property
    def holder(self):
        return self.enterprise or self.person

    def is_valid_on(self, day: dt.date) -> bool:
        return self.status == LicenceStatus.VALID and self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class Mode(models.TextChoices):
    WINDOW = "window", "窗口办理"
    ONLINE = "online", "全程网办"
    PROXY = "proxy", "异地代收代办"
    JOINT = "joint", "多地联办"


class HelpReason(models.TextChoices):
    ELDERLY = "elderly", "老年人"
    DISABLED = "disabled", "残疾人"
    MOBILITY = "mobility", "行动不便/患病"
    ENTERPRISE = "enterprise", "重点项目/企业帮办"
    OTHER = "other", "其他"


class Application(models.Model):
    """One 办件 at a window: a single item or a 一件事 package (its sub-cases are `Part`s)."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="application", verbose_name="工单")
    item = models.ForeignKey("catalog.ServiceItem", null=True, blank=True, on_delete=models.PROTECT, related_name="applications",
                             verbose_name="事项")
    package = models.ForeignKey("catalog.Package", null=True, blank=True, on_delete=models.PROTECT, related_name="applications",
                                verbose_name="一件事")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="applications", verbose_name="申请人")
    enterprise = models.ForeignKey(Enterprise, null=True, blank=True, on_delete=models.PROTECT, related_name="applications",
                                   verbose_name="申请单位")
    form = models.JSONField("申请表", default=dict, blank=True)
    hall = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name="受理大厅")
    clerk = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              verbose_name="受理人")
    mode = models.CharField("办理模式", max_length=8, choices=Mode.choices, default=Mode.WINDOW)
    # 帮办代办
    helper = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               verbose_name="帮办代办人")
    help_reason = models.CharField("帮办原因", max_length=12, choices=HelpReason.choices, blank=True)
    consent = models.BooleanField("申请人已同意代办", default=False)
    consent_note = models.CharField("授权说明", max_length=200, blank=True)
    # 容缺受理
    commitment = models.TextField("容缺承诺", blank=True)
    supplement_days = models.PositiveSmallIntegerField("补齐期限（工作日）", null=True, blank=True)
    supplement_due_at = models.DateTimeField("补齐截止", null=True, blank=True, db_index=True)
    # 不予受理
    refusal_reason = models.TextField("不予受理理由", blank=True)
    # 统一窗口出件
    delivery = models.CharField("领取方式", max_length=8, choices=[("window", "窗口领取"), ("mail", "邮寄")], default="window")
    mail_address = models.CharField("邮寄地址", max_length=200, blank=True)
    issued_at = models.DateTimeField("出件时间", null=True, blank=True)
    created_at = models.DateTimeField("受理时间")

    class Meta:
        verbose_name = verbose_name_plural = "办件"
        constraints = [models.CheckConstraint(condition=models.Q(item__isnull=False) | models.Q(package__isnull=False),
                                              name="application_item_or_package")]

    def __str__(self) -> str:
        return f"{self.case.number} {self.subject}"

    @property
    def subject(self) -> str:
        return self.package.name if self.package_id else self.item.name

    @property
    def applicant(self):
        return self.enterprise or self.person

    @property
    def applicant_name(self) -> str:
        return str(self.applicant) if self.applicant else self.case.requester_name


class Part(models.Model):
    """A package's sub-case for one item (并联审批), held by the item's department."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="parts")
    item = models.ForeignKey("catalog.ServiceItem", on_delete=models.PROTECT, related_name="+", verbose_name="事项")
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="part", verbose_name="子工单")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "并联子件"
        ordering = ["order", "id"]


class MaterialState(models.TextChoices):
    PRESENT = "present", "已提交"
    LICENCE = "licence", "电子证照免提交"
    DEFERRED = "deferred", "容缺后补"
    PRODUCED = "produced", "前序事项产出，无需提交"
    MISSING = "missing", "缺"


class MaterialCheck(models.Model):
    """One line of the checklist: a material and how it was satisfied."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="checks")
    key = models.CharField("材料键", max_length=64)
    name = models.CharField("材料名称", max_length=200)
    required = models.BooleanField("必要", default=True)
    deferrable = models.BooleanField("容缺可后补", default=False)
    licence_kind = models.CharField("可替代的电子证照", max_length=32, blank=True)
    state = models.CharField("状态", max_length=8, choices=MaterialState.choices)
    licence = models.ForeignKey(Licence, null=True, blank=True, on_delete=models.SET_NULL, related_name="uses", verbose_name="所用证照")
    supplied_at = models.DateTimeField("补齐时间", null=True, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "材料核验"
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["application", "key"], name="check_application_key")]


class Reminder(models.Model):
    """A scheduled 容缺 reminder; `sent_at` stays empty until the message service took it."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="reminders")
    due_at = models.DateTimeField("提醒时间", db_index=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    outcome = models.CharField("结果", max_length=100, blank=True)
    done = models.BooleanField("已处理", default=False, help_text="已发送，或材料已补齐无需再提醒")

    class Meta:
        verbose_name = verbose_name_plural = "容缺提醒"
        ordering = ["due_at", "id"]


class CrossRegion(models.Model):
    """跨省通办/全域通办: the leg handled by another region's or level's authority (异地代收)."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="cross")
    authority = models.CharField("办理机关", max_length=100)
    region_name = models.CharField("办理地", max_length=64)
    forwarded_at = models.DateTimeField("转递时间", null=True, blank=True)
    forward_ref = models.CharField("转递单号", max_length=64, blank=True)
    remote_status = models.CharField("受理地最新状态", max_length=200, blank=True)
    remote_updated_at = models.DateTimeField("状态更新时间", null=True, blank=True)
    return_method = models.CharField("结果送达", max_length=8, choices=[("mail", "邮寄"), ("window", "窗口领取")], default="window")
    return_tracking = models.CharField("邮件单号", max_length=64, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "跨域办件"


class Slot(models.Model):
    """An appointment slot at a hall's window group (e.g. 综合窗口 09:00–09:30, 6 places)."""

    hall = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+", verbose_name="大厅")
    window_group = models.CharField("窗口组", max_length=32)
    day = models.DateField("日期")
    start = models.TimeField("开始")
    end = models.TimeField("结束")
    capacity = models.PositiveSmallIntegerField("可约人数")

    class Meta:
        verbose_name = verbose_name_plural = "预约时段"
        ordering = ["day", "start", "window_group"]
        constraints = [models.UniqueConstraint(fields=["hall", "window_group", "day", "start"], name="slot_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.start:%H:%M}-{self.end:%H:%M} {self.window_group}"


class BookingStatus(models.TextChoices):
    BOOKED = "booked", "已预约"
    CANCELLED = "cancelled", "已取消"
    ARRIVED = "arrived", "已到号"


class Booking(models.Model):
    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="bookings")
    name = models.CharField("姓名", max_length=32)
    phone = models.CharField("手机号", max_length=20)
    subject = models.CharField("办理事项", max_length=100, blank=True)
    code = models.CharField("预约号", max_length=12, unique=True)
    status = models.CharField("状态", max_length=10, choices=BookingStatus.choices, default=BookingStatus.BOOKED)
    created_at = models.DateTimeField("预约时间")

    class Meta:
        verbose_name = verbose_name_plural = "预约"
        ordering = ["slot__day", "slot__start", "id"]


class Level(models.IntegerChoices):
    VERY_GOOD = 5, "非常满意"
    GOOD = 4, "满意"
    FAIR = 3, "基本满意"
    BAD = 2, "不满意"
    VERY_BAD = 1, "非常不满意"


BAD_LEVELS = (Level.BAD, Level.VERY_BAD)


class Evaluation(models.Model):
    """好差评 of one 办件; a 差评 (不满意 or worse) opens a 整改 case."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="evaluation")
    level = models.PositiveSmallIntegerField("评价", choices=Level.choices)
    reasons = models.JSONField("原因", default=list, blank=True)
    comment = models.TextField("意见", blank=True)
    channel = models.CharField("评价渠道", max_length=8, choices=[("device", "窗口评价器"), ("link", "短信链接")])
    created_at = models.DateTimeField("评价时间")
    rectify_case = models.OneToOneField(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="rectified_evaluation",
                                        verbose_name="整改工单")

    class Meta:
        verbose_name = verbose_name_plural = "好差评"

    @property
    def is_bad(self) -> bool:
        return self.level in BAD_LEVELS
