"""智能派单: 权责清单 routing rules, the auto-dispatch switch, labels from dispatch corrections,
model versions, and the suggestions shown for a case."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from tongban.cases.models import Case, Category
from tongban.core.models import Level, Unit


class RuleLevel(models.IntegerChoices):
    """The jurisdiction level a rule routes to (县级部门 or one of the 属地 levels)."""

    COUNTY = Level.COUNTY, "县级部门"
    TOWN = Level.TOWN, "乡镇/街道"
    VILLAGE = Level.VILLAGE, "村/社区"
    GRID = Level.GRID, "网格"


class RoutingRule(models.Model):
    """权责清单 entry: requests of a category and/or with a keyword belong to a unit.

    A 属地 rule names no unit: the unit is the one answering for the request's place at the rule's
    level (乡镇/街道, 村/社区 or 网格), found from the address via `core.places`."""

    name = models.CharField("事项名称", max_length=100)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="诉求分类",
                                 help_text="含下级分类；留空则只看关键词")
    keywords = models.CharField("关键词", max_length=300, blank=True, help_text="任一出现在标题或内容中即命中；用空格、逗号或顿号分隔")
    level = models.PositiveSmallIntegerField("层级", choices=RuleLevel.choices, default=RuleLevel.COUNTY)
    territorial = models.BooleanField("属地办理", default=False, help_text="按地址找该层级的属地单位，不指定单位")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="承办单位")
    priority = models.SmallIntegerField("优先级", default=0, help_text="数字大的优先")
    active = models.BooleanField("启用", default=True)
    note = models.CharField("依据/说明", max_length=200, blank=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   verbose_name="修改人")

    class Meta:
        verbose_name = verbose_name_plural = "权责清单规则"
        ordering = ["-active", "-priority", "name", "id"]

    def __str__(self) -> str:
        return self.name

    def keyword_list(self) -> list[str]:
        text = self.keywords
        for sep in "，,、;；\n\t":
            text = text.replace(sep, " ")
        return [k for k in text.split(" ") if k]

    def target_label(self) -> str:
        if self.territorial:
            return f"属地：{self.get_level_display()}"
        return str(self.unit) if self.unit_id else "—"


class AutoDispatchSettings(models.Model):
    """Singleton (pk=1): whether confident suggestions are dispatched without a dispatcher, and
    which model version is in use (one row read with the rest of the routing directory)."""

    enabled = models.BooleanField("启用自动派单", default=False)
    threshold = models.FloatField("置信度阈值", default=0.9, help_text="最优建议的置信度不低于此值时自动派单（0.5–1）")
    model = models.ForeignKey("ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              verbose_name="当前模型版本")
    updated_at = models.DateTimeField("修改时间", auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "自动派单设置"

    @classmethod
    def get(cls) -> "AutoDispatchSettings":
        """The settings row (unsaved defaults until an administrator saves them)."""
        return cls.objects.select_related("model").filter(pk=1).first() or cls(pk=1)


class LabelSource(models.TextChoices):
    REASSIGN = "reassign", "改派"
    RETURN = "return", "退回"
    OVERRIDE = "override", "派单员改选"


class DispatchLabel(models.Model):
    """A routing correction kept for training: the right unit (when known) for a request's text."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    text = models.TextField("诉求文本")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="分类")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="正确单位")
    wrong_unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="错派单位")
    source = models.CharField("来源", max_length=16, choices=LabelSource.choices)
    note = models.CharField("理由", max_length=300, blank=True)
    created_at = models.DateTimeField("时间")

    class Meta:
        verbose_name = verbose_name_plural = "派单纠错样本"
        ordering = ["-created_at", "-id"]


class ModelVersion(models.Model):
    """One trained routing model: its file, data sizes and held-out evaluation."""

    number = models.PositiveIntegerField("版本", unique=True)
    created_at = models.DateTimeField("训练时间")
    file = models.CharField("模型文件", max_length=200)
    trigger = models.CharField("触发", max_length=16, default="manual")  # manual / nightly / demo / file
    source = models.CharField("数据", max_length=200, default="database")
    n_cases = models.PositiveIntegerField("办结工单数", default=0)
    n_labels = models.PositiveIntegerField("纠错样本数", default=0)
    n_train = models.PositiveIntegerField("训练条数", default=0)
    n_test = models.PositiveIntegerField("留出评估条数", default=0)
    category_accuracy = models.FloatField("分类准确率", null=True)
    category_f1 = models.FloatField("分类宏平均F1", null=True)
    unit_accuracy = models.FloatField("派单准确率", null=True)
    unit_f1 = models.FloatField("派单宏平均F1", null=True)
    unit_top3 = models.FloatField("派单前三命中率", null=True)
    train_seconds = models.FloatField("训练耗时（秒）", default=0)
    file_bytes = models.PositiveBigIntegerField("文件大小", default=0)
    sha256 = models.CharField(max_length=64, blank=True)  # checked before loading the file
    note = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "派单模型版本"
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"v{self.number}"

    @property
    def trigger_label(self) -> str:
        return {"manual": "手动", "nightly": "夜间", "demo": "示范", "file": "文件"}.get(self.trigger, self.trigger)


class Suggestion(models.Model):
    """The top suggestions made for a case (at intake or when the queue first showed it): what a
    dispatcher's choice is compared with to record an override."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="+", primary_key=True)
    unit = models.ForeignKey(Unit, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name="首选单位")
    confidence = models.FloatField("置信度", default=0)
    items = models.JSONField("建议", default=list)  # [{"unit": id, "name", "score", "reason"}] best first
    category = models.JSONField("预测分类", default=dict)
    model_version = models.PositiveIntegerField("模型版本", null=True)
    auto = models.BooleanField("已自动派单", default=False)
    created_at = models.DateTimeField("时间")

    class Meta:
        verbose_name = verbose_name_plural = "派单建议"
