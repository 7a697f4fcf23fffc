"""知识库: articles the hotline answers from, their versions, uses, synonyms and the search index.

The search index (`ArticleIndex`) holds pre-tokenised text; the database does candidate retrieval
(FTS5 on SQLite, a `tsvector` column with a GIN index on PostgreSQL, both created in migration 0002)
and `search.py` does the final BM25 scoring in Python, so both databases rank identically.
"""
from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.conf import settings
from django.db import models

from tongban.cases.models import Case, Category
from tongban.core.models import Region, Unit


class Status(models.TextChoices):
    DRAFT = "draft", "草稿"
    PENDING = "pending", "待审核"
    PUBLISHED = "published", "已发布"
    RETIRED = "retired", "已下线"


class Article(models.Model):
    title = models.CharField("标题", max_length=200)
    questions = models.TextField("常见问法", blank=True, help_text="每行一种问法")
    answer = models.TextField("答案", help_text="纯文本，空行分段")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="分类")
    keywords = models.CharField("关键词", max_length=500, blank=True, help_text="逗号或空格分隔，可含同义词")
    owner = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="kb_articles", verbose_name="归属单位")
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="适用区划")
    valid_from = models.DateField("生效日期", null=True, blank=True)
    valid_to = models.DateField("失效日期", null=True, blank=True)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    review_due = models.DateField("复核到期日", null=True, blank=True, db_index=True)
    reviewed_at = models.DateTimeField("上次复核", null=True, blank=True)
    uses = models.PositiveIntegerField("使用次数", default=0)
    direct_answers = models.PositiveIntegerField("直接答复次数", default=0)
    key = models.CharField("外部编号", max_length=64, blank=True, db_index=True, help_text="导入/种子数据的稳定编号")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "知识条目"
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def question_list(self) -> list[str]:
        return [q.strip() for q in self.questions.splitlines() if q.strip()]

    @property
    def keyword_list(self) -> list[str]:
        import re

        return [k for k in re.split(r"[,，、;；\s]+", self.keywords) if k]

    @property
    def direct_rate(self) -> float | None:
        return self.direct_answers / self.uses if self.uses else None

    def is_valid_on(self, day) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or self.valid_to >= day)


class ArticleVersion(models.Model):
    """Append-only: one snapshot per save."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField("版本号")
    action = models.CharField("操作", max_length=32)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="操作人")
    at = models.DateTimeField("时间")
    changed = models.JSONField("变更字段", default=list)
    values = models.JSONField("内容快照", default=dict)

    class Meta:
        verbose_name = verbose_name_plural = "知识版本"
        ordering = ["article", "-number"]
        constraints = [models.UniqueConstraint(fields=["article", "number"], name="kb_version_number")]

    @property
    def action_label(self) -> str:
        from .services import TRANSITIONS  # the moves live with the rules

        move = TRANSITIONS.get(self.action)
        return move.label if move else {"create": "新建", "edit": "修改", "review": "复核确认"}.get(self.action, self.action)

    @property
    def changed_labels(self) -> list[str]:
        labels = []
        for name in self.changed:
            try:
                labels.append(str(Article._meta.get_field(name).verbose_name))
            except FieldDoesNotExist:  # a field that no longer exists keeps its code
                labels.append(name)
        return labels

    def save(self, *args, **kwargs):
        if self.pk:
            raise RuntimeError("ArticleVersion rows are append-only")
        super().save(*args, **kwargs)


class UseKind(models.TextChoices):
    ANSWER = "answer", "用于答复"
    VIEW = "view", "查看"


class ArticleUse(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="use_log")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()
    kind = models.CharField(max_length=8, choices=UseKind.choices)

    class Meta:
        verbose_name = verbose_name_plural = "知识使用记录"
        indexes = [models.Index(fields=["article", "-at"], name="kb_use_article")]


class Synonym(models.Model):
    """One group of interchangeable terms, e.g. “社保 社会保险”."""

    terms = models.CharField("同义词组", max_length=300, help_text="空格或逗号分隔，如：社保 社会保险")
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "同义词"
        ordering = ["id"]

    def __str__(self) -> str:
        return " ↔ ".join(self.term_list)

    @property
    def term_list(self) -> list[str]:
        import re

        return [t.strip().lower() for t in re.split(r"[,，、;；\s↔=]+", self.terms) if t.strip()]


class ArticleIndex(models.Model):
    """Pre-tokenised text of one article (space-joined rjieba tokens) plus the filter columns."""

    article = models.OneToOneField(Article, primary_key=True, on_delete=models.CASCADE, related_name="index_row")
    status = models.CharField(max_length=16)
    valid_from = models.DateField(null=True)
    valid_to = models.DateField(null=True)
    title_tokens = models.TextField(default="")
    question_tokens = models.TextField(default="")
    body_tokens = models.TextField(default="")
    tokens = models.TextField(default="", help_text="all tokens, for the database's full-text match")
    length = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["status", "valid_to"], name="kb_index_status")]


class Term(models.Model):
    """Document frequency of one token over the index (and totals under keys '#docs', '#len')."""

    token = models.CharField(max_length=64, primary_key=True)
    df = models.BigIntegerField(default=0)
