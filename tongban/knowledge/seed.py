"""The shipped article set (data/articles.json): `load_articles()` for the demo and `tongban kb_load`."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from django.db import transaction

from tongban.cases.models import Category
from tongban.core.models import Unit, UnitKind

from . import services
from .models import Article, Status

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "articles.json"


def read_articles(path=None) -> list[dict]:
    return json.loads(Path(path or DEFAULT_PATH).read_text(encoding="utf-8"))


def load_articles(path=None, owner_map: dict | None = None, *, status: str = Status.PUBLISHED, by=None) -> int:
    """Create or update the articles of `path` (keyed by their "key"). Owner units are looked up by
    name (after `owner_map`, which maps a name in the file to a Unit or another name); unknown owners
    fall back to the hotline centre. Returns the number of articles created or updated."""
    owner_map = owner_map or {}
    units = {u.name: u for u in Unit.objects.all()}
    centre = Unit.objects.filter(kind=UnitKind.CENTRE).order_by("path").first() or Unit.objects.order_by("path").first()
    if centre is None:
        raise ValueError("请先创建单位（至少一个热线中心）再导入知识库。")
    categories = {c.full_name: c for c in Category.objects.all()}
    existing = {a.key: a for a in Article.objects.exclude(key="")}
    review_due = services.today() + timedelta(days=services.REVIEW_DAYS)
    n = 0
    with transaction.atomic():
        for item in read_articles(path):
            owner = owner_map.get(item.get("owner"), item.get("owner"))
            owner = owner if isinstance(owner, Unit) else units.get(owner or "", centre)
            data = {"title": item["title"], "questions": "\n".join(item.get("questions", [])), "answer": item["answer"],
                    "category": categories.get(item.get("category") or ""), "keywords": item.get("keywords", ""),
                    "owner": owner, "region": None, "valid_from": None, "valid_to": None, "review_due": review_due}
            article = existing.get(item["key"])
            if article is None:
                article = services.save_article(None, data, by=by, status=status)
                Article.objects.filter(pk=article.pk).update(key=item["key"])
            else:
                services.save_article(article, data, by=by, status=status)
            n += 1
    return n
