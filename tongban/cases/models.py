"""The case kernel (案件内核): every demand that moves through the government is a Case.

A Case row is the projection of its append-only CaseEvent log; Assignment records which unit
held it when. Workflows (states and transitions) are data registered by the domains.
"""
from __future__ import annotations

import copy

from django.conf import settings
from django.db import models

from tongban.core.models import Region, Unit
from tongban.core.pii import mask_name, mask_phone
from tongban.core.recent import Recent

from . import workflow as wf


class LimitUnit(models.TextChoices):
    WORKING_HOURS = "hours", "工作小时"
    WORKING_DAYS = "days", "工作日"


class CaseType(models.Model):
    """案件类型: which workflow it follows and its time limits per stage."""

    code = models.CharField("代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=32)
    workflow = models.CharField("流程", max_length=32)
    sign_limit = models.PositiveIntegerField("签收时限", default=1)
    sign_limit_unit = models.CharField("签收时限单位", max_length=8, choices=LimitUnit.choices, default=LimitUnit.WORKING_DAYS)
    finish_limit_days = models.PositiveIntegerField("办结时限（工作日）", default=5)
    redo_limit_days = models.PositiveIntegerField("重办时限（工作日）", default=5)
    max_extensions = models.PositiveSmallIntegerField("最多延期次数", default=1)
    max_extension_days = models.PositiveSmallIntegerField("单次最多延期（工作日）", default=5)
    active = models.BooleanField("启用", default=True)
    ordering = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "案件类型"
        ordering = ["ordering", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def machine(self) -> wf.Workflow:
        return wf.get(self.workflow)

    @classmethod
    def usable(cls, code: str, workflow: str) -> "CaseType | None":
        """The active type `code` of `workflow`, or None. Read on every intake, so each process
        remembers the rows for TONGBAN_REFERENCE_CACHE_SECONDS (an edit clears it here at once)."""
        found = _by_code.fetch(code, lambda: cls.objects.filter(code=code).first())
        return copy.copy(found) if found is not None and found.active and found.workflow == workflow else None


_by_code = Recent("case-types", "TONGBAN_REFERENCE_CACHE_SECONDS", watch=(CaseType,))


class Category(models.Model):
    """三级分类 (taxonomy). `full_name` is "一级/二级/三级"."""

    name = models.CharField("名称", max_length=64)
    level = models.PositiveSmallIntegerField("级别")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name="上级分类")
    full_name = models.CharField("完整名称", max_length=200, unique=True)
    default_unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="默认承办单位")
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "诉求分类"
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name

    def top(self) -> "Category":
        node = self
        while node.parent_id:
            node = node.parent
        return node


class Channel(models.TextChoices):
    PHONE = "phone", "电话"
    WEB = "web", "网站"
    H5 = "h5", "移动端H5"
    QR = "qr", "扫码门牌"
    GRID = "grid", "网格员上报"
    WINDOW = "window", "综合窗口"
    ENTERPRISE = "enterprise", "企业之家"
    API = "api", "接口"


class Case(models.Model):
    number = models.CharField("编号", max_length=20, unique=True)
    case_type = models.ForeignKey(CaseType, on_delete=models.PROTECT, related_name="cases", verbose_name="类型")
    channel = models.CharField("渠道", max_length=16, choices=Channel.choices, default=Channel.PHONE)
    title = models.CharField("标题", max_length=200)
    content = models.TextField("诉求内容")
    requester_name = models.CharField("诉求人", max_length=64, blank=True)
    requester_phone = models.CharField("联系电话", max_length=20, blank=True, db_index=True)
    address = models.CharField("地址", max_length=200, blank=True)
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="属地")
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases", verbose_name="分类")

    state = models.CharField("状态", max_length=24)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="held_cases", verbose_name="主办单位")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="受理人")
    created_at = models.DateTimeField("受理时间")
    updated_at = models.DateTimeField("更新时间")
    dispatched_at = models.DateTimeField("派单时间", null=True, blank=True)
    sign_due_at = models.DateTimeField("签收期限", null=True, blank=True)
    due_at = models.DateTimeField("办结期限", null=True, blank=True)
    warn_at = models.DateTimeField("预警时间", null=True, blank=True, help_text="剩余不足一个工作日的时刻（黄灯）")
    finished_at = models.DateTimeField("办结时间", null=True, blank=True)
    closed_at = models.DateTimeField("结案时间", null=True, blank=True)
    paused_at = models.DateTimeField("挂起时间", null=True, blank=True)
    pause_reason = models.CharField("挂起原因", max_length=200, blank=True)
    extensions_used = models.PositiveSmallIntegerField("已延期次数", default=0)
    extension_request = models.JSONField("待审批延期申请", null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField("重办次数", default=0)
    supervised = models.BooleanField("督办", default=False)
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates", verbose_name="重复件归并至")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               verbose_name="上级案件", help_text="一件事套餐案件下的各事项子案件")
    intake_key = models.CharField("受理幂等键", max_length=64, null=True, blank=True, unique=True, editable=False,
                                  help_text="同一键的重复提交只生成一件工单")
    reply = models.TextField("答复意见", blank=True)
    result = models.CharField("办理结果", max_length=16, blank=True)
    satisfaction = models.CharField("满意度", max_length=16, blank=True)
    last_event_seq = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "工单"
        indexes = [
            models.Index(fields=["unit", "state", "due_at"], name="case_inbox"),
            models.Index(fields=["state", "due_at"], name="case_state_due"),
            models.Index(fields=["-created_at", "-id"], name="case_recent"),
            models.Index(fields=["case_type", "-created_at"], name="case_type_recent"),
            models.Index(fields=["category", "-created_at"], name="case_category_recent"),
            models.Index(fields=["supervised", "state"], name="case_supervised"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def machine(self) -> wf.Workflow:
        return self.case_type.machine

    @property
    def state_label(self) -> str:
        return self.machine.state_label(self.state)

    @property
    def is_open(self) -> bool:
        return self.machine.is_open(self.state)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.requester_phone)

    @property
    def masked_name(self) -> str:
        return mask_name(self.requester_name)

    def light(self, now) -> str:
        """Deadline light: red (overdue), yellow (< 1 working day left), green, or '' (clock stopped)."""
        if self.state not in self.machine.running or not self.due_at:
            return ""
        if now > self.due_at:
            return "red"
        if self.warn_at and now >= self.warn_at:
            return "yellow"
        return "green"


class AssignmentRole(models.TextChoices):
    LEAD = "lead", "主办"
    ASSIST = "assist", "协办"


class AssignmentStatus(models.TextChoices):
    PENDING = "pending", "待签收"
    ACCEPTED = "accepted", "已签收"
    RELAYED = "relayed", "已下派"
    RETURNED = "returned", "已退回"
    DONE = "done", "已完成"


class Assignment(models.Model):
    """Which unit held the case, in which role, from when to when."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="assignments", verbose_name="单位")
    role = models.CharField("角色", max_length=8, choices=AssignmentRole.choices)
    status = models.CharField("状态", max_length=10, choices=AssignmentStatus.choices, default=AssignmentStatus.PENDING)
    sent_by_unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="派出单位")
    assigned_at = models.DateTimeField("派单时间")
    signed_at = models.DateTimeField("签收时间", null=True, blank=True)
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "派单记录"
        indexes = [models.Index(fields=["unit", "case"], name="assignment_unit_case")]
        ordering = ["assigned_at", "id"]

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class CaseEvent(models.Model):
    """Append-only: one row per thing that happened to a case. Never updated, never deleted."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField("序号")
    action = models.CharField("操作", max_length=32)
    from_state = models.CharField("原状态", max_length=24, blank=True)
    to_state = models.CharField("新状态", max_length=24)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="操作人")
    actor_unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="操作单位")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="涉及单位")
    created_at = models.DateTimeField("时间")
    note = models.TextField("说明", blank=True)
    outcome = models.CharField("结果", max_length=16, blank=True)
    on_time = models.BooleanField("按时", null=True)
    solved = models.BooleanField("诉求人认为已解决", null=True)
    payload = models.JSONField("数据", default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "工单事件"
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="event_case_seq")]
        indexes = [models.Index(fields=["action", "created_at", "unit"], name="event_action_time")]
        ordering = ["case", "seq"]

    def save(self, *args, **kwargs):
        if self.pk:
            raise RuntimeError("CaseEvent rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("CaseEvent rows are append-only")

    @property
    def action_label(self) -> str:
        t = self.case.machine.transitions.get(self.action)
        return t.label if t else {"create": "受理"}.get(self.action, self.action)


class Attachment(models.Model):
    """A file attached to a case (photo, scan, PDF). Checked by `cases.attachments.attach`;
    stored under a random name, served only through an access-checked view, never executed."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField("文件", upload_to="attachments/%Y/%m/")
    name = models.CharField("原文件名", max_length=200)
    content_type = models.CharField("类型", max_length=64)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                    verbose_name="上传人")
    created_at = models.DateTimeField("上传时间")

    class Meta:
        verbose_name = verbose_name_plural = "附件"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name
