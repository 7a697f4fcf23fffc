from datetime import date

from django.core.management.base import BaseCommand, CommandError

from tongban.analytics import metrics


class Command(BaseCommand):
    help = "按日汇总单位三率计数（供督办考核页快速读取）；可重复执行。"

    def add_arguments(self, parser):
        parser.add_argument("--since", help="从该日（含）起重建，格式 YYYY-MM-DD；默认接着上次汇总继续")

    def handle(self, *args, since=None, **options):
        try:
            start = date.fromisoformat(since) if since else None
        except ValueError:
            raise CommandError(f"日期格式不正确：{since}（应为 YYYY-MM-DD）。") from None
        rows = metrics.refresh_day_stats(since=start)
        self.stdout.write(f"已汇总 {rows} 条单位日统计。")
