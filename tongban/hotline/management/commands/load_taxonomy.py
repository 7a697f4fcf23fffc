"""`tongban load_taxonomy [--file F]`: import the three-level 诉求分类 from a CSV (idempotent)."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.db.models import Count

from tongban.cases.models import Category
from tongban.hotline.taxonomy import DEFAULT_TAXONOMY, TaxonomyError, load_taxonomy

LEVELS = {1: "一级", 2: "二级", 3: "三级"}


class Command(BaseCommand):
    help = "导入三级诉求分类（CSV，列为 level1,level2,level3）。可重复执行：已有的分类不会重复创建，也不会被修改。"

    def add_arguments(self, parser):
        parser.add_argument("--file", dest="file", default=None,
                            help=f"分类文件路径，默认使用随产品发布的分类表（{DEFAULT_TAXONOMY.name}）")

    def handle(self, *args, file=None, **options):
        try:
            created = load_taxonomy(file)
            by_level = dict(Category.objects.values_list("level").annotate(n=Count("id")).order_by())
            total = sum(by_level.values())
        except TaxonomyError as exc:
            raise CommandError(f"分类导入失败：{exc}") from exc
        except DatabaseError as exc:
            raise CommandError(f"分类导入失败：{exc}。数据库是否已初始化？请先运行 `tongban migrate`。") from exc
        source = file or "随产品发布的分类表"
        detail = "，".join(f"{LEVELS.get(level, f'{level}级')} {n} 个" for level, n in sorted(by_level.items()))
        if created:
            self.stdout.write(self.style.SUCCESS(f"已从 {source} 导入分类：新增 {created} 个。"))
        else:
            self.stdout.write(f"分类已是最新（{source}），没有需要新增的分类。")
        self.stdout.write(f"现有分类共 {total} 个：{detail}。")
