"""`tongban audit verify` and `tongban audit purge --before DATE`."""
from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tongban.audit import services


class Command(BaseCommand):
    help = "审计记录：verify 校验 SM3 摘要链（发现被修改、删除或插入的记录）；purge 清理超过保留期（≥180 天）的记录。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        sub.add_parser("verify", help="逐条校验审计链，报告第一条有问题的记录")
        purge = sub.add_parser("purge", help="删除某日之前的审计记录（必须早于保留期），并留下锚点以便其余记录仍可校验")
        purge.add_argument("--before", required=True, help="日期 YYYY-MM-DD：删除该日 0 时之前的记录")

    def handle(self, *args, what, **opts):
        if what == "verify":
            verdict = services.verify()
            if not verdict.ok:
                raise CommandError(f"审计链校验失败（已校验 {verdict.checked} 条）：{verdict.problem}")
            self.stdout.write(self.style.SUCCESS(f"审计链完整：共 {verdict.checked} 条记录，链头摘要 {verdict.head_hash}。"))
            return
        try:
            day = datetime.strptime(opts["before"], "%Y-%m-%d").date()
        except ValueError as exc:
            raise CommandError("--before 应为日期，如 2026-05-01。") from exc
        before = datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())
        try:
            removed = services.purge(before)
        except services.PurgeRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"已清理 {removed} 条 {day} 之前的审计记录；锚点已保存，其余记录仍可校验。"))
