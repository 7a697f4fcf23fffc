"""`tongban hotspots [--days N] [--date YYYY-MM-DD]`: run the hotspot clustering now and print the result."""
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from tongban.hotspots import clusters


class Command(BaseCommand):
    help = "热点发现：按主题和地点聚类近期诉求，计算件数与增长，生成预警。"

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="统计窗口天数（默认 7，与上一个同长窗口比较增长）")
        parser.add_argument("--date", default=None, help="统计截至日期 YYYY-MM-DD（含当天；默认现在）")

    def handle(self, *args, days=None, date=None, **options):
        if days is not None and not 1 <= days <= 90:
            raise CommandError("--days 应在 1 到 90 之间。")
        try:
            day = _parse(date)
        except ValueError:
            raise CommandError(f"日期格式不正确：{date}，应为 YYYY-MM-DD。")
        run = clusters.detect(as_of=clusters.as_of_for(day), days=days)
        self.stdout.write(f"热点分析完成：近 {run.window_days} 天（截至 {run.as_of:%Y-%m-%d %H:%M}）诉求 {run.case_count} 件，"
                          f"热点 {run.cluster_count} 个，快速增长预警 {run.alert_count} 个，耗时 {run.seconds:.1f} 秒。")
        for h in run.hotspots.all()[:10]:
            flag = "【预警】" if h.alert else ""
            self.stdout.write(f"  {flag}{h.place} · {h.label} · 本期 {h.count} 件，上期 {h.prev_count} 件")


def _parse(value: str | None):
    return date.fromisoformat(value) if value else None
