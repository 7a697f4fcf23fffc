"""`tongban notify flush|status`: the outbox by hand (cron in embedded mode, or after an outage)."""
from django.core.management.base import BaseCommand
from django.db.models import Count

from tongban.notify import services
from tongban.notify.models import Outbox, Status


class Command(BaseCommand):
    help = "消息通知发件箱：flush 立即发送所有到期的待发消息（含失败后待重试的）；status 按状态统计。"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["flush", "status"])
        parser.add_argument("--limit", type=int, default=5000, help="flush 每次最多处理的条数，默认 5000")

    def handle(self, *args, action, limit, **opts):
        if action == "flush":
            counts = services.flush(limit=limit)
            labels = dict(Status.choices)
            done = "，".join(f"{labels.get(k, k)} {v}" for k, v in counts.items()) or "没有到期的待发消息"
            self.stdout.write(f"已处理 {sum(counts.values())} 条：{done}。")
        counts = dict(Outbox.objects.values_list("status").annotate(n=Count("id")).order_by())
        self.stdout.write("发件箱：" + "，".join(f"{label} {counts.get(value, 0)}" for value, label in Status.choices))
