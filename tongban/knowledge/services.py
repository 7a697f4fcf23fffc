"""知识库 rules: who may edit, the review lifecycle (as data), versions, uses and review dates."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from tongban.cases.access import AccessDenied, is_centre_staff
from tongban.core import clock
from tongban.core.models import Role

from .models import Article, ArticleUse, ArticleVersion, Status, UseKind

REVIEWER_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.SYSADMIN)
REVIEW_DAYS = 365  # 定期复核 period
FIELDS = ("title", "questions", "answer", "category", "keywords", "owner", "region", "valid_from", "valid_to", "review_due")


@dataclass(frozen=True)
class Move:
    label: str
    sources: tuple[str, ...]
    target: str
    actor: str  # "owner": the owner unit or a reviewer; "centre": reviewers only


TRANSITIONS: dict[str, Move] = {
    "submit": Move("提交审核", (Status.DRAFT,), Status.PENDING, "owner"),
    "publish": Move("审核通过并发布", (Status.PENDING,), Status.PUBLISHED, "centre"),
    "reject": Move("退回修改", (Status.PENDING,), Status.DRAFT, "centre"),
    "retire": Move("下线", (Status.PUBLISHED,), Status.RETIRED, "centre"),
    "redraft": Move("重新编辑", (Status.RETIRED,), Status.DRAFT, "owner"),
}


def today() -> date:
    return timezone.localtime(clock.now()).date()


def is_reviewer(user) -> bool:
    """Hotline-centre staff who approve, publish and retire articles."""
    return is_centre_staff(user) and user.has_role(*REVIEWER_ROLES)


def can_edit(user, article: Article) -> bool:
    if not (user and user.is_authenticated) or article.status == Status.RETIRED and not is_reviewer(user):
        return False
    return is_reviewer(user) or (user.unit_id is not None and user.unit_id == article.owner_id)


def can_create(user) -> bool:
    return bool(user and user.is_authenticated and user.unit_id)


def allowed_moves(user, article: Article) -> list[tuple[str, Move]]:
    out = []
    for code, m in TRANSITIONS.items():
        if article.status not in m.sources:
            continue
        if m.actor == "centre" and not is_reviewer(user):
            continue
        if m.actor == "owner" and not (is_reviewer(user) or user.unit_id == article.owner_id):
            continue
        out.append((code, m))
    return out


def snapshot(article: Article) -> dict:
    vals = {}
    for name in (*FIELDS, "status"):
        f = Article._meta.get_field(name)
        v = getattr(article, f.attname)
        vals[name] = v.isoformat() if isinstance(v, date) else v
    return vals


def _version(article: Article, action: str, by, before: dict | None) -> ArticleVersion:
    now_vals = snapshot(article)
    changed = [k for k, v in now_vals.items() if before is None or before.get(k) != v]
    number = (article.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    return ArticleVersion.objects.create(article=article, number=number, action=action, by=by, at=clock.now(),
                                         changed=changed, values=now_vals)


def validate(data: dict) -> dict[str, str]:
    errors = {}
    if not (data.get("title") or "").strip():
        errors["title"] = "请填写标题。"
    elif len(data["title"]) > 200:
        errors["title"] = "标题不能超过200字。"
    if not (data.get("answer") or "").strip():
        errors["answer"] = "请填写答案。"
    if not data.get("owner"):
        errors["owner"] = "请选择归属单位。"
    vf, vt = data.get("valid_from"), data.get("valid_to")
    if vf and vt and vf > vt:
        errors["valid_to"] = "失效日期不能早于生效日期。"
    if len(data.get("keywords") or "") > 500:
        errors["keywords"] = "关键词不能超过500字。"
    return errors


def save_article(article: Article | None, data: dict, *, by, status: str | None = None) -> Article:
    """Create (article=None) or edit. `data` holds FIELDS (model instances for foreign keys).

    Units edit their own articles; reviewers edit any. An owner unit's edit of a published article
    sends it back to 待审核 (the published text changes only through review)."""
    creating = article is None
    if creating:
        if by is not None and not can_create(by):
            raise AccessDenied("只有所属单位的工作人员才能新建知识条目。")
        data.setdefault("owner", getattr(by, "unit", None))
        if by is not None and not is_reviewer(by) and data.get("owner") and data["owner"].pk != by.unit_id:
            raise AccessDenied("只能为本单位新建知识条目。")
    elif by is not None and not can_edit(by, article):
        raise AccessDenied("只有归属单位或热线中心审核人员才能修改该知识条目。")
    merged = {k: data.get(k, None if creating else getattr(article, k)) for k in FIELDS}
    for k in ("title", "questions", "answer", "keywords"):
        merged[k] = (merged[k] or "").strip()
    errors = validate(merged)
    if errors:
        raise ValidationError(errors)
    if not creating and by is not None and not is_reviewer(by) and merged["owner"].pk != article.owner_id:
        raise AccessDenied("不能把知识条目转给其他单位。")
    with transaction.atomic():
        before = None if creating else snapshot(article)
        if creating:
            article = Article(created_by=by, status=status or Status.DRAFT)
        elif status:
            article.status = status
        for k, v in merged.items():
            setattr(article, k, v)
        if not creating and article.status == Status.PUBLISHED and by is not None and not is_reviewer(by):
            article.status = Status.PENDING
        article.save()
        _version(article, "create" if creating else "edit", by, before)
    return article


def transition(article: Article, action: str, *, by, note: str = "") -> Article:
    move = TRANSITIONS.get(action)
    if move is None:
        raise AccessDenied("未知操作。")
    if by is not None and action not in dict(allowed_moves(by, article)):
        if article.status not in move.sources:
            raise AccessDenied(f"当前状态“{article.get_status_display()}”不能执行“{move.label}”。")
        who = "热线中心审核人员" if move.actor == "centre" else "归属单位或热线中心审核人员"
        raise AccessDenied(f"“{move.label}”只能由{who}操作。")
    if article.status not in move.sources:
        raise AccessDenied(f"当前状态“{article.get_status_display()}”不能执行“{move.label}”。")
    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=article.pk)
        before = snapshot(article)
        article.status = move.target
        if move.target == Status.PUBLISHED and not article.review_due:
            article.review_due = today() + timedelta(days=REVIEW_DAYS)
        article.save()
        _version(article, action, by, before)
    return article


def mark_reviewed(article: Article, *, by) -> Article:
    """定期复核 done: the content was checked; the next review is due in REVIEW_DAYS."""
    if by is not None and not can_edit(by, article):
        raise AccessDenied("只有归属单位或热线中心审核人员才能复核该知识条目。")
    with transaction.atomic():
        before = snapshot(article)
        article.review_due = today() + timedelta(days=REVIEW_DAYS)
        article.reviewed_at = clock.now()
        article.save()
        _version(article, "review", by, before)
    return article


def overdue_reviews(unit=None):
    qs = Article.objects.filter(status=Status.PUBLISHED, review_due__lt=today()).select_related("owner", "category")
    if unit is not None:
        qs = qs.filter(owner=unit)
    return qs.order_by("review_due", "id")


def record_answer(article: Article, case=None, by=None) -> None:
    """The operator answered `case` with `article` (直接答复): counts a use and a direct answer."""
    with transaction.atomic():
        Article.objects.filter(pk=article.pk).update(uses=F("uses") + 1, direct_answers=F("direct_answers") + 1)
        ArticleUse.objects.create(article=article, case=case, by=by, at=clock.now(), kind=UseKind.ANSWER)
    article.refresh_from_db(fields=["uses", "direct_answers"])


def record_view(article: Article, by=None, case=None) -> None:
    """Staff opened or consulted the article for a call: counts a use, not a direct answer."""
    with transaction.atomic():
        Article.objects.filter(pk=article.pk).update(uses=F("uses") + 1)
        ArticleUse.objects.create(article=article, case=case, by=by, at=clock.now(), kind=UseKind.VIEW)
    article.refresh_from_db(fields=["uses", "direct_answers"])
