"""`tongban kb_load [--file F] [--status draft|pending|published]`: load the shipped 知识库 articles (idempotent)."""
from django.core.management.base import BaseCommand, CommandError

from tongban.knowledge.models import Status
from tongban.knowledge.seed import load_articles


class Command(BaseCommand):
    help = "导入知识库条目（默认为随产品发布的常见问题集），按编号幂等更新。"

    def add_arguments(self, parser):
        parser.add_argument("--file", help="JSON 文件路径（默认 tongban/knowledge/data/articles.json）")
        parser.add_argument("--status", default=Status.PUBLISHED, choices=Status.values)

    def handle(self, *args, file=None, status=Status.PUBLISHED, **options):
        try:
            n = load_articles(file, status=status)
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc))
        self.stdout.write(self.style.SUCCESS(f"已导入或更新 {n} 条知识。"))
