"""知识库 pages: staff list/edit/review, the console's suggestion partial, and the public 办事指南."""
from __future__ import annotations


from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tongban.audit.services import record as audit
from tongban.cases import access
from tongban.cases.models import Case, Category
from tongban.core.models import Unit
from tongban.core.places import locate
from tongban.web.export import xlsx_response

from . import search, services, xlsx
from .forms import ArticleForm, ImportForm
from .models import Article, Status, Term

PAGE = 50


def _filtered(request):
    """The staff list's queryset and the filter values, from GET."""
    g = request.GET
    f = {"q": g.get("q", "").strip(), "status": g.get("status", ""), "category": g.get("category", ""),
         "owner": g.get("owner", ""), "overdue": g.get("overdue", "") == "1", "mine": g.get("mine", "") == "1"}
    qs = Article.objects.select_related("category", "owner", "region")
    if f["status"] in Status.values:
        qs = qs.filter(status=f["status"])
    if f["category"].isdigit():
        cat = Category.objects.filter(pk=f["category"]).first()
        if cat:
            qs = qs.filter(category__full_name__startswith=cat.full_name)
    if f["owner"].isdigit():
        qs = qs.filter(owner_id=int(f["owner"]))
    if f["mine"] and request.user.unit_id:
        qs = qs.filter(owner_id=request.user.unit_id)
    if f["overdue"]:
        qs = qs.filter(pk__in=services.overdue_reviews().values("pk"))
    hits = {}
    if f["q"]:
        ranked = search.rank(f["q"], public=False, statuses=[f["status"]] if f["status"] in Status.values else None, limit=500)
        order = [r[0] for r in ranked]
        hits = {r[0]: r[2] for r in ranked}
        items = {a.pk: a for a in qs.filter(pk__in=order)}
        articles = [items[i] for i in order if i in items]
    else:
        articles = list(qs.order_by("-updated_at", "-id")[:2000])
    return articles, f, hits


@login_required
def article_list(request):
    articles, f, hits = _filtered(request)
    for a in articles[:PAGE]:
        a.title_html = search.highlight(a.title, hits.get(a.pk, ()))
    return render(request, "knowledge/list.html", {
        "articles": articles[:PAGE], "total": len(articles), "f": f, "statuses": Status.choices,
        "categories": Category.objects.filter(level=1).order_by("full_name"),
        "units": Unit.objects.filter(pk__in=Article.objects.values("owner")).order_by("path"),
        "query": request.GET.urlencode(), "can_create": services.can_create(request.user),
        "overdue_count": services.overdue_reviews(None if services.is_reviewer(request.user) else request.user.unit).count(),
    })


@login_required
def article_export(request):
    articles, _, _ = _filtered(request)
    audit("export", target="知识库", detail={"query": request.GET.urlencode()})
    return xlsx_response("知识库.xlsx", "知识库", xlsx.EXPORT_HEADERS, xlsx.export_rows(articles))


@login_required
def article_import(request):
    if not services.can_create(request.user):
        raise Http404
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        status = Status.PENDING if form.cleaned_data["submit"] else Status.DRAFT
        result = xlsx.import_xlsx(form.cleaned_data["file"], by=request.user, status=status)
        if result.ok:
            messages.success(request, f"已导入 {len(result.created)} 条知识。")
            return redirect("kb_list")
    return render(request, "knowledge/import.html", {"form": form, "result": result, "headers": xlsx.HEADERS},
                  status=400 if result and not result.ok else 200)


@login_required
def article_detail(request, pk):
    a = get_object_or_404(Article.objects.select_related("category", "owner", "region", "created_by"), pk=pk)
    uses = list(a.use_log.select_related("by", "case").order_by("-at")[:20])
    in_scope = set(access.visible_cases(request.user).filter(pk__in=[u.case_id for u in uses if u.case_id]).values_list("pk", flat=True))
    for u in uses:
        if u.case_id not in in_scope:
            u.case = None  # another unit's case: not even its number (data scope); shown only, never saved
    return render(request, "knowledge/article.html", {
        "a": a, "versions": a.versions.select_related("by")[:50], "moves": services.allowed_moves(request.user, a),
        "can_edit": services.can_edit(request.user, a), "today": services.today(), "uses": uses,
    })


@login_required
def article_edit(request, pk=None):
    article = get_object_or_404(Article, pk=pk) if pk else None
    user = request.user
    if article is not None and not services.can_edit(user, article):
        messages.error(request, "只有归属单位或热线中心审核人员才能修改该知识条目。")
        return redirect("kb_article", pk=article.pk)
    if article is None and not services.can_create(user):
        raise Http404
    reviewer = services.is_reviewer(user)
    form = ArticleForm(request.POST or None, instance=article, user=user, reviewer=reviewer)
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data.get(k) for k in services.FIELDS}
        try:
            saved = services.save_article(article, data, by=user)
        except ValidationError as exc:
            for k, msgs in exc.message_dict.items():
                form.add_error(k if k in form.fields else None, msgs)
        except access.AccessDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "已保存。")
            return redirect("kb_article", pk=saved.pk)
    return render(request, "knowledge/edit.html", {"form": form, "a": article},
                  status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def article_move(request, pk):
    a = get_object_or_404(Article, pk=pk)
    action = request.POST.get("action", "")
    try:
        if action == "reviewed":
            services.mark_reviewed(a, by=request.user)
            messages.success(request, "已记录复核。")
        else:
            a = services.transition(a, action, by=request.user)
            messages.success(request, f"已{services.TRANSITIONS[action].label}。")
    except access.AccessDenied as exc:
        messages.error(request, str(exc))
    return redirect("kb_article", pk=pk)


@login_required
def review_due(request):
    """复核到期: the owner unit's published articles whose review date has passed (the centre sees all)."""
    user = request.user
    unit = None if services.is_reviewer(user) else user.unit
    if unit is None and not services.is_reviewer(user):
        articles = Article.objects.none()
    else:
        articles = services.overdue_reviews(unit)
    return render(request, "knowledge/review.html", {"articles": articles, "unit": unit, "today": services.today()})


# ---------------------------------------------------------------- console pieces

def similar_cases(user, q: str, limit: int = 3) -> list[Case]:
    """Closed cases (with a reply) in the caller's data scope that share the query's rarest words."""
    tokens = list(dict.fromkeys(t for t in search.tokenize(q) if len(t) >= 2))
    if not tokens:
        return []
    df = dict(Term.objects.filter(token__in=tokens).values_list("token", "df"))
    rare = sorted(tokens, key=lambda t: (df.get(t, 0), -len(t), t))[:3]
    cond = Q()
    for t in rare:
        cond |= Q(title__icontains=t) | Q(content__icontains=t)
    found = list(access.visible_cases(user).filter(cond, state="closed").exclude(reply="")
                 .only("number", "title", "content", "reply", "closed_at").order_by("-closed_at", "-id")[:50])
    scored = sorted(found, key=lambda c: (-sum(t in c.title or t in c.content for t in tokens), -c.closed_at.timestamp(), c.pk))
    return scored[:limit]


@login_required
def suggest(request):
    """htmx partial for the operator console: the best 5 published articles and 3 similar closed cases."""
    g = request.GET
    q = (g.get("q") or f"{g.get('title', '')} {g.get('content', '')}").strip()[:500]  # console: hx-include title, content
    hits = search.search(q, public=True, limit=5, region=locate(q)) if q else []  # the caller's place, if named
    cases = similar_cases(request.user, q) if q else []
    if cases:
        terms = [t for c in search.query_concepts(q) for t in c]
        for c in cases:
            c.snippet = search.snippet(c.reply, terms) or search.snippet(c.reply, [])
    return render(request, "knowledge/_suggestions.html", {"hits": hits, "cases": cases, "q": q})


@login_required
@require_POST
def use(request):
    """Record that the operator consulted an article (kind=view); answers are recorded by record_answer."""
    a = get_object_or_404(Article, pk=request.POST.get("article") or 0)
    services.record_view(a, by=request.user)
    return render(request, "knowledge/_used.html", {"a": a})


# ---------------------------------------------------------------- public

def public_search(request):
    q = request.GET.get("q", "").strip()[:200]
    hits = search.search(q, public=True, limit=20) if q else []
    popular = [] if q else list(Article.objects.filter(pk__in=_public_ids()).order_by("-uses", "id")[:10])
    return render(request, "knowledge/public_search.html", {"q": q, "hits": hits, "popular": popular})


def _public_ids():
    today = services.today()
    return Article.objects.filter(status=Status.PUBLISHED).filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=today), Q(valid_to__isnull=True) | Q(valid_to__gte=today)).values("pk")


def public_article(request, pk):
    a = Article.objects.filter(pk__in=_public_ids(), pk=pk).select_related("category", "owner", "region").first()
    if a is None:
        raise Http404("该条目不存在或已下线。")
    return render(request, "knowledge/public_article.html", {"a": a})
